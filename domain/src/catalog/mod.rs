//! The membership catalog: the templates (membership types) a business sells.

use serde::{Deserialize, Serialize};

pub mod spec;

pub use spec::*;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::{Currency, Money};
use crate::validation::Invalid;

/// Generates `as_str`, `parse`, `label` and `ALL` for a plain enum stored as text.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($text:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in storage, forms and the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The name shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// How a membership of this type is paid for.
    pub enum PurchaseType {
        /// Billed every interval until cancelled or until its term ends.
        Recurring = ("recurring", "Recurring"),
        /// Paid once, up front, for a term or a number of credits.
        Prepaid = ("prepaid", "Prepaid"),
        /// Granted at no charge (staff or partner perks).
        Benefit = ("benefit", "Benefit"),
    }
}

text_enum! {
    /// How often a recurring membership is billed.
    pub enum BillingInterval {
        Weekly = ("weekly", "Weekly"),
        TwoWeeks = ("two_weeks", "Every two weeks"),
        FourWeeks = ("four_weeks", "Every four weeks"),
        Monthly = ("monthly", "Monthly"),
        TwoMonths = ("two_months", "Every two months"),
        Quarterly = ("quarterly", "Quarterly"),
        HalfYearly = ("half_yearly", "Half-yearly"),
        Yearly = ("yearly", "Yearly"),
    }
}

text_enum! {
    /// Whether a type can be sold.
    pub enum TypeStatus {
        /// Being prepared: not offered for sale.
        Draft = ("draft", "Draft"),
        /// Offered for sale.
        Active = ("active", "Active"),
        /// No longer sold; existing memberships continue.
        Retired = ("retired", "Retired"),
    }
}

impl TypeStatus {
    /// Lists show active types first, then drafts, then retired ones.
    pub fn sort_rank(self) -> u8 {
        match self {
            TypeStatus::Active => 0,
            TypeStatus::Draft => 1,
            TypeStatus::Retired => 2,
        }
    }
}

pub const NAME_MAX_CHARS: usize = 100;

impl TypeStatus {
    /// Whether a type may move from this status to `to`. A draft can go live
    /// or be retired; an active type can be retired; a retired type can be
    /// sold again. Nothing returns to draft once it has been offered.
    pub fn check_change(self, to: TypeStatus) -> Result<(), String> {
        use TypeStatus::*;
        match (self, to) {
            (a, b) if a == b => Err(format!("the type is already {}", a.label().to_lowercase())),
            (Draft, Active) | (Draft, Retired) | (Active, Retired) | (Retired, Active) => Ok(()),
            (_, Draft) => Err("a type that has been offered cannot return to draft".to_string()),
            _ => Err("that status change is not possible".to_string()),
        }
    }
}

/// Whether a type may be deleted: only a draft, and only without memberships.
/// Retiring stops new sales and keeps existing memberships; deleting is for mistakes.
pub fn check_delete(status: TypeStatus, memberships: i64) -> Result<(), String> {
    if status != TypeStatus::Draft {
        return Err("only a draft can be deleted: retire the type to stop selling it".to_string());
    }
    if memberships > 0 {
        return Err(format!(
            "{memberships} membership(s) use this type: retire it instead"
        ));
    }
    Ok(())
}

/// What validation of a type needs to know about the business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogContext {
    pub currency: Currency,
    pub location_ids: Vec<i64>,
    pub member_types: Vec<String>,
    /// Other types of the business (a renewal target must be one of them).
    pub other_type_ids: Vec<i64>,
}

impl CatalogContext {
    /// A business with no locations, member types or other types to check against.
    pub fn bare(currency: Currency) -> CatalogContext {
        CatalogContext {
            currency,
            location_ids: Vec::new(),
            member_types: Vec::new(),
            other_type_ids: Vec::new(),
        }
    }
}

