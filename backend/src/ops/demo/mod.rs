//! Demo data: a realistic club that a newcomer sees on first start.
//! Every feature extends it, so the app is never shown empty.

mod club;
mod history;
mod studio;

use chrono::{Datelike, Days, Months, NaiveDate};
pub use club::{DEMO_OWNER_EMAIL, DEMO_PASSWORD, DEMO_STAFF};
use domain::members::MemberDetails;
use domain::staff::Role;

use crate::business::{self, NewBusiness};
use crate::engine::ledger::Account;
use crate::payments::{self};
use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::error::Error;
use crate::store::memberships::HolderRef;
use crate::{Services, bookings, catalog, members, organizations};
use club::{DEMO_MEMBERS, demo_types};
use history::{History, ascii_lower, first_of_month, services_on};
use studio::seed_studio;

/// Loads the demo club unless a business already exists. Returns whether it loaded.
pub async fn seed_demo(services: &Services) -> Result<bool, Error> {
    if business::count_businesses(services).await? > 0 {
        return Ok(false);
    }
    let club = open_club(services).await?;
    let member_ids = add_members(services, &club).await?;
    let org = add_organization(services, &club).await?;
    let history = History {
        db: services.db.clone(),
        business_id: club.business_id,
        desk: club.desk,
        manager: club.manager,
        types: club.types.clone(),
        today: club.today,
    };
    let sold = sell_history(&history, &club, &member_ids, org).await?;
    take_money(services, &club, &history, &member_ids, &sold).await?;
    book_and_visit(services, &club, &history, &sold).await?;
    go_online(services, &club, &member_ids, &sold).await?;
    seed_studio(services, club.today).await?;
    Ok(true)
}

/// The demo club as its steps share it.
struct Club {
    business_id: i64,
    harbour: i64,
    riverside: i64,
    owner: Actor,
    desk: Actor,
    manager: Actor,
    /// Membership types by name.
    types: std::collections::HashMap<String, i64>,
    today: NaiveDate,
    /// The year the current school season started (in September).
    season_start: i32,
}

/// The memberships later steps come back to.
#[derive(Clone, Copy)]
struct Sold {
    spa: i64,
    spa_regular: i64,
    back: i64,
    annual: i64,
    upgraded: i64,
}

/// The business, its locations, staff and catalog.
async fn open_club(services: &Services) -> Result<Club, Error> {
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
    let harbour = business::insert_location(
        &mut tx,
        business_id,
        "Harbour Street",
        "12 Harbour Street",
        now,
    )
    .await?;
    let riverside =
        business::insert_location(&mut tx, business_id, "Riverside", "3 Riverside Walk", now)
            .await?;
    let mut staff_ids = std::collections::HashMap::new();
    for (email, name, role) in DEMO_STAFF {
        let id = crate::store::business::insert_staff_user(
            &mut tx,
            business_id,
            email,
            name,
            *role,
            DEMO_PASSWORD,
            now,
        )
        .await?;
        staff_ids.insert(*role, id);
    }
    let staff = |role: Role| Actor::staff(business_id, staff_ids[&role], role);
    audit::record(
        &mut tx,
        &crate::platform::actor::Actor::system(business_id),
        "demo.seeded",
        "business",
        Some(business_id),
        "{}",
        now,
    )
    .await?;
    tx.commit().await?;

    let owner = staff(Role::Owner);
    let desk = staff(Role::FrontDesk);
    let manager = staff(Role::Manager);
    let mut type_ids = std::collections::HashMap::new();
    let today = {
        let mut tx = services.db.begin_read().await?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        tx.commit().await?;
        services.today(&business)
    };
    // The current school season: it starts in September of this year or the last.
    let season_start = if today.month() >= 6 {
        today.year()
    } else {
        today.year() - 1
    };
    for form in demo_types(riverside, season_start) {
        let created = catalog::create_membership_type(services, &owner, &form).await?;
        type_ids.insert(created.spec.name.clone(), created.id);
    }
    Ok(Club {
        business_id,
        harbour,
        riverside,
        owner,
        desk,
        manager,
        types: type_ids,
        today,
        season_start,
    })
}

