//! The invariant checker behind `server check`: reads everything and says
//! what does not add up. It changes nothing.
//!
//! - every membership is billed exactly what its events imply up to the
//!   business's date (the generator finds nothing missing and nothing to
//!   correct), and its recurring charges never cover a day twice;
//! - every invoice's total is the sum of its lines, and what it shows as paid
//!   is the sum of what was allocated to it; a paid invoice is paid in full;
//! - every successful payment is allocated exactly (to invoices, and the rest
//!   to account credit); a failed one is allocated nothing; refunds never
//!   exceed their payment;
//! - no account's credit balance is negative;
//! - every membership's stored projection (status, reason, next change, type
//!   and price in effect, next billing, amount overdue) is what recomputing
//!   it from the events and invoices gives.
//!
//! A business whose data cannot be read or summed is reported as a finding,
//! and the others are still checked.

use chrono::NaiveDate;

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::{Services, query};

/// One broken rule, said for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub business_id: i64,
    pub message: String,
}

/// What the checker looked at and what it found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub memberships: usize,
    pub invoices: i64,
    pub payments: i64,
    /// Memberships whose stored projection waits for the daily work to
    /// recompute it (its day has come); they are not compared.
    pub projections_due: usize,
    pub violations: Vec<Violation>,
}

impl Report {
    fn found(&mut self, business_id: i64, message: String) {
        self.violations.push(Violation {
            business_id,
            message,
        });
    }
}

pub async fn check(services: &Services) -> Result<Report, Error> {
    let mut report = Report::default();
    for b in crate::business::all(services).await? {
        // Data that cannot even be summed (amounts so large their sum
        // overflows, written before amounts were bounded) is a finding,
        // not a reason to stop checking the other businesses.
        if let Err(error) = check_business(services, b.id, &mut report).await {
            report.violations.push(Violation {
                business_id: b.id,
                message: format!("could not be checked to the end: {error}"),
            });
        }
    }
    Ok(report)
}

async fn check_business(
    services: &Services,
    business_id: i64,
    report: &mut Report,
) -> Result<(), Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    billed_as_implied(&mut tx, &business, today, report).await?;
    invoices_add_up(&mut tx, business_id, report).await?;
    payments_add_up(&mut tx, business_id, report).await?;
    projections_match(&mut tx, &business, today, report).await?;
    for difference in crate::store::memberships::counts_differences(&mut tx, business_id).await? {
        report.found(business_id, difference);
    }
    tx.commit().await?;
    Ok(())
}

/// Each membership was billed what its events imply, and no two recurring
/// charges of one membership cover the same days.
async fn billed_as_implied(
    tx: &mut Tx,
    business: &Business,
    today: NaiveDate,
    report: &mut Report,
) -> Result<(), Error> {
    let business_id = business.id;
    let ids = query!(
        tx,
        fetch_all as (i64,),
        "SELECT id FROM memberships WHERE business_id = $1 ORDER BY id",
        business_id
    )?;
    report.memberships += ids.len();
    let types = crate::store::memberships::types(tx, business_id).await?;
    for (id,) in &ids {
        // Up to today, or to the last date a run billed it when that is later.
        let (last,) = query!(
            tx,
            fetch_one as (Option<NaiveDate>,),
            "SELECT MAX(billing_date) FROM invoices WHERE membership_id = $1 AND credit_note_for IS NULL",
            *id
        )?;
        let up_to = last.map_or(today, |l| l.max(today));
        let (_, _, missing) =
            crate::engine::invoicing::missing_lines(tx, business, &types, *id, up_to).await?;
        for (line, _) in missing {
            report.found(business_id, format!(
                "membership {id}: {} for {} ({}) is what its events imply up to {up_to} but is not what was billed",
                line.line.amount, line.key, line.line.description
            ));
        }
    }
    // The days each recurring charge covers now: its last line (a correction
    // carries the part of the period the events imply now; a charge taken
    // back entirely carries none).
    let lines = query!(
        tx,
        fetch_all as (i64, String, Option<NaiveDate>, Option<NaiveDate>),
        "SELECT membership_id, line_key, period_start, period_end FROM invoice_lines
          WHERE business_id = $1 AND line_key LIKE 'recurring:%'
          ORDER BY membership_id, line_key, seq",
        business_id
    )?;
    let mut covered: Vec<(i64, NaiveDate, NaiveDate, &str)> = Vec::new();
    for (i, (m, key, start, end)) in lines.iter().enumerate() {
        let last = lines
            .get(i + 1)
            .is_none_or(|(m2, key2, _, _)| m2 != m || key2 != key);
        if let (true, Some(start), Some(end)) = (last, start, end) {
            covered.push((*m, *start, *end, key));
        }
    }
    covered.sort();
    for pair in covered.windows(2) {
        let (m1, _, end1, key1) = &pair[0];
        let (m2, start2, _, key2) = &pair[1];
        if m1 == m2 && start2 < end1 {
            report.found(
                business_id,
                format!("membership {m1}: recurring charges {key1} and {key2} cover the same days"),
            );
        }
    }

    Ok(())
}

