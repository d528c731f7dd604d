//! A membership's status, computed from its events and dates. Lists read a
//! stored copy of it (`projection`), recomputed whenever it may change.
//!
//! Events are facts with the date they take effect; the status on a day is a
//! pure function of the events, the fixed-term end, the unpaid state billing
//! reports, and that day. Each status comes with the dates and the reason that
//! produced it, so every display can say *why*.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::text_enum;
use crate::money::Money;

pub mod household;
mod membership;
pub mod policy;
pub mod projection;
pub mod request;
pub mod sale;

pub use membership::{Membership, Run, Span, runs};

/// Something that happened to a membership, with the date it takes effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Sold {
        start: NaiveDate,
        approval_required: bool,
    },
    Approved {
        on: NaiveDate,
    },
    Rejected {
        on: NaiveDate,
    },
    /// Paused from `from`; resumes by itself on `until` when set.
    Paused {
        from: NaiveDate,
        until: Option<NaiveDate>,
    },
    /// Ends the open pause on `on`.
    Resumed {
        on: NaiveDate,
    },
    /// Ends the membership on `end` (the end of the period, or today when immediate).
    CancelScheduled {
        end: NaiveDate,
    },
    /// Takes back a scheduled cancellation before it takes effect.
    CancelUndone {
        on: NaiveDate,
    },
    /// Starts a cancelled or expired membership again from `on`, history kept.
    Reactivated {
        on: NaiveDate,
    },
    /// Extends a fixed term to `until` (the first day after the new term).
    Renewed {
        on: NaiveDate,
        until: NaiveDate,
    },
    /// At the end of its term (`from`) the membership continues as its type's
    /// renewal type, until `until` (`None`: until cancelled).
    RenewedInto {
        on: NaiveDate,
        from: NaiveDate,
        until: Option<NaiveDate>,
        type_id: i64,
        type_name: String,
        price_id: i64,
    },
    /// From `on`, the membership is of another type at that type's price version.
    TypeChanged {
        on: NaiveDate,
        type_id: i64,
        type_name: String,
        price_id: i64,
    },
    /// From `on`, the membership is billed at another price version of its type.
    PriceChanged {
        on: NaiveDate,
        price_id: i64,
        fee: Money,
    },
    /// From `on`, the membership is billed on `on`'s day: periods are counted
    /// from `on`, and the period it cuts short is billed for its days
    /// (`prorate`) or as one whole period.
    BillingDateChanged {
        on: NaiveDate,
        prorate: bool,
    },
    /// From `on`, the membership is of a type billed by another interval: a new
    /// cycle starts on `on`, and the unused part of the period it cuts short
    /// is credited.
    CycleSwitched {
        on: NaiveDate,
        from_interval: crate::catalog::BillingInterval,
        interval: crate::catalog::BillingInterval,
        type_id: i64,
        type_name: String,
        price_id: i64,
    },
    /// Refuses every change until a manager unlocks it.
    Locked {
        on: NaiveDate,
    },
    Unlocked {
        on: NaiveDate,
    },
    /// A family member joins a group membership.
    FamilyMemberAdded {
        on: NaiveDate,
        member_id: i64,
        name: String,
    },
    /// A family member leaves; their history stays.
    FamilyMemberRemoved {
        on: NaiveDate,
        member_id: i64,
        name: String,
    },
    /// The days from `from` to `until` (exclusive) are given free: billing
    /// charges nothing for them, and the paid-through date moves on.
    FreePeriods {
        from: NaiveDate,
        until: NaiveDate,
        periods: u32,
    },
    /// Something billing did or saw (a failed charge, past due, suspended,
    /// restored). For the timeline only: the status reads the invoices.
    Billing {
        on: NaiveDate,
        note: BillingNote,
    },
}

/// What a billing event on the timeline says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum BillingNote {
    PaymentFailed {
        invoice_number: i64,
        reason: String,
        retry_on: Option<NaiveDate>,
    },
    PaymentReceived {
        invoice_number: i64,
        amount: Money,
    },
    PastDue {
        invoice_number: i64,
    },
    Suspended {
        invoice_number: i64,
    },
    Restored,
}

