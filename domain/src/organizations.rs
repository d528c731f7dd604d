//! Organizations: companies and teams that hold or pay for memberships and
//! authorize members to use them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::members::check_email;
use crate::validation::Invalid;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizationForm {
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub billing_address: String,
    /// Empty: no limit.
    pub max_members: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationDetails {
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub billing_address: String,
    pub max_members: Option<u32>,
}

impl OrganizationForm {
    /// A name (1–120 characters); contact details optional but well formed; a
    /// maximum of authorized members from 1 to 10,000, or none.
    pub fn validate(&self) -> Result<OrganizationDetails, Invalid> {
        let mut invalid = Invalid::default();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter the organization's name");
        } else if name.chars().count() > 120 {
            invalid.push("name", "use at most 120 characters");
        }
        let email = if self.email.trim().is_empty() {
            String::new()
        } else {
            invalid
                .check("email", check_email(&self.email))
                .unwrap_or_default()
        };
        let max_members = match self.max_members.trim() {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(n) if (1..=10_000).contains(&n) => Some(n),
                _ => {
                    invalid.push(
                        "max_members",
                        "enter a number from 1 to 10000, or leave it empty for no limit",
                    );
                    None
                }
            },
        };
        let billing_address = self.billing_address.trim().to_string();
        if billing_address.chars().count() > 500 {
            invalid.push("billing_address", "use at most 500 characters");
        }
        invalid.into_result(|| OrganizationDetails {
            name,
            contact_name: self.contact_name.trim().to_string(),
            email,
            phone: self.phone.trim().to_string(),
            billing_address,
            max_members,
        })
    }
}

/// Whether one more member may be authorized: not twice, and not past the maximum.
pub fn check_authorize(
    current: usize,
    max_members: Option<u32>,
    already_authorized: bool,
) -> Result<(), String> {
    if already_authorized {
        return Err("this member is already authorized".to_string());
    }
    if let Some(max) = max_members
        && current >= max as usize
    {
        return Err(format!(
            "the organization allows at most {max} authorized members: remove one first"
        ));
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationSummary {
    pub id: i64,
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub authorized: i64,
    pub max_members: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedMember {
    pub member_id: i64,
    pub member_number: i64,
    pub name: String,
    pub since: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationView {
    pub id: i64,
    pub details: OrganizationDetails,
    pub authorized: Vec<AuthorizedMember>,
    /// A page of the memberships the organization holds itself, newest first.
    pub memberships: crate::paging::Listed<crate::memberships::MembershipSummary>,
}

/// An organization is deleted only when no membership it holds or pays for is
/// still running; `running` names those that are.
pub fn check_delete(name: &str, running: &[String]) -> Result<(), String> {
    match running {
        [] => Ok(()),
        [one] => Err(format!(
            "{name} still has a running membership ({one}): cancel it before deleting the organization."
        )),
        many => Err(format!(
            "{name} still has {} running memberships ({}): cancel them before deleting the organization.",
            many.len(),
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_with_a_running_membership_is_not_deleted() {
        assert_eq!(check_delete("Northwind", &[]), Ok(()));
        assert_eq!(
            check_delete("Northwind", &["Company Coworking Yearly".into()]),
            Err("Northwind still has a running membership (Company Coworking Yearly): cancel it before deleting the organization.".into())
        );
    }

    #[test]
    fn an_organization_needs_a_name_and_a_sensible_maximum() {
        let ok = OrganizationForm {
            name: " Acme GmbH ".into(),
            max_members: "10".into(),
            email: "HR@Acme.example".into(),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.max_members, ok.email.as_str()),
            ("Acme GmbH", Some(10), "hr@acme.example")
        );
        let err = OrganizationForm {
            max_members: "0".into(),
            email: "nope".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(
            err.message_for("name").is_some()
                && err.message_for("max_members").is_some()
                && err.message_for("email").is_some()
        );
    }

    #[test]
    fn members_are_authorized_once_and_up_to_the_maximum() {
        assert!(check_authorize(9, Some(10), false).is_ok());
        assert!(
            check_authorize(10, Some(10), false)
                .unwrap_err()
                .contains("at most 10")
        );
        assert!(
            check_authorize(0, None, true)
                .unwrap_err()
                .contains("already")
        );
        assert!(check_authorize(500, None, false).is_ok());
    }
}
