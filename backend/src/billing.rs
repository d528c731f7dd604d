//! The billing run: for each membership, generate what is missing up to a
//! date and write it as invoices, in chunks of memberships, one transaction
//! per chunk, claimed by any server on the database (`chunks`).
//!
//! Nothing here decides an amount: `domain::billing::generator` does. The
//! database protects the money: a line key is billed once (`seq` 0) and then
//! only corrected (`seq` 1, 2, ...), under a unique index, so a run that is
//! repeated, raced by another, or killed and restarted writes every line once.

use chrono::NaiveDate;
use domain::Money;
use domain::billing::charges::LineKind;
use domain::invoices::{FormKeys, InvoiceLineView, InvoiceView, RunReport};
use domain::paging::{self, Listed};

use crate::engine::invoicing::invoice_mail;
use crate::engine::ledger::Account;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::invoices::{INVOICE_COLUMNS, ListRow, REFUNDED, summary, summary_of};
use crate::store::memberships::types;
use crate::{Services, query};

mod chunks;
mod invoices;
pub use chunks::{CHUNK_LEASE, help_with_runs};
pub(crate) use invoices::invoice_view;
pub use invoices::{
    InvoiceListFilter, InvoiceListItem, invoice, list_invoices, page_of_invoices, resend_invoice,
};

/// How many memberships a run bills in one transaction.
pub const BATCH: i64 = 500;

/// Who started an automatic run when no one did: the scheduler's daily work.
pub const SCHEDULER: &str = "the scheduler";

/// Bills every membership of a business up to `date` as the scheduler's day's
/// work (see [`run_billing_as`]).
pub async fn run_billing(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
) -> Result<RunReport, Error> {
    run_billing_as(services, business_id, date, SCHEDULER).await
}

/// Bills every membership of a business up to `date` as the day's work of
/// `started_by` (the scheduler, or the owner who moved the clock). A
/// membership that fails is listed with its error and the run goes on. The
/// run stays on the billing-runs page only when it did something (wrote an
/// invoice or met a failure): the scheduler looks every minute, and its empty
/// rounds would bury the runs people started.
pub async fn run_billing_as(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
) -> Result<RunReport, Error> {
    let run_id = begin_run(services, business_id, date, started_by, BATCH).await?;
    let report = continue_run(services, run_id, &|_| {}).await?;
    if report.invoices == 0 && report.failed.is_empty() {
        let mut tx = services.db.begin_write().await?;
        query!(
            &mut tx,
            execute,
            "DELETE FROM billing_runs WHERE id = $1",
            run_id
        )?;
        tx.commit().await?;
    }
    Ok(report)
}

/// How far a run is: told to `progress` after every batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub invoices: usize,
    pub failed: usize,
}