impl Event {
    /// The date the event takes effect.
    pub fn effective(&self) -> NaiveDate {
        match self {
            Event::Sold { start, .. } => *start,
            Event::RenewedInto { from, .. } => *from,
            Event::Paused { from, .. } => *from,
            Event::FreePeriods { from, .. } => *from,
            Event::CancelScheduled { end } => *end,
            Event::Approved { on }
            | Event::Rejected { on }
            | Event::Resumed { on }
            | Event::CancelUndone { on }
            | Event::Reactivated { on }
            | Event::Renewed { on, .. }
            | Event::TypeChanged { on, .. }
            | Event::PriceChanged { on, .. }
            | Event::BillingDateChanged { on, .. }
            | Event::CycleSwitched { on, .. }
            | Event::Locked { on }
            | Event::Unlocked { on }
            | Event::FamilyMemberAdded { on, .. }
            | Event::FamilyMemberRemoved { on, .. }
            | Event::Billing { on, .. } => *on,
        }
    }

    /// Every date the event names: the day it takes effect and, for a pause,
    /// a renewal or free periods, the day that part ends (a day the status
    /// or the type in effect may change on).
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> {
        let end = match self {
            Event::Paused { until, .. } => *until,
            Event::Renewed { until, .. } => Some(*until),
            Event::RenewedInto { until, .. } => *until,
            Event::FreePeriods { until, .. } => Some(*until),
            _ => None,
        };
        std::iter::once(self.effective()).chain(end)
    }

    /// The stable name stored beside the event.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Sold { .. } => "sold",
            Event::Approved { .. } => "approved",
            Event::Rejected { .. } => "rejected",
            Event::Paused { .. } => "paused",
            Event::Resumed { .. } => "resumed",
            Event::CancelScheduled { .. } => "cancel_scheduled",
            Event::CancelUndone { .. } => "cancel_undone",
            Event::Reactivated { .. } => "reactivated",
            Event::Renewed { .. } => "renewed",
            Event::RenewedInto { .. } => "renewed_into",
            Event::TypeChanged { .. } => "type_changed",
            Event::PriceChanged { .. } => "price_changed",
            Event::BillingDateChanged { .. } => "billing_date_changed",
            Event::CycleSwitched { .. } => "cycle_switched",
            Event::Locked { .. } => "locked",
            Event::Unlocked { .. } => "unlocked",
            Event::FamilyMemberAdded { .. } => "family_member_added",
            Event::FamilyMemberRemoved { .. } => "family_member_removed",
            Event::Billing { .. } => "billing",
            Event::FreePeriods { .. } => "free_periods",
        }
    }

    /// For the timeline: "Paused from 2026-11-10 until 2026-12-10".
    pub fn describe(&self) -> String {
        match self {
            Event::Sold {
                start,
                approval_required,
            } => {
                let approval = if *approval_required {
                    ", waiting for approval"
                } else {
                    ""
                };
                format!("Sold, starting {start}{approval}")
            }
            Event::Approved { on } => format!("Approved on {on}"),
            Event::Rejected { on } => format!("Rejected on {on}"),
            Event::Paused {
                from,
                until: Some(until),
            } => format!("Paused from {from} until {until}"),
            Event::Paused { from, until: None } => {
                format!("Paused from {from} until resumed")
            }
            Event::Resumed { on } => format!("Resumed on {on}"),
            Event::CancelScheduled { end } => format!("Cancelled, ending {end}"),
            Event::CancelUndone { on } => format!("Cancellation undone on {on}"),
            Event::Reactivated { on } => format!("Reactivated from {on}"),
            Event::Renewed { until, .. } => {
                format!("Renewed until {}", until.pred_opt().unwrap_or(*until))
            }
            Event::RenewedInto {
                from,
                until,
                type_name,
                ..
            } => match until.and_then(|u| u.pred_opt()) {
                Some(last) => format!("Renewed into {type_name} from {from} until {last}"),
                None => format!("Renewed into {type_name} from {from}"),
            },
            Event::TypeChanged { on, type_name, .. } => {
                format!("Changed to {type_name} from {on}")
            }
            Event::PriceChanged { on, fee, .. } => {
                format!("Moved to the price {fee} from {on}")
            }
            Event::BillingDateChanged { on, prorate } => format!(
                "Billing date moved to {on}; the bridging period is {}",
                if *prorate {
                    "prorated"
                } else {
                    "billed as one period"
                }
            ),
            Event::CycleSwitched {
                on,
                interval,
                type_name,
                ..
            } => format!(
                "Switched to {type_name}, billed {} from {on}",
                interval.label().to_lowercase()
            ),
            Event::Locked { on } => format!("Locked on {on}"),
            Event::Unlocked { on } => format!("Unlocked on {on}"),
            Event::FamilyMemberAdded { on, name, .. } => {
                format!("{name} joined as a family member on {on}")
            }
            Event::FamilyMemberRemoved { on, name, .. } => {
                format!("{name} left as a family member on {on}")
            }
            Event::FreePeriods {
                from,
                until,
                periods,
            } => format!(
                "{periods} free period{} from {from} to {}",
                if *periods == 1 { "" } else { "s" },
                until.pred_opt().unwrap_or(*until)
            ),
            Event::Billing { on, note } => match note {
                BillingNote::PaymentFailed {
                    invoice_number,
                    reason,
                    retry_on,
                } => {
                    let next = match retry_on {
                        Some(r) => format!("; next try {r}"),
                        None => "; no more automatic tries".into(),
                    };
                    format!("Charge for invoice #{invoice_number} failed on {on}: {reason}{next}")
                }
                BillingNote::PaymentReceived {
                    invoice_number,
                    amount,
                } => format!("{amount} received for invoice #{invoice_number} on {on}"),
                BillingNote::PastDue { invoice_number } => {
                    format!("Past due from {on}: invoice #{invoice_number} is unpaid")
                }
                BillingNote::Suspended { invoice_number } => {
                    format!("Suspended from {on}: invoice #{invoice_number} is unpaid")
                }
                BillingNote::Restored => format!("Restored on {on}: the balance is paid"),
            },
        }
    }
}

