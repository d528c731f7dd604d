//! What the staff app and the API show of memberships, and the forms that
//! change them. The rules live in `lifecycle`; this is their shape on screen.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::billing::charges::Line;
use crate::catalog::spec::checked;
use crate::catalog::text_enum;
use crate::lifecycle::policy::{Action, CancelWhen, ChangeWhen};
use crate::lifecycle::sale::{SalePreview, SellForm};
use crate::lifecycle::{Status, StatusReport};
use crate::money::Money;
use crate::parties::Holder;
use crate::validation::Invalid;

/// One row of a membership list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipSummary {
    pub id: i64,
    pub holder: Holder,
    pub type_name: String,
    pub type_color: String,
    pub status: StatusReport,
    pub start: NaiveDate,
    /// Its last day (included), when it ends: cancelled or a term that does
    /// not renew by itself.
    pub last_day: Option<NaiveDate>,
    pub locked: bool,
}

/// The membership list's filters, as typed in its GET form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MembershipFilter {
    pub status: String,
    pub type_id: String,
    pub location_id: String,
    /// Active on some day between these dates.
    pub active_from: String,
    pub active_to: String,
    /// Ending (cancellation or fixed term) between these dates.
    pub ending_from: String,
    pub ending_to: String,
    /// Ending within this many days from today.
    pub ending_within: String,
    /// Which page of the list, from 1 (empty: the first).
    pub page: String,
}

/// The filters, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MembershipQuery {
    pub status: Option<Status>,
    pub type_id: Option<i64>,
    pub location_id: Option<i64>,
    pub active: Option<(NaiveDate, NaiveDate)>,
    pub ending: Option<(NaiveDate, NaiveDate)>,
    /// From 1.
    pub page: i64,
}

fn optional_date(invalid: &mut Invalid, field: &str, text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d");
    invalid.check(field, parsed.map_err(|_| "enter a date as YYYY-MM-DD"))
}

fn range(
    invalid: &mut Invalid,
    (from_field, from): (&str, &str),
    (to_field, to): (&str, &str),
) -> Option<(NaiveDate, NaiveDate)> {
    let from_date = optional_date(invalid, from_field, from);
    let to_date = optional_date(invalid, to_field, to);
    match (from_date, to_date) {
        (Some(f), Some(t)) if t < f => {
            invalid.push(to_field, "the end of the range comes before its start");
            None
        }
        (Some(f), Some(t)) => Some((f, t)),
        (Some(f), None) => Some((f, f)),
        (None, Some(t)) => Some((t, t)),
        (None, None) => None,
    }
}

impl MembershipFilter {
    pub fn parse(&self, today: NaiveDate) -> Result<MembershipQuery, Invalid> {
        let mut invalid = Invalid::default();
        let status = match self.status.trim() {
            "" => None,
            text => {
                let status = Status::parse(text);
                if status.is_none() {
                    invalid.push("status", "choose a status from the list");
                }
                status
            }
        };
        let id = |invalid: &mut Invalid, field: &str, text: &str| match text.trim() {
            "" => None,
            text => invalid.check(
                field,
                text.parse::<i64>().map_err(|_| "choose from the list"),
            ),
        };
        let type_id = id(&mut invalid, "type_id", &self.type_id);
        let location_id = id(&mut invalid, "location_id", &self.location_id);
        let active = range(
            &mut invalid,
            ("active_from", &self.active_from),
            ("active_to", &self.active_to),
        );
        let mut ending = range(
            &mut invalid,
            ("ending_from", &self.ending_from),
            ("ending_to", &self.ending_to),
        );
        if !self.ending_within.trim().is_empty() {
            match self.ending_within.trim().parse::<u32>() {
                Ok(days) if days <= 3660 => {
                    ending = Some((today, today + chrono::Days::new(u64::from(days))));
                }
                _ => invalid.push("ending_within", "enter a number of days from 0 to 3660"),
            }
        }
        let page = crate::paging::page_number(&self.page)
            .map_err(|e| invalid.push("page", e))
            .unwrap_or(1);
        invalid.into_result(|| MembershipQuery {
            status,
            type_id,
            location_id,
            active,
            ending,
            page,
        })
    }
}

