//! The business's own settings: its locations and how it collects money.

use serde::{Deserialize, Serialize};

use crate::payments::Dunning;
use crate::validation::Invalid;

/// A site of the business, as the settings page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationView {
    pub id: i64,
    pub name: String,
    pub address: String,
    /// The public page is `/join/{slug}`.
    pub slug: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocationForm {
    pub name: String,
    pub address: String,
}

/// A validated location: a name of 1 to 80 characters and an address of at most 200.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLocation {
    pub name: String,
    pub address: String,
}

impl LocationForm {
    pub fn validate(&self) -> Result<NewLocation, Invalid> {
        let mut invalid = Invalid::default();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter the location's name");
        } else if name.chars().count() > 80 {
            invalid.push("name", "use at most 80 characters");
        }
        let address = self.address.trim().to_string();
        if address.chars().count() > 200 {
            invalid.push("address", "use at most 200 characters");
        }
        invalid.into_result(|| NewLocation { name, address })
    }
}

/// The business's billing settings as the settings page shows and takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingSettingsForm {
    pub terms_days: String,
    pub retry_days: String,
    pub past_due_after: String,
    pub suspend_after: String,
    /// "on" when cancelling immediately credits the unused part of the period.
    pub credit_unused_on_cancel: String,
    /// The most credits the front desk may take away at once.
    pub credit_adjust_limit: String,
    /// How much more than is due a payment may bring (whole units of the
    /// currency); the rest is kept as account credit.
    pub overpayment_limit: String,
}

/// The business's billing settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingSettings {
    pub dunning: Dunning,
    pub credit_unused_on_cancel: bool,
    pub credit_adjust_limit: u32,
    /// Whole units of the currency a payment may bring beyond what is due.
    pub overpayment_limit: u32,
}

/// The overpayment limit a business starts with: 500 of its currency.
pub const OVERPAYMENT_LIMIT: u32 = 500;

impl BillingSettingsForm {
    pub fn from_settings(settings: &BillingSettings) -> Self {
        let d = &settings.dunning;
        let credit_unused_on_cancel = settings.credit_unused_on_cancel;
        BillingSettingsForm {
            terms_days: d.terms_days.to_string(),
            retry_days: d
                .retry_days
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            past_due_after: d.past_due_after.to_string(),
            suspend_after: d.suspend_after.to_string(),
            credit_unused_on_cancel: if credit_unused_on_cancel { "on" } else { "" }.into(),
            credit_adjust_limit: settings.credit_adjust_limit.to_string(),
            overpayment_limit: settings.overpayment_limit.to_string(),
        }
    }

    pub fn validate(&self) -> Result<BillingSettings, Invalid> {
        let mut invalid = Invalid::default();
        let mut days = |field: &str, text: &str, max: u32| -> Option<u32> {
            match text.trim().parse::<u32>() {
                Ok(n) if n <= max => Some(n),
                _ => {
                    invalid.push(field, format!("enter a number of days from 0 to {max}"));
                    None
                }
            }
        };
        let terms = days("terms_days", &self.terms_days, 90);
        let past = days("past_due_after", &self.past_due_after, 90);
        let suspend = days("suspend_after", &self.suspend_after, 365);
        let retry = invalid.check("retry_days", Dunning::parse_retry_days(&self.retry_days));
        if let (Some(p), Some(s)) = (past, suspend)
            && s < p
        {
            invalid.push(
                "suspend_after",
                "suspension comes at or after past due; enter at least as many days",
            );
        }
        let credit = self.credit_unused_on_cancel == "on";
        let limit = match self.credit_adjust_limit.trim() {
            "" => Some(5),
            text => match text.parse::<u32>() {
                Ok(n) if n <= 10_000 => Some(n),
                _ => {
                    invalid.push(
                        "credit_adjust_limit",
                        "enter a number of credits from 0 to 10000",
                    );
                    None
                }
            },
        };
        let overpayment = match self.overpayment_limit.trim() {
            "" => Some(OVERPAYMENT_LIMIT),
            text => match text.parse::<u32>() {
                Ok(n) if n <= 1_000_000 => Some(n),
                _ => {
                    invalid.push(
                        "overpayment_limit",
                        "enter a whole amount from 0 to 1000000",
                    );
                    None
                }
            },
        };
        invalid.into_result(|| BillingSettings {
            dunning: Dunning {
                terms_days: terms.expect("checked"),
                retry_days: retry.expect("checked"),
                past_due_after: past.expect("checked"),
                suspend_after: suspend.expect("checked"),
            },
            credit_unused_on_cancel: credit,
            credit_adjust_limit: limit.expect("checked"),
            overpayment_limit: overpayment.expect("checked"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_settings_are_days_in_order() {
        let form = BillingSettingsForm {
            terms_days: "14".into(),
            retry_days: "1, 3, 7".into(),
            past_due_after: "21".into(),
            suspend_after: "45".into(),
            credit_unused_on_cancel: "on".into(),
            credit_adjust_limit: "8".into(),
            overpayment_limit: "250".into(),
        };
        let settings = form.validate().unwrap();
        assert_eq!(settings.overpayment_limit, 250);
        let d = &settings.dunning;
        assert_eq!(
            (
                d.terms_days,
                d.retry_days.len(),
                d.suspend_after,
                settings.credit_unused_on_cancel,
                settings.credit_adjust_limit
            ),
            (14, 3, 45, true, 8)
        );
        assert_eq!(BillingSettingsForm::from_settings(&settings), form);
        let bad = BillingSettingsForm {
            terms_days: "x".into(),
            retry_days: "7, 3".into(),
            past_due_after: "10".into(),
            suspend_after: "5".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            bad.message_for("terms_days"),
            Some("enter a number of days from 0 to 90")
        );
        assert!(bad.message_for("retry_days").is_some());
        assert!(
            bad.message_for("suspend_after")
                .unwrap()
                .contains("at least")
        );
    }

    #[test]
    fn a_location_needs_a_name_and_a_short_address() {
        let ok = LocationForm {
            name: " Riverside ".into(),
            address: "3 Riverside Walk".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.name, "Riverside");
        let err = LocationForm {
            name: "".into(),
            address: "x".repeat(201),
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.message_for("name"), Some("enter the location's name"));
        assert_eq!(
            err.message_for("address"),
            Some("use at most 200 characters")
        );
    }
}
