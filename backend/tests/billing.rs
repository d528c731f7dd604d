//! The billing run on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::billing;
use backend::memberships;
use backend::query;
use backend::testing::each_db;
use chrono::NaiveDate;
use domain::memberships::ActionForm;
use support::{Club, club, d, invoice_id, on_day};

async fn invoices(c: &Club) -> Vec<(i64, NaiveDate, i64)> {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let rows = query!(&mut tx, fetch_all as (i64, NaiveDate, i64),
        "SELECT number, billing_date, total_minor FROM invoices WHERE membership_id = $1 ORDER BY number",
        c.membership).unwrap();
    tx.commit().await.unwrap();
    rows
}

#[tokio::test]
async fn a_run_bills_each_missed_period_once_and_a_repeat_bills_nothing() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        // The sale issued the first invoice; the run catches up the next two.
        assert_eq!(invoices(&c).await.len(), 1);
        let report = billing::run_billing(&c.s, id, d(2027, 1, 25))
            .await
            .unwrap();
        assert_eq!(
            (report.memberships, report.invoices, report.failed.len()),
            (1, 2, 0),
            "{report:?}"
        );
        assert_eq!(
            invoices(&c).await,
            [
                (1, d(2026, 11, 22), 7400),
                (2, d(2026, 12, 22), 4900),
                (3, d(2027, 1, 22), 4900)
            ]
        );
        let again = billing::run_billing(&c.s, id, d(2027, 1, 25))
            .await
            .unwrap();
        assert_eq!(again.invoices, 0);

        // Two runs at once: still one invoice per period, numbers without gaps.
        let (s1, s2) = (c.s.clone(), c.s.clone());
        let a = tokio::spawn(async move { billing::run_billing(&s1, id, d(2027, 3, 25)).await });
        let b = tokio::spawn(async move { billing::run_billing(&s2, id, d(2027, 3, 25)).await });
        let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
        assert_eq!(a.invoices + b.invoices, 2, "{a:?} {b:?}");
        let numbers: Vec<i64> = invoices(&c).await.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5]);
    })
    .await;
}

/// The membership's invoices as (number, billing date, due date, total,
/// status, credit note for).
async fn invoices_in_full(c: &Club) -> Vec<(i64, NaiveDate, NaiveDate, i64, String, Option<i64>)> {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let rows = query!(&mut tx, fetch_all as (i64, NaiveDate, NaiveDate, i64, String, Option<i64>),
        "SELECT number, billing_date, due_date, total_minor, status, credit_note_for FROM invoices WHERE membership_id = $1 ORDER BY number",
        c.membership).unwrap();
    tx.commit().await.unwrap();
    rows
}

async fn invoice_mails(c: &Club) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (n,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM outbox WHERE membership_id = $1 AND kind = 'invoice'",
        c.membership
    )
    .unwrap();
    tx.commit().await.unwrap();
    n
}

async fn act_on(c: &Club, day: NaiveDate, form: ActionForm) {
    support::act_form(&on_day(c, day), &c.owner, c.membership, &form)
        .await
        .unwrap();
}

