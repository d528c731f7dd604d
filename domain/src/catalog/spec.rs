//! Everything a membership type carries beyond its name and price, and the
//! rules that make a type valid.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{BillingInterval, PurchaseType, text_enum};
use crate::money::{Currency, Money};
use crate::validation::Invalid;

text_enum! {
    /// How long a membership of this type lasts.
    pub enum TermKind {
        /// Until cancelled.
        Ongoing = ("ongoing", "Ongoing"),
        /// A length from the start date: years, months and days.
        Fixed = ("fixed", "Fixed length"),
        /// Fixed calendar date ranges, such as a season from 1 Sep to 31 May.
        Seasons = ("seasons", "Fixed dates"),
    }
}

text_enum! {
    /// What happens when a fixed term ends.
    pub enum EndAction {
        Expire = ("expire", "Expire"),
        RenewSame = ("renew_same", "Renew into the same type"),
        RenewOther = ("renew_other", "Renew into another type"),
        RenewalSale = ("renewal_sale", "Require a renewal sale"),
    }
}

text_enum! {
    /// When a cancellation takes effect.
    pub enum CancelTiming {
        AtPeriodEnd = ("at_period_end", "At the end of the period"),
        Immediately = ("immediately", "Immediately"),
    }
}

text_enum! {
    /// The unit of a credit expiry.
    pub enum ExpiryUnit {
        Days = ("days", "days"),
        Periods = ("periods", "periods"),
    }
}

/// A length of time from a start date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedLength {
    pub years: u32,
    pub months: u32,
    pub days: u32,
}

impl FixedLength {
    pub fn is_zero(&self) -> bool {
        self.years == 0 && self.months == 0 && self.days == 0
    }

