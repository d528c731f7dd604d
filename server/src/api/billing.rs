//! Invoices and payments.

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use backend::billing::InvoiceListFilter;
use domain::invoices::InvoiceStatus;
use domain::payments::PaymentForm;
use domain::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{
    ApiQuery, Scoped, WriteRequest, answer, id, idempotent, json, optional_date as date,
    optional_id, scope, use_case_key,
};
use super::page::{Here, PageQuery, one_more};
use super::types::{
    ChargeDto, InvoiceDto, InvoiceSummaryDto, PaymentInput, RecordedPaymentDto, RefundDto,
    RefundInput,
};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    /// `open`, `paid`, `void`, `uncollectible` or `draft`.
    pub status: Option<String>,
    /// Invoices billed to this member.
    pub member: Option<String>,
    pub membership: Option<String>,
    /// Billing dates from (YYYY-MM-DD, included).
    pub billing_date_from: Option<String>,
    /// Billing dates to (YYYY-MM-DD, included).
    pub billing_date_to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// In id order (oldest first).
    pub results: Vec<InvoiceSummaryDto>,
}

/// List invoices
#[utoipa::path(get, path = "/invoices", tag = "Billing",
    params(InvoiceListQuery, PageQuery),
    responses(
        (status = 200, body = InvoicePage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["billing"])))]
pub async fn list_invoices(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Billing>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<InvoiceListQuery>,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<Json<InvoicePage>, ApiError> {
    let filter = InvoiceListFilter {
        status: match q.status.as_deref() {
            None | Some("") => None,
            Some(t) => Some(InvoiceStatus::parse(t).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    "a status is draft, open, paid, void or uncollectible",
                )
            })?),
        },
        member_id: optional_id("member", q.member.as_deref())?,
        membership_id: optional_id("membership", q.membership.as_deref())?,
        from: date("billing_date_from", q.billing_date_from.as_deref())?,
        to: date("billing_date_to", q.billing_date_to.as_deref())?,
    };
    let window = p.window()?;
    let (rows, count) =
        backend::billing::page_of_invoices(&state.services, &c.actor, &filter, one_more(window))
            .await?;
    let (count, next, previous, rows) = Here::new(&headers, &uri).page(window, rows, count);
    let mut results = Vec::with_capacity(rows.len());
    for r in rows {
        let currency = Currency::from_code(&r.currency)
            .map_err(|e| backend::Error::internal(format!("invoice {}: {e}", r.id)))?;
        let money = |minor| Money { minor, currency };
        let summary = domain::invoices::InvoiceSummary {
            id: r.id,
            number: r.number,
            billing_date: r.billing_date,
            due_date: r.due_date,
            status: InvoiceStatus::parse(&r.status)
                .ok_or_else(|| backend::Error::internal(format!("invoice {}: status", r.id)))?,
            total: money(r.total_minor),
            amount_paid: money(r.amount_paid_minor),
            refunded: money(r.refunded_minor),
        };
        results.push(InvoiceSummaryDto {
            id: r.id.to_string(),
            number: r.number,
            status: r.status,
            state: summary.state().as_str().into(),
            billing_date: r.billing_date,
            due_date: r.due_date,
            total: summary.total.into(),
            amount_paid: summary.amount_paid.into(),
            amount_due: summary.amount_due().into(),
            refunded: summary.refunded.into(),
            membership_id: Some(r.membership_id.to_string()),
            member_id: r.member_id.map(|i| i.to_string()),
            organization_id: r.organization_id.map(|i| i.to_string()),
            credit_note_for: r.credit_note_for.map(|i| i.to_string()),
        });
    }
    Ok(Json(InvoicePage {
        count,
        next,
        previous,
        results,
    }))
}

/// Read an invoice
///
/// With its lines (and how each amount was reached) and its payments.
#[utoipa::path(get, path = "/invoices/{id}", tag = "Billing",
    params(("id" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, body = InvoiceDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["billing"])))]
pub async fn read_invoice(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Billing>,
    Path(invoice_id): Path<String>,
) -> Result<Json<InvoiceDto>, ApiError> {
    Ok(Json(
        backend::billing::invoice(&state.services, &c.actor, id(&invoice_id)?)
            .await?
            .into(),
    ))
}

/// Record a payment
///
/// Money taken outside Tessera (cash, card at the desk, bank transfer, other
/// with a reference) for an invoice. Without `amount`, what is due when the
/// payment is booked (409 when nothing is). An amount above what is due by
/// more than the business's overpayment limit is 422; amounts are below
/// 1,000,000,000. The same `Idempotency-Key` never records a payment twice.
#[utoipa::path(post, path = "/invoices/{id}/payments", tag = "Billing",
    request_body = PaymentInput,
    params(("id" = String, Path, description = "The invoice's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = RecordedPaymentDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "More than the business's overpayment limit beyond what is due"),
    ),
    security(("api_key" = ["billing"])))]
