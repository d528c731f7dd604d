//! The billing run: for each membership, generate what is missing up to a
//! date and write it as invoices, in batches of memberships, one transaction
//! per batch.
//!
//! Nothing here decides an amount: `domain::billing::generator` does. The
//! database protects the money: a line key is billed once (`seq` 0) and then
//! only corrected (`seq` 1, 2, ...), under a unique index, so a run that is
//! repeated, raced by another, or killed and restarted writes every line once.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::billing::charges::LineKind;
use domain::billing::generator::{
    BillingInput, CatalogType, IssuedLine, KeyedLine, generate_dated, key_period,
};
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

/// A missing line and, when it changes a period already billed, the day the
/// change takes effect (see `generate_dated`).
pub(crate) type Dated = (KeyedLine, Option<NaiveDate>);

/// The invoice date of a missing line: its period's first day for a period
/// billed for the first time (so a run that catches up bills each period on
/// an invoice of its own); the run's date for the lines of a change and lines
/// without a period.
fn invoice_date((line, change): &Dated, run_date: NaiveDate) -> Option<NaiveDate> {
    if change.is_some() {
        return Some(run_date);
    }
    key_period(&line.key).map(|d| d.min(run_date))
}

/// The missing lines that may be billed by `up_to`: a change waits for the
/// day it takes effect, so changes that cancel out before then never bill.
fn due_by(dated: Vec<Dated>, up_to: NaiveDate) -> Vec<Dated> {
    dated
        .into_iter()
        .filter(|(_, on)| on.is_none_or(|on| on <= up_to))
        .collect()
}

/// What a membership should have been billed up to `date` and is not: the
/// generator's answer from its events and the lines already issued (credit
/// notes left out: they are a manager's, not the generator's).
pub(crate) async fn missing_lines(
    tx: &mut Tx,
    business: &Business,
    id: i64,
    date: NaiveDate,
) -> Result<(Stored, Vec<IssuedLine>, Vec<Dated>), Error> {
    let stored = load_membership(tx, business.id, id).await?;
    let (issued, missing) = missing_dated(tx, business, &stored, &stored.events, date).await?;
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
    let (issued, dated) = missing_dated(tx, business, stored, events, date).await?;
    Ok((issued, dated.into_iter().map(|(line, _)| line).collect()))
}

/// [`missing_with`], each line with the day its change takes effect.
async fn missing_dated(
    tx: &mut Tx,
    business: &Business,
    stored: &Stored,
    events: &[domain::lifecycle::Recorded],
    date: NaiveDate,
) -> Result<(Vec<IssuedLine>, Vec<Dated>), Error> {
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
        "SELECT line_key, amount_minor FROM invoice_lines WHERE business_id = $1 AND membership_id = $2 AND kind NOT IN ($3, $4) ORDER BY id",
        business.id, stored.row.id, LineKind::CreditNote.as_str(), LineKind::Fee.as_str())?
    .into_iter()
    .map(|(key, minor)| IssuedLine {
        key,
        amount: Money::new(minor, business.currency),
    })
    .collect();
    let (latest,) = query!(
        tx,
        fetch_one as (Option<NaiveDate>,),
        "SELECT MAX(billing_date) FROM invoices WHERE business_id = $1 AND membership_id = $2 AND credit_note_for IS NULL",
        business.id,
        stored.row.id
    )?;
    let up_to = not_before(date, latest);
    let missing = due_by(generate_dated(&input, &issued, up_to), up_to);
    Ok((issued, missing))
}

