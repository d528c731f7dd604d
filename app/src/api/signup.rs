//! Server functions of the public signup: no account, no session.

use domain::signup::{RetryForm, SignupForm, SignupOptions, SignupPreview, SignupView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[server(prefix = "/rpc", endpoint = "signup/options")]
pub async fn get_signup_options(location: String, type_id: i64) -> Result<SignupOptions, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::signup::options(&state.services, &location, type_id).await?)
        }
        .await,
    )
}

/// The first invoice the signup would bring (nothing is saved).
#[server(prefix = "/rpc", endpoint = "signup/preview")]
pub async fn preview_signup(location: String, form: SignupForm) -> Result<SignupPreview, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::signup::preview(&state.services, &location, &form).await?)
        }
        .await,
    )
}

/// Signs up and goes to the signup's status page.
#[server(prefix = "/rpc", endpoint = "signup/start")]
pub async fn start_signup(location: String, form: SignupForm) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            let token =
                backend::signup::start(&state.services, &location, &form, &ssr::client_address())
                    .await?;
            leptos_axum::redirect(&format!("/join/status/{token}"));
            Ok(token)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "signup/status")]
pub async fn get_signup_status(token: String) -> Result<SignupView, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::signup::status(&state.services, &token).await?)
        }
        .await,
    )
}

/// Tries the first payment again with another card.
#[server(prefix = "/rpc", endpoint = "signup/retry")]
pub async fn retry_signup(token: String, form: RetryForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            backend::signup::retry(&state.services, &token, &form).await?;
            leptos_axum::redirect(&format!("/join/status/{token}"));
            Ok(())
        }
        .await,
    )
}
