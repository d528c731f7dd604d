//! Public signup: a visitor joins from a location's page, pays the first
//! invoice by card, and follows the signup on its status page.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::catalog::PublicType;
use crate::lifecycle::sale::SalePreview;
use crate::members::MemberForm;
use crate::money::Money;
use crate::payments::CardForm;

/// What the visitor types. The key is made when the form is shown, so a
/// refresh or a second click of the same form signs up once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub type_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    /// YYYY-MM-DD, may be empty.
    pub date_of_birth: String,
    /// The first day, YYYY-MM-DD; empty for today.
    pub start: String,
    /// Who the visitor joins as ("Student"), when the type is for some
    /// member types only (`SignupOptions::member_types`); else empty.
    pub member_type: String,
    pub number: String,
    pub expiry: String,
    pub key: String,
}

impl SignupForm {
    /// The member's details as the staff app's member form has them.
    pub fn member(&self) -> MemberForm {
        MemberForm {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            date_of_birth: self.date_of_birth.clone(),
            member_type: self.member_type.clone(),
            ..Default::default()
        }
    }

    /// A type for some member types only is joined as one of them, which the
    /// visitor says (and the front desk may ask to see proof of).
    pub fn check_member_type(&self, eligible: &[String]) -> Result<(), Invalid> {
        if eligible.is_empty() {
            return Ok(());
        }
        let said = self.member_type.trim();
        if eligible.iter().any(|t| t.eq_ignore_ascii_case(said)) {
            Ok(())
        } else {
            Err(Invalid::one(
                "member_type",
                format!(
                    "this membership is for {} members: choose which you are",
                    eligible.join(" or ")
                ),
            ))
        }
    }

    pub fn card(&self) -> CardForm {
        CardForm {
            number: self.number.clone(),
            expiry: self.expiry.clone(),
        }
    }

    /// The type chosen, and that an email was given (the portal needs one).
    /// (The key is the confirmation's, checked by `check_key`.)
    pub fn check_basics(&self) -> Result<i64, Invalid> {
        let mut invalid = Invalid::default();
        let type_id = self.type_id.trim().parse::<i64>().ok();
        if type_id.is_none() {
            invalid.push("type_id", "choose a membership");
        }
        if self.email.trim().is_empty() {
            invalid.push(
                "email",
                "enter your email address: your receipts and sign-in codes go there",
            );
        }
        match type_id {
            Some(id) if invalid.is_empty() => Ok(id),
            _ => Err(invalid),
        }
    }

    /// The confirmation carries the key its form was made with.
    pub fn check_key(&self) -> Result<&str, Invalid> {
        match self.key.trim() {
            "" => Err(Invalid::one(
                "key",
                "this form has expired; reload the page and try again",
            )),
            key => Ok(key),
        }
    }
}

/// Public signups one client address may make per hour (a setting:
/// `TESSERA_SIGNUPS_PER_CLIENT`).
pub const SIGNUPS_PER_CLIENT: u32 = 10;

/// The refusal of one signup too many from one address.
pub fn too_many_signups() -> String {
    "Too many signups have come from your connection in the last hour. Please try again later, or ask the front desk."
        .to_string()
}

/// The signup page of one type at one location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupOptions {
    pub business_name: String,
    pub location_name: String,
    pub location_slug: String,
    pub type_id: i64,
    pub offer: PublicType,
    /// The member types the type is for ("Student"); empty: anyone.
    pub member_types: Vec<String>,
    pub today: NaiveDate,
    /// A fresh idempotency key for the form.
    pub key: String,
}

/// Where a signup stands, computed from its membership and first invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignupState {
    /// Paid (or nothing to pay) and running, or starting on its date.
    Active,
    /// Paid; staff approve the membership before it starts.
    PendingApproval,
    /// The card was not charged; the visitor may try another.
    PaymentFailed { reason: String },
}

/// The status page of a signup (`/join/status/{token}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupView {
    pub token: String,
    pub business_name: String,
    pub member_name: String,
    pub email: String,
    pub type_name: String,
    pub start: NaiveDate,
    pub state: SignupState,
    pub first_invoice_total: Option<Money>,
    pub amount_due: Option<Money>,
    /// A fresh key for a retry's form.
    pub retry_key: String,
}

impl SignupView {
    /// One sentence for the visitor.
    pub fn message(&self) -> String {
        match &self.state {
            SignupState::Active => format!(
                "Welcome, {}! Your {} membership is confirmed. A confirmation is on its way to {}.",
                self.member_name, self.type_name, self.email
            ),
            SignupState::PendingApproval => format!(
                "Thank you, {}. Your {} membership waits for the club's approval; we will write to {} when it starts.",
                self.member_name, self.type_name, self.email
            ),
            SignupState::PaymentFailed { reason } => format!(
                "Your card was not charged: {reason}. Try another card below; nothing else needs to be entered again."
            ),
        }
    }
}

/// What the status page's retry form posts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryForm {
    pub number: String,
    pub expiry: String,
    pub key: String,
}

/// The sale preview the signup page shows before the card is entered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupPreview {
    pub type_name: String,
    pub preview: SalePreview,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_for_some_member_types_is_joined_as_one_of_them() {
        let students = vec!["Student".to_string()];
        let mut form = SignupForm::default();
        assert!(form.check_member_type(&[]).is_ok(), "open to anyone");
        let refused = form.check_member_type(&students).unwrap_err();
        assert_eq!(
            refused.message_for("member_type"),
            Some("this membership is for Student members: choose which you are")
        );
        form.member_type = "Adult".into();
        assert!(form.check_member_type(&students).is_err());
        form.member_type = "student".into();
        assert!(form.check_member_type(&students).is_ok());
        assert_eq!(form.member().member_type, "student");
    }

    #[test]
    fn a_signup_needs_a_type_an_email_and_a_key() {
        let form = SignupForm {
            type_id: "7".into(),
            email: "ana@example.com".into(),
            key: "k".into(),
            ..Default::default()
        };
        assert_eq!(form.check_basics().unwrap(), 7);
        let empty = SignupForm::default().check_basics().unwrap_err();
        assert_eq!(empty.message_for("type_id"), Some("choose a membership"));
        assert!(
            empty
                .message_for("email")
                .unwrap()
                .starts_with("enter your email address")
        );
        assert!(SignupForm::default().check_key().is_err());
        assert_eq!(form.check_key(), Ok("k"));
    }

    #[test]
    fn the_status_speaks_to_the_visitor() {
        let view = SignupView {
            token: "t".into(),
            business_name: "Club".into(),
            member_name: "Ana Costa".into(),
            email: "ana@example.com".into(),
            type_name: "Adult Monthly".into(),
            start: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            state: SignupState::PaymentFailed {
                reason: "the card was declined".into(),
            },
            first_invoice_total: None,
            amount_due: None,
            retry_key: String::new(),
        };
        assert_eq!(
            view.message(),
            "Your card was not charged: the card was declined. Try another card below; nothing else needs to be entered again."
        );
        let pending = SignupView {
            state: SignupState::PendingApproval,
            ..view
        };
        assert!(pending.message().contains("waits for the club's approval"));
    }
}
