//! `server bench-billing`: how long a billing run takes for many memberships,
//! beside the time the same database takes to write as many rows with bare
//! multi-row INSERTs. A measurement to print, never a test's assertion.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use domain::catalog::MembershipTypeForm;
use domain::staff::Role;

use crate::auth::Actor;
use crate::business::{self, NewBusiness};
use crate::error::Error;
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
}

impl BenchReport {
    pub fn ratio(&self) -> f64 {
        self.run.as_secs_f64() / self.bare.as_secs_f64().max(1e-9)
    }
}

/// Makes a business with `n` monthly memberships all starting on `start`,
/// bills them on that date, and times the bare writes of `2 n` rows.
pub async fn bench_billing(
    services: &Services,
    n: i64,
    start: NaiveDate,
) -> Result<BenchReport, Error> {
    let began = Instant::now();
    let stamp = services.clock.now().timestamp_micros();
    let (business_id, staff_user_id) = business::create_owner(
        services,
        &NewBusiness {
            name: &format!("Benchmark {stamp}"),
            time_zone: "UTC",
            currency: "EUR",
        },
        &format!("bench-{stamp}@bench.example"),
        "Bench Owner",
        "a long benchmark password",
    )
    .await?;
    let owner = Actor {
        business_id,
        staff_user_id,
        role: Role::Owner,
    };
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
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let (price_id,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT id FROM membership_type_prices WHERE membership_type_id = $1",
        monthly
    )?;
    let event = format!(r#"{{"kind":"sold","start":"{start}","approval_required":false}}"#);
    query!(&mut tx, execute,
        "INSERT INTO members (business_id, member_number, first_name, last_name, email, phone, member_type, notes,
                              marketing_consent, status, first_name_lc, last_name_lc, email_lc, phone_digits, created_at)
         WITH RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < $2)
         SELECT $1, k, 'Bench', 'Member ' || k, '', '', 'Adult', '', FALSE, 'active', 'bench', 'member ' || k, '', '', $3
           FROM seq",
        business_id, n, now)?;
    query!(&mut tx, execute,
        "INSERT INTO memberships (business_id, member_id, membership_type_id, price_id, start_date, payer, version, created_at)
         SELECT business_id, id, $2, $3, $4, 'member', 0, $5 FROM members WHERE business_id = $1",
        business_id, monthly, price_id, start, now)?;
    query!(&mut tx, execute,
        "INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, actor, actor_label, recorded_at)
         SELECT business_id, id, 'sold', start_date, $2, 'system', 'the system', $3 FROM memberships WHERE business_id = $1",
        business_id, event, now)?;
    tx.commit().await?;
    let setup = began.elapsed();

    let began = Instant::now();
    let report = crate::billing::run_billing(services, business_id, start).await?;
    let run = began.elapsed();

    let (bare_rows, bare) = bare_writes(services, 2 * n).await?;
    Ok(BenchReport {
        memberships: n,
        invoices: report.invoices,
        failed: report.failed.len(),
        setup,
        run,
        bare_rows,
        bare,
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