fn pause(from: &str, until: &str) -> ActionForm {
    ActionForm {
        action: "pause".into(),
        from: from.into(),
        until: until.into(),
        reason: "travel".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_pause_recorded_before_it_starts_is_credited_on_its_first_day_as_a_credit_note() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        let first_id = invoice_id(&c, 1).await;
        act_on(&c, d(2026, 11, 22), pause("2026-12-07", "2026-12-22")).await;
        // Nothing is billed before the pause begins.
        assert_eq!(invoices(&c).await.len(), 1);
        let later = billing::run_billing(&c.s, id, d(2026, 11, 30))
            .await
            .unwrap();
        assert_eq!(later.invoices, 0);
        // On its first day: 15 of 30 days paused, 49.00 × 15/30 = 24.50 back,
        // as a credit note for the invoice that billed the period.
        let run = billing::run_billing(&on_day(&c, d(2026, 12, 7)), id, d(2026, 12, 7))
            .await
            .unwrap();
        assert_eq!(run.invoices, 1);
        let rows = invoices_in_full(&c).await;
        assert_eq!(rows[1].1, d(2026, 12, 7));
        assert_eq!(rows[1].3, -2450);
        assert_eq!(rows[1].5, Some(first_id));
        let again = billing::run_billing(&c.s, id, d(2026, 12, 8))
            .await
            .unwrap();
        assert_eq!(again.invoices, 0);
        let page = memberships::membership(&c.s, &c.owner, c.membership)
            .await
            .unwrap();
        assert_eq!(page.invoices.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_pause_and_its_resumption_on_one_day_bill_nothing_and_mail_nothing() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        billing::run_billing(&on_day(&c, d(2026, 12, 22)), id, d(2026, 12, 22))
            .await
            .unwrap();
        let (before, mails) = (invoices(&c).await, invoice_mails(&c).await);
        assert_eq!(before.len(), 2);
        // Paused from tomorrow and resumed the same day: nothing changes.
        let day = d(2026, 12, 28);
        act_on(&c, day, pause("2026-12-29", "2027-01-10")).await;
        act_on(
            &c,
            day,
            ActionForm {
                action: "resume".into(),
                on: "2026-12-28".into(),
                reason: "back early".into(),
                ..Default::default()
            },
        )
        .await;
        billing::run_billing(&on_day(&c, d(2027, 1, 15)), id, d(2027, 1, 15))
            .await
            .unwrap();
        assert_eq!(
            invoices(&c).await.len(),
            before.len(),
            "{:?}",
            invoices(&c).await
        );
        assert_eq!(invoice_mails(&c).await, mails);
        let page = memberships::membership(&on_day(&c, d(2027, 1, 15)), &c.owner, c.membership)
            .await
            .unwrap();
        assert_ne!(page.status.status, domain::lifecycle::Status::PastDue);
    })
    .await;
}

