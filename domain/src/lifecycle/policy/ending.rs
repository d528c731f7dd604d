//! Ending a membership and starting it again: cancellations (the earliest
//! allowed end), reactivation and renewal.

use super::*;

/// The earliest end date the commitment and notice allow, and why.
pub(super) fn earliest_end(m: &Membership, today: NaiveDate) -> (NaiveDate, Option<String>) {
    let name = &m.spec.name;
    let policies = &m.spec.policies;
    let mut earliest = today;
    let mut why = None;
    if let Some(end) = m.commitment_end().filter(|end| *end > earliest) {
        earliest = end;
        why = Some(format!(
            "{name} has a minimum commitment of {} period{}",
            policies.min_commitment_periods,
            if policies.min_commitment_periods == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    let notice = today + Days::new(u64::from(policies.notice_days));
    if policies.notice_days > 0 && notice > earliest {
        earliest = notice;
        why = Some(format!(
            "{name} needs {} days' notice",
            policies.notice_days
        ));
    }
    // A membership billed by period ends at a period boundary.
    if let Some(schedule) = m.schedule()
        && policies.cancellation.timing == CancelTiming::AtPeriodEnd
        && earliest >= schedule.anchor()
    {
        let boundary = schedule.next_start(earliest.max(today.succ_opt().unwrap_or(today)));
        if boundary > earliest && why.is_none() {
            why = Some(format!("{name} cancels at the end of a period"));
        }
        earliest = boundary;
    }
    (earliest, why)
}

pub(super) fn cancel(
    m: &Membership,
    acting: Acting,
    when: CancelWhen,
    today: NaiveDate,
    status: Status,
    objections: &mut Objections,
) -> Result<(Event, String), Refusal> {
    if status == Status::Cancelling {
        let end = m.cancel_end().unwrap_or(today);
        return Err(fact(format!(
            "This membership is already cancelling: its last day is {}; reactivate it to take the cancellation back.",
            last_day(end)
        )));
    }
    if ended(status) {
        return Err(fact(format!(
            "This membership has already ended ({}).",
            status.label().to_lowercase()
        )));
    }
    let name = &m.spec.name;
    if acting == Acting::Member && !m.spec.policies.cancellation.portal_allowed {
        objections.object(format!(
            "{name} is cancelled with the staff, not in the portal."
        ));
    }
    let anchor = m.anchor().unwrap_or(today);
    let period_end = if today < anchor {
        anchor
    } else {
        m.period_on(today)
            .map(|p| p.end)
            .or(m.term_end(today))
            .unwrap_or(today)
    };
    let (earliest, why) = earliest_end(m, today);
    let end = match when {
        CancelWhen::Immediately => today,
        CancelWhen::PeriodEnd => period_end,
        CancelWhen::Earliest => earliest.max(today),
    };
    if when == CancelWhen::Immediately
        && m.spec.policies.cancellation.timing == CancelTiming::AtPeriodEnd
        && today >= anchor
        && end < period_end
    {
        objections.object(format!(
            "{name} is cancelled at the end of a period, not immediately: the earliest last day is {}.",
            last_day(earliest.max(period_end))
        ));
    } else if end < earliest {
        let why = why.unwrap_or_else(|| format!("{name}'s policy"));
        objections.object(format!(
            "{why}: the earliest allowed last day is {}.",
            last_day(earliest)
        ));
    }
    if let Some(term_end) = m.term_end(today)
        && end > term_end
    {
        return Err(fact(format!(
            "The fixed term ends by itself after its last day, {}: there is nothing to cancel after it.",
            last_day(term_end)
        )));
    }
    let effect = if end <= today {
        format!("Ends now: {end} is not covered and nothing more is billed.")
    } else {
        format!(
            "Stays active through {}, its last day; nothing is billed after it.",
            last_day(end)
        )
    };
    Ok((Event::CancelScheduled { end }, effect))
}

/// The last day of something that ends on `end` (its first day not covered).
pub(super) fn last_day(end: NaiveDate) -> NaiveDate {
    end.pred_opt().unwrap_or(end)
}

pub(super) fn reactivate(
    on: NaiveDate,
    today: NaiveDate,
    status: Status,
) -> Result<(Event, String), Refusal> {
    match status {
        Status::Cancelling => Ok((
            Event::CancelUndone { on: today },
            "The cancellation is taken back; the membership continues as before.".to_string(),
        )),
        Status::Cancelled | Status::Expired => {
            if on < today {
                return Err(fact(format!(
                    "A reactivation cannot start in the past: choose {today} or later."
                )));
            }
            Ok((
                Event::Reactivated { on },
                format!("Starts again on {on} with a new first period; the history is kept."),
            ))
        }
        other => Err(fact(format!(
            "Only cancelling, cancelled or expired memberships can be reactivated; this one is {}.",
            other.label().to_lowercase()
        ))),
    }
}

pub(super) fn renew(
    m: &Membership,
    acting: Acting,
    into: Option<&RenewTarget>,
    today: NaiveDate,
    status: Status,
) -> Result<(Event, String), Refusal> {
    let Some(end) = m.term_end(today) else {
        return Err(fact(
            "Only fixed-term memberships are renewed; this one runs until cancelled.",
        ));
    };
    // The scheduler renews at the term's end even when it runs a day late;
    // people reactivate an expired membership instead.
    if status == Status::Expired && acting != Acting::System {
        return Err(fact(format!(
            "This membership expired on {end}: reactivate it to start a new term."
        )));
    }
    if matches!(status, Status::Cancelled | Status::Rejected)
        || status == Status::Cancelling
        || status == Status::NotApproved
    {
        return Err(fact(format!(
            "A {} membership cannot be renewed.",
            status.label().to_lowercase()
        )));
    }
    if let Some(target) = into {
        let until = crate::lifecycle::membership::term_end_from(&target.term, end);
        let runs = match until {
            Some(u) => format!("until {}", u.pred_opt().unwrap_or(u)),
            None => "until cancelled".to_string(),
        };
        return Ok((
            Event::RenewedInto {
                on: today,
                from: end,
                until,
                type_id: target.type_id,
                type_name: target.type_name.clone(),
                price_id: target.price_id,
            },
            format!("Renewed into {} from {end}, {runs}.", target.type_name),
        ));
    }
    let Some(until) =
        crate::lifecycle::membership::term_end_from(&m.spec.term, end).filter(|u| *u > end)
    else {
        return Err(fact(format!(
            "{} has no further term after {end}: add the next season to the type first.",
            m.spec.name
        )));
    };
    Ok((
        Event::Renewed { on: today, until },
        format!(
            "Renewed: the term now ends {}.",
            until.pred_opt().unwrap_or(until)
        ),
    ))
}