    /// "1 year 6 months", "10 days".
    pub fn describe(&self) -> String {
        let part = |n: u32, one: &str, many: &str| match n {
            0 => None,
            1 => Some(format!("1 {one}")),
            n => Some(format!("{n} {many}")),
        };
        [
            part(self.years, "year", "years"),
            part(self.months, "month", "months"),
            part(self.days, "day", "days"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// A range of calendar dates, both ends included (a season "1 Sep to 31 May").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DateRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DateRange {
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    pub fn describe(&self) -> String {
        format!(
            "{} to {}",
            self.first.format("%-d %b %Y"),
            self.last.format("%-d %b %Y")
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(Default)]
pub enum Term {
    #[default]
    Ongoing,
    Fixed {
        length: FixedLength,
    },
    Seasons {
        ranges: Vec<DateRange>,
    },
}

// `EndAction` comes from `text_enum!`, which cannot take `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for EndAction {
    fn default() -> Self {
        EndAction::Expire
    }
}

impl Term {
    pub fn kind(&self) -> TermKind {
        match self {
            Term::Ongoing => TermKind::Ongoing,
            Term::Fixed { .. } => TermKind::Fixed,
            Term::Seasons { .. } => TermKind::Seasons,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Term::Ongoing => "ongoing".to_string(),
            Term::Fixed { length } => length.describe(),
            Term::Seasons { ranges } => ranges
                .iter()
                .map(DateRange::describe)
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// A group (family) membership: several people on one membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPolicy {
    /// Family members besides the primary member.
    pub max_family_members: u32,
    /// Charged per period for each family member; zero when they are included.
    pub additional_member_fee: Money,
}

/// A named service included a number of times per period ("1 massage per month").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncludedService {
    pub name: String,
    pub per_period: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditExpiry {
    pub after: u32,
    pub unit: ExpiryUnit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefits {
    /// Credits granted at the start of each period (for prepaid types: once, at sale).
    pub credits_per_period: u32,
    /// How many unused credits carry into the next period; `None` carries all, `Some(0)` none.
    pub carry_over_cap: Option<u32>,
    pub credit_expiry: Option<CreditExpiry>,
    pub included_services: Vec<IncludedService>,
    /// Discount on services and products, 0 to 100.
    pub member_discount_percent: Decimal,
}

impl Default for Benefits {
    fn default() -> Self {
        Benefits {
            credits_per_period: 0,
            carry_over_cap: Some(0),
            credit_expiry: None,
            included_services: Vec::new(),
            member_discount_percent: Decimal::ZERO,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PausePolicy {
    pub max_per_year: Option<u32>,
    pub min_days: u32,
    pub max_days: Option<u32>,
    /// Charged per period while paused; zero for a free pause.
    pub fee_per_period: Money,
    /// Whether the minimum commitment's end moves by the pause's length.
    pub extends_commitment: bool,
    pub portal_allowed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationPolicy {
    pub timing: CancelTiming,
    pub portal_allowed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policies {
    /// `None`: pausing is not allowed.
    pub pause: Option<PausePolicy>,
    /// Periods a member must stay before a cancellation can take effect.
    pub min_commitment_periods: u32,
    /// Days of notice before the next billing date.
    pub notice_days: u32,
    pub cancellation: CancellationPolicy,
    /// Memberships start "not approved" until staff approve them.
    pub approval_required: bool,
    /// A member may hold only one active membership of this type at a time.
    #[serde(default)]
    pub one_per_member: bool,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            pause: None,
            min_commitment_periods: 0,
            notice_days: 0,
            cancellation: CancellationPolicy {
                timing: CancelTiming::AtPeriodEnd,
                portal_allowed: false,
            },
            approval_required: false,
            one_per_member: false,
        }
    }
}

/// A membership type's settings (everything but its status, order and prices).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeSpec {
    pub name: String,
    pub description: String,
    /// `#rrggbb`, for the staff app's badge.
    pub color: String,
    pub purchase_type: PurchaseType,
    pub billing_interval: Option<BillingInterval>,
    pub term: Term,
    pub end_action: EndAction,
    /// The type a membership renews into when `end_action` is `RenewOther`.
    pub renew_into: Option<i64>,
    /// A prepaid punch card's number of visits (credits granted at sale).
    pub punch_card_credits: Option<u32>,
    pub all_locations: bool,
    pub location_ids: Vec<i64>,
    /// Allowed member types; empty allows every member type.
    pub member_types: Vec<String>,
    pub youth: bool,
    pub group: Option<GroupPolicy>,
    pub benefits: Benefits,
    pub policies: Policies,
    pub revenue_account: String,
    pub deferred_revenue: bool,
}

/// A monthly, ongoing, recurring type with no benefits or policies: the
/// starting point of tests and of a new type.
impl Default for TypeSpec {
    fn default() -> Self {
        TypeSpec {
            name: String::new(),
            description: String::new(),
            color: DEFAULT_COLOR.to_string(),
            purchase_type: PurchaseType::Recurring,
            billing_interval: Some(BillingInterval::Monthly),
            term: Term::Ongoing,
            end_action: EndAction::Expire,
            renew_into: None,
            punch_card_credits: None,
            all_locations: true,
            location_ids: Vec::new(),
            member_types: Vec::new(),
            youth: false,
            group: None,
            benefits: Benefits::default(),
            policies: Policies::default(),
            revenue_account: String::new(),
            deferred_revenue: false,
        }
    }
}

pub const DEFAULT_COLOR: &str = "#1f5fbf";
pub const DESCRIPTION_MAX_CHARS: usize = 2000;

/// The price fields of a type: fee per interval (or the prepaid price) and the initiation fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub fee: Money,
    pub initiation_fee: Money,
}

/// Checks a price against the purchase type: never negative; a benefit is free.
pub fn check_price(
    purchase_type: Option<PurchaseType>,
    fee: &str,
    initiation_fee: &str,
    currency: Currency,
    invalid: &mut Invalid,
) -> Option<Price> {
    let fee = invalid.check("fee", Money::parse(fee, currency));
    let initiation_text = if initiation_fee.trim().is_empty() {
        "0"
    } else {
        initiation_fee
    };
    let initiation_fee = invalid.check("initiation_fee", Money::parse(initiation_text, currency));
    if let Some(fee) = fee {
        if fee.is_negative() {
            invalid.push("fee", "the fee cannot be negative");
        } else if purchase_type == Some(PurchaseType::Benefit) && fee.minor != 0 {
            invalid.push(
                "fee",
                "a benefit is granted at no charge: the fee must be 0",
            );
        }
    }
    if let Some(initiation) = initiation_fee {
        if initiation.is_negative() {
            invalid.push("initiation_fee", "the initiation fee cannot be negative");
        } else if purchase_type == Some(PurchaseType::Benefit) && initiation.minor != 0 {
            invalid.push(
                "initiation_fee",
                "a benefit is granted at no charge: the initiation fee must be 0",
            );
        }
    }
    Some(Price {
        fee: fee?,
        initiation_fee: initiation_fee?,
    })
}

/// Reads a checkbox: browsers send "on" when checked and nothing otherwise.
pub fn checked(value: &str) -> bool {
    matches!(value.trim(), "on" | "true" | "1" | "yes")
}

/// A whole number field; empty means `None`.
pub fn optional_count(invalid: &mut Invalid, field: &str, text: &str, max: u32) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<u32>() {
        Ok(n) if n <= max => Some(n),
        Ok(_) => {
            invalid.push(field, format!("use a number from 0 to {max}"));
            None
        }
        Err(_) => {
            invalid.push(field, "enter a whole number, such as 3");
            None
        }
    }
}

/// Parses a percentage from 0 to 100 with at most two decimals ("12.5", "12,5").
pub fn parse_percent(text: &str) -> Result<Decimal, String> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let value: Decimal = text
        .parse()
        .map_err(|_| "enter a percentage such as 10 or 12.5".to_string())?;
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err("a percentage is between 0 and 100".to_string());
    }
    if value.scale() > 2 {
        return Err("use at most two decimals".to_string());
    }
    Ok(value.normalize())
}

/// Parses season lines, one range per line: "2026-09-01 to 2027-05-31".
/// Ranges must end on or after their start and must not overlap.
pub fn parse_seasons(text: &str) -> Result<Vec<DateRange>, String> {
    let mut ranges = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let n = i + 1;
        let (first, last) = line
            .split_once(" to ")
            .or_else(|| line.split_once(".."))
            .ok_or_else(|| format!("line {n}: write a range as 2026-09-01 to 2027-05-31"))?;
        let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d");
        let (first, last) = match (date(first), date(last)) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err(format!("line {n}: dates are written YYYY-MM-DD")),
        };
        if last < first {
            return Err(format!("line {n}: the range must end after it starts"));
        }
        ranges.push(DateRange { first, last });
    }
    if ranges.is_empty() {
        return Err("enter at least one date range".to_string());
    }
    ranges.sort();
    if let Some(pair) = ranges.windows(2).find(|w| w[0].overlaps(&w[1])) {
        return Err(format!(
            "{} overlaps {}",
            pair[0].describe(),
            pair[1].describe()
        ));
    }
    Ok(ranges)
}

/// Parses included services, one per line: "Massage: 1" (name, then how many per period).
pub fn parse_included_services(text: &str) -> Result<Vec<IncludedService>, String> {
    let mut services: Vec<IncludedService> = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let n = i + 1;
        let (name, count) = line
            .rsplit_once(':')
            .ok_or_else(|| format!("line {n}: write a service as \"Massage: 1\""))?;
        let name = name.trim();
        let per_period: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("line {n}: the number after \":\" is how many per period"))?;
        if name.is_empty() || per_period == 0 {
            return Err(format!(
                "line {n}: name the service and include it at least once"
            ));
        }
        if services.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
            return Err(format!("line {n}: {name} is listed twice"));
        }
        services.push(IncludedService {
            name: name.to_string(),
            per_period,
        });
    }
    Ok(services)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod catalog_view_tests;