#[tokio::test]
async fn a_mid_period_price_change_is_one_invoice_dated_on_its_day_and_due_by_the_terms() {
    each_db(|db| async move {
        let c = club(db).await;
        // The period 2026-11-22 to 2026-12-21 is billed; on 2026-12-02 the
        // member moves to a dearer type at once.
        let plus = backend::catalog::create_membership_type(
            &c.s,
            &c.owner,
            &domain::catalog::MembershipTypeForm {
                name: "Adult Plus".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "59".into(),
                status: "active".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let form = ActionForm {
            action: "change_type".into(),
            type_id: plus.to_string(),
            when: "now".into(),
            reason: "upgrade".into(),
            ..Default::default()
        };
        act_on(&c, d(2026, 12, 2), form).await;
        let rows = invoices_in_full(&c).await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        let (_, billed, due, total, status, credit_for) = rows[1].clone();
        assert_eq!(billed, d(2026, 12, 2));
        assert_eq!(
            due - billed,
            rows[0].2 - rows[0].1,
            "due by the usual terms"
        );
        // 20 of 30 days: 59.00 × 20/30 = 39.33 less 49.00 × 20/30 = 32.67.
        assert_eq!(total, 3933 - 3267);
        assert_eq!((status.as_str(), credit_for), ("open", None));
        let view = billing::invoice(&c.s, &c.owner, invoice_id(&c, rows[1].0).await)
            .await
            .unwrap();
        assert_eq!(
            view.lines.len(),
            2,
            "the charge and the credit on one invoice"
        );
    })
    .await;
}

/// Twelve more members with Adult Monthly from 2026-11-22 (13 memberships).
async fn twelve_more(c: &Club) {
    let types = backend::catalog::list_membership_types(&c.s, &c.owner, &Default::default())
        .await
        .unwrap();
    let type_id = types[0].id;
    for i in 0..12 {
        let member = backend::members::create_member(
            &c.s,
            &c.owner,
            &domain::members::MemberForm {
                first_name: "Bulk".into(),
                last_name: format!("Member {i}"),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        support::sell_form(
            &c.s,
            &c.owner,
            memberships::HolderRef::Member(member),
            &domain::lifecycle::sale::SellForm {
                type_id: type_id.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_run_goes_in_batches_reports_progress_and_a_broken_membership_does_not_stop_it() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        twelve_more(&c).await;
        // Break the first membership's history: its batch is billed one by one.
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "UPDATE membership_events SET data = 'not json' WHERE membership_id = $1",
            c.membership
        )
        .unwrap();
        tx.commit().await.unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let report = billing::run_billing_with(&c.s, id, d(2026, 12, 22), "a test", 5, &|p| {
            seen.lock().unwrap().push((p.done, p.total, p.failed))
        })
        .await
        .unwrap();
        assert_eq!(
            seen.into_inner().unwrap(),
            [(5, 13, 1), (10, 13, 1), (13, 13, 1)]
        );
        assert_eq!((report.memberships, report.invoices), (13, 12));
        assert_eq!(
            report.failed,
            [(
                c.membership,
                "something went wrong; the server log has the cause".to_string()
            )]
        );
        let page = billing::runs(&c.s, &c.owner, "").await.unwrap();
        let run = &page.runs.rows[0];
        assert_eq!(
            (
                run.started_by.as_str(),
                run.done,
                run.total,
                run.invoices,
                run.failed
            ),
            ("a test", 13, 13, 12, 1)
        );
        assert!(run.finished_at.is_some() && !run.running() && page.can_start);
        assert_eq!(run.failures, report.failed);

        // Mended, the next run bills it and only it.
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "UPDATE membership_events SET data = $2 WHERE membership_id = $1 AND kind = 'sold'",
            c.membership,
            r#"{"kind":"sold","start":"2026-11-22","approval_required":false}"#
        )
        .unwrap();
        tx.commit().await.unwrap();
        let again = billing::run_billing(&c.s, id, d(2026, 12, 22))
            .await
            .unwrap();
        assert_eq!((again.invoices, again.failed.len()), (1, 0));
        let report = backend::ops::check::check(&c.s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
    })
    .await;
}

#[tokio::test]
async fn a_run_killed_at_any_point_and_run_again_bills_exactly_once() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        twelve_more(&c).await;
        // Kill runs after a few moments each, further and further out.
        for (months, wait_ms) in [(2, 0), (4, 3), (6, 10)] {
            let until = d(2026, 11, 22) + chrono::Months::new(months);
            let s = c.s.clone();
            let run = tokio::spawn(async move { billing::run_billing(&s, id, until).await });
            tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
            run.abort();
            let _ = run.await;
            let again = billing::run_billing(&c.s, id, until).await.unwrap();
            assert!(again.failed.is_empty(), "{again:?}");
        }
        let mut tx = c.s.db.begin_read().await.unwrap();
        let per_membership = query!(&mut tx, fetch_all as (i64, i64),
            "SELECT membership_id, COUNT(*) FROM invoices WHERE business_id = $1 GROUP BY membership_id",
            id).unwrap();
        tx.commit().await.unwrap();
        assert_eq!(per_membership.len(), 13);
        // 2026-11-22 to 2027-05-22: seven monthly periods each, none twice.
        assert!(per_membership.iter().all(|(_, n)| *n == 7), "{per_membership:?}");
        let report = backend::ops::check::check(&c.s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
    })
    .await;
}

#[tokio::test]
async fn a_manager_gives_a_free_month_previewed_as_billing_will_show_it() {
    each_db(|db| async move {
        let c = club(db).await;
        let form = ActionForm {
            action: "free_periods".into(),
            periods: "1".into(),
            reason: "sauna closed for renovation".into(),
            ..Default::default()
        };
        let preview = support::preview_form(&c.s, &c.owner, c.membership, &form)
            .await
            .unwrap();
        assert_eq!(
            preview.effect,
            "1 period free: nothing is charged from 2026-12-22 to 2027-01-21; the next charge is on 2027-01-22."
        );
        assert_eq!(preview.billing_up_to, d(2026, 12, 22));
        let lines: Vec<(String, i64)> = preview
            .billing
            .iter()
            .map(|l| (l.explanation.clone(), l.amount.minor))
            .collect();
        assert_eq!(
            lines,
            [("31 days given free: sauna closed for renovation".to_string(), 0)]
        );
        support::act_form(&c.s, &c.owner, c.membership, &form)
            .await
            .unwrap();
        billing::run_billing(&c.s, c.owner.business_id, d(2027, 1, 22))
            .await
            .unwrap();
        let totals: Vec<i64> = invoices(&c).await.iter().map(|(_, _, t)| *t).collect();
        assert_eq!(totals, [7400, 0, 4900]);
        let report = backend::ops::check::check(&c.s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
    })
    .await;
}

#[tokio::test]
async fn a_billing_date_move_and_a_cycle_switch_are_previewed_and_billed_as_previewed() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        // Sold on 2026-11-22 (€74.00 with the initiation fee), billed on the 22nd.
        // On 2026-12-10 the member asks to be billed on the 1st from 2027-01-01.
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(d(2026, 12, 10)))
            .await
            .unwrap();
        let mv = ActionForm {
            action: "change_billing_date".into(),
            on: "2027-01-01".into(),
            prorate: "yes".into(),
            reason: "paid on the first of the month".into(),
            ..Default::default()
        };
        let preview = support::preview_form(&c.s, &c.owner, c.membership, &mv)
            .await
            .unwrap();
        assert_eq!(
            preview.effect,
            "From 2027-01-01 the membership is billed on that day of each period. The bridging period from 2026-12-22 to 2026-12-31 (10 days) is prorated by its days."
        );
        support::act_form(&c.s, &c.owner, c.membership, &mv)
            .await
            .unwrap();
        billing::run_billing(&c.s, id, d(2027, 1, 1)).await.unwrap();
        // 10 of 31 days × €49.00 = €15.806… → €15.81, then a whole month from the 1st.
        let totals: Vec<(NaiveDate, i64)> =
            invoices(&c).await.iter().map(|(_, on, t)| (*on, *t)).collect();
        assert_eq!(
            totals,
            [
                (d(2026, 11, 22), 7400),
                (d(2026, 12, 22), 1581),
                (d(2027, 1, 1), 4900)
            ]
        );

        // On 2027-01-11 the member switches to the yearly plan from that day.
        let yearly = backend::catalog::create_membership_type(
            &c.s,
            &c.owner,
            &domain::catalog::MembershipTypeForm {
                name: "Adult Yearly".into(),
                purchase_type: "recurring".into(),
                billing_interval: "yearly".into(),
                fee: "490".into(),
                status: "active".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(d(2027, 1, 11)))
            .await
            .unwrap();
        let page = memberships::membership(&c.s, &c.owner, c.membership)
            .await
            .unwrap();
        assert_eq!(page.cycle_types.len(), 1, "{:?}", page.cycle_types);
        assert!(page.other_types.is_empty(), "the yearly type is a cycle switch");
        let change_type = ActionForm {
            action: "change_type".into(),
            type_id: yearly.to_string(),
            when: "now".into(),
            ..Default::default()
        };
        let refused = support::preview_form(&c.s, &c.owner, c.membership, &change_type)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("switch the billing cycle instead"),
            "{refused}"
        );
        let switch = ActionForm {
            action: "switch_cycle".into(),
            type_id: yearly.to_string(),
            on: "2027-01-11".into(),
            ..Default::default()
        };
        let preview = support::preview_form(&c.s, &c.owner, c.membership, &switch)
            .await
            .unwrap();
        let lines: Vec<i64> = preview.billing.iter().map(|l| l.amount.minor).collect();
        // 21 of 31 days of January unused: −€33.19 (49.00 × 10/31 = 15.81 kept); €490.00 yearly.
        assert_eq!(lines, [1581 - 4900, 49000], "{:?}", preview.billing);
        support::act_form(&c.s, &c.owner, c.membership, &switch)
            .await
            .unwrap();
        billing::run_billing(&c.s, id, d(2028, 1, 11)).await.unwrap();
        let totals: Vec<(NaiveDate, i64)> =
            invoices(&c).await.iter().map(|(_, on, t)| (*on, *t)).collect();
        assert_eq!(
            &totals[3..],
            [(d(2027, 1, 11), 1581 - 4900 + 49000), (d(2028, 1, 11), 49000)]
        );
        let page = memberships::membership(&c.s, &c.owner, c.membership)
            .await
            .unwrap();
        assert_eq!(page.next_billing, Some(d(2028, 1, 11)));
        let report = backend::ops::check::check(&c.s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
    })
    .await;
}

