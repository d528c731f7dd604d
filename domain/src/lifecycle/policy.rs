//! The policy engine: every change to a membership is asked for here and
//! either becomes an event or is refused with a message that says what is
//! allowed instead.
//!
//! Two kinds of refusal: the facts (a cancelled membership cannot be paused;
//! a resume date comes after the start) are never overridden; the type's
//! policy (pause length, commitment, notice) can be overridden by a manager
//! who gives a reason, and the event records that it was forced.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{Event, Membership, Span, Status};
use crate::catalog::BillingInterval;
use crate::catalog::spec::CancelTiming;
use crate::catalog::text_enum;
use crate::money::Money;

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acting {
    FrontDesk,
    /// A manager or an owner: may approve, lock and override the policy.
    Manager,
    /// The member, through the portal.
    Member,
    /// The scheduler or an integration acting for the business.
    System,
}

impl Acting {
    fn is_manager(self) -> bool {
        matches!(self, Acting::Manager | Acting::System)
    }
}

text_enum! {
    /// When a cancellation takes effect.
    pub enum CancelWhen {
        PeriodEnd = ("period_end", "At the end of the current period"),
        Earliest = ("earliest", "On the earliest date the policy allows"),
        Immediately = ("immediately", "Immediately"),
    }
}

text_enum! {
    /// When a change of type or price takes effect.
    pub enum ChangeWhen {
        Now = ("now", "Now"),
        NextPeriod = ("next_period", "At the next period"),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Pause {
        from: NaiveDate,
        until: Option<NaiveDate>,
    },
    Resume {
        on: NaiveDate,
    },
    Cancel {
        when: CancelWhen,
    },
    /// Undo a cancellation before it takes effect, or start again after it.
    Reactivate {
        on: NaiveDate,
    },
    Approve,
    Reject,
    Lock,
    Unlock,
    Renew,
    /// Renew into the type's renewal type (the backend fills it in for types
    /// whose end action says so).
    RenewInto(RenewTarget),
    ChangeType {
        type_id: i64,
        type_name: String,
        price_id: i64,
        when: ChangeWhen,
    },
    ChangePrice {
        price_id: i64,
        fee: Money,
        when: ChangeWhen,
    },
    /// Give the next `periods` billing periods free (managers, with a reason).
    AddFreePeriods {
        periods: u32,
    },
    /// Bill on `on`'s day from `on`; the bridging period before it is
    /// prorated or billed as one period.
    ChangeBillingDate {
        on: NaiveDate,
        prorate: bool,
    },
    /// Move to a type billed by another interval, starting its cycle on `on`.
    SwitchCycle {
        on: NaiveDate,
        type_id: i64,
        type_name: String,
        price_id: i64,
        fee: Money,
        interval: BillingInterval,
    },
}

/// The type a membership renews into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewTarget {
    pub type_id: i64,
    pub type_name: String,
    pub price_id: i64,
    pub term: crate::catalog::spec::Term,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub action: Action,
    pub reason: String,
    /// Override the type's policy (managers only, with a reason).
    pub force: bool,
}

/// An accepted change: the event to record and what it will do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub event: Event,
    /// The policy was overridden.
    pub forced: bool,
    /// For people: "Paused from 2026-11-10 until 2026-12-10; billing skips the pause."
    pub effect: String,
}

/// Why a change is refused, and whether a manager could override it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub message: String,
    pub overridable: bool,
    /// The business's policy objects (rather than a fact of the membership's
    /// state, such as pausing a cancelled membership).
    #[serde(default)]
    pub policy: bool,
    /// Set when the request lacks something the person must fill in (a
    /// reason): a form shows the message by that field.
    #[serde(default)]
    pub field: Option<String>,
}

fn fact(message: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        overridable: false,
        policy: false,
        field: None,
    }
}

/// The reason field is empty where one is required.
fn reason_needed(message: &str) -> Refusal {
    Refusal {
        field: Some("reason".into()),
        ..fact(message)
    }
}

