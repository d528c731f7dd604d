//! The booking page of a slot: who may book, with what and at what cost,
//! said before anything is booked.

use super::services::load_services;
use super::views::membership_bookings;
use crate::platform::actor::Actor;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::memberships::{load_membership, type_in_effect_pub, types};
use crate::{Services, query};
use chrono::NaiveDate;
use domain::Money;
use domain::bookings::{Means, PaidBy, ServiceView, choose_payment, may_book, member_price};
use domain::lifecycle::Membership;
use domain::staff::Role;

/// The booking page of a membership. Viewers see it; front desk and up book.
pub async fn booking_page(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    service_id: Option<i64>,
    day: Option<NaiveDate>,
    page: i64,
) -> Result<domain::bookings::BookingPage, Error> {
    actor.require(Role::Viewer)?;
    booking_page_for(
        services,
        actor.business_id,
        membership_id,
        service_id,
        day,
        Viewer::Staff {
            can_book: actor.allows(Role::FrontDesk),
        },
        page,
    )
    .await
}

/// Who looks at a booking page: staff (who may book or only look), or a
/// member in the portal (who sees and books for themselves only).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Viewer {
    Staff { can_book: bool },
    Member(i64),
}

/// The booking page of a membership, for whoever may see it.
/// What a membership has to pay a booking of `spec` on `day` with: the
/// included uses left in that day's period, and the credit balance. Also
/// the uses included per period and that period's first day.
pub(crate) async fn means_for(
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
pub(crate) fn cost_of(
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
    viewer: Viewer,
    page: i64,
) -> Result<domain::bookings::BookingPage, Error> {
    let (can_book, only) = match viewer {
        Viewer::Staff { can_book } => (can_book, None),
        Viewer::Member(id) => (true, Some(id)),
    };
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
    let bookings = membership_bookings(&mut tx, &business, membership_id, only, page).await?;
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

/// Who may book with a membership: its holder and family members, or an
/// organization's authorized members.
pub(crate) async fn users_of(
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
