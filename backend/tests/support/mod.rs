//! A club with an owner, an "Adult Monthly" type (49.00 a month, 25.00
//! initiation) and Ada Lovelace's membership sold on 2026-11-22.
#![allow(dead_code)]

use backend::auth::Actor;
use backend::business::{self, NewBusiness};
use backend::memberships::{self, HolderRef};
use backend::{Clock, Db, Services, catalog, members};
use chrono::{NaiveDate, TimeZone, Utc};
use domain::catalog::MembershipTypeForm;
use domain::lifecycle::sale::SellForm;
use domain::members::MemberForm;
use domain::staff::Role;

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub struct Club {
    pub s: Services,
    pub owner: Actor,
    pub member: i64,
    pub membership: i64,
}

pub async fn club(db: Db) -> Club {
    let s = Services::new(
        db,
        Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()),
    );
    let (business_id, staff_user_id) = business::create_owner(
        &s,
        &NewBusiness {
            name: "Club",
            time_zone: "Europe/Berlin",
            currency: "EUR",
        },
        "owner@club.example",
        "Olivia Owner",
        "a long enough password",
    )
    .await
    .unwrap();
    let owner = Actor {
        business_id,
        staff_user_id,
        role: Role::Owner,
    };
    let adult = catalog::create_membership_type(
        &s,
        &owner,
        &MembershipTypeForm {
            name: "Adult Monthly".into(),
            purchase_type: "recurring".into(),
            billing_interval: "monthly".into(),
            fee: "49".into(),
            initiation_fee: "25".into(),
            status: "active".into(),
            pause_allowed: "on".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let member = members::create_member(
        &s,
        &owner,
        &MemberForm {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let membership = memberships::sell(
        &s,
        &owner,
        HolderRef::Member(member),
        &SellForm {
            type_id: adult.to_string(),
            start: "2026-11-22".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Club {
        s,
        owner,
        member,
        membership,
    }
}

/// A member of the club with this email (the portal signs in by email).
pub async fn member_with_email(c: &Club, first: &str, email: &str) -> i64 {
    members::create_member(
        &c.s,
        &c.owner,
        &MemberForm {
            first_name: first.into(),
            last_name: "Tester".into(),
            email: email.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

/// The same services with the clock moved on by `by`.
pub fn later(s: &Services, by: chrono::TimeDelta) -> Services {
    Services {
        clock: Clock::fixed(s.clock.now() + by),
        ..s.clone()
    }
}