/// Collects the policy's objections to one request.
struct Objections(Vec<String>);

impl Objections {
    fn object(&mut self, message: impl Into<String>) {
        self.0.push(message.into());
    }
}

/// Decides a request about a membership on `today`.
pub fn decide(
    m: &Membership,
    acting: Acting,
    request: &Request,
    today: NaiveDate,
) -> Result<Decision, Refusal> {
    may_ask(m, acting, request)?;
    let report = m.status(today);
    let mut objections = Objections(Vec::new());
    let (event, effect) = match &request.action {
        Action::Pause { from, until } => pause(
            m,
            acting,
            *from,
            *until,
            today,
            report.status,
            &mut objections,
        )?,
        Action::Resume { on } => resume(m, *on, today)?,
        Action::Cancel { when } => cancel(m, acting, *when, today, report.status, &mut objections)?,
        Action::Reactivate { on } => reactivate(*on, today, report.status)?,
        Action::Approve | Action::Reject => approval(
            m,
            acting,
            request.action == Action::Approve,
            today,
            report.status,
        )?,
        Action::Lock | Action::Unlock => locking(m, acting, request.action == Action::Lock, today)?,
        Action::Renew => renew(m, acting, None, today, report.status)?,
        Action::RenewInto(target) => renew(m, acting, Some(target), today, report.status)?,
        Action::ChangeType {
            type_id,
            type_name,
            price_id,
            when,
        } => {
            let on = change_date(m, *when, today, report.status)?;
            (
                Event::TypeChanged {
                    on,
                    type_id: *type_id,
                    type_name: type_name.clone(),
                    price_id: *price_id,
                },
                format!("From {on} the membership is {type_name}."),
            )
        }
        Action::AddFreePeriods { periods } => {
            free_periods(m, acting, *periods, today, report.status)?
        }
        Action::ChangeBillingDate { on, prorate } => {
            billing_date(m, acting, *on, *prorate, today, report.status)?
        }
        Action::SwitchCycle {
            on,
            type_id,
            type_name,
            price_id,
            fee,
            interval,
        } => {
            let (from_interval, effect) = switch_cycle(
                m,
                acting,
                *on,
                type_name,
                *fee,
                *interval,
                today,
                report.status,
            )?;
            (
                Event::CycleSwitched {
                    on: *on,
                    from_interval,
                    interval: *interval,
                    type_id: *type_id,
                    type_name: type_name.clone(),
                    price_id: *price_id,
                },
                effect,
            )
        }
        Action::ChangePrice {
            price_id,
            fee,
            when,
        } => change_price(m, acting, *price_id, *fee, *when, today, report.status)?,
    };
    let forced = !objections.0.is_empty();
    if forced && !request.force {
        let mut message = objections.0.join(" ");
        if acting.is_manager() {
            message.push_str(" A manager can override this with a reason.");
        }
        return Err(Refusal {
            message,
            overridable: acting.is_manager(),
            policy: true,
            field: None,
        });
    }
    Ok(Decision {
        event,
        forced,
        effect,
    })
}

/// What any request must bring before its action is weighed: an override
/// only by a manager with a reason, nothing on a locked membership but
/// unlocking it, and a reason from staff for the changes that need one.
fn may_ask(m: &Membership, acting: Acting, request: &Request) -> Result<(), Refusal> {
    let reason = request.reason.trim();
    if request.force {
        if !acting.is_manager() {
            return Err(fact("Only managers and owners can override the policy."));
        }
        if reason.is_empty() {
            return Err(reason_needed("Give a reason for overriding the policy."));
        }
    }
    if m.locked() && request.action != Action::Unlock {
        return Err(fact(
            "This membership is locked: a manager must unlock it before it can change.",
        ));
    }
    let needs_reason = matches!(
        request.action,
        Action::Pause { .. }
            | Action::Cancel { .. }
            | Action::Reject
            | Action::Lock
            | Action::AddFreePeriods { .. }
            | Action::ChangeBillingDate { .. }
    );
    // Staff explain their changes; a member's own pause or cancellation may
    // come without one (the portal asks, optionally).
    if needs_reason && reason.is_empty() && acting != Acting::Member {
        return Err(reason_needed(
            "Give a reason: it is kept on the membership's timeline.",
        ));
    }
    Ok(())
}

