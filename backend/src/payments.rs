//! Taking money and giving it back: manual payments, charges of the card on
//! file through the gateway, account credit, refunds, credit notes, voiding,
//! and the daily collection (automatic charges, retries, past due, suspended).
//!
//! Money rows are append-only. A payment settles the invoice it was taken
//! for first, then the account's other open invoices oldest first; what is
//! left is account credit, which settles the next invoices by itself. Every
//! request carries an idempotency key (unique per business), so a double
//! click or a retried request records one payment and charges a card once.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::billing::charges::LineKind;
use domain::invoices::{CreditNoteForm, InvoiceStatus, ReasonForm};
use domain::lifecycle::{BillingNote, Event};
use domain::payments::{
    CardForm, ChargeOutcome, Method, Overdue, PaymentForm, RefundForm, allocate, check_card,
    check_payment, check_refund,
};
use domain::staff::Role;
use domain::{Invalid, Money};

use crate::audit;
use crate::auth::Actor;
use crate::business::{self, Business};
use crate::db::Tx;
use crate::error::Error;
use crate::{Services, query};

/// Who is billed and pays: a member, or an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    Member(i64),
    Organization(i64),
}

impl Account {
    pub(crate) fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Account::Member(id) => (Some(id), None),
            Account::Organization(id) => (None, Some(id)),
        }
    }

    pub(crate) fn from_columns(member: Option<i64>, organization: Option<i64>) -> Option<Account> {
        match (member, organization) {
            (Some(m), _) => Some(Account::Member(m)),
            (None, Some(o)) => Some(Account::Organization(o)),
            (None, None) => None,
        }
    }

    /// The column that names this account in the money tables.
    fn column(self) -> &'static str {
        match self {
            Account::Member(_) => "member_id",
            Account::Organization(_) => "organization_id",
        }
    }

    fn id(self) -> i64 {
        match self {
            Account::Member(id) | Account::Organization(id) => id,
        }
    }

    pub fn href(self) -> String {
        match self {
            Account::Member(id) => format!("/members/{id}"),
            Account::Organization(id) => format!("/organizations/{id}"),
        }
    }
}

/// A fresh idempotency key for a form.
pub fn new_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Takes the account's row lock so that two settlements of one account run
/// one after the other (PostgreSQL; SQLite serialises writers anyway).
async fn lock_account(tx: &mut Tx, business_id: i64, account: Account) -> Result<(), Error> {
    let sql = match account {
        Account::Member(_) => "UPDATE members SET id = id WHERE business_id = $1 AND id = $2",
        Account::Organization(_) => {
            "UPDATE organizations SET id = id WHERE business_id = $1 AND id = $2"
        }
    };
    let n = query!(tx, execute, sql, business_id, account.id())?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// `NotFound` unless the account is a member or organization of the business:
/// another business's id, or one that does not exist, shows nothing.
async fn require_account(tx: &mut Tx, business_id: i64, account: Account) -> Result<(), Error> {
    let sql = match account {
        Account::Member(_) => "SELECT id FROM members WHERE business_id = $1 AND id = $2",
        Account::Organization(_) => {
            "SELECT id FROM organizations WHERE business_id = $1 AND id = $2"
        }
    };
    query!(tx, fetch_optional as (i64,), sql, business_id, account.id())?
        .map(|_| ())
        .ok_or(Error::NotFound)
}

/// The account's credit balance in minor units.
pub(crate) async fn balance(tx: &mut Tx, business_id: i64, account: Account) -> Result<i64, Error> {
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM account_entries WHERE business_id = $1 AND {} = $2",
        account.column()
    );
    let (sum,) = query!(
        tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(sql),
        business_id,
        account.id()
    )?;
    Ok(sum)
}

