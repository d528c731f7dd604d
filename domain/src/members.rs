//! Members: the people who hold memberships, and how staff find them.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::catalog::text_enum;
use crate::validation::Invalid;

text_enum! {
    pub enum MemberStatus {
        Active = ("active", "Active"),
        /// Kept with all history, hidden from everyday lists.
        Archived = ("archived", "Archived"),
    }
}

pub const NAME_MAX_CHARS: usize = 100;
pub const NOTES_MAX_CHARS: usize = 2000;

/// A member's details as typed into the staff form: all text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemberForm {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    /// YYYY-MM-DD, may be empty.
    pub date_of_birth: String,
    pub member_type: String,
    /// A location id, may be empty.
    pub home_location: String,
    pub notes: String,
    pub marketing_consent: String,
}

/// Validated member details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDetails {
    pub first_name: String,
    pub last_name: String,
    /// Lower-cased; empty when unknown.
    pub email: String,
    pub phone: String,
    pub date_of_birth: Option<NaiveDate>,
    pub member_type: Option<String>,
    pub home_location_id: Option<i64>,
    pub notes: String,
    pub marketing_consent: bool,
}

impl MemberDetails {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The phone number's digits, for searching ("+49 (30) 123-45" -> "493012345").
    pub fn phone_digits(&self) -> String {
        digits(&self.phone)
    }

    /// The last four digits of the phone number (all, when fewer): what a
    /// desk search by the end of a number looks up by index.
    pub fn phone_end(&self) -> String {
        phone_end(&self.phone_digits())
    }

    /// The member's age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> Option<u32> {
        let born = self.date_of_birth?;
        let mut age = today.year() - born.year();
        if (today.month(), today.day()) < (born.month(), born.day()) {
            age -= 1;
        }
        u32::try_from(age).ok()
    }

    pub fn to_form(&self) -> MemberForm {
        MemberForm {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            date_of_birth: self
                .date_of_birth
                .map(|d| d.to_string())
                .unwrap_or_default(),
            member_type: self.member_type.clone().unwrap_or_default(),
            home_location: self
                .home_location_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            notes: self.notes.clone(),
            marketing_consent: if self.marketing_consent {
                "on".into()
            } else {
                String::new()
            },
        }
    }
}

/// The digits of a phone number, the form search and storage use.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The last four of a string of digits (all of them, when fewer).
pub fn phone_end(digits: &str) -> String {
    let skip = digits.chars().count().saturating_sub(4);
    digits.chars().skip(skip).collect()
}

/// What member validation needs to know about the business and the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberContext {
    pub member_types: Vec<String>,
    pub location_ids: Vec<i64>,
    pub today: NaiveDate,
}

/// A plausible email address: one "@", something before it, a dot in the domain, no spaces.
pub fn check_email(email: &str) -> Result<String, &'static str> {
    let email = email.trim().to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err("enter an email address such as name@example.com")
    }
}

impl MemberForm {
    /// Checks every field. Rules: first and last name required (at most 100
    /// characters); email optional but well formed; phone optional, 6 to 20
    /// digits with the usual "+ ( ) - ." and spaces; a birth date not in the
    /// future nor before 1900; member type and home location from the business's lists.
    pub fn validate(&self, ctx: &MemberContext) -> Result<MemberDetails, Invalid> {
        let mut invalid = Invalid::default();
        let name = |invalid: &mut Invalid, field: &str, text: &str| {
            let text = text.trim().to_string();
            if text.is_empty() {
                invalid.push(field, "enter a name");
            } else if text.chars().count() > NAME_MAX_CHARS {
                invalid.push(field, format!("use at most {NAME_MAX_CHARS} characters"));
            }
            text
        };
        let first_name = name(&mut invalid, "first_name", &self.first_name);
        let last_name = name(&mut invalid, "last_name", &self.last_name);
        let email = if self.email.trim().is_empty() {
            String::new()
        } else {
            invalid
                .check("email", check_email(&self.email))
                .unwrap_or_default()
        };
        let phone = self.phone.trim().to_string();
        if !phone.is_empty() {
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +()-./".contains(c));
            let count = digits(&phone).len();
            if !allowed || !(6..=20).contains(&count) {
                invalid.push(
                    "phone",
                    "enter a phone number of 6 to 20 digits, such as +49 30 1234567",
                );
            }
        }
        let date_of_birth = match self.date_of_birth.trim() {
            "" => None,
            text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) if date > ctx.today => {
                    invalid.push("date_of_birth", "the date of birth cannot be in the future");
                    None
                }
                Ok(date) if date.year() < 1900 => {
                    invalid.push("date_of_birth", "enter a date of birth after 1900");
                    None
                }
                Ok(date) => Some(date),
                Err(_) => {
                    invalid.push("date_of_birth", "enter a date as YYYY-MM-DD");
                    None
                }
            },
        };
        let member_type = match self.member_type.trim() {
            "" => None,
            text => match ctx
                .member_types
                .iter()
                .find(|m| m.eq_ignore_ascii_case(text))
            {
                Some(known) => Some(known.clone()),
                None => {
                    invalid.push("member_type", "choose a member type from the list");
                    None
                }
            },
        };
        let home_location_id = match self.home_location.trim() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(id) if ctx.location_ids.contains(&id) => Some(id),
                _ => {
                    invalid.push("home_location", "choose a location from the list");
                    None
                }
            },
        };
        let notes = self.notes.trim().to_string();
        if notes.chars().count() > NOTES_MAX_CHARS {
            invalid.push("notes", format!("use at most {NOTES_MAX_CHARS} characters"));
        }
        invalid.into_result(|| MemberDetails {
            first_name,
            last_name,
            email,
            phone,
            date_of_birth,
            member_type,
            home_location_id,
            notes,
            marketing_consent: crate::catalog::checked(&self.marketing_consent),
        })
    }
}

