//! Invoicing: what the generator says a membership is missing, turned into
//! invoices (dated on the day each change takes effect), notices and mail.

use crate::engine::ledger::Account;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::catalog::Types;
use crate::store::memberships::{Stored, discount_of, load_membership, types};
use crate::{Services, query};
use chrono::NaiveDate;
use domain::Money;
use domain::billing::charges::LineKind;
use domain::billing::generator::{
    BillingInput, CatalogType, IssuedLine, KeyedLine, LineKey, generate_dated,
};
use domain::billing::invoicing::{Dated, due_by, group};
use domain::invoices::InvoiceStatus;
use std::collections::{BTreeMap, HashMap};

mod mails;
pub(crate) use mails::{change_needs_notice, invoice_mail, invoice_text};

/// What a membership should have been billed up to `date` and is not: the
/// generator's answer from its events and the lines already issued (credit
/// notes left out: they are a manager's, not the generator's).
pub(crate) async fn missing_lines(
    tx: &mut Tx,
    business: &Business,
    types: &Types,
    id: i64,
    date: NaiveDate,
) -> Result<(Stored, Vec<IssuedLine>, Vec<Dated>), Error> {
    let stored = load_membership(tx, business.id, id).await?;
    let (issued, missing) =
        missing_dated(tx, business, types, &stored, &stored.events, date).await?;
    Ok((stored, issued, missing))
}

/// What billing would write up to `date` if the membership's events were
/// `events`: the preview of an action runs the generator on a copy.
pub(crate) async fn missing_with(
    tx: &mut Tx,
    business: &Business,
    types: &Types,
    stored: &Stored,
    events: &[domain::lifecycle::Recorded],
    date: NaiveDate,
) -> Result<(Vec<IssuedLine>, Vec<KeyedLine>), Error> {
    let (issued, dated) = missing_dated(tx, business, types, stored, events, date).await?;
    Ok((issued, dated.into_iter().map(|(line, _)| line).collect()))
}

/// The catalog as the generator reads it: each type with its prices.
pub(crate) fn catalog_of(types: &Types) -> Vec<CatalogType<'_>> {
    types
        .values()
        .map(|t| CatalogType {
            id: t.id,
            spec: &t.spec,
            prices: &t.prices,
        })
        .collect()
}

/// [`missing_with`], each line with the day its change takes effect.
pub(crate) async fn missing_dated(
    tx: &mut Tx,
    business: &Business,
    types: &Types,
    stored: &Stored,
    events: &[domain::lifecycle::Recorded],
    date: NaiveDate,
) -> Result<(Vec<IssuedLine>, Vec<Dated>), Error> {
    let catalog = catalog_of(types);
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
        key: LineKey::stored(key),
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
    let missing = due_by(generate(&input, &issued, up_to), up_to);
    Ok((issued, missing))
}

/// The generator's answer (counted: a request should run it once).
fn generate(input: &BillingInput<'_>, issued: &[IssuedLine], up_to: NaiveDate) -> Vec<Dated> {
    crate::platform::tally::generator_ran();
    generate_dated(input, issued, up_to)
}

/// The date billing runs up to: `date`, or the latest date the membership
/// was already billed on when that is later. A run for an earlier date (the
/// simulated clock moved back, `server bill --date` behind the business, a
/// server started on an older day) finds what was billed ahead already
/// billed, and takes nothing back.
pub(crate) fn not_before(date: NaiveDate, latest_billed: Option<NaiveDate>) -> NaiveDate {
    latest_billed.map_or(date, |latest| latest.max(date))
}

