//! The billing run: for each membership, generate what is missing up to a
//! date and write it as invoices, one transaction per membership.
//!
//! Nothing here decides an amount: `domain::billing::generator` does. The
//! database protects the money: a line key is billed once (`seq` 0) and then
//! only corrected (`seq` 1, 2, ...), under a unique index, so a run that is
//! repeated, raced by another, or killed and restarted writes every line once.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::billing::charges::LineKind;
use domain::billing::generator::{BillingInput, CatalogType, IssuedLine, KeyedLine, generate};
use domain::invoices::{
    FormKeys, InvoiceLineView, InvoiceStatus, InvoiceSummary, InvoiceView, RunReport,
};
use domain::{Currency, Money};

use crate::business::{self, Business};
use crate::db::Tx;
use crate::error::Error;
use crate::memberships::{Stored, discount_of, load_membership, types};
use crate::payments::{self, Account};
use crate::{Services, query};

/// The invoice date of a missing line: its period's first day (so a run that
/// catches up bills each period on an invoice of its own), or the run's date
/// for corrections and lines without a period.
fn invoice_date(line: &KeyedLine, run_date: NaiveDate) -> Option<NaiveDate> {
    if line.line.kind == LineKind::Correction {
        return Some(run_date);
    }
    line.key
        .split(':')
        .nth(1)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| d.min(run_date))
}

/// What a membership should have been billed up to `date` and is not: the
/// generator's answer from its events and the lines already issued (credit
/// notes left out: they are a manager's, not the generator's).
pub(crate) async fn missing_lines(
    tx: &mut Tx,
    business: &Business,
    id: i64,
    date: NaiveDate,
) -> Result<(Stored, Vec<IssuedLine>, Vec<KeyedLine>), Error> {
    let stored = load_membership(tx, business.id, id).await?;
    let (issued, missing) = missing_with(tx, business, &stored, &stored.events, date).await?;
    Ok((stored, issued, missing))
}

/// What billing would write up to `date` if the membership's events were
/// `events`: the preview of an action runs the generator on a copy.
pub(crate) async fn missing_with(
    tx: &mut Tx,
    business: &Business,
    stored: &Stored,
    events: &[domain::lifecycle::Recorded],
    date: NaiveDate,
) -> Result<(Vec<IssuedLine>, Vec<KeyedLine>), Error> {
    let types = types(tx, business.id).await?;
    let catalog: Vec<CatalogType> = types
        .values()
        .map(|t| CatalogType {
            id: t.id,
            spec: &t.spec,
            prices: &t.prices,
        })
        .collect();
    let discount = discount_of(&stored.row)?;
    let input = BillingInput {
        catalog: &catalog,
        sold: (stored.row.membership_type_id, stored.row.price_id),
        events,
        discount: discount.as_ref(),
        credit_unused_on_cancel: business.credit_unused_on_cancel,
        currency: business.currency,
    };
    let issued: Vec<IssuedLine> = query!(tx, fetch_all as (String, i64),
        "SELECT line_key, amount_minor FROM invoice_lines WHERE business_id = $1 AND membership_id = $2 AND kind <> $3 ORDER BY id",
        business.id, stored.row.id, LineKind::CreditNote.as_str())?
    .into_iter()
    .map(|(key, minor)| IssuedLine {
        key,
        amount: Money::new(minor, business.currency),
    })
    .collect();
    let missing = generate(&input, &issued, date);
    Ok((issued, missing))
}

/// The charges of the next three billing dates after `today`, as the
/// generator will write them (pauses, free periods, discounts, family members
/// and scheduled changes included), grouped by billing date.
pub(crate) async fn upcoming(
    tx: &mut Tx,
    business: &Business,
    stored: &Stored,
    m: &domain::lifecycle::Membership<'_>,
    today: NaiveDate,
) -> Result<Vec<domain::memberships::UpcomingCharge>, Error> {
    let mut dates = Vec::new();
    let mut day = today;
    while dates.len() < 3 {
        match m.next_billing(day) {
            Some(next) => {
                dates.push(next);
                day = next;
            }
            None => break,
        }
    }
    let Some(up_to) = dates.last().copied() else {
        return Ok(Vec::new());
    };
    let (_, missing) = missing_with(tx, business, stored, &stored.events, up_to).await?;
    let mut groups: BTreeMap<NaiveDate, Vec<domain::billing::charges::Line>> = BTreeMap::new();
    for line in missing {
        if let Some(start) = line.line.period.map(|p| p.start).filter(|d| *d > today) {
            groups.entry(start).or_default().push(line.line);
        }
    }
    Ok(groups
        .into_iter()
        .map(|(date, lines)| domain::memberships::UpcomingCharge {
            date,
            total: domain::billing::charges::total(&lines, business.currency),
            lines,
        })
        .collect())
}