/// The date billing runs up to: `date`, or the latest date the membership
/// was already billed on when that is later. A run for an earlier date (the
/// simulated clock moved back, `server bill --date` behind the business, a
/// server started on an older day) finds what was billed ahead already
/// billed, and takes nothing back.
fn not_before(date: NaiveDate, latest_billed: Option<NaiveDate>) -> NaiveDate {
    latest_billed.map_or(date, |latest| latest.max(date))
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
    let mut undated = Vec::new();
    for line in missing {
        match line.line.period.map(|p| p.start) {
            Some(start) if start > today => groups.entry(start).or_default().push(line.line),
            Some(_) => {}
            // An initiation fee not billed yet goes on the first invoice, as billing will.
            None if line.line.kind != LineKind::Correction => undated.push(line.line),
            None => {}
        }
    }
    if let Some(first) = groups.values_mut().next() {
        for (i, line) in undated.into_iter().enumerate() {
            first.insert(i, line);
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

/// An invoice about to be written: one membership's missing lines for one
/// billing date, each with its `seq` under its key.
struct Planned {
    membership_id: i64,
    account: Account,
    billing_date: NaiveDate,
    lines: Vec<(KeyedLine, i64)>,
    /// The first day of a period billed before that this invoice changes: a
    /// net credit is written as a credit note for the invoice that billed it.
    changes: Option<NaiveDate>,
}

impl Planned {
    fn total(&self) -> i64 {
        self.lines.iter().map(|(l, _)| l.line.amount.minor).sum()
    }
}

/// Who a membership's invoices are addressed to.
fn account_of(row: &crate::memberships::MembershipRow) -> Result<Account, Error> {
    match (row.payer.as_str(), row.member_id) {
        ("organization", _) | (_, None) => row.organization_id.map(Account::Organization),
        (_, Some(member)) => Some(Account::Member(member)),
    }
    .ok_or_else(|| Error::internal(format!("membership {} has no one to bill", row.id)))
}

/// Groups a membership's missing lines into invoices: one per period billed
/// for the first time, on its first day; the lines of changes together on
/// one invoice of the run's date (the same invoice as a period starting that
/// day); the initiation fee on the first.
fn plan(
    stored: &Stored,
    issued: &[IssuedLine],
    missing: Vec<Dated>,
    date: NaiveDate,
) -> Result<Vec<Planned>, Error> {
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let account = account_of(&stored.row)?;
    let mut seq: HashMap<&str, i64> = HashMap::new();
    for line in issued {
        *seq.entry(line.key.as_str()).or_default() += 1;
    }
    let mut groups: BTreeMap<NaiveDate, Vec<KeyedLine>> = BTreeMap::new();
    let mut changes: BTreeMap<NaiveDate, NaiveDate> = BTreeMap::new();
    let mut undated = Vec::new();
    for dated in missing {
        match invoice_date(&dated, date) {
            Some(d) => {
                if let (Some(_), Some(period)) = (dated.1, key_period(&dated.0.key)) {
                    changes.entry(d).or_insert(period);
                }
                groups.entry(d).or_default().push(dated.0)
            }
            None => undated.push(dated.0),
        }
    }
    if !undated.is_empty() {
        let first = groups.keys().next().copied().unwrap_or(date);
        let group = groups.entry(first).or_default();
        for (i, line) in undated.into_iter().enumerate() {
            group.insert(i, line);
        }
    }
    let mut next: HashMap<String, i64> = HashMap::new();
    Ok(groups
        .into_iter()
        .map(|(billing_date, lines)| Planned {
            membership_id: stored.row.id,
            account,
            billing_date,
            changes: changes.remove(&billing_date),
            lines: lines
                .into_iter()
                .map(|l| {
                    let n = next
                        .entry(l.key.clone())
                        .or_insert_with(|| seq.get(l.key.as_str()).copied().unwrap_or(0));
                    let this = *n;
                    *n += 1;
                    (l, this)
                })
                .collect(),
        })
        .collect())
}

/// Writes an invoice of fee lines (a booking paid with money, a late
/// cancellation) for a membership's account, in the caller's transaction.
/// Each line's key is unique for the membership, so a retry writes nothing;
/// returns the invoice's id (`None` when written before).
pub(crate) async fn write_fee_invoice(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
    date: NaiveDate,
    lines: Vec<(String, domain::billing::charges::Line)>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<i64>, Error> {
    let stored = load_membership(tx, business.id, membership_id).await?;
    let first_key = lines.first().map(|(k, _)| k.clone()).unwrap_or_default();
    let (done,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM invoice_lines WHERE membership_id = $1 AND line_key = $2",
        membership_id,
        &first_key
    )?;
    if done > 0 {
        return Ok(None);
    }
    let planned = Planned {
        membership_id,
        account: account_of(&stored.row)?,
        billing_date: date,
        lines: lines
            .into_iter()
            .map(|(key, line)| (KeyedLine { key, line }, 0))
            .collect(),
        changes: None,
    };
    write_planned(tx, business, std::slice::from_ref(&planned), now).await?;
    let (id,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT invoice_id FROM invoice_lines WHERE membership_id = $1 AND line_key = $2",
        membership_id,
        &first_key
    )?;
    Ok(Some(id))
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
    let planned = plan(&stored, &issued, missing, date)?;
    match write_planned(&mut tx, business, &planned, now).await {
        Ok(written) => {
            tx.commit().await?;
            Ok(written)
        }
        // Another run wrote these lines first: nothing is missing any more.
        Err(e) if e.is_unique_violation() => Ok(0),
        Err(e) => Err(e),
    }
}

/// Writes planned invoices: numbers from the business's counter (in this
/// transaction, so they have no gaps), invoices, lines and their mails in
/// multi-row inserts; then credit an account holds settles its new invoices.
async fn write_planned(
    tx: &mut Tx,
    business: &Business,
    planned: &[Planned],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, Error> {
    if planned.is_empty() {
        return Ok(0);
    }
    // A change that nets a credit is a credit note for the period's invoice.
    let mut credit_note_for = Vec::new();
    for p in planned {
        let corrected = match p.changes {
            Some(period) if p.total() < 0 => query!(
                tx,
                fetch_optional as (i64,),
                "SELECT invoice_id FROM invoice_lines WHERE business_id = $1 AND membership_id = $2 AND seq = 0 AND line_key LIKE $3 ORDER BY id LIMIT 1",
                business.id,
                p.membership_id,
                format!("%:{period}%")
            )?
            .map(|(id,)| id),
            _ => None,
        };
        credit_note_for.push(corrected);
    }
    let count = planned.len() as i64;
    let (first,) = query!(
        tx,
        fetch_one as (i64,),
        "UPDATE businesses SET next_invoice_number = next_invoice_number + $2 WHERE id = $1 RETURNING next_invoice_number - $2",
        business.id,
        count
    )?;
    let currency = business.currency.code();
    crate::insert_rows!(
        tx,
        "INSERT INTO invoices (business_id, membership_id, number, billing_date, due_date, status, currency, total_minor, created_at, member_id, organization_id, credit_note_for) ",
        planned.iter().enumerate().collect::<Vec<_>>(),
        12,
        |b, item| {
            let (i, p) = item;
            let total = p.total();
            // Nothing to pay on a credit or a zero invoice: settled as issued.
            let status = if total > 0 {
                InvoiceStatus::Open
            } else {
                InvoiceStatus::Paid
            };
            let (member_id, organization_id) = p.account.columns();
            b.push_bind(business.id)
                .push_bind(p.membership_id)
                .push_bind(first + *i as i64)
                .push_bind(p.billing_date)
                .push_bind(business.dunning.due_date(p.billing_date))
                .push_bind(status.as_str())
                .push_bind(currency)
                .push_bind(total)
                .push_bind(now)
                .push_bind(member_id)
                .push_bind(organization_id)
                .push_bind(credit_note_for[*i]);
        }
    );
    let ids: HashMap<i64, i64> = query!(
        tx,
        fetch_all as (i64, i64),
        "SELECT number, id FROM invoices WHERE business_id = $1 AND number BETWEEN $2 AND $3",
        business.id,
        first,
        first + count - 1
    )?
    .into_iter()
    .collect();
    let invoice_id = |i: usize| {
        ids.get(&(first + i as i64))
            .copied()
            .ok_or_else(|| Error::internal("an invoice just written is missing"))
    };
    let mut lines = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        let id = invoice_id(i)?;
        for (l, seq) in &p.lines {
            lines.push((id, p.membership_id, l, *seq));
        }
    }
    crate::insert_rows!(
        tx,
        "INSERT INTO invoice_lines (business_id, invoice_id, membership_id, line_key, seq, kind, description, period_start, period_end, amount_minor, explanation) ",
        lines,
        11,
        |b, item| {
            let (invoice_id, membership_id, l, seq) = item;
            b.push_bind(business.id)
                .push_bind(*invoice_id)
                .push_bind(*membership_id)
                .push_bind(l.key.as_str())
                .push_bind(*seq)
                .push_bind(l.line.kind.as_str())
                .push_bind(l.line.description.as_str())
                .push_bind(l.line.period.map(|p| p.start))
                .push_bind(l.line.period.map(|p| p.end))
                .push_bind(l.line.amount.minor)
                .push_bind(l.line.explanation.as_str());
        }
    );
    let accounts: Vec<Account> = planned.iter().map(|p| p.account).collect();
    let holding = payments::with_credit(tx, business.id, &accounts).await?;
    for (i, p) in planned.iter().enumerate() {
        let total = p.total();
        if total < 0 || holding.contains(&p.account) {
            payments::after_invoice(tx, business, p.account, invoice_id(i)?, total, now).await?;
        }
    }
    let contacts = payments::contacts(tx, business.id, &accounts).await?;
    let mut mails = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        if p.changes.is_some() && !change_needs_notice(tx, business, p, invoice_id(i)?).await? {
            continue;
        }
        let (to, name) = contacts
            .get(&p.account)
            .ok_or_else(|| Error::internal(format!("no contact for {:?}", p.account)))?;
        let (subject, body) = invoice_text(
            business,
            first + i as i64,
            Money::new(p.total(), business.currency),
            business.dunning.due_date(p.billing_date),
        );
        mails.push((
            to.as_str(),
            subject,
            format!("Hello {name},\n\n{body}"),
            invoice_id(i)?,
            p.membership_id,
        ));
    }
    crate::insert_rows!(
        tx,
        "INSERT INTO outbox (business_id, to_address, subject, body, kind, invoice_id, membership_id, created_at) ",
        mails,
        8,
        |b, m| {
            b.push_bind(business.id)
                .push_bind(m.0)
                .push_bind(m.1.as_str())
                .push_bind(m.2.as_str())
                .push_bind("invoice")
                .push_bind(m.3)
                .push_bind(m.4)
                .push_bind(now);
        }
    );
    Ok(planned.len())
}

/// Whether the invoice of a change is mailed: one notice per member a day.
/// A change that nets to nothing is not mailed; a later change of the same
/// day is mailed only when it leaves something to pay (a credit, or a charge
/// the account's credit settled, shows on the portal without a second mail).
async fn change_needs_notice(
    tx: &mut Tx,
    business: &Business,
    p: &Planned,
    invoice_id: i64,
) -> Result<bool, Error> {
    if p.total() == 0 {
        return Ok(false);
    }
    let (member_id, organization_id) = p.account.columns();
    let (earlier,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM outbox o JOIN invoices i ON i.id = o.invoice_id
          WHERE o.business_id = $1 AND o.kind = 'invoice' AND i.billing_date = $2
            AND (i.member_id = $3 OR i.organization_id = $4)",
        business.id,
        p.billing_date,
        member_id,
        organization_id
    )?;
    if earlier == 0 {
        return Ok(true);
    }
    let (status,) = query!(
        tx,
        fetch_one as (String,),
        "SELECT status FROM invoices WHERE id = $1",
        invoice_id
    )?;
    Ok(status == InvoiceStatus::Open.as_str())
}

/// The subject and body of an invoice's mail.
fn invoice_text(
    business: &Business,
    number: i64,
    total: Money,
    due_date: NaiveDate,
) -> (String, String) {
    let (what, body) = if total.minor > 0 {
        (
            "Invoice",
            format!("Invoice #{number} for {total} is due on {due_date}."),
        )
    } else {
        (
            "Credit note",
            format!(
                "Credit note #{number} credits {} to your account; it pays your next invoices.",
                Money::new(-total.minor, total.currency)
            ),
        )
    };
    (
        format!("{what} #{number} from {}", business.name),
        format!("{body}\n\n{}", business.name),
    )
}

/// Puts an invoice's message in the mail outbox (again).
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
    let (subject, body) = invoice_text(
        business,
        number,
        Money::new(total, business.currency),
        due_date,
    );
    payments::mail(
        tx,
        business,
        account,
        "invoice",
        &subject,
        &body,
        Some(invoice_id),
        Some(membership_id),
        now,
    )
    .await
}

/// How many memberships a run bills in one transaction.
pub const BATCH: i64 = 500;

/// Who started an automatic run when no one did: the scheduler's daily work.
pub const SCHEDULER: &str = "the scheduler";

/// Bills every membership of a business up to `date` as the scheduler's day's
/// work (see [`run_billing_as`]).
pub async fn run_billing(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
) -> Result<RunReport, Error> {
    run_billing_as(services, business_id, date, SCHEDULER).await
}

/// Bills every membership of a business up to `date` as the day's work of
/// `started_by` (the scheduler, or the owner who moved the clock). A
/// membership that fails is listed with its error and the run goes on. The
/// run stays on the billing-runs page only when it did something (wrote an
/// invoice or met a failure): the scheduler looks every minute, and its empty
/// rounds would bury the runs people started.
pub async fn run_billing_as(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
) -> Result<RunReport, Error> {
    let run_id = begin_run(services, business_id, date, started_by).await?;
    let report = continue_run(services, business_id, run_id, date, BATCH, &|_| {}).await?;
    if report.invoices == 0 && report.failed.is_empty() {
        let mut tx = services.db.begin_write().await?;
        query!(
            &mut tx,
            execute,
            "DELETE FROM billing_runs WHERE id = $1",
            run_id
        )?;
        tx.commit().await?;
    }
    Ok(report)
}

/// How far a run is: told to `progress` after every batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub invoices: usize,
    pub failed: usize,
}

/// How long a billing run may go without a heartbeat (one after every batch)
/// before it counts as interrupted: shown so, and no longer blocking a new run.
pub const RUN_LEASE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// A billing run, recorded in `billing_runs` with its progress. Memberships
/// are billed in batches, each in one transaction with the catalog loaded
/// once; a batch that fails (a membership with bad data, or lines another
/// run wrote first) is billed again one membership at a time, so one failure
/// never stops the run and the unique line keys still decide every race.
pub async fn run_billing_with(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
    batch: i64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunReport, Error> {
    let run_id = begin_run(services, business_id, date, started_by).await?;
    continue_run(services, business_id, run_id, date, batch, progress).await
}

/// Records a run about to start and returns its id.
async fn begin_run(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
) -> Result<i64, Error> {
    let mut tx = services.db.begin_write().await?;
    let run_id = insert_run(&mut tx, business_id, date, started_by, services.clock.now()).await?;
    tx.commit().await?;
    Ok(run_id)
}

/// The row of a run about to start, its first heartbeat at its start.
async fn insert_run(
    tx: &mut Tx,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Error> {
    let (total,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM memberships WHERE business_id = $1",
        business_id
    )?;
    let (run_id,) = query!(
        tx,
        fetch_one as (i64,),
        "INSERT INTO billing_runs (business_id, run_date, started_by, started_at, heartbeat_at, total) VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
        business_id,
        date,
        started_by,
        now,
        total
    )?;
    Ok(run_id)
}

async fn continue_run(
    services: &Services,
    business_id: i64,
    run_id: i64,
    date: NaiveDate,
    batch: i64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunReport, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, business_id).await?;
    let (total,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT total FROM billing_runs WHERE id = $1",
        run_id
    )?;
    let types = types(&mut tx, business_id).await?;
    tx.commit().await?;
    let catalog: Vec<CatalogType> = types
        .values()
        .map(|t| CatalogType {
            id: t.id,
            spec: &t.spec,
            prices: &t.prices,
        })
        .collect();
    let mut p = Progress {
        total: total as usize,
        ..Progress::default()
    };
    let mut failures: Vec<(i64, String)> = Vec::new();
    let mut after = 0i64;
    loop {
        let mut tx = services.db.begin_write().await?;
        let ids: Vec<i64> = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM memberships WHERE business_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            business_id,
            after,
            batch.max(1)
        )?
        .into_iter()
        .map(|(id,)| id)
        .collect();
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
            break;
        };
        let attempt = async {
            let batch = crate::memberships::load_batch(&mut tx, business_id, first, last).await?;
            bill_batch(&mut tx, &business, &catalog, &batch, date, now).await
        }
        .await;
        let (mut tx, invoices, new_failures) = match attempt {
            Ok(written) => (tx, written, Vec::new()),
            Err(error) => {
                tracing::debug!(%error, "a billing batch failed; billing it one by one");
                drop(tx);
                let mut invoices = 0;
                let mut failed = Vec::new();
                for &id in &ids {
                    match bill_membership(services, &business, id, date).await {
                        Ok(n) => invoices += n,
                        Err(error) => {
                            tracing::error!(membership = id, %error, "billing failed");
                            failed.push((id, error.for_people()));
                        }
                    }
                }
                (services.db.begin_write().await?, invoices, failed)
            }
        };
        p.done += ids.len();
        p.invoices += invoices;
        p.failed += new_failures.len();
        failures.extend(new_failures);
        let failures_json = serde_json::to_string(&failures)
            .map_err(|e| Error::internal(format!("failures of run {run_id}: {e}")))?;
        query!(
            &mut tx,
            execute,
            "UPDATE billing_runs SET done = $2, invoices = $3, failed = $4, failures = $5, heartbeat_at = $6 WHERE id = $1",
            run_id,
            p.done as i64,
            p.invoices as i64,
            p.failed as i64,
            failures_json,
            services.clock.now()
        )?;
        tx.commit().await?;
        progress(&p);
        after = last;
    }
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "UPDATE billing_runs SET finished_at = $2 WHERE id = $1",
        run_id,
        services.clock.now()
    )?;
    tx.commit().await?;
    Ok(RunReport {
        memberships: p.total,
        invoices: p.invoices,
        failed: failures,
    })
}

