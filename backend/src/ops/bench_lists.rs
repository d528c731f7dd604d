//! `server bench-lists`: how long the membership list queries take in a
//! business of many memberships, beside a bare indexed `SELECT ... LIMIT 20`
//! on the same database. A measurement to print, never a test's assertion.
//!
//! The memberships are written in bulk with several types and a spread of
//! stored statuses (assigned to the projection columns directly: the bench
//! measures the queries, not the rules that would have led there).

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use domain::catalog::MembershipTypeForm;
use domain::memberships::MembershipFilter;

use crate::platform::actor::Actor;
use crate::platform::db::Seek;
use crate::platform::error::Error;
use crate::{Services, catalog, memberships, query};

/// The p50 and p95 of one query, the most rows it returns (a list's page
/// size) and how many rows it skips first (an offset): it is compared with
/// the bare select of at least as many rows that skips as many.
#[derive(Clone, Debug)]
pub struct Timing {
    pub name: String,
    pub rows: i64,
    pub skips: i64,
    pub p50: Duration,
    pub p95: Duration,
}

impl Timing {
    /// How many times the p95 of the bare select of at least as many rows
    /// skipping as many (the first `bare:` timings, smallest first) this p95
    /// is.
    pub fn over_bare(&self, bare: &[Timing]) -> f64 {
        let deep: Vec<&Timing> = bare.iter().filter(|b| b.skips == self.skips).collect();
        let of = deep
            .iter()
            .find(|b| b.rows >= self.rows)
            .or(deep.last())
            .map_or(1e-9, |b| b.p95.as_secs_f64());
        self.p95.as_secs_f64() / of.max(1e-9)
    }
}

#[derive(Clone, Debug)]
pub struct ListsReport {
    pub memberships: i64,
    pub setup: Duration,
    /// The bare indexed select first, then each list query.
    pub timings: Vec<Timing>,
}

/// How many times `server bench-lists` runs each query (after three
/// unmeasured runs): enough that the p95 is not one stray sample.
pub const RUNS: usize = 200;

