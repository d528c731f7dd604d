//! Rows of memberships and their events: loading a membership with its
//! history, the type in effect, who holds it, appending events and keeping
//! the row's date projection.

use crate::platform::db::{Seek, Tx, Window};
use crate::platform::error::Error;
use crate::query;
use crate::store::business::Business;
use crate::store::catalog::{self, Loaded, Types};
use chrono::{DateTime, NaiveDate, Utc};
use domain::billing::charges::Discount;
use domain::lifecycle::{Event, Membership, Recorded, Status};
use domain::parties::Holder;
use std::collections::HashMap;

mod counts;
mod projection;
pub(crate) use counts::{compact, counted, differences as counts_differences, members_counted};
pub(crate) use projection::{
    advance, any_due, compute, fresh, invoiced, long_ago, mark_all, reproject, reproject_invoice,
    stored,
};

/// Who a membership is sold to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolderRef {
    Member(i64),
    Organization(i64),
}

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub(crate) id: i64,
    pub(crate) member_id: Option<i64>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) membership_type_id: i64,
    pub(crate) price_id: i64,
    pub(crate) start_date: NaiveDate,
    pub(crate) payer: String,
    pub(crate) discount: String,
    pub(crate) source: String,
    pub(crate) notes: String,
    pub(crate) version: i64,
}

pub(crate) const MEMBERSHIP_COLUMNS: &str = "m.id, m.member_id, m.organization_id, m.membership_type_id, m.price_id, m.start_date, m.payer, m.discount, m.source, m.notes, m.version";

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub(crate) membership_id: i64,
    pub(crate) data: String,
    pub(crate) reason: String,
    pub(crate) forced: bool,
    pub(crate) actor_label: String,
    pub(crate) recorded_at: DateTime<Utc>,
}

pub(crate) fn recorded(row: &EventRow) -> Result<Recorded, Error> {
    let event: Event = serde_json::from_str(&row.data)
        .map_err(|e| Error::internal(format!("event of membership {}: {e}", row.membership_id)))?;
    Ok(Recorded {
        event,
        by: row.actor_label.clone(),
        reason: row.reason.clone(),
        forced: row.forced,
    })
}

pub(crate) fn discount_of(row: &MembershipRow) -> Result<Option<Discount>, Error> {
    if row.discount.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(&row.discount)
        .map(Some)
        .map_err(|e| Error::internal(format!("discount of membership {}: {e}", row.id)))
}

/// A membership with its events and the type in effect.
pub(crate) struct Stored {
    pub(crate) row: MembershipRow,
    pub(crate) events: Vec<Recorded>,
    pub(crate) event_rows: Vec<EventRow>,
}

pub(crate) async fn load_events(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<Vec<EventRow>, Error> {
    Ok(query!(tx, fetch_all as EventRow,
        "SELECT membership_id, data, reason, forced, actor_label, recorded_at FROM membership_events
          WHERE business_id = $1 AND membership_id = $2 ORDER BY id",
        business_id, id)?)
}

impl Stored {
    /// The type and price version in effect on `today`, and the membership as
    /// that type's rules read it.
    pub(crate) fn in_effect<'a>(
        &'a self,
        types: &'a Types,
        today: NaiveDate,
    ) -> Result<(&'a Loaded, i64, Membership<'a>), Error> {
        let (current, price_id) = type_in_effect(types, &self.row, &self.events, today)?;
        let m = Membership {
            spec: &current.spec,
            events: &self.events,
            overdue: Default::default(),
        };
        Ok((current, price_id, m))
    }
}

pub(crate) async fn load_membership(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<Stored, Error> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.business_id = $1 AND m.id = $2"
    );
    let row = query!(
        tx,
        fetch_optional as MembershipRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        id
    )?
    .ok_or(Error::NotFound)?;
    let event_rows = load_events(tx, business_id, id).await?;
    let events = event_rows.iter().map(recorded).collect::<Result<_, _>>()?;
    Ok(Stored {
        row,
        events,
        event_rows,
    })
}

