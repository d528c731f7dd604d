//! The second demo business, a yoga studio that two of the club's members
//! also attend.

use super::club::{DEMO_PASSWORD, quick};
use super::history::{ascii_lower, services_on};
use crate::business::{self, NewBusiness};
use crate::engine::ledger::Account;
use crate::memberships::{self};
use crate::payments::{self};
use crate::platform::actor::Actor;
use crate::platform::error::Error;
use crate::store::memberships::HolderRef;
use crate::{Services, catalog, members};
use chrono::{Days, NaiveDate};
use domain::catalog::MembershipTypeForm;
use domain::lifecycle::sale::SaleCommand;
use domain::members::MemberDetails;
use domain::staff::Role;

/// A second business, a yoga studio, where two of the club's members (Grace
/// Liu and Isla Murphy) also practise: their emails open two accounts in the
/// portal, and each business's portal has its own address.
pub(crate) async fn seed_studio(services: &Services, today: NaiveDate) -> Result<(), Error> {
    let started = today - Days::new(45);
    let setup = services_on(&services.db, started);
    let (business_id, owner_id) = business::create_owner(
        &setup,
        &NewBusiness {
            name: "Lakeside Yoga Studio",
            time_zone: "Europe/Berlin",
            currency: "EUR",
        },
        "owner@lakeside.example",
        "Lena Lindgren",
        DEMO_PASSWORD,
    )
    .await?;
    let owner = Actor::staff(business_id, owner_id, Role::Owner);
    let mut tx = setup.db.begin_write().await?;
    let now = setup.clock.now();
    let lakeside =
        business::insert_location(&mut tx, business_id, "Lakeside", "8 Lake Road", now).await?;
    let mut member_ids = Vec::new();
    for (i, (first, last)) in [("Grace", "Liu"), ("Hana", "Berg"), ("Isla", "Murphy")]
        .into_iter()
        .enumerate()
    {
        let details = MemberDetails {
            first_name: first.into(),
            last_name: last.into(),
            email: format!("{}.{}@example.com", ascii_lower(first), ascii_lower(last)),
            phone: format!("+49 30 {:07}", 5_560_000 + i * 41),
            date_of_birth: NaiveDate::from_ymd_opt(1988 + i as i32, 3 + i as u32, 9 + i as u32),
            member_type: Some("Adult".into()),
            home_location_id: Some(lakeside),
            notes: String::new(),
            marketing_consent: i != 1,
        };
        member_ids.push(
            members::insert_member(&mut tx, business_id, &details, now)
                .await?
                .0,
        );
    }
    tx.commit().await?;
    let unlimited = catalog::create_membership_type(
        &setup,
        &owner,
        &MembershipTypeForm {
            description: "Every class, every day, at the lake.".into(),
            pause_allowed: "on".into(),
            pause_max_per_year: "2".into(),
            pause_portal: "on".into(),
            cancel_portal: "on".into(),
            color: "#2f8f6f".into(),
            ..quick("Unlimited Yoga", "recurring", "monthly", "79", "active")
        },
    )
    .await?;
    // Everyone pays by card.
    for member_id in &member_ids {
        payments::add_card(
            &setup,
            &owner,
            Account::Member(*member_id),
            &domain::payments::CardForm {
                number: "4242 4242 4242 4242".into(),
                expiry: "09/29".into(),
            },
        )
        .await?;
    }
    for (i, member_id) in member_ids.into_iter().enumerate() {
        let start = started + Days::new(i as u64 * 9);
        memberships::sell_as(
            &services_on(&services.db, start),
            &owner,
            HolderRef::Member(member_id),
            &SaleCommand {
                start: Some(start),
                ..SaleCommand::of_type(unlimited.id)
            },
        )
        .await?;
    }
    // The studio's days, each with its billing and collection.
    let mut day = started;
    while day <= today {
        crate::jobs::day_work(&services_on(&services.db, day), business_id).await?;
        day = day + Days::new(1);
    }
    Ok(())
}