/// Approving or rejecting a membership that waits for approval (managers).
fn approval(
    m: &Membership,
    acting: Acting,
    approve: bool,
    today: NaiveDate,
    status: Status,
) -> Result<(Event, String), Refusal> {
    if !acting.is_manager() {
        return Err(fact(
            "Only managers and owners approve or reject memberships.",
        ));
    }
    if status != Status::NotApproved {
        return Err(fact(format!(
            "Only memberships waiting for approval can be approved or rejected; this one is {}.",
            status.label().to_lowercase()
        )));
    }
    Ok(if approve {
        let start = m.anchor().unwrap_or(today);
        (
            Event::Approved { on: today },
            format!("Approved; the membership starts {}.", start.max(today)),
        )
    } else {
        (
            Event::Rejected { on: today },
            "Rejected; the membership will not start.".to_string(),
        )
    })
}

/// Locking or unlocking a membership (managers).
fn locking(
    m: &Membership,
    acting: Acting,
    lock: bool,
    today: NaiveDate,
) -> Result<(Event, String), Refusal> {
    if !acting.is_manager() {
        return Err(fact("Only managers and owners lock or unlock memberships."));
    }
    if lock == m.locked() {
        return Err(fact(if lock {
            "This membership is already locked."
        } else {
            "This membership is not locked."
        }));
    }
    Ok(if lock {
        (
            Event::Locked { on: today },
            "Locked: every change is refused until a manager unlocks it.".to_string(),
        )
    } else {
        (
            Event::Unlocked { on: today },
            "Unlocked: changes are allowed again.".to_string(),
        )
    })
}

/// A new price version from a date (managers).
#[allow(clippy::too_many_arguments)]
fn change_price(
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
fn free_periods(
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
fn billing_change_allowed(
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
fn billing_date(
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
fn switch_cycle(
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

fn ended(status: Status) -> bool {
    matches!(
        status,
        Status::Cancelled | Status::Expired | Status::Rejected
    )
}

fn pause(
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

fn pause_effect(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(u) => format!(
            "Paused from {from}; resumes by itself on {u} ({} days).",
            (u - from).num_days()
        ),
        None => format!("Paused from {from} until staff resume it."),
    }
}

fn resume(m: &Membership, on: NaiveDate, today: NaiveDate) -> Result<(Event, String), Refusal> {
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

/// The earliest end date the commitment and notice allow, and why.
fn earliest_end(m: &Membership, today: NaiveDate) -> (NaiveDate, Option<String>) {
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

fn cancel(
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
fn last_day(end: NaiveDate) -> NaiveDate {
    end.pred_opt().unwrap_or(end)
}

fn reactivate(on: NaiveDate, today: NaiveDate, status: Status) -> Result<(Event, String), Refusal> {
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

fn renew(
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
        let until = super::membership::term_end_from(&target.term, end);
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
    let Some(until) = super::membership::term_end_from(&m.spec.term, end).filter(|u| *u > end)
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

fn change_date(
    m: &Membership,
    when: ChangeWhen,
    today: NaiveDate,
    status: Status,
) -> Result<NaiveDate, Refusal> {
    if ended(status) || status == Status::NotApproved {
        return Err(fact(format!(
            "A {} membership cannot change its type or price.",
            status.label().to_lowercase()
        )));
    }
    let anchor = m.anchor().unwrap_or(today);
    Ok(match when {
        ChangeWhen::Now => today.max(anchor),
        ChangeWhen::NextPeriod => m
            .next_billing(today)
            .or_else(|| m.period_on(today).map(|p| p.end))
            .unwrap_or(today.max(anchor)),
    })
}

#[cfg(test)]
mod tests;