/// The memberships with ids from `first` to `last`, with their events, read
/// in two queries (the billing run's batches).
pub(crate) async fn load_batch(
    tx: &mut Tx,
    business_id: i64,
    first: i64,
    last: i64,
) -> Result<Vec<Stored>, Error> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.business_id = $1 AND m.id BETWEEN $2 AND $3 ORDER BY m.id"
    );
    let rows = query!(
        tx,
        fetch_all as MembershipRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        first,
        last
    )?;
    let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    let mut events: HashMap<i64, Vec<EventRow>> = HashMap::new();
    for row in query!(tx, fetch_all as EventRow,
        "SELECT membership_id, data, reason, forced, actor_label, recorded_at FROM membership_events
          WHERE business_id = $1 AND membership_id BETWEEN $2 AND $3 ORDER BY membership_id, id",
        business_id, first, last)?
    {
        events.entry(row.membership_id).or_default().push(row);
    }
    rows.into_iter()
        .map(|row| {
            let event_rows = events.remove(&row.id).unwrap_or_default();
            let events = event_rows.iter().map(recorded).collect::<Result<_, _>>()?;
            Ok(Stored {
                row,
                events,
                event_rows,
            })
        })
        .collect()
}

/// The types of the business by id.
pub(crate) async fn types(tx: &mut Tx, business_id: i64) -> Result<Types, Error> {
    // What the rules read, without the per-price membership counts (a count
    // over every membership of the business: 1.2 s at 1,000,000); only the
    // catalog's own pages and edits need those, and load them there.
    crate::platform::tally::catalog_loaded();
    catalog::specs_all(tx, business_id).await
}

pub(crate) fn type_in_effect<'t>(
    types: &'t Types,
    row: &MembershipRow,
    events: &[Recorded],
    today: NaiveDate,
) -> Result<(&'t Loaded, i64), Error> {
    // The type's rules decide which type is in effect only through events,
    // so any type's spec can read them.
    let sold = types
        .get(&row.membership_type_id)
        .ok_or_else(|| Error::internal(format!("type of membership {}", row.id)))?;
    let m = Membership {
        spec: &sold.spec,
        events,
        overdue: Default::default(),
    };
    let (type_id, price_id) = m.type_and_price_on((row.membership_type_id, row.price_id), today);
    let current = types
        .get(&type_id)
        .ok_or_else(|| Error::internal(format!("type {type_id} of membership {}", row.id)))?;
    Ok((current, price_id))
}

/// The type and price version in effect on `today`.
pub(crate) fn type_in_effect_pub<'t>(
    types: &'t Types,
    stored: &Stored,
    today: NaiveDate,
) -> Result<(&'t Loaded, i64), Error> {
    type_in_effect(types, &stored.row, &stored.events, today)
}

/// The name of who holds a membership (a member or an organization).
pub(crate) async fn holder_name(
    tx: &mut Tx,
    business_id: i64,
    stored: &Stored,
) -> Result<String, Error> {
    Ok(holder(tx, business_id, &stored.row).await?.name)
}

pub(crate) async fn holder(
    tx: &mut Tx,
    business_id: i64,
    row: &MembershipRow,
) -> Result<Holder, Error> {
    if let Some(member_id) = row.member_id {
        let (first, last, number) = query!(
            tx,
            fetch_one as (String, String, i64),
            "SELECT first_name, last_name, member_number FROM members WHERE business_id = $1 AND id = $2",
            business_id,
            member_id
        )?;
        return Ok(Holder {
            name: format!("{first} {last}"),
            href: format!("/members/{member_id}"),
            member_number: Some(number),
        });
    }
    let org_id = row.organization_id.unwrap_or_default();
    let (name,) = query!(
        tx,
        fetch_one as (String,),
        "SELECT name FROM organizations WHERE business_id = $1 AND id = $2",
        business_id,
        org_id
    )?;
    Ok(Holder {
        name,
        href: format!("/organizations/{org_id}"),
        member_number: None,
    })
}