/// One event on a membership's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub effective: NaiveDate,
    /// When it was recorded, in the business's time zone ("2026-11-22 09:14").
    pub recorded_at: String,
    /// "Dana Park (front desk)", "the member via the portal", "the system".
    pub by: String,
    pub what: String,
    pub reason: String,
    pub forced: bool,
}

/// The charges of one coming billing date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingCharge {
    pub date: NaiveDate,
    pub lines: Vec<Line>,
    pub total: Money,
}

/// A family member on a group membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyMember {
    pub member_id: i64,
    pub name: String,
    pub member_number: i64,
    pub added_on: NaiveDate,
}

/// A choice in a form: value and label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// Everything the membership page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipPage {
    pub id: i64,
    pub holder: Holder,
    pub type_id: i64,
    pub type_name: String,
    pub type_color: String,
    pub fee: Money,
    pub interval: String,
    pub status: StatusReport,
    pub locked: bool,
    pub anchor: NaiveDate,
    pub term_last_day: Option<NaiveDate>,
    /// The last day of the minimum commitment (included).
    pub commitment_last_day: Option<NaiveDate>,
    pub next_billing: Option<NaiveDate>,
    /// The last day (included) of a membership that is cancelled or cancelling.
    pub last_day: Option<NaiveDate>,
    pub payer: String,
    pub source: String,
    pub discount: Option<String>,
    pub notes: String,
    pub locations: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    pub upcoming: Vec<UpcomingCharge>,
    /// Other active types of the same purchase type, for "change type".
    pub other_types: Vec<Choice>,
    /// Active types of the same kind billed by another interval (a cycle switch).
    pub cycle_types: Vec<Choice>,
    /// This type's price versions, for "move to a price version".
    pub price_versions: Vec<Choice>,
    /// Why the type refuses pauses, when it does: said before any preview
    /// (a manager may still override it).
    pub pause_refused: Option<String>,
    /// The signed-in user may override the policy, approve and lock.
    pub can_manage: bool,
    /// The signed-in user may change memberships at all.
    pub can_change: bool,
    pub today: NaiveDate,
    pub version: i64,
    /// Current family members (group types only).
    pub family: Vec<FamilyMember>,
    /// The type's maximum of family members; `None` for types that are not groups.
    pub family_max: Option<u32>,
    /// Invoices, newest first.
    pub invoices: Vec<crate::invoices::InvoiceSummary>,
}

text_enum! {
    /// The actions of the membership page.
    pub enum ActionKind {
        Pause = ("pause", "Pause"),
        Resume = ("resume", "Resume"),
        Cancel = ("cancel", "Cancel"),
        Reactivate = ("reactivate", "Reactivate"),
        Renew = ("renew", "Renew"),
        Approve = ("approve", "Approve"),
        Reject = ("reject", "Reject"),
        Lock = ("lock", "Lock"),
        Unlock = ("unlock", "Unlock"),
        ChangeType = ("change_type", "Change type"),
        ChangePrice = ("change_price", "Move to a price version"),
        FreePeriods = ("free_periods", "Give free periods"),
        ChangeBillingDate = ("change_billing_date", "Change billing date"),
        SwitchCycle = ("switch_cycle", "Switch billing cycle"),
    }
}

/// An action as typed in its small form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    pub action: String,
    pub from: String,
    pub until: String,
    pub on: String,
    pub when: String,
    pub type_id: String,
    pub price_id: String,
    /// How many free periods to give.
    pub periods: String,
    /// A billing date move: "yes" (default) prorates the bridging period,
    /// "no" bills it as one period.
    pub prorate: String,
    pub reason: String,
    pub force: String,
    /// The membership's version the form was made from: a change made by
    /// someone else in between is refused instead of silently combined.
    pub version: String,
}

pub use crate::lifecycle::request::Asked;

/// An action, typed: what the staff app's form and the API's JSON both
/// become before anything is decided. Dates left out mean the day it is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionCommand {
    pub ask: Ask,
    /// Why; kept on the membership's timeline.
    pub reason: String,
    /// Carry it out although the policy refuses (a manager's override).
    pub force: bool,
    /// The membership's version the command was made from: a change made by
    /// someone else in between is refused instead of silently combined.
    pub version: Option<i64>,
}

