//! The membership catalog: the templates (membership types) a business sells.

use serde::{Deserialize, Serialize};

pub mod spec;

pub use spec::*;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::{Currency, Money};
use crate::validation::Invalid;

mod form;
mod views;

pub use form::{CatalogContext, MembershipTypeForm, NewMembershipType};
pub use views::{
    FormOptions, MembershipTypeDetail, MembershipTypeSummary, PublicOffer, PublicType, TypeFilter,
    price_label, sort_for_display,
};

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
