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

mod mail;
mod payments;
mod standing;

pub(crate) use mail::{contacts, creditable, invoice_money, mail, receipt, with_credit};
pub(crate) use payments::{
    InvoiceRef, book_payment, card_of, insert_payment, invoice_ref, payment_by_key,
};
pub(crate) use standing::{
    Standing, after_settlement, last_standing_with_invoice, oldest_unpaid, oldest_unpaid_all,
    overdue_of,
};

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
    business: &Business,
    invoice_id: i64,
    amount: i64,
    source: Source,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let business_id = business.id;
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
    crate::store::memberships::reproject_invoice(tx, business, invoice_id, business.today_at(now))
        .await?;
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
            business,
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
