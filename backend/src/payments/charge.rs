//! Charging the card on file: a charge intent is claimed for the invoice in
//! one transaction, the gateway is asked outside any transaction with the
//! intent as its key, and the outcome is booked in a second one. A claim
//! whose lease ran out is finished by the next attempt, so an invoice is
//! captured once however many requests race.

use crate::engine::ledger::{
    Account, InvoiceRef, after_settlement, book_payment, card_of, insert_payment, invoice_ref,
    lock_account, mail, payment_by_key, receipt,
};
use crate::platform::actor::{Actor, Author, Who};
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::{Services, query};
use chrono::{DateTime, NaiveDate, Utc};
use domain::Money;
use domain::lifecycle::{BillingNote, Event};
use domain::payments::{ChargeOutcome, Method};
use domain::staff::Role;

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
pub(crate) const CHARGE_CLAIM: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A card charge claimed for an invoice: the gateway is called with
/// `intent:{id}` as its idempotency key.
#[derive(sqlx::FromRow)]
pub(crate) struct Intent {
    pub(crate) id: i64,
    pub(crate) invoice_id: i64,
    pub(crate) amount_minor: i64,
    pub(crate) token: String,
    pub(crate) request_key: String,
    pub(crate) recorded_by: String,
    pub(crate) staff_user_id: Option<i64>,
}

impl Intent {
    pub(crate) fn gateway_key(&self) -> String {
        format!("intent:{}", self.id)
    }
}

/// What claiming a charge found.
pub(crate) enum Claim {
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
    by: &Actor,
    invoice_id: i64,
    amount: Option<Money>,
    key: &str,
) -> Result<Charged, Error> {
    if let Who::Staff { .. } = by.who {
        by.require(Role::FrontDesk)?;
    }
    let business_id = by.business_id;
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
    book_charge(services, &business, &intent, Some(by), outcome).await
}

/// Calls the gateway for a claimed charge, outside any transaction, with the
/// intent's key: asked again for the same intent, it answers the same.
pub(crate) async fn ask_gateway(
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

pub(crate) fn in_progress() -> Error {
    Error::Conflict(
        "a card charge of this invoice is in progress; look at the invoice again in a moment"
            .into(),
    )
}

/// The payment a key recorded, if any (a charge's once its intent is booked).
pub(crate) async fn replayed_charge(
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
pub(crate) async fn claim_charge(
    services: &Services,
    business_id: i64,
    by: &Actor,
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
    if let Who::Member { member_id } = by.who
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
    let author = by.payment_author();
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
        &author.label,
        author.staff_user_id,
        now + CHARGE_CLAIM,
        now
    )?;
    tx.commit().await?;
    Ok(Claim::Charge(intent))
}

/// Finishes the invoice's charges whose claim ran out (their request died
/// between the gateway and the booking): the gateway is asked again with the
/// intent's key, which answers its first answer without charging again.
pub(crate) async fn finish_stale_charges(
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
    // Booked in the name of whoever started it, as its intent recorded: the
    // system's own charges as the system's (with their retries), a person's
    // by their recorded name.
    let system = Actor::system(business.id);
    let by = (intent.recorded_by == "the system").then_some(&system);
    book_charge(services, &business, &intent, by, outcome).await?;
    Ok(())
}

/// Books a gateway's answer for a claimed charge and closes the intent, in
/// one write transaction; an intent booked by another request meanwhile
/// answers that request's payment. `by` is who asked for the charge; `None`
/// finishes a person's charge whose request died, in the name its intent
/// recorded.
pub(crate) async fn book_charge(
    services: &Services,
    business: &Business,
    intent: &Intent,
    by: Option<&Actor>,
    outcome: ChargeOutcome,
) -> Result<Charged, Error> {
    let author = match by {
        Some(actor) => actor.payment_author(),
        None => Author {
            label: intent.recorded_by.clone(),
            staff_user_id: intent.staff_user_id,
        },
    };
    let by_system = by.is_some_and(|a| a.who == Who::System);
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
        &author,
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
            let declined = Declined {
                invoice: &invoice,
                account,
                payment_id,
                reason,
                retry: by_system,
                today,
                now,
            };
            after_decline(&mut tx, business, &declined).await?;
            Charged::Failed {
                payment_id,
                reason: reason.to_string(),
            }
        }
    };
    if let Some(actor) = by.and_then(Actor::as_staff) {
        audit::record(
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

/// A declined charge, for [`after_decline`].
struct Declined<'a> {
    invoice: &'a InvoiceRef,
    account: Account,
    payment_id: i64,
    reason: &'a str,
    /// The daily collection's own charge: counted, with its next retry.
    retry: bool,
    today: NaiveDate,
    now: DateTime<Utc>,
}

/// What follows a declined charge: the attempt counted and the next retry
/// set (for the daily collection's charges), a note on the membership's
/// timeline, an event, and a mail asking for another card.
async fn after_decline(tx: &mut Tx, business: &Business, d: &Declined<'_>) -> Result<(), Error> {
    let Declined {
        invoice,
        account,
        payment_id,
        reason,
        retry: by_system,
        today,
        now,
    } = *d;
    let invoice_id = invoice.id;
    let attempts = invoice.attempts + 1;
    let retry_on = if by_system {
        business
            .dunning
            .next_attempt(invoice.due_date, attempts as u32)
    } else {
        None
    };
    if by_system {
        query!(
            tx,
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
        tx,
        business.id,
        invoice.membership_id,
        today,
        &note,
        now,
    )
    .await?;
    crate::platform::events::emit(
        tx,
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
        tx,
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
    Ok(())
}