/// A membership type as typed into the staff app's form: all text, as browsers send it.
/// Fields a form leaves out take their defaults, so the quick form (name, purchase
/// type, interval, fee, status) and the full editor share one rule set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MembershipTypeForm {
    pub name: String,
    pub description: String,
    pub color: String,
    pub purchase_type: String,
    /// Empty unless the purchase type is recurring.
    pub billing_interval: String,
    pub status: String,
    pub fee: String,
    pub initiation_fee: String,
    pub term_kind: String,
    pub term_years: String,
    pub term_months: String,
    pub term_days: String,
    /// One range a line: "2026-09-01 to 2027-05-31".
    pub seasons: String,
    pub end_action: String,
    pub renew_into: String,
    pub punch_card_credits: String,
    /// "all" (the default) or "selected" (then `location_ids`).
    pub location_scope: String,
    pub location_ids: Vec<String>,
    pub member_types: Vec<String>,
    pub youth: String,
    pub group: String,
    pub max_family_members: String,
    pub additional_member_fee: String,
    pub credits_per_period: String,
    pub carry_over_cap: String,
    pub credit_expiry_after: String,
    pub credit_expiry_unit: String,
    /// One service a line: "Massage: 1".
    pub included_services: String,
    pub member_discount_percent: String,
    pub pause_allowed: String,
    pub pause_max_per_year: String,
    pub pause_min_days: String,
    pub pause_max_days: String,
    pub pause_fee: String,
    pub pause_extends_commitment: String,
    pub pause_portal: String,
    pub min_commitment_periods: String,
    pub notice_days: String,
    pub cancel_timing: String,
    pub cancel_portal: String,
    pub approval_required: String,
    pub one_per_member: String,
    pub revenue_account: String,
    pub deferred_revenue: String,
}

/// A validated new membership type: settings, first status and first price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMembershipType {
    pub spec: TypeSpec,
    pub status: TypeStatus,
    pub price: Price,
}

impl MembershipTypeForm {
    /// Checks a new type: its settings, its first price, and a first status of draft or active.
    pub fn validate_new(&self, ctx: &CatalogContext) -> Result<NewMembershipType, Invalid> {
        let mut invalid = Invalid::default();
        let spec = self.check_spec(ctx, &mut invalid);
        let purchase_type = PurchaseType::parse(self.purchase_type.trim());
        let price = check_price(
            purchase_type,
            &self.fee,
            &self.initiation_fee,
            ctx.currency,
            &mut invalid,
        );
        let status = match TypeStatus::parse(self.status.trim()) {
            Some(status @ (TypeStatus::Draft | TypeStatus::Active)) => Some(status),
            _ => {
                invalid.push("status", "a new type is either draft or active");
                None
            }
        };
        match (spec, price, status) {
            (Some(spec), Some(price), Some(status)) if invalid.is_empty() => {
                Ok(NewMembershipType {
                    spec,
                    status,
                    price,
                })
            }
            _ => Err(invalid),
        }
    }

    /// Checks the settings of a type (create or edit), reporting every problem at once.
    pub fn validate_spec(&self, ctx: &CatalogContext) -> Result<TypeSpec, Invalid> {
        let mut invalid = Invalid::default();
        match self.check_spec(ctx, &mut invalid) {
            Some(spec) if invalid.is_empty() => Ok(spec),
            _ => Err(invalid),
        }
    }

