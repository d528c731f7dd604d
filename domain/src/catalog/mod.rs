//! The membership catalog: the templates (membership types) a business sells.

use serde::{Deserialize, Serialize};

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

/// A membership type as typed into the "new membership type" form: all text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipTypeForm {
    pub name: String,
    pub purchase_type: String,
    /// Empty unless the purchase type is recurring.
    #[serde(default)]
    pub billing_interval: String,
    pub fee: String,
    pub status: String,
}

/// A validated new membership type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMembershipType {
    pub name: String,
    pub purchase_type: PurchaseType,
    pub billing_interval: Option<BillingInterval>,
    pub fee: Money,
    pub status: TypeStatus,
}

impl MembershipTypeForm {
    /// Checks every field and reports all problems at once.
    ///
    /// Rules: a name of 1 to 100 characters; a recurring type needs a billing
    /// interval and the others must not have one; the fee is in the business's
    /// currency and is never negative; a benefit is free; a new type starts as a
    /// draft or active (retiring is a later change).
    pub fn validate(&self, currency: Currency) -> Result<NewMembershipType, Invalid> {
        let mut invalid = Invalid::default();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter a name");
        } else if name.chars().count() > NAME_MAX_CHARS {
            invalid.push("name", format!("use at most {NAME_MAX_CHARS} characters"));
        }
        let purchase_type = PurchaseType::parse(self.purchase_type.trim());
        if purchase_type.is_none() {
            invalid.push("purchase_type", "choose recurring, prepaid or benefit");
        }
        let interval_text = self.billing_interval.trim();
        let billing_interval = match (purchase_type, interval_text) {
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
            (_, "") => None,
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
            (None, _) => None,
        };
        let fee = invalid.check("fee", Money::parse(&self.fee, currency));
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
        let status = match TypeStatus::parse(self.status.trim()) {
            Some(status @ (TypeStatus::Draft | TypeStatus::Active)) => Some(status),
            _ => {
                invalid.push("status", "a new type is either draft or active");
                None
            }
        };
        if !invalid.is_empty() {
            return Err(invalid);
        }
        Ok(NewMembershipType {
            name,
            purchase_type: purchase_type.expect("checked above"),
            billing_interval,
            fee: fee.expect("checked above"),
            status: status.expect("checked above"),
        })
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
        }
    }

    #[test]
    fn a_monthly_recurring_type_is_accepted() {
        let t = form(" Adult monthly ", "recurring", "monthly", "59", "active")
            .validate(Currency::EUR)
            .unwrap();
        assert_eq!(t.name, "Adult monthly");
        assert_eq!(t.purchase_type, PurchaseType::Recurring);
        assert_eq!(t.billing_interval, Some(BillingInterval::Monthly));
        assert_eq!(t.fee, Money::new(5900, Currency::EUR));
        assert_eq!(t.status, TypeStatus::Active);
    }

    #[test]
    fn every_problem_is_reported_next_to_its_field() {
        let err = form("", "lifetime", "", "12.345", "retired")
            .validate(Currency::EUR)
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
            .validate(Currency::EUR)
            .unwrap_err();
        assert_eq!(
            err.message_for("billing_interval"),
            Some("a recurring type needs a billing interval")
        );
        let err = form("A", "prepaid", "monthly", "10", "draft")
            .validate(Currency::EUR)
            .unwrap_err();
        assert!(
            err.message_for("billing_interval")
                .unwrap()
                .contains("prepaid")
        );
        let ok = form("Ten visits", "prepaid", "", "120", "draft")
            .validate(Currency::EUR)
            .unwrap();
        assert_eq!(ok.billing_interval, None);
    }

    #[test]
    fn fees_are_never_negative_and_benefits_are_free() {
        let err = form("A", "recurring", "weekly", "-1", "draft")
            .validate(Currency::EUR)
            .unwrap_err();
        assert_eq!(err.message_for("fee"), Some("the fee cannot be negative"));
        let err = form("Staff", "benefit", "", "5", "active")
            .validate(Currency::EUR)
            .unwrap_err();
        assert!(err.message_for("fee").unwrap().contains("no charge"));
        assert!(
            form("Staff", "benefit", "", "0", "active")
                .validate(Currency::EUR)
                .is_ok()
        );
    }

    #[test]
    fn names_longer_than_the_limit_are_refused() {
        let long = "x".repeat(NAME_MAX_CHARS + 1);
        let err = form(&long, "benefit", "", "0", "draft")
            .validate(Currency::EUR)
            .unwrap_err();
        assert_eq!(err.message_for("name"), Some("use at most 100 characters"));
    }

    #[test]
    fn yen_fees_are_whole_amounts() {
        let err = form("A", "recurring", "monthly", "5900.5", "draft")
            .validate(Currency::JPY)
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

/// A membership type as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipTypeSummary {
    pub id: i64,
    pub name: String,
    pub purchase_type: PurchaseType,
    pub billing_interval: Option<BillingInterval>,
    pub status: TypeStatus,
    pub display_order: i64,
    /// The price version in effect today.
    pub fee: Money,
    /// Memberships of this type, of any status.
    pub memberships: i64,
}

impl MembershipTypeSummary {
    /// "€59.00 monthly", "€590.00 once", "free".
    pub fn price_label(&self) -> String {
        match (self.purchase_type, self.billing_interval) {
            (PurchaseType::Benefit, _) => "free".to_string(),
            (PurchaseType::Recurring, Some(interval)) => {
                format!("{} {}", self.fee, interval.label().to_lowercase())
            }
            _ => format!("{} once", self.fee),
        }
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
