//! Bookings as pages and lists show them: a day's schedule, a member's and
//! a membership's bookings, one booking and the paged list.

use super::services::{load_services, location_ids};
use crate::platform::actor::Actor;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::{Services, query};
use chrono::{NaiveDate, NaiveDateTime};
use domain::Money;
use domain::bookings::{BookingStatus, BookingView, PaidBy, ScheduleView, ServiceSpec, SlotView};
use domain::paging::{self, Listed};
use domain::staff::Role;

#[derive(sqlx::FromRow)]
pub(crate) struct BookingRow {
    pub(crate) id: i64,
    pub(crate) service_id: i64,
    pub(crate) service: String,
    pub(crate) location: Option<String>,
    pub(crate) starts_at: NaiveDateTime,
    pub(crate) ends_at: NaiveDateTime,
    pub(crate) member_id: i64,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) membership_id: Option<i64>,
    pub(crate) status: String,
    pub(crate) paid_by: String,
    pub(crate) credits: i64,
    pub(crate) price_minor: Option<i64>,
    pub(crate) late: bool,
    pub(crate) invoice_id: Option<i64>,
    pub(crate) booked_by: String,
    pub(crate) service_spec: String,
}

pub(crate) const BOOKING_SELECT: &str = "SELECT b.id, b.service_id, s.name AS service, l.name AS location, b.starts_at, b.ends_at,
        b.member_id, m.first_name, m.last_name, b.membership_id, b.status, b.paid_by, b.credits, b.price_minor,
        b.late, b.invoice_id, b.booked_by, s.spec AS service_spec
   FROM bookings b JOIN services s ON s.id = b.service_id JOIN members m ON m.id = b.member_id
   LEFT JOIN locations l ON l.id = b.location_id";

pub(crate) fn booking_view(r: BookingRow, business: &Business) -> Result<BookingView, Error> {
    let id = r.id;
    let spec: ServiceSpec = serde_json::from_str(&r.service_spec)
        .map_err(|e| Error::internal(format!("service of booking {id}: {e}")))?;
    let paid_by = PaidBy::parse(&r.paid_by)
        .ok_or_else(|| Error::internal(format!("booking {id} paid by {}", r.paid_by)))?;
    let price = r.price_minor.map(|p| Money::new(p, business.currency));
    Ok(BookingView {
        cancel_terms: domain::bookings::cancel_terms(
            r.starts_at,
            spec.cancel_window_hours,
            paid_by,
            r.credits,
            price,
            spec.late_fee,
        ),
        id,
        service_id: r.service_id,
        service: r.service,
        location: r.location.unwrap_or_default(),
        starts: r.starts_at,
        ends: r.ends_at,
        member_id: r.member_id,
        member: format!("{} {}", r.first_name, r.last_name),
        membership_id: r.membership_id,
        status: BookingStatus::parse(&r.status)
            .ok_or_else(|| Error::internal(format!("booking {id} status {}", r.status)))?,
        paid_by,
        credits: r.credits,
        price,
        late: r.late,
        invoice_id: r.invoice_id,
        booked_by: r.booked_by,
    })
}

