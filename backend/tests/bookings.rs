//! Bookings on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::Actor;
use backend::bookings;

use backend::credits;
use backend::memberships::HolderRef;
use backend::query;
use backend::testing::each_db;
use domain::bookings::{BookingForm, BookingStatus, ServiceForm};
use domain::credits::AdjustCommand;
use domain::lifecycle::sale::SellForm;
use domain::memberships::ActionForm;
use domain::staff::Role;
use support::{Club, club, d, yoga};

fn form(service: i64, membership: i64, day: &str, key: &str) -> BookingForm {
    BookingForm {
        service_id: service.to_string(),
        membership_id: membership.to_string(),
        day: day.into(),
        time: "18:00".into(),
        pay_with: String::new(),
        member_id: String::new(),
        key: key.into(),
    }
}

async fn give(c: &Club, membership: i64, n: &str) {
    credits::adjust(
        &c.s,
        &c.owner,
        membership,
        &AdjustCommand {
            amount: n.parse().unwrap(),
            reason: "class pack".into(),
            key: backend::engine::ledger::new_key(),
        },
    )
    .await
    .unwrap();
}

async fn member_with_membership(c: &Club, i: usize) -> i64 {
    let member = backend::members::create_member(
        &c.s,
        &c.owner,
        &domain::members::MemberForm {
            first_name: "Yogi".into(),
            last_name: format!("Number {i}"),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let types = backend::catalog::list_membership_types(&c.s, &c.owner, &Default::default())
        .await
        .unwrap();
    support::sell_form(
        &c.s,
        &c.owner,
        HolderRef::Member(member),
        &SellForm {
            type_id: types[0].id.to_string(),
            start: "2026-11-22".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn concurrent_bookings_never_overbook_a_slot() {
    each_db(|db| async move {
        let c = club(db).await;
        let service = yoga(&c, "5").await;
        let mut ids = Vec::new();
        for i in 0..12 {
            let m = member_with_membership(&c, i).await;
            give(&c, m, "2").await;
            ids.push(m);
        }
        let mut tasks = Vec::new();
        for (i, m) in ids.into_iter().enumerate() {
            let s = c.s.clone();
            let owner = c.owner;
            tasks.push(tokio::spawn(async move {
                bookings::book(
                    &s,
                    &owner,
                    &form(service, m, "2026-11-25", &format!("k{i}")),
                )
                .await
            }));
        }
        let mut booked = 0;
        let mut full = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => booked += 1,
                Err(backend::Error::Conflict(m)) => {
                    assert_eq!(
                        m,
                        "Yoga at 2026-11-25 18:00 is full: all 5 places are taken."
                    );
                    full += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((booked, full), (5, 7));
        let day = bookings::schedule(&c.s, &c.owner, Some(d(2026, 11, 25)), None)
            .await
            .unwrap();
        let slot = &day.slots[0];
        assert_eq!((slot.booked, slot.capacity, slot.bookings.len()), (5, 5, 5));
    })
    .await;
}

#[tokio::test]
async fn credits_pay_a_booking_come_back_inside_the_window_and_stay_after_it() {
    each_db(|db| async move {
        let c = club(db).await;
        let service = yoga(&c, "12").await;
        give(&c, c.membership, "3").await;
        let balance = |c: &Club| {
            let s = c.s.clone();
            let owner = c.owner;
            let m = c.membership;
            async move {
                credits::view(&s, &owner, m, &Default::default())
                    .await
                    .unwrap()
                    .balance
            }
        };
        // Booked on 2026-11-22 (a Sunday, 09:00) for Wednesday: one credit.
        let first = bookings::book(&c.s, &c.owner, &form(service, c.membership, "2026-11-25", "a")).await.unwrap();
        // The same request again books nothing more.
        assert_eq!(
            bookings::book(&c.s, &c.owner, &form(service, c.membership, "2026-11-25", "a")).await.unwrap(),
            first
        );
        assert_eq!(balance(&c).await, 2);
        let twice = bookings::book(&c.s, &c.owner, &form(service, c.membership, "2026-11-25", "b")).await;
        assert!(matches!(twice, Err(backend::Error::Conflict(m)) if m.starts_with("This member is already booked")));
        // Cancelled days ahead: the credit comes back.
        let effect = bookings::cancel(&c.s, &c.owner, first).await.unwrap();
        assert_eq!(effect, "Cancelled inside the 12-hour window: 1 credit given back.");
        assert_eq!(balance(&c).await, 3);
        let again = bookings::cancel(&c.s, &c.owner, first).await;
        assert!(matches!(again, Err(backend::Error::Conflict(_))));

        // Booked for Wednesday and cancelled on Wednesday morning (09:00 < 12 h before 18:00): kept, fee billed.
        let late = bookings::book(&c.s, &c.owner, &form(service, c.membership, "2026-11-25", "c")).await.unwrap();
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(d(2026, 11, 25))).await.unwrap();
        let effect = bookings::cancel(&c.s, &c.owner, late).await.unwrap();
        assert_eq!(
            effect,
            "Cancelled late (less than 12 hours before): the 1 credit are kept; a late fee of €5.00 is billed."
        );
        assert_eq!(balance(&c).await, 2);
        let mut tx = c.s.db.begin_read().await.unwrap();
        let fees = query!(&mut tx, fetch_all as (String, i64),
            "SELECT line_key, amount_minor FROM invoice_lines WHERE membership_id = $1 AND kind = 'fee'",
            c.membership).unwrap();
        tx.commit().await.unwrap();
        assert_eq!(fees, [(format!("late_fee:{late}"), 500)]);
        // Billing runs and the checker leave the fee alone.
        backend::billing::run_billing(&c.s, c.owner.business_id, d(2026, 12, 22)).await.unwrap();
        let report = backend::ops::check::check(&c.s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
    })
    .await;
}

#[tokio::test]
async fn a_paused_membership_cannot_book_and_money_bookings_are_invoiced_with_the_discount() {
    each_db(|db| async move {
        let c = club(db).await;
        let service = yoga(&c, "12").await;
        // No credits: paid with money, on an invoice of its own.
        let id = bookings::book(
            &c.s,
            &c.owner,
            &form(service, c.membership, "2026-11-25", "m"),
        )
        .await
        .unwrap();
        let list = bookings::of_membership(&c.s, &c.owner, c.membership, 1)
            .await
            .unwrap()
            .rows;
        assert_eq!(list[0].id, id);
        assert_eq!(list[0].paid_by.as_str(), "money");
        assert_eq!(list[0].price.map(|p| p.minor), Some(1500));
        assert!(list[0].invoice_id.is_some());
        // Paused from the 26th: Saturday's class is refused with the reason.
        support::act_form(
            &c.s,
            &c.owner,
            c.membership,
            &ActionForm {
                action: "pause".into(),
                from: "2026-11-26".into(),
                until: "2026-12-20".into(),
                reason: "travelling".into(),
                force: "on".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(d(2026, 11, 26)))
            .await
            .unwrap();
        let refused = bookings::book(
            &c.s,
            &c.owner,
            &BookingForm {
                time: "10:00".into(),
                ..form(service, c.membership, "2026-11-28", "p")
            },
        )
        .await;
        let Err(backend::Error::Conflict(m)) = refused else {
            panic!("a paused membership cannot book")
        };
        assert!(m.starts_with("A paused membership cannot book:"), "{m}");
        // Staff below front desk cannot book; another business's booking is not found.
        let viewer = c.owner.with_role(Role::Viewer);
        assert!(matches!(
            bookings::book(
                &c.s,
                &viewer,
                &form(service, c.membership, "2026-12-02", "v")
            )
            .await,
            Err(backend::Error::Forbidden)
        ));
        let stranger = Actor {
            business_id: c.owner.business_id + 1000,
            ..c.owner
        };
        assert!(bookings::cancel(&c.s, &stranger, id).await.is_err());
        // A slot not on the timetable is refused.
        let Err(backend::Error::Invalid(e)) = bookings::book(
            &c.s,
            &c.owner,
            &BookingForm {
                time: "07:00".into(),
                ..form(service, c.membership, "2026-12-02", "t")
            },
        )
        .await
        else {
            panic!("not on the timetable")
        };
        assert!(e.message_for("time").is_some());
        // Once the class has taken place it is marked attended.
        assert!(matches!(
            bookings::mark(&c.s, &c.owner, id, BookingStatus::Attended).await,
            Ok(())
        ));
    })
    .await;
}

#[tokio::test]
async fn an_organizations_authorized_members_book_with_its_shared_credits() {
    each_db(|db| async move {
        let c = club(db).await;
        let service = yoga(&c, "12").await;
        let org = backend::organizations::save_organization(
            &c.s,
            &c.owner,
            0,
            &domain::organizations::OrganizationForm {
                name: "Acme".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (number,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT member_number FROM members WHERE id = $1",
            c.member
        )
        .unwrap();
        tx.commit().await.unwrap();
        backend::organizations::authorize_member(&c.s, &c.owner, org, &number.to_string())
            .await
            .unwrap();
        let types = backend::catalog::list_membership_types(&c.s, &c.owner, &Default::default())
            .await
            .unwrap();
        let membership = support::sell_form(
            &c.s,
            &c.owner,
            HolderRef::Organization(org),
            &SellForm {
                type_id: types[0].id.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        give(&c, membership, "2").await;
        let Err(backend::Error::Invalid(e)) = bookings::book(
            &c.s,
            &c.owner,
            &form(service, membership, "2026-11-25", "o1"),
        )
        .await
        else {
            panic!("an organization's booking names its member")
        };
        assert!(e.message_for("member_id").is_some());
        let outsider = member_with_membership(&c, 99).await;
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (outsider_member,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT member_id FROM memberships WHERE id = $1",
            outsider
        )
        .unwrap();
        tx.commit().await.unwrap();
        let refused = bookings::book(
            &c.s,
            &c.owner,
            &BookingForm {
                member_id: outsider_member.to_string(),
                ..form(service, membership, "2026-11-25", "o2")
            },
        )
        .await;
        assert!(matches!(refused, Err(backend::Error::Invalid(_))));
        bookings::book(
            &c.s,
            &c.owner,
            &BookingForm {
                member_id: c.member.to_string(),
                ..form(service, membership, "2026-11-25", "o3")
            },
        )
        .await
        .unwrap();
        let page = bookings::booking_page(&c.s, &c.owner, membership, None, None, 1)
            .await
            .unwrap();
        assert_eq!(page.holder, "Acme");
        assert_eq!(page.users, [(c.member, "Ada Lovelace".to_string())]);
        assert_eq!(page.credit_balance, 1, "the organization's credits paid");
        assert_eq!(page.bookings.rows[0].member, "Ada Lovelace");

        // In the portal, Ada sees her own use of the credits; a colleague
        // sees the credits used, not who booked what.
        let ben = backend::members::create_member(
            &c.s,
            &c.owner,
            &domain::members::MemberForm {
                first_name: "Ben".into(),
                last_name: "Colleague".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (ben_number,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT member_number FROM members WHERE id = $1",
            ben
        )
        .unwrap();
        tx.commit().await.unwrap();
        backend::organizations::authorize_member(&c.s, &c.owner, org, &ben_number.to_string())
            .await
            .unwrap();
        let as_member = |member_id| backend::portal::Member {
            business_id: c.owner.business_id,
            member_id,
        };
        let ada_view = backend::portal::membership(&c.s, as_member(c.member), membership, 1)
            .await
            .unwrap();
        let ada_redeem = ada_view
            .credits
            .iter()
            .find(|e| e.amount < 0)
            .expect("the redemption is in the history");
        assert!(ada_redeem.booking_id.is_some());
        assert_ne!(ada_redeem.by, "another member");
        let ben_view = backend::portal::membership(&c.s, as_member(ben), membership, 1)
            .await
            .unwrap();
        let ben_sees = ben_view
            .credits
            .iter()
            .find(|e| e.amount < 0)
            .expect("the redemption is in the history");
        assert_eq!(ben_sees.amount, ada_redeem.amount);
        assert_eq!(ben_sees.by, "another member");
        assert_eq!(
            ben_sees.reason,
            "Used by another member of your organization"
        );
        assert_eq!(ben_sees.booking_id, None);
        assert!(!ben_view.credits.iter().any(|e| e.reason.contains("Ada")));
    })
    .await;
}

async fn count_bookings(c: &Club) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (n,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM bookings"
    )
    .unwrap();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn an_included_use_pays_first_money_comes_back_in_time_and_bad_requests_book_nothing() {
    each_db(|db| async move {
        let c = club(db).await;
        let service = yoga(&c, "12").await;
        let spa = backend::catalog::create_membership_type(
            &c.s,
            &c.owner,
            &domain::catalog::MembershipTypeForm {
                name: "Studio Monthly".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "40".into(),
                status: "active".into(),
                included_services: "Yoga: 1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let membership = support::sell_form(
            &c.s,
            &c.owner,
            HolderRef::Member(c.member),
            &SellForm {
                type_id: spa.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let sat = |key: &str| BookingForm {
            time: "10:00".into(),
            ..form(service, membership, "2026-11-28", key)
        };
        // The included class pays the first booking; the second is paid with money.
        let included = bookings::book(&c.s, &c.owner, &form(service, membership, "2026-11-25", "i1")).await.unwrap();
        let paid = bookings::book(&c.s, &c.owner, &sat("i2")).await.unwrap();
        let list = bookings::of_membership(&c.s, &c.owner, membership, 1).await.unwrap().rows;
        let how: Vec<(i64, &str)> = list.iter().map(|b| (b.id, b.paid_by.as_str())).collect();
        assert_eq!(how, [(paid, "money"), (included, "allowance")]);
        // Cancelled in time, the included use and the money come back.
        assert_eq!(
            bookings::cancel(&c.s, &c.owner, included).await.unwrap(),
            "Cancelled inside the 12-hour window: the included use is given back."
        );
        assert_eq!(
            bookings::cancel(&c.s, &c.owner, paid).await.unwrap(),
            "Cancelled inside the 12-hour window: €15.00 credited to the account."
        );
        let mut tx = c.s.db.begin_read().await.unwrap();
        let fees = query!(&mut tx, fetch_all as (String, i64),
            "SELECT line_key, amount_minor FROM invoice_lines WHERE membership_id = $1 AND kind = 'fee' ORDER BY id",
            membership).unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            fees,
            [(format!("booking:{paid}"), 1500), (format!("booking_cancelled:{paid}"), -1500)]
        );
        let again = bookings::book(&c.s, &c.owner, &sat("i3")).await.unwrap();
        let list = bookings::of_membership(&c.s, &c.owner, membership, 1).await.unwrap().rows;
        assert_eq!(list.iter().find(|b| b.id == again).map(|b| b.paid_by.as_str()), Some("allowance"));
        // Marking waits for the start.
        let Err(backend::Error::Conflict(m)) =
            bookings::mark(&c.s, &c.owner, again, BookingStatus::NoShow).await
        else {
            panic!("not before it starts")
        };
        assert_eq!(m, "This booking starts at 2026-11-28 10:00: mark it once it has started.");

        // Bad requests are answered and book nothing.
        let before = count_bookings(&c).await;
        let Err(backend::Error::Invalid(e)) = bookings::book(&c.s, &c.owner, &BookingForm::default()).await else {
            panic!("an empty form is refused")
        };
        assert!(e.message_for("service_id").is_some() && e.message_for("day").is_some());
        bookings::set_service_active(&c.s, &c.owner, service, false).await.unwrap();
        let Err(backend::Error::Invalid(e)) =
            bookings::book(&c.s, &c.owner, &form(service, membership, "2026-12-02", "off")).await
        else {
            panic!("a service off the schedule is not booked")
        };
        assert_eq!(e.message_for("service_id"), Some("choose a service on the schedule"));
        assert_eq!(count_bookings(&c).await, before);
        let day = bookings::schedule(&c.s, &c.owner, Some(d(2026, 12, 2)), None).await.unwrap();
        assert!(day.slots.is_empty(), "off the schedule");
        let Err(backend::Error::Invalid(e)) = bookings::create_service(&c.s, &c.owner, &ServiceForm {
            name: "Yoga".into(),
            kind: "class".into(),
            duration_minutes: "60".into(),
            capacity: "5".into(),
            timetable: "Mon 07:00".into(),
            ..Default::default()
        })
        .await
        else {
            panic!("names are unique")
        };
        assert_eq!(e.message_for("name"), Some("a service of this name exists already"));
    })
    .await;
}

/// A member's bookings page in SQL, newest first, wherever they are listed:
/// the portal's list, a membership's booking page (staff and portal) and the
/// portal's membership page. 120 bookings fill three pages of 50; every
/// booking is listed once, and a bad page is refused.
#[tokio::test]
async fn a_member_s_bookings_page_through_every_booking_newest_first() {
    each_db(|db| async move {
        let c = club(db).await;
        let service = yoga(&c, "10").await;
        let mut tx = c.s.db.begin_write().await.unwrap();
        for i in 0..120i64 {
            let starts = d(2026, 1, 1).and_hms_opt(7, 0, 0).unwrap() + chrono::TimeDelta::days(i);
            query!(&mut tx, execute,
                "INSERT INTO bookings (business_id, service_id, member_id, membership_id, starts_at, ends_at, status, paid_by, booked_by, idempotency_key, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'attended', 'free', 'test', $7, $8)",
                c.owner.business_id, service, c.member, c.membership, starts,
                starts + chrono::TimeDelta::hours(1), format!("paging-{i}"), c.s.clock.now()).unwrap();
        }
        tx.commit().await.unwrap();
        let me = backend::portal::Member {
            business_id: c.owner.business_id,
            member_id: c.member,
        };
        let mut seen = Vec::new();
        for page in ["", "2", "3"] {
            let listed = backend::portal::bookings(&c.s, me, "", page).await.unwrap();
            assert_eq!((listed.total, listed.per_page), (120, 50));
            seen.extend(listed.rows.iter().map(|b| b.starts));
        }
        assert_eq!(seen.len(), 120, "each booking once");
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first across the pages");
        assert_eq!(seen[0].date(), d(2026, 4, 30));
        let fourth = backend::portal::bookings(&c.s, me, "", "4").await.unwrap();
        assert!(fourth.rows.is_empty());
        let attended = backend::portal::bookings(&c.s, me, "attended", "3").await.unwrap();
        assert_eq!((attended.total, attended.rows.len()), (120, 20));
        let cancelled = backend::portal::bookings(&c.s, me, "cancelled", "").await.unwrap();
        assert_eq!(cancelled.total, 0);
        assert!(matches!(
            backend::portal::bookings(&c.s, me, "", "0").await,
            Err(backend::Error::Invalid(_))
        ));

        let staff = bookings::booking_page(&c.s, &c.owner, c.membership, None, None, 3)
            .await
            .unwrap();
        assert_eq!((staff.bookings.total, staff.bookings.rows.len()), (120, 20));
        assert_eq!(staff.bookings.rows.last().map(|b| b.starts.date()), Some(d(2026, 1, 1)));
        let portal_page = backend::portal::membership(&c.s, me, c.membership, 2).await.unwrap();
        assert_eq!((portal_page.bookings.total, portal_page.bookings.rows.len()), (120, 50));
        let booking_page = backend::portal::booking_page(&c.s, me, c.membership, None, None, 1)
            .await
            .unwrap();
        assert_eq!(booking_page.bookings.total, 120);
    })
    .await;
}
