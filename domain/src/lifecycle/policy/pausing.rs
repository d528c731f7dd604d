//! Pauses and resumes, as the type's pause policy allows them.

use super::*;

pub(super) fn pause(
    m: &Membership,
    acting: Acting,
    from: NaiveDate,
    until: Option<NaiveDate>,
    today: NaiveDate,
    status: Status,
    objections: &mut Objections,
) -> Result<(Event, String), Refusal> {
    let name = &m.spec.name;
    if ended(status) || status == Status::NotApproved {
        return Err(fact(format!(
            "A {} membership cannot be paused.",
            status.label().to_lowercase()
        )));
    }
    if from < today {
        return Err(fact(format!(
            "A pause cannot start in the past: start it on {today} or later."
        )));
    }
    if until.is_some_and(|u| u <= from) {
        return Err(fact("The resume date must come after the pause starts."));
    }
    let span = Span { from, until };
    if let Some(other) = m
        .pauses()
        .into_iter()
        .find(|p| p.overlaps(&span) && p.until.is_none_or(|u| u > today))
    {
        let until = other
            .until
            .map(|u| format!("until {u}"))
            .unwrap_or_else(|| "until resumed".to_string());
        return Err(fact(format!(
            "This membership is already paused from {} {until}.",
            other.from
        )));
    }
    if let Some(end) = m.cancel_end().or(m.term_end(today))
        && from >= end
    {
        return Err(fact(format!(
            "The membership's last day is {}: a pause must start by then.",
            last_day(end)
        )));
    }
    let Some(policy) = &m.spec.policies.pause else {
        objections.object(format!("{name} does not allow pauses."));
        return Ok((Event::Paused { from, until }, pause_effect(from, until)));
    };
    if acting == Acting::Member && !policy.portal_allowed {
        objections.object(format!(
            "Pauses of {name} are arranged with the staff, not in the portal."
        ));
    }
    if let Some(max) = policy.max_days {
        let latest = from + Days::new(u64::from(max));
        match span.days() {
            None => objections.object(format!(
                "Pauses of {name} last at most {max} days: give a resume date on or before {latest}."
            )),
            Some(days) if days > i64::from(max) => objections.object(format!(
                "Pauses of {name} last at most {max} days: the latest resume date is {latest}."
            )),
            _ => {}
        }
    }
    if let Some(days) = span.days()
        && days < i64::from(policy.min_days)
    {
        objections.object(format!(
            "Pauses of {name} last at least {} days: the earliest resume date is {}.",
            policy.min_days,
            from + Days::new(u64::from(policy.min_days))
        ));
    }
    if let Some(max) = policy.max_per_year {
        let year = from.year();
        let taken = m.pauses().iter().filter(|p| p.from.year() == year).count();
        if taken as u32 >= max {
            let times = if max == 1 {
                "once".to_string()
            } else {
                format!("{max} times")
            };
            objections.object(format!(
                "{name} can be paused {times} a year and this membership has been paused {taken} time{} in {year}: the next pause can start on {}-01-01.",
                if taken == 1 { "" } else { "s" },
                year + 1
            ));
        }
    }
    if let (Some(term_end), Some(schedule)) = (m.term_end(today), m.schedule()) {
        let last_day = term_end.pred_opt().unwrap_or(term_end);
        if let Some(last) = schedule.slot_containing(last_day).map(|s| s.days)
            && from >= last.start
        {
            let latest = last.start.pred_opt().unwrap_or(last.start);
            objections.object(format!(
                    "A pause cannot start in the last period of the term, whose last day is {last_day}: the latest start is {latest}."
                ));
        }
    }
    Ok((Event::Paused { from, until }, pause_effect(from, until)))
}

pub(super) fn pause_effect(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(u) => format!(
            "Paused from {from}; resumes by itself on {u} ({} days).",
            (u - from).num_days()
        ),
        None => format!("Paused from {from} until staff resume it."),
    }
}

pub(super) fn resume(
    m: &Membership,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<(Event, String), Refusal> {
    if on < today {
        return Err(fact(format!(
            "A resume cannot be in the past: resume on {today} or later."
        )));
    }
    let Some(pause) = m
        .pauses()
        .into_iter()
        .rev()
        .find(|p| p.until.is_none_or(|u| u > today))
    else {
        return Err(fact(
            "This membership is not paused and has no pause scheduled.",
        ));
    };
    if let Some(until) = pause.until
        && on >= until
    {
        return Err(fact(format!(
            "The pause ends by itself on {until}: choose an earlier date to resume early."
        )));
    }
    let on = on.max(pause.from);
    let effect = if on == pause.from {
        format!("The pause from {} is taken back.", pause.from)
    } else {
        format!("Resumes on {on}; billing continues from then.")
    };
    Ok((Event::Resumed { on }, effect))
}
