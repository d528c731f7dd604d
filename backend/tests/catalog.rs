//! The membership catalog on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

use backend::Actor;
use backend::business::{self, NewBusiness};
use backend::testing::each_db;
use backend::{Clock, Db, Error, Services, catalog};
use chrono::{NaiveDate, TimeZone, Utc};
use domain::catalog::{
    CancelTiming, CreditExpiry, EndAction, ExpiryUnit, FixedLength, MembershipTypeForm,
    PurchaseType, Term, TypeFilter, TypeStatus,
};
use domain::staff::Role;
use domain::{Currency, Money};
use rust_decimal::Decimal;

struct Club {
    s: Services,
    owner: Actor,
    harbour: i64,
    riverside: i64,
}

async fn club(db: Db) -> Club {
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
        "Owner",
        "a long enough password",
    )
    .await
    .unwrap();
    let now = s.clock.now();
    let mut tx = s.db.begin_write().await.unwrap();
    let harbour = business::insert_location(&mut tx, business_id, "Harbour Street", "", now)
        .await
        .unwrap();
    let riverside = business::insert_location(&mut tx, business_id, "Riverside", "", now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Club {
        s,
        owner: Actor::staff(business_id, staff_user_id, Role::Owner),
        harbour,
        riverside,
    }
}

fn monthly(name: &str, fee: &str) -> MembershipTypeForm {
    MembershipTypeForm {
        name: name.into(),
        purchase_type: "recurring".into(),
        billing_interval: "monthly".into(),
        fee: fee.into(),
        status: "active".into(),
        ..Default::default()
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn a_type_with_every_setting_round_trips() {
    each_db(|db| async move {
        let c = club(db).await;
        let other = catalog::create_membership_type(&c.s, &c.owner, &monthly("Next Season", "40"))
            .await
            .unwrap();
        let form = MembershipTypeForm {
            description: "Ages 10 to 17.".into(),
            color: "#AA3300".into(),
            initiation_fee: "20".into(),
            term_kind: "seasons".into(),
            seasons: "2026-09-01 to 2027-05-31\n2027-09-01 to 2028-05-31".into(),
            end_action: "renew_other".into(),
            renew_into: other.id.to_string(),
            location_scope: "selected".into(),
            location_ids: vec![c.riverside.to_string()],
            member_types: vec!["Youth".into(), "Student".into()],
            youth: "on".into(),
            group: "on".into(),
            max_family_members: "3".into(),
            additional_member_fee: "10".into(),
            credits_per_period: "2".into(),
            carry_over_cap: "3".into(),
            credit_expiry_after: "2".into(),
            credit_expiry_unit: "periods".into(),
            included_services: "Belay lesson: 1".into(),
            member_discount_percent: "12.5".into(),
            pause_allowed: "on".into(),
            pause_max_per_year: "2".into(),
            pause_min_days: "7".into(),
            pause_max_days: "30".into(),
            pause_fee: "3.50".into(),
            pause_extends_commitment: "on".into(),
            pause_portal: "on".into(),
            min_commitment_periods: "3".into(),
            notice_days: "14".into(),
            cancel_timing: "immediately".into(),
            cancel_portal: "on".into(),
            approval_required: "on".into(),
            one_per_member: "on".into(),
            revenue_account: "4200".into(),
            deferred_revenue: "on".into(),
            ..monthly("Youth Climbing Team", "35")
        };
        let created = catalog::create_membership_type(&c.s, &c.owner, &form)
            .await
            .unwrap();
        let read = catalog::membership_type(&c.s, &c.owner, created.id)
            .await
            .unwrap();
        assert_eq!(read, created);
        let spec = &read.spec;
        assert_eq!(spec.color, "#aa3300");
        assert_eq!(
            spec.term,
            Term::Seasons {
                ranges: vec![
                    domain::catalog::DateRange {
                        first: date(2026, 9, 1),
                        last: date(2027, 5, 31)
                    },
                    domain::catalog::DateRange {
                        first: date(2027, 9, 1),
                        last: date(2028, 5, 31)
                    },
                ]
            }
        );
        assert_eq!(
            (spec.end_action, spec.renew_into),
            (EndAction::RenewOther, Some(other.id))
        );
        assert_eq!(read.renew_into_name.as_deref(), Some("Next Season"));
        assert_eq!(
            (spec.all_locations, spec.location_ids.clone()),
            (false, vec![c.riverside])
        );
        assert_eq!(read.location_names, vec!["Riverside".to_string()]);
        assert_eq!(
            spec.member_types,
            vec!["Youth".to_string(), "Student".to_string()]
        );
        assert!(
            spec.youth
                && spec.deferred_revenue
                && spec.policies.approval_required
                && spec.policies.one_per_member
        );
        assert_eq!(
            spec.group.as_ref().unwrap().additional_member_fee,
            Money::new(1000, Currency::EUR)
        );
        assert_eq!(
            spec.benefits.credit_expiry,
            Some(CreditExpiry {
                after: 2,
                unit: ExpiryUnit::Periods
            })
        );
        assert_eq!(spec.benefits.member_discount_percent, Decimal::new(125, 1));
        assert_eq!(
            spec.policies.pause.as_ref().unwrap().fee_per_period,
            Money::new(350, Currency::EUR)
        );
        assert_eq!(spec.policies.cancellation.timing, CancelTiming::Immediately);
        assert_eq!(
            read.current_price().unwrap().initiation_fee,
            Money::new(2000, Currency::EUR)
        );
        // The edit form shows the same settings, and saving it unchanged changes nothing.
        let again = catalog::update_membership_type(&c.s, &c.owner, read.id, &read.to_form())
            .await
            .unwrap();
        assert_eq!(again.spec, read.spec);
    })
    .await;
}

#[tokio::test]
async fn lists_filter_by_status_purchase_type_location_and_name() {
    each_db(|db| async move {
        let c = club(db).await;
        let gym = catalog::create_membership_type(&c.s, &c.owner, &monthly("Gym", "50"))
            .await
            .unwrap();
        let riverside_only = MembershipTypeForm {
            location_scope: "selected".into(),
            location_ids: vec![c.riverside.to_string()],
            ..monthly("River Yoga", "30")
        };
        let yoga = catalog::create_membership_type(&c.s, &c.owner, &riverside_only)
            .await
            .unwrap();
        let pass = MembershipTypeForm {
            term_kind: "fixed".into(),
            term_months: "6".into(),
            ..monthly("Pass", "100")
        };
        let pass = MembershipTypeForm {
            purchase_type: "prepaid".into(),
            billing_interval: String::new(),
            status: "draft".into(),
            ..pass
        };
        let pass = catalog::create_membership_type(&c.s, &c.owner, &pass)
            .await
            .unwrap();
        catalog::change_type_status(&c.s, &c.owner, gym.id, TypeStatus::Retired)
            .await
            .unwrap();

        let ids = |filter: TypeFilter| {
            let s = c.s.clone();
            let owner = c.owner;
            async move {
                let listed: Vec<i64> = catalog::list_membership_types(&s, &owner, &filter)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.id)
                    .collect();
                // The API's list filters, orders and pages the same in SQL.
                let window = |offset, limit| backend::members::Window { offset, limit };
                let (paged, count) = catalog::page_of_types(&s, &owner, &filter, window(0, 100))
                    .await
                    .unwrap();
                let paged: Vec<i64> = paged.into_iter().map(|t| t.id).collect();
                assert_eq!(
                    (&paged, count),
                    (&listed, listed.len() as i64),
                    "{filter:?}"
                );
                let (second, _) = catalog::page_of_types(&s, &owner, &filter, window(1, 1))
                    .await
                    .unwrap();
                let second: Vec<i64> = second.into_iter().map(|t| t.id).collect();
                assert_eq!(
                    second,
                    listed.iter().skip(1).take(1).copied().collect::<Vec<_>>()
                );
                listed
            }
        };
        assert_eq!(
            ids(TypeFilter::default()).await,
            vec![yoga.id, pass.id],
            "retired types are hidden by default"
        );
        assert_eq!(
            ids(TypeFilter {
                include_retired: true,
                ..Default::default()
            })
            .await,
            vec![yoga.id, pass.id, gym.id]
        );
        assert_eq!(
            ids(TypeFilter {
                status: Some(TypeStatus::Retired),
                ..Default::default()
            })
            .await,
            vec![gym.id]
        );
        assert_eq!(
            ids(TypeFilter {
                purchase_type: Some(PurchaseType::Prepaid),
                ..Default::default()
            })
            .await,
            vec![pass.id]
        );
        assert_eq!(
            ids(TypeFilter {
                location_id: Some(c.harbour),
                ..Default::default()
            })
            .await,
            vec![pass.id]
        );
        assert_eq!(
            ids(TypeFilter {
                search: "YOGA".into(),
                ..Default::default()
            })
            .await,
            vec![yoga.id]
        );
        // LIKE's own characters are searched for as text.
        assert_eq!(
            ids(TypeFilter {
                search: "%".into(),
                ..Default::default()
            })
            .await,
            Vec::<i64>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn status_changes_follow_the_rules_and_only_unused_drafts_are_deleted() {
    each_db(|db| async move {
        let c = club(db).await;
        let draft = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                status: "draft".into(),
                ..monthly("Draft", "10")
            },
        )
        .await
        .unwrap();
        let active = catalog::change_type_status(&c.s, &c.owner, draft.id, TypeStatus::Active)
            .await
            .unwrap();
        assert_eq!(active.status, TypeStatus::Active);
        let back = catalog::change_type_status(&c.s, &c.owner, draft.id, TypeStatus::Draft)
            .await
            .unwrap_err();
        assert!(
            matches!(back, Error::Conflict(ref m) if m.contains("cannot return to draft")),
            "{back:?}"
        );
        let delete_active = catalog::delete_membership_type(&c.s, &c.owner, draft.id)
            .await
            .unwrap_err();
        assert!(matches!(delete_active, Error::Conflict(ref m) if m.contains("only a draft")));

        let mistake = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                status: "draft".into(),
                ..monthly("Mistake", "10")
            },
        )
        .await
        .unwrap();
        catalog::delete_membership_type(&c.s, &c.owner, mistake.id)
            .await
            .unwrap();
        assert!(matches!(
            catalog::membership_type(&c.s, &c.owner, mistake.id).await,
            Err(Error::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn a_type_in_use_keeps_its_purchase_type_and_cannot_be_deleted() {
    each_db(|db| async move {
        let c = club(db).await;
        let t = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                status: "draft".into(),
                ..monthly("Gym", "50")
            },
        )
        .await
        .unwrap();
        sell(&c, t.id, t.current_price_id).await;
        let form = MembershipTypeForm {
            billing_interval: "yearly".into(),
            ..t.to_form()
        };
        let err = catalog::update_membership_type(&c.s, &c.owner, t.id, &form)
            .await
            .unwrap_err();
        let Error::Invalid(invalid) = err else {
            panic!("expected a validation error")
        };
        assert!(
            invalid
                .message_for("billing_interval")
                .unwrap()
                .contains("switch their billing cycle")
        );
        let err = catalog::delete_membership_type(&c.s, &c.owner, t.id)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Conflict(ref m) if m.contains("retire it instead")),
            "{err:?}"
        );
        // Retiring keeps the membership.
        let retired = catalog::change_type_status(&c.s, &c.owner, t.id, TypeStatus::Active)
            .await
            .unwrap();
        let retired = catalog::change_type_status(&c.s, &c.owner, retired.id, TypeStatus::Retired)
            .await
            .unwrap();
        assert_eq!(retired.memberships, 1);
    })
    .await;
}

/// Records a membership directly (the lifecycle issue brings the real sale).
async fn sell(c: &Club, type_id: i64, price_id: i64) {
    let now = c.s.clock.now();
    let mut tx = c.s.db.begin_write().await.unwrap();
    let (member_id,): (i64,) = match &mut tx {
        backend::platform::db::Tx::Sqlite(conn) => sqlx::query_as("INSERT INTO members (business_id, first_name, last_name, email, created_at) VALUES ($1, 'A', 'B', '', $2) RETURNING id")
            .bind(c.owner.business_id).bind(now).fetch_one(&mut **conn).await.unwrap(),
        backend::platform::db::Tx::Postgres(conn) => sqlx::query_as("INSERT INTO members (business_id, first_name, last_name, email, created_at) VALUES ($1, 'A', 'B', '', $2) RETURNING id")
            .bind(c.owner.business_id).bind(now).fetch_one(&mut **conn).await.unwrap(),
    };
    backend::query!(&mut tx, execute,
        "INSERT INTO memberships (business_id, member_id, membership_type_id, price_id, start_date, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        c.owner.business_id, member_id, type_id, price_id, date(2026, 11, 1), now).unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_price_change_adds_a_version_and_existing_memberships_keep_theirs() {
    each_db(|db| async move {
        let c = club(db).await;
        let t = catalog::create_membership_type(&c.s, &c.owner, &monthly("Gym", "50"))
            .await
            .unwrap();
        sell(&c, t.id, t.current_price_id).await;
        sell(&c, t.id, t.current_price_id).await;
        let t = catalog::add_price_version(&c.s, &c.owner, t.id, "55", "10", "2027-01-01")
            .await
            .unwrap();
        assert_eq!(t.prices.len(), 2);
        assert_eq!(
            (t.prices[0].fee, t.prices[0].memberships),
            (Money::new(5000, Currency::EUR), 2)
        );
        assert_eq!(
            (
                t.prices[1].fee,
                t.prices[1].effective_from,
                t.prices[1].memberships
            ),
            (Money::new(5500, Currency::EUR), date(2027, 1, 1), 0)
        );
        assert_eq!(
            t.current_price().unwrap().fee,
            Money::new(5000, Currency::EUR),
            "today is still on the first version"
        );

        let past = catalog::add_price_version(&c.s, &c.owner, t.id, "60", "", "2026-01-01")
            .await
            .unwrap_err();
        let Error::Invalid(invalid) = past else {
            panic!()
        };
        assert!(
            invalid
                .message_for("effective_from")
                .unwrap()
                .contains("today")
        );
        let same_day = catalog::add_price_version(&c.s, &c.owner, t.id, "60", "", "2027-01-01")
            .await
            .unwrap_err();
        assert!(matches!(same_day, Error::Invalid(_)));
        let negative = catalog::add_price_version(&c.s, &c.owner, t.id, "-5", "", "2027-02-01")
            .await
            .unwrap_err();
        assert!(matches!(negative, Error::Invalid(_)));

        // When the date arrives (here: the owner moves the simulated clock), the new price is current.
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(date(2027, 1, 1)))
            .await
            .unwrap();
        let t = catalog::membership_type(&c.s, &c.owner, t.id)
            .await
            .unwrap();
        assert_eq!(
            t.current_price().unwrap().fee,
            Money::new(5500, Currency::EUR)
        );
    })
    .await;
}

#[tokio::test]
async fn types_are_duplicated_as_drafts_and_reordered_within_their_status() {
    each_db(|db| async move {
        let c = club(db).await;
        let a = catalog::create_membership_type(&c.s, &c.owner, &monthly("A", "10"))
            .await
            .unwrap();
        let b = catalog::create_membership_type(&c.s, &c.owner, &monthly("B", "20"))
            .await
            .unwrap();
        let copy = catalog::duplicate_membership_type(&c.s, &c.owner, a.id)
            .await
            .unwrap();
        assert_eq!(
            (copy.spec.name.as_str(), copy.status),
            ("A (copy)", TypeStatus::Draft)
        );
        assert_eq!(
            copy.current_price().unwrap().fee,
            Money::new(1000, Currency::EUR)
        );
        let copy2 = catalog::duplicate_membership_type(&c.s, &c.owner, a.id)
            .await
            .unwrap();
        assert_eq!(copy2.spec.name, "A (copy 2)");

        let names = || {
            let s = c.s.clone();
            let owner = c.owner;
            async move {
                catalog::list_membership_types(&s, &owner, &TypeFilter::default())
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(names().await, ["A", "B", "A (copy)", "A (copy 2)"]);
        catalog::move_membership_type(&c.s, &c.owner, b.id, true)
            .await
            .unwrap();
        assert_eq!(names().await, ["B", "A", "A (copy)", "A (copy 2)"]);
        // B is first of the active group: moving it up again changes nothing; A cannot move into the drafts.
        catalog::move_membership_type(&c.s, &c.owner, b.id, true)
            .await
            .unwrap();
        catalog::move_membership_type(&c.s, &c.owner, a.id, false)
            .await
            .unwrap();
        assert_eq!(names().await, ["B", "A", "A (copy)", "A (copy 2)"]);
        catalog::move_membership_type(&c.s, &c.owner, copy2.id, true)
            .await
            .unwrap();
        assert_eq!(names().await, ["B", "A", "A (copy 2)", "A (copy)"]);
    })
    .await;
}

#[tokio::test]
async fn front_desk_and_viewers_read_the_catalog_but_cannot_change_it() {
    each_db(|db| async move {
        let c = club(db).await;
        let t = catalog::create_membership_type(&c.s, &c.owner, &monthly("Gym", "50"))
            .await
            .unwrap();
        for role in [Role::FrontDesk, Role::Viewer] {
            let staff = c.owner.with_role(role);
            assert!(catalog::membership_type(&c.s, &staff, t.id).await.is_ok());
            let results = [
                catalog::update_membership_type(&c.s, &staff, t.id, &t.to_form())
                    .await
                    .err(),
                catalog::change_type_status(&c.s, &staff, t.id, TypeStatus::Retired)
                    .await
                    .err(),
                catalog::duplicate_membership_type(&c.s, &staff, t.id)
                    .await
                    .err(),
                catalog::add_price_version(&c.s, &staff, t.id, "60", "", "2027-01-01")
                    .await
                    .err(),
                catalog::delete_membership_type(&c.s, &staff, t.id)
                    .await
                    .err(),
                catalog::move_membership_type(&c.s, &staff, t.id, true)
                    .await
                    .err(),
            ];
            for result in results {
                assert!(
                    matches!(result, Some(Error::Forbidden)),
                    "{role:?}: {result:?}"
                );
            }
        }
        let unchanged = catalog::membership_type(&c.s, &c.owner, t.id)
            .await
            .unwrap();
        assert_eq!(unchanged, t);
    })
    .await;
}

#[tokio::test]
async fn the_public_page_of_a_location_lists_its_active_types_only() {
    each_db(|db| async move {
        let c = club(db).await;
        let riverside_only = MembershipTypeForm {
            location_scope: "selected".into(),
            location_ids: vec![c.riverside.to_string()],
            initiation_fee: "15".into(),
            credits_per_period: "1".into(),
            carry_over_cap: "3".into(),
            ..monthly("River Spa", "89")
        };
        catalog::create_membership_type(&c.s, &c.owner, &riverside_only)
            .await
            .unwrap();
        catalog::create_membership_type(&c.s, &c.owner, &monthly("Everywhere", "50"))
            .await
            .unwrap();
        catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                status: "draft".into(),
                ..monthly("Secret", "1")
            },
        )
        .await
        .unwrap();
        let pass = MembershipTypeForm {
            purchase_type: "prepaid".into(),
            billing_interval: String::new(),
            term_kind: "fixed".into(),
            term_months: "6".into(),
            punch_card_credits: "10".into(),
            ..monthly("10-Visit Pass", "120")
        };
        catalog::create_membership_type(&c.s, &c.owner, &pass)
            .await
            .unwrap();

        let perk = MembershipTypeForm {
            purchase_type: "benefit".into(),
            billing_interval: String::new(),
            ..monthly("Staff Perk", "0")
        };
        catalog::create_membership_type(&c.s, &c.owner, &perk)
            .await
            .unwrap();

        let river = catalog::public_offer(&c.s, "riverside").await.unwrap();
        let names: Vec<_> = river.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["River Spa", "Everywhere", "10-Visit Pass"]);
        assert_eq!(river.types[0].price, "€89.00 monthly");
        assert_eq!(river.types[0].initiation_fee.as_deref(), Some("€15.00"));
        assert!(
            river.types[0]
                .benefits
                .iter()
                .any(|b| b.contains("up to 3 carry over"))
        );
        assert_eq!(river.types[2].term, "6 months");
        assert!(river.types[2].benefits.contains(&"10 visits".to_string()));

        let harbour = catalog::public_offer(&c.s, "harbour-street").await.unwrap();
        assert_eq!(
            harbour
                .types
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["Everywhere", "10-Visit Pass"]
        );
        assert!(matches!(
            catalog::public_offer(&c.s, "nowhere").await,
            Err(Error::NotFound)
        ));
        let _ = FixedLength::default();
    })
    .await;
}

#[tokio::test]
async fn a_new_location_gets_its_own_public_page() {
    each_db(|db| async move {
        let c = club(db).await;
        let form = |name: &str| domain::business::LocationForm {
            name: name.into(),
            address: "1 Main St".into(),
        };
        let desk = c.owner.with_role(Role::FrontDesk);
        assert!(matches!(
            business::create_location(&c.s, &desk, &form("Main")).await,
            Err(Error::Forbidden)
        ));
        let main = business::create_location(&c.s, &c.owner, &form("Main"))
            .await
            .unwrap();
        assert_eq!(main.slug, "main");
        let dup = business::create_location(&c.s, &c.owner, &form("main"))
            .await
            .unwrap_err();
        assert!(matches!(dup, Error::Invalid(_)));
        assert!(matches!(
            business::create_location(&c.s, &c.owner, &form(" ")).await,
            Err(Error::Invalid(_))
        ));

        // Another business's "Main" gets its own address.
        let (other_business, other_user) = business::create_owner(
            &c.s,
            &NewBusiness {
                name: "Other",
                time_zone: "UTC",
                currency: "USD",
            },
            "o@other.example",
            "Other",
            "a long enough password",
        )
        .await
        .unwrap();
        let other = Actor::staff(other_business, other_user, Role::Owner);
        assert_eq!(
            business::create_location(&c.s, &other, &form("Main"))
                .await
                .unwrap()
                .slug,
            "main-2"
        );

        let names: Vec<_> = business::list_locations(&c.s, &c.owner)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["Harbour Street", "Main", "Riverside"]);
        catalog::create_membership_type(&c.s, &c.owner, &monthly("Everywhere", "10"))
            .await
            .unwrap();
        let offer = catalog::public_offer(&c.s, "main").await.unwrap();
        assert_eq!(
            (
                offer.business_name.as_str(),
                offer.location_name.as_str(),
                offer.types.len()
            ),
            ("Club", "Main", 1)
        );
        assert!(
            catalog::public_offer(&c.s, "main-2")
                .await
                .unwrap()
                .types
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_draft_that_another_type_renews_into_is_not_deleted() {
    each_db(|db| async move {
        let c = club(db).await;
        let target = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                status: "draft".into(),
                ..monthly("Next", "10")
            },
        )
        .await
        .unwrap();
        let renewing = MembershipTypeForm {
            term_kind: "fixed".into(),
            term_years: "1".into(),
            end_action: "renew_other".into(),
            renew_into: target.id.to_string(),
            ..monthly("This Year", "10")
        };
        catalog::create_membership_type(&c.s, &c.owner, &renewing)
            .await
            .unwrap();
        let err = catalog::delete_membership_type(&c.s, &c.owner, target.id)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Conflict(ref m) if m.contains("renews into")),
            "{err:?}"
        );
        assert!(
            catalog::membership_type(&c.s, &c.owner, target.id)
                .await
                .is_ok()
        );
    })
    .await;
}
