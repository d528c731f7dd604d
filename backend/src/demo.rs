//! Demo data: a realistic club that a newcomer sees on first start.
//! Every feature extends it, so the app is never shown empty.

use chrono::{Datelike, Days, Months, NaiveDate};
use domain::catalog::MembershipTypeForm;
use domain::staff::Role;

use crate::audit::{self, By};
use crate::auth::{self, Actor};
use crate::business::{self, NewBusiness};
use crate::error::Error;
use crate::{Services, catalog, query};

pub const DEMO_OWNER_EMAIL: &str = "owner@harbour.example";
pub const DEMO_PASSWORD: &str = "harbour-demo-2026";

/// (email, name, role) of the demo staff; all share `DEMO_PASSWORD`.
pub const DEMO_STAFF: &[(&str, &str, Role)] = &[
    (DEMO_OWNER_EMAIL, "Olivia Owner", Role::Owner),
    ("manager@harbour.example", "Max Manager", Role::Manager),
    ("desk@harbour.example", "Dana Desk", Role::FrontDesk),
    ("viewer@harbour.example", "Vic Viewer", Role::Viewer),
];

/// (name, purchase type, interval, fee, status)
const DEMO_TYPES: &[(&str, &str, &str, &str, &str)] = &[
    ("Adult Monthly", "recurring", "monthly", "59", "active"),
    ("Student Monthly", "recurring", "monthly", "39", "active"),
    (
        "Family Quarterly",
        "recurring",
        "quarterly",
        "299",
        "active",
    ),
    ("Off-Peak Weekly", "recurring", "weekly", "12.50", "active"),
    ("Annual Prepaid", "prepaid", "", "590", "active"),
    ("10-Visit Pass", "prepaid", "", "120", "active"),
    ("Staff Perk", "benefit", "", "0", "active"),
    ("Corporate Yearly", "recurring", "yearly", "499", "draft"),
];

const DEMO_MEMBERS: &[(&str, &str)] = &[
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

/// Loads the demo club unless a business already exists. Returns whether it loaded.
pub async fn seed_demo(services: &Services) -> Result<bool, Error> {
    if business::count_businesses(services).await? > 0 {
        return Ok(false);
    }
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business_id = business::insert(
        &mut tx,
        &NewBusiness {
            name: "Harbour Athletic Club",
            time_zone: "Europe/Berlin",
            currency: "EUR",
        },
        now,
    )
    .await?;
    business::insert_location(
        &mut tx,
        business_id,
        "Harbour Street",
        "12 Harbour Street",
        now,
    )
    .await?;
    business::insert_location(&mut tx, business_id, "Riverside", "3 Riverside Walk", now).await?;
    let mut owner_id = 0;
    for (email, name, role) in DEMO_STAFF {
        let id =
            auth::insert_staff_user(&mut tx, business_id, email, name, *role, DEMO_PASSWORD, now)
                .await?;
        if *role == Role::Owner {
            owner_id = id;
        }
    }
    audit::record(
        &mut tx,
        business_id,
        By::System,
        "demo.seeded",
        "business",
        Some(business_id),
        "{}",
        now,
    )
    .await?;
    tx.commit().await?;

    let owner = Actor {
        business_id,
        staff_user_id: owner_id,
        role: Role::Owner,
    };
    let mut type_ids = Vec::new();
    for (name, purchase_type, interval, fee, status) in DEMO_TYPES {
        let form = MembershipTypeForm {
            name: name.to_string(),
            purchase_type: purchase_type.to_string(),
            billing_interval: interval.to_string(),
            fee: fee.to_string(),
            status: status.to_string(),
        };
        let created = catalog::create_membership_type(services, &owner, &form).await?;
        type_ids.push((created.id, *purchase_type, *status));
    }

    // Members joined over the past two years; most hold a membership of an active type.
    let mut tx = services.db.begin_write().await?;
    let business = business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    let sellable: Vec<_> = type_ids
        .iter()
        .filter(|(_, _, status)| *status == "active")
        .collect();
    for (i, (first, last)) in DEMO_MEMBERS.iter().enumerate() {
        let email = format!("{}.{}@example.com", ascii_lower(first), ascii_lower(last));
        let (member_id,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "INSERT INTO members (business_id, first_name, last_name, email, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            business_id,
            *first,
            *last,
            &email,
            now
        )?;
        if i % 6 == 5 {
            continue; // a few members without a membership
        }
        let (type_id, purchase_type, _) = sellable[i % sellable.len()];
        let start = first_of_month(today) - Months::new((i as u32 * 7) % 22 + 1);
        // Prepaid memberships run for a year; a couple of them have already ended.
        let end = (*purchase_type == "prepaid").then(|| start + Months::new(12));
        let (price_id,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT id FROM membership_type_prices WHERE membership_type_id = $1 ORDER BY effective_from, id LIMIT 1",
            *type_id
        )?;
        query!(&mut tx, execute,
            "INSERT INTO memberships (business_id, member_id, membership_type_id, price_id, start_date, end_date, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            business_id, member_id, *type_id, price_id, start + Days::new(i as u64 % 20), end, now)?;
    }
    tx.commit().await?;
    Ok(true)
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("day 1 exists")
}

fn ascii_lower(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'é' => 'e',
            'í' => 'i',
            c => c,
        })
        .filter(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_lowercase()
}
