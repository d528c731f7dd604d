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

mod changes;
mod ending;
mod pausing;

use changes::{billing_date, change_price, free_periods, switch_cycle};
use ending::{cancel, last_day, reactivate, renew};
use pausing::{pause, resume};

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

fn ended(status: Status) -> bool {
    matches!(
        status,
        Status::Cancelled | Status::Expired | Status::Rejected
    )
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