/// Open invoices of the account with what is due on each, oldest due first,
/// `first` (when open) before all.
async fn dues(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    first: Option<i64>,
) -> Result<Vec<(i64, Money)>, Error> {
    let sql = format!(
        "SELECT id, total_minor - amount_paid_minor FROM invoices
          WHERE business_id = $1 AND {} = $2 AND status = 'open' AND total_minor > amount_paid_minor
          ORDER BY due_date, number",
        account.column()
    );
    let mut rows: Vec<(i64, Money)> = query!(
        tx,
        fetch_all as (i64, i64),
        sqlx::AssertSqlSafe(sql),
        business.id,
        account.id()
    )?
    .into_iter()
    .map(|(id, due)| (id, Money::new(due, business.currency)))
    .collect();
    if let Some(first) = first
        && let Some(i) = rows.iter().position(|(id, _)| *id == first)
    {
        let row = rows.remove(i);
        rows.insert(0, row);
    }
    Ok(rows)
}

enum Source {
    Payment(i64),
    Credit(i64),
}

async fn settle_invoice(
    tx: &mut Tx,
    business_id: i64,
    invoice_id: i64,
    amount: i64,
    source: Source,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (payment_id, entry_id) = match source {
        Source::Payment(id) => (Some(id), None),
        Source::Credit(id) => (None, Some(id)),
    };
    query!(tx, execute,
        "INSERT INTO payment_allocations (business_id, invoice_id, payment_id, account_entry_id, amount_minor, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        business_id, invoice_id, payment_id, entry_id, amount, now)?;
    let (status, paid, total, number) = query!(
        tx,
        fetch_one as (String, i64, i64, i64),
        "UPDATE invoices SET amount_paid_minor = amount_paid_minor + $1,
                status = CASE WHEN amount_paid_minor + $1 >= total_minor THEN 'paid' ELSE status END
          WHERE business_id = $2 AND id = $3
          RETURNING status, amount_paid_minor, total_minor, number",
        amount,
        business_id,
        invoice_id
    )?;
    // The events feed hears of an invoice once: when this payment completed it.
    if status == "paid" && paid - amount < total {
        crate::events::emit(
            tx,
            business_id,
            "invoice.paid",
            "invoice",
            Some(invoice_id),
            &serde_json::json!({ "number": number, "total_minor": total, "amount_paid_minor": paid }),
            now,
        )
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn add_entry(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
    kind: &str,
    amount: i64,
    payment_id: Option<i64>,
    invoice_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let (member_id, organization_id) = account.columns();
    let (id,) = query!(tx, fetch_one as (i64,),
        "INSERT INTO account_entries (business_id, member_id, organization_id, kind, amount_minor, payment_id, invoice_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        business_id, member_id, organization_id, kind, amount, payment_id, invoice_id, now)?;
    Ok(id)
}

/// Settles the account's open invoices from its credit balance; returns the
/// invoices it touched. Call with the account locked.
pub(crate) async fn apply_credit(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, Error> {
    let available = balance(tx, business.id, account).await?;
    if available <= 0 {
        return Ok(Vec::new());
    }
    let dues = dues(tx, business, account, None).await?;
    let (parts, _) = allocate(Money::new(available, business.currency), &dues);
    let mut touched = Vec::new();
    for part in parts {
        let entry = add_entry(
            tx,
            business.id,
            account,
            "applied",
            -part.amount.minor,
            None,
            Some(part.invoice_id),
            now,
        )
        .await?;
        settle_invoice(
            tx,
            business.id,
            part.invoice_id,
            part.amount.minor,
            Source::Credit(entry),
            now,
        )
        .await?;
        touched.push(part.invoice_id);
    }
    Ok(touched)
}

/// A new invoice's effect on the account: a negative one (a credit) becomes
/// account credit; then credit settles what is open.
pub(crate) async fn after_invoice(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    invoice_id: i64,
    total: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    lock_account(tx, business.id, account).await?;
    if total < 0 {
        add_entry(
            tx,
            business.id,
            account,
            "credit_note",
            -total,
            None,
            Some(invoice_id),
            now,
        )
        .await?;
    }
    apply_credit(tx, business, account, now).await?;
    Ok(())
}

/// Books money received: the invoice it was taken for first, then the
/// account's other open invoices; the rest becomes account credit.
async fn book_payment(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    payment_id: i64,
    amount: Money,
    first: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, Money)>, Error> {
    let dues = dues(tx, business, account, first).await?;
    let (parts, left) = allocate(amount, &dues);
    for part in &parts {
        settle_invoice(
            tx,
            business.id,
            part.invoice_id,
            part.amount.minor,
            Source::Payment(payment_id),
            now,
        )
        .await?;
    }
    if left.minor > 0 {
        add_entry(
            tx,
            business.id,
            account,
            "overpayment",
            left.minor,
            Some(payment_id),
            None,
            now,
        )
        .await?;
    }
    Ok(parts.iter().map(|p| (p.invoice_id, p.amount)).collect())
}

#[derive(sqlx::FromRow)]
pub(crate) struct InvoiceRef {
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) membership_id: i64,
    pub(crate) member_id: Option<i64>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) status: String,
    pub(crate) total_minor: i64,
    pub(crate) amount_paid_minor: i64,
    pub(crate) due_date: NaiveDate,
    pub(crate) attempts: i64,
}

impl InvoiceRef {
    pub(crate) fn account(&self) -> Result<Account, Error> {
        Account::from_columns(self.member_id, self.organization_id)
            .ok_or_else(|| Error::internal(format!("invoice {} has no account", self.id)))
    }
    fn due(&self) -> i64 {
        if self.status == InvoiceStatus::Open.as_str() {
            (self.total_minor - self.amount_paid_minor).max(0)
        } else {
            0
        }
    }
}

pub(crate) async fn invoice_ref(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<InvoiceRef, Error> {
    query!(tx, fetch_optional as InvoiceRef,
        "SELECT id, number, membership_id, member_id, organization_id, status, total_minor, amount_paid_minor, due_date, attempts
           FROM invoices WHERE business_id = $1 AND id = $2",
        business_id, id)?
    .ok_or(Error::NotFound)
}

async fn payment_by_key(tx: &mut Tx, business_id: i64, key: &str) -> Result<Option<i64>, Error> {
    Ok(query!(
        tx,
        fetch_optional as (i64,),
        "SELECT id FROM payments WHERE business_id = $1 AND idempotency_key = $2",
        business_id,
        key
    )?
    .map(|(id,)| id))
}

/// Who takes a payment.
#[derive(Clone, Copy, Debug)]
pub enum TakenBy<'a> {
    Staff(&'a Actor),
    /// The daily collection.
    System,
    /// A member paying their own invoice in the portal.
    Member {
        business_id: i64,
        member_id: i64,
    },
    /// A charge whose request died before its outcome was booked, finished
    /// by a later attempt in the name of whoever started it.
    Resumed {
        label: &'static str,
        staff_id: Option<i64>,
    },
}

impl TakenBy<'_> {
    fn label(&self) -> &'static str {
        match self {
            TakenBy::Staff(_) => "staff",
            TakenBy::System => "the system",
            TakenBy::Member { .. } => "the member via the portal",
            TakenBy::Resumed { label, .. } => label,
        }
    }
    fn staff_id(&self) -> Option<i64> {
        match self {
            TakenBy::Staff(a) => Some(a.staff_user_id),
            TakenBy::Resumed { staff_id, .. } => *staff_id,
            TakenBy::System | TakenBy::Member { .. } => None,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_payment(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    invoice_id: i64,
    method: Method,
    amount: Money,
    outcome: Result<&str, &str>,
    key: &str,
    by: TakenBy<'_>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let (member_id, organization_id) = account.columns();
    let (succeeded, reference, failure) = match outcome {
        Ok(reference) => (true, reference, ""),
        Err(failure) => (false, "", failure),
    };
    let (id,) = query!(tx, fetch_one as (i64,),
        "INSERT INTO payments (business_id, member_id, organization_id, invoice_id, method, amount_minor, currency, succeeded,
                               paid_on, reference, failure, idempotency_key, recorded_by, staff_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        business.id, member_id, organization_id, invoice_id, method.as_str(), amount.minor, business.currency.code(),
        succeeded, today, reference, failure, key, by.label(), by.staff_id(), now)?;
    Ok(id)
}

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
    let business = business::load(&mut tx, actor.business_id).await?;
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
        Err(e) if e.is_unique_violation() => {
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

/// The card on file of an account: its id, token and label.
async fn card_of(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
) -> Result<Option<(String, String)>, Error> {
    let sql = format!(
        "SELECT token, brand, last4, exp_month, exp_year FROM cards
          WHERE business_id = $1 AND {} = $2 AND removed_at IS NULL",
        account.column()
    );
    Ok(query!(
        tx,
        fetch_optional as (String, String, String, i64, i64),
        sqlx::AssertSqlSafe(sql),
        business_id,
        account.id()
    )?
    .map(|(token, brand, last4, m, y)| {
        (
            token,
            domain::payments::Card {
                brand,
                last4,
                exp_month: m as u32,
                exp_year: y as i32,
            }
            .label(),
        )
    }))
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
        Err(e) if e.is_unique_violation() => {
            return match replayed_charge(services, business_id, key).await? {
                Some(id) => Ok(Charged::Replayed(id)),
                None => Err(in_progress()),
            };
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
        let business = business::load(&mut tx, business_id).await?;
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
    let business = business::load(&mut tx, business_id).await?;
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
            crate::memberships::append_billing_note(
                &mut tx,
                business.id,
                invoice.membership_id,
                today,
                &note,
                now,
            )
            .await?;
            crate::events::emit(
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

/// Timeline notes after invoices were (partly) settled: money received, and
/// "restored" when a past-due membership has nothing overdue any more.
async fn after_settlement(
    tx: &mut Tx,
    business: &Business,
    settled: &[(i64, Money)],
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut memberships = Vec::new();
    for (invoice_id, amount) in settled {
        let invoice = invoice_ref(tx, business.id, *invoice_id).await?;
        crate::memberships::append_billing_note(
            tx,
            business.id,
            invoice.membership_id,
            today,
            &BillingNote::PaymentReceived {
                invoice_number: invoice.number,
                amount: *amount,
            },
            now,
        )
        .await?;
        if !memberships.contains(&invoice.membership_id) {
            memberships.push(invoice.membership_id);
        }
    }
    for membership_id in memberships {
        let overdue = overdue_of(tx, business, membership_id, today).await?;
        if overdue.past_due_since.is_none()
            && matches!(
                last_standing(tx, business.id, membership_id).await?,
                Some(Standing::PastDue | Standing::Suspended)
            )
        {
            crate::memberships::append_billing_note(
                tx,
                business.id,
                membership_id,
                today,
                &BillingNote::Restored,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    PastDue,
    Suspended,
    Restored,
}

/// The last of past due / suspended / restored on the timeline, and the invoice it named.
async fn last_standing(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Option<Standing>, Error> {
    Ok(last_standing_with_invoice(tx, business_id, membership_id)
        .await?
        .map(|(s, _)| s))
}

async fn last_standing_with_invoice(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Option<(Standing, Option<i64>)>, Error> {
    let rows = query!(
        tx,
        fetch_all as (String,),
        "SELECT data FROM membership_events WHERE business_id = $1 AND membership_id = $2 AND kind = 'billing' ORDER BY id DESC",
        business_id,
        membership_id
    )?;
    for (data,) in rows {
        let event: Event = serde_json::from_str(&data)
            .map_err(|e| Error::internal(format!("billing event: {e}")))?;
        if let Event::Billing { note, .. } = event {
            match note {
                BillingNote::PastDue { invoice_number } => {
                    return Ok(Some((Standing::PastDue, Some(invoice_number))));
                }
                BillingNote::Suspended { invoice_number } => {
                    return Ok(Some((Standing::Suspended, Some(invoice_number))));
                }
                BillingNote::Restored => return Ok(Some((Standing::Restored, None))),
                _ => {}
            }
        }
    }
    Ok(None)
}

/// The oldest due date among a membership's unpaid open invoices.
async fn oldest_unpaid(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Option<(NaiveDate, i64)>, Error> {
    Ok(query!(
        tx,
        fetch_optional as (NaiveDate, i64),
        "SELECT due_date, number FROM invoices
          WHERE business_id = $1 AND membership_id = $2 AND status = 'open' AND total_minor > amount_paid_minor
          ORDER BY due_date, number LIMIT 1",
        business_id,
        membership_id
    )?)
}

/// Where a membership stands with its unpaid invoices on `today`.
pub(crate) async fn overdue_of(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
    today: NaiveDate,
) -> Result<Overdue, Error> {
    let oldest = oldest_unpaid(tx, business.id, membership_id).await?;
    Ok(business.dunning.overdue(oldest.map(|(d, _)| d), today))
}

/// The oldest unpaid due date of every membership of a business that has one.
pub(crate) async fn oldest_unpaid_all(
    tx: &mut Tx,
    business_id: i64,
) -> Result<std::collections::HashMap<i64, NaiveDate>, Error> {
    Ok(query!(
        tx,
        fetch_all as (i64, NaiveDate),
        "SELECT membership_id, MIN(due_date) FROM invoices
          WHERE business_id = $1 AND status = 'open' AND total_minor > amount_paid_minor
          GROUP BY membership_id",
        business_id
    )?
    .into_iter()
    .collect())
}

/// The account's address and name, for mail.
async fn contact(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
) -> Result<(String, String), Error> {
    Ok(match account {
        Account::Member(id) => {
            let (first, last, email) = query!(
                tx,
                fetch_one as (String, String, String),
                "SELECT first_name, last_name, email FROM members WHERE business_id = $1 AND id = $2",
                business_id,
                id
            )?;
            (email, format!("{first} {last}"))
        }
        Account::Organization(id) => query!(
            tx,
            fetch_one as (String, String),
            "SELECT email, name FROM organizations WHERE business_id = $1 AND id = $2",
            business_id,
            id
        )?,
    })
}

/// The address and name of many accounts at once: members read by id range
/// (the billing run's batches hold neighbouring members), organizations one
/// by one (they are few).
pub(crate) async fn contacts(
    tx: &mut Tx,
    business_id: i64,
    accounts: &[Account],
) -> Result<HashMap<Account, (String, String)>, Error> {
    let mut out = HashMap::new();
    let members: Vec<i64> = accounts
        .iter()
        .filter_map(|a| match a {
            Account::Member(id) => Some(*id),
            Account::Organization(_) => None,
        })
        .collect();
    if let (Some(lo), Some(hi)) = (members.iter().min(), members.iter().max()) {
        for (id, first, last, email) in query!(
            tx,
            fetch_all as (i64, String, String, String),
            "SELECT id, first_name, last_name, email FROM members WHERE business_id = $1 AND id BETWEEN $2 AND $3",
            business_id,
            *lo,
            *hi
        )? {
            out.insert(Account::Member(id), (email, format!("{first} {last}")));
        }
    }
    for account in accounts {
        if let Account::Organization(_) = account
            && !out.contains_key(account)
        {
            let contact = contact(tx, business_id, *account).await?;
            out.insert(*account, contact);
        }
    }
    Ok(out)
}

/// The accounts among `accounts` holding credit now.
pub(crate) async fn with_credit(
    tx: &mut Tx,
    business_id: i64,
    accounts: &[Account],
) -> Result<Vec<Account>, Error> {
    let mut out = Vec::new();
    for column in ["member_id", "organization_id"] {
        let ids: Vec<i64> = accounts
            .iter()
            .filter(|a| a.column() == column)
            .map(|a| a.id())
            .collect();
        let (Some(lo), Some(hi)) = (ids.iter().min(), ids.iter().max()) else {
            continue;
        };
        let sql = format!(
            "SELECT {column} FROM account_entries WHERE business_id = $1 AND {column} BETWEEN $2 AND $3
              GROUP BY {column} HAVING SUM(amount_minor) > 0"
        );
        for (id,) in query!(
            tx,
            fetch_all as (i64,),
            sqlx::AssertSqlSafe(sql),
            business_id,
            *lo,
            *hi
        )? {
            let account = if column == "member_id" {
                Account::Member(id)
            } else {
                Account::Organization(id)
            };
            if accounts.contains(&account) {
                out.push(account);
            }
        }
    }
    Ok(out)
}

/// Puts a message in the mail outbox.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn mail(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    kind: &str,
    subject: &str,
    body: &str,
    invoice_id: Option<i64>,
    membership_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (to, name) = contact(tx, business.id, account).await?;
    let body = format!("Hello {name},\n\n{body}");
    query!(tx, execute,
        "INSERT INTO outbox (business_id, to_address, subject, body, kind, invoice_id, membership_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        business.id, to, subject, body, kind, invoice_id, membership_id, now)?;
    Ok(())
}

async fn receipt(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    payment_id: i64,
    amount: Money,
    settled: &[(i64, Money)],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut lines = Vec::new();
    let mut first_invoice = None;
    let mut membership = None;
    for (invoice_id, part) in settled {
        let invoice = invoice_ref(tx, business.id, *invoice_id).await?;
        first_invoice.get_or_insert(*invoice_id);
        membership.get_or_insert(invoice.membership_id);
        lines.push(format!("- {part} for invoice #{}", invoice.number));
    }
    let applied: i64 = settled.iter().map(|(_, m)| m.minor).sum();
    if amount.minor > applied {
        lines.push(format!(
            "- {} kept as credit on your account",
            Money::new(amount.minor - applied, amount.currency)
        ));
    }
    mail(
        tx,
        business,
        account,
        "receipt",
        &format!("Receipt for your payment of {amount}"),
        &format!(
            "Thank you: we received {amount} (payment {payment_id}).\n{}\n\n{}",
            lines.join("\n"),
            business.name
        ),
        first_invoice,
        membership,
        now,
    )
    .await
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
    let business = business::load(&mut tx, actor.business_id).await?;
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
    let business = business::load(&mut tx, actor.business_id).await?;
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

/// What may still be credited on an invoice: its total less earlier credit notes.
async fn creditable(tx: &mut Tx, invoice: &InvoiceRef) -> Result<i64, Error> {
    if invoice.total_minor <= 0 || invoice.status == InvoiceStatus::Void.as_str() {
        return Ok(0);
    }
    let (credited,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT CAST(COALESCE(-SUM(total_minor), 0) AS BIGINT) FROM invoices WHERE credit_note_for = $1",
        invoice.id
    )?;
    Ok((invoice.total_minor - credited).max(0))
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
    let business = business::load(&mut tx, business_id).await?;
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

/// Reads for the invoice page: payments with refunds, credit, card, links.
pub(crate) struct InvoiceMoney {
    pub(crate) payments: Vec<domain::invoices::PaymentView>,
    pub(crate) paid_from_credit: Money,
    pub(crate) credit_note_for: Option<domain::invoices::InvoiceLink>,
    pub(crate) credit_notes: Vec<domain::invoices::InvoiceLink>,
    pub(crate) creditable: Money,
    pub(crate) account_credit: Money,
    pub(crate) card: Option<String>,
}

pub(crate) async fn invoice_money(
    tx: &mut Tx,
    business: &Business,
    invoice: &InvoiceRef,
    credit_note_for: Option<i64>,
) -> Result<InvoiceMoney, Error> {
    use domain::invoices::{InvoiceLink, PaymentView, RefundView};
    let c = business.currency;
    let rows = query!(tx, fetch_all as (i64, NaiveDate, String, i64, bool, String, String, String, i64),
        "SELECT p.id, p.paid_on, p.method, p.amount_minor, p.succeeded, p.reference, p.failure, p.recorded_by,
                CAST(COALESCE((SELECT SUM(a.amount_minor) FROM payment_allocations a WHERE a.payment_id = p.id AND a.invoice_id = $2), 0) AS BIGINT)
           FROM payments p
          WHERE p.business_id = $1
            AND (p.invoice_id = $2 OR p.id IN (SELECT a.payment_id FROM payment_allocations a WHERE a.invoice_id = $2))
          ORDER BY p.id",
        business.id, invoice.id)?;
    let mut payments = Vec::new();
    for (id, paid_on, method, amount, succeeded, reference, failure, by, here) in rows {
        let refunds: Vec<RefundView> = query!(
            tx,
            fetch_all as (NaiveDate, i64, String),
            "SELECT refunded_on, amount_minor, reason FROM refunds WHERE payment_id = $1 ORDER BY id",
            id
        )?
        .into_iter()
        .map(|(on, minor, reason)| RefundView {
            refunded_on: on,
            amount: Money::new(minor, c),
            reason,
        })
        .collect();
        let refunded: i64 = refunds.iter().map(|r| r.amount.minor).sum();
        payments.push(PaymentView {
            id,
            paid_on,
            method: Method::parse(&method)
                .ok_or_else(|| Error::internal(format!("payment method {method:?}")))?,
            amount: Money::new(amount, c),
            applied_here: Money::new(here, c),
            succeeded,
            reference,
            failure,
            recorded_by: by,
            refundable: Money::new(if succeeded { amount - refunded } else { 0 }, c),
            refunds,
        });
    }
    let (from_credit,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM payment_allocations WHERE invoice_id = $1 AND account_entry_id IS NOT NULL",
        invoice.id
    )?;
    let link = |(id, number, total): (i64, i64, i64)| InvoiceLink {
        id,
        number,
        total: Money::new(total, c),
    };
    let credit_notes = query!(
        tx,
        fetch_all as (i64, i64, i64),
        "SELECT id, number, total_minor FROM invoices WHERE credit_note_for = $1 ORDER BY number",
        invoice.id
    )?
    .into_iter()
    .map(link)
    .collect();
    let credit_note_for = match credit_note_for {
        Some(original) => query!(
            tx,
            fetch_optional as (i64, i64, i64),
            "SELECT id, number, total_minor FROM invoices WHERE id = $1",
            original
        )?
        .map(link),
        None => None,
    };
    let account = invoice.account()?;
    Ok(InvoiceMoney {
        payments,
        paid_from_credit: Money::new(from_credit, c),
        credit_note_for,
        credit_notes,
        creditable: Money::new(creditable(tx, invoice).await?, c),
        account_credit: Money::new(balance(tx, business.id, account).await?, c),
        card: card_of(tx, business.id, account).await?.map(|(_, l)| l),
    })
}

/// The daily collection of a business: charges the cards on file of invoices
/// that are due (and retries failed charges on the schedule), then marks
/// memberships past due or suspended on their timelines, with a message each.
pub async fn collect(services: &Services, business_id: i64) -> Result<usize, Error> {
    let (business, due) = {
        let mut tx = services.db.begin_read().await?;
        let business = business::load(&mut tx, business_id).await?;
        let today = services.today(&business);
        let due = query!(&mut tx, fetch_all as (i64, i64),
            "SELECT i.id, i.attempts FROM invoices i
              WHERE i.business_id = $1 AND i.status = 'open' AND i.total_minor > i.amount_paid_minor
                AND ((i.attempts = 0 AND i.due_date <= $2) OR i.next_attempt_on <= $2)
                AND EXISTS (SELECT 1 FROM cards c WHERE c.removed_at IS NULL
                             AND ((i.member_id IS NOT NULL AND c.member_id = i.member_id)
                               OR (i.organization_id IS NOT NULL AND c.organization_id = i.organization_id)))
              ORDER BY i.id",
            business.id, today)?;
        tx.commit().await?;
        (business, due)
    };
    let mut charged = 0;
    for (invoice_id, attempts) in due {
        let key = format!("auto:{invoice_id}:{}", attempts + 1);
        match charge_card(services, TakenBy::System, invoice_id, None, &key).await {
            Ok(Charged::Succeeded(_)) => charged += 1,
            Ok(_) => {}
            Err(Error::Conflict(_)) => {}
            Err(error) => tracing::error!(invoice = invoice_id, %error, "automatic charge failed"),
        }
    }
    mark_overdue(services, &business).await?;
    Ok(charged)
}

/// Records past due and suspended on the timelines of memberships whose
/// oldest unpaid invoice is old enough, once per invoice and step.
async fn mark_overdue(services: &Services, business: &Business) -> Result<(), Error> {
    let now = services.clock.now();
    let today = services.today(business);
    let mut tx = services.db.begin_write().await?;
    let oldest = oldest_unpaid_all(&mut tx, business.id).await?;
    let mut ids: Vec<_> = oldest.into_iter().collect();
    ids.sort();
    for (membership_id, due) in ids {
        let overdue = business.dunning.overdue(Some(due), today);
        let Some(past_since) = overdue.past_due_since else {
            continue;
        };
        let Some((_, number)) = oldest_unpaid(&mut tx, business.id, membership_id).await? else {
            continue;
        };
        let last = last_standing_with_invoice(&mut tx, business.id, membership_id).await?;
        let (member_id, organization_id): (Option<i64>, Option<i64>) = query!(
            &mut tx,
            fetch_one as (Option<i64>, Option<i64>),
            "SELECT member_id, organization_id FROM invoices WHERE business_id = $1 AND membership_id = $2 AND number = $3",
            business.id,
            membership_id,
            number
        )?;
        let account = Account::from_columns(member_id, organization_id)
            .ok_or_else(|| Error::internal("an invoice without account"))?;
        let mut steps = Vec::new();
        let noted_past =
            matches!(last, Some((Standing::PastDue | Standing::Suspended, Some(n))) if n == number);
        if !noted_past {
            steps.push((
                past_since,
                BillingNote::PastDue {
                    invoice_number: number,
                },
            ));
        }
        if let Some(suspended_since) = overdue.suspended_since
            && !matches!(last, Some((Standing::Suspended, Some(n))) if n == number)
        {
            steps.push((
                suspended_since,
                BillingNote::Suspended {
                    invoice_number: number,
                },
            ));
        }
        for (on, note) in steps {
            crate::memberships::append_billing_note(
                &mut tx,
                business.id,
                membership_id,
                on,
                &note,
                now,
            )
            .await?;
            let text = Event::Billing {
                on,
                note: note.clone(),
            }
            .describe();
            let subject = match note {
                BillingNote::Suspended { .. } => "Your membership is suspended",
                _ => "Your payment is overdue",
            };
            mail(
                &mut tx,
                business,
                account,
                "dunning",
                subject,
                &format!(
                    "{text}.\n\nPay the balance at the front desk or update your card and the membership is restored at once.\n\n{}",
                    business.name
                ),
                None,
                Some(membership_id),
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The newest messages of the mail outbox (at most 200). Viewers and up.
pub async fn outbox(
    services: &Services,
    actor: &Actor,
) -> Result<Vec<domain::invoices::OutboxMessage>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
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
                    (None, Some(error)) if attempts >= crate::mail::MAX_ATTEMPTS => {
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
    let business = business::load(&mut tx, actor.business_id).await?;
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
            crate::memberships::holder_and_name(&mut tx, business.id, membership_id).await?;
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
    let business = business::load(&mut tx, actor.business_id).await?;
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
        unpaid.push(crate::billing::summary_of(&mut tx, business.id, id).await?);
    }
    tx.commit().await?;
    Ok(domain::invoices::AccountBilling {
        card,
        credit: Money::new(credit, business.currency),
        unpaid,
        can_take_payments: actor.role.allows(Role::FrontDesk),
    })
}
