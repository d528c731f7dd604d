//! Demo data: a realistic club that a newcomer sees on first start.
//! Every feature extends it, so the app is never shown empty.

use chrono::{Datelike, Days, Months, NaiveDate};
use domain::bookings::{BookingForm, ServiceForm};
use domain::catalog::MembershipTypeForm;
use domain::lifecycle::sale::SellForm;
use domain::members::MemberDetails;
use domain::memberships::ActionForm;
use domain::staff::Role;

use crate::business::{self, NewBusiness};
use crate::engine::ledger::Account;
use crate::engine::lifecycle::Showing;
use crate::memberships::{self};
use crate::payments::{self};
use crate::platform::actor::{Actor, By};
use crate::platform::audit;
use crate::platform::error::Error;
use crate::store::memberships::HolderRef;
use crate::{Services, bookings, catalog, members, organizations};

pub const DEMO_OWNER_EMAIL: &str = "owner@harbour.example";
pub const DEMO_PASSWORD: &str = "harbour-demo-2026";

/// (email, name, role) of the demo staff; all share `DEMO_PASSWORD`.
pub const DEMO_STAFF: &[(&str, &str, Role)] = &[
    (DEMO_OWNER_EMAIL, "Olivia Owner", Role::Owner),
    ("manager@harbour.example", "Max Manager", Role::Manager),
    ("desk@harbour.example", "Dana Desk", Role::FrontDesk),
    ("viewer@harbour.example", "Vic Viewer", Role::Viewer),
];