/// An event as recorded: who did it and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub event: Event,
    /// "a front-desk user", "the member via the portal", "API key 3", "the system".
    pub by: String,
    pub reason: String,
    /// A manager overrode the type's policy.
    #[serde(default)]
    pub forced: bool,
}

text_enum! {
    pub enum Status {
        NotApproved = ("not_approved", "Not approved"),
        Rejected = ("rejected", "Rejected"),
        Pending = ("pending", "Pending"),
        Active = ("active", "Active"),
        Paused = ("paused", "Paused"),
        PastDue = ("past_due", "Past due"),
        Suspended = ("suspended", "Suspended"),
        Cancelling = ("cancelling", "Cancelling"),
        Cancelled = ("cancelled", "Cancelled"),
        Expired = ("expired", "Expired"),
    }
}

/// Dates the status depends on besides the events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// The first day after a fixed term (exclusive end); `None` for ongoing memberships.
    pub term_end: Option<NaiveDate>,
    /// Set by billing while an invoice is unpaid past its due date and grace.
    pub overdue: crate::payments::Overdue,
    pub next_billing: Option<NaiveDate>,
}

/// A status with the dates and the reason behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub status: Status,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// For people: "paused 2026-11-10 until 2026-12-10 by a front-desk user: injury".
    pub explanation: String,
}

#[derive(Clone, Debug)]
struct Pause {
    from: NaiveDate,
    until: Option<NaiveDate>,
    by: String,
    reason: String,
}

fn with_reason(text: String, by: &str, reason: &str) -> String {
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" by {by}")
    };
    let reason = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    format!("{text}{by}{reason}")
}

/// What a membership's events tell its status from: when it started, its
/// approval, rejection and cancellation, and its pauses (each ended by a
/// resumption, if one came).
struct Told<'a> {
    start: Option<NaiveDate>,
    approval_pending: bool,
    rejected: Option<(NaiveDate, &'a Recorded)>,
    approved_on: Option<NaiveDate>,
    cancel: Option<(NaiveDate, &'a Recorded)>,
    pauses: Vec<Pause>,
}

fn told(events: &[Recorded]) -> Told<'_> {
    let mut start = None;
    let mut approval_pending = false;
    let mut rejected: Option<(NaiveDate, &Recorded)> = None;
    let mut approved_on = None;
    let mut cancel: Option<(NaiveDate, &Recorded)> = None;
    let mut pauses: Vec<Pause> = Vec::new();
    for recorded in events {
        match &recorded.event {
            Event::Sold {
                start: s,
                approval_required,
            } => {
                start = Some(*s);
                approval_pending = *approval_required;
            }
            Event::Approved { on } => {
                approval_pending = false;
                approved_on = Some(*on);
            }
            Event::Rejected { on } => rejected = Some((*on, recorded)),
            Event::Paused { from, until } => pauses.push(Pause {
                from: *from,
                until: *until,
                by: recorded.by.clone(),
                reason: recorded.reason.clone(),
            }),
            Event::Resumed { on } => {
                if let Some(open) = pauses
                    .iter_mut()
                    .rev()
                    .find(|p| p.until.is_none_or(|u| u > *on))
                {
                    open.until = Some(*on);
                }
            }
            Event::CancelScheduled { end } => cancel = Some((*end, recorded)),
            Event::CancelUndone { .. } => cancel = None,
            Event::Reactivated { on } => {
                cancel = None;
                start = Some(*on);
            }
            // Term ends come in through `facts`; types, prices and locks do not
            // change the status.
            Event::Renewed { .. }
            | Event::RenewedInto { .. }
            | Event::TypeChanged { .. }
            | Event::PriceChanged { .. }
            | Event::BillingDateChanged { .. }
            | Event::CycleSwitched { .. }
            | Event::Locked { .. }
            | Event::Unlocked { .. }
            | Event::FamilyMemberAdded { .. }
            | Event::FamilyMemberRemoved { .. }
            | Event::FreePeriods { .. }
            | Event::Billing { .. } => {}
        }
    }
    Told {
        start,
        approval_pending,
        rejected,
        approved_on,
        cancel,
        pauses,
    }
}

