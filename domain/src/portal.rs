//! The member portal: signing in with a one-time code, and what a member sees.
//!
//! The rules for codes are here (how long one lasts, how many wrong tries,
//! how often one may be asked for); the backend stores codes and sessions and
//! asks these functions what to do. Nothing here reads a clock.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::bookings::BookingView;
use crate::credits::EntryView;
use crate::lifecycle::StatusReport;
use crate::members::{MemberDetails, MemberForm};
use crate::memberships::{ActionCommand, ActionForm, ActionKind};
use crate::money::Money;

/// How long a code works after it was sent.
pub const CODE_VALID: TimeDelta = TimeDelta::minutes(10);
/// Wrong codes after which a code stops working.
pub const MAX_WRONG_CODES: u32 = 5;
/// The window in which code requests are counted.
pub const REQUEST_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// How many codes may be asked for within `REQUEST_WINDOW`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeLimits {
    /// Codes one email may be sent.
    pub per_email: u32,
    /// Codes one client address may ask for (several people may share one,
    /// behind a club's Wi-Fi or a carrier's NAT; deployments may raise it).
    pub per_client: u32,
}

impl Default for CodeLimits {
    fn default() -> Self {
        CodeLimits {
            per_email: 3,
            per_client: 10,
        }
    }
}
/// How long a portal session lasts without being used.
pub const SESSION_IDLE: TimeDelta = TimeDelta::days(7);

/// What a member types to ask for a code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeRequestForm {
    pub email: String,
}

/// What a member types to sign in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    pub email: String,
    pub code: String,
    /// The slug of the business whose portal the member signs in at (empty
    /// on the shared sign-in page): its account is chosen when the email has one there.
    pub business: String,
}

/// A business's own portal, as its sign-in page names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalBusiness {
    pub slug: String,
    pub name: String,
}

/// The email as the portal compares it: trimmed and lower-cased.
pub fn normalize_email(text: &str) -> Result<String, Invalid> {
    let email = text.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, host)| {
            !local.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(Invalid::one(
            "email",
            "enter your email address, such as name@example.com",
        ))
    }
}

/// The six digits of a code; spaces and dashes people type between them are ignored.
pub fn parse_code(text: &str) -> Result<String, Invalid> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(Invalid::one("code", "enter the six digits from the email"))
    }
}

/// A stored code, as far as the rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeState {
    pub expires_at: DateTime<Utc>,
    pub wrong_attempts: u32,
    pub used: bool,
}

/// What an entered code leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    /// Wrong; this many tries remain.
    Wrong {
        left: u32,
    },
    /// Wrong, and that was the last try.
    LockedNow,
    Locked,
    Expired,
    Used,
    /// No code was asked for (or it is long gone).
    Missing,
}

impl CodeCheck {
    /// The answer for people. It is the same whether or not the email belongs
    /// to a member, because an unknown email gets a code too (never sent).
    pub fn message(self) -> String {
        match self {
            CodeCheck::Accepted => "Signed in.".into(),
            CodeCheck::Wrong { left: 1 } => "That code is not right. You have 1 more try.".into(),
            CodeCheck::Wrong { left } => {
                format!("That code is not right. You have {left} more tries.")
            }
            CodeCheck::LockedNow | CodeCheck::Locked => {
                "Too many wrong codes. Ask for a new code.".into()
            }
            CodeCheck::Expired => "That code has expired. Ask for a new code.".into(),
            CodeCheck::Used => "That code has already been used. Ask for a new code.".into(),
            CodeCheck::Missing => "Ask for a code first.".into(),
        }
    }

    /// Whether the check counts as a wrong try.
    pub fn counts_as_wrong(self) -> bool {
        matches!(self, CodeCheck::Wrong { .. } | CodeCheck::LockedNow)
    }
}

/// Decides an entered code against the newest code of the email.
pub fn check_code(state: Option<CodeState>, matches: bool, now: DateTime<Utc>) -> CodeCheck {
    let Some(state) = state else {
        return CodeCheck::Missing;
    };
    if state.used {
        return CodeCheck::Used;
    }
    if state.wrong_attempts >= MAX_WRONG_CODES {
        return CodeCheck::Locked;
    }
    if now >= state.expires_at {
        return CodeCheck::Expired;
    }
    if matches {
        return CodeCheck::Accepted;
    }
    match MAX_WRONG_CODES - state.wrong_attempts - 1 {
        0 => CodeCheck::LockedNow,
        left => CodeCheck::Wrong { left },
    }
}

/// Whether another code may be sent, given the codes asked for within
/// `REQUEST_WINDOW` for the same email and from the same client address.
pub fn may_request_code(limits: CodeLimits, for_email: u32, for_client: u32) -> Result<(), String> {
    if for_email >= limits.per_email || for_client >= limits.per_client {
        Err(format!(
            "Too many codes were asked for. Please wait {} minutes and try again.",
            REQUEST_WINDOW.num_minutes()
        ))
    } else {
        Ok(())
    }
}

/// One account an email can sign in to: a member of a business.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalAccount {
    pub member_id: i64,
    pub business_name: String,
    /// The business's portal address: /portal/sign-in/{business_slug}.
    pub business_slug: String,
    pub member_name: String,
    pub member_number: i64,
}

