//! What a membership's row carries so that lists filter, sort and count in
//! SQL: the status on a day with its reason, the date it may next change by
//! itself, the type and price in effect, the next billing date and the amount
//! overdue. It is a cache of [`Membership::status`] and friends, never the
//! source: a membership's page still explains its status from the events,
//! and `server check` compares every stored projection with a recomputation.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{Membership, Status, StatusReport};
use crate::catalog::text_enum;
use crate::payments::Dunning;

text_enum! {
    /// Why a membership has its status, in a word a list can filter on.
    pub enum Reason {
        NotSold = ("not_sold", "Not sold yet"),
        AwaitingApproval = ("awaiting_approval", "Waiting for approval"),
        Rejected = ("rejected", "Rejected"),
        StartsLater = ("starts_later", "Starts later"),
        Running = ("running", "Running"),
        PausedUntil = ("paused_until", "Paused until a date"),
        PausedOpen = ("paused_open", "Paused until resumed"),
        UnpaidPastDue = ("unpaid_past_due", "An invoice is past due"),
        UnpaidSuspended = ("unpaid_suspended", "Suspended for an unpaid invoice"),
        CancelScheduled = ("cancel_scheduled", "Cancellation scheduled"),
        Cancelled = ("cancelled", "Cancelled"),
        TermEnded = ("term_ended", "Fixed term ended"),
    }
}

impl Reason {
    /// The reason behind a status report.
    pub fn of(report: &StatusReport) -> Reason {
        match report.status {
            Status::NotApproved => Reason::AwaitingApproval,
            Status::Rejected => Reason::Rejected,
            Status::Pending if report.until.is_none() => Reason::NotSold,
            Status::Pending => Reason::StartsLater,
            Status::Active => Reason::Running,
            Status::Paused if report.until.is_none() => Reason::PausedOpen,
            Status::Paused => Reason::PausedUntil,
            Status::PastDue => Reason::UnpaidPastDue,
            Status::Suspended => Reason::UnpaidSuspended,
            Status::Cancelling => Reason::CancelScheduled,
            Status::Cancelled => Reason::Cancelled,
            Status::Expired => Reason::TermEnded,
        }
    }
}

/// An unpaid open invoice of the membership: its due date and what is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unpaid {
    pub due: NaiveDate,
    pub minor: i64,
}

/// The stored projection of a membership on a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    pub status: Status,
    pub reason: Reason,
    /// The rest of the status report, as lists show it: since and until
    /// when, and the explanation (a function of the events and of the same
    /// dates as the other fields, so it holds until `changes_on` too).
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub explanation: String,
    /// Whether staff locked it against changes.
    pub locked: bool,
    /// The first day after `on` on which any of the other fields may differ
    /// (a pause starting or ending, a cancellation or term taking effect, a
    /// billing date, an invoice falling due or past due); `None` when nothing
    /// changes by itself. It may be early (the row is recomputed and found
    /// unchanged), never late.
    pub changes_on: Option<NaiveDate>,
    pub type_id: i64,
    pub price_id: i64,
    pub next_billing: Option<NaiveDate>,
    /// Left to pay on open invoices whose due date has passed, in minor units.
    pub overdue_minor: i64,
}

/// The projection of `m` (whose type in effect is `in_effect`, type and price
/// version) on `today`, given its unpaid invoices and the business's dunning.
pub fn project(
    m: &Membership<'_>,
    in_effect: (i64, i64),
    dunning: &Dunning,
    unpaid: &[Unpaid],
    today: NaiveDate,
) -> Projection {
    let oldest_due = unpaid.iter().map(|u| u.due).min();
    let m = Membership {
        overdue: dunning.overdue(oldest_due, today),
        ..*m
    };
    let report = m.status(today);
    let next_billing = m.next_billing(today);
    let overdue_minor = unpaid
        .iter()
        .filter(|u| u.due < today)
        .map(|u| u.minor)
        .sum();
    let after = |d: NaiveDate, n: u32| d.checked_add_days(Days::new(n.into()));
    let from_events = m.events.iter().flat_map(|r| r.event.dates());
    let from_dates = [
        m.term_end(today),
        m.cancel_end(),
        m.commitment_end(),
        next_billing,
        report.until,
    ]
    .into_iter()
    .flatten();
    let from_invoices = unpaid.iter().flat_map(|u| {
        [
            after(u.due, 1),
            after(u.due, dunning.past_due_after),
            after(u.due, dunning.suspend_after),
        ]
        .into_iter()
        .flatten()
    });
    let changes_on = from_events
        .chain(from_dates)
        .chain(from_invoices)
        .filter(|d| *d > today)
        .min();
    Projection {
        status: report.status,
        reason: Reason::of(&report),
        since: report.since,
        until: report.until,
        locked: m.locked(),
        explanation: report.explanation,
        changes_on,
        type_id: in_effect.0,
        price_id: in_effect.1,
        next_billing,
        overdue_minor,
    }
}

#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;