    fn check_spec(&self, ctx: &CatalogContext, invalid: &mut Invalid) -> Option<TypeSpec> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter a name");
        } else if name.chars().count() > NAME_MAX_CHARS {
            invalid.push("name", format!("use at most {NAME_MAX_CHARS} characters"));
        }
        let description = self.description.trim().to_string();
        if description.chars().count() > DESCRIPTION_MAX_CHARS {
            invalid.push(
                "description",
                format!("use at most {DESCRIPTION_MAX_CHARS} characters"),
            );
        }
        let color = match self.color.trim() {
            "" => DEFAULT_COLOR.to_string(),
            c if c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()) =>
            {
                c.to_lowercase()
            }
            _ => {
                invalid.push("color", "use a colour such as #1f5fbf");
                DEFAULT_COLOR.to_string()
            }
        };

        let purchase_type = PurchaseType::parse(self.purchase_type.trim());
        if purchase_type.is_none() {
            invalid.push("purchase_type", "choose recurring, prepaid or benefit");
        }
        let billing_interval = self.check_interval(purchase_type, invalid);
        let term = self.check_term(purchase_type, invalid);
        let (end_action, renew_into) = self.check_end_action(term.as_ref(), ctx, invalid);

        let punch_card_credits = optional_count(
            invalid,
            "punch_card_credits",
            &self.punch_card_credits,
            10_000,
        );
        if punch_card_credits.is_some() && purchase_type != Some(PurchaseType::Prepaid) {
            invalid.push(
                "punch_card_credits",
                "only a prepaid type can be a punch card",
            );
        }
        if punch_card_credits == Some(0) {
            invalid.push("punch_card_credits", "a punch card has at least one visit");
        }

        let all_locations = match self.location_scope.trim() {
            "" | "all" => true,
            "selected" => false,
            _ => {
                invalid.push(
                    "location_scope",
                    "choose all locations or selected locations",
                );
                true
            }
        };
        let mut location_ids = Vec::new();
        for text in self
            .location_ids
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        {
            match text.parse::<i64>() {
                Ok(id) if ctx.location_ids.contains(&id) => {
                    if !location_ids.contains(&id) {
                        location_ids.push(id);
                    }
                }
                _ => invalid.push("location_ids", "choose locations from the list"),
            }
        }
        if all_locations {
            location_ids.clear();
        } else if location_ids.is_empty() {
            invalid.push(
                "location_ids",
                "choose at least one location, or all locations",
            );
        }
        location_ids.sort_unstable();

        let mut member_types = Vec::new();
        for text in self
            .member_types
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        {
            match ctx
                .member_types
                .iter()
                .find(|m| m.eq_ignore_ascii_case(text))
            {
                Some(known) if !member_types.contains(known) => member_types.push(known.clone()),
                Some(_) => {}
                None => invalid.push(
                    "member_types",
                    format!("{text:?} is not one of the business's member types"),
                ),
            }
        }

        let group = self.check_group(ctx.currency, invalid);
        let benefits = self.check_benefits(invalid);
        let policies = self.check_policies(purchase_type, ctx.currency, invalid);

        let revenue_account = self.revenue_account.trim().to_string();
        if revenue_account.chars().count() > 40 {
            invalid.push("revenue_account", "use at most 40 characters");
        }

        Some(TypeSpec {
            name,
            description,
            color,
            purchase_type: purchase_type?,
            billing_interval,
            term: term?,
            end_action,
            renew_into,
            punch_card_credits,
            all_locations,
            location_ids,
            member_types,
            youth: checked(&self.youth),
            group,
            benefits,
            policies: policies?,
            revenue_account,
            deferred_revenue: checked(&self.deferred_revenue),
        })
    }

    fn check_interval(
        &self,
        purchase_type: Option<PurchaseType>,
        invalid: &mut Invalid,
    ) -> Option<BillingInterval> {
        match (purchase_type, self.billing_interval.trim()) {
            (Some(PurchaseType::Recurring), "") => {
                invalid.push(
                    "billing_interval",
                    "a recurring type needs a billing interval",
                );
                None
            }
            (Some(PurchaseType::Recurring), text) => {
                let interval = BillingInterval::parse(text);
                if interval.is_none() {
                    invalid.push(
                        "billing_interval",
                        "choose a billing interval from the list",
                    );
                }
                interval
            }
            (_, "") | (None, _) => None,
            (Some(other), _) => {
                invalid.push(
                    "billing_interval",
                    format!(
                        "a {} type is not billed by interval: leave it empty",
                        other.label().to_lowercase()
                    ),
                );
                None
            }
        }
    }

    fn check_term(
        &self,
        purchase_type: Option<PurchaseType>,
        invalid: &mut Invalid,
    ) -> Option<Term> {
        let kind = match self.term_kind.trim() {
            "" => TermKind::Ongoing,
            text => match TermKind::parse(text) {
                Some(kind) => kind,
                None => {
                    invalid.push("term_kind", "choose ongoing, fixed length or fixed dates");
                    return None;
                }
            },
        };
        let term = match kind {
            TermKind::Ongoing => Term::Ongoing,
            TermKind::Fixed => {
                let years =
                    optional_count(invalid, "term_years", &self.term_years, 100).unwrap_or(0);
                let months =
                    optional_count(invalid, "term_months", &self.term_months, 1200).unwrap_or(0);
                let days =
                    optional_count(invalid, "term_days", &self.term_days, 36_600).unwrap_or(0);
                let length = FixedLength {
                    years,
                    months,
                    days,
                };
                if length.is_zero() {
                    invalid.push(
                        "term_years",
                        "a fixed term needs a length in years, months or days",
                    );
                    return None;
                }
                Term::Fixed { length }
            }
            TermKind::Seasons => match parse_seasons(&self.seasons) {
                Ok(ranges) => Term::Seasons { ranges },
                Err(message) => {
                    invalid.push("seasons", message);
                    return None;
                }
            },
        };
        if purchase_type == Some(PurchaseType::Prepaid) && term == Term::Ongoing {
            invalid.push(
                "term_kind",
                "a prepaid type is paid up front for a term: choose a fixed length or fixed dates",
            );
            return None;
        }
        Some(term)
    }

    fn check_end_action(
        &self,
        term: Option<&Term>,
        ctx: &CatalogContext,
        invalid: &mut Invalid,
    ) -> (EndAction, Option<i64>) {
        let action = match self.end_action.trim() {
            "" => EndAction::Expire,
            text => match EndAction::parse(text) {
                Some(action) => action,
                None => {
                    invalid.push("end_action", "choose what happens at the end of the term");
                    return (EndAction::Expire, None);
                }
            },
        };
        if term == Some(&Term::Ongoing) && action != EndAction::Expire {
            invalid.push("end_action", "an ongoing type has no end: nothing to renew");
        }
        let renew_into = match action {
            EndAction::RenewOther => match self.renew_into.trim().parse::<i64>() {
                Ok(id) if ctx.other_type_ids.contains(&id) => Some(id),
                _ => {
                    invalid.push("renew_into", "choose the type it renews into");
                    None
                }
            },
            _ => None,
        };
        (action, renew_into)
    }

    fn check_group(&self, currency: Currency, invalid: &mut Invalid) -> Option<GroupPolicy> {
        let is_group = checked(&self.group);
        let max = optional_count(invalid, "max_family_members", &self.max_family_members, 100);
        if !is_group {
            if max.is_some_and(|m| m > 0) {
                invalid.push(
                    "max_family_members",
                    "a maximum family size needs a group type: tick \"group membership\"",
                );
            }
            return None;
        }
        let max = match max {
            Some(m) if m > 0 => m,
            _ => {
                invalid.push(
                    "max_family_members",
                    "a group membership covers at least one family member",
                );
                return None;
            }
        };
        let fee_text = if self.additional_member_fee.trim().is_empty() {
            "0"
        } else {
            &self.additional_member_fee
        };
        let fee = invalid.check("additional_member_fee", Money::parse(fee_text, currency))?;
        if fee.is_negative() {
            invalid.push("additional_member_fee", "the fee cannot be negative");
            return None;
        }
        Some(GroupPolicy {
            max_family_members: max,
            additional_member_fee: fee,
        })
    }

    fn check_benefits(&self, invalid: &mut Invalid) -> Benefits {
        let credits_per_period = optional_count(
            invalid,
            "credits_per_period",
            &self.credits_per_period,
            10_000,
        )
        .unwrap_or(0);
        let carry_over_cap = match self.carry_over_cap.trim() {
            "" => Some(0),
            "all" | "unlimited" => None,
            _ => optional_count(invalid, "carry_over_cap", &self.carry_over_cap, 100_000),
        };
        if credits_per_period == 0 && carry_over_cap.is_some_and(|c| c > 0) {
            invalid.push(
                "carry_over_cap",
                "a carry-over cap needs credits granted each period",
            );
        }
        let credit_expiry = match optional_count(
            invalid,
            "credit_expiry_after",
            &self.credit_expiry_after,
            3650,
        ) {
            None | Some(0) => None,
            Some(after) => match ExpiryUnit::parse(self.credit_expiry_unit.trim()) {
                Some(unit) => Some(CreditExpiry { after, unit }),
                None => {
                    invalid.push("credit_expiry_unit", "choose days or periods");
                    None
                }
            },
        };
        let included_services = match parse_included_services(&self.included_services) {
            Ok(services) => services,
            Err(message) => {
                invalid.push("included_services", message);
                Vec::new()
            }
        };
        let member_discount_percent = match parse_percent(&self.member_discount_percent) {
            Ok(p) => p,
            Err(message) => {
                invalid.push("member_discount_percent", message);
                Decimal::ZERO
            }
        };
        Benefits {
            credits_per_period,
            carry_over_cap,
            credit_expiry,
            included_services,
            member_discount_percent,
        }
    }

    fn check_policies(
        &self,
        purchase_type: Option<PurchaseType>,
        currency: Currency,
        invalid: &mut Invalid,
    ) -> Option<Policies> {
        let pause = if checked(&self.pause_allowed) {
            let max_per_year =
                optional_count(invalid, "pause_max_per_year", &self.pause_max_per_year, 365);
            let min_days = optional_count(invalid, "pause_min_days", &self.pause_min_days, 3650)
                .unwrap_or(1)
                .max(1);
            let max_days = optional_count(invalid, "pause_max_days", &self.pause_max_days, 3650);
            if max_days.is_some_and(|max| max < min_days) {
                invalid.push(
                    "pause_max_days",
                    "the longest pause cannot be shorter than the shortest",
                );
            }
            if max_per_year == Some(0) {
                invalid.push(
                    "pause_max_per_year",
                    "allow at least one pause a year, or untick pausing",
                );
            }
            let fee_text = if self.pause_fee.trim().is_empty() {
                "0"
            } else {
                &self.pause_fee
            };
            let fee = invalid.check("pause_fee", Money::parse(fee_text, currency));
            if fee.is_some_and(|f| f.is_negative()) {
                invalid.push("pause_fee", "the pause fee cannot be negative");
            }
            Some(PausePolicy {
                max_per_year,
                min_days,
                max_days,
                fee_per_period: fee.unwrap_or(Money::zero(currency)),
                extends_commitment: checked(&self.pause_extends_commitment),
                portal_allowed: checked(&self.pause_portal),
            })
        } else {
            None
        };
        let min_commitment_periods = optional_count(
            invalid,
            "min_commitment_periods",
            &self.min_commitment_periods,
            120,
        )
        .unwrap_or(0);
        if min_commitment_periods > 0 && purchase_type.is_some_and(|p| p != PurchaseType::Recurring)
        {
            invalid.push(
                "min_commitment_periods",
                "a minimum commitment counts billing periods: only recurring types have one",
            );
        }
        if pause.is_some() && purchase_type == Some(PurchaseType::Benefit) {
            invalid.push(
                "pause_allowed",
                "a benefit is free: there is nothing to pause",
            );
        }
        let notice_days =
            optional_count(invalid, "notice_days", &self.notice_days, 365).unwrap_or(0);
        let timing = match self.cancel_timing.trim() {
            "" => CancelTiming::AtPeriodEnd,
            text => match CancelTiming::parse(text) {
                Some(timing) => timing,
                None => {
                    invalid.push("cancel_timing", "choose when a cancellation takes effect");
                    return None;
                }
            },
        };
        Some(Policies {
            pause,
            min_commitment_periods,
            notice_days,
            cancellation: CancellationPolicy {
                timing,
                portal_allowed: checked(&self.cancel_portal),
            },
            approval_required: checked(&self.approval_required),
            one_per_member: checked(&self.one_per_member),
        })
    }
}

