//! What the member sees of memberships (the home page and each membership
//! they hold or are a family member of) and the actions their type lets them
//! take themselves.

use super::session::{Member, accounts};
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::{Services, query};
use domain::portal::{PortalHome, PortalMembership, Reach};

/// The memberships a member reaches: held, as a family member, or through an
/// authorizing organization; each once, the closest reach first.
pub(crate) async fn reachable(tx: &mut Tx, member: Member) -> Result<Vec<(i64, Reach)>, Error> {
    let rows = query!(
        tx,
        fetch_all as (i64, i64),
        "SELECT id, CAST(0 AS BIGINT) FROM memberships WHERE business_id = $1 AND member_id = $2
         UNION
         SELECT membership_id, CAST(1 AS BIGINT) FROM membership_members WHERE business_id = $1 AND member_id = $2 AND removed_at IS NULL
         UNION
         SELECT m.id, CAST(2 AS BIGINT) FROM memberships m JOIN organization_members om ON om.organization_id = m.organization_id
          WHERE m.business_id = $1 AND om.business_id = $1 AND om.member_id = $2 AND om.removed_at IS NULL",
        member.business_id,
        member.member_id
    )?;
    let mut out: Vec<(i64, Reach)> = Vec::new();
    let mut rows = rows;
    rows.sort();
    for (id, reach) in rows {
        if out.iter().any(|(seen, _)| *seen == id) {
            continue;
        }
        let reach = match reach {
            0 => Reach::Holder,
            1 => Reach::Family,
            _ => Reach::Organization,
        };
        out.push((id, reach));
    }
    Ok(out)
}

/// The membership if the member reaches it, else `NotFound`.
pub(crate) async fn reach(tx: &mut Tx, member: Member, membership_id: i64) -> Result<Reach, Error> {
    reachable(tx, member)
        .await?
        .into_iter()
        .find(|(id, _)| *id == membership_id)
        .map(|(_, r)| r)
        .ok_or(Error::NotFound)
}

pub(crate) async fn portal_membership(
    tx: &mut Tx,
    business: &Business,
    id: i64,
    reach: Reach,
    today: chrono::NaiveDate,
) -> Result<PortalMembership, Error> {
    let stored = crate::store::memberships::load_membership(tx, business.id, id).await?;
    let types = crate::store::memberships::types(tx, business.id).await?;
    let (current, _) = crate::store::memberships::type_in_effect_pub(&types, &stored, today)?;
    let m = domain::lifecycle::Membership {
        spec: &current.spec,
        events: &stored.events,
        overdue: crate::engine::ledger::overdue_of(tx, business, id, today).await?,
    };
    let next_billing = m.next_billing(today);
    let next_amount = if reach == Reach::Holder && stored.row.payer != "organization" {
        crate::engine::invoicing::upcoming(tx, business, &types, &stored, &m, today)
            .await?
            .into_iter()
            .next()
            .map(|c| c.total)
    } else {
        None
    };
    let held_by = match reach {
        Reach::Holder => "Yours".to_string(),
        Reach::Family | Reach::Organization => {
            crate::store::memberships::holder_name(tx, business.id, &stored).await?
        }
    };
    let credits = query!(
        tx,
        fetch_optional as (i64,),
        "SELECT balance FROM credit_balances WHERE membership_id = $1 AND business_id = $2",
        id,
        business.id
    )?
    .map(|(b,)| b)
    .unwrap_or(0);
    Ok(PortalMembership {
        id,
        type_name: current.spec.name.clone(),
        reach,
        held_by,
        status: m.status(today),
        next_billing,
        next_amount,
        credits,
    })
}

/// The portal's home: the member's memberships, credits and coming bookings.
pub async fn home(services: &Services, member: Member) -> Result<PortalHome, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let today = services.today(&business);
    let (first, last, email) = query!(
        &mut tx,
        fetch_one as (String, String, String),
        "SELECT first_name, last_name, email_lc FROM members WHERE id = $1 AND business_id = $2",
        member.member_id,
        business.id
    )?;
    let mut memberships = Vec::new();
    for (id, reach) in reachable(&mut tx, member).await? {
        memberships.push(portal_membership(&mut tx, &business, id, reach, today).await?);
    }
    // Running ones first, then by newest.
    memberships.sort_by_key(|m| {
        use domain::lifecycle::Status;
        let over = matches!(
            m.status.status,
            Status::Cancelled | Status::Expired | Status::Rejected
        );
        (over, std::cmp::Reverse(m.id))
    });
    let now = crate::bookings::local_now(services, &business);
    let upcoming =
        crate::bookings::upcoming_of_member(&mut tx, &business, member.member_id, now).await?;
    let other_accounts = accounts(&mut tx, &email, Some(member.business_id))
        .await?
        .len()
        .saturating_sub(1);
    tx.commit().await?;
    Ok(PortalHome {
        business_name: business.name,
        member_name: format!("{first} {last}"),
        memberships,
        upcoming,
        other_accounts,
    })
}

/// The type's pause and cancellation rules, as the member reads them.
pub(crate) fn rules(spec: &domain::catalog::TypeSpec) -> Vec<String> {
    let p = &spec.policies;
    let mut out = Vec::new();
    match &p.pause {
        None => out.push("Pauses are not offered for this membership.".to_string()),
        Some(pause) if !pause.portal_allowed => {
            out.push("Pauses are arranged at the front desk.".to_string())
        }
        Some(pause) => out.push(match pause.max_days {
            Some(max) => format!(
                "You may pause here, for {} to {max} days at a time.",
                pause.min_days.max(1)
            ),
            None => "You may pause here.".to_string(),
        }),
    }
    out.push(if p.cancellation.portal_allowed {
        if p.min_commitment_periods > 0 {
            format!(
                "You may cancel here, at the end of a billing period, once your first {} periods are done.",
                p.min_commitment_periods
            )
        } else {
            "You may cancel here, at the end of a billing period.".to_string()
        }
    } else {
        "Cancellations are arranged at the front desk.".to_string()
    });
    out
}

