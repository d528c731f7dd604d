//! Recurring services and their visits on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::testing::each_db;
use backend::visits;
use domain::visits::{
    RecurringServiceForm, ScheduleVisitForm, ServiceAddressForm, VisitFilter, VisitStatus,
};
use support::{club, d};

#[tokio::test]
async fn a_membership_s_visits_are_generated_a_year_ahead_scheduled_and_completed() {
    each_db(|db| async move {
        let c = club(db).await;
        let types = backend::catalog::list_membership_types(&c.s, &c.owner, &Default::default())
            .await
            .unwrap();
        let service = visits::create_service(
            &c.s,
            &c.owner,
            &RecurringServiceForm {
                name: "Fitness assessment".into(),
                visits_per_year: "2".into(),
                duration_minutes: "45".into(),
                type_id: types[0].id.to_string(),
            },
        )
        .await
        .unwrap();
        let address = |membership: i64| ServiceAddressForm {
            membership_id: membership.to_string(),
            recurring_service_id: service.to_string(),
            address: "12 Harbour Street".into(),
            first_due: "2026-12-15".into(),
        };
        visits::add_address(&c.s, &c.owner, &address(c.membership)).await.unwrap();
        // Running the daily part again writes nothing twice.
        assert_eq!(backend::jobs::visits_work(&c.s, c.owner.business_id).await.unwrap(), 0);
        let page = visits::page(&c.s, &c.owner, &VisitFilter::default()).await.unwrap();
        let due: Vec<_> = page.visits.rows.iter().map(|v| (v.due_on, v.status)).collect();
        assert_eq!(
            due,
            [
                (d(2026, 12, 15), VisitStatus::NotScheduled),
                (d(2027, 6, 15), VisitStatus::NotScheduled)
            ]
        );
        assert_eq!(page.visits.rows[0].holder, "Ada Lovelace");
        assert_eq!(page.services[0].1, "Fitness assessment");
        let first = page.visits.rows[0].id;
        let second = page.visits.rows[1].id;

        // Completing before scheduling is refused; a past day is refused.
        let at = |day: &str| ScheduleVisitForm {
            day: day.into(),
            time: "09:30".into(),
        };
        assert!(matches!(
            visits::change(&c.s, &c.owner, first, VisitStatus::Completed, &at("")).await,
            Err(backend::Error::Conflict(m)) if m == "Schedule the visit before completing it."
        ));
        assert!(matches!(
            visits::change(&c.s, &c.owner, first, VisitStatus::Scheduled, &at("2026-11-01")).await,
            Err(backend::Error::Invalid(_))
        ));
        visits::change(&c.s, &c.owner, first, VisitStatus::Scheduled, &at("2026-12-16")).await.unwrap();
        // The day's schedule lists it with the classes.
        let day = backend::bookings::schedule(&c.s, &c.owner, Some(d(2026, 12, 16)), None)
            .await
            .unwrap();
        assert_eq!(day.visits.len(), 1);
        assert_eq!(day.visits[0].address, "12 Harbour Street");
        visits::change(&c.s, &c.owner, first, VisitStatus::Completed, &at("")).await.unwrap();
        visits::change(&c.s, &c.owner, second, VisitStatus::Cancelled, &at("")).await.unwrap();
        assert!(matches!(
            visits::change(&c.s, &c.owner, second, VisitStatus::Scheduled, &at("2027-06-15")).await,
            Err(backend::Error::Conflict(_))
        ));
        let done = visits::page(&c.s, &c.owner, &VisitFilter { status: "completed".into(), ..Default::default() })
            .await
            .unwrap();
        assert_eq!((done.visits.total, done.visits.rows.len()), (1, 1));
        assert_eq!(done.visits.rows[0].scheduled_at.map(|t| t.to_string()), Some("2026-12-16 09:30:00".into()));
        let in_june = visits::page(&c.s, &c.owner, &VisitFilter { from: "2027-06-01".into(), to: "2027-06-30".into(), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(in_june.visits.rows.len(), 1);

        // A type that does not include the service is refused; another business sees nothing.
        let other = backend::catalog::create_membership_type(
            &c.s,
            &c.owner,
            &domain::catalog::MembershipTypeForm {
                name: "Swim".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "20".into(),
                status: "active".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let swim = support::sell_form(
            &c.s,
            &c.owner,
            backend::memberships::HolderRef::Member(c.member),
            &domain::lifecycle::sale::SellForm {
                type_id: other.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            visits::add_address(&c.s, &c.owner, &address(swim)).await,
            Err(backend::Error::Conflict(m)) if m == "This membership's type does not include Fitness assessment."
        ));
        let stranger = backend::Actor { business_id: c.owner.business_id + 1000, ..c.owner };
        assert!(visits::change(&c.s, &stranger, first, VisitStatus::Cancelled, &at("")).await.is_err());

        // Every visit can be reached, a hundred to a page (no 500-row cut).
        let mut tx = c.s.db.begin_write().await.unwrap();
        let (address_id,) = backend::query!(&mut tx, fetch_one as (i64,),
            "SELECT service_address_id FROM service_visits WHERE id = $1", first).unwrap();
        for week in 1..=600u64 {
            backend::query!(&mut tx, execute,
                "INSERT INTO service_visits (business_id, service_address_id, due_on, status, changed_at)
                 VALUES ($1, $2, $3, 'not_scheduled', $4)",
                c.owner.business_id, address_id, d(2028, 1, 1) + chrono::Days::new(week), c.s.clock.now()).unwrap();
        }
        tx.commit().await.unwrap();
        let open = |page: &str| VisitFilter { status: "not_scheduled".into(), page: page.into(), ..Default::default() };
        let first_page = visits::page(&c.s, &c.owner, &open("")).await.unwrap().visits;
        assert_eq!((first_page.total, first_page.rows.len()), (600, 100));
        let last = visits::page(&c.s, &c.owner, &open("6")).await.unwrap().visits;
        assert_eq!(last.rows.len(), 100);
        assert_eq!(last.rows.last().unwrap().due_on, d(2028, 1, 1) + chrono::Days::new(600));
        assert!(visits::page(&c.s, &c.owner, &open("7")).await.unwrap().visits.rows.is_empty());
        assert!(matches!(
            visits::page(&c.s, &c.owner, &open("0")).await,
            Err(backend::Error::Invalid(_))
        ));
    })
    .await;
}
