//! Money staff took by hand (cash, card at the desk, transfer, other),
//! once per idempotency key.

use super::charge::{Charged, charge_card, replayed_charge};
use crate::Services;
use crate::engine::ledger::{
    after_settlement, book_payment, insert_payment, invoice_ref, lock_account, payment_by_key,
    receipt,
};
use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::error::Error;
use domain::Money;
use domain::invoices::InvoiceStatus;
use domain::payments::{Method, PaymentForm, check_payment};
use domain::staff::Role;

/// Records money staff took by hand (cash, card at the desk, transfer,
/// other) for an invoice. Front desk and up. Returns the payment's id; the
/// same key returns the first payment's id and records nothing.
pub async fn record_payment(
    services: &Services,
    actor: &Actor,
    invoice_id: i64,
    form: &PaymentForm,
) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let checked = check_payment(form, business.currency)?;
    if checked.method == Method::CardOnFile {
        drop(tx);
        let outcome =
            charge_card(services, actor, invoice_id, checked.amount, &checked.key).await?;
        return match outcome {
            Charged::Succeeded(id) | Charged::Replayed(id) => Ok(id),
            Charged::Failed { reason, .. } => Err(Error::invalid(
                "method",
                format!("the card on file was not charged: {reason}"),
            )),
        };
    }
    if let Some(id) = payment_by_key(&mut tx, business.id, &checked.key).await? {
        return Ok(id);
    }
    let invoice = invoice_ref(&mut tx, business.id, invoice_id).await?;
    if invoice.status != InvoiceStatus::Open.as_str()
        && invoice.status != InvoiceStatus::Paid.as_str()
    {
        return Err(Error::Conflict(format!(
            "invoice #{} is {}; payments cannot be taken for it",
            invoice.number,
            InvoiceStatus::parse(&invoice.status)
                .map(|s| s.label().to_lowercase())
                .unwrap_or_default()
        )));
    }
    let account = invoice.account()?;
    lock_account(&mut tx, business.id, account).await?;
    // What is due, read under the account's lock: a payment booked meanwhile counts.
    let due = invoice_ref(&mut tx, business.id, invoice_id).await?.due();
    let amount = match checked.amount {
        Some(amount) => amount,
        None if due > 0 => Money::new(due, business.currency),
        None => {
            return Err(Error::Conflict(format!(
                "nothing is due on invoice #{}",
                invoice.number
            )));
        }
    };
    let unit = 10_i64.pow(u32::from(business.currency.minor_digits()));
    let most = due.saturating_add(business.overpayment_limit.saturating_mul(unit));
    if amount.minor > most {
        return Err(Error::Refused(format!(
            "take at most {}: the {} due and up to {} more as account credit (the business's limit, in its billing settings)",
            Money::new(most, business.currency),
            Money::new(due, business.currency),
            Money::new(
                business.overpayment_limit.saturating_mul(unit),
                business.currency
            ),
        )));
    }
    let id = match insert_payment(
        &mut tx,
        &business,
        account,
        invoice_id,
        checked.method,
        amount,
        Ok(&checked.reference),
        &checked.key,
        &actor.payment_author(),
        today,
        now,
    )
    .await
    {
        Ok(id) => id,
        Err(e) if e.violates_unique("payments", &["business_id", "idempotency_key"]) => {
            drop(tx);
            return replayed(services, business.id, &checked.key).await;
        }
        Err(e) => return Err(e),
    };
    let settled = book_payment(
        &mut tx,
        &business,
        account,
        id,
        amount,
        Some(invoice_id),
        now,
    )
    .await?;
    after_settlement(&mut tx, &business, &settled, today, now).await?;
    receipt(&mut tx, &business, account, id, amount, &settled, now).await?;
    audit::record(
        &mut tx,
        actor,
        "payment.recorded",
        "payment",
        Some(id),
        &format!(
            "{} {} for invoice #{}",
            amount,
            checked.method.label(),
            invoice.number
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The payment a key recorded, read after a racing request won.
pub(crate) async fn replayed(
    services: &Services,
    business_id: i64,
    key: &str,
) -> Result<i64, Error> {
    replayed_charge(services, business_id, key)
        .await?
        .ok_or_else(|| Error::internal("a payment key clashed but no payment has it"))
}