/// Revenue billed, recognised and deferred per month and revenue account
/// (the account of the type the membership was sold as). Voided invoices are
/// left out. Viewers and up.
pub async fn revenue_report(
    services: &Services,
    actor: &crate::auth::Actor,
    filter: &domain::invoices::RevenueFilter,
) -> Result<domain::invoices::RevenueReport, Error> {
    use domain::billing::revenue::{BilledLine, report};
    actor.require(domain::staff::Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let (from, to) = filter.parse(services.today(&business))?;
    let types = types(&mut tx, business.id).await?;
    let rows = query!(&mut tx, fetch_all as (i64, i64, Option<NaiveDate>, Option<NaiveDate>, NaiveDate),
        "SELECT m.membership_type_id, l.amount_minor, l.period_start, l.period_end, i.billing_date
           FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id JOIN memberships m ON m.id = l.membership_id
          WHERE l.business_id = $1 AND i.status <> 'void' AND i.billing_date <= $2
            AND (i.billing_date >= $3 OR l.period_end > $3)",
        business.id, to.last_day(), from.first_day())?;
    tx.commit().await?;
    let lines: Vec<BilledLine> = rows
        .into_iter()
        .map(|(type_id, minor, start, end, billed_on)| {
            let spec = types.get(&type_id).map(|t| &t.spec);
            BilledLine {
                account: spec.map(|s| s.revenue_account.clone()).unwrap_or_default(),
                deferred: spec.is_some_and(|s| s.deferred_revenue),
                billed_on,
                period: start
                    .zip(end)
                    .map(|(start, end)| domain::billing::BillingPeriod { start, end }),
                amount: Money::new(minor, business.currency),
            }
        })
        .collect();
    Ok(domain::invoices::RevenueReport {
        from,
        to,
        rows: report(&lines, from, to, business.currency),
    })
}

/// The last 20 runs of the business, newest first. Front desk and up.
pub async fn runs(
    services: &Services,
    actor: &crate::auth::Actor,
) -> Result<domain::invoices::BillingRuns, Error> {
    actor.require(domain::staff::Role::FrontDesk)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    type Row = (
        i64,
        NaiveDate,
        String,
        chrono::DateTime<chrono::Utc>,
        Option<chrono::DateTime<chrono::Utc>>,
        i64,
        i64,
        i64,
        i64,
        String,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let rows = query!(&mut tx, fetch_all as Row,
        "SELECT id, run_date, started_by, started_at, finished_at, total, done, invoices, failed, failures, heartbeat_at
           FROM billing_runs WHERE business_id = $1 ORDER BY id DESC LIMIT 20",
        business.id)?;
    tx.commit().await?;
    let now = services.clock.now();
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&business.time_zone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let runs = rows
        .into_iter()
        .map(
            |(
                id,
                run_date,
                started_by,
                started_at,
                finished_at,
                total,
                done,
                invoices,
                failed,
                failures,
                heartbeat_at,
            )| {
                Ok(domain::invoices::BillingRunView {
                    id,
                    run_date,
                    started_by,
                    started_at: local(started_at),
                    finished_at: finished_at.map(local),
                    total,
                    done,
                    invoices,
                    failed,
                    failures: serde_json::from_str(&failures)
                        .map_err(|e| Error::internal(format!("failures of run {id}: {e}")))?,
                    interrupted: finished_at.is_none()
                        && now - heartbeat_at.unwrap_or(started_at) > RUN_LEASE,
                })
            },
        )
        .collect::<Result<_, Error>>()?;
    Ok(domain::invoices::BillingRuns {
        today: services.today(&business),
        can_start: actor.role.allows(domain::staff::Role::Manager),
        runs,
    })
}

/// Starts a billing run up to the business's today in the background; its
/// progress shows on the billing-runs page. Managers and owners.
pub async fn start_run(services: &Services, actor: &crate::auth::Actor) -> Result<(), Error> {
    actor.require(domain::staff::Role::Manager)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let name = actor.name(&mut tx).await?;
    tx.commit().await?;
    let date = services.today(&business);
    let now = services.clock.now();
    // The check and the new run's row in one write transaction: two managers
    // starting at once start one run.
    let mut tx = services.db.begin_write().await?;
    crate::db::serialize_on(&mut tx, &format!("billing-run:{}", business.id)).await?;
    let running = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM billing_runs WHERE business_id = $1 AND finished_at IS NULL AND COALESCE(heartbeat_at, started_at) > $2",
        business.id,
        now - RUN_LEASE
    )?;
    if running.is_some() {
        return Err(Error::Conflict(
            "A billing run is already in progress: its progress is shown below.".into(),
        ));
    }
    let run_id = insert_run(&mut tx, business.id, date, &name, now).await?;
    tx.commit().await?;
    let services = services.clone();
    let business_id = business.id;
    tokio::spawn(async move {
        if let Err(error) = continue_run(&services, business_id, run_id, date, BATCH, &|_| {}).await
        {
            tracing::error!(business = business_id, %error, "billing run failed");
        }
    });
    Ok(())
}

/// Generates and writes what a batch of memberships is missing, in the
/// caller's transaction.
async fn bill_batch(
    tx: &mut Tx,
    business: &Business,
    catalog: &[CatalogType<'_>],
    batch: &[Stored],
    date: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, Error> {
    let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
        return Ok(0);
    };
    let mut issued: HashMap<i64, Vec<IssuedLine>> = HashMap::new();
    for (membership_id, key, minor) in query!(
        tx,
        fetch_all as (i64, String, i64),
        "SELECT membership_id, line_key, amount_minor FROM invoice_lines
          WHERE business_id = $1 AND membership_id BETWEEN $2 AND $3 AND kind NOT IN ($4, $5) ORDER BY id",
        business.id,
        first.row.id,
        last.row.id,
        LineKind::CreditNote.as_str(),
        LineKind::Fee.as_str()
    )? {
        issued.entry(membership_id).or_default().push(IssuedLine {
            key,
            amount: Money::new(minor, business.currency),
        });
    }
    let latest: HashMap<i64, NaiveDate> = query!(
        tx,
        fetch_all as (i64, NaiveDate),
        "SELECT membership_id, MAX(billing_date) FROM invoices
          WHERE business_id = $1 AND membership_id BETWEEN $2 AND $3 AND credit_note_for IS NULL
          GROUP BY membership_id",
        business.id,
        first.row.id,
        last.row.id
    )?
    .into_iter()
    .collect();
    let mut planned = Vec::new();
    for stored in batch {
        let up_to = not_before(date, latest.get(&stored.row.id).copied());
        let discount = discount_of(&stored.row)?;
        let input = BillingInput {
            catalog,
            sold: (stored.row.membership_type_id, stored.row.price_id),
            events: &stored.events,
            discount: discount.as_ref(),
            credit_unused_on_cancel: business.credit_unused_on_cancel,
            currency: business.currency,
        };
        let issued = issued.remove(&stored.row.id).unwrap_or_default();
        let missing = due_by(generate_dated(&input, &issued, up_to), up_to);
        planned.extend(plan(stored, &issued, missing, date)?);
    }
    write_planned(tx, business, &planned, now).await
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
    refunded_minor: i64,
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
        refunded: Money::new(r.refunded_minor, currency),
    })
}

