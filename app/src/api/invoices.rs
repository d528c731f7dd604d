//! Server functions for invoices, payments, cards on file, billing settings,
//! the dunning list and the mail outbox.

use domain::business::BillingSettingsForm;
use domain::invoices::{
    AccountBilling, BillingRuns, CreditNoteForm, DunningRow, InvoiceFilter, InvoiceListRow,
    InvoiceView, OutboxMessage, ReasonForm, RevenueFilter, RevenueReport,
};
use domain::payments::{CardForm, PaymentForm, RefundForm};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn account(kind: &str, id: i64) -> Result<backend::payments::Account, AppError> {
    use backend::payments::Account;
    match kind {
        "member" => Ok(Account::Member(id)),
        "organization" => Ok(Account::Organization(id)),
        _ => Err(AppError::NotFound),
    }
}

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

#[server(prefix = "/rpc", endpoint = "invoices/list")]
pub async fn list_invoices(
    filter: InvoiceFilter,
) -> Result<domain::paging::Listed<InvoiceListRow>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::billing::list_invoices(&state.services, &actor, &filter).await?)
        }
        .await,
    )
}

/// Records money taken by hand (or charges the card on file) for an invoice.
#[server(prefix = "/rpc", endpoint = "invoices/pay")]
pub async fn record_payment(id: i64, form: PaymentForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::payments::record_payment(&state.services, &actor, id, &form).await?)
        }
        .await,
    )
}

/// Charges the card on file for what is due; a decline is answered as an error
/// (the failed attempt is kept on the invoice).
#[server(prefix = "/rpc", endpoint = "invoices/charge")]
pub async fn charge_card(id: i64, key: String) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            use backend::payments::Charged;
            let (state, actor) = ssr::staff().await?;
            match backend::payments::charge_card(&state.services, &actor, id, None, &key).await? {
                Charged::Succeeded(p) | Charged::Replayed(p) => Ok(p),
                Charged::Failed { reason, .. } => Err(AppError::Conflict {
                    message: format!("The card on file was not charged: {reason}."),
                }),
            }
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "payments/refund")]
pub async fn refund_payment(id: i64, form: RefundForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::payments::refund(&state.services, &actor, id, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "invoices/credit")]
pub async fn credit_invoice(id: i64, form: CreditNoteForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::payments::credit_note(&state.services, &actor, id, &form).await?)
        }
        .await,
    )
}

/// Voids an invoice (`to` "void") or writes it off (`to` "uncollectible").
#[server(prefix = "/rpc", endpoint = "invoices/close")]
pub async fn close_invoice(id: i64, to: String, form: ReasonForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            use domain::invoices::InvoiceStatus;
            let (state, actor) = ssr::staff().await?;
            let to = match InvoiceStatus::parse(&to) {
                Some(s @ (InvoiceStatus::Void | InvoiceStatus::Uncollectible)) => s,
                _ => return Err(AppError::NotFound),
            };
            Ok(backend::payments::close_invoice(&state.services, &actor, id, to, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "invoices/resend")]
pub async fn resend_invoice(id: i64) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::billing::resend_invoice(&state.services, &actor, id).await?)
        }
        .await,
    )
}

/// The card on file, credit and unpaid invoices of a member or organization.
#[server(prefix = "/rpc", endpoint = "accounts/billing")]
pub async fn get_account_billing(kind: String, id: i64) -> Result<AccountBilling, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(
                backend::payments::account_billing(&state.services, &actor, account(&kind, id)?)
                    .await?,
            )
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "accounts/card")]
pub async fn add_card(kind: String, id: i64, form: CardForm) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(
                backend::payments::add_card(&state.services, &actor, account(&kind, id)?, &form)
                    .await?,
            )
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "billing/settings")]
pub async fn get_billing_settings() -> Result<BillingSettingsForm, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::business::billing_settings(&state.services, &actor).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "billing/settings/save")]
pub async fn save_billing_settings(form: BillingSettingsForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::business::update_billing_settings(&state.services, &actor, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "billing/dunning")]
pub async fn get_dunning() -> Result<Vec<DunningRow>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::payments::dunning_list(&state.services, &actor).await?)
        }
        .await,
    )
}

/// Charges the card of every past-due membership's oldest invoice now.
/// Managers and owners.
#[server(prefix = "/rpc", endpoint = "billing/retry-cards")]
pub async fn retry_all_cards(key: String) -> Result<domain::invoices::RetryReport, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::payments::retry_cards(&state.services, &actor, &key).await?)
        }
        .await,
    )
}

/// A page (from 1; empty for the first) of the mail outbox, newest first.
#[server(prefix = "/rpc", endpoint = "billing/outbox")]
pub async fn get_outbox(
    #[server(default)] page: String,
) -> Result<domain::paging::Listed<OutboxMessage>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::payments::outbox(&state.services, &actor, &page).await?)
        }
        .await,
    )
}

/// A page (from 1; empty for the first) of the billing runs with their progress.
#[server(prefix = "/rpc", endpoint = "billing/runs")]
pub async fn get_billing_runs(#[server(default)] page: String) -> Result<BillingRuns, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::billing::runs(&state.services, &actor, &page).await?)
        }
        .await,
    )
}

/// Starts a billing run up to today in the background (managers and owners).
#[server(prefix = "/rpc", endpoint = "billing/runs/start")]
pub async fn start_billing_run() -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::billing::start_run(&state.services, &actor).await?)
        }
        .await,
    )
}

/// Revenue billed, recognised and deferred per month and account.
#[server(prefix = "/rpc", endpoint = "billing/revenue")]
pub async fn get_revenue_report(filter: RevenueFilter) -> Result<RevenueReport, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::billing::revenue_report(&state.services, &actor, &filter).await?)
        }
        .await,
    )
}
