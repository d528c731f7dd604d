//! The demo club's staff, its membership types and its members' names.

use domain::catalog::MembershipTypeForm;
use domain::staff::Role;

pub const DEMO_OWNER_EMAIL: &str = "owner@harbour.example";

pub const DEMO_PASSWORD: &str = "harbour-demo-2026";

/// (email, name, role) of the demo staff; all share `DEMO_PASSWORD`.
pub const DEMO_STAFF: &[(&str, &str, Role)] = &[
    (DEMO_OWNER_EMAIL, "Olivia Owner", Role::Owner),
    ("manager@harbour.example", "Max Manager", Role::Manager),
    ("desk@harbour.example", "Dana Desk", Role::FrontDesk),
    ("viewer@harbour.example", "Vic Viewer", Role::Viewer),
];

pub(crate) fn quick(
    name: &str,
    purchase_type: &str,
    interval: &str,
    fee: &str,
    status: &str,
) -> MembershipTypeForm {
    MembershipTypeForm {
        name: name.into(),
        purchase_type: purchase_type.into(),
        billing_interval: interval.into(),
        fee: fee.into(),
        status: status.into(),
        ..Default::default()
    }
}

/// The demo catalog: the six kinds of plan the catalog must model (a gym plan with
/// commitment and pauses, a company coworking plan, a punch card, a spa plan with
/// carried-over credits, a staff benefit, a youth team season) and a few more.
/// `riverside` is the id of the Riverside location.
pub(crate) fn demo_types(riverside: i64, season_start: i32) -> Vec<MembershipTypeForm> {
    vec![
        MembershipTypeForm {
            description: "Full gym access at both sites, classes included.".into(),
            initiation_fee: "25".into(),
            min_commitment_periods: "3".into(),
            notice_days: "14".into(),
            pause_allowed: "on".into(),
            pause_max_per_year: "2".into(),
            pause_min_days: "7".into(),
            pause_max_days: "60".into(),
            pause_fee: "5".into(),
            pause_extends_commitment: "on".into(),
            pause_portal: "on".into(),
            cancel_portal: "on".into(),
            one_per_member: "on".into(),
            member_discount_percent: "10".into(),
            revenue_account: "4000".into(),
            color: "#1f5fbf".into(),
            ..quick("Adult Monthly", "recurring", "monthly", "59", "active")
        },
        MembershipTypeForm {
            description: "For students with a valid student card.".into(),
            member_types: vec!["Student".into()],
            pause_allowed: "on".into(),
            pause_max_per_year: "1".into(),
            color: "#7b3fbf".into(),
            ..quick("Student Monthly", "recurring", "monthly", "39", "active")
        },
        MembershipTypeForm {
            description: "Two adults and their children on one membership.".into(),
            group: "on".into(),
            max_family_members: "4".into(),
            additional_member_fee: "0".into(),
            color: "#1b7f3b".into(),
            ..quick("Family Quarterly", "recurring", "quarterly", "299", "active")
        },
        MembershipTypeForm {
            description: "Weekday access before 4 pm.".into(),
            color: "#5b6475".into(),
            ..quick("Off-Peak Weekly", "recurring", "weekly", "12.50", "active")
        },
        MembershipTypeForm {
            description: "Hot desk for a company team: up to 10 authorized members, meeting-room credits each month.".into(),
            group: "on".into(),
            max_family_members: "10".into(),
            credits_per_period: "20".into(),
            carry_over_cap: "0".into(),
            approval_required: "on".into(),
            deferred_revenue: "on".into(),
            revenue_account: "4100".into(),
            color: "#0f766e".into(),
            ..quick("Company Coworking Yearly", "recurring", "yearly", "2400", "active")
        },
        MembershipTypeForm {
            description: "One massage credit a month; unused credits carry over, up to three.".into(),
            credits_per_period: "1".into(),
            carry_over_cap: "3".into(),
            included_services: "Sauna: 4".into(),
            member_discount_percent: "15".into(),
            color: "#be185d".into(),
            ..quick("Spa Monthly", "recurring", "monthly", "89", "active")
        },
        MembershipTypeForm {
            description: "Ten visits, valid for six months.".into(),
            term_kind: "fixed".into(),
            term_months: "6".into(),
            punch_card_credits: "10".into(),
            color: "#c2410c".into(),
            ..quick("10-Visit Pass", "prepaid", "", "120", "active")
        },
        MembershipTypeForm {
            description: "A year of access, paid up front.".into(),
            term_kind: "fixed".into(),
            term_years: "1".into(),
            end_action: "renewal_sale".into(),
            deferred_revenue: "on".into(),
            color: "#1e3a8a".into(),
            ..quick("Annual Prepaid", "prepaid", "", "590", "active")
        },
        MembershipTypeForm {
            description: "For our own staff.".into(),
            color: "#6b7280".into(),
            ..quick("Staff Perk", "benefit", "", "0", "active")
        },
        MembershipTypeForm {
            description: "Climbing team training for ages 10 to 17, for the school season.".into(),
            term_kind: "seasons".into(),
            seasons: format!("{season_start}-09-01 to {}-05-31", season_start + 1),
            youth: "on".into(),
            member_types: vec!["Youth".into()],
            location_scope: "selected".into(),
            location_ids: vec![riverside.to_string()],
            color: "#b45309".into(),
            ..quick("Youth Climbing Team", "recurring", "monthly", "35", "active")
        },
        MembershipTypeForm {
            description: "Outdoor pool, June to August.".into(),
            color: "#0891b2".into(),
            ..quick("Summer Swim", "recurring", "monthly", "29", "draft")
        },
    ]
}

pub(crate) const DEMO_MEMBERS: &[(&str, &str)] = &[
    ("Amelia", "Hughes"),
    ("Ben", "Carter"),
    ("Chloé", "Martin"),
    ("Daniel", "Okafor"),
    ("Elena", "Rossi"),
    ("Finn", "Schneider"),
    ("Grace", "Liu"),
    ("Hamza", "Khan"),
    ("Isla", "Murphy"),
    ("Jonas", "Weber"),
    ("Kira", "Tanaka"),
    ("Leo", "Fischer"),
    ("Maya", "Patel"),
    ("Noah", "Jensen"),
    ("Olga", "Nowak"),
    ("Pablo", "García"),
    ("Quinn", "O'Brien"),
    ("Rosa", "Silva"),
    ("Sam", "Becker"),
    ("Tara", "Singh"),
    ("Umar", "Haddad"),
    ("Vera", "Lindqvist"),
    ("Will", "Thompson"),
    ("Yara", "Costa"),
];
