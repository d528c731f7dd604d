//! The projection kept on each membership's row (status and its reason, the
//! day it next changes by itself, type and price in effect, next billing
//! date, amount overdue, and the status as lists show it;
//! `domain::lifecycle::projection`), so that lists filter, sort, count and
//! show their rows in SQL. Whatever may change it recomputes it in
//! the same transaction: an event, a new invoice, money settling or closing
//! an invoice; the daily work recomputes the rows whose day has come.

use super::*;
use domain::lifecycle::projection::{self, Projection, Unpaid};

/// Open invoices of a membership with something left to pay.
async fn unpaid(tx: &mut Tx, business_id: i64, id: i64) -> Result<Vec<Unpaid>, Error> {
    Ok(query!(
        tx,
        fetch_all as (NaiveDate, i64),
        "SELECT due_date, total_minor - amount_paid_minor FROM invoices
          WHERE business_id = $1 AND membership_id = $2 AND status = 'open' AND total_minor > amount_paid_minor",
        business_id,
        id
    )?
    .into_iter()
    .map(|(due, minor)| Unpaid { due, minor })
    .collect())
}

/// The projection of a loaded membership on `today`.
pub(crate) async fn compute(
    tx: &mut Tx,
    business: &Business,
    types: &Types,
    stored: &Stored,
    today: NaiveDate,
) -> Result<Projection, Error> {
    let (current, price_id, m) = stored.in_effect(types, today)?;
    let unpaid = unpaid(tx, business.id, stored.row.id).await?;
    Ok(projection::project(
        &m,
        (current.id, price_id),
        &business.dunning,
        &unpaid,
        today,
    ))
}

/// A membership's projection recomputed on a day, with the anchor and end
/// dates its row keeps for range filters and the names of its type in
/// effect (what a list shows of a row not yet advanced).
pub(crate) struct Fresh {
    pub(crate) projection: Projection,
    pub(crate) anchor: NaiveDate,
    pub(crate) end: Option<NaiveDate>,
    pub(crate) type_name: String,
    pub(crate) type_color: String,
}

/// Recomputes membership `id`'s projection on `today`, without writing it.
/// `types` is the caller's catalog when it has one; otherwise only the
/// types the membership needs are read.
pub(crate) async fn fresh(
    tx: &mut Tx,
    business: &Business,
    types: Option<&Types>,
    id: i64,
    today: NaiveDate,
) -> Result<Fresh, Error> {
    let stored = load_membership(tx, business.id, id).await?;
    let own;
    let types = match types {
        Some(types) => types,
        None => {
            let sold = types_named(&stored);
            own = catalog::specs(tx, business.id, &sold).await?;
            &own
        }
    };
    let projection = compute(tx, business, types, &stored, today).await?;
    let (current, _, m) = stored.in_effect(types, today)?;
    let renews = m.spec.end_action == domain::catalog::spec::EndAction::RenewSame;
    let term_end = if renews { None } else { m.term_end(today) };
    let end = match (m.cancel_end(), term_end) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (c, t) => c.or(t),
    };
    Ok(Fresh {
        projection,
        anchor: m.anchor().unwrap_or(today),
        end,
        type_name: current.spec.name.clone(),
        type_color: current.spec.color.clone(),
    })
}

/// Recomputes membership `id`'s projection on `today` and writes it, with the
/// anchor and end dates range filters read.
pub(crate) async fn reproject(
    tx: &mut Tx,
    business: &Business,
    types: Option<&Types>,
    id: i64,
    today: NaiveDate,
) -> Result<(), Error> {
    let Fresh {
        projection: p,
        anchor,
        end,
        ..
    } = fresh(tx, business, types, id, today).await?;
    query!(tx, execute,
        "UPDATE memberships SET start_date = $1, end_date = $2, status = $3, status_reason = $4, status_changes_on = $5,
                current_type_id = $6, current_price_id = $7, next_billing_date = $8, overdue_minor = $9,
                status_since = $10, status_until = $11, status_explanation = $12, locked = $13
          WHERE business_id = $14 AND id = $15",
        anchor, end, p.status.as_str(), p.reason.as_str(), p.changes_on,
        p.type_id, p.price_id, p.next_billing, p.overdue_minor,
        p.since, p.until, &p.explanation, p.locked, business.id, id)?;
    Ok(())
}

