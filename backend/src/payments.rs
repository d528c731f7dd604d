//! Taking money and giving it back: manual payments, charges of the card on
//! file through the gateway, account credit, refunds, credit notes, voiding,
//! and the daily collection (automatic charges, retries, past due, suspended).
//!
//! Money rows are append-only. A payment settles the invoice it was taken
//! for first, then the account's other open invoices oldest first; what is
//! left is account credit, which settles the next invoices by itself. Every
//! request carries an idempotency key (unique per business), so a double
//! click or a retried request records one payment and charges a card once.

use chrono::{DateTime, NaiveDate, Utc};
use domain::billing::charges::LineKind;
use domain::invoices::{CreditNoteForm, InvoiceStatus, ReasonForm};
use domain::lifecycle::{BillingNote, Event};
use domain::payments::{
    CardForm, ChargeOutcome, Method, PaymentForm, RefundForm, check_card, check_payment,
    check_refund,
};
use domain::staff::Role;
use domain::{Invalid, Money};

pub use crate::engine::ledger::Account;
use crate::engine::ledger::{
    add_entry, after_settlement, apply_credit, balance, book_payment, card_of, creditable, dues,
    insert_payment, invoice_ref, lock_account, mail, new_key, oldest_unpaid_all, payment_by_key,
    receipt, require_account,
};
use crate::platform::actor::Actor;
pub use crate::platform::actor::TakenBy;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::{Services, query};

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
        let outcome = charge_card(
            services,
            TakenBy::Staff(actor),
            invoice_id,
            checked.amount,
            &checked.key,
        )
        .await?;
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
        TakenBy::Staff(actor),
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
    audit::by_staff(
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
async fn replayed(services: &Services, business_id: i64, key: &str) -> Result<i64, Error> {
    replayed_charge(services, business_id, key)
        .await?
        .ok_or_else(|| Error::internal("a payment key clashed but no payment has it"))
}

/// What a charge of the card on file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charged {
    Succeeded(i64),
    /// The key was used before; nothing was charged this time.
    Replayed(i64),
    Failed {
        payment_id: i64,
        reason: String,
    },
}

/// How long a claimed charge may wait for the gateway's answer before the
/// next attempt finishes it (asking the gateway again with the same key).
const CHARGE_CLAIM: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A card charge claimed for an invoice: the gateway is called with
/// `intent:{id}` as its idempotency key.
#[derive(sqlx::FromRow)]
struct Intent {
    id: i64,
    invoice_id: i64,
    amount_minor: i64,
    token: String,
    request_key: String,
    recorded_by: String,
    staff_user_id: Option<i64>,
}

impl Intent {
    fn gateway_key(&self) -> String {
        format!("intent:{}", self.id)
    }
}

/// What claiming a charge found.
enum Claim {
    /// This request's key was charged before.
    Replayed(i64),
    /// Call the gateway for this intent, then book its outcome.
    Charge(Intent),
}

/// Charges the card on file of the invoice's account for what is due (or
/// `amount`, never more than is due).
///
/// Exactly one capture per invoice whatever the concurrency: the charge is
/// first claimed in a write transaction (a row in `charge_intents`, one open
/// per invoice, written after the amount due is checked under the account's
/// lock), then the gateway is called outside any transaction with the
/// intent's key, then the outcome is booked and the intent closed. A second
/// attempt while one is open is a conflict; one after it finds nothing due.
/// A retry with the same `key` replays the first payment.
pub async fn charge_card(
    services: &Services,
    by: TakenBy<'_>,
    invoice_id: i64,
    amount: Option<Money>,
    key: &str,
) -> Result<Charged, Error> {
    let business_id = match by {
        TakenBy::Staff(actor) => {
            actor.require(Role::FrontDesk)?;
            actor.business_id
        }
        TakenBy::System => {
            let mut tx = services.db.begin_read().await?;
            let (b,) = query!(
                &mut tx,
                fetch_one as (i64,),
                "SELECT business_id FROM invoices WHERE id = $1",
                invoice_id
            )?;
            tx.commit().await?;
            b
        }
        TakenBy::Member { business_id, .. } => business_id,
        TakenBy::Resumed { .. } => {
            return Err(Error::internal("only an interrupted charge is resumed"));
        }
    };
    if key.trim().is_empty() {
        return Err(Error::invalid(
            "key",
            "this form has expired; reload the page and try again",
        ));
    }
    finish_stale_charges(services, business_id, invoice_id).await?;
    let intent = match claim_charge(services, business_id, by, invoice_id, amount, key).await {
        Ok(Claim::Charge(intent)) => intent,
        Ok(Claim::Replayed(id)) => return Ok(Charged::Replayed(id)),
        // A racing request with the same key claimed first.
        Err(e) if e.violates_unique("charge_intents", &["business_id", "request_key"]) => {
            return match replayed_charge(services, business_id, key).await? {
                Some(id) => Ok(Charged::Replayed(id)),
                None => Err(in_progress()),
            };
        }
        // Another request holds the invoice's one open charge.
        Err(e) if e.violates_unique("charge_intents", &["invoice_id"]) => {
            return Err(in_progress());
        }
        Err(e) => return Err(e),
    };
    let (business, outcome) = ask_gateway(services, business_id, &intent).await?;
    book_charge(services, &business, &intent, by, outcome).await
}