#[tokio::test]
async fn an_interrupted_run_is_shown_so_and_does_not_block_the_next_one() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        // A run whose server was killed: started, never finished, no more beats.
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "INSERT INTO billing_runs (business_id, run_date, started_by, started_at, heartbeat_at, total, done)
             VALUES ($1, $2, 'server bill', $3, $3, 10, 4)",
            id,
            d(2026, 11, 22),
            c.s.clock.now()
        )
        .unwrap();
        tx.commit().await.unwrap();
        // While its lease lasts it is running, and a second run waits.
        let page = billing::runs(&c.s, &c.owner, "").await.unwrap();
        assert!(page.runs.rows[0].running() && !page.runs.rows[0].interrupted);
        assert!(matches!(
            billing::start_run(&c.s, &c.owner).await,
            Err(backend::Error::Conflict(_))
        ));
        // Once its lease has run out without a beat, it was interrupted.
        let later = support::later(&c.s, billing::RUN_LEASE + chrono::TimeDelta::seconds(1));
        let page = billing::runs(&later, &c.owner, "").await.unwrap();
        assert!(page.runs.rows[0].interrupted, "{:?}", page.runs.rows[0]);
        billing::start_run(&later, &c.owner)
            .await
            .expect("a new run starts");
        // The new run finishes in the background.
        for _ in 0..100 {
            let page = billing::runs(&later, &c.owner, "").await.unwrap();
            if page.runs.rows[0].finished_at.is_some() {
                assert_eq!(page.runs.rows.len(), 2);
                assert!(page.runs.rows[1].interrupted);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the new run did not finish");
    })
    .await;
}

