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
mod tests {
    use super::*;
    use crate::catalog::{CatalogContext, MembershipTypeForm, TypeStatus};

    fn ctx() -> CatalogContext {
        CatalogContext {
            currency: Currency::EUR,
            location_ids: vec![1, 2],
            member_types: vec!["Adult".into(), "Youth".into(), "Student".into()],
            other_type_ids: vec![7],
        }
    }

    fn recurring() -> MembershipTypeForm {
        MembershipTypeForm {
            name: "Gym Monthly".into(),
            purchase_type: "recurring".into(),
            billing_interval: "monthly".into(),
            fee: "49".into(),
            status: "active".into(),
            ..Default::default()
        }
    }

    fn errors_of(form: &MembershipTypeForm) -> Invalid {
        form.validate_new(&ctx()).expect_err("the form is refused")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_gym_membership_with_commitment_pause_policy_and_initiation_fee_is_modelled() {
        let mut f = recurring();
        f.initiation_fee = "25".into();
        f.min_commitment_periods = "3".into();
        f.notice_days = "14".into();
        f.pause_allowed = "on".into();
        f.pause_max_per_year = "2".into();
        f.pause_min_days = "7".into();
        f.pause_max_days = "60".into();
        f.pause_fee = "5".into();
        f.pause_extends_commitment = "on".into();
        f.pause_portal = "on".into();
        f.cancel_portal = "on".into();
        let t = f.validate_new(&ctx()).unwrap();
        assert_eq!(t.price.initiation_fee, Money::new(2500, Currency::EUR));
        let pause = t.spec.policies.pause.unwrap();
        assert_eq!(
            (pause.max_per_year, pause.min_days, pause.max_days),
            (Some(2), 7, Some(60))
        );
        assert_eq!(pause.fee_per_period, Money::new(500, Currency::EUR));
        assert!(pause.extends_commitment && pause.portal_allowed);
        assert_eq!(t.spec.policies.min_commitment_periods, 3);
        assert_eq!(t.spec.policies.notice_days, 14);
        assert_eq!(
            t.spec.policies.cancellation,
            CancellationPolicy {
                timing: CancelTiming::AtPeriodEnd,
                portal_allowed: true
            }
        );
    }

    #[test]
    fn a_prepaid_type_needs_a_term_and_a_price_and_no_interval() {
        let mut f = recurring();
        f.purchase_type = "prepaid".into();
        f.billing_interval = String::new();
        assert!(
            errors_of(&f)
                .message_for("term_kind")
                .unwrap()
                .contains("fixed length or fixed dates")
        );
        f.term_kind = "fixed".into();
        f.fee = String::new();
        assert_eq!(errors_of(&f).message_for("fee"), Some("enter an amount"));
        assert_eq!(
            errors_of(&f).message_for("term_years"),
            Some("a fixed term needs a length in years, months or days")
        );
        f.fee = "120".into();
        f.term_months = "6".into();
        f.punch_card_credits = "10".into();
        let t = f.validate_new(&ctx()).unwrap();
        assert_eq!(
            t.spec.term,
            Term::Fixed {
                length: FixedLength {
                    years: 0,
                    months: 6,
                    days: 0
                }
            }
        );
        assert_eq!(t.spec.term.describe(), "6 months");
        assert_eq!(t.spec.punch_card_credits, Some(10));
        f.billing_interval = "monthly".into();
        assert!(errors_of(&f).message_for("billing_interval").is_some());
    }

    #[test]
    fn only_prepaid_types_are_punch_cards() {
        let mut f = recurring();
        f.punch_card_credits = "10".into();
        assert_eq!(
            errors_of(&f).message_for("punch_card_credits"),
            Some("only a prepaid type can be a punch card")
        );
    }

    #[test]
    fn a_benefit_has_no_fee_and_no_initiation_fee() {
        let mut f = recurring();
        f.purchase_type = "benefit".into();
        f.billing_interval = String::new();
        f.fee = "0".into();
        f.initiation_fee = "10".into();
        assert!(
            errors_of(&f)
                .message_for("initiation_fee")
                .unwrap()
                .contains("no charge")
        );
        f.initiation_fee = String::new();
        assert!(f.validate_new(&ctx()).is_ok());
    }

    #[test]
    fn seasons_must_end_after_they_start_and_must_not_overlap() {
        assert_eq!(
            parse_seasons("2026-09-01 to 2027-05-31\n2027-09-01 to 2028-05-31"),
            Ok(vec![
                DateRange {
                    first: date(2026, 9, 1),
                    last: date(2027, 5, 31)
                },
                DateRange {
                    first: date(2027, 9, 1),
                    last: date(2028, 5, 31)
                },
            ])
        );
        assert_eq!(
            parse_seasons("2027-05-31 to 2026-09-01"),
            Err("line 1: the range must end after it starts".into())
        );
        let overlap =
            parse_seasons("2026-09-01 to 2027-05-31\n2027-05-01 to 2027-08-31").unwrap_err();
        assert!(overlap.contains("overlaps"), "{overlap}");
        assert_eq!(
            parse_seasons("1 Sep to 31 May"),
            Err("line 1: dates are written YYYY-MM-DD".into())
        );
        assert_eq!(
            parse_seasons("  \n"),
            Err("enter at least one date range".into())
        );
    }

    #[test]
    fn a_youth_team_runs_for_a_fixed_season() {
        let mut f = recurring();
        f.name = "Youth Climbing Team".into();
        f.term_kind = "seasons".into();
        f.seasons = "2026-09-01 to 2027-05-31".into();
        f.youth = "on".into();
        f.member_types = vec!["youth".into()];
        let t = f.validate_new(&ctx()).unwrap();
        assert!(t.spec.youth);
        assert_eq!(
            t.spec.member_types,
            vec!["Youth".to_string()],
            "member types take the business's spelling"
        );
        assert_eq!(t.spec.term.describe(), "1 Sep 2026 to 31 May 2027");
    }

    #[test]
    fn a_maximum_family_size_needs_a_group_type() {
        let mut f = recurring();
        f.max_family_members = "4".into();
        assert!(
            errors_of(&f)
                .message_for("max_family_members")
                .unwrap()
                .contains("needs a group type")
        );
        f.group = "on".into();
        f.additional_member_fee = "15".into();
        let group = f.validate_new(&ctx()).unwrap().spec.group.unwrap();
        assert_eq!(
            group,
            GroupPolicy {
                max_family_members: 4,
                additional_member_fee: Money::new(1500, Currency::EUR)
            }
        );
        f.max_family_members = String::new();
        assert!(errors_of(&f).message_for("max_family_members").is_some());
    }

    #[test]
    fn prices_and_fees_are_never_negative() {
        for (field, set) in [
            (
                "fee",
                (|f: &mut MembershipTypeForm| f.fee = "-1".into()) as fn(&mut MembershipTypeForm),
            ),
            ("initiation_fee", |f| f.initiation_fee = "-1".into()),
            ("pause_fee", |f| {
                f.pause_allowed = "on".into();
                f.pause_fee = "-1".into();
            }),
            ("additional_member_fee", |f| {
                f.group = "on".into();
                f.max_family_members = "2".into();
                f.additional_member_fee = "-1".into();
            }),
        ] {
            let mut f = recurring();
            set(&mut f);
            assert!(
                errors_of(&f)
                    .message_for(field)
                    .unwrap()
                    .contains("cannot be negative"),
                "{field}"
            );
        }
    }

    #[test]
    fn percentages_are_between_0_and_100() {
        assert_eq!(parse_percent("10"), Ok(Decimal::from(10)));
        assert_eq!(parse_percent("12,5"), Ok(Decimal::new(125, 1)));
        assert_eq!(parse_percent(""), Ok(Decimal::ZERO));
        assert!(parse_percent("100.01").is_err());
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("12.345").is_err());
        assert!(parse_percent("ten").is_err());
        let mut f = recurring();
        f.member_discount_percent = "150".into();
        assert_eq!(
            errors_of(&f).message_for("member_discount_percent"),
            Some("a percentage is between 0 and 100")
        );
    }