/// The types a membership's rules may read: the one sold and every type its
/// events changed it to.
fn types_named(stored: &Stored) -> Vec<i64> {
    let mut ids = vec![stored.row.membership_type_id];
    ids.extend(stored.events.iter().filter_map(|r| match &r.event {
        Event::TypeChanged { type_id, .. }
        | Event::RenewedInto { type_id, .. }
        | Event::CycleSwitched { type_id, .. } => Some(*type_id),
        _ => None,
    }));
    ids
}

/// Recomputes the projection of the memberships of an invoice's holder that
/// it was billed to: after money settled it or it was closed.
pub(crate) async fn reproject_invoice(
    tx: &mut Tx,
    business: &Business,
    invoice_id: i64,
    today: NaiveDate,
) -> Result<(), Error> {
    let membership = query!(
        tx,
        fetch_optional as (i64,),
        "SELECT membership_id FROM invoices WHERE business_id = $1 AND id = $2",
        business.id,
        invoice_id
    )?;
    if let Some((id,)) = membership {
        reproject(tx, business, None, id, today).await?;
    }
    Ok(())
}

/// New open invoices (membership and due date): a membership's projection
/// next changes, at the latest, on the first day its invoice counts as
/// overdue, so that day moves earlier on its row; a membership whose invoice
/// is already overdue on `today` is recomputed at once. The rows that only
/// move their day are written by one statement per day (a billing run's
/// chunk of 500 shares one), not one per membership.
pub(crate) async fn invoiced(
    tx: &mut Tx,
    business: &Business,
    dues: &[(i64, NaiveDate)],
    today: NaiveDate,
) -> Result<(), Error> {
    let first = 1
        .min(business.dunning.past_due_after)
        .min(business.dunning.suspend_after);
    let mut by_day: std::collections::BTreeMap<NaiveDate, Vec<i64>> = Default::default();
    for &(id, due) in dues {
        let Some(day) = due.checked_add_days(chrono::Days::new(first.into())) else {
            continue;
        };
        if day <= today {
            reproject(tx, business, None, id, today).await?;
        } else {
            by_day.entry(day).or_default().push(id);
        }
    }
    for (day, ids) in by_day {
        for ids in ids.chunks(1000) {
            // The ids are integers of our own rows, never text from a request.
            let list = ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            query!(tx, execute,
                sqlx::AssertSqlSafe(format!(
                    "UPDATE memberships SET status_changes_on = $1
                      WHERE business_id = $2 AND id IN ({list}) AND (status_changes_on IS NULL OR status_changes_on > $1)"
                )),
                day, business.id)?;
        }
    }
    Ok(())
}

/// Recomputes, in batches of their own transactions, every membership of the
/// business whose projection may have changed by `today` (an indexed query:
/// `status_changes_on <= today`). Returns how many were recomputed.
pub(crate) async fn advance(
    db: &crate::platform::db::Db,
    business: &Business,
    today: NaiveDate,
) -> Result<usize, Error> {
    const BATCH: i64 = 500;
    let mut done = 0;
    loop {
        let mut tx = db.begin_write().await?;
        let due = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM memberships WHERE business_id = $1 AND status_changes_on <= $2 ORDER BY status_changes_on, id LIMIT $3",
            business.id,
            today,
            BATCH
        )?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(done);
        }
        let types = super::types(&mut tx, business.id).await?;
        for (id,) in &due {
            reproject(&mut tx, business, Some(&types), *id, today).await?;
        }
        tx.commit().await?;
        done += due.len();
    }
}