/// Calls the gateway for a claimed charge, outside any transaction, with the
/// intent's key: asked again for the same intent, it answers the same.
async fn ask_gateway(
    services: &Services,
    business_id: i64,
    intent: &Intent,
) -> Result<(Business, ChargeOutcome), Error> {
    let business = {
        let mut tx = services.db.begin_read().await?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        tx.commit().await?;
        business
    };
    let outcome = services
        .gateway
        .charge(
            &intent.token,
            Money::new(intent.amount_minor, business.currency),
            &intent.gateway_key(),
        )
        .await;
    Ok((business, outcome))
}

fn in_progress() -> Error {
    Error::Conflict(
        "a card charge of this invoice is in progress; look at the invoice again in a moment"
            .into(),
    )
}

/// The payment a key recorded, if any (a charge's once its intent is booked).
async fn replayed_charge(
    services: &Services,
    business_id: i64,
    key: &str,
) -> Result<Option<i64>, Error> {
    let mut tx = services.db.begin_read().await?;
    let id = payment_by_key(&mut tx, business_id, key).await?;
    tx.commit().await?;
    Ok(id)
}

/// Claims a charge of the invoice in one write transaction: what is due is
/// read under the account's lock, and the intent is written before the
/// transaction ends, so no second claim can see the same amount due.
async fn claim_charge(
    services: &Services,
    business_id: i64,
    by: TakenBy<'_>,
    invoice_id: i64,
    amount: Option<Money>,
    key: &str,
) -> Result<Claim, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    if let Some(id) = payment_by_key(&mut tx, business.id, key).await? {
        return Ok(Claim::Replayed(id));
    }
    let invoice = invoice_ref(&mut tx, business.id, invoice_id).await?;
    // A member pays only invoices billed to them.
    if let TakenBy::Member { member_id, .. } = by
        && invoice.member_id != Some(member_id)
    {
        return Err(Error::NotFound);
    }
    let account = invoice.account()?;
    lock_account(&mut tx, business.id, account).await?;
    // Read again under the lock: a charge booked meanwhile changed what is due.
    let invoice = invoice_ref(&mut tx, business.id, invoice_id).await?;
    let (open,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM charge_intents WHERE invoice_id = $1 AND state = 'claimed'",
        invoice_id
    )?;
    if open > 0 {
        return Err(in_progress());
    }
    let due = invoice.due();
    if due <= 0 {
        return Err(Error::Conflict(format!(
            "nothing is due on invoice #{}",
            invoice.number
        )));
    }
    let amount = amount.unwrap_or(Money::new(due, business.currency));
    if amount.minor <= 0 || amount.minor > due {
        return Err(Error::invalid(
            "amount",
            format!(
                "charge between {} and the {} due",
                Money::new(1, business.currency),
                Money::new(due, business.currency)
            ),
        ));
    }
    let Some((token, _)) = card_of(&mut tx, business.id, account).await? else {
        return Err(Error::Conflict(
            "there is no card on file for this account; add one on its page first".into(),
        ));
    };
    let intent = query!(
        &mut tx,
        fetch_one as Intent,
        "INSERT INTO charge_intents (business_id, invoice_id, amount_minor, token, request_key, recorded_by,
                                     staff_user_id, state, claimed_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'claimed', $8, $9)
         RETURNING id, invoice_id, amount_minor, token, request_key, recorded_by, staff_user_id",
        business.id,
        invoice_id,
        amount.minor,
        token,
        key,
        by.label(),
        by.staff_id(),
        now + CHARGE_CLAIM,
        now
    )?;
    tx.commit().await?;
    Ok(Claim::Charge(intent))
}