#[tokio::test]
async fn a_run_for_an_earlier_date_takes_nothing_back() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        billing::run_billing(&c.s, id, d(2027, 1, 25))
            .await
            .unwrap();
        let billed = invoices(&c).await;
        assert_eq!(billed.len(), 3);
        // The clock moved back (before the sale, even), then forward again.
        for date in [d(2026, 11, 1), d(2026, 12, 1), d(2027, 1, 25)] {
            let report = billing::run_billing(&c.s, id, date).await.unwrap();
            assert_eq!(report.invoices, 0, "a run for {date} wrote invoices");
            assert_eq!(invoices(&c).await, billed, "after a run for {date}");
        }
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (negative,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT COUNT(*) FROM invoice_lines WHERE membership_id = $1 AND amount_minor < 0",
            c.membership
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(negative, 0, "no correction took back what was billed");
        let report = backend::ops::check::check(&c.s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
    })
    .await;
}

#[tokio::test]
async fn only_runs_that_did_work_are_recorded_and_a_clock_move_is_the_owners() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        // The scheduler looks every minute; rounds with nothing to bill leave no row.
        for _ in 0..3 {
            let report = billing::run_billing(&c.s, id, d(2026, 11, 22))
                .await
                .unwrap();
            assert_eq!(report.invoices, 0);
        }
        assert!(
            billing::runs(&c.s, &c.owner, "")
                .await
                .unwrap()
                .runs
                .rows
                .is_empty()
        );
        // The owner moves the clock a month on: the run that bills it is theirs.
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(d(2026, 12, 22)))
            .await
            .unwrap();
        let runs = billing::runs(&c.s, &c.owner, "").await.unwrap().runs.rows;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0].started_by, "Olivia Owner");
        assert_eq!(runs[0].invoices, 1);
    })
    .await;
}

#[tokio::test]
async fn two_changes_on_one_day_send_one_notice_and_a_net_credit_is_a_credit_note() {
    each_db(|db| async move {
        let c = club(db).await;
        let plus = backend::catalog::create_membership_type(
            &c.s,
            &c.owner,
            &domain::catalog::MembershipTypeForm {
                name: "Adult Plus".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "59".into(),
                status: "active".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let adult = memberships::membership(&c.s, &c.owner, c.membership)
            .await
            .unwrap()
            .type_id;
        let change_to = |type_id: i64| ActionForm {
            action: "change_type".into(),
            type_id: type_id.to_string(),
            when: "now".into(),
            reason: "trying the plus plan".into(),
            ..Default::default()
        };
        let mails = invoice_mails(&c).await;
        // Up to the dearer plan and back on the same day.
        act_on(&c, d(2026, 12, 2), change_to(plus)).await;
        assert_eq!(invoice_mails(&c).await, mails + 1, "the charge is mailed");
        act_on(&c, d(2026, 12, 2), change_to(adult)).await;
        let rows = invoices_in_full(&c).await;
        assert_eq!(rows.len(), 3, "{rows:?}");
        let (_, billed, _, total, _, credit_for) = rows[2].clone();
        assert_eq!((billed, total), (d(2026, 12, 2), -(3933 - 3267)));
        assert_eq!(
            credit_for,
            Some(invoice_id(&c, 1).await),
            "a credit note for the period's invoice"
        );
        // The credit note leaves nothing to pay: no second notice that day.
        assert_eq!(invoice_mails(&c).await, mails + 1);
    })
    .await;
}
