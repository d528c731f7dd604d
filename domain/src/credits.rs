//! Credits: a ledger per membership, spent on bookings and services.
//!
//! Every entry adds to or takes from a *lot*: a grant (each period, or once
//! for prepaid types and punch cards), a carry-over, a positive staff
//! adjustment, or a reversal of a cancelled booking. The balance is the sum of
//! the entries and never goes below zero. Credits are spent oldest expiry
//! first (lots without an expiry last), then oldest lot first.
//!
//! At the end of each period the credits left in the period's lots (its grant
//! and what was carried into it) are kept up to the type's carry-over cap and
//! carried into the next period as one lot; the rest expires. A lot with an
//! expiry date (from the type's credit expiry) expires on that date, whatever
//! is left of it.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::catalog::PurchaseType;
use crate::catalog::spec::{Benefits, ExpiryUnit, TypeSpec};
use crate::catalog::text_enum;
use crate::lifecycle::{Membership, Status};
use crate::validation::Invalid;

text_enum! {
    /// What an entry of the ledger records.
    pub enum EntryKind {
        Grant = ("grant", "Granted"),
        CarryOver = ("carry_over", "Carried over"),
        Expire = ("expire", "Expired"),
        Adjust = ("adjust", "Adjusted"),
        Redeem = ("redeem", "Redeemed"),
        Reverse = ("reverse", "Given back"),
    }
}

/// What is left of a lot, as spending needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lot {
    pub id: i64,
    pub kind: EntryKind,
    pub remaining: i64,
    pub expires_on: Option<NaiveDate>,
    /// Granted or carried for the period starting on this day (periodic lots).
    pub period_start: Option<NaiveDate>,
}

impl Lot {
    /// Grants and carry-overs follow the period rules; adjustments and
    /// reversals only their expiry.
    pub fn periodic(&self) -> bool {
        matches!(self.kind, EntryKind::Grant | EntryKind::CarryOver) && self.period_start.is_some()
    }
}

/// A spend larger than the balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("only {balance} credit{} left: {asked} cannot be taken", if *.balance == 1 { "" } else { "s" })]
pub struct Short {
    pub balance: i64,
    pub asked: i64,
}

/// Which lots `amount` credits come from on `today`: oldest expiry first,
/// lots without an expiry last, then the oldest lot. Expired lots are skipped.
pub fn spend(lots: &[Lot], amount: i64, today: NaiveDate) -> Result<Vec<(i64, i64)>, Short> {
    let mut usable: Vec<&Lot> = lots
        .iter()
        .filter(|l| l.remaining > 0 && l.expires_on.is_none_or(|e| e > today))
        .collect();
    usable.sort_by_key(|l| (l.expires_on.is_none(), l.expires_on, l.id));
    let balance: i64 = usable.iter().map(|l| l.remaining).sum();
    if amount > balance {
        return Err(Short {
            balance,
            asked: amount,
        });
    }
    let mut left = amount;
    let mut out = Vec::new();
    for lot in usable {
        if left == 0 {
            break;
        }
        let take = left.min(lot.remaining);
        out.push((lot.id, take));
        left -= take;
    }
    Ok(out)
}

/// What happens to the periodic lots when the period that started on
/// `period_start` ends: the credits kept (up to `cap`) and taken from which
/// lots, and the credits that expire from which lots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodEnd {
    pub carried: Vec<(i64, i64)>,
    pub expired: Vec<(i64, i64)>,
}

impl PeriodEnd {
    pub fn carried_total(&self) -> i64 {
        self.carried.iter().map(|(_, n)| n).sum()
    }
}

pub fn period_end(lots: &[Lot], period_start: NaiveDate, cap: Option<u32>) -> PeriodEnd {
    let mut ending: Vec<&Lot> = lots
        .iter()
        .filter(|l| l.periodic() && l.period_start == Some(period_start) && l.remaining > 0)
        .collect();
    // What expires first is what would have been spent last: keep the oldest.
    ending.sort_by_key(|l| l.id);
    let mut keep = cap.map_or(i64::MAX, i64::from);
    let mut out = PeriodEnd::default();
    for lot in ending {
        let carried = keep.min(lot.remaining);
        keep -= carried;
        if carried > 0 {
            out.carried.push((lot.id, carried));
        }
        if lot.remaining > carried {
            out.expired.push((lot.id, lot.remaining - carried));
        }
    }
    out
}

/// Lots whose expiry date has come by `today` with credits left.
pub fn expired(lots: &[Lot], today: NaiveDate) -> Vec<(i64, i64)> {
    lots.iter()
        .filter(|l| l.remaining > 0 && l.expires_on.is_some_and(|e| e <= today))
        .map(|l| (l.id, l.remaining))
        .collect()
}

/// A grant a membership is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantDue {
    /// "grant:2026-12-01": one grant per key, ever.
    pub key: String,
    pub on: NaiveDate,
    pub credits: i64,
    pub expires_on: Option<NaiveDate>,
    /// The period it is for (`None` for a once-only grant).
    pub period: Option<(NaiveDate, NaiveDate)>,
}

/// How many credits a type grants per period (or once, for prepaid types
/// and punch cards).
pub fn credits_of(spec: &TypeSpec) -> u32 {
    match (spec.purchase_type, spec.punch_card_credits) {
        (PurchaseType::Prepaid, Some(punch)) => punch,
        _ => spec.benefits.credits_per_period,
    }
}