/// Finishes the invoice's charges whose claim ran out (their request died
/// between the gateway and the booking): the gateway is asked again with the
/// intent's key, which answers its first answer without charging again.
async fn finish_stale_charges(
    services: &Services,
    business_id: i64,
    invoice_id: i64,
) -> Result<(), Error> {
    let now = services.clock.now();
    let stale = {
        let mut tx = services.db.begin_write().await?;
        let stale = query!(
            &mut tx,
            fetch_optional as Intent,
            "UPDATE charge_intents SET claimed_until = $1
              WHERE business_id = $2 AND invoice_id = $3 AND state = 'claimed' AND claimed_until <= $4
              RETURNING id, invoice_id, amount_minor, token, request_key, recorded_by, staff_user_id",
            now + CHARGE_CLAIM,
            business_id,
            invoice_id,
            now
        )?;
        tx.commit().await?;
        stale
    };
    let Some(intent) = stale else {
        return Ok(());
    };
    tracing::warn!(
        intent = intent.id,
        "finishing a card charge whose claim ran out"
    );
    let (business, outcome) = ask_gateway(services, business_id, &intent).await?;
    // Booked in the name of whoever started it, as its payment row says.
    let staff_id = intent.staff_user_id;
    let by = match intent.recorded_by.as_str() {
        "the system" => TakenBy::System,
        "staff" => TakenBy::Resumed {
            label: "staff",
            staff_id,
        },
        _ => TakenBy::Resumed {
            label: "the member via the portal",
            staff_id,
        },
    };
    book_charge(services, &business, &intent, by, outcome).await?;
    Ok(())
}