/// A membership type as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipTypeSummary {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub purchase_type: PurchaseType,
    pub billing_interval: Option<BillingInterval>,
    pub status: TypeStatus,
    pub display_order: i64,
    /// The price version in effect today.
    pub fee: Money,
    pub initiation_fee: Money,
    pub term: Term,
    pub all_locations: bool,
    pub location_ids: Vec<i64>,
    /// Memberships of this type, of any status.
    pub memberships: i64,
}

impl MembershipTypeSummary {
    /// "€59.00 monthly", "€590.00 once", "free".
    pub fn price_label(&self) -> String {
        price_label(self.purchase_type, self.billing_interval, self.fee)
    }

    pub fn offered_at(&self, location_id: i64) -> bool {
        self.all_locations || self.location_ids.contains(&location_id)
    }
}

/// "€59.00 monthly", "€590.00 once", "free".
pub fn price_label(
    purchase_type: PurchaseType,
    interval: Option<BillingInterval>,
    fee: Money,
) -> String {
    match (purchase_type, interval) {
        (PurchaseType::Benefit, _) => "free".to_string(),
        (PurchaseType::Recurring, Some(interval)) => {
            format!("{} {}", fee, interval.label().to_lowercase())
        }
        _ => format!("{fee} once"),
    }
}

