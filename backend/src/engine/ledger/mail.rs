//! An account's contact, its invoice and receipt mails, and what may still be
//! credited of an invoice.

use super::*;

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
