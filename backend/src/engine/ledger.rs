//! The account ledger: what an account (a member or an organization) owes,
//! paid and holds in credit. Invoices are settled here, payments booked,
//! receipts and invoice mails written, standings read for dunning.

use crate::platform::actor::Author;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;
use crate::store::business::Business;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Money;
use domain::invoices::InvoiceStatus;
use domain::lifecycle::{BillingNote, Event};
use domain::payments::{Method, Overdue, allocate};
use std::collections::HashMap;

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
    pub(crate) fn column(self) -> &'static str {
        match self {
            Account::Member(_) => "member_id",
            Account::Organization(_) => "organization_id",
        }
    }

    pub(crate) fn id(self) -> i64 {
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
pub(crate) async fn lock_account(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
) -> Result<(), Error> {
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
pub(crate) async fn require_account(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
) -> Result<(), Error> {
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
pub(crate) async fn dues(
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

pub(crate) enum Source {
    Payment(i64),
    Credit(i64),
}

pub(crate) async fn settle_invoice(
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
        crate::platform::events::emit(
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
pub(crate) async fn add_entry(
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
pub(crate) async fn book_payment(
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
    pub(crate) fn due(&self) -> i64 {
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

pub(crate) async fn payment_by_key(
    tx: &mut Tx,
    business_id: i64,
    key: &str,
) -> Result<Option<i64>, Error> {
    Ok(query!(
        tx,
        fetch_optional as (i64,),
        "SELECT id FROM payments WHERE business_id = $1 AND idempotency_key = $2",
        business_id,
        key
    )?
    .map(|(id,)| id))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_payment(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    invoice_id: i64,
    method: Method,
    amount: Money,
    outcome: Result<&str, &str>,
    key: &str,
    by: &Author,
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
        succeeded, today, reference, failure, key, &by.label, by.staff_user_id, now)?;
    Ok(id)
}

/// The card on file of an account: its id, token and label.
pub(crate) async fn card_of(
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

/// Timeline notes after invoices were (partly) settled: money received, and
/// "restored" when a past-due membership has nothing overdue any more.
pub(crate) async fn after_settlement(
    tx: &mut Tx,
    business: &Business,
    settled: &[(i64, Money)],
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut memberships = Vec::new();
    for (invoice_id, amount) in settled {
        let invoice = invoice_ref(tx, business.id, *invoice_id).await?;
        crate::store::memberships::append_billing_note(
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
            crate::store::memberships::append_billing_note(
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
pub(crate) enum Standing {
    PastDue,
    Suspended,
    Restored,
}

/// The last of past due / suspended / restored on the timeline, and the invoice it named.
pub(crate) async fn last_standing(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Option<Standing>, Error> {
    Ok(last_standing_with_invoice(tx, business_id, membership_id)
        .await?
        .map(|(s, _)| s))
}

pub(crate) async fn last_standing_with_invoice(
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
pub(crate) async fn oldest_unpaid(
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
pub(crate) async fn contact(
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

pub(crate) async fn receipt(
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

/// What may still be credited on an invoice: its total less earlier credit notes.
pub(crate) async fn creditable(tx: &mut Tx, invoice: &InvoiceRef) -> Result<i64, Error> {
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
