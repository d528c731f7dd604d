//! Repository and use-case tests. Each body runs on SQLite and, when
//! `TEST_POSTGRES_URL` is set, on PostgreSQL, each on a fresh database.

use backend::Actor;
use backend::auth;
use backend::business::{self, NewBusiness};
use backend::ops::demo;
use backend::testing::each_db;
use backend::{Clock, Db, Error, Services, catalog};
use chrono::{NaiveDate, TimeZone, Utc};
use domain::catalog::{MembershipTypeForm, TypeFilter, TypeStatus};
use domain::staff::Role;
use domain::{Currency, Money};

fn services(db: Db) -> Services {
    Services::new(
        db,
        Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()),
    )
}

async fn owner_of(s: &Services, name: &str, email: &str, currency: &str) -> Actor {
    let (business_id, staff_user_id) = business::create_owner(
        s,
        &NewBusiness {
            name,
            time_zone: "Europe/Berlin",
            currency,
        },
        email,
        "Owner",
        "a long enough password",
    )
    .await
    .expect("the owner is created");
    Actor::staff(business_id, staff_user_id, Role::Owner)
}

fn type_form(name: &str, fee: &str, status: &str) -> MembershipTypeForm {
    MembershipTypeForm {
        name: name.into(),
        purchase_type: "recurring".into(),
        billing_interval: "monthly".into(),
        fee: fee.into(),
        status: status.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_owner_signs_in_and_the_session_identifies_them() {
    each_db(|db| async move {
        let s = services(db);
        let owner = owner_of(&s, "Club", "Owner@Club.Example", "EUR").await;
        let session = auth::sign_in(&s, "  owner@club.example ", "a long enough password")
            .await
            .expect("signs in");
        let actor = auth::authenticate(&s, &session.token)
            .await
            .expect("the session is valid");
        assert_eq!(actor, owner);
        auth::sign_out(&s, &session.token).await.unwrap();
        assert!(matches!(
            auth::authenticate(&s, &session.token).await,
            Err(Error::Unauthenticated)
        ));
    })
    .await;
}

#[tokio::test]
async fn wrong_password_unknown_email_and_disabled_user_get_the_same_answer() {
    each_db(|db| async move {
        let s = services(db);
        let owner = owner_of(&s, "Club", "owner@club.example", "EUR").await;
        let wrong = auth::sign_in(&s, "owner@club.example", "not the password").await;
        assert!(matches!(wrong, Err(Error::SignInFailed)));
        let unknown = auth::sign_in(&s, "nobody@club.example", "a long enough password").await;
        assert!(matches!(unknown, Err(Error::SignInFailed)));
        assert_eq!(
            wrong.err().unwrap().to_string(),
            unknown.err().unwrap().to_string()
        );

        let session = auth::sign_in(&s, "owner@club.example", "a long enough password")
            .await
            .unwrap();
        let mut tx = s.db.begin_write().await.unwrap();
        auth::set_staff_disabled(
            &mut tx,
            owner.business_id,
            owner.staff_user_id().unwrap(),
            true,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(
            auth::sign_in(&s, "owner@club.example", "a long enough password").await,
            Err(Error::SignInFailed)
        ));
        assert!(matches!(
            auth::authenticate(&s, &session.token).await,
            Err(Error::Unauthenticated)
        ));
    })
    .await;
}

#[tokio::test]
async fn expired_sessions_no_longer_authenticate() {
    each_db(|db| async move {
        let s = services(db.clone());
        owner_of(&s, "Club", "owner@club.example", "EUR").await;
        let session = auth::sign_in(&s, "owner@club.example", "a long enough password")
            .await
            .unwrap();
        let later = Services::new(
            db,
            Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 22, 0, 0).unwrap()),
        );
        assert!(matches!(
            auth::authenticate(&later, &session.token).await,
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(
            auth::authenticate(&s, "not-a-token").await,
            Err(Error::Unauthenticated)
        ));
    })
    .await;
}

#[tokio::test]
async fn bad_business_settings_and_duplicate_staff_emails_are_refused() {
    each_db(|db| async move {
        let s = services(db);
        let err = business::create_owner(
            &s,
            &NewBusiness {
                name: " ",
                time_zone: "Mars/Olympus",
                currency: "XXX",
            },
            "a@b.c",
            "A",
            "long enough pw",
        )
        .await
        .unwrap_err();
        let Error::Invalid(invalid) = err else {
            panic!("expected validation errors, got {err:?}")
        };
        assert!(invalid.message_for("business_name").is_some());
        assert!(
            invalid
                .message_for("time_zone")
                .unwrap()
                .contains("Mars/Olympus")
        );
        assert!(invalid.message_for("currency").is_some());

        owner_of(&s, "Club", "owner@club.example", "EUR").await;
        let again = business::create_owner(
            &s,
            &NewBusiness {
                name: "Other",
                time_zone: "UTC",
                currency: "USD",
            },
            "OWNER@club.example",
            "B",
            "long enough pw",
        )
        .await;
        let Err(Error::Invalid(invalid)) = again else {
            panic!("expected a duplicate email error")
        };
        assert_eq!(
            invalid.message_for("email"),
            Some("a staff user with this email already exists")
        );
        assert_eq!(
            business::count_businesses(&s).await.unwrap(),
            1,
            "the failed bootstrap left nothing behind"
        );
    })
    .await;
}

#[tokio::test]
async fn membership_types_are_created_with_a_price_version_and_listed_in_display_order() {
    each_db(|db| async move {
        let s = services(db);
        let owner = owner_of(&s, "Club", "owner@club.example", "EUR").await;
        catalog::create_membership_type(&s, &owner, &type_form("Zumba", "20", "draft"))
            .await
            .unwrap();
        let adult =
            catalog::create_membership_type(&s, &owner, &type_form("Adult", "59,5", "active"))
                .await
                .unwrap();
        catalog::create_membership_type(&s, &owner, &type_form("Basic", "19.99", "active"))
            .await
            .unwrap();
        assert_eq!(
            adult.current_price().unwrap().fee,
            Money::new(5950, Currency::EUR)
        );

        let listed = catalog::list_membership_types(&s, &owner, &TypeFilter::default())
            .await
            .unwrap();
        let names: Vec<_> = listed.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["Adult", "Basic", "Zumba"],
            "active before draft, then display order"
        );
        assert_eq!(listed[0].id, adult.id);
        assert_eq!(listed[2].status, TypeStatus::Draft);
        assert_eq!(listed[1].fee.to_string(), "€19.99");
    })
    .await;
}