/// What is asked of a membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    Pause {
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
    },
    Resume {
        on: Option<NaiveDate>,
    },
    Reactivate {
        on: Option<NaiveDate>,
    },
    Cancel {
        when: CancelWhen,
    },
    Renew,
    Approve,
    Reject,
    Lock,
    Unlock,
    ChangeType {
        type_id: i64,
        when: ChangeWhen,
    },
    ChangePrice {
        price_id: i64,
        when: ChangeWhen,
    },
    FreePeriods {
        periods: u32,
    },
    ChangeBillingDate {
        on: NaiveDate,
        prorate: bool,
    },
    SwitchCycle {
        type_id: i64,
        on: Option<NaiveDate>,
    },
}

impl Ask {
    pub fn kind(&self) -> ActionKind {
        match self {
            Ask::Pause { .. } => ActionKind::Pause,
            Ask::Resume { .. } => ActionKind::Resume,
            Ask::Reactivate { .. } => ActionKind::Reactivate,
            Ask::Cancel { .. } => ActionKind::Cancel,
            Ask::Renew => ActionKind::Renew,
            Ask::Approve => ActionKind::Approve,
            Ask::Reject => ActionKind::Reject,
            Ask::Lock => ActionKind::Lock,
            Ask::Unlock => ActionKind::Unlock,
            Ask::ChangeType { .. } => ActionKind::ChangeType,
            Ask::ChangePrice { .. } => ActionKind::ChangePrice,
            Ask::FreePeriods { .. } => ActionKind::FreePeriods,
            Ask::ChangeBillingDate { .. } => ActionKind::ChangeBillingDate,
            Ask::SwitchCycle { .. } => ActionKind::SwitchCycle,
        }
    }
}

impl ActionCommand {
    /// The command with nothing but `ask`.
    pub fn new(ask: Ask) -> Self {
        Self {
            ask,
            reason: String::new(),
            force: false,
            version: None,
        }
    }

    /// The action on `today`: dates left out become today, and what no
    /// door may ask (13 free periods) is refused here, once for both.
    pub fn asked(&self, today: NaiveDate) -> Result<Asked, Invalid> {
        let ready = |action| Ok(Asked::Ready(action));
        match self.ask {
            Ask::Pause { from, until } => ready(Action::Pause {
                from: from.unwrap_or(today),
                until,
            }),
            Ask::Resume { on } => ready(Action::Resume {
                on: on.unwrap_or(today),
            }),
            Ask::Reactivate { on } => ready(Action::Reactivate {
                on: on.unwrap_or(today),
            }),
            Ask::Cancel { when } => ready(Action::Cancel { when }),
            Ask::Renew => ready(Action::Renew),
            Ask::Approve => ready(Action::Approve),
            Ask::Reject => ready(Action::Reject),
            Ask::Lock => ready(Action::Lock),
            Ask::Unlock => ready(Action::Unlock),
            Ask::ChangeType { type_id, when } => Ok(Asked::ChangeType { type_id, when }),
            Ask::ChangePrice { price_id, when } => Ok(Asked::ChangePrice { price_id, when }),
            Ask::FreePeriods { periods } if (1..=12).contains(&periods) => {
                ready(Action::AddFreePeriods { periods })
            }
            Ask::FreePeriods { .. } => Err(Invalid::one(
                "periods",
                "enter a number of periods from 1 to 12",
            )),
            Ask::ChangeBillingDate { on, prorate } => {
                ready(Action::ChangeBillingDate { on, prorate })
            }
            Ask::SwitchCycle { type_id, on } => Ok(Asked::SwitchCycle {
                type_id,
                on: on.unwrap_or(today),
            }),
        }
    }
}

