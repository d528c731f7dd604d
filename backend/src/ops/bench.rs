//! `server bench-billing`: how long a billing run takes for many memberships,
//! beside the time the same database takes to write as many rows with bare
//! multi-row INSERTs. A measurement to print, never a test's assertion.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use domain::catalog::MembershipTypeForm;
use domain::staff::Role;

use crate::business::{self, NewBusiness};
use crate::platform::actor::Actor;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::{Services, catalog, query};

#[derive(Clone, Debug)]
pub struct BenchReport {
    pub memberships: i64,
    pub invoices: usize,
    pub failed: usize,
    pub setup: Duration,
    pub run: Duration,
    /// Rows written by the bare INSERTs: an invoice and a line per membership.
    pub bare_rows: i64,
    pub bare: Duration,
    /// The chunks each helping server billed (the starting one billed the rest).
    pub helped: Vec<usize>,
}

impl BenchReport {
    pub fn ratio(&self) -> f64 {
        self.run.as_secs_f64() / self.bare.as_secs_f64().max(1e-9)
    }
}

/// A business of its own for a benchmark (named by `label` and the time),
/// its owner, and a monthly type at €30.00.
pub(crate) async fn scratch_business(
    services: &Services,
    label: &str,
) -> Result<(Actor, i64), Error> {
    let stamp = services.clock.now().timestamp_micros();
    let (business_id, staff_user_id) = business::create_owner(
        services,
        &NewBusiness {
            name: &format!("Benchmark {label} {stamp}"),
            time_zone: "UTC",
            currency: "EUR",
        },
        &format!("{label}-{stamp}@bench.example"),
        "Bench Owner",
        "a long benchmark password",
    )
    .await?;
    let owner = Actor::staff(business_id, staff_user_id, Role::Owner);
    let monthly = catalog::create_membership_type(
        services,
        &owner,
        &MembershipTypeForm {
            name: "Bench Monthly".into(),
            purchase_type: "recurring".into(),
            billing_interval: "monthly".into(),
            fee: "30".into(),
            status: "active".into(),
            ..Default::default()
        },
    )
    .await?
    .id;
    Ok((owner, monthly))
}

/// Makes a business with `n` monthly memberships all starting on `start`,
/// bills them on that date, and times the bare writes of `2 n` rows. Each of
/// `helpers` (other servers: their own pools on the same database) runs on
/// a thread of its own and takes chunks of the run as a server's scheduler
/// does.
pub async fn bench_billing(
    services: &Services,
    n: i64,
    start: NaiveDate,
    helpers: Vec<Services>,
) -> Result<BenchReport, Error> {
    let began = Instant::now();
    let (owner, monthly) = scratch_business(services, "bench").await?;
    let business_id = owner.business_id;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let (price_id,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT id FROM membership_type_prices WHERE membership_type_id = $1",
        monthly
    )?;
    let event = format!(r#"{{"kind":"sold","start":"{start}","approval_required":false}}"#);
    insert_members(&mut tx, business_id, n, now).await?;
    query!(&mut tx, execute,
        "INSERT INTO memberships (business_id, member_id, membership_type_id, price_id, start_date, payer, version, created_at,
                                  current_type_id, current_price_id, status_changes_on)
         SELECT business_id, id, $2, $3, $4, 'member', 0, $5, $2, $3, $6 FROM members WHERE business_id = $1",
        business_id, monthly, price_id, start, now, crate::store::memberships::long_ago())?;
    query!(&mut tx, execute,
        "INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, actor, actor_label, recorded_at)
         SELECT business_id, id, 'sold', start_date, $2, 'system', 'the system', $3 FROM memberships WHERE business_id = $1",
        business_id, event, now)?;
    tx.commit().await?;
    let setup = began.elapsed();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads: Vec<_> = helpers
        .into_iter()
        .map(|helper| {
            let stop = stop.clone();
            std::thread::spawn(move || help_until(helper, &stop))
        })
        .collect();
    let began = Instant::now();
    let report = crate::billing::run_billing(services, business_id, start).await;
    let run = began.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut helped = Vec::new();
    for thread in threads {
        helped.push(
            thread
                .join()
                .map_err(|_| Error::internal("a helping server panicked"))??,
        );
    }
    let report = report?;

    let (bare_rows, bare) = bare_writes(services, 2 * n).await?;
    Ok(BenchReport {
        memberships: n,
        invoices: report.invoices,
        failed: report.failed.len(),
        setup,
        run,
        bare_rows,
        bare,
        helped,
    })
}