    #[test]
    fn credits_carry_over_up_to_a_cap_and_services_are_counted_per_period() {
        let mut f = recurring();
        f.name = "Spa".into();
        f.credits_per_period = "1".into();
        f.carry_over_cap = "3".into();
        f.credit_expiry_after = "90".into();
        f.credit_expiry_unit = "days".into();
        f.included_services = "Massage: 1\nSauna: 4".into();
        f.member_discount_percent = "10".into();
        let b = f.validate_new(&ctx()).unwrap().spec.benefits;
        assert_eq!(b.credits_per_period, 1);
        assert_eq!(b.carry_over_cap, Some(3));
        assert_eq!(
            b.credit_expiry,
            Some(CreditExpiry {
                after: 90,
                unit: ExpiryUnit::Days
            })
        );
        assert_eq!(
            b.included_services[0],
            IncludedService {
                name: "Massage".into(),
                per_period: 1
            }
        );
        assert_eq!(b.member_discount_percent, Decimal::from(10));

        f.credits_per_period = String::new();
        assert!(errors_of(&f).message_for("carry_over_cap").is_some());
        assert!(parse_included_services("Massage").is_err());
        assert!(
            parse_included_services("Massage: 1\nmassage: 2")
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn pause_lengths_must_make_sense() {
        let mut f = recurring();
        f.pause_allowed = "on".into();
        f.pause_min_days = "30".into();
        f.pause_max_days = "7".into();
        assert!(errors_of(&f).message_for("pause_max_days").is_some());
        f.purchase_type = "benefit".into();
        f.billing_interval = String::new();
        f.fee = "0".into();
        f.pause_max_days = String::new();
        assert!(errors_of(&f).message_for("pause_allowed").is_some());
    }

    #[test]
    fn a_commitment_is_only_for_recurring_types() {
        let mut f = recurring();
        f.purchase_type = "prepaid".into();
        f.billing_interval = String::new();
        f.term_kind = "fixed".into();
        f.term_years = "1".into();
        f.min_commitment_periods = "3".into();
        assert!(
            errors_of(&f)
                .message_for("min_commitment_periods")
                .is_some()
        );
    }

    #[test]
    fn locations_and_member_types_come_from_the_business() {
        let mut f = recurring();
        f.location_scope = "selected".into();
        assert!(
            errors_of(&f)
                .message_for("location_ids")
                .unwrap()
                .contains("at least one location")
        );
        f.location_ids = vec!["2".into(), "2".into()];
        let t = f.validate_new(&ctx()).unwrap();
        assert!(!t.spec.all_locations);
        assert_eq!(t.spec.location_ids, vec![2]);
        f.location_ids = vec!["99".into()];
        assert!(errors_of(&f).message_for("location_ids").is_some());
        f.location_ids = vec!["1".into()];
        f.member_types = vec!["Pensioner".into()];
        assert!(
            errors_of(&f)
                .message_for("member_types")
                .unwrap()
                .contains("Pensioner")
        );
    }

    #[test]
    fn renewal_into_another_type_names_an_existing_type() {
        let mut f = recurring();
        f.term_kind = "fixed".into();
        f.term_years = "1".into();
        f.end_action = "renew_other".into();
        assert!(errors_of(&f).message_for("renew_into").is_some());
        f.renew_into = "7".into();
        let t = f.validate_new(&ctx()).unwrap();
        assert_eq!(
            (t.spec.end_action, t.spec.renew_into),
            (EndAction::RenewOther, Some(7))
        );
        f.term_kind = "ongoing".into();
        assert!(
            errors_of(&f)
                .message_for("end_action")
                .unwrap()
                .contains("no end")
        );
    }

    #[test]
    fn colours_are_hex_and_default_to_the_accent() {
        let mut f = recurring();
        assert_eq!(f.validate_new(&ctx()).unwrap().spec.color, DEFAULT_COLOR);
        f.color = "#AABBCC".into();
        assert_eq!(f.validate_new(&ctx()).unwrap().spec.color, "#aabbcc");
        f.color = "red".into();
        assert!(errors_of(&f).message_for("color").is_some());
    }

    #[test]
    fn an_active_type_retires_but_never_returns_to_draft() {
        assert!(TypeStatus::Draft.check_change(TypeStatus::Active).is_ok());
        assert!(TypeStatus::Active.check_change(TypeStatus::Retired).is_ok());
        assert!(TypeStatus::Retired.check_change(TypeStatus::Active).is_ok());
        assert!(TypeStatus::Active.check_change(TypeStatus::Draft).is_err());
        assert!(TypeStatus::Retired.check_change(TypeStatus::Draft).is_err());
        assert!(TypeStatus::Active.check_change(TypeStatus::Active).is_err());
    }

    #[test]
    fn only_a_draft_without_memberships_can_be_deleted() {
        assert!(crate::catalog::check_delete(TypeStatus::Draft, 0).is_ok());
        assert!(
            crate::catalog::check_delete(TypeStatus::Draft, 2)
                .unwrap_err()
                .contains("retire")
        );
        assert!(
            crate::catalog::check_delete(TypeStatus::Active, 0)
                .unwrap_err()
                .contains("only a draft")
        );
    }

    #[test]
    fn policies_stored_before_one_per_member_existed_still_read() {
        let old = r#"{"pause":null,"min_commitment_periods":3,"notice_days":0,"cancellation":{"timing":"at_period_end","portal_allowed":false},"approval_required":false}"#;
        let p: Policies = serde_json::from_str(old).unwrap();
        assert_eq!((p.min_commitment_periods, p.one_per_member), (3, false));
    }

    #[test]
    fn a_spec_survives_a_json_round_trip() {
        let mut f = recurring();
        f.group = "on".into();
        f.max_family_members = "3".into();
        f.pause_allowed = "on".into();
        f.term_kind = "seasons".into();
        f.seasons = "2026-09-01 to 2027-05-31".into();
        let spec = f.validate_new(&ctx()).unwrap().spec;
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<TypeSpec>(&json).unwrap(), spec);
    }
}

#[cfg(test)]
mod catalog_view_tests {
    use chrono::NaiveDate;