/// What a search box's text means. Each kind is answered from an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberSearch {
    /// Everyone (no text).
    All,
    /// "#1042" or "1042": a member number, with its digits as typed (also
    /// tried as the start of a phone number, and with four digits or more
    /// as its end: "0958" keeps its zero).
    Number(i64, String),
    /// Text with "@": an email prefix.
    Email(String),
    /// Mostly digits and phone punctuation: a phone prefix, by its digits.
    Phone(String),
    /// Words: each must start the first or the last name (case-insensitive).
    Name(Vec<String>),
}

impl MemberSearch {
    pub fn parse(text: &str) -> MemberSearch {
        let text = text.trim();
        if text.is_empty() {
            return MemberSearch::All;
        }
        let number_text = text.strip_prefix('#').unwrap_or(text);
        if number_text.len() <= 9
            && !number_text.is_empty()
            && number_text.chars().all(|c| c.is_ascii_digit())
            && let Ok(n) = number_text.parse()
        {
            return MemberSearch::Number(n, number_text.to_string());
        }
        if text.contains('@') {
            return MemberSearch::Email(text.to_lowercase());
        }
        if text
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-./".contains(c))
            && digits(text).len() >= 3
        {
            return MemberSearch::Phone(digits(text));
        }
        MemberSearch::Name(text.split_whitespace().map(str::to_lowercase).collect())
    }
}

/// A member in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSummary {
    pub id: i64,
    pub member_number: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub member_type: Option<String>,
    pub status: MemberStatus,
    /// Where the member's memberships stand, the most pressing first
    /// (suspended, past due, paused, active, ...); `None` without any.
    pub membership: Option<crate::lifecycle::StatusReport>,
}

/// Everything the member's page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: i64,
    pub member_number: i64,
    pub status: MemberStatus,
    pub details: MemberDetails,
    pub home_location_name: Option<String>,
    /// A page of the member's memberships, newest first.
    pub memberships: crate::paging::Listed<crate::memberships::MembershipSummary>,
    /// The organizations that currently authorize the member: (id, name).
    pub organizations: Vec<(i64, String)>,
    /// Set when this record was a duplicate merged into another: (id, member number).
    pub merged_into: Option<(i64, i64)>,
}