fn quick(
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
fn demo_types(riverside: i64, season_start: i32) -> Vec<MembershipTypeForm> {
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
    let staff = |role: Role| Actor {
        business_id,
        staff_user_id: staff_ids[&role],
        role,
    };
    audit::record(
        &mut tx,
        business_id,
        audit::By::System,
        "demo.seeded",
        "business",
        Some(business_id),
        "{}",
        now,
    )
    .await?;
    tx.commit().await?;

    let owner = staff(Role::Owner);
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

    // Members joined over the past two years.
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

    // A company whose staff use the coworking plan.
    let form = domain::organizations::OrganizationForm {
        name: "Northwind Design".into(),
        contact_name: "Priya Raman".into(),
        email: "office@northwind.example".into(),
        phone: "+49 30 5559000".into(),
        billing_address: "Northwind Design GmbH\nKanalstraße 5\n10999 Berlin".into(),
        max_members: "10".into(),
    };
    let org = organizations::save_organization(services, &owner, 0, &form).await?;
    for number in ["1002", "1005", "1011"] {
        organizations::authorize_member(services, &owner, org.id, number).await?;
    }

    // Their memberships, sold and changed on the days it happened: each step
    // runs on a clock set to its day, so the timelines read like real ones.
    let history = History {
        db: services.db.clone(),
        business_id,
        desk: staff(Role::FrontDesk),
        manager: staff(Role::Manager),
        types: type_ids,
        today,
    };
    let month = first_of_month(today);
    let ago = |months: u32, day: u64| month - Months::new(months) + Days::new(day);
    let m = |i: usize| HolderRef::Member(member_ids[i]);
    let season = NaiveDate::from_ymd_opt(season_start, 9, 1).expect("a date");

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
            HolderRef::Organization(org.id),
            "Company Coworking Yearly",
            month + Months::new(1),
            None,
        )
        .await?;

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
        payments::add_card(&owner_services, &owner, Account::Member(*id), &card(number)).await?;
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
        .act(upgraded, today, "change_type", |f| {
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
    // Online: a visitor joined from the Harbour Street page three days ago,
    // and a member paused their gym plan in the portal.
    let joined_on = today - Days::new(3);
    crate::signup::start(
        &services_on(&services.db, joined_on),
        "harbour-street",
        &domain::signup::SignupForm {
            type_id: history.types["Adult Monthly"].to_string(),
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
        business_id,
        member_id: member_ids[14],
    };
    crate::portal::act(
        &services_on(&services.db, today),
        by_member,
        back,
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
        &owner,
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
    seed_studio(services, today).await?;
    Ok(true)
}

/// A second business, a yoga studio, where two of the club's members (Grace
/// Liu and Isla Murphy) also practise: their emails open two accounts in the
/// portal, and each business's portal has its own address.
async fn seed_studio(services: &Services, today: NaiveDate) -> Result<(), Error> {
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
    let owner = Actor {
        business_id,
        staff_user_id: owner_id,
        role: Role::Owner,
    };
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
            By::Staff(&owner),
            business_id,
            HolderRef::Member(member_id),
            &SellForm {
                type_id: unlimited.id.to_string(),
                start: start.to_string(),
                ..SellForm::default()
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

/// Replays the demo's history: each step on a clock set to its own day.
struct History {
    db: crate::Db,
    business_id: i64,
    desk: Actor,
    manager: Actor,
    types: std::collections::HashMap<String, i64>,
    today: NaiveDate,
}

fn services_on(db: &crate::Db, day: NaiveDate) -> Services {
    let at = day.and_hms_opt(8, 30, 0).expect("a time of day").and_utc();
    Services::new(db.clone(), crate::Clock::fixed(at))
}

impl History {
    async fn services(&self) -> Result<(), Error> {
        let services = services_on(&self.db, self.today);
        let form = |name: &str, kind: &str, timetable: &str, capacity: &str| ServiceForm {
            name: name.into(),
            kind: kind.into(),
            timetable: timetable.into(),
            capacity: capacity.into(),
            duration_minutes: "60".into(),
            cancel_window_hours: "12".into(),
            requires_membership: "on".into(),
            ..ServiceForm::default()
        };
        for service in [
            ServiceForm {
                price: "15".into(),
                price_credits: "1".into(),
                late_fee: "5".into(),
                ..form("Yoga", "class", "Mon 18:00, Wed 18:00, Sat 10:00", "12")
            },
            ServiceForm {
                price: "20".into(),
                ..form("Climbing Intro", "class", "Tue 19:00, Thu 19:00", "8")
            },
            ServiceForm {
                price: "45".into(),
                price_credits: "1".into(),
                duration_minutes: "50".into(),
                cancel_window_hours: "24".into(),
                late_fee: "20".into(),
                ..form(
                    "Massage",
                    "appointment",
                    "Mon 10:00, Mon 14:00, Tue 10:00, Tue 14:00, Thu 10:00, Thu 14:00",
                    "1",
                )
            },
            ServiceForm {
                price: "8".into(),
                duration_minutes: "90".into(),
                ..form(
                    "Sauna",
                    "resource",
                    "Mon 17:00, Tue 17:00, Wed 17:00, Thu 17:00, Fri 17:00, Sat 11:00, Sun 11:00",
                    "8",
                )
            },
        ] {
            bookings::create_service(&services, &self.manager, &service).await?;
        }
        Ok(())
    }

    /// Books `service` at `day` `time` for a membership, as the desk on `on`.
    async fn book(
        &self,
        membership: i64,
        service: &str,
        day: NaiveDate,
        time: &str,
        on: NaiveDate,
        pay_with: &str,
    ) -> Result<i64, Error> {
        let services = services_on(&self.db, on);
        let id = bookings::services(&services, &self.desk)
            .await?
            .into_iter()
            .find(|s| s.spec.name == service)
            .map(|s| s.id)
            .ok_or_else(|| Error::internal(format!("demo service {service}")))?;
        bookings::book(
            &services,
            &self.desk,
            &BookingForm {
                service_id: id.to_string(),
                membership_id: membership.to_string(),
                day: day.to_string(),
                time: time.into(),
                pay_with: pay_with.into(),
                member_id: String::new(),
                key: format!("demo:{membership}:{service}:{day}"),
            },
        )
        .await
    }

    async fn sell(
        &self,
        holder: HolderRef,
        type_name: &str,
        start: NaiveDate,
        discount: Option<(&str, &str, &str)>,
    ) -> Result<i64, Error> {
        let mut form = SellForm {
            type_id: self.types[type_name].to_string(),
            start: start.to_string(),
            ..SellForm::default()
        };
        if let Some((kind, value, periods)) = discount {
            form.discount_kind = kind.into();
            form.discount_value = value.into();
            form.discount_periods = periods.into();
        }
        // Sold on its start day, or today for a start still to come.
        let day = start.min(self.today);
        let services = services_on(&self.db, day);
        memberships::sell_as(
            &services,
            By::Staff(&self.desk),
            self.business_id,
            holder,
            &form,
        )
        .await
    }

    async fn act(
        &self,
        id: i64,
        day: NaiveDate,
        action: &str,
        fill: impl FnOnce(&mut ActionForm),
    ) -> Result<(), Error> {
        self.act_by(&self.desk, id, day, action, fill).await
    }

    async fn act_as_manager(
        &self,
        id: i64,
        day: NaiveDate,
        action: &str,
        fill: impl FnOnce(&mut ActionForm),
    ) -> Result<(), Error> {
        self.act_by(&self.manager, id, day, action, fill).await
    }

    async fn act_by(
        &self,
        by: &Actor,
        id: i64,
        day: NaiveDate,
        action: &str,
        fill: impl FnOnce(&mut ActionForm),
    ) -> Result<(), Error> {
        let mut form = ActionForm {
            action: action.into(),
            ..ActionForm::default()
        };
        fill(&mut form);
        let services = services_on(&self.db, day);
        crate::engine::lifecycle::act_as(
            &services,
            By::Staff(by),
            self.business_id,
            id,
            &form,
            Showing::Effect,
        )
        .await?;
        Ok(())
    }
}

impl History {
    /// The front desk books one transfer for all that is due, ten euros over
    /// (kept as credit); a manager refunds the ten euros and credits five
    /// for a closed sauna.
    async fn pay_everything_by_transfer(&self, account: Account) -> Result<(), Error> {
        let services = services_on(&self.db, self.today);
        let billing = payments::account_billing(&services, &self.desk, account).await?;
        let Some(first) = billing.unpaid.first() else {
            return Ok(());
        };
        let due: i64 = billing.unpaid.iter().map(|s| s.amount_due().minor).sum();
        let currency = first.total.currency;
        let paid = domain::Money::new(due + 1000, currency);
        let payment = payments::record_payment(
            &services,
            &self.desk,
            first.id,
            &domain::payments::PaymentForm {
                amount: paid.to_plain(),
                method: "bank_transfer".into(),
                reference: "SEPA 2026-DEMO-0001".into(),
                key: "demo-transfer".into(),
                amount_due: false,
            },
        )
        .await?;
        payments::refund(
            &services,
            &self.manager,
            payment,
            &domain::payments::RefundForm {
                amount: "10".into(),
                reason: "paid ten euros too much".into(),
                key: "demo-refund".into(),
            },
        )
        .await?;
        payments::credit_note(
            &services,
            &self.manager,
            first.id,
            &domain::invoices::CreditNoteForm {
                amount: "5".into(),
                reason: "the sauna was closed for a week".into(),
                key: "demo-credit".into(),
            },
        )
        .await?;
        Ok(())
    }
}

impl History {
    /// A manager refunds the account's latest card charge in full.
    async fn refund_last_card_charge(&self, account: Account, reason: &str) -> Result<(), Error> {
        let services = services_on(&self.db, self.today);
        let (member_id, organization_id) = account.columns();
        let mut tx = services.db.begin_read().await?;
        let last = crate::query!(
            &mut tx,
            fetch_optional as (i64, i64, String),
            "SELECT id, amount_minor, currency FROM payments
              WHERE business_id = $1 AND (member_id = $2 OR organization_id = $3)
                AND succeeded AND method = 'card_on_file'
              ORDER BY id DESC LIMIT 1",
            self.business_id,
            member_id,
            organization_id
        )?;
        tx.commit().await?;
        let Some((payment, minor, currency)) = last else {
            return Ok(());
        };
        let currency = domain::Currency::from_code(&currency)
            .map_err(|_| Error::internal("the currency of a payment"))?;
        payments::refund(
            &services,
            &self.manager,
            payment,
            &domain::payments::RefundForm {
                amount: domain::Money::new(minor, currency).to_plain(),
                reason: reason.into(),
                key: "demo-card-refund".into(),
            },
        )
        .await?;
        Ok(())
    }
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