/// Builds a business of `n` memberships and times its list queries.
pub async fn bench_lists(services: &Services, n: i64, runs: usize) -> Result<ListsReport, Error> {
    let began = Instant::now();
    let (owner, monthly) = super::bench::scratch_business(services, "lists").await?;
    let mut types = vec![monthly];
    for (name, interval, fee) in [
        ("Bench Annual", "yearly", "300"),
        ("Bench Off-Peak", "monthly", "20"),
    ] {
        types.push(
            catalog::create_membership_type(
                services,
                &owner,
                &MembershipTypeForm {
                    name: name.into(),
                    purchase_type: "recurring".into(),
                    billing_interval: interval.into(),
                    fee: fee.into(),
                    status: "active".into(),
                    ..Default::default()
                },
            )
            .await?
            .id,
        );
    }
    fill(services, &owner, &types, n).await?;
    if let crate::platform::db::Db::Postgres(pool) = &services.db {
        // What autovacuum does after a bulk load, done now: the statistics
        // the planner reads, and the visibility map that lets an index-only
        // scan skip the table (a database that has run a while has both).
        // VACUUM runs outside a transaction.
        for table in ["members", "memberships", "membership_events"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {table}")))
                .execute(pool)
                .await?;
        }
    }
    let setup = began.elapsed();

    let mut timings = Vec::new();
    let business_id = owner.business_id;
    // The bare selects: the same indexed read a list page needs, nothing else.
    for (name, limit) in [
        (
            "bare: SELECT ... ORDER BY start_date DESC, id DESC LIMIT 20",
            20i64,
        ),
        ("bare: the same, LIMIT 100 (a staff page's rows)", 100),
    ] {
        timings.push(
            time(runs, name, limit, || async {
                let mut tx = services.db.begin_read().await?;
                query!(
                    &mut tx,
                    fetch_all as (i64, Option<i64>, NaiveDate),
                    "SELECT id, member_id, start_date FROM memberships WHERE business_id = $1
                  ORDER BY start_date DESC, id DESC LIMIT $2",
                    business_id,
                    limit
                )?;
                tx.commit().await?;
                Ok(())
            })
            .await?,
        );
    }
    // The bare select an offset page compares with: as deep, in id order.
    let deep_rows = 10_000;
    timings.push(Timing {
        skips: deep_rows,
        ..time(
            runs,
            "bare: SELECT ... ORDER BY id LIMIT 20 OFFSET 10000",
            20,
            || async {
                let mut tx = services.db.begin_read().await?;
                query!(
                    &mut tx,
                    fetch_all as (i64, Option<i64>, NaiveDate),
                    "SELECT id, member_id, start_date FROM memberships WHERE business_id = $1
                  ORDER BY id LIMIT 20 OFFSET $2",
                    business_id,
                    deep_rows
                )?;
                tx.commit().await?;
                Ok(())
            },
        )
        .await?
    });
    let staff = |name: &'static str, filter: MembershipFilter| {
        time(runs, name, domain::paging::PER_PAGE, move || {
            let filter = filter.clone();
            async move {
                memberships::list_memberships(services, &owner, &filter).await?;
                Ok(())
            }
        })
    };
    timings.push(
        staff(
            "staff list, page 1 (100 rows, with its total)",
            MembershipFilter::default(),
        )
        .await?,
    );
    timings.push(
        staff(
            "staff list, status paused, page 1",
            MembershipFilter {
                status: "paused".into(),
                ..Default::default()
            },
        )
        .await?,
    );
    timings.push(
        staff(
            "staff list, one type, page 5",
            MembershipFilter {
                type_id: types[1].to_string(),
                page: "5".into(),
                ..Default::default()
            },
        )
        .await?,
    );
    let api = |name: &'static str, filter: MembershipFilter, seek: Seek| {
        time(runs, name, 20, move || {
            let filter = filter.clone();
            async move {
                memberships::page_matching(services, &owner, &filter, None, seek, 21).await?;
                Ok(())
            }
        })
    };
    timings.push(
        api(
            "API list, first 20",
            MembershipFilter::default(),
            Seek::Offset(0),
        )
        .await?,
    );
    timings.push(
        api(
            "API list, status past_due, first 20",
            MembershipFilter {
                status: "past_due".into(),
                ..Default::default()
            },
            Seek::Offset(0),
        )
        .await?,
    );
    timings.push(Timing {
        skips: deep_rows,
        ..api(
            "API list, 20 from row 10,000 (offset)",
            MembershipFilter::default(),
            Seek::Offset(deep_rows),
        )
        .await?
    });
    let deep = deep_id(services, business_id, deep_rows).await?;
    timings.push(
        api(
            "API list, 20 from row 10,000 (cursor)",
            MembershipFilter::default(),
            Seek::After(deep),
        )
        .await?,
    );
    // A member's page: their memberships, found through the holder.
    let holder = {
        let mut tx = services.db.begin_read().await?;
        let (holder,) = query!(
            &mut tx,
            fetch_one as (Option<i64>,),
            "SELECT member_id FROM memberships WHERE id = $1",
            deep
        )?;
        tx.commit().await?;
        holder.ok_or_else(|| Error::internal("a bench membership without a member"))?
    };
    timings.push(
        time(
            runs,
            "a member's page (with their memberships)",
            crate::engine::lifecycle::HELD_PER_PAGE,
            || async {
                crate::members::member(services, &owner, holder).await?;
                Ok(())
            },
        )
        .await?,
    );
    // The desk's search box, and the members lists.
    let last = n.max(1);
    let searches = [
        ("search: a first name (\"ada\")", "ada".to_string()),
        (
            "search: first and last name (\"grace hop\")",
            "grace hop".to_string(),
        ),
        (
            "search: the start of an email",
            format!("grace.hopper{}", (last / 2) | 1),
        ),
        ("search: a member number", format!("#{}", last / 2)),
        (
            "search: the last four digits of a phone",
            format!("{:04}", (5_000_000 + last / 3) % 10_000),
        ),
    ];
    for (name, text) in searches {
        timings.push(
            time(runs, name, crate::members::SEARCH_LIMIT, || async {
                crate::members::search_members(services, &owner, &text, false).await?;
                Ok(())
            })
            .await?,
        );
    }
    timings.push(
        time(
            runs,
            "API members, first 50 (with the count)",
            50,
            || async {
                crate::members::page_of_members(
                    services,
                    &owner,
                    &Default::default(),
                    Seek::Offset(0),
                    51,
                )
                .await?;
                Ok(())
            },
        )
        .await?,
    );
    Ok(ListsReport {
        memberships: n,
        setup,
        timings,
    })
}

