//! Services and bookings: the schedule of a day, booking a slot (paid by an
//! included allowance, credits, or money), cancelling inside or outside the
//! window, and marking attendance.
//!
//! A slot's places are counted in `slot_counts` and taken with a conditional
//! upsert (`... DO UPDATE SET booked = booked + 1 WHERE booked < capacity`),
//! an allowance's uses the same way in `allowance_uses`, and credits with the
//! ledger's conditional debit: concurrent bookings never overbook and never
//! overdraw, on either database. Booking times are the business's local
//! wall-clock times.

use chrono::{NaiveDate, NaiveDateTime};
use domain::billing::charges::{Line, LineKind};
use domain::bookings::{
    BookingForm, BookingStatus, BookingView, Means, PaidBy, ScheduleView, ServiceForm, ServiceSpec,
    ServiceView, SlotView, cancelled_in_window, choose_payment, may_book, member_price,
};
use domain::lifecycle::Membership;
use domain::staff::Role;
use domain::{Invalid, Money};

use crate::platform::actor::Actor;
use crate::platform::actor::{By, who};
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::memberships::{load_membership, type_in_effect_pub, types};
use crate::{Services, query};

/// The business's local date and time now.
pub(crate) fn local_now(services: &Services, business: &Business) -> NaiveDateTime {
    let now = services
        .clock
        .now()
        .with_timezone(&business.time_zone)
        .naive_local();
    // On the simulated clock the day moves, the time of day does not.
    services.today(business).and_time(now.time())
}

async fn location_ids(tx: &mut Tx, business_id: i64) -> Result<Vec<(i64, String)>, Error> {
    Ok(query!(
        tx,
        fetch_all as (i64, String),
        "SELECT id, name FROM locations WHERE business_id = $1 ORDER BY name",
        business_id
    )?)
}

async fn load_services(tx: &mut Tx, business_id: i64) -> Result<Vec<ServiceView>, Error> {
    let rows = query!(tx, fetch_all as (i64, String, bool, Option<String>),
        "SELECT s.id, s.spec, s.active, l.name FROM services s LEFT JOIN locations l ON l.id = s.location_id
          WHERE s.business_id = $1 ORDER BY s.name",
        business_id)?;
    rows.into_iter()
        .map(|(id, spec, active, location)| {
            Ok(ServiceView {
                id,
                spec: serde_json::from_str(&spec)
                    .map_err(|e| Error::internal(format!("service {id}: {e}")))?,
                location: location.unwrap_or_else(|| "Every location".into()),
                active,
            })
        })
        .collect()
}

/// The business's services, by name. Viewers and up.
pub async fn services(services: &Services, actor: &Actor) -> Result<Vec<ServiceView>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let list = load_services(&mut tx, actor.business_id).await?;
    tx.commit().await?;
    Ok(list)
}