/// Books a gateway's answer for a claimed charge and closes the intent, in
/// one write transaction; an intent booked by another request meanwhile
/// answers that request's payment.
async fn book_charge(
    services: &Services,
    business: &Business,
    intent: &Intent,
    by: TakenBy<'_>,
    outcome: ChargeOutcome,
) -> Result<Charged, Error> {
    let now = services.clock.now();
    let today = services.today(business);
    let mut tx = services.db.begin_write().await?;
    let invoice = invoice_ref(&mut tx, business.id, intent.invoice_id).await?;
    let account = invoice.account()?;
    lock_account(&mut tx, business.id, account).await?;
    let closed = query!(
        &mut tx,
        execute,
        "UPDATE charge_intents SET state = 'done' WHERE id = $1 AND state = 'claimed'",
        intent.id
    )?;
    if closed == 0 {
        drop(tx);
        return match replayed_charge(services, business.id, &intent.request_key).await? {
            Some(id) => Ok(Charged::Replayed(id)),
            None => Err(in_progress()),
        };
    }
    let amount = Money::new(intent.amount_minor, business.currency);
    let invoice_id = intent.invoice_id;
    let result = match &outcome {
        ChargeOutcome::Succeeded { reference } => Ok(reference.as_str()),
        ChargeOutcome::Declined { reason } | ChargeOutcome::FailedTemporarily { reason } => {
            Err(reason.as_str())
        }
    };
    let payment_id = insert_payment(
        &mut tx,
        business,
        account,
        invoice_id,
        Method::CardOnFile,
        amount,
        result,
        &intent.request_key,
        by,
        today,
        now,
    )
    .await?;
    query!(
        &mut tx,
        execute,
        "UPDATE charge_intents SET payment_id = $1 WHERE id = $2",
        payment_id,
        intent.id
    )?;
    let charged = match result {
        Ok(_) => {
            let settled = book_payment(
                &mut tx,
                business,
                account,
                payment_id,
                amount,
                Some(invoice_id),
                now,
            )
            .await?;
            after_settlement(&mut tx, business, &settled, today, now).await?;
            receipt(
                &mut tx, business, account, payment_id, amount, &settled, now,
            )
            .await?;
            Charged::Succeeded(payment_id)
        }
        Err(reason) => {
            let attempts = invoice.attempts + 1;
            let retry_on = match by {
                TakenBy::System => business
                    .dunning
                    .next_attempt(invoice.due_date, attempts as u32),
                TakenBy::Staff(_) | TakenBy::Member { .. } | TakenBy::Resumed { .. } => None,
            };
            if matches!(by, TakenBy::System) {
                query!(
                    &mut tx,
                    execute,
                    "UPDATE invoices SET attempts = $1, next_attempt_on = $2 WHERE id = $3",
                    attempts,
                    retry_on,
                    invoice_id
                )?;
            }
            let note = BillingNote::PaymentFailed {
                invoice_number: invoice.number,
                reason: reason.to_string(),
                retry_on,
            };
            crate::store::memberships::append_billing_note(
                &mut tx,
                business.id,
                invoice.membership_id,
                today,
                &note,
                now,
            )
            .await?;
            crate::platform::events::emit(
                &mut tx,
                business.id,
                "payment.failed",
                "invoice",
                Some(invoice_id),
                &serde_json::json!({
                    "invoice_number": invoice.number,
                    "payment_id": payment_id,
                    "reason": reason.to_string(),
                    "retry_on": retry_on,
                }),
                now,
            )
            .await?;
            let text = Event::Billing { on: today, note }.describe();
            mail(
                &mut tx,
                business,
                account,
                "payment_failed",
                &format!(
                    "Your payment for invoice #{} did not go through",
                    invoice.number
                ),
                &format!(
                    "{text}.\n\nPlease update your card or pay at the front desk.\n\n{}",
                    business.name
                ),
                Some(invoice_id),
                Some(invoice.membership_id),
                now,
            )
            .await?;
            Charged::Failed {
                payment_id,
                reason: reason.to_string(),
            }
        }
    };
    if let TakenBy::Staff(actor) = by {
        audit::by_staff(
            &mut tx,
            actor,
            "payment.charged",
            "payment",
            Some(payment_id),
            &format!(
                "{amount} on the card on file for invoice #{}",
                invoice.number
            ),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(charged)
}

/// Gives back part or all of a payment. Managers and owners. A card payment
/// is refunded through the gateway; the part of a payment still held as
/// account credit is taken from the credit first, so nothing is paid back twice.
pub async fn refund(
    services: &Services,
    actor: &Actor,
    payment_id: i64,
    form: &RefundForm,
) -> Result<i64, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    if let Some((id,)) = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM refunds WHERE business_id = $1 AND idempotency_key = $2",
        business.id,
        form.key.trim()
    )? {
        return Ok(id);
    }
    let (member_id, organization_id, method, amount, succeeded, reference, invoice_id) = query!(
        &mut tx,
        fetch_optional as (Option<i64>, Option<i64>, String, i64, bool, String, Option<i64>),
        "SELECT member_id, organization_id, method, amount_minor, succeeded, reference, invoice_id FROM payments
          WHERE business_id = $1 AND id = $2",
        business.id,
        payment_id
    )?
    .ok_or(Error::NotFound)?;
    if !succeeded {
        return Err(Error::Conflict(
            "this charge failed; there is nothing to refund".into(),
        ));
    }
    let account = Account::from_columns(member_id, organization_id)
        .ok_or_else(|| Error::internal("a payment without account"))?;
    lock_account(&mut tx, business.id, account).await?;
    let (refunded,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE payment_id = $1",
        payment_id
    )?;
    let paid = Money::new(amount, business.currency);
    let checked = check_refund(form, paid, Money::new(refunded, business.currency))?;
    // What of this payment still sits on the account as credit.
    let (held,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM account_entries
          WHERE payment_id = $1 AND kind IN ('overpayment', 'refunded')",
        payment_id
    )?;
    let from_credit = checked
        .amount
        .minor
        .min(held)
        .min(balance(&mut tx, business.id, account).await?)
        .max(0);
    let reference = if Method::parse(&method) == Some(Method::CardOnFile) {
        services
            .gateway
            .refund(&reference, checked.amount, &checked.key)
            .await
            .map_err(|reason| {
                Error::Conflict(format!("the card gateway refused the refund: {reason}"))
            })?
    } else {
        String::new()
    };
    if from_credit > 0 {
        add_entry(
            &mut tx,
            business.id,
            account,
            "refunded",
            -from_credit,
            Some(payment_id),
            None,
            now,
        )
        .await?;
    }
    let (id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO refunds (business_id, payment_id, amount_minor, reason, refunded_on, reference, idempotency_key, staff_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        business.id, payment_id, checked.amount.minor, &checked.reason, today, reference, &checked.key,
        actor.staff_user_id, now)?;
    allocate_refund(
        &mut tx,
        business.id,
        payment_id,
        id,
        checked.amount.minor - from_credit,
        now,
    )
    .await?;
    mail(
        &mut tx,
        &business,
        account,
        "refund",
        &format!("We refunded {}", checked.amount),
        &format!(
            "We refunded {} of your payment of {paid}: {}.\n\n{}",
            checked.amount, checked.reason, business.name
        ),
        invoice_id,
        None,
        now,
    )
    .await?;
    audit::by_staff(
        &mut tx,
        actor,
        "payment.refunded",
        "payment",
        Some(payment_id),
        &format!("{} refunded: {}", checked.amount, checked.reason),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Spreads the part of a refund that gave back what paid invoices over the
/// invoices the payment paid, oldest first, each up to what this payment
/// paid of it less what earlier refunds of it gave back.
async fn allocate_refund(
    tx: &mut Tx,
    business_id: i64,
    payment_id: i64,
    refund_id: i64,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut left = amount;
    let paid = query!(
        tx,
        fetch_all as (i64, i64, i64),
        "SELECT a.invoice_id, CAST(SUM(a.amount_minor) AS BIGINT),
                CAST(COALESCE((SELECT SUM(ra.amount_minor) FROM refund_allocations ra
                                JOIN refunds r ON r.id = ra.refund_id
                               WHERE r.payment_id = $1 AND ra.invoice_id = a.invoice_id), 0) AS BIGINT)
           FROM payment_allocations a WHERE a.payment_id = $1
          GROUP BY a.invoice_id ORDER BY MIN(a.id)",
        payment_id
    )?;
    for (invoice_id, paid, refunded) in paid {
        let part = left.min(paid - refunded);
        if part <= 0 {
            continue;
        }
        query!(
            tx,
            execute,
            "INSERT INTO refund_allocations (business_id, refund_id, invoice_id, amount_minor, created_at) VALUES ($1, $2, $3, $4, $5)",
            business_id,
            refund_id,
            invoice_id,
            part,
            now
        )?;
        left -= part;
        if left == 0 {
            break;
        }
    }
    Ok(())
}

fn reason_of(form: &ReasonForm) -> Result<String, Error> {
    let reason = form.reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "give the reason; it is kept with the invoice",
        ));
    }
    Ok(reason.to_string())
}

