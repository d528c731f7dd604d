//! Booking a slot: a place taken with a conditional upsert, paid by an
//! included allowance, credits or money, for staff and members alike.

use super::page::{means_for, users_of};
use super::services::load_services;
use super::services::local_now;
use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::memberships::{Stored, load_membership, type_in_effect_pub, types};
use crate::{Services, query};
use chrono::{DateTime, NaiveDate, Utc};
use domain::billing::charges::{Line, LineKind};
use domain::bookings::{BookingAsk, ServiceSpec, ServiceView};
use domain::bookings::{BookingForm, PaidBy, choose_payment, may_book, member_price};
use domain::catalog::spec::Benefits;
use domain::lifecycle::Membership;
use domain::staff::Role;
use domain::{Invalid, Money};

/// Books a slot for a membership's member; returns the booking's id. The
/// form's key makes a repeated request book once.
pub async fn book(services: &Services, actor: &Actor, form: &BookingForm) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    book_as(services, actor, form).await
}

pub async fn book_as(services: &Services, by: &Actor, form: &BookingForm) -> Result<i64, Error> {
    let ask = form.parse()?;
    let key = form.key.trim();
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, by.business_id).await?;
    if let Some((id,)) = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM bookings WHERE business_id = $1 AND idempotency_key = $2",
        business.id,
        key
    )? {
        return Ok(id);
    }
    let service = bookable(&mut tx, services, &business, &ask).await?;
    let spec = &service.spec;
    let stored = load_membership(&mut tx, business.id, ask.membership_id).await?;
    let member_id = booked_for(&mut tx, business.id, &ask, &stored).await?;
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
    take_place(&mut tx, &service, &ask).await?;
    let label = by.author(&mut tx).await?.label;
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
    let paid = Paid {
        by,
        booking: id,
        membership_id: stored.row.id,
        what: &what,
        credits,
        price,
        included,
        period_start,
        today,
        now,
    };
    pay(
        &mut tx,
        &business,
        spec,
        &current.spec.benefits,
        paid_by,
        &paid,
    )
    .await?;
    if let Some(actor) = by.as_staff() {
        audit::record(
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

/// The active service the form names, with a slot at the time asked that has
/// not started yet.
async fn bookable(
    tx: &mut Tx,
    services: &Services,
    business: &Business,
    ask: &BookingAsk,
) -> Result<ServiceView, Error> {
    let service = load_services(tx, business.id)
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
    let now_local = local_now(services, business);
    if ask.starts <= now_local {
        return Err(Error::Conflict(format!(
            "{} at {} has already started.",
            spec.name,
            ask.starts.format("%Y-%m-%d %H:%M")
        )));
    }
    Ok(service)
}

/// Who a booking is for: the member the form names when they may use the
/// membership (the holder, a family member, an organization's authorized
/// member), else the holder.
async fn booked_for(
    tx: &mut Tx,
    business_id: i64,
    ask: &BookingAsk,
    stored: &Stored,
) -> Result<i64, Error> {
    let users = users_of(tx, business_id, &stored.row).await?;
    Ok(match (ask.member_id, stored.row.member_id) {
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
    })
}

/// Takes a place in the slot (a conditional upsert: concurrent bookings
/// never overbook), or says it is full.
async fn take_place(tx: &mut Tx, service: &ServiceView, ask: &BookingAsk) -> Result<(), Error> {
    let spec = &service.spec;
    // A place in the slot, or "full".
    let place =
        query!(tx, fetch_optional as (i64,),
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
    Ok(())
}

/// How a new booking is paid, for [`pay`].
struct Paid<'a> {
    by: &'a Actor,
    booking: i64,
    membership_id: i64,
    what: &'a str,
    credits: i64,
    price: Option<Money>,
    included: Option<u32>,
    period_start: NaiveDate,
    today: NaiveDate,
    now: DateTime<Utc>,
}

/// Pays for a booking: a use of the period's allowance, credits from the
/// ledger, or a fee invoice at the member price.
async fn pay(
    tx: &mut Tx,
    business: &Business,
    spec: &ServiceSpec,
    benefits: &Benefits,
    paid_by: PaidBy,
    p: &Paid<'_>,
) -> Result<(), Error> {
    let Paid {
        by,
        booking: id,
        membership_id,
        what,
        credits,
        price,
        included,
        period_start,
        today,
        now,
    } = *p;
    let discount = benefits.member_discount_percent;
    match paid_by {
        PaidBy::Allowance => {
            let used = query!(tx, fetch_optional as (i64,),
                "INSERT INTO allowance_uses (membership_id, service_name, period_start, used, allowed) VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (membership_id, service_name, period_start) DO UPDATE SET used = allowance_uses.used + 1
                  WHERE allowance_uses.used < allowance_uses.allowed
                 RETURNING used",
                membership_id, &spec.name, period_start, i64::from(included.unwrap_or(0)))?;
            if used.is_none() {
                return Err(Error::Conflict(format!(
                    "The {} included this period are used up.",
                    spec.name
                )));
            }
        }
        PaidBy::Credits => {
            crate::engine::credits::redeem(
                tx,
                business.id,
                membership_id,
                credits,
                today,
                what,
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
                tx,
                business,
                membership_id,
                today,
                vec![(
                    format!("booking:{id}"),
                    Line {
                        kind: LineKind::Fee,
                        description: what.to_string(),
                        period: None,
                        amount: price,
                        explanation,
                    },
                )],
                now,
            )
            .await?;
            query!(
                tx,
                execute,
                "UPDATE bookings SET invoice_id = $2 WHERE id = $1",
                id,
                invoice
            )?;
        }
        PaidBy::Free => {}
    }
    Ok(())
}