fn expiry(benefits: &Benefits, m: &Membership, from: NaiveDate) -> Option<NaiveDate> {
    let e = benefits.credit_expiry?;
    match e.unit {
        ExpiryUnit::Days => Some(from + Days::new(u64::from(e.after))),
        ExpiryUnit::Periods => match m.schedule() {
            Some(s) => s.slots_from(from).nth(e.after as usize).map(|s| s.start()),
            None => Some(from + Days::new(30 * u64::from(e.after))),
        },
    }
}

/// The grants due by `today`: one at the start of each period the membership
/// is active on (not waiting for approval, paused, suspended or ended), or
/// one at the start for prepaid types. Benefit types grant nothing.
pub fn grants_due(m: &Membership, today: NaiveDate) -> Vec<GrantDue> {
    let credits = i64::from(credits_of(m.spec));
    let mut out = Vec::new();
    if credits == 0 {
        return out;
    }
    let active = |day: NaiveDate| {
        matches!(
            m.status(day).status,
            Status::Active | Status::Cancelling | Status::PastDue
        )
    };
    match m.spec.purchase_type {
        PurchaseType::Benefit => {}
        PurchaseType::Prepaid => {
            let Some(start) = m.anchor() else {
                return out;
            };
            if start <= today && active(start) {
                out.push(GrantDue {
                    key: format!("grant:{start}"),
                    on: start,
                    credits,
                    expires_on: expiry(&m.spec.benefits, m, start).or(m.term_end(today)),
                    period: None,
                });
            }
        }
        PurchaseType::Recurring => {
            let Some(schedule) = m.schedule() else {
                return out;
            };
            for slot in schedule.slots() {
                if slot.start() > today {
                    break;
                }
                let ends = [m.cancel_end(), m.term_end(today)];
                if ends.iter().flatten().any(|e| slot.start() >= *e) {
                    break;
                }
                if !active(slot.start()) {
                    continue;
                }
                out.push(GrantDue {
                    key: format!("grant:{}", slot.start()),
                    on: slot.start(),
                    credits,
                    expires_on: expiry(&m.spec.benefits, m, slot.start()),
                    period: Some((slot.start(), slot.end())),
                });
            }
        }
    }
    out
}

/// A staff adjustment as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdjustForm {
    /// Signed whole credits: "5" or "-2".
    pub amount: String,
    pub reason: String,
    /// Made when the form was shown: a double submit adjusts once.
    pub key: String,
}

/// A staff adjustment, typed: what the credits tab's form and the API's JSON
/// both become.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustCommand {
    /// Signed whole credits.
    pub amount: i64,
    pub reason: String,
    /// Makes a repeated request adjust once.
    pub key: String,
}

/// A checked adjustment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    pub amount: i64,
    pub reason: String,
}

impl AdjustForm {
    /// The typed adjustment, or every problem of the form at once.
    pub fn command(&self) -> Result<AdjustCommand, Invalid> {
        let mut invalid = Invalid::default();
        let amount = match self.amount.trim().trim_start_matches('+').parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                invalid.push(
                    "amount",
                    "enter a whole number of credits, negative to take some away",
                );
                None
            }
        };
        let command = AdjustCommand {
            amount: amount.unwrap_or(1),
            reason: self.reason.clone(),
            key: self.key.clone(),
        };
        if let Err(more) = check_adjust(&command) {
            invalid.errors.extend(more.errors);
        }
        if invalid.is_empty() {
            Ok(command)
        } else {
            Err(invalid)
        }
    }
}

/// What any door may adjust: not zero, at most 10,000 at once, with a reason.
pub fn check_adjust(command: &AdjustCommand) -> Result<Adjustment, Invalid> {
    let mut invalid = Invalid::default();
    let amount = command.amount;
    if amount == 0 {
        invalid.push("amount", "an adjustment of 0 changes nothing");
    } else if amount.unsigned_abs() > 10_000 {
        // `unsigned_abs`: the absolute value of i64::MIN does not fit an i64.
        invalid.push("amount", "adjust by at most 10,000 credits at once");
    }
    let reason = command.reason.trim().to_string();
    if reason.is_empty() {
        invalid.push("reason", "say why: the reason is kept in the history");
    } else if reason.chars().count() > 300 {
        invalid.push("reason", "use at most 300 characters");
    }
    if command.key.trim().is_empty() {
        invalid.push("key", "reload the page and try again");
    }
    if invalid.is_empty() {
        Ok(Adjustment { amount, reason })
    } else {
        Err(invalid)
    }
}

/// One entry as the credits tab shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub id: i64,
    pub kind: EntryKind,
    pub amount: i64,
    pub on: NaiveDate,
    pub recorded_at: String,
    pub by: String,
    pub reason: String,
    pub expires_on: Option<NaiveDate>,
    pub booking_id: Option<i64>,
}

/// A membership's credits: the balance, what expires next, the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsView {
    pub membership_id: i64,
    pub balance: i64,
    /// The next expiry with credits left: (date, credits).
    pub next_expiry: Option<(NaiveDate, i64)>,
    pub credits_per_period: u32,
    /// A page of the history, newest first, filtered, with how many match.
    pub entries: crate::paging::Listed<EntryView>,
    pub can_adjust: bool,
    /// The largest negative adjustment the signed-in user may make.
    pub negative_limit: Option<i64>,
    pub form_key: String,
}

/// The history's filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryFilter {
    pub kind: String,
    pub from: String,
    pub to: String,
    /// The history's page (from 1; empty for the first).
    pub page: String,
}

#[cfg(test)]
mod tests;