/// Whether any membership of the business is due for recomputation on
/// `today` (one indexed probe). The date is written into the statement
/// (a `NaiveDate` prints as YYYY-MM-DD, never text from a request): bound,
/// PostgreSQL's generic plan for a prepared statement cannot tell how few
/// rows are due, and with `LIMIT 1` it chose to scan the whole table for
/// the first (200 ms at 1,000,000 memberships, before every list page).
pub(crate) async fn any_due(
    tx: &mut Tx,
    business_id: i64,
    today: NaiveDate,
) -> Result<bool, Error> {
    Ok(query!(
        tx,
        fetch_optional as (i64,),
        sqlx::AssertSqlSafe(format!(
            "SELECT id FROM memberships WHERE business_id = $1 AND status_changes_on <= '{today}' LIMIT 1"
        )),
        business_id
    )?
    .is_some())
}

/// The day a row due for recomputation at once says it next changes on
/// (rows written before the projection existed carry it too).
pub(crate) fn long_ago() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date")
}

/// Makes every membership of the business due for recomputation by the next
/// daily work: after its date moved back or its dunning changed.
pub(crate) async fn mark_all(tx: &mut Tx, business_id: i64) -> Result<(), Error> {
    query!(
        tx,
        execute,
        "UPDATE memberships SET status_changes_on = $1 WHERE business_id = $2",
        long_ago(),
        business_id
    )?;
    Ok(())
}

/// What a membership's row says of its projection.
#[derive(sqlx::FromRow)]
pub(crate) struct StoredProjection {
    pub(crate) id: i64,
    pub(crate) status: String,
    pub(crate) status_reason: String,
    pub(crate) status_changes_on: Option<NaiveDate>,
    pub(crate) current_type_id: i64,
    pub(crate) current_price_id: i64,
    pub(crate) next_billing_date: Option<NaiveDate>,
    pub(crate) overdue_minor: i64,
    pub(crate) status_since: Option<NaiveDate>,
    pub(crate) status_until: Option<NaiveDate>,
    pub(crate) status_explanation: String,
    pub(crate) locked: bool,
}

impl StoredProjection {
    /// The differences from a recomputation, for people; empty when none.
    pub(crate) fn differences(&self, p: &Projection) -> Vec<String> {
        let mut out = Vec::new();
        let mut differ = |what: &str, stored: String, computed: String| {
            if stored != computed {
                out.push(format!("{what} is {stored} but computes to {computed}"));
            }
        };
        let date = |d: Option<NaiveDate>| d.map_or_else(|| "none".to_string(), |d| d.to_string());
        differ("status", self.status.clone(), p.status.as_str().into());
        differ(
            "status reason",
            self.status_reason.clone(),
            p.reason.as_str().into(),
        );
        // A stored day earlier than the computed one is only early work (the
        // row is recomputed and found unchanged); a later one leaves it stale.
        let early = matches!((self.status_changes_on, p.changes_on), (Some(s), c) if c.is_none_or(|c| s < c));
        if !early {
            differ(
                "next change",
                date(self.status_changes_on),
                date(p.changes_on),
            );
        }
        differ(
            "type",
            self.current_type_id.to_string(),
            p.type_id.to_string(),
        );
        differ(
            "price",
            self.current_price_id.to_string(),
            p.price_id.to_string(),
        );
        differ(
            "next billing",
            date(self.next_billing_date),
            date(p.next_billing),
        );
        differ(
            "amount overdue",
            self.overdue_minor.to_string(),
            p.overdue_minor.to_string(),
        );
        differ("status since", date(self.status_since), date(p.since));
        differ("status until", date(self.status_until), date(p.until));
        differ(
            "explanation",
            format!("{:?}", self.status_explanation),
            format!("{:?}", p.explanation),
        );
        differ("locked", self.locked.to_string(), p.locked.to_string());
        out
    }
}

pub(crate) async fn stored(tx: &mut Tx, business_id: i64) -> Result<Vec<StoredProjection>, Error> {
    Ok(query!(tx, fetch_all as StoredProjection,
        "SELECT id, status, status_reason, status_changes_on, current_type_id, current_price_id, next_billing_date, overdue_minor,
                status_since, status_until, status_explanation, locked
           FROM memberships WHERE business_id = $1 ORDER BY id",
        business_id)?)
}