/// Voids an open invoice nothing was paid on (void) or writes it off as
/// uncollectible. Managers and owners. The lines stay billed: the generator
/// will not bill them again.
pub async fn close_invoice(
    services: &Services,
    actor: &Actor,
    invoice_id: i64,
    to: InvoiceStatus,
    form: &ReasonForm,
) -> Result<(), Error> {
    actor.require(Role::Manager)?;
    let reason = reason_of(form)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let invoice = invoice_ref(&mut tx, actor.business_id, invoice_id).await?;
    if invoice.status != InvoiceStatus::Open.as_str() {
        return Err(Error::Conflict(format!(
            "invoice #{} is not open; only open invoices can be voided or written off",
            invoice.number
        )));
    }
    match to {
        InvoiceStatus::Void if invoice.amount_paid_minor != 0 => {
            return Err(Error::Conflict(format!(
                "invoice #{} has payments; issue a credit note or write it off instead",
                invoice.number
            )));
        }
        InvoiceStatus::Void | InvoiceStatus::Uncollectible => {}
        _ => return Err(Error::internal("close_invoice to an open status")),
    }
    query!(
        &mut tx,
        execute,
        "UPDATE invoices SET status = $1, next_attempt_on = NULL,
                memo = CASE WHEN memo = '' THEN $2 ELSE memo || ' / ' || $2 END
          WHERE id = $3 AND status = 'open'",
        to.as_str(),
        format!("{}: {reason}", to.label()),
        invoice_id
    )?;
    audit::by_staff(
        &mut tx,
        actor,
        &format!("invoice.{}", to.as_str()),
        "invoice",
        Some(invoice_id),
        &reason,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Issues a credit note against an invoice: a negative invoice that names it.
/// The amount becomes account credit, which settles what is open (this
/// invoice first) and can be refunded. Managers and owners; never more than
/// the invoice's total less earlier credit notes. Returns the credit note's id.
pub async fn credit_note(
    services: &Services,
    actor: &Actor,
    invoice_id: i64,
    form: &CreditNoteForm,
) -> Result<i64, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let invoice = invoice_ref(&mut tx, business.id, invoice_id).await?;
    let account = invoice.account()?;
    lock_account(&mut tx, business.id, account).await?;
    let line_key = format!("credit_note:{}", form.key.trim());
    if let Some((id,)) = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT invoice_id FROM invoice_lines WHERE membership_id = $1 AND line_key = $2",
        invoice.membership_id,
        &line_key
    )? {
        return Ok(id);
    }
    let creditable = creditable(&mut tx, &invoice).await?;
    let mut invalid = Invalid::default();
    let amount = invalid.check(
        "amount",
        Money::parse(form.amount.trim(), business.currency),
    );
    match amount {
        Some(a) if a.minor <= 0 => invalid.push("amount", "enter an amount above zero"),
        Some(a) if a.minor > creditable => invalid.push(
            "amount",
            format!(
                "at most {} can be credited on invoice #{}",
                Money::new(creditable, business.currency),
                invoice.number
            ),
        ),
        _ => {}
    }
    let reason = form.reason.trim();
    if reason.is_empty() {
        invalid.push(
            "reason",
            "give the reason; it is printed on the credit note",
        );
    }
    if form.key.trim().is_empty() {
        invalid.push(
            "key",
            "this form has expired; reload the page and try again",
        );
    }
    if !invalid.is_empty() {
        return Err(invalid.into());
    }
    let amount = amount.expect("checked");
    let (number,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "UPDATE businesses SET next_invoice_number = next_invoice_number + 1 WHERE id = $1 RETURNING next_invoice_number - 1",
        business.id
    )?;
    let (member_id, organization_id) = account.columns();
    let (id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO invoices (business_id, membership_id, number, billing_date, due_date, status, currency, total_minor,
                               created_at, member_id, organization_id, credit_note_for, memo)
         VALUES ($1, $2, $3, $4, $4, 'paid', $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        business.id, invoice.membership_id, number, today, business.currency.code(), -amount.minor, now,
        member_id, organization_id, invoice_id, reason)?;
    query!(&mut tx, execute,
        "INSERT INTO invoice_lines (business_id, invoice_id, membership_id, line_key, seq, kind, description, amount_minor, explanation)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8)",
        business.id, id, invoice.membership_id, &line_key, LineKind::CreditNote.as_str(),
        format!("Credit note for invoice #{}", invoice.number), -amount.minor, reason)?;
    add_entry(
        &mut tx,
        business.id,
        account,
        "credit_note",
        amount.minor,
        None,
        Some(id),
        now,
    )
    .await?;
    apply_credit(&mut tx, &business, account, now).await?;
    mail(
        &mut tx,
        &business,
        account,
        "credit_note",
        &format!("Credit note #{number} for invoice #{}", invoice.number),
        &format!(
            "We credited {amount} on invoice #{}: {reason}. The credit is on your account.\n\n{}",
            invoice.number, business.name
        ),
        Some(id),
        Some(invoice.membership_id),
        now,
    )
    .await?;
    audit::by_staff(
        &mut tx,
        actor,
        "invoice.credited",
        "invoice",
        Some(invoice_id),
        &format!("credit note #{number}: {amount}: {reason}"),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Keeps a card on file for a member or an organization, replacing the
/// current one. Front desk and up. The number goes to the gateway; only its
/// brand, last digits, expiry and the gateway's token are stored.
pub async fn add_card(
    services: &Services,
    actor: &Actor,
    account: Account,
    form: &CardForm,
) -> Result<String, Error> {
    actor.require(Role::FrontDesk)?;
    keep_card(services, actor.business_id, Some(actor), account, form).await
}

/// Keeps a card on file for an account (replacing the one there), for staff
/// (`actor`) or the account's member in the portal (`None`).
pub(crate) async fn keep_card(
    services: &Services,
    business_id: i64,
    actor: Option<&Actor>,
    account: Account,
    form: &CardForm,
) -> Result<String, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    let (card, digits) = check_card(form, today)?;
    let token = services
        .gateway
        .tokenize(&digits)
        .map_err(|reason| Error::invalid("number", reason))?;
    lock_account(&mut tx, business.id, account).await?;
    let sql = format!(
        "UPDATE cards SET removed_at = $1 WHERE business_id = $2 AND {} = $3 AND removed_at IS NULL",
        account.column()
    );
    query!(
        &mut tx,
        execute,
        sqlx::AssertSqlSafe(sql),
        now,
        business.id,
        account.id()
    )?;
    let (member_id, organization_id) = account.columns();
    query!(&mut tx, execute,
        "INSERT INTO cards (business_id, member_id, organization_id, brand, last4, exp_month, exp_year, token, added_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        business.id, member_id, organization_id, &card.brand, &card.last4, card.exp_month as i64,
        card.exp_year as i64, token, now)?;
    // Invoices waiting for a card are tried again by the next collection.
    let sql = format!(
        "UPDATE invoices SET next_attempt_on = $1
          WHERE business_id = $2 AND {} = $3 AND status = 'open' AND total_minor > amount_paid_minor AND attempts > 0",
        account.column()
    );
    query!(
        &mut tx,
        execute,
        sqlx::AssertSqlSafe(sql),
        today,
        business.id,
        account.id()
    )?;
    card_audit(
        &mut tx,
        business.id,
        actor,
        account,
        "card.added",
        &card.label(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(card.label())
}

async fn card_audit(
    tx: &mut Tx,
    business_id: i64,
    actor: Option<&Actor>,
    account: Account,
    action: &str,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    match actor {
        Some(actor) => audit::by_staff(tx, actor, action, "card", None, details, now).await,
        None => {
            audit::record(
                tx,
                business_id,
                audit::By::System,
                &format!("{action}_by_member"),
                "member",
                Some(account.id()),
                details,
                now,
            )
            .await
        }
    }
}

/// Removes the card on file of an account; later invoices wait for a payment.
pub(crate) async fn remove_card(
    services: &Services,
    business_id: i64,
    actor: Option<&Actor>,
    account: Account,
) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    lock_account(&mut tx, business_id, account).await?;
    let sql = format!(
        "UPDATE cards SET removed_at = $1 WHERE business_id = $2 AND {} = $3 AND removed_at IS NULL",
        account.column()
    );
    let removed = query!(
        &mut tx,
        execute,
        sqlx::AssertSqlSafe(sql),
        now,
        business_id,
        account.id()
    )?;
    if removed == 0 {
        return Err(Error::Conflict(
            "There is no card on file to remove.".into(),
        ));
    }
    card_audit(
        &mut tx,
        business_id,
        actor,
        account,
        "card.removed",
        "",
        now,
    )
    .await?;
    tx.commit().await
}

/// The label of the card on file of an account, if any.
pub(crate) async fn card_label_of(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
) -> Result<Option<String>, Error> {
    Ok(card_of(tx, business_id, account).await?.map(|(_, l)| l))
}

/// The card on file of an account, as a label. Viewers and up.
pub async fn card_label(
    services: &Services,
    actor: &Actor,
    account: Account,
) -> Result<Option<String>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    require_account(&mut tx, actor.business_id, account).await?;
    let card = card_of(&mut tx, actor.business_id, account).await?;
    tx.commit().await?;
    Ok(card.map(|(_, label)| label))
}

/// The newest messages of the mail outbox (at most 200). Viewers and up.
pub async fn outbox(
    services: &Services,
    actor: &Actor,
) -> Result<Vec<domain::invoices::OutboxMessage>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        DateTime<Utc>,
        Option<i64>,
        Option<DateTime<Utc>>,
        i64,
        Option<String>,
        Option<DateTime<Utc>>,
    );
    let rows = query!(
        &mut tx,
        fetch_all as Row,
        "SELECT id, to_address, subject, body, kind, created_at, invoice_id, sent_at, attempts, last_error, next_attempt_at
           FROM outbox WHERE business_id = $1 ORDER BY id DESC LIMIT 200",
        business.id
    )?;
    tx.commit().await?;
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&business.time_zone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    Ok(rows
        .into_iter()
        .map(
            |(id, to, subject, body, kind, at, invoice_id, sent, attempts, error, next)| {
                let delivery = match (sent, error) {
                    (Some(sent), _) => format!("sent {}", local(sent)),
                    _ if to.is_empty() => "not sent: no email address on file".to_string(),
                    (None, Some(error)) if attempts >= crate::platform::mail::MAX_ATTEMPTS => {
                        format!("not sent after {attempts} tries: {error}")
                    }
                    (None, Some(error)) => format!(
                        "not sent yet ({attempts} failed {}: {error}); next try {}",
                        if attempts == 1 { "try" } else { "tries" },
                        next.map_or_else(|| "soon".to_string(), local)
                    ),
                    (None, None) => "waiting".to_string(),
                };
                let secret = matches!(kind.as_str(), "portal_code" | "portal_email_code");
                let (subject, body) = if secret && services.mail_goes_out {
                    (mask_codes(&subject), mask_codes(&body))
                } else {
                    (subject, body)
                };
                domain::invoices::OutboxMessage {
                    id,
                    to,
                    subject,
                    body,
                    kind,
                    created: local(at),
                    invoice_id,
                    delivery,
                }
            },
        )
        .collect())
}