/// How a member reaches a membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    /// The member holds it.
    Holder,
    /// The member is a family member on it.
    Family,
    /// The member's organization holds it.
    Organization,
}

/// A membership as its member sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalMembership {
    pub id: i64,
    pub type_name: String,
    pub reach: Reach,
    /// "Yours", "Family membership of Ana Costa", "Held by Northwind Ltd".
    pub held_by: String,
    pub status: StatusReport,
    pub next_billing: Option<NaiveDate>,
    /// What the next billing date will charge (for memberships the member pays).
    pub next_amount: Option<Money>,
    pub credits: i64,
}

/// The portal's home page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalHome {
    pub business_name: String,
    pub member_name: String,
    pub memberships: Vec<PortalMembership>,
    /// Booked and not yet started, soonest first.
    pub upcoming: Vec<BookingView>,
    /// Other accounts the signed-in email can switch to.
    pub other_accounts: usize,
}

/// The actions a member may start in the portal; the type's policy decides
/// each one (and says why when it refuses).
pub const MEMBER_ACTIONS: [ActionKind; 3] =
    [ActionKind::Pause, ActionKind::Resume, ActionKind::Cancel];

/// A membership's page in the portal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalMembershipPage {
    pub membership: PortalMembership,
    /// Family members on it (shown to everyone on it).
    pub family: Vec<String>,
    /// The credits history, newest first.
    pub credits: Vec<EntryView>,
    /// The next expiry with credits left: (date, credits).
    pub next_expiry: Option<(NaiveDate, i64)>,
    /// A page of the member's own bookings with this membership, newest first.
    pub bookings: crate::paging::Listed<BookingView>,
    /// The actions offered here (only the holder changes a membership).
    pub actions: Vec<ActionKind>,
    /// Actions a member might look for that the type does not allow here,
    /// each with the reason: shown disabled, before any preview.
    pub unavailable: Vec<(ActionKind, String)>,
    /// The type's pause and cancellation rules, in words.
    pub rules: Vec<String>,
    pub version: i64,
    pub today: NaiveDate,
}

/// Keeps only what a member may ask for: one of `MEMBER_ACTIONS`, a
/// cancellation at the end of the period, and never an override.
pub fn member_command(form: &ActionForm) -> Result<ActionCommand, Invalid> {
    let kind = ActionKind::parse(form.action.trim())
        .filter(|k| MEMBER_ACTIONS.contains(k))
        .ok_or_else(|| Invalid::one("action", "choose pause, resume or cancel"))?;
    ActionForm {
        action: kind.as_str().to_string(),
        from: form.from.clone(),
        until: form.until.clone(),
        on: form.on.clone(),
        when: if kind == ActionKind::Cancel {
            "period_end".into()
        } else {
            String::new()
        },
        reason: form.reason.clone(),
        version: form.version.clone(),
        ..Default::default()
    }
    .command()
}

/// Who is signed in to the portal, for the frame of every page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSession {
    pub email: String,
    /// `None` until the member picks an account.
    pub account: Option<PortalAccount>,
    /// Every account the email signs in to.
    pub accounts: Vec<PortalAccount>,
}

/// What a member may change about themselves in the portal. The email is
/// changed apart, by a code sent to the new address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    /// "on" when the box is ticked (an HTML checkbox's value).
    pub marketing_consent: String,
}

impl ProfileForm {
    /// The member's whole details with these fields in place, for the same
    /// validation the staff form gets; what a member cannot change is kept.
    pub fn onto(&self, current: &MemberDetails) -> MemberForm {
        MemberForm {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.clone(),
            marketing_consent: self.marketing_consent.clone(),
            ..current.to_form()
        }
    }
}

/// A member's profile as the portal shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub member_number: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub marketing_consent: bool,
    /// A new email waiting for its code, if one was asked for and is still valid.
    pub pending_email: Option<String>,
}

impl Profile {
    pub fn form(&self) -> ProfileForm {
        ProfileForm {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.clone(),
            marketing_consent: if self.marketing_consent {
                "on".into()
            } else {
                String::new()
            },
        }
    }
}

/// The new address a member wants; a code goes there to prove it is theirs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailChangeForm {
    pub email: String,
}

impl EmailChangeForm {
    /// The new address, normalized; refused when it is the current one.
    pub fn check(&self, current: &str) -> Result<String, Invalid> {
        let email = normalize_email(&self.email)?;
        if email == current {
            return Err(Invalid::one("email", "this is already your email address"));
        }
        Ok(email)
    }
}