pub async fn record_payment(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Billing>,
    Path(invoice_id): Path<String>,
    request: WriteRequest,
) -> Response {
    let services = &state.services;
    let key = use_case_key(&c, &request);
    idempotent(&state, &c, &request, || async {
        let invoice_id = id(&invoice_id)?;
        let input: PaymentInput = json(&request.body)?;
        // Without an amount, what is due when the payment is booked (read
        // under the account's lock, so racing requests never both take it).
        let form = PaymentForm {
            amount_due: input.amount.is_none(),
            amount: input.amount.unwrap_or_default(),
            method: input.method,
            reference: input.reference.unwrap_or_default(),
            key,
        };
        let payment_id =
            backend::payments::record_payment(services, &c.actor, invoice_id, &form).await?;
        let invoice = backend::billing::invoice(services, &c.actor, invoice_id).await?;
        answer(
            StatusCode::CREATED,
            &RecordedPaymentDto {
                payment_id: payment_id.to_string(),
                invoice: invoice.into(),
            },
        )
    })
    .await
}

/// Charge the card on file
///
/// Charges the invoice's account's card on file (the sandbox gateway) for
/// what is due. A declined card is 402 `payment_failed` with the gateway's
/// reason (the failed attempt is kept on the invoice); no card on file or
/// nothing due is 409.
#[utoipa::path(post, path = "/invoices/{id}/charge", tag = "Billing",
    params(("id" = String, Path, description = "The invoice's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the card is charged once")),
    responses(
        (status = 400, body = ErrorBody, description = "A malformed Idempotency-Key or body"),
        (status = 201, body = ChargeDto),
        (status = 401, body = ErrorBody), (status = 402, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["billing"])))]
pub async fn charge(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Billing>,
    Path(invoice_id): Path<String>,
    request: WriteRequest,
) -> Response {
    use backend::payments::Charged;
    let key = use_case_key(&c, &request);
    idempotent(&state, &c, &request, || async {
        let invoice_id = id(&invoice_id)?;
        let services = &state.services;
        let payment_id =
            match backend::payments::charge_card(services, &c.actor, invoice_id, None, &key).await?
            {
                Charged::Succeeded(p) | Charged::Replayed(p) => p,
                Charged::Failed { reason, .. } => {
                    return Err(ApiError::new(
                        StatusCode::PAYMENT_REQUIRED,
                        "payment_failed",
                        format!("The card on file was not charged: {reason}."),
                    ));
                }
            };
        let invoice = backend::billing::invoice(services, &c.actor, invoice_id).await?;
        answer(
            StatusCode::CREATED,
            &ChargeDto {
                payment_id: payment_id.to_string(),
                invoice: invoice.into(),
            },
        )
    })
    .await
}

/// Refund a payment
///
/// All or part of what may still be refunded of a payment, with a reason.
/// Managers' work: the key acts as a manager.
#[utoipa::path(post, path = "/payments/{id}/refunds", tag = "Billing",
    request_body = RefundInput,
    params(("id" = String, Path, description = "The payment's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: refunded once")),
    responses(
        (status = 201, body = RefundDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["billing"])))]
pub async fn refund(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Billing>,
    Path(payment_id): Path<String>,
    request: WriteRequest,
) -> Response {
    let key = use_case_key(&c, &request);
    idempotent(&state, &c, &request, || async {
        let payment_id = id(&payment_id)?;
        let input: RefundInput = json(&request.body)?;
        let form = domain::payments::RefundForm {
            amount: input.amount.unwrap_or_default(),
            reason: input.reason,
            key,
        };
        let refund_id =
            backend::payments::refund(&state.services, &c.actor, payment_id, &form).await?;
        answer(
            StatusCode::CREATED,
            &RefundDto {
                refund_id: refund_id.to_string(),
                payment_id: payment_id.to_string(),
            },
        )
    })
    .await
}

/// Issue a credit note
///
/// A credit note for all or part of an invoice (what was not credited
/// before), with a reason; the credit goes to the account's balance. The
/// answer is the credit note (itself an invoice with a negative total).
#[utoipa::path(post, path = "/invoices/{id}/credit-notes", tag = "Billing",
    request_body = RefundInput,
    params(("id" = String, Path, description = "The invoice's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: credited once")),
    responses(
        (status = 201, body = InvoiceDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["billing"])))]
pub async fn credit_note(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Billing>,
    Path(invoice_id): Path<String>,
    request: WriteRequest,
) -> Response {
    let key = use_case_key(&c, &request);
    idempotent(&state, &c, &request, || async {
        let invoice_id = id(&invoice_id)?;
        let input: RefundInput = json(&request.body)?;
        let form = domain::invoices::CreditNoteForm {
            amount: input.amount.unwrap_or_default(),
            reason: input.reason,
            key,
        };
        let note =
            backend::payments::credit_note(&state.services, &c.actor, invoice_id, &form).await?;
        let view = backend::billing::invoice(&state.services, &c.actor, note).await?;
        answer(StatusCode::CREATED, &InvoiceDto::from(view))
    })
    .await
}