/// Whether the member `duplicate` can be merged into `keep`.
pub fn check_merge(
    keep_id: i64,
    keep_merged: bool,
    duplicate_id: i64,
    duplicate_merged: bool,
) -> Result<(), &'static str> {
    if keep_id == duplicate_id {
        return Err("a member cannot be merged into themselves: enter the duplicate's number");
    }
    if keep_merged {
        return Err("this member was merged into another one: merge into that member instead");
    }
    if duplicate_merged {
        return Err("that member was already merged into another member");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_needs_two_members_neither_merged_before() {
        assert_eq!(check_merge(1, false, 2, false), Ok(()));
        assert!(
            check_merge(1, false, 1, false)
                .unwrap_err()
                .contains("themselves")
        );
        assert!(
            check_merge(1, true, 2, false)
                .unwrap_err()
                .contains("merge into that member")
        );
        assert!(
            check_merge(1, false, 2, true)
                .unwrap_err()
                .contains("already merged")
        );
    }

    fn ctx() -> MemberContext {
        MemberContext {
            member_types: vec!["Adult".into(), "Youth".into()],
            location_ids: vec![3],
            today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        }
    }

    fn form() -> MemberForm {
        MemberForm {
            first_name: " Ada ".into(),
            last_name: "Lovelace".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_member_needs_only_a_first_and_last_name() {
        let d = form().validate(&ctx()).unwrap();
        assert_eq!(d.full_name(), "Ada Lovelace");
        assert_eq!(
            (d.email.as_str(), d.date_of_birth, d.member_type.clone()),
            ("", None, None)
        );
        let err = MemberForm::default().validate(&ctx()).unwrap_err();
        assert_eq!(err.message_for("first_name"), Some("enter a name"));
        assert_eq!(err.message_for("last_name"), Some("enter a name"));
    }

    #[test]
    fn every_detail_is_checked() {
        let f = MemberForm {
            email: "Ada@Example.COM ".into(),
            phone: "+44 (20) 7946-0958".into(),
            date_of_birth: "1990-12-10".into(),
            member_type: "adult".into(),
            home_location: "3".into(),
            notes: " Prefers mornings ".into(),
            marketing_consent: "on".into(),
            ..form()
        };
        let d = f.validate(&ctx()).unwrap();
        assert_eq!(d.email, "ada@example.com");
        assert_eq!(d.phone_digits(), "442079460958");
        assert_eq!(d.phone_end(), "0958");
        assert_eq!(super::phone_end("12"), "12");
        assert_eq!(d.member_type.as_deref(), Some("Adult"));
        assert_eq!(d.home_location_id, Some(3));
        assert_eq!(d.notes, "Prefers mornings");
        assert!(d.marketing_consent);
        assert_eq!(d.age_on(ctx().today), Some(35));
        assert_eq!(d.to_form().validate(&ctx()).unwrap(), d);
    }

    #[test]
    fn bad_details_are_refused_with_their_reasons() {
        let f = MemberForm {
            email: "ada@localhost".into(),
            phone: "call me".into(),
            date_of_birth: "2030-01-01".into(),
            member_type: "Pensioner".into(),
            home_location: "99".into(),
            ..form()
        };
        let err = f.validate(&ctx()).unwrap_err();
        for field in [
            "email",
            "phone",
            "date_of_birth",
            "member_type",
            "home_location",
        ] {
            assert!(err.message_for(field).is_some(), "{field}");
        }
        assert_eq!(
            err.message_for("date_of_birth"),
            Some("the date of birth cannot be in the future")
        );
        let old = MemberForm {
            date_of_birth: "1850-01-01".into(),
            phone: "12345".into(),
            ..form()
        }
        .validate(&ctx())
        .unwrap_err();
        assert!(old.message_for("date_of_birth").unwrap().contains("1900"));
        assert!(
            old.message_for("phone").is_some(),
            "five digits are too few"
        );
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(check_email("a@b.co").is_ok());
        for bad in [
            "", "a", "@b.co", "a@b", "a@.co", "a@b.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_search_box_understands_numbers_emails_phones_and_names() {
        assert_eq!(MemberSearch::parse("  "), MemberSearch::All);
        assert_eq!(
            MemberSearch::parse("#1042"),
            MemberSearch::Number(1042, "1042".into())
        );
        assert_eq!(
            MemberSearch::parse("0958"),
            MemberSearch::Number(958, "0958".into())
        );
        assert_eq!(
            MemberSearch::parse("Ada@Ex"),
            MemberSearch::Email("ada@ex".into())
        );
        assert_eq!(
            MemberSearch::parse("+49 30 1234567"),
            MemberSearch::Phone("49301234567".into())
        );
        assert_eq!(
            MemberSearch::parse("0301234567890"),
            MemberSearch::Phone("0301234567890".into())
        );
        assert_eq!(
            MemberSearch::parse("ada  LOVE"),
            MemberSearch::Name(vec!["ada".into(), "love".into()])
        );
    }

    #[test]
    fn age_counts_whole_years() {
        let d = MemberDetails {
            date_of_birth: NaiveDate::from_ymd_opt(2010, 11, 23),
            ..form().validate(&ctx()).unwrap()
        };
        assert_eq!(d.age_on(ctx().today), Some(15));
    }
}

/// What the member form offers to choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFormOptions {
    pub member_types: Vec<String>,
    /// (id, name)
    pub locations: Vec<(i64, String)>,
}
