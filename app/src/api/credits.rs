//! Server functions for a membership's credits.

use domain::credits::{AdjustForm, CreditsView, EntryFilter};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[server(prefix = "/rpc", endpoint = "credits/get")]
pub async fn get_credits(id: i64, filter: EntryFilter) -> Result<CreditsView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::credits::view(&state.services, &actor, id, &filter).await?)
        }
        .await,
    )
}

/// Adds or takes away credits with a reason; returns the balance.
#[server(prefix = "/rpc", endpoint = "credits/adjust")]
pub async fn adjust_credits(id: i64, form: AdjustForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let command = form.command()?;
            Ok(backend::credits::adjust(&state.services, &actor, id, &command).await?)
        }
        .await,
    )
}