/// Bills one membership up to `date`; returns how many invoices it wrote.
pub async fn bill_membership(
    services: &Services,
    business: &Business,
    id: i64,
    date: NaiveDate,
) -> Result<usize, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let (stored, issued, missing) = missing_lines(&mut tx, business, id, date).await?;
    if missing.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let mut seq: HashMap<String, i64> = HashMap::new();
    for line in &issued {
        *seq.entry(line.key.clone()).or_default() += 1;
    }
    let mut groups: BTreeMap<NaiveDate, Vec<KeyedLine>> = BTreeMap::new();
    let mut undated = Vec::new();
    for line in missing {
        match invoice_date(&line, date) {
            Some(d) => groups.entry(d).or_default().push(line),
            None => undated.push(line),
        }
    }
    // The initiation fee goes on the first of the invoices.
    if !undated.is_empty() {
        let first = groups.keys().next().copied().unwrap_or(date);
        let group = groups.entry(first).or_default();
        for (i, line) in undated.into_iter().enumerate() {
            group.insert(i, line);
        }
    }
    let written = groups.len();
    let account = match (stored.row.payer.as_str(), stored.row.member_id) {
        ("organization", _) | (_, None) => stored.row.organization_id.map(Account::Organization),
        (_, Some(member)) => Some(Account::Member(member)),
    }
    .ok_or_else(|| Error::internal(format!("membership {id} has no one to bill")))?;
    for (billing_date, lines) in groups {
        match write_invoice(
            &mut tx,
            business,
            id,
            account,
            billing_date,
            &lines,
            &mut seq,
            now,
        )
        .await
        {
            Ok(()) => {}
            // Another run wrote these lines first: nothing is missing any more.
            Err(e) if e.is_unique_violation() => return Ok(0),
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(written)
}

#[allow(clippy::too_many_arguments)]
async fn write_invoice(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
    account: Account,
    billing_date: NaiveDate,
    lines: &[KeyedLine],
    seq: &mut HashMap<String, i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let total: i64 = lines.iter().map(|l| l.line.amount.minor).sum();
    let (number,) = query!(
        tx,
        fetch_one as (i64,),
        "UPDATE businesses SET next_invoice_number = next_invoice_number + 1 WHERE id = $1 RETURNING next_invoice_number - 1",
        business.id
    )?;
    // Nothing to pay on a credit or a zero invoice: it is settled as issued.
    let status = if total > 0 {
        InvoiceStatus::Open
    } else {
        InvoiceStatus::Paid
    };
    let (member_id, organization_id) = account.columns();
    let (invoice_id,) = query!(tx, fetch_one as (i64,),
        "INSERT INTO invoices (business_id, membership_id, number, billing_date, due_date, status, currency, total_minor,
                               created_at, member_id, organization_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        business.id, membership_id, number, billing_date, business.dunning.due_date(billing_date), status.as_str(),
        business.currency.code(), total, now, member_id, organization_id)?;
    for l in lines {
        let n = seq.entry(l.key.clone()).or_default();
        let (start, end) = match l.line.period {
            Some(p) => (Some(p.start), Some(p.end)),
            None => (None, None),
        };
        query!(tx, execute,
            "INSERT INTO invoice_lines (business_id, invoice_id, membership_id, line_key, seq, kind, description, period_start, period_end, amount_minor, explanation)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            business.id, invoice_id, membership_id, &l.key, *n, l.line.kind.as_str(), &l.line.description,
            start, end, l.line.amount.minor, &l.line.explanation)?;
        *n += 1;
    }
    invoice_mail(
        tx,
        business,
        account,
        invoice_id,
        number,
        membership_id,
        now,
    )
    .await?;
    payments::after_invoice(tx, business, account, invoice_id, total, now).await
}

/// Puts an invoice's message in the mail outbox.
async fn invoice_mail(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    invoice_id: i64,
    number: i64,
    membership_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let (total, due_date) = query!(
        tx,
        fetch_one as (i64, NaiveDate),
        "SELECT total_minor, due_date FROM invoices WHERE id = $1",
        invoice_id
    )?;
    let total = Money::new(total, business.currency);
    let body = if total.minor > 0 {
        format!("Invoice #{number} for {total} is due on {due_date}.")
    } else {
        format!(
            "Invoice #{number} credits {} to your account.",
            Money::new(-total.minor, total.currency)
        )
    };
    payments::mail(
        tx,
        business,
        account,
        "invoice",
        &format!("Invoice #{number} from {}", business.name),
        &format!("{body}\n\n{}", business.name),
        Some(invoice_id),
        Some(membership_id),
        now,
    )
    .await
}

/// Bills every membership of a business up to `date`. A membership that fails
/// is listed with its error and the run goes on.
pub async fn run_billing(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
) -> Result<RunReport, Error> {
    let (business, ids) = {
        let mut tx = services.db.begin_read().await?;
        let business = business::load(&mut tx, business_id).await?;
        let ids = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM memberships WHERE business_id = $1 ORDER BY id",
            business_id
        )?;
        tx.commit().await?;
        (business, ids)
    };
    let mut report = RunReport {
        memberships: ids.len(),
        ..RunReport::default()
    };
    for (id,) in ids {
        match bill_membership(services, &business, id, date).await {
            Ok(n) => report.invoices += n,
            Err(error) => {
                tracing::error!(membership = id, %error, "billing failed");
                report.failed.push((id, error.to_string()));
            }
        }
    }
    Ok(report)
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: i64,
    number: i64,
    billing_date: NaiveDate,
    due_date: NaiveDate,
    status: String,
    currency: String,
    total_minor: i64,
    amount_paid_minor: i64,
}