/// Orders types as every list shows them: by status (active, draft, retired),
/// then display order, then name (case-insensitive).
pub fn sort_for_display(types: &mut [MembershipTypeSummary]) {
    types.sort_by(|a, b| {
        (
            a.status.sort_rank(),
            a.display_order,
            a.name.to_lowercase(),
            a.id,
        )
            .cmp(&(
                b.status.sort_rank(),
                b.display_order,
                b.name.to_lowercase(),
                b.id,
            ))
    });
}

/// The catalog page's filters. Retired types are listed only when asked for
/// (or when the status filter is "retired").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeFilter {
    pub status: Option<TypeStatus>,
    pub purchase_type: Option<PurchaseType>,
    pub location_id: Option<i64>,
    /// Matched case-insensitively against the name.
    pub search: String,
    pub include_retired: bool,
}

impl TypeFilter {
    pub fn matches(&self, t: &MembershipTypeSummary) -> bool {
        let status_ok = match self.status {
            Some(status) => t.status == status,
            None => self.include_retired || t.status != TypeStatus::Retired,
        };
        let search = self.search.trim().to_lowercase();
        status_ok
            && self.purchase_type.is_none_or(|p| t.purchase_type == p)
            && self.location_id.is_none_or(|l| t.offered_at(l))
            && (search.is_empty() || t.name.to_lowercase().contains(&search))
    }
}