/// Each membership's stored projection is what a recomputation gives.
async fn projections_match(
    tx: &mut Tx,
    business: &Business,
    today: NaiveDate,
    report: &mut Report,
) -> Result<(), Error> {
    use crate::store::memberships::{compute, load_batch, stored, types};
    let rows = stored(tx, business.id).await?;
    let types = types(tx, business.id).await?;
    for chunk in rows.chunks(500) {
        let (first, last) = (chunk[0].id, chunk[chunk.len() - 1].id);
        let loaded = load_batch(tx, business.id, first, last).await?;
        for (row, membership) in chunk.iter().zip(&loaded) {
            // Its day has come and the daily work (or the next list) will
            // recompute it: not wrong, only waiting.
            if row.status_changes_on.is_some_and(|d| d <= today) {
                report.projections_due += 1;
                continue;
            }
            let computed = compute(tx, business, &types, membership, today).await?;
            let differences = row.differences(&computed);
            if !differences.is_empty() {
                report.found(
                    business.id,
                    format!(
                        "membership {}: the stored projection differs from its events and invoices on {today}: {}",
                        row.id,
                        differences.join("; ")
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Each invoice's total is the sum of its lines, what it shows paid is what
/// was allocated to it, and its status matches.
async fn invoices_add_up(tx: &mut Tx, business_id: i64, report: &mut Report) -> Result<(), Error> {
    let (invoices,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM invoices WHERE business_id = $1",
        business_id
    )?;
    report.invoices += invoices;
    for (number, total, lines) in query!(
        tx,
        fetch_all as (i64, i64, i64),
        "SELECT i.number, i.total_minor, CAST(COALESCE(SUM(l.amount_minor), 0) AS BIGINT)
           FROM invoices i LEFT JOIN invoice_lines l ON l.invoice_id = i.id
          WHERE i.business_id = $1 GROUP BY i.id, i.number, i.total_minor
         HAVING i.total_minor <> CAST(COALESCE(SUM(l.amount_minor), 0) AS BIGINT)",
        business_id
    )? {
        report.found(
            business_id,
            format!("invoice #{number}: total {total} but its lines sum to {lines} (minor units)"),
        );
    }
    for (number, paid, allocated) in query!(
        tx,
        fetch_all as (i64, i64, i64),
        "SELECT i.number, i.amount_paid_minor, CAST(COALESCE(SUM(a.amount_minor), 0) AS BIGINT)
           FROM invoices i LEFT JOIN payment_allocations a ON a.invoice_id = i.id
          WHERE i.business_id = $1 GROUP BY i.id, i.number, i.amount_paid_minor
         HAVING i.amount_paid_minor <> CAST(COALESCE(SUM(a.amount_minor), 0) AS BIGINT)",
        business_id
    )? {
        report.found(business_id, format!(
            "invoice #{number}: shows {paid} paid but {allocated} was allocated to it (minor units)"
        ));
    }
    for (number, status) in query!(
        tx,
        fetch_all as (i64, String),
        "SELECT number, status FROM invoices
          WHERE business_id = $1 AND total_minor > 0
            AND ((status = 'paid' AND amount_paid_minor < total_minor)
              OR (status = 'open' AND amount_paid_minor >= total_minor)
              OR amount_paid_minor > total_minor)",
        business_id
    )? {
        report.found(
            business_id,
            format!("invoice #{number}: its status {status} does not match what was paid"),
        );
    }

    Ok(())
}

/// Each payment is allocated in full (or not at all when it failed), no
/// refund exceeds its payment, no amount is beyond what can be typed, and no
/// account's credit is below zero.
async fn payments_add_up(tx: &mut Tx, business_id: i64, report: &mut Report) -> Result<(), Error> {
    let (payments,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM payments WHERE business_id = $1",
        business_id
    )?;
    report.payments += payments;
    for (id, succeeded, amount, allocated) in query!(tx, fetch_all as (i64, bool, i64, i64),
        "SELECT p.id, p.succeeded, p.amount_minor,
                CAST(COALESCE((SELECT SUM(a.amount_minor) FROM payment_allocations a WHERE a.payment_id = p.id), 0)
                   + COALESCE((SELECT SUM(e.amount_minor) FROM account_entries e
                                WHERE e.payment_id = p.id AND e.kind = 'overpayment'), 0) AS BIGINT)
           FROM payments p WHERE p.business_id = $1",
        business_id)?
    {
        let expected = if succeeded { amount } else { 0 };
        if allocated != expected {
            report.found(business_id, format!("payment {id}: {amount} {} but {allocated} was allocated (minor units)",
                if succeeded { "received" } else { "failed" }));
        }
    }
    for (id, amount, refunded) in query!(
        tx,
        fetch_all as (i64, i64, i64),
        "SELECT p.id, p.amount_minor, CAST(SUM(r.amount_minor) AS BIGINT)
           FROM payments p JOIN refunds r ON r.payment_id = p.id
          WHERE p.business_id = $1 GROUP BY p.id, p.amount_minor
         HAVING SUM(r.amount_minor) > p.amount_minor",
        business_id
    )? {
        report.found(
            business_id,
            format!("payment {id}: {refunded} refunded of {amount} (minor units)"),
        );
    }
    // No amount was ever typed this large (see `domain::money::TYPED_LIMIT`,
    // in the currency with the most decimals); one that is came from before
    // amounts were bounded, and sums over it may overflow.
    const BEYOND: i64 = 1_000_000_000_000;
    for (table, id, amount) in query!(
        tx,
        fetch_all as (String, i64, i64),
        "SELECT 'account entry', id, amount_minor FROM account_entries
          WHERE business_id = $1 AND (amount_minor > $2 OR amount_minor < -$2)
         UNION ALL
         SELECT 'payment', id, amount_minor FROM payments
          WHERE business_id = $1 AND (amount_minor > $2 OR amount_minor < -$2)
         UNION ALL
         SELECT 'invoice', number, total_minor FROM invoices
          WHERE business_id = $1 AND (total_minor > $2 OR total_minor < -$2)",
        business_id,
        BEYOND
    )? {
        report.found(business_id, format!(
            "{table} {id}: {amount} (minor units) is beyond any amount that can be typed; sums over it may overflow"
        ));
    }
    for (member, organization, balance) in
        query!(tx, fetch_all as (Option<i64>, Option<i64>, i64),
        "SELECT member_id, organization_id, CAST(SUM(amount_minor) AS BIGINT) FROM account_entries
          WHERE business_id = $1 GROUP BY member_id, organization_id HAVING SUM(amount_minor) < 0",
        business_id)?
    {
        let who = match (member, organization) {
            (Some(m), _) => format!("member {m}"),
            (_, o) => format!("organization {}", o.unwrap_or_default()),
        };
        report.found(
            business_id,
            format!("{who}: account credit is {balance} (minor units), below zero"),
        );
    }
    Ok(())
}
