//! The status projection stored on each membership's row: written with every
//! change, advanced by the daily work on the day it said, and verified by
//! `server check`, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::ops::{check, demo};
use backend::payments::{self, Account, Charged};
use backend::testing::each_db;
use backend::{Actor, Clock, Services, auth, memberships, query};
use chrono::{Days, TimeZone, Utc};
use domain::lifecycle::Status;
use domain::memberships::MembershipFilter;
use domain::payments::CardForm;
use support::{club, d, invoice_id};

/// (status, reason, amount overdue) stored on the row.
async fn stored(s: &Services, id: i64) -> (String, String, i64) {
    let mut tx = s.db.begin_read().await.unwrap();
    let row = query!(
        &mut tx,
        fetch_one as (String, String, i64),
        "SELECT status, status_reason, overdue_minor FROM memberships WHERE id = $1",
        id
    )
    .unwrap();
    tx.commit().await.unwrap();
    row
}

/// Every membership's stored status is the status its page computes, and
/// the checker finds nothing to report and nothing waiting.
async fn all_agree(s: &Services, owner: &Actor, when: &str) {
    let report = check::check(s).await.unwrap();
    assert_eq!(report.violations, [], "{when}: {report:?}");
    assert_eq!(
        report.projections_due, 0,
        "{when}: nothing waits after the daily work"
    );
    let mut tx = s.db.begin_read().await.unwrap();
    let rows = query!(
        &mut tx,
        fetch_all as (i64, String),
        "SELECT id, status FROM memberships WHERE business_id = $1",
        owner.business_id
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert!(!rows.is_empty());
    let mut pages = std::collections::HashMap::new();
    for (id, status) in rows {
        let page = memberships::membership(s, owner, id).await.unwrap();
        assert_eq!(
            status,
            page.status.status.as_str(),
            "{when}: membership {id} ({})",
            page.status.explanation
        );
        pages.insert(id, page);
    }
    // The list shows each row's stored status as the page computes it:
    // since, until and the explanation too, and the lock.
    let mut listed = 0;
    for n in 1.. {
        let filter = MembershipFilter {
            page: n.to_string(),
            ..Default::default()
        };
        let list = memberships::list_memberships(s, owner, &filter)
            .await
            .unwrap();
        if list.rows.is_empty() {
            break;
        }
        for row in list.rows {
            let page = &pages[&row.id];
            assert_eq!(row.status, page.status, "{when}: membership {}", row.id);
            assert_eq!(row.locked, page.locked, "{when}: membership {}", row.id);
            listed += 1;
        }
    }
    assert_eq!(
        listed,
        pages.len(),
        "{when}: the list shows every membership"
    );
}

#[tokio::test]
async fn the_demo_clubs_stored_statuses_follow_their_days_for_two_months() {
    each_db(|db| async move {
        let s = Services::new(
            db,
            Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()),
        );
        assert!(demo::seed_demo(&s).await.unwrap());
        let session = auth::sign_in(&s, demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await
            .unwrap();
        let owner = auth::authenticate(&s, &session.token).await.unwrap();
        backend::jobs::day_work(&s, owner.business_id)
            .await
            .unwrap();
        all_agree(&s, &owner, "after the demo loads").await;
        // A week at a time: pauses begin and end, cancellations take effect,
        // invoices fall past due, terms expire.
        let mut day = d(2026, 11, 22);
        for _ in 0..9 {
            day = day + Days::new(7);
            backend::jobs::set_simulated_date(&s, &owner, Some(day))
                .await
                .unwrap();
            all_agree(&s, &owner, &day.to_string()).await;
        }
        // Back to an earlier day: every row is recomputed for it.
        backend::jobs::set_simulated_date(&s, &owner, Some(d(2026, 12, 1)))
            .await
            .unwrap();
        all_agree(&s, &owner, "moved back to 2026-12-01").await;
    })
    .await;
}

#[tokio::test]
async fn a_declined_card_moves_the_stored_status_to_past_due_and_suspended_and_paying_restores_it_in_the_same_step()
 {
    each_db(|db| async move {
        let c = club(db).await;
        let account = Account::Member(c.member);
        payments::add_card(
            &c.s,
            &c.owner,
            account,
            &CardForm {
                number: "4000 0000 0000 0002".into(),
                expiry: "12/30".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(
            stored(&c.s, c.membership).await,
            ("active".into(), "running".into(), 0)
        );
        let at = |day| backend::jobs::set_simulated_date(&c.s, &c.owner, Some(day));
        at(d(2026, 11, 22)).await.unwrap();
        // Invoice #1 (74.00) is due on its billing day: overdue from the next.
        at(d(2026, 11, 23)).await.unwrap();
        assert_eq!(
            stored(&c.s, c.membership).await,
            ("active".into(), "running".into(), 7400)
        );
        at(d(2026, 11, 25)).await.unwrap();
        assert_eq!(
            stored(&c.s, c.membership).await,
            ("past_due".into(), "unpaid_past_due".into(), 7400)
        );
        at(d(2026, 12, 6)).await.unwrap();
        assert_eq!(
            stored(&c.s, c.membership).await,
            ("suspended".into(), "unpaid_suspended".into(), 7400)
        );
        all_agree(&c.s, &c.owner, "suspended").await;

        // Paid at the desk by a good card: the row says so at once, before
        // any daily work.
        payments::add_card(
            &c.s,
            &c.owner,
            account,
            &CardForm {
                number: "4242 4242 4242 4242".into(),
                expiry: "12/30".into(),
            },
        )
        .await
        .unwrap();
        let first = invoice_id(&c, 1).await;
        let charged = payments::charge_card(&c.s, &c.owner, first, None, "c1")
            .await
            .unwrap();
        assert!(matches!(charged, Charged::Succeeded(_)), "{charged:?}");
        assert_eq!(
            stored(&c.s, c.membership).await,
            ("active".into(), "running".into(), 0)
        );
        all_agree(&c.s, &c.owner, "paid").await;
    })
    .await;
}

#[tokio::test]
async fn the_checker_reports_a_stored_status_that_is_not_what_the_events_say() {
    each_db(|db| async move {
        let c = club(db).await;
        assert_eq!(check::check(&c.s).await.unwrap().violations, []);
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "UPDATE memberships SET status = 'paused', overdue_minor = 100 WHERE id = $1",
            c.membership
        )
        .unwrap();
        tx.commit().await.unwrap();
        let report = check::check(&c.s).await.unwrap();
        let messages: Vec<&str> = report.violations.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(
            messages,
            [format!(
                "membership {}: the stored projection differs from its events and invoices on 2026-11-22: status is paused but computes to active; amount overdue is 100 but computes to 0",
                c.membership
            )]
        );
        let page = memberships::membership(&c.s, &c.owner, c.membership)
            .await
            .unwrap();
        assert_eq!(page.status.status, Status::Active, "the page explains from the events");
    })
    .await;
}

#[tokio::test]
async fn the_checker_reports_a_stored_explanation_or_lock_that_is_not_what_the_events_say() {
    each_db(|db| async move {
        let c = club(db).await;
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "UPDATE memberships SET status_explanation = 'stale', locked = $1 WHERE id = $2",
            true,
            c.membership
        )
        .unwrap();
        tx.commit().await.unwrap();
        let report = check::check(&c.s).await.unwrap();
        let messages: Vec<&str> = report
            .violations
            .iter()
            .map(|v| v.message.as_str())
            .collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("explanation is \"stale\" but computes to \"active"),
            "{messages:?}"
        );
        assert!(
            messages[0].ends_with("locked is true but computes to false"),
            "{messages:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_member_page_recomputes_a_row_whose_day_came_before_the_daily_work_advanced_it() {
    each_db(|db| async move {
        let c = club(db).await;
        let shown = |s: Services, owner: Actor, member: i64| async move {
            let view = backend::members::member(&s, &owner, member).await.unwrap();
            assert_eq!(view.memberships.rows.len(), 1);
            view.memberships.rows[0].status.clone()
        };
        let before = shown(c.s.clone(), c.owner, c.member).await;
        assert_eq!(before.status, Status::Active);
        assert!(!before.explanation.is_empty());
        // The row as it stood before a day that changes it: stale words,
        // due for recomputation since long ago.
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "UPDATE memberships SET status = 'paused', status_explanation = 'stale', status_changes_on = $1 WHERE id = $2",
            d(1970, 1, 1),
            c.membership
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(shown(c.s.clone(), c.owner, c.member).await, before);
        // Untouched otherwise: the row itself waits for the daily work.
        assert_eq!(stored(&c.s, c.membership).await.0, "paused");
    })
    .await;
}

/// `n` more memberships of the club's member written as rows (as an import
/// would), starting a day apart from 2026-01-01, their projections not yet
/// computed.
async fn more_rows(c: &support::Club, n: u64) {
    let mut tx = c.s.db.begin_write().await.unwrap();
    let (type_id, price_id) = query!(
        &mut tx,
        fetch_one as (i64, i64),
        "SELECT membership_type_id, price_id FROM memberships WHERE id = $1",
        c.membership
    )
    .unwrap();
    let now = c.s.clock.now();
    for k in 0..n {
        let start = d(2026, 1, 1) + Days::new(k);
        let (id,) = query!(&mut tx, fetch_one as (i64,),
            "INSERT INTO memberships (business_id, member_id, membership_type_id, price_id, start_date, payer, version, created_at,
                                      current_type_id, current_price_id, status_changes_on)
             VALUES ($1, $2, $3, $4, $5, 'member', 0, $6, $3, $4, $7) RETURNING id",
            c.owner.business_id, c.member, type_id, price_id, start, now, d(1970, 1, 1))
        .unwrap();
        let event = format!(r#"{{"kind":"sold","start":"{start}","approval_required":false}}"#);
        query!(&mut tx, execute,
            "INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, actor, actor_label, recorded_at)
             VALUES ($1, $2, 'sold', $3, $4, 'system', 'the system', $5)",
            c.owner.business_id, id, start, event, now)
        .unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_member_page_pages_through_more_memberships_than_it_shows_at_once() {
    each_db(|db| async move {
        let c = club(db).await;
        more_rows(&c, 59).await;
        let page = |n: i64| {
            let (s, owner, member) = (c.s.clone(), c.owner, c.member);
            async move {
                backend::members::member_page(&s, &owner, member, n)
                    .await
                    .unwrap()
                    .memberships
            }
        };
        let first = page(1).await;
        assert_eq!(
            (first.total, first.rows.len(), first.has_next()),
            (60, 50, true)
        );
        let second = page(2).await;
        assert_eq!(
            (second.total, second.rows.len(), second.has_next()),
            (60, 10, false)
        );
        let mut ids: Vec<i64> = first
            .rows
            .iter()
            .chain(&second.rows)
            .map(|m| m.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 60, "every membership once");
        assert!(ids.contains(&c.membership));
        // Each shown as its events say, though the daily work never ran.
        assert!(
            first
                .rows
                .iter()
                .chain(&second.rows)
                .all(|m| !m.status.explanation.is_empty())
        );
        let beyond = page(3).await;
        assert_eq!((beyond.total, beyond.rows.len()), (60, 0));
    })
    .await;
}

#[tokio::test]
async fn the_staff_list_counts_every_match_and_pages_through_all_of_them_in_sql() {
    each_db(|db| async move {
        let c = club(db).await;
        // 230 more memberships written as rows (as an import would), their
        // projections not yet computed: the list brings them up to date
        // before it filters on them.
        more_rows(&c, 230).await;

        let list = |filter: MembershipFilter| {
            let (s, owner) = (c.s.clone(), c.owner);
            async move { memberships::list_memberships(&s, &owner, &filter).await }
        };
        let page = |n: &str| MembershipFilter {
            page: n.into(),
            ..Default::default()
        };
        let first = list(page("")).await.unwrap();
        assert_eq!((first.total, first.page, first.pages()), (231, 1, 3));
        assert_eq!(first.rows.len(), 100);
        assert_eq!(first.range_text(), "1–100 of 231");
        let mut seen: Vec<i64> = first.rows.iter().map(|m| m.id).collect();
        for n in ["2", "3"] {
            let next = list(page(n)).await.unwrap();
            assert_eq!(next.total, 231);
            seen.extend(next.rows.iter().map(|m| m.id));
        }
        let last = list(page("3")).await.unwrap();
        assert_eq!((last.rows.len(), last.has_next()), (31, false));
        // Newest first, every membership once.
        let starts: Vec<_> = first.rows.iter().map(|m| m.start).collect();
        assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (231, 231));
        // Filters and the count run on the stored (now computed) status.
        let active = list(MembershipFilter {
            status: "active".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        assert_eq!(active.total, 231);
        assert!(
            active
                .rows
                .iter()
                .all(|m| m.status.status == Status::Active)
        );
        let paused = list(MembershipFilter {
            status: "paused".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        assert_eq!((paused.total, paused.rows.len()), (0, 0));
        // Past the last page: an empty page that still counts; a bad page is named.
        let beyond = list(page("9")).await.unwrap();
        assert_eq!((beyond.total, beyond.rows.len()), (231, 0));
        let error = list(page("0")).await.unwrap_err();
        assert!(format!("{error:?}").contains("page"), "{error:?}");
        // (Their billing never ran, which the checker reports too: only the
        // projection matters here.)
        let report = check::check(&c.s).await.unwrap();
        let stale: Vec<_> = report
            .violations
            .iter()
            .filter(|v| v.message.contains("computes to"))
            .collect();
        assert!(stale.is_empty(), "{stale:?}");
        assert_eq!(report.projections_due, 0);
    })
    .await;
}

#[tokio::test]
async fn the_list_benchmark_builds_its_business_and_times_every_list_query() {
    each_db(|db| async move {
        let s = Services::new(
            db,
            Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()),
        );
        let r = backend::ops::bench_lists::bench_lists(&s, 300, 3)
            .await
            .unwrap();
        assert_eq!(r.memberships, 300);
        assert_eq!(
            r.timings.len(),
            17,
            "three bare selects, seven list queries, a member's page, five searches and the API's members"
        );
        assert!(r.timings[0].name.starts_with("bare"));
        // Each list is compared with the bare select of at least as many
        // rows that skips as many.
        let bare: Vec<_> = r.timings.iter().take(3).cloned().collect();
        assert_eq!((bare[0].rows, bare[1].rows), (20, 100));
        assert_eq!((bare[1].skips, bare[2].skips), (0, 10_000));
        let offset = r.timings.iter().find(|t| t.name.contains("(offset)")).unwrap();
        assert_eq!(offset.skips, 10_000);
        let of_deep = offset.p95.as_secs_f64() / bare[2].p95.as_secs_f64();
        assert!((offset.over_bare(&bare) - of_deep).abs() < 1e-9);
        let staff = r.timings.iter().find(|t| t.name.starts_with("staff")).unwrap();
        assert_eq!(staff.rows, 100);
        let of_bare100 = staff.p95.as_secs_f64() / bare[1].p95.as_secs_f64();
        assert!((staff.over_bare(&bare) - of_bare100).abs() < 1e-9);
        assert_eq!(
            r.timings
                .iter()
                .filter(|t| t.name.starts_with("search"))
                .count(),
            5
        );
        // The kept counts the lists' totals read agree with the rows.
        let report = check::check(&s).await.unwrap();
        let counts: Vec<_> = report
            .violations
            .iter()
            .filter(|v| v.message.contains("kept count"))
            .collect();
        assert!(counts.is_empty(), "{counts:?}");
        // The spread of statuses it wrote is what the lists find.
        let mut tx = s.db.begin_read().await.unwrap();
        let statuses = query!(
            &mut tx,
            fetch_all as (String, i64),
            "SELECT status, COUNT(*) FROM memberships GROUP BY status ORDER BY status"
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            statuses,
            [
                ("active".to_string(), 210),
                ("cancelling".to_string(), 15),
                ("expired".to_string(), 15),
                ("past_due".to_string(), 15),
                ("paused".to_string(), 30),
                ("suspended".to_string(), 15)
            ]
        );
    })
    .await;
}