/// The code sent to the new address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailCodeForm {
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> MemberDetails {
        MemberDetails {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            phone: "+44 20 1234".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1990, 12, 10),
            member_type: Some("Adult".into()),
            home_location_id: Some(3),
            notes: "Front desk note".into(),
            marketing_consent: false,
        }
    }

    #[test]
    fn a_profile_form_changes_only_what_a_member_may_change() {
        let form = ProfileForm {
            first_name: "Augusta".into(),
            last_name: "King".into(),
            phone: "".into(),
            marketing_consent: "on".into(),
        };
        let merged = form.onto(&details());
        assert_eq!(merged.first_name, "Augusta");
        assert_eq!(merged.last_name, "King");
        assert_eq!(merged.phone, "");
        assert_eq!(merged.marketing_consent, "on");
        // Kept as staff set them.
        assert_eq!(merged.email, "ada@example.com");
        assert_eq!(merged.date_of_birth, "1990-12-10");
        assert_eq!(merged.member_type, "Adult");
        assert_eq!(merged.home_location, "3");
        assert_eq!(merged.notes, "Front desk note");
    }

    #[test]
    fn a_new_email_must_be_an_address_and_not_the_current_one() {
        let change = |email: &str| {
            EmailChangeForm {
                email: email.into(),
            }
            .check("ada@example.com")
        };
        assert_eq!(
            change(" Ada.King@Example.com ").unwrap(),
            "ada.king@example.com"
        );
        assert_eq!(
            change("ADA@example.com")
                .unwrap_err()
                .message_for("email")
                .map(str::to_string),
            Some("this is already your email address".to_string())
        );
        assert!(change("ada@").is_err());
    }

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(minute)
    }

    fn code(wrong: u32, used: bool) -> Option<CodeState> {
        Some(CodeState {
            expires_at: at(10),
            wrong_attempts: wrong,
            used,
        })
    }

    #[test]
    fn a_right_code_within_ten_minutes_is_accepted_once() {
        assert_eq!(check_code(code(0, false), true, at(0)), CodeCheck::Accepted);
        assert_eq!(check_code(code(4, false), true, at(9)), CodeCheck::Accepted);
        assert_eq!(check_code(code(0, true), true, at(1)), CodeCheck::Used);
    }

    #[test]
    fn a_code_expires_at_ten_minutes() {
        assert_eq!(check_code(code(0, false), true, at(10)), CodeCheck::Expired);
        assert_eq!(
            check_code(code(0, false), false, at(11)),
            CodeCheck::Expired
        );
    }

    #[test]
    fn the_fifth_wrong_code_locks_it_even_for_the_right_code_afterwards() {
        let results: Vec<_> = (0..5)
            .map(|wrong| check_code(code(wrong, false), false, at(1)))
            .collect();
        assert_eq!(
            results,
            vec![
                CodeCheck::Wrong { left: 4 },
                CodeCheck::Wrong { left: 3 },
                CodeCheck::Wrong { left: 2 },
                CodeCheck::Wrong { left: 1 },
                CodeCheck::LockedNow,
            ]
        );
        assert!(results.iter().all(|r| r.counts_as_wrong()));
        assert_eq!(check_code(code(5, false), true, at(1)), CodeCheck::Locked);
        assert!(!CodeCheck::Locked.counts_as_wrong());
        assert_eq!(
            CodeCheck::Wrong { left: 1 }.message(),
            "That code is not right. You have 1 more try."
        );
    }

    #[test]
    fn without_a_code_there_is_nothing_to_accept() {
        assert_eq!(check_code(None, true, at(0)), CodeCheck::Missing);
    }

    #[test]
    fn requests_are_limited_per_email_and_per_client() {
        let limits = CodeLimits::default();
        assert!(may_request_code(limits, 2, 9).is_ok());
        assert!(may_request_code(limits, 3, 0).is_err());
        assert_eq!(
            may_request_code(limits, 0, 10),
            Err("Too many codes were asked for. Please wait 15 minutes and try again.".into())
        );
    }

    #[test]
    fn a_member_asks_only_for_a_pause_a_resume_or_a_cancellation_at_period_end() {
        let asked = |action: &str, when: &str| ActionForm {
            action: action.into(),
            when: when.into(),
            force: "on".into(),
            from: "2026-12-01".into(),
            version: "3".into(),
            ..Default::default()
        };
        let pause = member_command(&asked("pause", "")).unwrap();
        assert_eq!(
            pause,
            ActionCommand {
                ask: crate::memberships::Ask::Pause {
                    from: NaiveDate::from_ymd_opt(2026, 12, 1),
                    until: None
                },
                reason: String::new(),
                force: false,
                version: Some(3),
            }
        );
        assert_eq!(
            member_command(&asked("cancel", "immediately")).unwrap().ask,
            crate::memberships::Ask::Cancel {
                when: crate::lifecycle::policy::CancelWhen::PeriodEnd
            }
        );
        for refused in [
            "approve",
            "lock",
            "change_price",
            "free_periods",
            "change_billing_date",
            "",
        ] {
            assert!(member_command(&asked(refused, "")).is_err(), "{refused}");
        }
    }

    #[test]
    fn emails_and_codes_are_read_kindly() {
        assert_eq!(
            normalize_email("  Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a na@example.com",
            "ana@.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_code(" 123 456 ").unwrap(), "123456");
        assert_eq!(parse_code("123-456").unwrap(), "123456");
        for bad in ["12345", "1234567", "12a456", ""] {
            assert_eq!(
                parse_code(bad).unwrap_err().message_for("code"),
                Some("enter the six digits from the email"),
                "{bad:?}"
            );
        }
    }
}
