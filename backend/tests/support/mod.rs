//! A club with an owner, an "Adult Monthly" type (49.00 a month, 25.00
//! initiation) and Ada Lovelace's membership sold on 2026-11-22.
#![allow(dead_code)]

use backend::Actor;
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
    let owner = Actor::staff(business_id, staff_user_id, Role::Owner);
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
    let membership = sell_form(
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

/// The club's services with the clock on `day`, 09:00 UTC.
pub fn on_day(c: &Club, day: NaiveDate) -> Services {
    Services::new(
        c.s.db.clone(),
        Clock::fixed(day.and_hms_opt(9, 0, 0).unwrap().and_utc()),
    )
}

/// The id of the business's invoice numbered `number`.
pub async fn invoice_id(c: &Club, number: i64) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (id,) = backend::query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT id FROM invoices WHERE business_id = $1 AND number = $2",
        c.owner.business_id,
        number
    )
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A sandbox card that succeeds, on file for `account`.
pub async fn good_card(c: &Club, account: backend::payments::Account) {
    backend::payments::add_card(
        &c.s,
        &c.owner,
        account,
        &domain::payments::CardForm {
            number: "4242 4242 4242 4242".into(),
            expiry: "12/30".into(),
        },
    )
    .await
    .unwrap();
}

/// Yoga on Wednesdays 18:00 and Saturdays 10:00 (2026-11-25 is a Wednesday):
/// €15.00 or 1 credit, cancelled free until 12 hours before, €5.00 late.
pub async fn yoga(c: &Club, capacity: &str) -> i64 {
    backend::bookings::create_service(
        &c.s,
        &c.owner,
        &domain::bookings::ServiceForm {
            name: "Yoga".into(),
            kind: "class".into(),
            duration_minutes: "60".into(),
            capacity: capacity.into(),
            price: "15".into(),
            price_credits: "1".into(),
            cancel_window_hours: "12".into(),
            late_fee: "5".into(),
            requires_membership: "on".into(),
            timetable: "Wed 18:00, Sat 10:00".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// The same services with the clock moved on by `by`.
pub fn later(s: &Services, by: chrono::TimeDelta) -> Services {
    Services {
        clock: Clock::fixed(s.clock.now() + by),
        ..s.clone()
    }
}

/// A staff action typed into the membership page's form, read and applied
/// as the page's server function does: the membership afterwards.
pub async fn act_form(
    s: &Services,
    actor: &Actor,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::MembershipPage, backend::Error> {
    let command = form.command()?;
    let showing = memberships::Showing::Effect;
    Ok(memberships::act(s, actor, id, &command, showing).await?.1)
}

/// What a staff action typed into the form would do, nothing saved.
pub async fn preview_form(
    s: &Services,
    actor: &Actor,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionPreview, backend::Error> {
    memberships::preview_action(s, actor, id, &form.command()?).await
}

/// A sale typed into the staff app's sale form, read and made as the page's
/// server function does: the membership's id.
pub async fn sell_form(
    s: &Services,
    actor: &Actor,
    holder: HolderRef,
    form: &SellForm,
) -> Result<i64, backend::Error> {
    memberships::sell(s, actor, holder, &form.command()?).await
}

/// The preview of a sale typed into the form, nothing saved.
pub async fn preview_sale_form(
    s: &Services,
    actor: &Actor,
    holder: HolderRef,
    form: &SellForm,
) -> Result<domain::memberships::SaleSummary, backend::Error> {
    memberships::preview_sale(s, actor, holder, &form.command()?).await
}
