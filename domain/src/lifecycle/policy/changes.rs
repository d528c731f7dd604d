//! Changes of what is billed: price versions, free periods, the billing date
//! and the billing cycle.

use super::*;

/// A new price version from a date (managers).
#[allow(clippy::too_many_arguments)]
pub(super) fn change_price(
    m: &Membership,
    acting: Acting,
    price_id: i64,
    fee: Money,
    when: ChangeWhen,
    today: NaiveDate,
    status: Status,
) -> Result<(Event, String), Refusal> {
    if !acting.is_manager() {
        return Err(fact(
            "Only managers and owners change a membership's price.",
        ));
    }
    let on = change_date(m, when, today, status)?;
    Ok((
        Event::PriceChanged { on, price_id, fee },
        format!("From {on} the membership is billed {fee} per period."),
    ))
}

/// The next `periods` periods free, after any free periods already given.
pub(super) fn free_periods(
    m: &Membership,
    acting: Acting,
    periods: u32,
    today: NaiveDate,
    status: Status,
) -> Result<(Event, String), Refusal> {
    if !acting.is_manager() {
        return Err(fact("Only managers and owners give free periods."));
    }
    if !(1..=12).contains(&periods) {
        return Err(fact("Give 1 to 12 free periods."));
    }
    if ended(status) {
        return Err(fact("This membership has ended; reactivate it first."));
    }
    let Some(schedule) = m.schedule() else {
        return Err(fact(
            "Only recurring memberships are billed by period; this one has no periods to give.",
        ));
    };
    let given_until = m
        .events
        .iter()
        .filter_map(|r| match r.event {
            Event::FreePeriods { until, .. } => Some(until),
            _ => None,
        })
        .max();
    let Some(next) = m.next_billing(today) else {
        return Err(fact(
            "This membership has no period left to give: it ends first.",
        ));
    };
    let from = given_until.map_or(next, |g| g.max(next));
    let Some(last) = schedule.slots_from(from).nth(periods as usize - 1) else {
        return Err(fact("This membership has no period left to give."));
    };
    let until = last.end();
    let effect = format!(
        "{periods} period{} free: nothing is charged from {from} to {}; the next charge is on {until}.",
        if periods == 1 { "" } else { "s" },
        until.pred_opt().unwrap_or(until)
    );
    Ok((
        Event::FreePeriods {
            from,
            until,
            periods,
        },
        effect,
    ))
}

/// Staff may move the billing date or switch the cycle of a running
/// recurring membership; the member asks them.
pub(super) fn billing_change_allowed(
    m: &Membership,
    acting: Acting,
    today: NaiveDate,
    status: Status,
    on: NaiveDate,
) -> Result<crate::billing::schedule::Schedule, Refusal> {
    if acting == Acting::Member {
        return Err(fact(
            "Billing dates and cycles are changed by the staff: ask at the front desk.",
        ));
    }
    if ended(status) || status == Status::NotApproved {
        return Err(fact(format!(
            "A {} membership has no billing to change.",
            status.label().to_lowercase()
        )));
    }
    let Some(schedule) = m.schedule() else {
        return Err(fact(
            "Only recurring memberships have a billing date and cycle.",
        ));
    };
    if let Some(end) = m.cancel_end().or(m.term_end(today))
        && on >= end
    {
        return Err(fact(format!(
            "The membership's last day is {}: choose that day or earlier.",
            last_day(end)
        )));
    }
    Ok(schedule)
}

/// Moves the billing date to `on`.
pub(super) fn billing_date(
    m: &Membership,
    acting: Acting,
    on: NaiveDate,
    prorate: bool,
    today: NaiveDate,
    status: Status,
) -> Result<(Event, String), Refusal> {
    let schedule = billing_change_allowed(m, acting, today, status, on)?;
    if on <= today {
        return Err(fact(format!(
            "The new billing date must be after today: choose {} or later.",
            today.succ_opt().unwrap_or(today)
        )));
    }
    let next = schedule
        .slots_from(today.succ_opt().unwrap_or(today))
        .next();
    let Some(next) = next else {
        return Err(fact("This membership has no billing date to move."));
    };
    if on >= next.end() {
        return Err(fact(format!(
            "Move the billing date by at most one period: choose a date before {}.",
            next.end()
        )));
    }
    if schedule.next_start(on) == on {
        return Err(fact(format!("{on} is already a billing date.")));
    }
    let bridge = schedule
        .slot_containing(on)
        .map(|s| s.days.start)
        .unwrap_or(on);
    let days = (on - bridge).num_days();
    let how = if prorate {
        "prorated by its days"
    } else {
        "billed as one whole period"
    };
    let effect = format!(
        "From {on} the membership is billed on that day of each period. The bridging period from {bridge} to {} ({days} day{}) is {how}.",
        on.pred_opt().unwrap_or(on),
        if days == 1 { "" } else { "s" }
    );
    Ok((Event::BillingDateChanged { on, prorate }, effect))
}

/// Starts a cycle of `interval` on `on`, as the type `type_name`.
#[allow(clippy::too_many_arguments)]
pub(super) fn switch_cycle(
    m: &Membership,
    acting: Acting,
    on: NaiveDate,
    type_name: &str,
    fee: Money,
    interval: BillingInterval,
    today: NaiveDate,
    status: Status,
) -> Result<(BillingInterval, String), Refusal> {
    let schedule = billing_change_allowed(m, acting, today, status, on)?;
    if on < today {
        return Err(fact(format!(
            "A new cycle cannot start in the past: start it on {today} or later."
        )));
    }
    let from_interval = schedule.interval_on(on);
    if from_interval == interval {
        return Err(fact(format!(
            "{type_name} is billed {} like this membership: change the type instead.",
            interval.label().to_lowercase()
        )));
    }
    let credit = match schedule.slot_containing(on) {
        Some(slot) if slot.start() < on => format!(
            " The unused days of the current period, {on} to {}, are credited.",
            slot.days.last_day()
        ),
        _ => String::new(),
    };
    let effect = format!(
        "From {on} the membership is {type_name}, billed {fee} {} from {on}.{credit}",
        interval.label().to_lowercase()
    );
    Ok((from_interval, effect))
}