/// A helping server: takes chunks of open billing runs until told to stop.
fn help_until(helper: Services, stop: &std::sync::atomic::AtomicBool) -> Result<usize, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("a helper's runtime: {e}")))?;
    runtime.block_on(async {
        let mut billed = 0;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            billed += crate::billing::help_with_runs(&helper).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(billed)
    })
}

/// Writes `rows` rows shaped like invoice lines with multi-row INSERTs of
/// 500 rows, committing every 10,000, into a scratch table it drops after.
async fn bare_writes(services: &Services, rows: i64) -> Result<(i64, Duration), Error> {
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "CREATE TABLE IF NOT EXISTS bench_rows (membership_id BIGINT NOT NULL, line_key TEXT NOT NULL, amount_minor BIGINT NOT NULL, description TEXT NOT NULL)"
    )?;
    tx.commit().await?;
    let began = Instant::now();
    let mut written = 0;
    while written < rows {
        let mut tx = services.db.begin_write().await?;
        let batch_end = (written + 10_000).min(rows);
        while written < batch_end {
            let chunk = (batch_end - written).min(500);
            let values: Vec<String> = (written..written + chunk)
                .map(|i| format!("({i}, 'recurring:2026-11-01:{i}', 3000, 'Bench Monthly')"))
                .collect();
            let sql = format!(
                "INSERT INTO bench_rows (membership_id, line_key, amount_minor, description) VALUES {}",
                values.join(", ")
            );
            query!(&mut tx, execute, sqlx::AssertSqlSafe(sql))?;
            written += chunk;
        }
        tx.commit().await?;
    }
    let took = began.elapsed();
    let mut tx = services.db.begin_write().await?;
    query!(&mut tx, execute, "DROP TABLE bench_rows")?;
    tx.commit().await?;
    Ok((written, took))
}

/// What `server bench-credits` measured.
#[derive(Clone, Debug)]
pub struct RedemptionReport {
    pub tasks: usize,
    pub per_task: usize,
    pub accepted: usize,
    /// The redemptions through the ledger.
    pub ledger: Duration,
    /// A bare loop doing the same writes: in each transaction the conditional
    /// UPDATE of the balance, the UPDATE of the lot and the INSERT of the
    /// entry, in the ledger's own tables (with their keys and indexes), as
    /// fixed SQL with nothing looked up or decided.
    pub bare: Duration,
    /// The smallest ledger one could write: the conditional UPDATE of a
    /// balance and the INSERT of an entry, in bare tables without indexes.
    pub minimal: Duration,
}

impl RedemptionReport {
    fn per_second(&self, took: Duration) -> f64 {
        (self.tasks * self.per_task) as f64 / took.as_secs_f64().max(1e-9)
    }

    pub fn ledger_per_second(&self) -> f64 {
        self.per_second(self.ledger)
    }

    pub fn bare_per_second(&self) -> f64 {
        self.per_second(self.bare)
    }

    pub fn minimal_per_second(&self) -> f64 {
        self.per_second(self.minimal)
    }

    /// Ledger redemptions per second over the bare loop's (the same writes).
    pub fn ratio(&self) -> f64 {
        self.ledger_per_second() / self.bare_per_second().max(1e-9)
    }

    /// Ledger redemptions per second over the minimal loop's.
    pub fn ratio_to_minimal(&self) -> f64 {
        self.ledger_per_second() / self.minimal_per_second().max(1e-9)
    }
}