/// Members who joined over the past two years.
async fn add_members(services: &Services, club: &Club) -> Result<Vec<i64>, Error> {
    let (business_id, today) = (club.business_id, club.today);
    let (harbour, riverside) = (club.harbour, club.riverside);
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let mut member_ids = Vec::new();
    for (i, (first, last)) in DEMO_MEMBERS.iter().enumerate() {
        let email = format!("{}.{}@example.com", ascii_lower(first), ascii_lower(last));
        // Youth team members are teenagers; everyone else an adult or a student.
        let (member_type, born_year) = match i % 8 {
            0 => ("Student", today.year() - 21),
            3 => ("Youth", today.year() - 14),
            7 => ("Senior", today.year() - 68),
            _ => ("Adult", today.year() - 25 - (i as i32 % 30)),
        };
        let details = MemberDetails {
            first_name: first.to_string(),
            last_name: last.to_string(),
            email,
            phone: format!("+49 30 {:07}", 5_550_000 + i * 37),
            date_of_birth: NaiveDate::from_ymd_opt(
                born_year,
                (i as u32 % 12) + 1,
                (i as u32 % 27) + 1,
            ),
            member_type: Some(member_type.to_string()),
            home_location_id: Some(if i % 3 == 0 { riverside } else { harbour }),
            notes: if i == 4 {
                "Prefers early-morning classes.".to_string()
            } else {
                String::new()
            },
            marketing_consent: i % 2 == 0,
        };
        let (member_id, _) = members::insert_member(&mut tx, business_id, &details, now).await?;
        member_ids.push(member_id);
    }
    tx.commit().await?;
    Ok(member_ids)
}

/// A company whose staff use the coworking plan; returns its id.
async fn add_organization(services: &Services, club: &Club) -> Result<i64, Error> {
    let form = domain::organizations::OrganizationForm {
        name: "Northwind Design".into(),
        contact_name: "Priya Raman".into(),
        email: "office@northwind.example".into(),
        phone: "+49 30 5559000".into(),
        billing_address: "Northwind Design GmbH\nKanalstraße 5\n10999 Berlin".into(),
        max_members: "10".into(),
    };
    let org = organizations::save_organization(services, &club.owner, 0, &form).await?;
    for number in ["1002", "1005", "1011"] {
        organizations::authorize_member(services, &club.owner, org.id, number).await?;
    }
    Ok(org.id)
}

/// The memberships, sold and changed on the days it happened: each step runs
/// on a clock set to its day, so the timelines read like real ones.
async fn sell_history(
    history: &History,
    club: &Club,
    member_ids: &[i64],
    org: i64,
) -> Result<Sold, Error> {
    let today = history.today;
    let month = first_of_month(today);
    let ago = |months: u32, day: u64| month - Months::new(months) + Days::new(day);
    let m = |i: usize| HolderRef::Member(member_ids[i]);
    let season = NaiveDate::from_ymd_opt(club.season_start, 9, 1).expect("a date");

    history
        .sell(m(0), "Student Monthly", ago(10, 2), None)
        .await?;
    let paused = history
        .sell(m(1), "Adult Monthly", ago(14, 0), None)
        .await?;
    history
        .act(paused, today - Days::new(6), "pause", |f| {
            f.from = (today - Days::new(5)).to_string();
            f.until = (today + Days::new(25)).to_string();
            f.reason = "knee injury, physio for four weeks".into();
        })
        .await?;
    let leaving = history.sell(m(2), "Adult Monthly", ago(8, 4), None).await?;
    history
        .act(leaving, today - Days::new(3), "cancel", |f| {
            f.when = "earliest".into();
            f.reason = "moving to Hamburg".into();
        })
        .await?;
    history
        .sell(m(3), "Youth Climbing Team", season + Days::new(3), None)
        .await?;
    let spa_regular = history
        .sell(m(4), "Spa Monthly", ago(5, 9), Some(("percent", "10", "")))
        .await?;
    history
        .sell(m(6), "Adult Monthly", today + Days::new(9), None)
        .await?;
    history
        .sell(m(7), "Off-Peak Weekly", ago(3, 1), None)
        .await?;
    let ended = history
        .sell(m(8), "Student Monthly", ago(4, 0), None)
        .await?;
    history
        .act(ended, ago(2, 3), "cancel", |f| {
            f.reason = "finished their studies".into();
        })
        .await?;
    history
        .sell(m(9), "10-Visit Pass", ago(8, 12), None)
        .await?;
    let annual = history
        .sell(m(10), "Annual Prepaid", ago(7, 0), None)
        .await?;
    history
        .sell(m(12), "Family Quarterly", ago(11, 0), None)
        .await?;
    let disputed = history
        .sell(m(13), "Adult Monthly", ago(20, 6), None)
        .await?;
    history
        .act_as_manager(disputed, today - Days::new(2), "lock", |f| {
            f.reason = "billing dispute under review".into();
        })
        .await?;
    let back = history
        .sell(m(14), "Adult Monthly", ago(6, 14), None)
        .await?;
    history
        .act(back, ago(1, 2), "pause", |f| {
            f.from = ago(1, 4).to_string();
            f.until = ago(1, 20).to_string();
            f.reason = "holiday".into();
        })
        .await?;
    history
        .act(back, ago(1, 15), "resume", |f| {
            f.on = ago(1, 15).to_string();
            f.reason = "back early".into();
        })
        .await?;
    history
        .sell(m(11), "Youth Climbing Team", season + Days::new(10), None)
        .await?;
    history
        .sell(m(16), "Student Monthly", ago(1, 7), None)
        .await?;
    let spa = history.sell(m(18), "Spa Monthly", ago(6, 0), None).await?;
    // Billed on the 1st; asked to be billed on the 15th, the bridging half
    // month prorated.
    history
        .act(spa, ago(4, 5), "change_billing_date", |f| {
            f.on = ago(4, 14).to_string();
            f.prorate = "yes".into();
            f.reason = "paid mid-month".into();
        })
        .await?;
    history
        .sell(m(15), "Off-Peak Weekly", ago(3, 10), None)
        .await?;
    history
        .sell(m(19), "Youth Climbing Team", season + Days::new(20), None)
        .await?;
    history
        .sell(m(20), "Off-Peak Weekly", ago(2, 5), None)
        .await?;
    history
        .sell(m(21), "Annual Prepaid", ago(13, 0), None)
        .await?;
    history.sell(m(22), "Staff Perk", ago(9, 0), None).await?;
    // Billed on the same day each month, ten days into the current period
    // today: she adds the spa below, mid-period.
    let upgraded = history
        .sell(
            m(23),
            "Adult Monthly",
            today - Months::new(2) - Days::new(10),
            None,
        )
        .await?;
    // Joined six days ago and has not paid yet: past due.
    history
        .sell(m(17), "Adult Monthly", today - Days::new(6), None)
        .await?;
    // The company's own plan waits for a manager's approval.
    history
        .sell(
            HolderRef::Organization(org),
            "Company Coworking Yearly",
            month + Months::new(1),
            None,
        )
        .await?;
    Ok(Sold {
        spa,
        spa_regular,
        back,
        annual,
        upgraded,
    })
}