/// What the type form offers to choose from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOptions {
    pub currency: Currency,
    /// (id, name)
    pub locations: Vec<(i64, String)>,
    pub member_types: Vec<String>,
    /// (id, name) of the business's types, for "renews into".
    pub types: Vec<(i64, String)>,
}

/// A location's public "join" page: what it offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicOffer {
    pub business_name: String,
    /// Where the business's members sign in: /portal/sign-in/{business_slug}.
    pub business_slug: String,
    pub location_name: String,
    pub types: Vec<PublicType>,
}

/// A type as the public sees it: no internal settings, only what a buyer needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicType {
    /// The type's id, for the signup link.
    pub id: i64,
    pub name: String,
    pub description: String,
    pub price: String,
    pub initiation_fee: Option<String>,
    pub term: String,
    pub benefits: Vec<String>,
    /// The member types it is for ("Student"); empty: anyone.
    pub member_types: Vec<String>,
}

impl PublicType {
    pub fn new(id: i64, spec: &TypeSpec, fee: Money, initiation_fee: Money) -> PublicType {
        let mut benefits = Vec::new();
        let b = &spec.benefits;
        if !spec.member_types.is_empty() {
            benefits.push(format!("for {} members", spec.member_types.join(" or ")));
        }
        if let Some(n) = spec.punch_card_credits {
            benefits.push(format!("{n} visits"));
        }
        if b.credits_per_period > 0 {
            let carry = match b.carry_over_cap {
                None => ", unused credits carry over".to_string(),
                Some(0) => String::new(),
                Some(cap) => format!(", up to {cap} carry over"),
            };
            benefits.push(format!(
                "{} credit(s) per period{carry}",
                b.credits_per_period
            ));
        }
        for service in &b.included_services {
            benefits.push(format!(
                "{} × {} per period",
                service.per_period, service.name
            ));
        }
        if !b.member_discount_percent.is_zero() {
            benefits.push(format!("{}% member discount", b.member_discount_percent));
        }
        if let Some(group) = &spec.group {
            let extra = if group.additional_member_fee.minor > 0 {
                format!(" ({} each per period)", group.additional_member_fee)
            } else {
                " (included)".to_string()
            };
            benefits.push(format!(
                "up to {} family members{extra}",
                group.max_family_members
            ));
        }
        if spec.policies.min_commitment_periods > 0 {
            benefits.push(format!(
                "minimum commitment: {} periods",
                spec.policies.min_commitment_periods
            ));
        }
        if spec.policies.pause.is_some() {
            benefits.push("can be paused".to_string());
        }
        PublicType {
            id,
            name: spec.name.clone(),
            description: spec.description.clone(),
            price: price_label(spec.purchase_type, spec.billing_interval, fee),
            initiation_fee: (initiation_fee.minor > 0).then(|| initiation_fee.to_string()),
            term: spec.term.describe(),
            benefits,
            member_types: spec.member_types.clone(),
        }
    }
}

/// One price of a type, from a date on, with how many memberships were sold at it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceVersion {
    pub id: i64,
    pub fee: Money,
    pub initiation_fee: Money,
    pub effective_from: NaiveDate,
    pub memberships: i64,
}

/// The version in effect on `today`: the latest that started on or before it;
/// if every version starts later, the first one. `versions` must be sorted by date.
pub fn current_price(versions: &[PriceVersion], today: NaiveDate) -> Option<&PriceVersion> {
    versions
        .iter()
        .rev()
        .find(|v| v.effective_from <= today)
        .or_else(|| versions.first())
}

/// A new price version starts today or later (never in the past: invoices
/// already issued at the old price stay true) and on a date with no version yet.
pub fn check_new_price_version(
    versions: &[PriceVersion],
    effective_from: NaiveDate,
    today: NaiveDate,
) -> Result<(), String> {
    if effective_from < today {
        return Err(format!("a new price starts today ({today}) or later"));
    }
    if versions.iter().any(|v| v.effective_from == effective_from) {
        return Err(format!("a price already starts on {effective_from}"));
    }
    Ok(())
}