/// A membership the member reaches, with its credits, their bookings with it
/// and what they may do with it. Anyone else's membership is "not found".
pub async fn membership(
    services: &Services,
    member: Member,
    id: i64,
    bookings_page: i64,
) -> Result<domain::portal::PortalMembershipPage, Error> {
    use domain::lifecycle::Status;
    use domain::memberships::ActionKind;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let today = services.today(&business);
    let reach = reach(&mut tx, member, id).await?;
    let summary = portal_membership(&mut tx, &business, id, reach, today).await?;
    let stored = crate::store::memberships::load_membership(&mut tx, business.id, id).await?;
    let types = crate::store::memberships::types(&mut tx, business.id).await?;
    let (current, _) = crate::store::memberships::type_in_effect_pub(&types, &stored, today)?;
    let credits = crate::credits::view_in(
        &mut tx,
        &business,
        id,
        &domain::credits::EntryFilter::default(),
        crate::platform::db::Window {
            offset: 0,
            limit: domain::paging::PER_PAGE,
        },
        today,
    )
    .await?;
    let family = query!(
        &mut tx,
        fetch_all as (String, String),
        "SELECT m.first_name, m.last_name FROM membership_members mm JOIN members m ON m.id = mm.member_id
          WHERE mm.business_id = $1 AND mm.membership_id = $2 AND mm.removed_at IS NULL ORDER BY m.first_name",
        business.id,
        id
    )?
    .into_iter()
    .map(|(f, l)| format!("{f} {l}"))
    .collect();
    let bookings = crate::bookings::membership_bookings(
        &mut tx,
        &business,
        id,
        Some(member.member_id),
        bookings_page,
    )
    .await?;
    // The newest page of the history.
    let mut entries = credits.entries.rows;
    if reach == Reach::Organization {
        // Colleagues share the credits, not what each other booked.
        let own: Vec<i64> = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM bookings WHERE business_id = $1 AND membership_id = $2 AND member_id = $3",
            business.id,
            id,
            member.member_id
        )?
        .into_iter()
        .map(|(b,)| b)
        .collect();
        for entry in &mut entries {
            if entry.booking_id.is_some_and(|b| !own.contains(&b)) {
                entry.by = "another member".into();
                entry.reason = "Used by another member of your organization".into();
                entry.booking_id = None;
            }
        }
    }
    tx.commit().await?;
    let status = summary.status.status;
    let mut unavailable = Vec::new();
    let actions = if reach == Reach::Holder {
        let p = &current.spec.policies;
        let name = &current.spec.name;
        let mut a = Vec::new();
        if matches!(status, Status::Active | Status::Pending) {
            match &p.pause {
                Some(pause) if pause.portal_allowed => a.push(ActionKind::Pause),
                Some(_) => unavailable.push((
                    ActionKind::Pause,
                    format!("{name} is paused with the staff, not here: ask at the desk."),
                )),
                None => {
                    unavailable.push((ActionKind::Pause, format!("{name} does not allow pauses.")))
                }
            }
        }
        if status == Status::Paused {
            a.push(ActionKind::Resume);
        }
        if matches!(status, Status::Active | Status::Paused | Status::PastDue) {
            if p.cancellation.portal_allowed {
                a.push(ActionKind::Cancel);
            } else {
                unavailable.push((
                    ActionKind::Cancel,
                    format!("{name} is cancelled with the staff, not here: ask at the desk."),
                ));
            }
        }
        a
    } else {
        Vec::new()
    };
    Ok(domain::portal::PortalMembershipPage {
        membership: summary,
        family,
        credits: entries,
        next_expiry: credits.next_expiry,
        bookings,
        actions,
        unavailable,
        rules: rules(&current.spec),
        version: stored.row.version,
        today,
    })
}

/// Only the holder changes a membership, and only as `member_command` allows.
pub(crate) async fn holder_command(
    services: &Services,
    member: Member,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionCommand, Error> {
    let command = domain::portal::member_command(form)?;
    let mut tx = services.db.begin_read().await?;
    let reach = reach(&mut tx, member, id).await?;
    tx.commit().await?;
    if reach != Reach::Holder {
        return Err(Error::Conflict(
            "Only the membership's holder can change it; ask them or the front desk.".into(),
        ));
    }
    Ok(command)
}

/// What a pause, resume or cancellation would do, decided by the type's
/// policy for a member (the same preview the staff app shows).
pub async fn preview_action(
    services: &Services,
    member: Member,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionPreview, Error> {
    let command = holder_command(services, member, id, form).await?;
    crate::engine::lifecycle::preview_as(
        services,
        &crate::platform::actor::Actor::member(member.business_id, member.member_id),
        id,
        &command,
    )
    .await
}

/// Records a pause, resume or cancellation asked for by the member.
pub async fn act(
    services: &Services,
    member: Member,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionPreview, Error> {
    let command = holder_command(services, member, id, form).await?;
    crate::engine::lifecycle::act_as(
        services,
        &crate::platform::actor::Actor::member(member.business_id, member.member_id),
        id,
        &command,
        crate::engine::lifecycle::Showing::Effect,
    )
    .await
}