    use crate::catalog::*;
    use crate::money::{Currency, Money};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn version(id: i64, fee: i64, from: NaiveDate) -> PriceVersion {
        PriceVersion {
            id,
            fee: Money::new(fee, Currency::EUR),
            initiation_fee: Money::zero(Currency::EUR),
            effective_from: from,
            memberships: 0,
        }
    }

    #[test]
    fn the_current_price_is_the_latest_version_that_has_started() {
        let versions = vec![
            version(1, 5000, d(2026, 1, 1)),
            version(2, 5500, d(2027, 1, 1)),
        ];
        assert_eq!(current_price(&versions, d(2026, 12, 31)).unwrap().id, 1);
        assert_eq!(current_price(&versions, d(2027, 1, 1)).unwrap().id, 2);
        // A type whose first price starts later shows that first price.
        assert_eq!(current_price(&versions, d(2025, 6, 1)).unwrap().id, 1);
        assert!(current_price(&[], d(2026, 1, 1)).is_none());
    }

    #[test]
    fn a_new_price_starts_today_or_later_on_a_free_date() {
        let versions = vec![version(1, 5000, d(2026, 1, 1))];
        let today = d(2026, 11, 22);
        assert!(check_new_price_version(&versions, today, today).is_ok());
        assert!(
            check_new_price_version(&versions, d(2026, 11, 21), today)
                .unwrap_err()
                .contains("today")
        );
        let future = vec![
            version(1, 5000, d(2026, 1, 1)),
            version(2, 5500, d(2027, 1, 1)),
        ];
        assert!(
            check_new_price_version(&future, d(2027, 1, 1), today)
                .unwrap_err()
                .contains("already")
        );
    }