/// The id of the membership at `row` in id order (the last, when fewer):
/// where a cursor that deep points.
async fn deep_id(services: &Services, business_id: i64, row: i64) -> Result<i64, Error> {
    let mut tx = services.db.begin_read().await?;
    let ids = query!(
        &mut tx,
        fetch_all as (i64,),
        "SELECT id FROM memberships WHERE business_id = $1 ORDER BY id LIMIT $2",
        business_id,
        row
    )?;
    tx.commit().await?;
    Ok(ids.last().map_or(0, |(id,)| *id))
}

/// Members and memberships in bulk: types in turn, start dates over three
/// years, stored statuses spread as a club's are (most active).
async fn fill(services: &Services, owner: &Actor, types: &[i64], n: i64) -> Result<(), Error> {
    let business_id = owner.business_id;
    let now = services.clock.now();
    let today = now.date_naive();
    let first_start = today - Days::new(3 * 365);
    let later = today + Days::new(3650);
    let mut tx = services.db.begin_write().await?;
    let mut prices = Vec::new();
    for type_id in types {
        let (price_id,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT id FROM membership_type_prices WHERE membership_type_id = $1",
            type_id
        )?;
        prices.push(price_id);
    }
    super::bench::insert_members(&mut tx, business_id, n, now).await?;
    // Type by member number modulo 3; status by modulo 20: 14 active, 2
    // paused, 1 cancelling, 1 past due, 1 suspended, 1 expired.
    query!(&mut tx, execute,
        "INSERT INTO memberships (business_id, member_id, membership_type_id, price_id, start_date, payer, version, created_at,
                                  current_type_id, current_price_id, status, status_reason, status_changes_on, status_explanation)
         SELECT business_id, id,
                CASE member_number % 3 WHEN 0 THEN $2 WHEN 1 THEN $3 ELSE $4 END,
                CASE member_number % 3 WHEN 0 THEN $5 WHEN 1 THEN $6 ELSE $7 END,
                $8, 'member', 0, $9,
                CASE member_number % 3 WHEN 0 THEN $2 WHEN 1 THEN $3 ELSE $4 END,
                CASE member_number % 3 WHEN 0 THEN $5 WHEN 1 THEN $6 ELSE $7 END,
                CASE member_number % 20 WHEN 14 THEN 'paused' WHEN 15 THEN 'paused' WHEN 16 THEN 'cancelling'
                     WHEN 17 THEN 'past_due' WHEN 18 THEN 'suspended' WHEN 19 THEN 'expired' ELSE 'active' END,
                'running', $10, $11
           FROM members WHERE business_id = $1",
        business_id, types[0], types[1], types[2], prices[0], prices[1], prices[2],
        first_start, now, later, "active since its start (set by the bench); next billing on its day")?;
    tx.commit().await?;
    // Start dates are spread by a second statement on each database's own
    // date arithmetic (the INSERT above wrote the first start for all).
    let mut tx = services.db.begin_write().await?;
    let spread = match services.db.kind() {
        "postgres" => {
            "UPDATE memberships SET start_date = start_date + (id % 1095)::int WHERE business_id = $1"
        }
        _ => {
            "UPDATE memberships SET start_date = date(start_date, '+' || (id % 1095) || ' days') WHERE business_id = $1"
        }
    };
    query!(&mut tx, execute, spread, business_id)?;
    let event = r#"{"kind":"sold","start":"START","approval_required":false}"#;
    query!(&mut tx, execute,
        "INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, actor, actor_label, recorded_at)
         SELECT business_id, id, 'sold', start_date, REPLACE($2, 'START', CAST(start_date AS TEXT)), 'system', 'the system', $3
           FROM memberships WHERE business_id = $1",
        business_id, event, now)?;
    tx.commit().await?;
    // The kept counts, folded as the daily work folds them.
    crate::store::memberships::compact(&services.db, business_id).await?;
    Ok(())
}

/// Runs `query` three times unmeasured, then `runs` times, and keeps the
/// 50th and 95th percentiles.
async fn time<F, Fut>(runs: usize, name: &str, rows: i64, query: F) -> Result<Timing, Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    for _ in 0..3 {
        query().await?;
    }
    let mut took = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        let began = Instant::now();
        query().await?;
        took.push(began.elapsed());
    }
    took.sort_unstable();
    let at = |p: usize| took[(took.len() * p / 100).min(took.len() - 1)];
    Ok(Timing {
        name: name.to_string(),
        rows,
        skips: 0,
        p50: at(50),
        p95: at(95),
    })
}