/// Who holds a membership, and its type's name (for invoices).
pub(crate) async fn holder_and_name(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<(Holder, String), Error> {
    let loaded = load_membership(tx, business_id, id).await?;
    let name = query!(
        tx,
        fetch_one as (String,),
        "SELECT name FROM membership_types WHERE business_id = $1 AND id = $2",
        business_id,
        loaded.row.membership_type_id
    )?
    .0;
    Ok((holder(tx, business_id, &loaded.row).await?, name))
}

/// Puts what billing did or saw on a membership's timeline, as the system.
pub(crate) async fn append_billing_note(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    on: NaiveDate,
    note: &domain::lifecycle::BillingNote,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let event = Event::Billing {
        on,
        note: note.clone(),
    };
    append_event(
        tx,
        business_id,
        membership_id,
        &event,
        "",
        false,
        ("system", None, "the system"),
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn append_event(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    event: &Event,
    reason: &str,
    forced: bool,
    (actor, actor_id, label): (&str, Option<i64>, &str),
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let data = serde_json::to_string(event).map_err(|e| Error::internal(e.to_string()))?;
    query!(tx, execute,
        "INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, reason, forced, actor, actor_id, actor_label, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        business_id, membership_id, event.kind(), event.effective(), data, reason, forced, actor, actor_id, label, now)?;
    Ok(())
}

/// The row lock: concurrent changes to one membership run one after the
/// other, and a form made from an older version is refused.
pub(crate) async fn lock_row(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
    version: Option<i64>,
) -> Result<(), Error> {
    let bumped = query!(
        tx,
        fetch_optional as (i64,),
        "UPDATE memberships SET version = version + 1 WHERE business_id = $1 AND id = $2 AND ($3 < 0 OR version = $3) RETURNING version",
        business_id,
        id,
        version.unwrap_or(-1)
    )?;
    if bumped.is_some() {
        return Ok(());
    }
    let exists = query!(
        tx,
        fetch_optional as (i64,),
        "SELECT id FROM memberships WHERE business_id = $1 AND id = $2",
        business_id,
        id
    )?;
    Err(match exists {
        None => Error::NotFound,
        Some(_) => Error::Conflict(
            "This membership was changed by someone else while you were looking at it. Reload the page to see the change, then try again.".into(),
        ),
    })
}

/// The type names of the memberships an organization holds or pays for that
/// have not ended.
pub(crate) async fn running_for_organization(
    tx: &mut Tx,
    business: &Business,
    organization_id: i64,
    today: NaiveDate,
) -> Result<Vec<String>, Error> {
    let ids = query!(
        tx,
        fetch_all as (i64,),
        "SELECT id FROM memberships WHERE business_id = $1 AND organization_id = $2 ORDER BY id",
        business.id,
        organization_id
    )?;
    let types = types(tx, business.id).await?;
    let mut running = Vec::new();
    for (id,) in ids {
        let loaded = load_membership(tx, business.id, id).await?;
        let (current, _, m) = loaded.in_effect(&types, today)?;
        if !matches!(
            m.status(today).status,
            Status::Cancelled | Status::Expired | Status::Rejected
        ) {
            running.push(current.spec.name.clone());
        }
    }
    Ok(running)
}

/// A list's filters, all run in SQL: status and type on the stored
/// projection (`projection.rs`), which the list brings up to date first.
pub(crate) struct Filters {
    pub(crate) business_id: i64,
    pub(crate) location_id: i64,
    pub(crate) active: Option<(NaiveDate, NaiveDate)>,
    pub(crate) ending: Option<(NaiveDate, NaiveDate)>,
    pub(crate) holder: Option<HolderRef>,
    pub(crate) status: Option<Status>,
    pub(crate) type_id: Option<i64>,
}

impl Filters {
    /// Every membership of a business.
    pub(crate) fn all(business_id: i64) -> Filters {
        Filters {
            business_id,
            location_id: 0,
            active: None,
            ending: None,
            holder: None,
            status: None,
            type_id: None,
        }
    }
}

/// A list's order: newest first (staff pages), or by id from a position
/// (the API: an offset, or after or before an id, which stays as fast on the
/// thousandth page as on the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Newest,
    Id(Seek),
}

/// Runs `head WHERE <the filters that are set> tail`: only the conditions a
/// list asks for are written, so that each database plans it on the index
/// that fits (a catch-all `($n = 0 OR ...)` would hide them from the
/// planner). `$tail` may bind values (`|qb| { qb.push(...); }`).
macro_rules! filtered {
    ($tx:expr, $method:ident as $ty:ty, $head:expr, $f:expr, |$qb:ident| $tail:block) => {{
        let f: &Filters = $f;
        macro_rules! build {
            ($db:ty) => {{
                let mut $qb = sqlx::QueryBuilder::<$db>::new($head);
                // A holder's few memberships are found by the holder's
                // index; `+` keeps SQLite from scanning the business's
                // index instead (a no-op on PostgreSQL, which plans by its
                // statistics).
                let business = if f.holder.is_some() { " WHERE +m.business_id = " } else { " WHERE m.business_id = " };
                $qb.push(business).push_bind(f.business_id);
                if f.location_id != 0 {
                    $qb.push(" AND EXISTS (SELECT 1 FROM membership_locations ml WHERE ml.membership_id = m.id AND ml.location_id = ")
                        .push_bind(f.location_id)
                        .push(")");
                }
                if let Some((from, to)) = f.active {
                    $qb.push(" AND m.start_date <= ").push_bind(to)
                        .push(" AND (m.end_date IS NULL OR m.end_date > ").push_bind(from).push(")");
                }
                if let Some((from, to)) = f.ending {
                    $qb.push(" AND m.end_date >= ").push_bind(from)
                        .push(" AND m.end_date <= ").push_bind(to);
                }
                match f.holder {
                    Some(HolderRef::Member(id)) => {
                        $qb.push(" AND m.id IN (SELECT id FROM memberships WHERE member_id = ").push_bind(id)
                            .push(" UNION SELECT membership_id FROM membership_members WHERE removed_at IS NULL AND member_id = ")
                            .push_bind(id)
                            .push(")");
                    }
                    Some(HolderRef::Organization(id)) => {
                        $qb.push(" AND m.member_id IS NULL AND m.organization_id = ").push_bind(id);
                    }
                    None => {}
                }
                if let Some(status) = f.status {
                    $qb.push(" AND m.status = ").push_bind(status.as_str());
                }
                if let Some(type_id) = f.type_id {
                    $qb.push(" AND m.current_type_id = ").push_bind(type_id);
                }
                $tail
                $qb
            }};
        }
        match $tx {
            Tx::Sqlite(conn) => build!(sqlx::Sqlite).build_query_as::<$ty>().$method(&mut **conn).await,
            Tx::Postgres(conn) => build!(sqlx::Postgres).build_query_as::<$ty>().$method(&mut **conn).await,
        }
    }};
}

/// How many memberships match: by status and type alone, from the kept
/// counts (`counts`); with any other filter, an indexed count of the rows.
pub(crate) async fn count_filtered(tx: &mut Tx, f: &Filters) -> Result<i64, Error> {
    if f.location_id == 0 && f.active.is_none() && f.ending.is_none() && f.holder.is_none() {
        return counted(tx, f.business_id, f.status, f.type_id).await;
    }
    let (count,) = filtered!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM memberships m",
        f,
        |qb| {}
    )?;
    Ok(count)
}

/// What a list shows of a membership: its row and stored projection, with
/// the names of its type and holder.
#[derive(sqlx::FromRow)]
pub(crate) struct SummaryRow {
    pub(crate) id: i64,
    pub(crate) member_id: Option<i64>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: Option<NaiveDate>,
    pub(crate) status: String,
    pub(crate) status_since: Option<NaiveDate>,
    pub(crate) status_until: Option<NaiveDate>,
    pub(crate) status_explanation: String,
    pub(crate) status_changes_on: Option<NaiveDate>,
    pub(crate) locked: bool,
    pub(crate) type_name: Option<String>,
    pub(crate) type_color: Option<String>,
    pub(crate) holder_name: Option<String>,
    pub(crate) member_number: Option<i64>,
}

/// What a list shows of each row, read from `m` (the page's memberships)
/// and the joins of [`SUMMARY_JOINS`].
const SUMMARY_COLUMNS: &str =
    "SELECT m.id, m.member_id, m.organization_id, m.start_date, m.end_date,
    m.status, m.status_since, m.status_until, m.status_explanation, m.status_changes_on, m.locked,
    t.name AS type_name, t.color AS type_color,
    COALESCE(h.first_name || ' ' || h.last_name, o.name) AS holder_name, h.member_number";

/// The names of each row's type and holder: LEFT JOINs on primary keys,
/// which keep the memberships (and the index the filters choose) as the
/// outer loop on both databases.
const SUMMARY_JOINS: &str = "
  LEFT JOIN membership_types t ON t.id = m.current_type_id
  LEFT JOIN members h ON h.id = m.member_id
  LEFT JOIN organizations o ON o.id = m.organization_id";

/// One page of the matching memberships as lists show them, in `order`
/// (before an id: in descending id order, the nearest first): one indexed
/// read of the stored projection, no events. A page that skips rows (an
/// offset) finds its window's ids on the index alone first, so the rows it
/// skips are never read nor joined, then reads the page's rows by id; a
/// page that skips none (a first page, a cursor's) reads its rows in the
/// same walk of the index that finds them.
pub(crate) async fn fetch_page(
    tx: &mut Tx,
    f: &Filters,
    order: Order,
    window: Window,
) -> Result<Vec<SummaryRow>, Error> {
    let (offset, key) = match order {
        Order::Newest => (window.offset, None),
        Order::Id(Seek::Offset(offset)) => (offset, None),
        Order::Id(Seek::After(id)) => (0, Some((" AND m.id > ", id))),
        Order::Id(Seek::Before(id)) => (0, Some((" AND m.id < ", id))),
    };
    let by = match order {
        Order::Newest => " ORDER BY m.start_date DESC, m.id DESC",
        Order::Id(Seek::Before(_)) => " ORDER BY m.id DESC",
        Order::Id(_) => " ORDER BY m.id",
    };
    let (head, close) = if offset > 0 {
        (
            format!(
                "{SUMMARY_COLUMNS} FROM memberships m {SUMMARY_JOINS} WHERE m.id IN (SELECT m.id FROM memberships m"
            ),
            ")".to_string(),
        )
    } else {
        (
            format!("{SUMMARY_COLUMNS} FROM (SELECT m.* FROM memberships m"),
            format!(") m {SUMMARY_JOINS}"),
        )
    };
    Ok(filtered!(tx, fetch_all as SummaryRow, head, f, |qb| {
        if let Some((condition, id)) = key {
            qb.push(condition).push_bind(id);
        }
        // The window is written into the statement (integers of ours,
        // never text from a request): bound, PostgreSQL's generic plan
        // cannot tell a page from a tenth of the table, so it either scanned
        // every membership (460 ms at 1,000,000) or, in its default mode,
        // planned every page afresh (2 ms of each 3).
        qb.push(by)
            .push(format!(" LIMIT {} OFFSET {offset}", window.limit))
            .push(close)
            .push(by);
    })?)
}