#[tokio::test]
async fn invalid_and_duplicate_types_are_refused_and_nothing_is_saved() {
    each_db(|db| async move {
        let s = services(db);
        let owner = owner_of(&s, "Club", "owner@club.example", "EUR").await;
        let err =
            catalog::create_membership_type(&s, &owner, &type_form("Adult", "59.999", "active"))
                .await
                .unwrap_err();
        let Error::Invalid(invalid) = err else {
            panic!("expected validation errors")
        };
        assert_eq!(
            invalid.message_for("fee"),
            Some("EUR amounts have at most 2 decimal places")
        );

        catalog::create_membership_type(&s, &owner, &type_form("Adult", "59", "active"))
            .await
            .unwrap();
        let err = catalog::create_membership_type(&s, &owner, &type_form("Adult", "65", "active"))
            .await
            .unwrap_err();
        let Error::Invalid(invalid) = err else {
            panic!("expected a duplicate name error")
        };
        assert_eq!(
            invalid.message_for("name"),
            Some("a membership type named \"Adult\" already exists")
        );
        assert_eq!(
            catalog::list_membership_types(&s, &owner, &TypeFilter::default())
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_viewer_and_the_front_desk_cannot_create_types() {
    each_db(|db| async move {
        let s = services(db);
        let owner = owner_of(&s, "Club", "owner@club.example", "EUR").await;
        for role in [Role::Viewer, Role::FrontDesk] {
            let staff = owner.with_role(role);
            let err =
                catalog::create_membership_type(&s, &staff, &type_form("Adult", "59", "active"))
                    .await
                    .unwrap_err();
            assert!(matches!(err, Error::Forbidden), "{role:?}");
            assert!(
                catalog::list_membership_types(&s, &staff, &TypeFilter::default())
                    .await
                    .unwrap()
                    .is_empty(),
                "{role:?} may read"
            );
        }
        let manager = owner.with_role(Role::Manager);
        assert!(
            catalog::create_membership_type(&s, &manager, &type_form("Adult", "59", "active"))
                .await
                .is_ok()
        );
    })
    .await;
}

#[tokio::test]
async fn staff_of_one_business_never_see_or_touch_another_business_types() {
    each_db(|db| async move {
        let s = services(db);
        let a = owner_of(&s, "Club A", "a@a.example", "EUR").await;
        let b = owner_of(&s, "Club B", "b@b.example", "JPY").await;
        let a_type = catalog::create_membership_type(&s, &a, &type_form("Adult", "59", "active"))
            .await
            .unwrap();
        // B can use the same name: names are unique per business only. B's fee is in yen.
        let b_type = catalog::create_membership_type(&s, &b, &type_form("Adult", "5900", "active"))
            .await
            .unwrap();
        assert_eq!(
            b_type.current_price().unwrap().fee,
            Money::new(5900, Currency::JPY)
        );

        let seen_by_b = catalog::list_membership_types(&s, &b, &TypeFilter::default())
            .await
            .unwrap();
        assert_eq!(
            seen_by_b.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![b_type.id]
        );
        assert!(matches!(
            catalog::membership_type(&s, &b, a_type.id).await,
            Err(Error::NotFound)
        ));
        assert_eq!(
            catalog::membership_type(&s, &a, a_type.id)
                .await
                .unwrap()
                .spec
                .name,
            "Adult"
        );
        // B's yen rules apply to B's writes: a fraction is refused.
        let err = catalog::create_membership_type(&s, &b, &type_form("Kids", "10.5", "active"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)));
    })
    .await;
}

#[tokio::test]
async fn only_an_owner_moves_the_simulated_date_and_it_changes_the_business_day() {
    each_db(|db| async move {
        let s = services(db);
        let owner = owner_of(&s, "Club", "owner@club.example", "EUR").await;
        let overview = business::staff_overview(&s, &owner).await.unwrap();
        assert_eq!(
            overview.today,
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        );
        assert!(!overview.simulated);

        let manager = owner.with_role(Role::Manager);
        let target = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        assert!(matches!(
            backend::jobs::set_simulated_date(&s, &manager, Some(target)).await,
            Err(Error::Forbidden)
        ));
        backend::jobs::set_simulated_date(&s, &owner, Some(target))
            .await
            .unwrap();
        let overview = business::staff_overview(&s, &manager).await.unwrap();
        assert_eq!((overview.today, overview.simulated), (target, true));
        backend::jobs::set_simulated_date(&s, &owner, None)
            .await
            .unwrap();
        assert!(
            !business::staff_overview(&s, &owner)
                .await
                .unwrap()
                .simulated
        );
    })
    .await;
}

#[tokio::test]
async fn the_demo_club_loads_once_with_counts_on_the_dashboard() {
    each_db(|db| async move {
        let s = services(db);
        assert!(demo::seed_demo(&s).await.unwrap());
        assert!(
            !demo::seed_demo(&s).await.unwrap(),
            "a second start does not load it again"
        );
        let session = auth::sign_in(&s, demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await
            .unwrap();
        let owner = auth::authenticate(&s, &session.token).await.unwrap();
        let counts = business::dashboard_counts(&s, &owner).await.unwrap();
        assert_eq!(counts.members, 25);
        assert_eq!(counts.membership_types, 11);
        assert_eq!(counts.active_membership_types, 10);
        assert!(
            counts.active_memberships >= 12 && counts.active_memberships <= 20,
            "{counts:?}"
        );
        // The demo shows every status a club meets, each with its reason.
        let all = backend::memberships::list_memberships(&s, &owner, &Default::default())
            .await
            .unwrap()
            .rows;
        let statuses: std::collections::BTreeSet<&str> =
            all.iter().map(|m| m.status.status.as_str()).collect();
        for status in [
            "active",
            "paused",
            "cancelling",
            "cancelled",
            "expired",
            "pending",
            "not_approved",
            "past_due",
            "suspended",
        ] {
            assert!(
                statuses.contains(status),
                "{status} missing from {statuses:?}"
            );
        }
        assert!(all.iter().any(|m| m.locked));
        // Money moved: cards were charged, a transfer was booked and partly refunded.
        let paid = backend::billing::list_invoices(
            &s,
            &owner,
            &domain::invoices::InvoiceFilter {
                status: "paid".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .rows;
        assert!(paid.len() > 20, "{} paid invoices", paid.len());
        // A card charge refunded in full reads "Refunded", in the list too.
        let mut all_invoices = Vec::new();
        for page in 1.. {
            let listed = backend::billing::list_invoices(
                &s,
                &owner,
                &domain::invoices::InvoiceFilter {
                    page: page.to_string(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let more = listed.has_next();
            all_invoices.extend(listed.rows);
            if !more {
                // The pages together are every invoice of the club, each once.
                assert_eq!(all_invoices.len() as i64, listed.total);
                assert!(listed.total > backend_page_size(), "{} invoices", listed.total);
                let mut ids: Vec<i64> = all_invoices.iter().map(|r| r.summary.id).collect();
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), all_invoices.len());
                break;
            }
        }
        assert!(
            all_invoices
                .iter()
                .any(|r| r.summary.state() == domain::invoices::InvoiceState::Refunded),
            "a refunded invoice"
        );
        // A mid-period type change: its credit and its charge on one invoice.
        let mut tx = s.db.begin_read().await.unwrap();
        let (changed,) = backend::query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT COUNT(*) FROM invoices i
              WHERE EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id AND l.kind = 'correction')
                AND EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id AND l.kind = 'recurring')
                AND i.credit_note_for IS NULL AND i.total_minor > 0"
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert!(changed >= 1, "a change invoice with its credit and charge");
        let dunning = backend::payments::dunning_list(&s, &owner).await.unwrap();
        assert!(dunning.len() >= 2, "{dunning:?}");
        // The scheduler's runs are listed; the deferred coworking plan and the
        // others are in the revenue report; every number adds up.
        let runs = backend::billing::runs(&s, &owner, "").await.unwrap();
        assert_eq!(runs.runs.rows.len(), 20);
        assert!(runs.runs.total > 20, "more runs on later pages: {}", runs.runs.total);
        let second = backend::billing::runs(&s, &owner, "2").await.unwrap();
        assert_ne!(second.runs.rows[0].id, runs.runs.rows[0].id);
        assert!(
            runs.runs
                .rows
                .iter()
                .all(|r| r.finished_at.is_some() && r.done == r.total)
        );
        let revenue = backend::billing::revenue_report(&s, &owner, &Default::default())
            .await
            .unwrap();
        assert!(
            revenue.rows.iter().any(|r| r.account == "4000"),
            "{revenue:?}"
        );
        assert!(
            all.iter().any(|m| m.type_name == "Spa Monthly"),
            "the membership whose billing date moved"
        );
        let report = backend::ops::check::check(&s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
        // Credits were granted each period to the types that give them.
        let mut tx = s.db.begin_read().await.unwrap();
        let kinds = backend::query!(
            &mut tx,
            fetch_all as (String,),
            "SELECT DISTINCT kind FROM credit_entries ORDER BY kind"
        )
        .unwrap();
        tx.commit().await.unwrap();
        let kinds: Vec<String> = kinds.into_iter().map(|(k,)| k).collect();
        assert!(kinds.contains(&"grant".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"redeem".to_string()), "{kinds:?}");
        // Bookings paid every way, one cancelled, one attended.
        let mut tx = s.db.begin_read().await.unwrap();
        let bookings = backend::query!(
            &mut tx,
            fetch_all as (String, String),
            "SELECT paid_by, status FROM bookings ORDER BY id"
        )
        .unwrap();
        tx.commit().await.unwrap();
        for (paid, status) in [
            ("credits", "attended"),
            ("credits", "booked"),
            ("allowance", "booked"),
            ("money", "booked"),
            ("money", "cancelled"),
        ] {
            assert!(
                bookings.contains(&(paid.to_string(), status.to_string())),
                "{paid} {status} in {bookings:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn ten_wrong_passwords_pause_an_account_for_fifteen_minutes_and_a_client_after_thirty() {
    each_db(|db| async move {
        let s = Services {
            sign_in_pause: std::time::Duration::ZERO,
            ..services(db)
        };
        business::create_owner(
            &s,
            &NewBusiness {
                name: "Club",
                time_zone: "Europe/Berlin",
                currency: "EUR",
            },
            "owner@club.example",
            "Olive Owner",
            "a long enough password",
        )
        .await
        .unwrap();
        for n in 1..=10 {
            let wrong = auth::sign_in_from(&s, "owner@club.example", "not it", "10.0.0.9").await;
            if n < 10 {
                assert!(matches!(wrong, Err(Error::SignInFailed)), "guess {n}");
            } else {
                assert!(matches!(wrong, Err(Error::TooMany(_))), "the tenth locks");
            }
        }
        assert!(matches!(
            auth::sign_in_from(
                &s,
                "owner@club.example",
                "a long enough password",
                "10.0.0.9"
            )
            .await,
            Err(Error::TooMany(_))
        ));
        // An unknown email locks the same way (no telling accounts apart).
        for _ in 0..10 {
            let _ = auth::sign_in_from(&s, "nobody@club.example", "x", "10.0.0.8").await;
        }
        assert!(matches!(
            auth::sign_in_from(&s, "nobody@club.example", "x", "10.0.0.8").await,
            Err(Error::TooMany(_))
        ));
        // Fifteen minutes later the right password works, and the count starts again.
        let later = Services {
            clock: Clock::fixed(
                s.clock.now() + auth::ATTEMPT_WINDOW + chrono::TimeDelta::seconds(1),
            ),
            ..s.clone()
        };
        auth::sign_in_from(
            &later,
            "owner@club.example",
            "a long enough password",
            "10.0.0.9",
        )
        .await
        .unwrap();
        // Thirty wrong passwords from one address stop it, whatever the emails.
        for i in 0..30 {
            let _ = auth::sign_in_from(&later, &format!("guess{i}@club.example"), "x", "192.0.2.1")
                .await;
        }
        assert!(matches!(
            auth::sign_in_from(
                &later,
                "owner@club.example",
                "a long enough password",
                "192.0.2.1"
            )
            .await,
            Err(Error::TooMany(_))
        ));
        let first = auth::FAILED_SIGN_IN_DELAY;
        assert_eq!(auth::failure_delay(first, 1).as_millis(), 400);
        assert_eq!(auth::failure_delay(first, 2).as_millis(), 800);
        assert_eq!(auth::failure_delay(first, 9).as_millis(), 6400);
    })
    .await;
}

/// A staff list's page size: the demo's invoices fill more than one page.
fn backend_page_size() -> i64 {
    domain::paging::PER_PAGE
}
