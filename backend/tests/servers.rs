//! Several servers on one database: over a simulated month, two servers
//! whose schedulers run at the same moments give exactly the invoices,
//! charges, credits, mails and billing runs that one server gives (each
//! business's day is claimed by one of them through `day_work`), on SQLite
//! and (with TEST_POSTGRES_URL) PostgreSQL; and a billing run's chunks are
//! shared by two servers with the same invoices as one.

use backend::ops::demo;
use backend::platform::db::Db;
use backend::testing::TestDb;
use backend::{Clock, Services, query};
use chrono::{Days, NaiveDate, TimeZone, Utc};

fn clock() -> Clock {
    Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap())
}

type Invoice = (i64, i64, i64, NaiveDate, String, i64, i64);
type Payment = (i64, Option<i64>, String, i64, bool, NaiveDate, String);
type Credit = (i64, String, i64, NaiveDate, Option<String>);

/// Everything the daily work writes that a member or an owner would see,
/// in an order that does not depend on which server wrote it first.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    invoices: Vec<Invoice>,
    payments: Vec<Payment>,
    credits: Vec<Credit>,
    mails: Vec<(i64, String, String, String)>,
    runs: Vec<(i64, NaiveDate, String, i64)>,
    statuses: Vec<(i64, String, String)>,
    /// Each business's last day done, and how many times its work ran.
    done_on: Vec<(i64, Option<NaiveDate>, i64)>,
}