    fn summary(
        name: &str,
        status: TypeStatus,
        purchase_type: PurchaseType,
        locations: Option<Vec<i64>>,
    ) -> MembershipTypeSummary {
        MembershipTypeSummary {
            id: 1,
            name: name.into(),
            color: DEFAULT_COLOR.into(),
            purchase_type,
            billing_interval: None,
            status,
            display_order: 0,
            fee: Money::zero(Currency::EUR),
            initiation_fee: Money::zero(Currency::EUR),
            term: Term::Ongoing,
            all_locations: locations.is_none(),
            location_ids: locations.unwrap_or_default(),
            memberships: 0,
        }
    }

    #[test]
    fn filters_hide_retired_types_unless_asked_and_match_name_type_and_location() {
        let gym = summary(
            "Gym Monthly",
            TypeStatus::Active,
            PurchaseType::Recurring,
            None,
        );
        let old = summary(
            "Old Plan",
            TypeStatus::Retired,
            PurchaseType::Recurring,
            None,
        );
        let river = summary(
            "River Pass",
            TypeStatus::Draft,
            PurchaseType::Prepaid,
            Some(vec![2]),
        );
        let all = TypeFilter::default();
        assert!(all.matches(&gym) && all.matches(&river) && !all.matches(&old));
        assert!(
            TypeFilter {
                include_retired: true,
                ..Default::default()
            }
            .matches(&old)
        );
        assert!(
            TypeFilter {
                status: Some(TypeStatus::Retired),
                ..Default::default()
            }
            .matches(&old)
        );
        assert!(
            !TypeFilter {
                status: Some(TypeStatus::Active),
                ..Default::default()
            }
            .matches(&river)
        );
        let prepaid = TypeFilter {
            purchase_type: Some(PurchaseType::Prepaid),
            ..Default::default()
        };
        assert!(prepaid.matches(&river) && !prepaid.matches(&gym));
        let at_1 = TypeFilter {
            location_id: Some(1),
            ..Default::default()
        };
        assert!(
            at_1.matches(&gym) && !at_1.matches(&river),
            "all-locations types are offered everywhere"
        );
        let search = TypeFilter {
            search: " gym ".into(),
            ..Default::default()
        };
        assert!(search.matches(&gym) && !search.matches(&river));
    }