fn summary(r: InvoiceRow) -> Result<InvoiceSummary, Error> {
    let currency = Currency::from_code(&r.currency)
        .map_err(|_| Error::internal(format!("currency of invoice {}", r.id)))?;
    Ok(InvoiceSummary {
        id: r.id,
        number: r.number,
        billing_date: r.billing_date,
        due_date: r.due_date,
        status: InvoiceStatus::parse(&r.status)
            .ok_or_else(|| Error::internal(format!("status of invoice {}", r.id)))?,
        total: Money::new(r.total_minor, currency),
        amount_paid: Money::new(r.amount_paid_minor, currency),
    })
}

const INVOICE_COLUMNS: &str =
    "id, number, billing_date, due_date, status, currency, total_minor, amount_paid_minor";

/// One invoice with its lines and how each amount was reached, its
/// payments, refunds and credit notes. Viewers and up.
pub async fn invoice(
    services: &Services,
    actor: &crate::auth::Actor,
    id: i64,
) -> Result<InvoiceView, Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let summary = summary_of(&mut tx, business.id, id).await?;
    let (credit_note_for, memo, attempts, next_attempt_on) = query!(
        &mut tx,
        fetch_one as (Option<i64>, String, i64, Option<NaiveDate>),
        "SELECT credit_note_for, memo, attempts, next_attempt_on FROM invoices WHERE id = $1",
        id
    )?;
    let reference = payments::invoice_ref(&mut tx, business.id, id).await?;
    let membership_id = reference.membership_id;
    let currency = summary.total.currency;
    let lines = query!(
        &mut tx,
        fetch_all
            as (
                String,
                String,
                Option<NaiveDate>,
                Option<NaiveDate>,
                i64,
                String
            ),
        "SELECT kind, description, period_start, period_end, amount_minor, explanation
           FROM invoice_lines WHERE business_id = $1 AND invoice_id = $2 ORDER BY id",
        business.id,
        id
    )?
    .into_iter()
    .map(|(kind, description, start, end, minor, explanation)| {
        Ok(InvoiceLineView {
            kind: LineKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("line kind {kind:?}")))?,
            description,
            period: start.zip(end.and_then(|e| e.pred_opt())),
            amount: Money::new(minor, currency),
            explanation,
        })
    })
    .collect::<Result<Vec<_>, Error>>()?;
    let (holder, membership_name) =
        crate::memberships::holder_and_name(&mut tx, business.id, membership_id).await?;
    let account = reference.account()?;
    let account_name = match account {
        Account::Member(_) => holder.name.clone(),
        Account::Organization(org) => {
            query!(
                &mut tx,
                fetch_one as (String,),
                "SELECT name FROM organizations WHERE id = $1",
                org
            )?
            .0
        }
    };
    let money = payments::invoice_money(&mut tx, &business, &reference, credit_note_for).await?;
    tx.commit().await?;
    Ok(InvoiceView {
        summary,
        membership_id,
        membership_name,
        holder,
        account_name,
        account_href: account.href(),
        business_name: business.name,
        lines,
        memo,
        payments: money.payments,
        paid_from_credit: money.paid_from_credit,
        credit_note_for: money.credit_note_for,
        credit_notes: money.credit_notes,
        creditable: money.creditable,
        account_credit: money.account_credit,
        card: money.card,
        automatic_attempts: attempts,
        next_attempt_on,
        can_take_payments: actor.role.allows(domain::staff::Role::FrontDesk),
        can_manage: actor.role.allows(domain::staff::Role::Manager),
        keys: FormKeys {
            pay: payments::new_key(),
            charge: payments::new_key(),
            refund: payments::new_key(),
            credit: payments::new_key(),
        },
    })
}