/// Everything about one type, for its page and its edit form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipTypeDetail {
    pub id: i64,
    pub status: TypeStatus,
    pub display_order: i64,
    pub spec: TypeSpec,
    /// Oldest first.
    pub prices: Vec<PriceVersion>,
    pub current_price_id: i64,
    pub memberships: i64,
    pub location_names: Vec<String>,
    pub renew_into_name: Option<String>,
}

impl MembershipTypeDetail {
    pub fn current_price(&self) -> Option<&PriceVersion> {
        self.prices.iter().find(|p| p.id == self.current_price_id)
    }

    /// The edit form, filled with this type's settings.
    pub fn to_form(&self) -> MembershipTypeForm {
        let s = &self.spec;
        let on = |b: bool| if b { "on".to_string() } else { String::new() };
        let count = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        let (term_years, term_months, term_days, seasons) = match &s.term {
            Term::Fixed { length } => (
                length.years.to_string(),
                length.months.to_string(),
                length.days.to_string(),
                String::new(),
            ),
            Term::Seasons { ranges } => (
                String::new(),
                String::new(),
                String::new(),
                ranges
                    .iter()
                    .map(|r| format!("{} to {}", r.first, r.last))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Term::Ongoing => Default::default(),
        };
        let pause = s.policies.pause.as_ref();
        let price = self.current_price();
        MembershipTypeForm {
            name: s.name.clone(),
            description: s.description.clone(),
            color: s.color.clone(),
            purchase_type: s.purchase_type.as_str().to_string(),
            billing_interval: s
                .billing_interval
                .map(|i| i.as_str().to_string())
                .unwrap_or_default(),
            status: self.status.as_str().to_string(),
            fee: price.map(|p| p.fee.to_plain()).unwrap_or_default(),
            initiation_fee: price
                .map(|p| p.initiation_fee.to_plain())
                .unwrap_or_default(),
            term_kind: s.term.kind().as_str().to_string(),
            term_years,
            term_months,
            term_days,
            seasons,
            end_action: s.end_action.as_str().to_string(),
            renew_into: s.renew_into.map(|id| id.to_string()).unwrap_or_default(),
            punch_card_credits: count(s.punch_card_credits),
            location_scope: if s.all_locations { "all" } else { "selected" }.to_string(),
            location_ids: s.location_ids.iter().map(|id| id.to_string()).collect(),
            member_types: s.member_types.clone(),
            youth: on(s.youth),
            group: on(s.group.is_some()),
            max_family_members: s
                .group
                .as_ref()
                .map(|g| g.max_family_members.to_string())
                .unwrap_or_default(),
            additional_member_fee: s
                .group
                .as_ref()
                .map(|g| g.additional_member_fee.to_plain())
                .unwrap_or_default(),
            credits_per_period: if s.benefits.credits_per_period > 0 {
                s.benefits.credits_per_period.to_string()
            } else {
                String::new()
            },
            carry_over_cap: match s.benefits.carry_over_cap {
                None => "all".to_string(),
                Some(0) => String::new(),
                Some(n) => n.to_string(),
            },
            credit_expiry_after: s
                .benefits
                .credit_expiry
                .map(|e| e.after.to_string())
                .unwrap_or_default(),
            credit_expiry_unit: s
                .benefits
                .credit_expiry
                .map(|e| e.unit.as_str().to_string())
                .unwrap_or_else(|| "days".to_string()),
            included_services: s
                .benefits
                .included_services
                .iter()
                .map(|x| format!("{}: {}", x.name, x.per_period))
                .collect::<Vec<_>>()
                .join("\n"),
            member_discount_percent: if s.benefits.member_discount_percent.is_zero() {
                String::new()
            } else {
                s.benefits.member_discount_percent.to_string()
            },
            pause_allowed: on(pause.is_some()),
            pause_max_per_year: count(pause.and_then(|p| p.max_per_year)),
            pause_min_days: pause.map(|p| p.min_days.to_string()).unwrap_or_default(),
            pause_max_days: count(pause.and_then(|p| p.max_days)),
            pause_fee: pause
                .map(|p| p.fee_per_period.to_plain())
                .unwrap_or_default(),
            pause_extends_commitment: on(pause.is_some_and(|p| p.extends_commitment)),
            pause_portal: on(pause.is_some_and(|p| p.portal_allowed)),
            min_commitment_periods: if s.policies.min_commitment_periods > 0 {
                s.policies.min_commitment_periods.to_string()
            } else {
                String::new()
            },
            notice_days: if s.policies.notice_days > 0 {
                s.policies.notice_days.to_string()
            } else {
                String::new()
            },
            cancel_timing: s.policies.cancellation.timing.as_str().to_string(),
            cancel_portal: on(s.policies.cancellation.portal_allowed),
            approval_required: on(s.policies.approval_required),
            one_per_member: on(s.policies.one_per_member),
            revenue_account: s.revenue_account.clone(),
            deferred_revenue: on(s.deferred_revenue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(
        name: &str,
        purchase: &str,
        interval: &str,
        fee: &str,
        status: &str,
    ) -> MembershipTypeForm {
        MembershipTypeForm {
            name: name.into(),
            purchase_type: purchase.into(),
            billing_interval: interval.into(),
            fee: fee.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_monthly_recurring_type_is_accepted() {
        let t = form(" Adult monthly ", "recurring", "monthly", "59", "active")
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap();
        assert_eq!(t.spec.name, "Adult monthly");
        assert_eq!(t.spec.purchase_type, PurchaseType::Recurring);
        assert_eq!(t.spec.billing_interval, Some(BillingInterval::Monthly));
        assert_eq!(t.spec.term, Term::Ongoing);
        assert!(t.spec.all_locations);
        assert_eq!(t.price.fee, Money::new(5900, Currency::EUR));
        assert_eq!(t.price.initiation_fee, Money::zero(Currency::EUR));
        assert_eq!(t.status, TypeStatus::Active);
    }

    #[test]
    fn every_problem_is_reported_next_to_its_field() {
        let err = form("", "lifetime", "", "12.345", "retired")
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap_err();
        assert_eq!(err.message_for("name"), Some("enter a name"));
        assert_eq!(
            err.message_for("purchase_type"),
            Some("choose recurring, prepaid or benefit")
        );
        assert_eq!(
            err.message_for("fee"),
            Some("EUR amounts have at most 2 decimal places")
        );
        assert_eq!(
            err.message_for("status"),
            Some("a new type is either draft or active")
        );
    }

    #[test]
    fn a_recurring_type_needs_an_interval_and_others_refuse_one() {
        let err = form("A", "recurring", "", "10", "draft")
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap_err();
        assert_eq!(
            err.message_for("billing_interval"),
            Some("a recurring type needs a billing interval")
        );
        let err = form("A", "prepaid", "monthly", "10", "draft")
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap_err();
        assert!(
            err.message_for("billing_interval")
                .unwrap()
                .contains("prepaid")
        );
        let mut ten = form("Ten visits", "prepaid", "", "120", "draft");
        ten.term_kind = "fixed".into();
        ten.term_months = "6".into();
        let ok = ten
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap();
        assert_eq!(ok.spec.billing_interval, None);
    }

    #[test]
    fn fees_are_never_negative_and_benefits_are_free() {
        let err = form("A", "recurring", "weekly", "-1", "draft")
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap_err();
        assert_eq!(err.message_for("fee"), Some("the fee cannot be negative"));
        let err = form("Staff", "benefit", "", "5", "active")
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap_err();
        assert!(err.message_for("fee").unwrap().contains("no charge"));
        assert!(
            form("Staff", "benefit", "", "0", "active")
                .validate_new(&CatalogContext::bare(Currency::EUR))
                .is_ok()
        );
    }

    #[test]
    fn names_longer_than_the_limit_are_refused() {
        let long = "x".repeat(NAME_MAX_CHARS + 1);
        let err = form(&long, "benefit", "", "0", "draft")
            .validate_new(&CatalogContext::bare(Currency::EUR))
            .unwrap_err();
        assert_eq!(err.message_for("name"), Some("use at most 100 characters"));
    }

    #[test]
    fn yen_fees_are_whole_amounts() {
        let err = form("A", "recurring", "monthly", "5900.5", "draft")
            .validate_new(&CatalogContext::bare(Currency::JPY))
            .unwrap_err();
        assert_eq!(
            err.message_for("fee"),
            Some("JPY has no minor unit: enter a whole amount")
        );
    }

    #[test]
    fn active_types_sort_before_drafts_before_retired() {
        let mut statuses = vec![TypeStatus::Retired, TypeStatus::Draft, TypeStatus::Active];
        statuses.sort_by_key(|s| s.sort_rank());
        assert_eq!(
            statuses,
            vec![TypeStatus::Active, TypeStatus::Draft, TypeStatus::Retired]
        );
    }
}