/// The day's slots at a location (or all), with their bookings and places.
/// Viewers and up.
pub async fn schedule(
    services: &Services,
    actor: &Actor,
    day: Option<NaiveDate>,
    location_id: Option<i64>,
) -> Result<ScheduleView, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let day = day.unwrap_or_else(|| services.today(&business));
    let locations = location_ids(&mut tx, business.id).await?;
    let list = load_services(&mut tx, business.id).await?;
    let sql = format!(
        "{BOOKING_SELECT} WHERE b.business_id = $1 AND b.starts_at >= $2 AND b.starts_at < $3 AND b.status <> 'cancelled' ORDER BY b.starts_at, b.id"
    );
    let rows = query!(
        &mut tx,
        fetch_all as BookingRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        day.and_hms_opt(0, 0, 0).expect("midnight"),
        day.succ_opt()
            .unwrap_or(day)
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
    )?;
    let visits = crate::store::bookings::scheduled_on(&mut tx, business.id, day).await?;
    tx.commit().await?;
    let bookings: Vec<BookingView> = rows
        .into_iter()
        .map(|r| booking_view(r, &business))
        .collect::<Result<_, _>>()?;
    let mut slots = Vec::new();
    for s in list.iter().filter(|s| s.active) {
        if let (Some(want), Some(at)) = (location_id, s.spec.location_id)
            && want != at
        {
            continue;
        }
        for time in s.spec.slots_on(day) {
            let starts = day.and_time(time);
            let here: Vec<BookingView> = bookings
                .iter()
                .filter(|b| b.service_id == s.id && b.starts == starts)
                .cloned()
                .collect();
            slots.push(SlotView {
                service_id: s.id,
                service: s.spec.name.clone(),
                location: s.location.clone(),
                starts,
                capacity: s.spec.capacity,
                booked: here.len() as u32,
                bookings: here,
            });
        }
    }
    slots.sort_by(|a, b| (a.starts, &a.service).cmp(&(b.starts, &b.service)));
    Ok(ScheduleView {
        day,
        location_id,
        locations,
        slots,
        visits,
        can_change: actor.allows(Role::FrontDesk),
    })
}

/// A member's bookings that have not started yet, soonest first (at most 20).
pub(crate) async fn upcoming_of_member(
    tx: &mut Tx,
    business: &Business,
    member_id: i64,
    now: NaiveDateTime,
) -> Result<Vec<BookingView>, Error> {
    let sql = format!(
        "{BOOKING_SELECT} WHERE b.business_id = $1 AND b.member_id = $2 AND b.status = 'booked' AND b.starts_at >= $3 ORDER BY b.starts_at, b.id LIMIT 20"
    );
    let rows = query!(
        tx,
        fetch_all as BookingRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        member_id,
        now
    )?;
    rows.into_iter()
        .map(|r| booking_view(r, business))
        .collect()
}

/// How many bookings a member's or a membership's list shows per page.
pub const BOOKINGS_PER_PAGE: i64 = 50;

/// A page of the bookings matching `conditions` (written here from typed
/// values, with the business as $1 and `id` as $2), newest first, and how
/// many match in all.
async fn newest_first(
    tx: &mut Tx,
    business: &Business,
    conditions: &str,
    id: i64,
    page: i64,
) -> Result<Listed<BookingView>, Error> {
    let (total,) = query!(
        tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM bookings b WHERE {conditions}"
        )),
        business.id,
        id
    )?;
    let rows = query!(
        tx,
        fetch_all as BookingRow,
        sqlx::AssertSqlSafe(format!(
            "{BOOKING_SELECT} WHERE {conditions} ORDER BY b.starts_at DESC, b.id DESC LIMIT $3 OFFSET $4"
        )),
        business.id,
        id,
        BOOKINGS_PER_PAGE,
        paging::offset_of(page, BOOKINGS_PER_PAGE)
    )?;
    Ok(Listed {
        rows: rows
            .into_iter()
            .map(|r| booking_view(r, business))
            .collect::<Result<_, Error>>()?,
        total,
        page,
        per_page: BOOKINGS_PER_PAGE,
    })
}

/// A page of a member's bookings, newest first: all of them or one status.
pub(crate) async fn of_member(
    tx: &mut Tx,
    business: &Business,
    member_id: i64,
    status: Option<BookingStatus>,
    page: i64,
) -> Result<Listed<BookingView>, Error> {
    let mut conditions = String::from("b.business_id = $1 AND b.member_id = $2");
    if let Some(status) = status {
        conditions.push_str(&format!(" AND b.status = '{}'", status.as_str()));
    }
    newest_first(tx, business, &conditions, member_id, page).await
}