/// Money: cards on file, the daily work through the history, a transfer, a
/// change mid-period and a refund.
async fn take_money(
    services: &Services,
    club: &Club,
    history: &History,
    member_ids: &[i64],
    sold: &Sold,
) -> Result<(), Error> {
    let (business_id, today, owner) = (club.business_id, club.today, &club.owner);
    let month = first_of_month(today);
    let ago = |months: u32, day: u64| month - Months::new(months) + Days::new(day);
    // Money: most members keep a card on file and are charged on each billing
    // date; one card is short of funds (suspended after the retries), a new
    // member has not paid yet (past due), the disputed membership's invoices
    // wait, and the first member pays by transfer.
    let owner_services = services_on(&services.db, today);
    let card = |number: &str| domain::payments::CardForm {
        number: number.into(),
        expiry: "09/29".into(),
    };
    for (i, id) in member_ids.iter().enumerate() {
        let number = match i {
            0 | 17 | 13 => continue,
            16 => "4000 0000 0000 9995",
            _ => "4242 4242 4242 4242",
        };
        payments::add_card(&owner_services, owner, Account::Member(*id), &card(number)).await?;
    }
    // Weekly runs through the history, daily ones over the last ten days.
    let mut day = ago(20, 0);
    let recent = today - Days::new(10);
    while day < recent {
        crate::jobs::day_work(&services_on(&services.db, day), business_id).await?;
        day = day + Days::new(7);
    }
    let mut day = recent;
    while day <= today {
        crate::jobs::day_work(&services_on(&services.db, day), business_id).await?;
        day = day + Days::new(1);
    }
    history
        .pay_everything_by_transfer(Account::Member(member_ids[0]))
        .await?;
    // A change in the middle of a billed period: the credit for the adult
    // plan's unused days and the spa plan's charge for them, on one invoice
    // dated today and due by the usual terms.
    history
        .act(sold.upgraded, today, "change_type", |f| {
            f.type_id = history.types["Spa Monthly"].to_string();
            f.when = "now".into();
            f.reason = "added the spa".into();
        })
        .await?;
    // A card charge given back in full: its invoice reads "Refunded".
    history
        .refund_last_card_charge(
            Account::Member(member_ids[20]),
            "the off-peak classes were cancelled that week",
        )
        .await?;
    Ok(())
}