/// Hides one-time codes ("123456" or "123 456") behind dots.
pub(crate) fn mask_codes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = (i..).take_while(|&j| digit(j)).count();
        let starts = i == 0 || !digit(i - 1);
        if starts && run == 6 {
            out.push_str("••••••");
            i += 6;
        } else if starts
            && run == 3
            && chars.get(i + 3) == Some(&' ')
            && (i + 4..i + 7).all(digit)
            && !digit(i + 7)
        {
            out.push_str("••• •••");
            i += 7;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Memberships that are past due or suspended today, longest overdue first.
/// Viewers and up.
pub async fn dunning_list(
    services: &Services,
    actor: &Actor,
) -> Result<Vec<domain::invoices::DunningRow>, Error> {
    use domain::lifecycle::Status;
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let mut oldest: Vec<(i64, NaiveDate)> = oldest_unpaid_all(&mut tx, business.id)
        .await?
        .into_iter()
        .collect();
    oldest.sort_by_key(|(id, due)| (*due, *id));
    let mut out = Vec::new();
    for (membership_id, due_date) in oldest {
        let overdue = business.dunning.overdue(Some(due_date), today);
        let (status, since) = match (overdue.suspended_since, overdue.past_due_since) {
            (Some(s), _) => (Status::Suspended, s),
            (None, Some(p)) => (Status::PastDue, p),
            _ => continue,
        };
        let (invoice_id, number, attempts, next_attempt_on) = query!(
            &mut tx,
            fetch_one as (i64, i64, i64, Option<NaiveDate>),
            "SELECT id, number, attempts, next_attempt_on FROM invoices
              WHERE business_id = $1 AND membership_id = $2 AND status = 'open' AND total_minor > amount_paid_minor
              ORDER BY due_date, number LIMIT 1",
            business.id,
            membership_id
        )?;
        let (total_due,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT CAST(COALESCE(SUM(total_minor - amount_paid_minor), 0) AS BIGINT) FROM invoices
              WHERE business_id = $1 AND membership_id = $2 AND status = 'open' AND total_minor > amount_paid_minor",
            business.id,
            membership_id
        )?;
        let (holder, membership_name) =
            crate::store::memberships::holder_and_name(&mut tx, business.id, membership_id).await?;
        let account = invoice_ref(&mut tx, business.id, invoice_id)
            .await?
            .account()?;
        let has_card = card_of(&mut tx, business.id, account).await?.is_some();
        out.push(domain::invoices::DunningRow {
            has_card,
            charge_key: new_key(),
            membership_id,
            membership_name,
            holder,
            status,
            since,
            oldest_invoice_id: invoice_id,
            oldest_invoice_number: number,
            due: Money::new(total_due, business.currency),
            attempts,
            next_attempt_on,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Charges the card on file of every past-due or suspended membership's
/// oldest unpaid invoice now, as a manager asked. Each charge is keyed by
/// `key` and the invoice, so the same click sent twice charges once.
pub async fn retry_cards(
    services: &Services,
    actor: &Actor,
    key: &str,
) -> Result<domain::invoices::RetryReport, Error> {
    actor.require(Role::Manager)?;
    if key.trim().is_empty() {
        return Err(Error::invalid(
            "key",
            "this form has expired; reload the page and try again",
        ));
    }
    let rows = dunning_list(services, actor).await?;
    let mut report = domain::invoices::RetryReport::default();
    for row in rows.iter().filter(|r| r.has_card) {
        let key = format!("retry:{}:{}", key.trim(), row.oldest_invoice_id);
        match charge_card(
            services,
            TakenBy::Staff(actor),
            row.oldest_invoice_id,
            None,
            &key,
        )
        .await
        {
            Ok(Charged::Succeeded(_) | Charged::Replayed(_)) => report.charged += 1,
            Ok(Charged::Failed { .. }) => report.declined += 1,
            // Paid meanwhile, or a charge already under way: nothing to do.
            Err(Error::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}

/// The card on file, credit balance and unpaid invoices of an account.
/// Viewers and up.
pub async fn account_billing(
    services: &Services,
    actor: &Actor,
    account: Account,
) -> Result<domain::invoices::AccountBilling, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    require_account(&mut tx, business.id, account).await?;
    let card = card_of(&mut tx, business.id, account)
        .await?
        .map(|(_, l)| l);
    let credit = balance(&mut tx, business.id, account).await?;
    let ids: Vec<i64> = dues(&mut tx, &business, account, None)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut unpaid = Vec::new();
    for id in ids {
        unpaid.push(crate::store::invoices::summary_of(&mut tx, business.id, id).await?);
    }
    tx.commit().await?;
    Ok(domain::invoices::AccountBilling {
        card,
        credit: Money::new(credit, business.currency),
        unpaid,
        can_take_payments: actor.role.allows(Role::FrontDesk),
    })
}