    #[test]
    fn price_labels_read_naturally() {
        let fee = Money::new(5900, Currency::EUR);
        assert_eq!(
            price_label(
                PurchaseType::Recurring,
                Some(BillingInterval::TwoWeeks),
                fee
            ),
            "€59.00 every two weeks"
        );
        assert_eq!(price_label(PurchaseType::Prepaid, None, fee), "€59.00 once");
        assert_eq!(
            price_label(PurchaseType::Benefit, None, Money::zero(Currency::EUR)),
            "free"
        );
    }

    #[test]
    fn the_edit_form_of_a_type_validates_back_to_the_same_settings() {
        let ctx = CatalogContext {
            currency: Currency::EUR,
            location_ids: vec![1, 2],
            member_types: vec!["Youth".into()],
            other_type_ids: vec![9],
        };
        let form = MembershipTypeForm {
            name: "Youth Team".into(),
            purchase_type: "recurring".into(),
            billing_interval: "monthly".into(),
            fee: "35".into(),
            status: "active".into(),
            term_kind: "seasons".into(),
            seasons: "2026-09-01 to 2027-05-31\n2027-09-01 to 2028-05-31".into(),
            end_action: "renew_other".into(),
            renew_into: "9".into(),
            location_scope: "selected".into(),
            location_ids: vec!["2".into()],
            member_types: vec!["Youth".into()],
            youth: "on".into(),
            group: "on".into(),
            max_family_members: "2".into(),
            credits_per_period: "2".into(),
            carry_over_cap: "all".into(),
            credit_expiry_after: "3".into(),
            credit_expiry_unit: "periods".into(),
            included_services: "Coaching: 2".into(),
            member_discount_percent: "5".into(),
            pause_allowed: "on".into(),
            pause_max_days: "20".into(),
            pause_fee: "2.5".into(),
            min_commitment_periods: "2".into(),
            notice_days: "7".into(),
            cancel_timing: "immediately".into(),
            approval_required: "on".into(),
            one_per_member: "on".into(),
            revenue_account: "4300".into(),
            deferred_revenue: "on".into(),
            ..Default::default()
        };
        let new = form.validate_new(&ctx).unwrap();
        let detail = MembershipTypeDetail {
            id: 3,
            status: new.status,
            display_order: 10,
            spec: new.spec.clone(),
            prices: vec![PriceVersion {
                id: 4,
                fee: new.price.fee,
                initiation_fee: new.price.initiation_fee,
                effective_from: d(2026, 1, 1),
                memberships: 0,
            }],
            current_price_id: 4,
            memberships: 0,
            location_names: vec![],
            renew_into_name: None,
        };
        let again = detail.to_form().validate_new(&ctx).unwrap();
        assert_eq!(again.spec, new.spec);
        assert_eq!(again.price, new.price);
        assert_eq!(
            new.spec.benefits.carry_over_cap, None,
            "\"all\" carries every credit over"
        );
    }
}