impl ActionForm {
    /// The typed command the form asks for, or what to correct.
    pub fn command(&self) -> Result<ActionCommand, Invalid> {
        let mut invalid = Invalid::default();
        let Some(kind) = ActionKind::parse(self.action.trim()) else {
            return Err(Invalid::one("action", "choose an action"));
        };
        let change_when = |invalid: &mut Invalid| match self.when.trim() {
            "" => Some(ChangeWhen::NextPeriod),
            text => {
                let when = ChangeWhen::parse(text);
                if when.is_none() {
                    invalid.push("when", "choose when the change takes effect");
                }
                when
            }
        };
        let id = |invalid: &mut Invalid, field: &str, text: &str| {
            let id = text.trim().parse::<i64>().ok();
            if id.is_none() {
                invalid.push(field, "choose from the list");
            }
            id
        };
        let ask = match kind {
            ActionKind::Pause => Some(Ask::Pause {
                from: optional_date(&mut invalid, "from", &self.from),
                until: optional_date(&mut invalid, "until", &self.until),
            }),
            ActionKind::Resume => Some(Ask::Resume {
                on: optional_date(&mut invalid, "on", &self.on),
            }),
            ActionKind::Reactivate => Some(Ask::Reactivate {
                on: optional_date(&mut invalid, "on", &self.on),
            }),
            ActionKind::Cancel => {
                let when = match self.when.trim() {
                    "" => Some(CancelWhen::PeriodEnd),
                    text => CancelWhen::parse(text),
                };
                if when.is_none() {
                    invalid.push("when", "choose when the cancellation takes effect");
                }
                when.map(|when| Ask::Cancel { when })
            }
            ActionKind::Renew => Some(Ask::Renew),
            ActionKind::Approve => Some(Ask::Approve),
            ActionKind::Reject => Some(Ask::Reject),
            ActionKind::Lock => Some(Ask::Lock),
            ActionKind::Unlock => Some(Ask::Unlock),
            ActionKind::ChangeType => {
                let type_id = id(&mut invalid, "type_id", &self.type_id);
                let when = change_when(&mut invalid);
                type_id
                    .zip(when)
                    .map(|(type_id, when)| Ask::ChangeType { type_id, when })
            }
            ActionKind::FreePeriods => match self.periods.trim().parse::<u32>() {
                Ok(periods) => Some(Ask::FreePeriods { periods }),
                Err(_) => {
                    invalid.push("periods", "enter a number of periods from 1 to 12");
                    None
                }
            },
            ActionKind::ChangeBillingDate => {
                let on = optional_date(&mut invalid, "on", &self.on);
                if on.is_none() && self.on.trim().is_empty() {
                    invalid.push("on", "choose the new billing date");
                }
                let prorate = match self.prorate.trim() {
                    "" | "yes" => Some(true),
                    "no" => Some(false),
                    _ => {
                        invalid.push("prorate", "choose how the bridging period is billed");
                        None
                    }
                };
                on.zip(prorate)
                    .map(|(on, prorate)| Ask::ChangeBillingDate { on, prorate })
            }
            ActionKind::SwitchCycle => {
                let type_id = id(&mut invalid, "type_id", &self.type_id);
                let on = optional_date(&mut invalid, "on", &self.on);
                type_id.map(|type_id| Ask::SwitchCycle { type_id, on })
            }
            ActionKind::ChangePrice => {
                let price_id = id(&mut invalid, "price_id", &self.price_id);
                let when = change_when(&mut invalid);
                price_id
                    .zip(when)
                    .map(|(price_id, when)| Ask::ChangePrice { price_id, when })
            }
        };
        match ask {
            Some(ask) if invalid.is_empty() => Ok(ActionCommand {
                ask,
                reason: self.reason.clone(),
                force: checked(&self.force),
                version: self.version.trim().parse().ok(),
            }),
            _ => Err(invalid),
        }
    }
}

/// What an action would do, shown before it is confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPreview {
    pub effect: String,
    /// The policy is overridden.
    pub forced: bool,
    /// The status the membership would have today afterwards.
    pub status_after: StatusReport,
    /// The lines billing will write for the change, up to `billing_up_to`:
    /// new charges, credits and corrections, computed by the invoice generator.
    pub billing: Vec<crate::billing::charges::Line>,
    pub billing_up_to: NaiveDate,
}

/// The sell page: who buys, and what can be sold to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellOptions {
    pub holder: Holder,
    pub types: Vec<Choice>,
    /// Every price version of the types on sale ("Adult Monthly: €59.00 from 2026-01-01").
    /// Every price version of the types on sale, each with its type's id:
    /// the form offers only the chosen type's.
    pub prices: Vec<(String, Choice)>,
    pub locations: Vec<Choice>,
    /// The organization that authorized the member, if any.
    pub organization: Option<String>,
    pub today: NaiveDate,
    pub currency: String,
    pub form: SellForm,
}

/// The preview of a sale, with the names the page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleSummary {
    pub type_name: String,
    pub price: Money,
    pub preview: SalePreview,
}

#[cfg(test)]
mod tests;