/// How long a billing run may go without a heartbeat (one after every batch)
/// before it counts as interrupted: shown so, and no longer blocking a new run.
pub const RUN_LEASE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// A billing run, recorded in `billing_runs` with its progress. Memberships
/// are billed in chunks of `batch`, each in one transaction with the catalog
/// loaded once, by this server and any other that helps (`chunks`); a chunk
/// that fails (a membership with bad data, or lines another run wrote first)
/// is billed again one membership at a time, so one failure never stops the
/// run and the unique line keys still decide every race.
pub async fn run_billing_with(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
    batch: i64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunReport, Error> {
    let run_id = begin_run(services, business_id, date, started_by, batch).await?;
    continue_run(services, run_id, progress).await
}

/// Records a run about to start and returns its id.
async fn begin_run(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
    batch: i64,
) -> Result<i64, Error> {
    let mut tx = services.db.begin_write().await?;
    let run_id = insert_run(
        &mut tx,
        business_id,
        date,
        started_by,
        services.clock.now(),
        batch,
    )
    .await?;
    tx.commit().await?;
    Ok(run_id)
}

/// The row of a run about to start, its first heartbeat at its start, and
/// its chunks of `batch` memberships.
async fn insert_run(
    tx: &mut Tx,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
    now: chrono::DateTime<chrono::Utc>,
    batch: i64,
) -> Result<i64, Error> {
    let (total,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM memberships WHERE business_id = $1",
        business_id
    )?;
    let (run_id,) = query!(
        tx,
        fetch_one as (i64,),
        "INSERT INTO billing_runs (business_id, run_date, started_by, started_at, heartbeat_at, total) VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
        business_id,
        date,
        started_by,
        now,
        total
    )?;
    chunks::cut(tx, business_id, run_id, batch).await?;
    Ok(run_id)
}

/// Works on the run with any other server until it is finished, and
/// reports it as committed.
async fn continue_run(
    services: &Services,
    run_id: i64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunReport, Error> {
    chunks::work_on(services, run_id, true, progress).await?;
    let mut tx = services.db.begin_read().await?;
    let (total, invoices, failures) = query!(
        &mut tx,
        fetch_one as (i64, i64, String),
        "SELECT total, invoices, failures FROM billing_runs WHERE id = $1",
        run_id
    )?;
    tx.commit().await?;
    Ok(RunReport {
        memberships: total as usize,
        invoices: invoices as usize,
        failed: serde_json::from_str(&failures)
            .map_err(|e| Error::internal(format!("failures of run {run_id}: {e}")))?,
    })
}

/// Revenue billed, recognised and deferred per month and revenue account
/// (the account of the type the membership was sold as). Voided invoices are
/// left out. Viewers and up.
pub async fn revenue_report(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    filter: &domain::invoices::RevenueFilter,
) -> Result<domain::invoices::RevenueReport, Error> {
    use domain::billing::revenue::{BilledLine, report};
    actor.require(domain::staff::Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let (from, to) = filter.parse(services.today(&business))?;
    let types = types(&mut tx, business.id).await?;
    let rows = query!(&mut tx, fetch_all as (i64, i64, Option<NaiveDate>, Option<NaiveDate>, NaiveDate),
        "SELECT m.membership_type_id, l.amount_minor, l.period_start, l.period_end, i.billing_date
           FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id JOIN memberships m ON m.id = l.membership_id
          WHERE l.business_id = $1 AND i.status <> 'void' AND i.billing_date <= $2
            AND (i.billing_date >= $3 OR l.period_end > $3)",
        business.id, to.last_day(), from.first_day())?;
    tx.commit().await?;
    let lines: Vec<BilledLine> = rows
        .into_iter()
        .map(|(type_id, minor, start, end, billed_on)| {
            let spec = types.get(&type_id).map(|t| &t.spec);
            BilledLine {
                account: spec.map(|s| s.revenue_account.clone()).unwrap_or_default(),
                deferred: spec.is_some_and(|s| s.deferred_revenue),
                billed_on,
                period: start
                    .zip(end)
                    .map(|(start, end)| domain::billing::BillingPeriod { start, end }),
                amount: Money::new(minor, business.currency),
            }
        })
        .collect();
    Ok(domain::invoices::RevenueReport {
        from,
        to,
        rows: report(&lines, from, to, business.currency),
    })
}

/// Billing runs per page of the runs list (the page asks for its progress
/// every second while one runs).
pub const RUNS_PER_PAGE: i64 = 20;

/// A page (`page` as typed, empty for the first) of the business's billing
/// runs, newest first, with their progress. Front desk and up.
pub async fn runs(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    page: &str,
) -> Result<domain::invoices::BillingRuns, Error> {
    use domain::paging;
    actor.require(domain::staff::Role::FrontDesk)?;
    let page = paging::page_number(page).map_err(|m| Error::invalid("page", m))?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let (total,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM billing_runs WHERE business_id = $1",
        business.id
    )?;
    type Row = (
        i64,
        NaiveDate,
        String,
        chrono::DateTime<chrono::Utc>,
        Option<chrono::DateTime<chrono::Utc>>,
        i64,
        i64,
        i64,
        i64,
        String,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let rows = query!(&mut tx, fetch_all as Row,
        "SELECT id, run_date, started_by, started_at, finished_at, total, done, invoices, failed, failures, heartbeat_at
           FROM billing_runs WHERE business_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
        business.id, RUNS_PER_PAGE, paging::offset_of(page, RUNS_PER_PAGE))?;
    tx.commit().await?;
    let now = services.clock.now();
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&business.time_zone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let runs = rows
        .into_iter()
        .map(
            |(
                id,
                run_date,
                started_by,
                started_at,
                finished_at,
                total,
                done,
                invoices,
                failed,
                failures,
                heartbeat_at,
            )| {
                Ok(domain::invoices::BillingRunView {
                    id,
                    run_date,
                    started_by,
                    started_at: local(started_at),
                    finished_at: finished_at.map(local),
                    total,
                    done,
                    invoices,
                    failed,
                    failures: serde_json::from_str(&failures)
                        .map_err(|e| Error::internal(format!("failures of run {id}: {e}")))?,
                    interrupted: finished_at.is_none()
                        && now - heartbeat_at.unwrap_or(started_at) > RUN_LEASE,
                })
            },
        )
        .collect::<Result<_, Error>>()?;
    Ok(domain::invoices::BillingRuns {
        today: services.today(&business),
        can_start: actor.allows(domain::staff::Role::Manager),
        runs: paging::Listed {
            rows: runs,
            total,
            page,
            per_page: RUNS_PER_PAGE,
        },
    })
}

/// Starts a billing run up to the business's today in the background; its
/// progress shows on the billing-runs page. Managers and owners.
pub async fn start_run(
    services: &Services,
    actor: &crate::platform::actor::Actor,
) -> Result<(), Error> {
    actor.require(domain::staff::Role::Manager)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let name = actor.name(&mut tx).await?;
    tx.commit().await?;
    let date = services.today(&business);
    let now = services.clock.now();
    // The check and the new run's row in one write transaction: two managers
    // starting at once start one run.
    let mut tx = services.db.begin_write().await?;
    crate::platform::db::serialize_on(&mut tx, &format!("billing-run:{}", business.id)).await?;
    let running = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM billing_runs WHERE business_id = $1 AND finished_at IS NULL AND COALESCE(heartbeat_at, started_at) > $2",
        business.id,
        now - RUN_LEASE
    )?;
    if running.is_some() {
        return Err(Error::Conflict(
            "A billing run is already in progress: its progress is shown below.".into(),
        ));
    }
    let run_id = insert_run(&mut tx, business.id, date, &name, now, BATCH).await?;
    tx.commit().await?;
    let services = services.clone();
    let business_id = business.id;
    tokio::spawn(async move {
        if let Err(error) = continue_run(&services, run_id, &|_| {}).await {
            tracing::error!(business = business_id, %error, "billing run failed");
        }
    });
    Ok(())
}