async fn outcome(db: &Db) -> Outcome {
    let mut tx = db.begin_read().await.unwrap();
    let invoices = query!(&mut tx, fetch_all as Invoice,
        "SELECT business_id, number, membership_id, billing_date, status, total_minor, amount_paid_minor
           FROM invoices ORDER BY business_id, number").unwrap();
    let payments = query!(&mut tx, fetch_all as Payment,
        "SELECT p.business_id, i.number, p.method, p.amount_minor, p.succeeded, p.paid_on, p.failure
           FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id
          ORDER BY p.business_id, i.number, p.paid_on, p.succeeded, p.amount_minor")
    .unwrap();
    // Keys that name another entry by id ("carry_from:454") lose the id:
    // which server wrote first decides ids, not what was written.
    let mut credits = query!(
        &mut tx,
        fetch_all as Credit,
        "SELECT membership_id, kind, amount, effective_on, entry_key FROM credit_entries"
    )
    .unwrap();
    for entry in &mut credits {
        if let Some(key) = &mut entry.4
            && let Some((kind, _)) = key.split_once(':')
            && matches!(kind, "carry_from" | "expire")
        {
            *key = kind.to_string();
        }
    }
    credits.sort();
    let mails = query!(
        &mut tx,
        fetch_all as (i64, String, String, String),
        "SELECT business_id, to_address, subject, kind FROM outbox
          ORDER BY business_id, to_address, subject, kind"
    )
    .unwrap();
    let runs = query!(
        &mut tx,
        fetch_all as (i64, NaiveDate, String, i64),
        "SELECT business_id, run_date, started_by, invoices FROM billing_runs
          ORDER BY business_id, run_date, started_by, invoices"
    )
    .unwrap();
    let statuses = query!(
        &mut tx,
        fetch_all as (i64, String, String),
        "SELECT id, status, status_reason FROM memberships ORDER BY id"
    )
    .unwrap();
    let done_on = query!(
        &mut tx,
        fetch_all as (i64, Option<NaiveDate>, i64),
        "SELECT business_id, done_on, runs FROM day_work ORDER BY business_id"
    )
    .unwrap();
    tx.commit().await.unwrap();
    Outcome {
        invoices,
        payments,
        credits,
        mails,
        runs,
        statuses,
        done_on,
    }
}

/// Moves every business to `day` (as the calendar does, without running
/// anything: the schedulers find the work).
async fn move_to(db: &Db, day: NaiveDate) {
    let mut tx = db.begin_write().await.unwrap();
    query!(
        &mut tx,
        execute,
        "UPDATE businesses SET simulated_today = $1",
        day
    )
    .unwrap();
    tx.commit().await.unwrap();
}

/// The demo's month from 2026-11-23, day by day, on one server or two.
async fn a_month(one: TestDb, two: TestDb) {
    let single = Services::new(one.db.clone(), clock());
    let first = Services::new(two.db.clone(), clock());
    let second = Services::new(two.connect_again().await, clock());
    assert_ne!(first.server_id, second.server_id);
    assert!(demo::seed_demo(&single).await.unwrap());
    assert!(demo::seed_demo(&first).await.unwrap());
    assert_eq!(
        outcome(&one.db).await,
        outcome(&two.db).await,
        "both databases start alike"
    );

    let mut day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    for _ in 0..31 {
        day = day + Days::new(1);
        move_to(&one.db, day).await;
        move_to(&two.db, day).await;
        backend::jobs::run_daily(&single).await.unwrap();
        // The two schedulers' minutes at once, each on its own runtime thread
        // and its own connections, twice (the second finds the day done).
        for _ in 0..2 {
            let (a, b) = (first.clone(), second.clone());
            let (ra, rb) = tokio::join!(
                tokio::spawn(async move { backend::jobs::run_daily(&a).await }),
                tokio::spawn(async move { backend::jobs::run_daily(&b).await })
            );
            ra.unwrap().unwrap();
            rb.unwrap().unwrap();
        }
    }
    let alone = outcome(&one.db).await;
    let together = outcome(&two.db).await;
    assert!(
        alone.invoices.len() > 10 && !alone.payments.is_empty() && !alone.mails.is_empty(),
        "the month bills, charges and mails: {} invoices",
        alone.invoices.len()
    );
    assert_eq!(
        alone.done_on.len(),
        2,
        "both businesses' days were done: {:?}",
        alone.done_on
    );
    assert!(
        alone
            .done_on
            .iter()
            .all(|(_, on, runs)| *on == Some(day) && *runs == 31),
        "one run a day: {:?}",
        alone.done_on
    );
    assert_eq!(
        alone.runs, together.runs,
        "one billing run per business and day"
    );
    assert_eq!(alone.invoices, together.invoices);
    assert_eq!(alone.payments, together.payments);
    assert_eq!(alone.credits, together.credits);
    assert_eq!(alone.mails, together.mails);
    assert_eq!(alone.statuses, together.statuses);
    assert_eq!(alone.done_on, together.done_on);
    one.finish().await;
    two.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_do_a_months_daily_work_exactly_as_one_does() {
    a_month(TestDb::sqlite().await, TestDb::sqlite().await).await;
    match (TestDb::postgres().await, TestDb::postgres().await) {
        (Some(one), Some(two)) => a_month(one, two).await,
        _ => eprintln!("PostgreSQL part skipped: TEST_POSTGRES_URL is not set"),
    }
}

/// One billing run of the demo's first business a month on, by one server,
/// and by two (the one that starts it bills a chunk, then waits until the
/// other has taken the rest as its scheduler would).
async fn one_run_by_two(one: TestDb, two: TestDb) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let single = Services::new(one.db.clone(), clock());
    let first = Services::new(two.db.clone(), clock());
    let second = Services::new(two.connect_again().await, clock());
    assert!(demo::seed_demo(&single).await.unwrap());
    assert!(demo::seed_demo(&first).await.unwrap());
    let mut tx = one.db.begin_read().await.unwrap();
    let (business_id, memberships) = query!(
        &mut tx,
        fetch_one as (i64, i64),
        "SELECT business_id, COUNT(*) FROM memberships GROUP BY business_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert!(
        memberships > 10,
        "chunks of 5 for both servers: {memberships}"
    );
    let date = NaiveDate::from_ymd_opt(2026, 12, 22).unwrap();
    let alone =
        backend::billing::run_billing_with(&single, business_id, date, "a test", 5, &|_| {})
            .await
            .unwrap();

    let helped = Arc::new(AtomicUsize::new(0));
    let helper = {
        let (second, helped) = (second.clone(), helped.clone());
        tokio::spawn(async move {
            loop {
                let billed = backend::billing::help_with_runs(&second).await.unwrap();
                if billed > 0 {
                    helped.store(billed, Ordering::SeqCst);
                    return billed;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    let waited = helped.clone();
    let together =
        backend::billing::run_billing_with(&first, business_id, date, "a test", 5, &move |_| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while waited.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
        .await
        .unwrap();
    let by_second = tokio::time::timeout(std::time::Duration::from_secs(60), helper)
        .await
        .expect("the second server found the run")
        .unwrap();
    let chunks = (memberships + 4) / 5;
    assert!(
        (1..chunks as usize).contains(&by_second),
        "the second server billed {by_second} of {chunks} chunks"
    );
    assert!(alone.invoices > 0, "the month bills: {alone:?}");
    assert_eq!(
        (
            together.memberships,
            together.invoices,
            together.failed.clone()
        ),
        (alone.memberships, alone.invoices, alone.failed.clone())
    );
    assert_eq!(
        outcome(&one.db).await.invoices,
        outcome(&two.db).await.invoices
    );
    let mut tx = two.db.begin_read().await.unwrap();
    let (left,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM billing_run_chunks"
    )
    .unwrap();
    let (done, finished) = query!(
        &mut tx,
        fetch_one as (i64, bool),
        "SELECT done, finished_at IS NOT NULL FROM billing_runs WHERE started_by = 'a test'"
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((left, done, finished), (0, memberships, true));
    one.finish().await;
    two.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_bill_one_run_together_exactly_as_one_does() {
    one_run_by_two(TestDb::sqlite().await, TestDb::sqlite().await).await;
    match (TestDb::postgres().await, TestDb::postgres().await) {
        (Some(one), Some(two)) => one_run_by_two(one, two).await,
        _ => eprintln!("PostgreSQL part skipped: TEST_POSTGRES_URL is not set"),
    }
}
