//! Cancelling a booking (inside the window: given back; later: kept and
//! a late fee), and marking attendance.

use super::services::load_services;
use super::services::local_now;
use super::views::{BOOKING_SELECT, BookingRow, booking_view};
use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::memberships::{load_membership, type_in_effect_pub, types};
use crate::{Services, query};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::billing::charges::{Line, LineKind};
use domain::bookings::{BookingStatus, BookingView, PaidBy, ServiceSpec, cancelled_in_window};
use domain::lifecycle::Membership;
use domain::staff::Role;
use domain::{Invalid, Money};

/// Cancels a booking. Inside the service's window the credits (or the
/// allowance, or the money) come back; later they are kept and the late fee
/// is billed. Returns what happened, for people.
pub async fn cancel(services: &Services, actor: &Actor, id: i64) -> Result<String, Error> {
    actor.require(Role::FrontDesk)?;
    cancel_as(services, actor, id, None).await
}

pub async fn cancel_as(
    services: &Services,
    by: &Actor,
    id: i64,
    only_member: Option<i64>,
) -> Result<String, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, by.business_id).await?;
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
    let back = Back {
        by,
        booking: &b,
        spec,
        in_window,
        today,
        now,
    };
    settle_cancellation(&mut tx, &business, &back, &mut effect).await?;
    if let Some(actor) = by.as_staff() {
        audit::record(
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
    audit::record(
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

/// A cancelled booking, for [`settle_cancellation`].
struct Back<'a> {
    by: &'a Actor,
    booking: &'a BookingView,
    spec: &'a ServiceSpec,
    in_window: bool,
    today: NaiveDate,
    now: DateTime<Utc>,
}

/// What a cancellation gives back (inside the window: the credits, the
/// included use or the money) or keeps and bills (later: a late fee), said
/// at the end of `effect`.
async fn settle_cancellation(
    tx: &mut Tx,
    business: &Business,
    back: &Back<'_>,
    effect: &mut String,
) -> Result<(), Error> {
    let Back {
        by,
        booking: b,
        spec,
        in_window,
        today,
        now,
    } = *back;
    let id = b.id;
    let what = format!("{} on {}", b.service, b.starts.format("%Y-%m-%d %H:%M"));
    match (in_window, b.paid_by, b.membership_id) {
        (true, PaidBy::Credits, Some(mid)) => {
            let n = crate::engine::credits::give_back(
                tx,
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
            let stored = load_membership(tx, business.id, mid).await?;
            let types = types(tx, business.id).await?;
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
                tx,
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
                    tx,
                    business,
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
                    tx,
                    business,
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
    Ok(())
}
