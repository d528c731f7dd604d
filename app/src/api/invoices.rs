//! Server functions for invoices.

use domain::invoices::InvoiceView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[server(prefix = "/rpc", endpoint = "invoices/get")]
pub async fn get_invoice(id: i64) -> Result<InvoiceView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::billing::invoice(&state.services, &actor, id).await?)
        }
        .await,
    )
}