/// Adds a service. Managers and owners.
pub async fn create_service(
    services: &Services,
    actor: &Actor,
    form: &ServiceForm,
) -> Result<i64, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let locations: Vec<i64> = location_ids(&mut tx, business.id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let spec = form.validate(business.currency, &locations)?;
    let json = serde_json::to_string(&spec).map_err(|e| Error::internal(e.to_string()))?;
    let inserted: Result<(i64,), Error> = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO services (business_id, location_id, name, spec, active, created_at) VALUES ($1, $2, $3, $4, TRUE, $5) RETURNING id",
        business.id, spec.location_id, &spec.name, json, now)
    .map_err(Error::from);
    let (id,) = match inserted {
        Ok(row) => row,
        Err(e) if e.violates_unique("services", &["business_id", "name"]) => {
            return Err(Invalid::one("name", "a service of this name exists already").into());
        }
        Err(e) => return Err(e),
    };
    audit::by_staff(
        &mut tx,
        actor,
        "service.created",
        "service",
        Some(id),
        &spec.describe(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Takes a service off the schedule, or puts it back (bookings stay).
pub async fn set_service_active(
    services: &Services,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<(), Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let n = query!(
        &mut tx,
        execute,
        "UPDATE services SET active = $3 WHERE business_id = $1 AND id = $2",
        actor.business_id,
        id,
        active
    )?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    audit::by_staff(
        &mut tx,
        actor,
        if active {
            "service.activated"
        } else {
            "service.deactivated"
        },
        "service",
        Some(id),
        "",
        now,
    )
    .await?;
    tx.commit().await
}

#[derive(sqlx::FromRow)]
struct BookingRow {
    id: i64,
    service_id: i64,
    service: String,
    location: Option<String>,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    member_id: i64,
    first_name: String,
    last_name: String,
    membership_id: Option<i64>,
    status: String,
    paid_by: String,
    credits: i64,
    price_minor: Option<i64>,
    late: bool,
    invoice_id: Option<i64>,
    booked_by: String,
    service_spec: String,
}

const BOOKING_SELECT: &str = "SELECT b.id, b.service_id, s.name AS service, l.name AS location, b.starts_at, b.ends_at,
        b.member_id, m.first_name, m.last_name, b.membership_id, b.status, b.paid_by, b.credits, b.price_minor,
        b.late, b.invoice_id, b.booked_by, s.spec AS service_spec
   FROM bookings b JOIN services s ON s.id = b.service_id JOIN members m ON m.id = b.member_id
   LEFT JOIN locations l ON l.id = b.location_id";

fn booking_view(r: BookingRow, business: &Business) -> Result<BookingView, Error> {
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
        can_change: actor.role.allows(Role::FrontDesk),
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

/// A member's bookings, newest first (at most 200): all of them, one status,
/// or the one with `id`.
pub(crate) async fn of_member(
    tx: &mut Tx,
    business: &Business,
    member_id: i64,
    status: Option<BookingStatus>,
    id: Option<i64>,
) -> Result<Vec<BookingView>, Error> {
    let sql = format!(
        "{BOOKING_SELECT} WHERE b.business_id = $1 AND b.member_id = $2 AND ($3 = '' OR b.status = $3) AND ($4 < 0 OR b.id = $4)
          ORDER BY b.starts_at DESC, b.id DESC LIMIT 200"
    );
    let rows = query!(
        tx,
        fetch_all as BookingRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        member_id,
        status.map(|s| s.as_str()).unwrap_or(""),
        id.unwrap_or(-1)
    )?;
    rows.into_iter()
        .map(|r| booking_view(r, business))
        .collect()
}

/// A member's bookings with one membership, newest first.
pub(crate) async fn of_member_membership(
    tx: &mut Tx,
    business: &Business,
    member_id: i64,
    membership_id: i64,
) -> Result<Vec<BookingView>, Error> {
    let sql = format!(
        "{BOOKING_SELECT} WHERE b.business_id = $1 AND b.member_id = $2 AND b.membership_id = $3
          ORDER BY b.starts_at DESC, b.id DESC LIMIT 200"
    );
    let rows = query!(
        tx,
        fetch_all as BookingRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        member_id,
        membership_id
    )?;
    rows.into_iter()
        .map(|r| booking_view(r, business))
        .collect()
}

/// A membership's bookings, newest first. Viewers and up.
pub async fn of_membership(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
) -> Result<Vec<BookingView>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let list = membership_bookings(&mut tx, &business, membership_id).await?;
    tx.commit().await?;
    Ok(list)
}

/// A membership's bookings, newest first (at most 200).
async fn membership_bookings(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
) -> Result<Vec<BookingView>, Error> {
    let sql = format!(
        "{BOOKING_SELECT} WHERE b.business_id = $1 AND b.membership_id = $2 ORDER BY b.starts_at DESC, b.id DESC LIMIT 200"
    );
    query!(
        tx,
        fetch_all as BookingRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        membership_id
    )?
    .into_iter()
    .map(|r| booking_view(r, business))
    .collect()
}

/// Books a slot for a membership's member; returns the booking's id. The
/// form's key makes a repeated request book once.
pub async fn book(services: &Services, actor: &Actor, form: &BookingForm) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    book_as(services, By::Staff(actor), actor.business_id, form).await
}

pub async fn book_as(
    services: &Services,
    by: By<'_>,
    business_id: i64,
    form: &BookingForm,
) -> Result<i64, Error> {
    let ask = form.parse()?;
    let key = form.key.trim();
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    if let Some((id,)) = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM bookings WHERE business_id = $1 AND idempotency_key = $2",
        business.id,
        key
    )? {
        return Ok(id);
    }
    let service = load_services(&mut tx, business.id)
        .await?
        .into_iter()
        .find(|s| s.id == ask.service_id && s.active)
        .ok_or_else(|| Invalid::one("service_id", "choose a service on the schedule"))?;
    let spec = &service.spec;
    if !spec
        .slots_on(ask.starts.date())
        .contains(&ask.starts.time())
    {
        return Err(Invalid::one(
            "time",
            format!(
                "{} has no slot at {}; choose a time from its timetable",
                spec.name,
                ask.starts.format("%Y-%m-%d %H:%M")
            ),
        )
        .into());
    }
    let now_local = local_now(services, &business);
    if ask.starts <= now_local {
        return Err(Error::Conflict(format!(
            "{} at {} has already started.",
            spec.name,
            ask.starts.format("%Y-%m-%d %H:%M")
        )));
    }
    let stored = load_membership(&mut tx, business.id, ask.membership_id).await?;
    let users = users_of(&mut tx, business.id, &stored.row).await?;
    let member_id = match (ask.member_id, stored.row.member_id) {
        (Some(id), _) if users.iter().any(|(u, _)| *u == id) => id,
        (Some(_), _) => {
            return Err(Invalid::one(
                "member_id",
                "book for the holder, a family member, or an authorized member of the organization",
            )
            .into());
        }
        (None, Some(holder)) => holder,
        (None, None) => {
            return Err(Invalid::one(
                "member_id",
                "choose which of the organization's authorized members the booking is for",
            )
            .into());
        }
    };
    let today = services.today(&business);
    let types = types(&mut tx, business.id).await?;
    let (current, _) = type_in_effect_pub(&types, &stored, today)?;
    let m = Membership {
        spec: &current.spec,
        events: &stored.events,
        overdue: crate::engine::ledger::overdue_of(&mut tx, &business, stored.row.id, today)
            .await?,
    };
    if spec.requires_membership {
        may_book(&m.status(today)).map_err(Error::Conflict)?;
    }
    let taken = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM bookings WHERE service_id = $1 AND starts_at = $2 AND member_id = $3 AND status = 'booked'",
        service.id,
        ask.starts,
        member_id
    )?;
    if taken.is_some() {
        return Err(Error::Conflict(format!(
            "This member is already booked for {} at {}.",
            spec.name,
            ask.starts.format("%Y-%m-%d %H:%M")
        )));
    }
    crate::engine::credits::bring_up_to_date(&mut tx, &business, &types, stored.row.id, today, now)
        .await?;
    let (means, included, period_start) =
        means_for(&mut tx, stored.row.id, &m, spec, ask.starts.date()).await?;
    let paid_by = choose_payment(spec, means, ask.pay_with).map_err(|message| {
        let short_of_credits = ask.pay_with == Some(domain::bookings::PaidBy::Credits)
            && spec
                .price_credits
                .is_some_and(|c| i64::from(c) > means.credit_balance);
        if short_of_credits {
            Error::Short {
                field: "pay_with".into(),
                message,
            }
        } else {
            Error::Conflict(message)
        }
    })?;
    // A place in the slot, or "full".
    let place =
        query!(&mut tx, fetch_optional as (i64,),
        "INSERT INTO slot_counts (service_id, starts_at, booked, capacity) VALUES ($1, $2, 1, $3)
         ON CONFLICT (service_id, starts_at) DO UPDATE SET booked = slot_counts.booked + 1
          WHERE slot_counts.booked < slot_counts.capacity
         RETURNING booked",
        service.id, ask.starts, i64::from(spec.capacity))?;
    if place.is_none() {
        return Err(Error::Conflict(format!(
            "{} at {} is full: all {} places are taken.",
            spec.name,
            ask.starts.format("%Y-%m-%d %H:%M"),
            spec.capacity
        )));
    }
    let (_, _, label, _) = who(&mut tx, by).await?;
    let credits = match paid_by {
        PaidBy::Credits => i64::from(spec.price_credits.unwrap_or(0)),
        _ => 0,
    };
    let discount = current.spec.benefits.member_discount_percent;
    let price = match paid_by {
        PaidBy::Money => spec.price.map(|p| member_price(p, discount)),
        _ => None,
    };
    let ends = ask.starts + chrono::Duration::minutes(i64::from(spec.duration_minutes));
    let (id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO bookings (business_id, service_id, location_id, member_id, membership_id, starts_at, ends_at, status,
                               paid_by, credits, price_minor, late, booked_by, idempotency_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8, $9, $10, FALSE, $11, $12, $13) RETURNING id",
        business.id, service.id, spec.location_id, member_id, stored.row.id, ask.starts, ends,
        paid_by.as_str(), credits, price.map(|p| p.minor), &label, key, now)?;
    let what = format!("{} on {}", spec.name, ask.starts.format("%Y-%m-%d %H:%M"));
    match paid_by {
        PaidBy::Allowance => {
            let used = query!(&mut tx, fetch_optional as (i64,),
                "INSERT INTO allowance_uses (membership_id, service_name, period_start, used, allowed) VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (membership_id, service_name, period_start) DO UPDATE SET used = allowance_uses.used + 1
                  WHERE allowance_uses.used < allowance_uses.allowed
                 RETURNING used",
                stored.row.id, &spec.name, period_start, i64::from(included.unwrap_or(0)))?;
            if used.is_none() {
                return Err(Error::Conflict(format!(
                    "The {} included this period are used up.",
                    spec.name
                )));
            }
        }
        PaidBy::Credits => {
            crate::engine::credits::redeem(
                &mut tx,
                business.id,
                stored.row.id,
                credits,
                today,
                &what,
                Some(id),
                &format!("booking:{id}"),
                by,
                now,
            )
            .await?;
        }
        PaidBy::Money => {
            let price = price.ok_or_else(|| Error::internal("a money booking has a price"))?;
            let explanation = if discount.is_zero() {
                "booked".to_string()
            } else {
                format!(
                    "{} less the member discount of {}%",
                    spec.price.unwrap_or(price),
                    discount.normalize()
                )
            };
            let invoice = crate::engine::invoicing::write_fee_invoice(
                &mut tx,
                &business,
                stored.row.id,
                today,
                vec![(
                    format!("booking:{id}"),
                    Line {
                        kind: LineKind::Fee,
                        description: what.clone(),
                        period: None,
                        amount: price,
                        explanation,
                    },
                )],
                now,
            )
            .await?;
            query!(
                &mut tx,
                execute,
                "UPDATE bookings SET invoice_id = $2 WHERE id = $1",
                id,
                invoice
            )?;
        }
        PaidBy::Free => {}
    }
    if let By::Staff(actor) = by {
        audit::by_staff(
            &mut tx,
            actor,
            "booking.created",
            "booking",
            Some(id),
            &what,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Cancels a booking. Inside the service's window the credits (or the
/// allowance, or the money) come back; later they are kept and the late fee
/// is billed. Returns what happened, for people.
pub async fn cancel(services: &Services, actor: &Actor, id: i64) -> Result<String, Error> {
    actor.require(Role::FrontDesk)?;
    cancel_as(services, By::Staff(actor), actor.business_id, id, None).await
}

pub async fn cancel_as(
    services: &Services,
    by: By<'_>,
    business_id: i64,
    id: i64,
    only_member: Option<i64>,
) -> Result<String, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let sql = format!("{BOOKING_SELECT} WHERE b.business_id = $1 AND b.id = $2");
    let row = query!(
        &mut tx,
        fetch_optional as BookingRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        id
    )?
    .ok_or(Error::NotFound)?;
    let b = booking_view(row, &business)?;
    if only_member.is_some_and(|m| m != b.member_id) {
        return Err(Error::NotFound);
    }
    if b.status != BookingStatus::Booked {
        return Err(Error::Conflict(format!(
            "This booking is {}: only a booked one can be cancelled.",
            b.status.label().to_lowercase()
        )));
    }
    let now_local = local_now(services, &business);
    if b.starts <= now_local {
        return Err(Error::Conflict(
            "This booking has started: mark it attended or a no-show instead.".into(),
        ));
    }
    let service = load_services(&mut tx, business.id)
        .await?
        .into_iter()
        .find(|s| s.id == b.service_id)
        .ok_or_else(|| Error::internal(format!("service of booking {id}")))?;
    let spec: &ServiceSpec = &service.spec;
    let in_window = cancelled_in_window(b.starts, now_local, spec.cancel_window_hours);
    let changed = query!(
        &mut tx,
        execute,
        "UPDATE bookings SET status = 'cancelled', late = $3, cancelled_at = $4 WHERE id = $1 AND business_id = $2 AND status = 'booked'",
        id,
        business.id,
        !in_window,
        now
    )?;
    if changed == 0 {
        return Err(Error::Conflict(
            "This booking was changed by someone else; reload to see it.".into(),
        ));
    }
    query!(
        &mut tx,
        execute,
        "UPDATE slot_counts SET booked = booked - 1 WHERE service_id = $1 AND starts_at = $2 AND booked > 0",
        b.service_id,
        b.starts
    )?;
    let today = services.today(&business);
    let what = format!("{} on {}", b.service, b.starts.format("%Y-%m-%d %H:%M"));
    let membership_id = b.membership_id;
    let mut effect = if in_window {
        format!(
            "Cancelled inside the {}-hour window",
            spec.cancel_window_hours
        )
    } else {
        format!(
            "Cancelled late (less than {} hours before)",
            spec.cancel_window_hours
        )
    };
    match (in_window, b.paid_by, membership_id) {
        (true, PaidBy::Credits, Some(mid)) => {
            let n = crate::engine::credits::give_back(
                &mut tx,
                business.id,
                mid,
                id,
                today,
                &format!("cancelled: {what}"),
                by,
                now,
            )
            .await?;
            effect.push_str(&format!(
                ": {n} credit{} given back.",
                if n == 1 { "" } else { "s" }
            ));
        }
        (true, PaidBy::Allowance, Some(mid)) => {
            let stored = load_membership(&mut tx, business.id, mid).await?;
            let types = types(&mut tx, business.id).await?;
            let (current, _) = type_in_effect_pub(&types, &stored, today)?;
            let m = Membership {
                spec: &current.spec,
                events: &stored.events,
                overdue: Default::default(),
            };
            let period_start = m
                .period_on(b.starts.date())
                .map(|p| p.start)
                .unwrap_or(b.starts.date());
            query!(
                &mut tx,
                execute,
                "UPDATE allowance_uses SET used = used - 1 WHERE membership_id = $1 AND service_name = $2 AND period_start = $3 AND used > 0",
                mid,
                &b.service,
                period_start
            )?;
            effect.push_str(": the included use is given back.");
        }
        (true, PaidBy::Money, Some(mid)) => {
            if let Some(price) = b.price {
                crate::engine::invoicing::write_fee_invoice(
                    &mut tx,
                    &business,
                    mid,
                    today,
                    vec![(
                        format!("booking_cancelled:{id}"),
                        Line {
                            kind: LineKind::Fee,
                            description: format!("Cancelled: {what}"),
                            period: None,
                            amount: Money::new(-price.minor, price.currency),
                            explanation: "cancelled inside the window".into(),
                        },
                    )],
                    now,
                )
                .await?;
                effect.push_str(&format!(": {price} credited to the account."));
            }
        }
        (false, paid_by, Some(mid)) => {
            if paid_by == PaidBy::Credits {
                effect.push_str(&format!(
                    ": the {} credit{} are kept",
                    b.credits,
                    if b.credits == 1 { "" } else { "s" }
                ));
            }
            if spec.late_fee.minor > 0 {
                crate::engine::invoicing::write_fee_invoice(
                    &mut tx,
                    &business,
                    mid,
                    today,
                    vec![(
                        format!("late_fee:{id}"),
                        Line {
                            kind: LineKind::Fee,
                            description: format!("Late cancellation: {what}"),
                            period: None,
                            amount: spec.late_fee,
                            explanation: format!(
                                "cancelled less than {} hours before",
                                spec.cancel_window_hours
                            ),
                        },
                    )],
                    now,
                )
                .await?;
                effect.push_str(&format!("; a late fee of {} is billed", spec.late_fee));
            }
            effect.push('.');
        }
        _ => effect.push('.'),
    }
    if let By::Staff(actor) = by {
        audit::by_staff(
            &mut tx,
            actor,
            "booking.cancelled",
            "booking",
            Some(id),
            &effect,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(effect)
}

/// Marks a booking that has started as attended or a no-show.
pub async fn mark(
    services: &Services,
    actor: &Actor,
    id: i64,
    status: BookingStatus,
) -> Result<(), Error> {
    actor.require(Role::FrontDesk)?;
    if !matches!(status, BookingStatus::Attended | BookingStatus::NoShow) {
        return Err(Invalid::one("status", "mark attended or no-show").into());
    }
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let row = query!(
        &mut tx,
        fetch_optional as (NaiveDateTime, String),
        "SELECT starts_at, status FROM bookings WHERE business_id = $1 AND id = $2",
        business.id,
        id
    )?
    .ok_or(Error::NotFound)?;
    if row.1 == BookingStatus::Cancelled.as_str() {
        return Err(Error::Conflict(
            "A cancelled booking cannot be marked.".into(),
        ));
    }
    if row.0 > local_now(services, &business) {
        return Err(Error::Conflict(format!(
            "This booking starts at {}: mark it once it has started.",
            row.0.format("%Y-%m-%d %H:%M")
        )));
    }
    query!(
        &mut tx,
        execute,
        "UPDATE bookings SET status = $3 WHERE business_id = $1 AND id = $2",
        business.id,
        id,
        status.as_str()
    )?;
    audit::by_staff(
        &mut tx,
        actor,
        "booking.marked",
        "booking",
        Some(id),
        status.as_str(),
        now,
    )
    .await?;
    tx.commit().await
}

/// Who may book with a membership: its holder and family members, or an
/// organization's authorized members.
async fn users_of(
    tx: &mut Tx,
    business_id: i64,
    row: &crate::store::memberships::MembershipRow,
) -> Result<Vec<(i64, String)>, Error> {
    let rows = query!(tx, fetch_all as (i64, String, String),
        "SELECT m.id, m.first_name, m.last_name FROM members m
          WHERE m.business_id = $1 AND (m.id = $2
             OR m.id IN (SELECT member_id FROM membership_members WHERE membership_id = $3 AND removed_at IS NULL)
             OR m.id IN (SELECT member_id FROM organization_members WHERE organization_id = $4 AND removed_at IS NULL))
          ORDER BY m.id = $2 DESC, m.last_name, m.first_name",
        business_id, row.member_id.unwrap_or(-1), row.id, row.organization_id.unwrap_or(-1))?;
    Ok(rows
        .into_iter()
        .map(|(id, first, last)| (id, format!("{first} {last}")))
        .collect())
}

/// The booking page of a membership. Viewers see it; front desk and up book.
pub async fn booking_page(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    service_id: Option<i64>,
    day: Option<NaiveDate>,
) -> Result<domain::bookings::BookingPage, Error> {
    actor.require(Role::Viewer)?;
    booking_page_for(
        services,
        actor.business_id,
        membership_id,
        service_id,
        day,
        actor.role.allows(Role::FrontDesk),
    )
    .await
}

/// The booking page of a membership, for whoever may see it.
/// What a membership has to pay a booking of `spec` on `day` with: the
/// included uses left in that day's period, and the credit balance. Also
/// the uses included per period and that period's first day.
async fn means_for(
    tx: &mut Tx,
    membership_id: i64,
    m: &Membership<'_>,
    spec: &domain::bookings::ServiceSpec,
    day: NaiveDate,
) -> Result<(Means, Option<u32>, NaiveDate), Error> {
    let included = m
        .spec
        .benefits
        .included_services
        .iter()
        .find(|i| i.name.eq_ignore_ascii_case(&spec.name))
        .map(|i| i.per_period);
    let period_start = m.period_on(day).map(|p| p.start).unwrap_or(day);
    let allowance_left = match included {
        Some(allowed) => {
            let used = query!(tx, fetch_optional as (i64,),
                "SELECT used FROM allowance_uses WHERE membership_id = $1 AND service_name = $2 AND period_start = $3",
                membership_id, &spec.name, period_start)?
            .map_or(0, |(u,)| u);
            u32::try_from(i64::from(allowed) - used).unwrap_or(0)
        }
        None => 0,
    };
    let means = Means {
        allowance_left,
        credit_balance: crate::engine::credits::balance(tx, membership_id).await?,
        has_membership: true,
    };
    Ok((means, included, period_start))
}

/// What booking `spec` would take from the membership, in words, and the
/// money it would cost (`None` when it is paid otherwise or cannot be);
/// `price` is its price for this member (after the member discount).
fn cost_of(
    spec: &domain::bookings::ServiceSpec,
    means: Means,
    price: Option<Money>,
) -> (String, Option<Money>) {
    match choose_payment(spec, means, None) {
        Ok(PaidBy::Allowance) => (
            format!(
                "Included in your membership: {} left this period.",
                means.allowance_left
            ),
            None,
        ),
        Ok(PaidBy::Credits) => {
            let c = spec.price_credits.unwrap_or(0);
            (
                format!(
                    "Paid with {c} credit{} (you have {}).",
                    if c == 1 { "" } else { "s" },
                    means.credit_balance
                ),
                None,
            )
        }
        Ok(PaidBy::Money) => match price {
            Some(price) => (
                format!("Costs {price}: it is added to your next invoice."),
                Some(price),
            ),
            None => (format!("{} is not sold for money.", spec.name), None),
        },
        Ok(PaidBy::Free) => ("Free.".to_string(), None),
        Err(why) => (why, None),
    }
}

pub(crate) async fn booking_page_for(
    services: &Services,
    business_id: i64,
    membership_id: i64,
    service_id: Option<i64>,
    day: Option<NaiveDate>,
    can_book: bool,
) -> Result<domain::bookings::BookingPage, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    let day = day.unwrap_or(today);
    let stored = load_membership(&mut tx, business.id, membership_id).await?;
    let types = types(&mut tx, business.id).await?;
    let (current, _) = type_in_effect_pub(&types, &stored, today)?;
    let m = Membership {
        spec: &current.spec,
        events: &stored.events,
        overdue: crate::engine::ledger::overdue_of(&mut tx, &business, membership_id, today)
            .await?,
    };
    let users = users_of(&mut tx, business.id, &stored.row).await?;
    let holder = match (stored.row.member_id, stored.row.organization_id) {
        (Some(id), _) => users
            .iter()
            .find(|(u, _)| *u == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default(),
        (None, Some(org)) => {
            query!(
                &mut tx,
                fetch_one as (String,),
                "SELECT name FROM organizations WHERE business_id = $1 AND id = $2",
                business.id,
                org
            )?
            .0
        }
        (None, None) => String::new(),
    };
    let list: Vec<ServiceView> = load_services(&mut tx, business.id)
        .await?
        .into_iter()
        .filter(|s| s.active)
        .collect();
    let chosen = service_id.and_then(|id| list.iter().find(|s| s.id == id));
    let mut slots = Vec::new();
    if let Some(s) = chosen {
        for time in s.spec.slots_on(day) {
            let booked = query!(
                &mut tx,
                fetch_optional as (i64,),
                "SELECT booked FROM slot_counts WHERE service_id = $1 AND starts_at = $2",
                s.id,
                day.and_time(time)
            )?
            .map_or(0, |(b,)| b);
            let left = i64::from(s.spec.capacity) - booked;
            slots.push((time, u32::try_from(left.max(0)).unwrap_or(0)));
        }
    }
    let credit_balance = crate::engine::credits::balance(&mut tx, membership_id).await?;
    let status = m.status(today);
    let (cost, price) = match chosen {
        Some(s) => {
            let (means, _, _) = means_for(&mut tx, membership_id, &m, &s.spec, day).await?;
            let price = s
                .spec
                .price
                .map(|p| member_price(p, current.spec.benefits.member_discount_percent));
            let (text, price) = cost_of(&s.spec, means, price);
            (Some(text), price)
        }
        None => (None, None),
    };
    let bookings = membership_bookings(&mut tx, &business, membership_id).await?;
    tx.commit().await?;
    Ok(domain::bookings::BookingPage {
        membership_id,
        holder,
        type_name: current.spec.name.clone(),
        closed: may_book(&status).err(),
        status,
        credit_balance,
        cost,
        price,
        services: list
            .iter()
            .map(|s| (s.id, s.spec.name.clone(), s.spec.describe()))
            .collect(),
        service_id: chosen.map(|s| s.id),
        day,
        slots,
        bookings,
        form_key: crate::engine::ledger::new_key(),
        can_book,
        users,
    })
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