/// A membership of the bench business's member with `credits` credits,
/// granted by staff adjustments of at most 10,000 (each a lot).
async fn membership_with_credits(
    services: &Services,
    owner: &Actor,
    plan: i64,
    credits: usize,
) -> Result<i64, Error> {
    let member = crate::members::create_member(
        services,
        owner,
        &domain::members::MemberForm {
            first_name: "Bench".into(),
            last_name: "Member".into(),
            ..Default::default()
        },
    )
    .await?
    .id;
    let membership = crate::memberships::sell(
        services,
        owner,
        crate::store::memberships::HolderRef::Member(member),
        &domain::lifecycle::sale::SaleCommand {
            start: Some(services.clock.now().date_naive()),
            ..domain::lifecycle::sale::SaleCommand::of_type(plan)
        },
    )
    .await?;
    let mut given = 0;
    while given < credits {
        let n = (credits - given).min(10_000);
        crate::credits::adjust(
            services,
            owner,
            membership,
            &domain::credits::AdjustCommand {
                amount: n as i64,
                reason: "benchmark credits".into(),
                key: format!("bench-{given}"),
            },
        )
        .await?;
        given += n;
    }
    Ok(membership)
}

/// Runs `one(task, i)` `per_task` times in each of `tasks` concurrent tasks
/// and returns how long they all took and how many succeeded.
async fn concurrently<F, Fut>(
    tasks: usize,
    per_task: usize,
    one: F,
) -> Result<(Duration, usize), Error>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<bool, Error>> + Send,
{
    let began = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let one = one.clone();
        handles.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in 0..per_task {
                if one(t, i).await? {
                    ok += 1;
                }
            }
            Ok::<usize, Error>(ok)
        }));
    }
    let mut accepted = 0;
    for h in handles {
        accepted += h
            .await
            .map_err(|e| Error::internal(format!("a benchmark task failed: {e}")))??;
    }
    Ok((began.elapsed(), accepted))
}

/// `tasks` concurrent tasks each redeem one credit `per_task` times from one
/// membership through the ledger (conditional debit, lot chosen by expiry,
/// entry), beside the same number of bare transactions doing the same writes
/// for a second membership, and beside the minimal loop (see the report).
pub async fn bench_redemptions(
    services: &Services,
    tasks: usize,
    per_task: usize,
) -> Result<RedemptionReport, Error> {
    let (owner, plan) = scratch_business(services, "credits").await?;
    let business_id = owner.business_id;
    let total = tasks * per_task;
    let membership = membership_with_credits(services, &owner, plan, total).await?;
    let other = membership_with_credits(services, &owner, plan, total).await?;

    let (ledger, accepted) = concurrently(tasks, per_task, {
        let s = services.clone();
        move |t, i| {
            let s = s.clone();
            async move {
                Ok(
                    crate::credits::redeem_one(&s, business_id, membership, &format!("b{t}:{i}"))
                        .await
                        .is_ok(),
                )
            }
        }
    })
    .await?;

    // The bare loop: the same three writes, for the other membership, with
    // its lot and the day fixed beforehand.
    let mut tx = services.db.begin_read().await?;
    let (lot,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT entry_id FROM credit_lots WHERE membership_id = $1 ORDER BY entry_id LIMIT 1",
        other
    )?;
    tx.commit().await?;
    let today = services.clock.now().date_naive();
    let (bare, _) = concurrently(tasks, per_task, {
        let s = services.clone();
        move |t, i| {
            let s = s.clone();
            async move {
                let now = s.clock.now();
                let mut tx = s.db.begin_write().await?;
                let taken = query!(&mut tx, fetch_optional as (i64,),
                    "UPDATE credit_balances SET balance = balance - 1
                      WHERE membership_id = $1 AND business_id = $2 AND balance >= 1 RETURNING balance",
                    other, business_id)?;
                if taken.is_some() {
                    query!(&mut tx, execute,
                        "UPDATE credit_lots SET remaining = remaining - 1 WHERE entry_id = $1 AND remaining >= 1",
                        lot)?;
                    query!(&mut tx, execute,
                        "INSERT INTO credit_entries (business_id, membership_id, kind, amount, lot_id, effective_on,
                                                     reason, actor_label, entry_key, created_at)
                         VALUES ($1, $2, 'redeem', -1, $3, $4, 'a redemption', 'the system', $5, $6)",
                        business_id, other, lot, today, format!("b{t}:{i}"), now)?;
                }
                tx.commit().await?;
                Ok(taken.is_some())
            }
        }
    })
    .await?;

    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "CREATE TABLE IF NOT EXISTS bench_balance (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)"
    )?;
    query!(
        &mut tx,
        execute,
        "CREATE TABLE IF NOT EXISTS bench_entries (id BIGINT NOT NULL, amount BIGINT NOT NULL, entry_key TEXT NOT NULL)"
    )?;
    query!(
        &mut tx,
        execute,
        "INSERT INTO bench_balance (id, balance) VALUES (1, $1)",
        total as i64
    )?;
    tx.commit().await?;
    let (minimal, _) = concurrently(tasks, per_task, {
        let s = services.clone();
        move |t, i| {
            let s = s.clone();
            async move {
                let mut tx = s.db.begin_write().await?;
                let taken = query!(&mut tx, fetch_optional as (i64,),
                    "UPDATE bench_balance SET balance = balance - 1 WHERE id = 1 AND balance >= 1 RETURNING balance")?;
                if taken.is_some() {
                    query!(&mut tx, execute, "INSERT INTO bench_entries (id, amount, entry_key) VALUES (1, -1, $1)",
                        format!("b{t}:{i}"))?;
                }
                tx.commit().await?;
                Ok(taken.is_some())
            }
        }
    })
    .await?;
    let mut tx = services.db.begin_write().await?;
    query!(&mut tx, execute, "DROP TABLE bench_balance")?;
    query!(&mut tx, execute, "DROP TABLE bench_entries")?;
    tx.commit().await?;
    Ok(RedemptionReport {
        tasks,
        per_task,
        accepted,
        ledger,
        bare,
        minimal,
    })
}