/// Classes, appointments and rooms with their bookings, and the visits of a
/// recurring service.
async fn book_and_visit(
    services: &Services,
    club: &Club,
    history: &History,
    sold: &Sold,
) -> Result<(), Error> {
    let (business_id, today) = (club.business_id, club.today);
    let Sold {
        spa,
        spa_regular,
        back,
        annual,
        ..
    } = *sold;
    // Classes, appointments and rooms, and their bookings: a massage paid
    // with a spa credit, sauna visits included in the spa plan, yoga paid at
    // the member price, a class attended last week, one cancelled in time.
    history.services().await?;
    let next = |weekday: chrono::Weekday| {
        let mut d = today + Days::new(1);
        while d.weekday() != weekday {
            d = d + Days::new(1);
        }
        d
    };
    let last_week = next(chrono::Weekday::Wed) - Days::new(7);
    history
        .book(
            spa,
            "Yoga",
            last_week,
            "18:00",
            last_week - Days::new(2),
            "credits",
        )
        .await?;
    history
        .book(
            spa,
            "Massage",
            next(chrono::Weekday::Tue),
            "10:00",
            today,
            "credits",
        )
        .await?;
    history
        .book(
            spa_regular,
            "Sauna",
            next(chrono::Weekday::Fri),
            "17:00",
            today,
            "allowance",
        )
        .await?;
    history
        .book(
            back,
            "Yoga",
            next(chrono::Weekday::Wed),
            "18:00",
            today,
            "money",
        )
        .await?;
    let cancelled = history
        .book(back, "Yoga", next(chrono::Weekday::Sat), "10:00", today, "")
        .await?;
    let desk_services = services_on(&services.db, today);
    bookings::cancel(&desk_services, &history.desk, cancelled).await?;
    // Two fitness assessments a year come with the annual plan: the first
    // was done, the next is planned.
    let assessment = crate::visits::create_service(
        &desk_services,
        &history.manager,
        &domain::visits::RecurringServiceForm {
            name: "Fitness assessment".into(),
            visits_per_year: "2".into(),
            duration_minutes: "45".into(),
            type_id: history.types["Annual Prepaid"].to_string(),
        },
    )
    .await?;
    crate::visits::add_address(
        &desk_services,
        &history.desk,
        &domain::visits::ServiceAddressForm {
            membership_id: annual.to_string(),
            recurring_service_id: assessment.to_string(),
            address: "Harbour Street, studio 2".into(),
            first_due: (today + Days::new(3)).to_string(),
        },
    )
    .await?;
    // Last week's class took place.
    let attended: Vec<(i64,)> = {
        let mut tx = services.db.begin_read().await?;
        let rows = crate::query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM bookings WHERE business_id = $1 AND starts_at < $2",
            business_id,
            today.and_hms_opt(0, 0, 0).expect("midnight")
        )?;
        tx.commit().await?;
        rows
    };
    for (id,) in attended {
        bookings::mark(
            &desk_services,
            &history.desk,
            id,
            domain::bookings::BookingStatus::Attended,
        )
        .await?;
    }
    Ok(())
}

/// What happened online: a signup, a pause in the portal, the website's API key.
async fn go_online(
    services: &Services,
    club: &Club,
    member_ids: &[i64],
    sold: &Sold,
) -> Result<(), Error> {
    let today = club.today;
    // Online: a visitor joined from the Harbour Street page three days ago,
    // and a member paused their gym plan in the portal.
    let joined_on = today - Days::new(3);
    crate::signup::start(
        &services_on(&services.db, joined_on),
        "harbour-street",
        &domain::signup::SignupForm {
            type_id: club.types["Adult Monthly"].to_string(),
            first_name: "Zoë".into(),
            last_name: "Adeyemi".into(),
            email: "zoe.adeyemi@example.com".into(),
            phone: "+49 30 5551234".into(),
            start: joined_on.to_string(),
            number: "4242 4242 4242 4242".into(),
            expiry: "11/30".into(),
            key: "demo-signup".into(),
            ..Default::default()
        },
        "demo",
    )
    .await?;
    let by_member = crate::portal::Member {
        business_id: club.business_id,
        member_id: member_ids[14],
    };
    crate::portal::act(
        &services_on(&services.db, today),
        by_member,
        sold.back,
        &domain::memberships::ActionForm {
            action: "pause".into(),
            from: (today + Days::new(14)).to_string(),
            until: (today + Days::new(28)).to_string(),
            reason: "travelling for work".into(),
            ..Default::default()
        },
    )
    .await?;
    // The club's website reads the catalog and members through the API.
    crate::api_keys::create(
        services,
        &club.owner,
        &domain::api_keys::ApiKeyForm {
            name: "Website".into(),
            scopes: vec![
                "read_catalog".into(),
                "read_members".into(),
                "write_members".into(),
            ],
        },
    )
    .await?;
    Ok(())
}