/// The invoices of a membership, newest first.
pub(crate) async fn of_membership(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Vec<InvoiceSummary>, Error> {
    let sql = format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE business_id = $1 AND membership_id = $2 ORDER BY billing_date DESC, number DESC"
    );
    let rows = query!(
        tx,
        fetch_all as InvoiceRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        membership_id
    )?;
    rows.into_iter().map(summary).collect()
}

#[derive(sqlx::FromRow)]
struct ListRow {
    #[sqlx(flatten)]
    invoice: InvoiceRow,
    credit_note_for: Option<i64>,
    member_id: Option<i64>,
    organization_id: Option<i64>,
    account_name: String,
    type_name: String,
}

const LIST_LIMIT: i64 = 500;

/// Invoices of the business by status, billing dates and who is billed,
/// newest first (at most 500). Viewers and up.
pub async fn list_invoices(
    services: &Services,
    actor: &crate::auth::Actor,
    filter: &domain::invoices::InvoiceFilter,
) -> Result<Vec<domain::invoices::InvoiceListRow>, Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let q = filter.check()?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let who = format!("%{}%", q.who.replace(['%', '_'], ""));
    let number: Option<i64> = q.who.parse().ok();
    let rows = query!(&mut tx, fetch_all as ListRow,
        "SELECT i.id, i.number, i.billing_date, i.due_date, i.status, i.currency, i.total_minor, i.amount_paid_minor,
                i.credit_note_for, i.member_id, i.organization_id, t.name AS type_name,
                COALESCE(mb.first_name || ' ' || mb.last_name, o.name, '') AS account_name
           FROM invoices i
           JOIN memberships m ON m.id = i.membership_id
           JOIN membership_types t ON t.id = m.membership_type_id
           LEFT JOIN members mb ON mb.id = i.member_id
           LEFT JOIN organizations o ON o.id = i.organization_id
          WHERE i.business_id = $1
            AND ($2 = '' OR i.status = $2)
            AND ($3 = FALSE OR (i.status = 'open' AND i.total_minor > i.amount_paid_minor))
            AND ($4 = FALSE OR (i.status = 'open' AND i.total_minor > i.amount_paid_minor AND i.due_date < $5))
            AND ($6 IS NULL OR i.billing_date >= $6)
            AND ($7 IS NULL OR i.billing_date <= $7)
            AND ($8 = '%%' OR LOWER(mb.first_name || ' ' || mb.last_name) LIKE $8 OR LOWER(o.name) LIKE $8
                 OR mb.member_number = $9)
          ORDER BY i.billing_date DESC, i.number DESC
          LIMIT $10",
        business.id, q.status.map(|s| s.as_str()).unwrap_or(""), q.unpaid, q.overdue, today,
        q.from, q.to, who, number, LIST_LIMIT)?;
    tx.commit().await?;
    rows.into_iter()
        .map(|r| {
            let account = Account::from_columns(r.member_id, r.organization_id);
            Ok(domain::invoices::InvoiceListRow {
                credit_note: r.credit_note_for.is_some(),
                account_name: r.account_name,
                account_href: account.map(|a| a.href()).unwrap_or_default(),
                membership_name: r.type_name,
                summary: summary(r.invoice)?,
            })
        })
        .collect()
}

/// Puts the invoice's message in the mail outbox again. Front desk and up.
pub async fn resend_invoice(
    services: &Services,
    actor: &crate::auth::Actor,
    id: i64,
) -> Result<(), Error> {
    actor.require(domain::staff::Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let invoice = payments::invoice_ref(&mut tx, business.id, id).await?;
    invoice_mail(
        &mut tx,
        &business,
        invoice.account()?,
        id,
        invoice.number,
        invoice.membership_id,
        now,
    )
    .await?;
    crate::audit::by_staff(
        &mut tx,
        actor,
        "invoice.resent",
        "invoice",
        Some(id),
        &format!("invoice #{}", invoice.number),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One invoice's summary.
pub(crate) async fn summary_of(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<InvoiceSummary, Error> {
    let sql = format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE business_id = $1 AND id = $2");
    let row = query!(
        tx,
        fetch_optional as InvoiceRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        id
    )?
    .ok_or(Error::NotFound)?;
    summary(row)
}