/// What refunds gave back of an invoice, for `invoices` named `i`.
pub(crate) const REFUNDED: &str = "CAST(COALESCE((SELECT SUM(ra.amount_minor) FROM refund_allocations ra WHERE ra.invoice_id = i.id), 0) AS BIGINT) AS refunded_minor";

const INVOICE_COLUMNS: &str = "i.id, i.number, i.billing_date, i.due_date, i.status, i.currency, i.total_minor, i.amount_paid_minor";

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
    let view = invoice_view(
        &mut tx,
        business,
        id,
        actor.role.allows(domain::staff::Role::FrontDesk),
        actor.role.allows(domain::staff::Role::Manager),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// An invoice as its page shows it, for whoever may see it.
pub(crate) async fn invoice_view(
    tx: &mut Tx,
    business: Business,
    id: i64,
    can_take_payments: bool,
    can_manage: bool,
) -> Result<InvoiceView, Error> {
    let summary = summary_of(tx, business.id, id).await?;
    let (credit_note_for, memo, attempts, next_attempt_on) = query!(
        tx,
        fetch_one as (Option<i64>, String, i64, Option<NaiveDate>),
        "SELECT credit_note_for, memo, attempts, next_attempt_on FROM invoices WHERE id = $1",
        id
    )?;
    let reference = payments::invoice_ref(tx, business.id, id).await?;
    let membership_id = reference.membership_id;
    let currency = summary.total.currency;
    let lines = query!(
        tx,
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
        crate::memberships::holder_and_name(tx, business.id, membership_id).await?;
    let account = reference.account()?;
    let account_name = match account {
        Account::Member(_) => holder.name.clone(),
        Account::Organization(org) => {
            query!(
                tx,
                fetch_one as (String,),
                "SELECT name FROM organizations WHERE id = $1",
                org
            )?
            .0
        }
    };
    let money = payments::invoice_money(tx, &business, &reference, credit_note_for).await?;
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
        can_take_payments,
        can_manage,
        keys: FormKeys {
            pay: payments::new_key(),
            charge: payments::new_key(),
            refund: payments::new_key(),
            credit: payments::new_key(),
        },
    })
}