/// The status of a membership on `today`.
pub fn status(events: &[Recorded], facts: &Facts, today: NaiveDate) -> StatusReport {
    let Told {
        start,
        approval_pending,
        rejected,
        approved_on,
        cancel,
        pauses,
    } = told(events);
    let report = |status, since, until, explanation| StatusReport {
        status,
        since,
        until,
        explanation,
    };
    let Some(start) = start else {
        return report(Status::Pending, None, None, "not sold yet".to_string());
    };
    if let Some((on, r)) = rejected {
        return report(
            Status::Rejected,
            Some(on),
            None,
            with_reason(format!("rejected {on}"), &r.by, &r.reason),
        );
    }
    if approval_pending {
        return report(
            Status::NotApproved,
            None,
            None,
            format!("waiting for approval; would start {start}"),
        );
    }
    if let Some((end, r)) = cancel.filter(|(end, _)| *end <= today) {
        return report(
            Status::Cancelled,
            Some(end),
            None,
            with_reason(format!("cancelled, ended {end}"), &r.by, &r.reason),
        );
    }
    if let Some(end) = facts.term_end.filter(|end| *end <= today && *end > start) {
        return report(
            Status::Expired,
            Some(end),
            None,
            format!("fixed term ended {end}"),
        );
    }
    if today < start {
        let approved = approved_on
            .map(|d| format!(" (approved {d})"))
            .unwrap_or_default();
        return report(
            Status::Pending,
            None,
            Some(start),
            format!("starts {start}{approved}"),
        );
    }
    if let Some(p) = pauses
        .iter()
        .rev()
        .find(|p| p.from <= today && p.until.is_none_or(|u| today < u))
    {
        let until = p
            .until
            .map(|u| format!(" until {u}"))
            .unwrap_or_else(|| " until resumed".to_string());
        return report(
            Status::Paused,
            Some(p.from),
            p.until,
            with_reason(format!("paused {}{until}", p.from), &p.by, &p.reason),
        );
    }
    if let Some(since) = facts.overdue.suspended_since.filter(|d| *d <= today) {
        return report(
            Status::Suspended,
            Some(since),
            None,
            format!(
                "suspended since {since}: an invoice is unpaid; no access or bookings until it is paid"
            ),
        );
    }
    if let Some(since) = facts.overdue.past_due_since.filter(|d| *d <= today) {
        return report(
            Status::PastDue,
            Some(since),
            None,
            format!("past due since {since}: an invoice is unpaid"),
        );
    }
    // A pause booked for later (one resumed before it began is no pause).
    let upcoming = pauses
        .iter()
        .filter(|p| p.from > today && p.until.is_none_or(|u| u > p.from))
        .min_by_key(|p| p.from)
        .map(|p| match p.until {
            Some(u) => format!("; pauses {} until {u}", p.from),
            None => format!("; pauses from {} until resumed", p.from),
        })
        .unwrap_or_default();
    if let Some((end, r)) = cancel {
        return report(
            Status::Cancelling,
            Some(start),
            Some(end),
            with_reason(
                format!("active until {end}, then cancelled"),
                &r.by,
                &r.reason,
            ) + &upcoming,
        );
    }
    let next = facts
        .next_billing
        .map(|d| format!("; next billing {d}"))
        .unwrap_or_default();
    report(
        Status::Active,
        Some(start),
        facts.term_end,
        format!("active since {start}{next}{upcoming}"),
    )
}

#[cfg(test)]
mod tests;