/// `n` members numbered from 1, with names from a club's spread (a dozen
/// first names by a dozen last names, so that common prefixes match many),
/// an email and a phone number each: what searches and lists meet.
pub(crate) async fn insert_members(
    tx: &mut Tx,
    business_id: i64,
    n: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let pick = |names: &[&str], of: &str| {
        let arms: String = names
            .iter()
            .enumerate()
            .map(|(i, name)| format!(" WHEN {i} THEN '{name}'"))
            .collect();
        format!("CASE {of} % {}{arms} END", names.len())
    };
    let first = pick(
        &[
            "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances",
            "John", "Radia", "Tim",
        ],
        "k",
    );
    let last = pick(
        &[
            "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson",
            "Allen", "Backus", "Perlman", "Berners",
        ],
        "(k / 12)",
    );
    let sql = format!(
        "INSERT INTO members (business_id, member_number, first_name, last_name, email, phone, member_type, notes,
                              marketing_consent, status, first_name_lc, last_name_lc, email_lc, phone_digits, created_at)
         WITH RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < $2),
              named(k, first, last) AS (SELECT k, {first}, {last} FROM seq)
         SELECT $1, k, first, last, LOWER(first) || '.' || LOWER(last) || k || '@example.com',
                '+49 30 ' || CAST(5000000 + k AS TEXT), 'Adult', '', FALSE, 'active', LOWER(first), LOWER(last),
                LOWER(first) || '.' || LOWER(last) || k || '@example.com', '4930' || CAST(5000000 + k AS TEXT), $3
           FROM named"
    );
    query!(tx, execute, sqlx::AssertSqlSafe(sql), business_id, n, now)?;
    let end = match tx {
        Tx::Postgres(_) => "right(phone_digits, 4)",
        Tx::Sqlite(_) => "substr(phone_digits, -4)",
    };
    query!(
        tx,
        execute,
        sqlx::AssertSqlSafe(format!(
            "UPDATE members SET phone_end = {end} WHERE business_id = $1"
        )),
        business_id
    )?;
    Ok(())
}