/// The invoices billed to a member, newest first (at most 500).
pub(crate) async fn of_member(
    tx: &mut Tx,
    business_id: i64,
    member_id: i64,
) -> Result<Vec<InvoiceSummary>, Error> {
    let sql = format!(
        "SELECT {INVOICE_COLUMNS}, {REFUNDED} FROM invoices i WHERE business_id = $1 AND member_id = $2 AND status <> 'draft'
          ORDER BY billing_date DESC, number DESC LIMIT 500"
    );
    let rows = query!(
        tx,
        fetch_all as InvoiceRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        member_id
    )?;
    rows.into_iter().map(summary).collect()
}

/// The invoices of a membership, newest first.
pub(crate) async fn of_membership(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Vec<InvoiceSummary>, Error> {
    let sql = format!(
        "SELECT {INVOICE_COLUMNS}, {REFUNDED} FROM invoices i WHERE business_id = $1 AND membership_id = $2 ORDER BY billing_date DESC, number DESC"
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
        sqlx::AssertSqlSafe(format!("SELECT {INVOICE_COLUMNS}, {REFUNDED},
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
          LIMIT $10")),
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
    let sql = format!(
        "SELECT {INVOICE_COLUMNS}, {REFUNDED} FROM invoices i WHERE business_id = $1 AND id = $2"
    );
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

/// The API's invoice list filters, combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvoiceListFilter {
    pub status: Option<domain::invoices::InvoiceStatus>,
    /// The billed member.
    pub member_id: Option<i64>,
    pub membership_id: Option<i64>,
    /// Billing dates from and to, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One invoice of the API's list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceListItem {
    pub id: i64,
    pub number: i64,
    pub billing_date: NaiveDate,
    pub due_date: NaiveDate,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub amount_paid_minor: i64,
    pub membership_id: i64,
    pub member_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub credit_note_for: Option<i64>,
    pub refunded_minor: i64,
}

/// A window of the business's invoices in id order, and how many match.
pub async fn page_of_invoices(
    services: &Services,
    actor: &crate::auth::Actor,
    filter: &InvoiceListFilter,
    window: crate::members::Window,
) -> Result<(Vec<InvoiceListItem>, i64), Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let conditions = "business_id = $1 AND ($2 = '' OR status = $2) AND ($3 = 0 OR member_id = $3)
        AND ($4 = 0 OR membership_id = $4) AND billing_date >= $5 AND billing_date <= $6";
    let status = filter.status.map(|s| s.as_str()).unwrap_or_default();
    // Dates both databases store and compare as text and as dates alike.
    let from = filter
        .from
        .unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).expect("a date"));
    let to = filter
        .to
        .unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date"));
    let mut tx = services.db.begin_read().await?;
    let (count,) = query!(
        &mut tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM invoices WHERE {conditions}")),
        actor.business_id,
        status,
        filter.member_id.unwrap_or(0),
        filter.membership_id.unwrap_or(0),
        from,
        to
    )?;
    let rows = query!(&mut tx, fetch_all as InvoiceListItem,
        sqlx::AssertSqlSafe(format!(
            "SELECT id, number, billing_date, due_date, status, currency, total_minor, amount_paid_minor,
                    membership_id, member_id, organization_id, credit_note_for, {REFUNDED}
               FROM invoices i WHERE {conditions} ORDER BY id LIMIT $7 OFFSET $8")),
        actor.business_id, status, filter.member_id.unwrap_or(0), filter.membership_id.unwrap_or(0), from, to,
        window.limit, window.offset)?;
    tx.commit().await?;
    Ok((rows, count))
}