/// The charges of the next three billing dates after `today`, as the
/// generator will write them (pauses, free periods, discounts, family members
/// and scheduled changes included), grouped by billing date.
pub(crate) async fn upcoming(
    tx: &mut Tx,
    business: &Business,
    types: &Types,
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
    let (_, missing) = missing_with(tx, business, types, stored, &stored.events, up_to).await?;
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
pub(crate) struct Planned {
    pub(crate) membership_id: i64,
    pub(crate) account: Account,
    pub(crate) billing_date: NaiveDate,
    pub(crate) lines: Vec<(KeyedLine, i64)>,
    /// The first day of a period billed before that this invoice changes: a
    /// net credit is written as a credit note for the invoice that billed it.
    pub(crate) changes: Option<NaiveDate>,
}

impl Planned {
    pub(crate) fn total(&self) -> i64 {
        self.lines.iter().map(|(l, _)| l.line.amount.minor).sum()
    }
}

/// Who a membership's invoices are addressed to.
pub(crate) fn account_of(row: &crate::store::memberships::MembershipRow) -> Result<Account, Error> {
    match (row.payer.as_str(), row.member_id) {
        ("organization", _) | (_, None) => row.organization_id.map(Account::Organization),
        (_, Some(member)) => Some(Account::Member(member)),
    }
    .ok_or_else(|| Error::internal(format!("membership {} has no one to bill", row.id)))
}

/// The invoices a membership's missing lines go on (grouped by the domain's
/// rule), addressed to its account.
pub(crate) fn plan(
    stored: &Stored,
    issued: &[IssuedLine],
    missing: Vec<Dated>,
    date: NaiveDate,
) -> Result<Vec<Planned>, Error> {
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let account = account_of(&stored.row)?;
    Ok(group(issued, missing, date)
        .into_iter()
        .map(|draft| Planned {
            membership_id: stored.row.id,
            account,
            billing_date: draft.billing_date,
            lines: draft.lines,
            changes: draft.changes,
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
            .map(|(key, line)| {
                let key = LineKey::stored(key);
                (KeyedLine { key, line }, 0)
            })
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
    let types = {
        let mut tx = services.db.begin_read().await?;
        let types = types(&mut tx, business.id).await?;
        tx.commit().await?;
        types
    };
    bill_with(services, business, &types, id, date).await
}

/// [`bill_membership`] with the catalog the caller already loaded.
pub(crate) async fn bill_with(
    services: &Services,
    business: &Business,
    types: &Types,
    id: i64,
    date: NaiveDate,
) -> Result<usize, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let (stored, issued, missing) = missing_lines(&mut tx, business, types, id, date).await?;
    let planned = plan(&stored, &issued, missing, date)?;
    match write_planned(&mut tx, business, &planned, now).await {
        Ok(written) => {
            tx.commit().await?;
            Ok(written)
        }
        // Another run wrote these lines first: nothing is missing any more.
        Err(e) if e.violates_unique("invoice_lines", &["membership_id", "line_key", "seq"]) => {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// Writes planned invoices: numbers from the business's counter (in this
/// transaction, so they have no gaps), invoices, lines and their mails in
/// multi-row inserts; then credit an account holds settles its new invoices.
pub(crate) async fn write_planned(
    tx: &mut Tx,
    business: &Business,
    planned: &[Planned],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, Error> {
    if planned.is_empty() {
        return Ok(0);
    }
    let credit_note_for = credit_note_targets(tx, business, planned).await?;
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
    let invoice_ids = (0..planned.len())
        .map(invoice_id)
        .collect::<Result<Vec<_>, _>>()?;
    let mut lines = Vec::new();
    for (p, &id) in planned.iter().zip(&invoice_ids) {
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
    let dues: Vec<(i64, NaiveDate)> = planned
        .iter()
        .filter(|p| p.total() > 0)
        .map(|p| (p.membership_id, business.dunning.due_date(p.billing_date)))
        .collect();
    crate::store::memberships::invoiced(tx, business, &dues, business.today_at(now)).await?;
    settle_from_credit(tx, business, planned, &invoice_ids, now).await?;
    mail_invoices(tx, business, planned, first, &invoice_ids, now).await?;
    Ok(planned.len())
}

/// For each planned invoice that changes a period and nets a credit, the
/// invoice that billed the period (it becomes that invoice's credit note).
async fn credit_note_targets(
    tx: &mut Tx,
    business: &Business,
    planned: &[Planned],
) -> Result<Vec<Option<i64>>, Error> {
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
    Ok(credit_note_for)
}

/// Credit an account holds settles its new invoices, and a credit invoice
/// adds to it.
async fn settle_from_credit(
    tx: &mut Tx,
    business: &Business,
    planned: &[Planned],
    invoice_ids: &[i64],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let accounts: Vec<Account> = planned.iter().map(|p| p.account).collect();
    let holding = crate::engine::ledger::with_credit(tx, business.id, &accounts).await?;
    for (i, p) in planned.iter().enumerate() {
        let total = p.total();
        if total < 0 || holding.contains(&p.account) {
            crate::engine::ledger::after_invoice(
                tx,
                business,
                p.account,
                invoice_ids[i],
                total,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// The invoice mails of new invoices (a change's invoice only when it needs
/// a notice), in one multi-row insert.
async fn mail_invoices(
    tx: &mut Tx,
    business: &Business,
    planned: &[Planned],
    first: i64,
    invoice_ids: &[i64],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let accounts: Vec<Account> = planned.iter().map(|p| p.account).collect();
    let contacts = crate::engine::ledger::contacts(tx, business.id, &accounts).await?;
    let mut mails = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        if p.changes.is_some() && !change_needs_notice(tx, business, p, invoice_ids[i]).await? {
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
            invoice_ids[i],
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
    Ok(())
}

/// Generates and writes what a batch of memberships is missing, in the
/// caller's transaction.
pub(crate) async fn bill_batch(
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
            key: LineKey::stored(key),
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
        let missing = due_by(generate(&input, &issued, up_to), up_to);
        planned.extend(plan(stored, &issued, missing, date)?);
    }
    write_planned(tx, business, &planned, now).await
}
