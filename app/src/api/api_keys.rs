//! Server functions for the integration API's keys (owners) and its reference page.

use domain::api_keys::{ApiKeyForm, ApiKeyView, ApiReference, CreatedApiKey};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

/// The reference the server builds from its OpenAPI document at startup.
#[cfg(feature = "ssr")]
pub static REFERENCE: std::sync::OnceLock<ApiReference> = std::sync::OnceLock::new();

#[server(prefix = "/rpc", endpoint = "api-keys/list")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::api_keys::list(&state.services, &actor).await?)
        }
        .await,
    )
}

/// Makes a key; the answer holds its secret, shown this once.
#[server(prefix = "/rpc", endpoint = "api-keys/create")]
pub async fn create_api_key(form: ApiKeyForm) -> Result<CreatedApiKey, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::api_keys::create(&state.services, &actor, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "api-keys/revoke")]
pub async fn revoke_api_key(id: i64) -> Result<ApiKeyView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::api_keys::revoke(&state.services, &actor, id).await?)
        }
        .await,
    )
}

/// The API's endpoints, for any signed-in staff user.
#[server(prefix = "/rpc", endpoint = "api/reference")]
pub async fn get_api_reference() -> Result<ApiReference, AppError> {
    ssr::reply(
        async move {
            let _ = ssr::staff().await?;
            Ok(REFERENCE.get().cloned().unwrap_or_default())
        }
        .await,
    )
}