/// One of a member's bookings.
pub(crate) async fn booking_of_member(
    tx: &mut Tx,
    business: &Business,
    member_id: i64,
    id: i64,
) -> Result<Option<BookingView>, Error> {
    let sql =
        format!("{BOOKING_SELECT} WHERE b.business_id = $1 AND b.member_id = $2 AND b.id = $3");
    query!(
        tx,
        fetch_optional as BookingRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        member_id,
        id
    )?
    .map(|r| booking_view(r, business))
    .transpose()
}

/// A page of a membership's bookings, newest first. Viewers and up.
pub async fn of_membership(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    page: i64,
) -> Result<Listed<BookingView>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let list = membership_bookings(&mut tx, &business, membership_id, None, page).await?;
    tx.commit().await?;
    Ok(list)
}

/// A page of a membership's bookings, newest first: everyone's, or one
/// member's (what a member sees in the portal).
pub(crate) async fn membership_bookings(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
    member_id: Option<i64>,
    page: i64,
) -> Result<Listed<BookingView>, Error> {
    let mut conditions = String::from("b.business_id = $1 AND b.membership_id = $2");
    if let Some(member_id) = member_id {
        conditions.push_str(&format!(" AND b.member_id = {member_id}"));
    }
    newest_first(tx, business, &conditions, membership_id, page).await
}

/// The API's booking list filters, combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookingListFilter {
    pub status: Option<BookingStatus>,
    pub member_id: Option<i64>,
    pub membership_id: Option<i64>,
    pub service_id: Option<i64>,
    /// Starting on these days (both included), in the business's time.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// A window of the business's bookings in id order, and how many match.
pub async fn page_of_bookings(
    services: &Services,
    actor: &Actor,
    filter: &BookingListFilter,
    window: crate::platform::db::Window,
) -> Result<(Vec<BookingView>, i64), Error> {
    actor.require(Role::Viewer)?;
    let conditions = "b.business_id = $1 AND ($2 = '' OR b.status = $2) AND ($3 = 0 OR b.member_id = $3)
        AND ($4 = 0 OR b.membership_id = $4) AND ($5 = 0 OR b.service_id = $5) AND b.starts_at >= $6 AND b.starts_at < $7";
    let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight");
    let from = day(filter
        .from
        .unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).expect("a date")));
    let to = day(filter
        .to
        .and_then(|d| d.succ_opt())
        .unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date")));
    let status = filter.status.map(|s| s.as_str()).unwrap_or("");
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let (count,) = query!(
        &mut tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM bookings b WHERE {conditions}"
        )),
        business.id,
        status,
        filter.member_id.unwrap_or(0),
        filter.membership_id.unwrap_or(0),
        filter.service_id.unwrap_or(0),
        from,
        to
    )?;
    let rows = query!(
        &mut tx,
        fetch_all as BookingRow,
        sqlx::AssertSqlSafe(format!(
            "{BOOKING_SELECT} WHERE {conditions} ORDER BY b.id LIMIT $8 OFFSET $9"
        )),
        business.id,
        status,
        filter.member_id.unwrap_or(0),
        filter.membership_id.unwrap_or(0),
        filter.service_id.unwrap_or(0),
        from,
        to,
        window.limit,
        window.offset
    )?;
    tx.commit().await?;
    let bookings = rows
        .into_iter()
        .map(|r| booking_view(r, &business))
        .collect::<Result<_, _>>()?;
    Ok((bookings, count))
}

/// One booking of the business. Viewers and up.
pub async fn booking(services: &Services, actor: &Actor, id: i64) -> Result<BookingView, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let row = query!(
        &mut tx,
        fetch_optional as BookingRow,
        sqlx::AssertSqlSafe(format!(
            "{BOOKING_SELECT} WHERE b.business_id = $1 AND b.id = $2"
        )),
        business.id,
        id
    )?;
    tx.commit().await?;
    booking_view(row.ok_or(Error::NotFound)?, &business)
}
