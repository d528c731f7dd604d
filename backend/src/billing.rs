//! The billing run: for each membership, generate what is missing up to a
//! date and write it as invoices, in batches of memberships, one transaction
//! per batch.
//!
//! Nothing here decides an amount: `domain::billing::generator` does. The
//! database protects the money: a line key is billed once (`seq` 0) and then
//! only corrected (`seq` 1, 2, ...), under a unique index, so a run that is
//! repeated, raced by another, or killed and restarted writes every line once.

use chrono::NaiveDate;
use domain::Money;
use domain::billing::charges::LineKind;
use domain::billing::generator::CatalogType;
use domain::invoices::{FormKeys, InvoiceLineView, InvoiceView, RunReport};

use crate::engine::invoicing::{bill_batch, bill_membership, invoice_mail};
use crate::engine::ledger::Account;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::invoices::{INVOICE_COLUMNS, ListRow, REFUNDED, summary, summary_of};
use crate::store::memberships::types;
use crate::{Services, query};

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
    let run_id = begin_run(services, business_id, date, started_by).await?;
    let report = continue_run(services, business_id, run_id, date, BATCH, &|_| {}).await?;
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
/// are billed in batches, each in one transaction with the catalog loaded
/// once; a batch that fails (a membership with bad data, or lines another
/// run wrote first) is billed again one membership at a time, so one failure
/// never stops the run and the unique line keys still decide every race.
pub async fn run_billing_with(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
    batch: i64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunReport, Error> {
    let run_id = begin_run(services, business_id, date, started_by).await?;
    continue_run(services, business_id, run_id, date, batch, progress).await
}

/// Records a run about to start and returns its id.
async fn begin_run(
    services: &Services,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
) -> Result<i64, Error> {
    let mut tx = services.db.begin_write().await?;
    let run_id = insert_run(&mut tx, business_id, date, started_by, services.clock.now()).await?;
    tx.commit().await?;
    Ok(run_id)
}

/// The row of a run about to start, its first heartbeat at its start.
async fn insert_run(
    tx: &mut Tx,
    business_id: i64,
    date: NaiveDate,
    started_by: &str,
    now: chrono::DateTime<chrono::Utc>,
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
    Ok(run_id)
}

async fn continue_run(
    services: &Services,
    business_id: i64,
    run_id: i64,
    date: NaiveDate,
    batch: i64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunReport, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let (total,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT total FROM billing_runs WHERE id = $1",
        run_id
    )?;
    let types = types(&mut tx, business_id).await?;
    tx.commit().await?;
    let catalog: Vec<CatalogType> = types
        .values()
        .map(|t| CatalogType {
            id: t.id,
            spec: &t.spec,
            prices: &t.prices,
        })
        .collect();
    let mut p = Progress {
        total: total as usize,
        ..Progress::default()
    };
    let mut failures: Vec<(i64, String)> = Vec::new();
    let mut after = 0i64;
    loop {
        let mut tx = services.db.begin_write().await?;
        let ids: Vec<i64> = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM memberships WHERE business_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            business_id,
            after,
            batch.max(1)
        )?
        .into_iter()
        .map(|(id,)| id)
        .collect();
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
            break;
        };
        let attempt = async {
            let batch =
                crate::store::memberships::load_batch(&mut tx, business_id, first, last).await?;
            bill_batch(&mut tx, &business, &catalog, &batch, date, now).await
        }
        .await;
        let (mut tx, invoices, new_failures) = match attempt {
            Ok(written) => (tx, written, Vec::new()),
            Err(error) => {
                tracing::debug!(%error, "a billing batch failed; billing it one by one");
                drop(tx);
                let mut invoices = 0;
                let mut failed = Vec::new();
                for &id in &ids {
                    match bill_membership(services, &business, id, date).await {
                        Ok(n) => invoices += n,
                        Err(error) => {
                            tracing::error!(membership = id, %error, "billing failed");
                            failed.push((id, error.for_people()));
                        }
                    }
                }
                (services.db.begin_write().await?, invoices, failed)
            }
        };
        p.done += ids.len();
        p.invoices += invoices;
        p.failed += new_failures.len();
        failures.extend(new_failures);
        let failures_json = serde_json::to_string(&failures)
            .map_err(|e| Error::internal(format!("failures of run {run_id}: {e}")))?;
        query!(
            &mut tx,
            execute,
            "UPDATE billing_runs SET done = $2, invoices = $3, failed = $4, failures = $5, heartbeat_at = $6 WHERE id = $1",
            run_id,
            p.done as i64,
            p.invoices as i64,
            p.failed as i64,
            failures_json,
            services.clock.now()
        )?;
        tx.commit().await?;
        progress(&p);
        after = last;
    }
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "UPDATE billing_runs SET finished_at = $2 WHERE id = $1",
        run_id,
        services.clock.now()
    )?;
    tx.commit().await?;
    Ok(RunReport {
        memberships: p.total,
        invoices: p.invoices,
        failed: failures,
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

/// The last 20 runs of the business, newest first. Front desk and up.
pub async fn runs(
    services: &Services,
    actor: &crate::platform::actor::Actor,
) -> Result<domain::invoices::BillingRuns, Error> {
    actor.require(domain::staff::Role::FrontDesk)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
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
           FROM billing_runs WHERE business_id = $1 ORDER BY id DESC LIMIT 20",
        business.id)?;
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
        runs,
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
    let run_id = insert_run(&mut tx, business.id, date, &name, now).await?;
    tx.commit().await?;
    let services = services.clone();
    let business_id = business.id;
    tokio::spawn(async move {
        if let Err(error) = continue_run(&services, business_id, run_id, date, BATCH, &|_| {}).await
        {
            tracing::error!(business = business_id, %error, "billing run failed");
        }
    });
    Ok(())
}

/// One invoice with its lines and how each amount was reached, its
/// payments, refunds and credit notes. Viewers and up.
pub async fn invoice(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    id: i64,
) -> Result<InvoiceView, Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let view = invoice_view(
        &mut tx,
        business,
        id,
        actor.allows(domain::staff::Role::FrontDesk),
        actor.allows(domain::staff::Role::Manager),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// An invoice as its page shows it, for whoever may see it.
pub(crate) async fn invoice_view(
    tx: &mut Tx,
    business: Business,
    id: i64,
    can_take_payments: bool,
    can_manage: bool,
) -> Result<InvoiceView, Error> {
    let summary = summary_of(tx, business.id, id).await?;
    let (credit_note_for, memo, attempts, next_attempt_on) = query!(
        tx,
        fetch_one as (Option<i64>, String, i64, Option<NaiveDate>),
        "SELECT credit_note_for, memo, attempts, next_attempt_on FROM invoices WHERE id = $1",
        id
    )?;
    let reference = crate::engine::ledger::invoice_ref(tx, business.id, id).await?;
    let membership_id = reference.membership_id;
    let currency = summary.total.currency;
    let lines = query!(
        tx,
        fetch_all
            as (
                String,
                String,
                Option<NaiveDate>,
                Option<NaiveDate>,
                i64,
                String
            ),
        "SELECT kind, description, period_start, period_end, amount_minor, explanation
           FROM invoice_lines WHERE business_id = $1 AND invoice_id = $2 ORDER BY id",
        business.id,
        id
    )?
    .into_iter()
    .map(|(kind, description, start, end, minor, explanation)| {
        Ok(InvoiceLineView {
            kind: LineKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("line kind {kind:?}")))?,
            description,
            period: start.zip(end.and_then(|e| e.pred_opt())),
            amount: Money::new(minor, currency),
            explanation,
        })
    })
    .collect::<Result<Vec<_>, Error>>()?;
    let (holder, membership_name) =
        crate::store::memberships::holder_and_name(tx, business.id, membership_id).await?;
    let account = reference.account()?;
    let account_name = match account {
        Account::Member(_) => holder.name.clone(),
        Account::Organization(org) => {
            query!(
                tx,
                fetch_one as (String,),
                "SELECT name FROM organizations WHERE id = $1",
                org
            )?
            .0
        }
    };
    let money =
        crate::engine::ledger::invoice_money(tx, &business, &reference, credit_note_for).await?;
    Ok(InvoiceView {
        summary,
        membership_id,
        membership_name,
        holder,
        account_name,
        account_href: account.href(),
        business_name: business.name,
        lines,
        memo,
        payments: money.payments,
        paid_from_credit: money.paid_from_credit,
        credit_note_for: money.credit_note_for,
        credit_notes: money.credit_notes,
        creditable: money.creditable,
        account_credit: money.account_credit,
        card: money.card,
        automatic_attempts: attempts,
        next_attempt_on,
        can_take_payments,
        can_manage,
        keys: FormKeys {
            pay: crate::engine::ledger::new_key(),
            charge: crate::engine::ledger::new_key(),
            refund: crate::engine::ledger::new_key(),
            credit: crate::engine::ledger::new_key(),
        },
    })
}

const LIST_LIMIT: i64 = 500;

/// Invoices of the business by status, billing dates and who is billed,
/// newest first (at most 500). Viewers and up.
pub async fn list_invoices(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    filter: &domain::invoices::InvoiceFilter,
) -> Result<Vec<domain::invoices::InvoiceListRow>, Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let q = filter.check()?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let who = format!("%{}%", q.who.replace(['%', '_'], ""));
    let number: Option<i64> = q.who.parse().ok();
    let rows = query!(&mut tx, fetch_all as ListRow,
        sqlx::AssertSqlSafe(format!("SELECT {INVOICE_COLUMNS}, {REFUNDED},
                i.credit_note_for, i.member_id, i.organization_id, t.name AS type_name,
                COALESCE(mb.first_name || ' ' || mb.last_name, o.name, '') AS account_name
           FROM invoices i
           JOIN memberships m ON m.id = i.membership_id
           JOIN membership_types t ON t.id = m.membership_type_id
           LEFT JOIN members mb ON mb.id = i.member_id
           LEFT JOIN organizations o ON o.id = i.organization_id
          WHERE i.business_id = $1
            AND ($2 = '' OR i.status = $2)
            AND ($3 = FALSE OR (i.status = 'open' AND i.total_minor > i.amount_paid_minor))
            AND ($4 = FALSE OR (i.status = 'open' AND i.total_minor > i.amount_paid_minor AND i.due_date < $5))
            AND ($6 IS NULL OR i.billing_date >= $6)
            AND ($7 IS NULL OR i.billing_date <= $7)
            AND ($8 = '%%' OR LOWER(mb.first_name || ' ' || mb.last_name) LIKE $8 OR LOWER(o.name) LIKE $8
                 OR mb.member_number = $9)
          ORDER BY i.billing_date DESC, i.number DESC
          LIMIT $10")),
        business.id, q.status.map(|s| s.as_str()).unwrap_or(""), q.unpaid, q.overdue, today,
        q.from, q.to, who, number, LIST_LIMIT)?;
    tx.commit().await?;
    rows.into_iter()
        .map(|r| {
            let account = Account::from_columns(r.member_id, r.organization_id);
            Ok(domain::invoices::InvoiceListRow {
                credit_note: r.credit_note_for.is_some(),
                account_name: r.account_name,
                account_href: account.map(|a| a.href()).unwrap_or_default(),
                membership_name: r.type_name,
                summary: summary(r.invoice)?,
            })
        })
        .collect()
}

/// Puts the invoice's message in the mail outbox again. Front desk and up.
pub async fn resend_invoice(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    id: i64,
) -> Result<(), Error> {
    actor.require(domain::staff::Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let invoice = crate::engine::ledger::invoice_ref(&mut tx, business.id, id).await?;
    invoice_mail(
        &mut tx,
        &business,
        invoice.account()?,
        id,
        invoice.number,
        invoice.membership_id,
        now,
    )
    .await?;
    crate::platform::audit::record(
        &mut tx,
        actor,
        "invoice.resent",
        "invoice",
        Some(id),
        &format!("invoice #{}", invoice.number),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The API's invoice list filters, combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvoiceListFilter {
    pub status: Option<domain::invoices::InvoiceStatus>,
    /// The billed member.
    pub member_id: Option<i64>,
    pub membership_id: Option<i64>,
    /// Billing dates from and to, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One invoice of the API's list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceListItem {
    pub id: i64,
    pub number: i64,
    pub billing_date: NaiveDate,
    pub due_date: NaiveDate,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub amount_paid_minor: i64,
    pub membership_id: i64,
    pub member_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub credit_note_for: Option<i64>,
    pub refunded_minor: i64,
}

/// A window of the business's invoices in id order, and how many match.
pub async fn page_of_invoices(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    filter: &InvoiceListFilter,
    window: crate::platform::db::Window,
) -> Result<(Vec<InvoiceListItem>, i64), Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let conditions = "business_id = $1 AND ($2 = '' OR status = $2) AND ($3 = 0 OR member_id = $3)
        AND ($4 = 0 OR membership_id = $4) AND billing_date >= $5 AND billing_date <= $6";
    let status = filter.status.map(|s| s.as_str()).unwrap_or_default();
    // Dates both databases store and compare as text and as dates alike.
    let from = filter
        .from
        .unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).expect("a date"));
    let to = filter
        .to
        .unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date"));
    let mut tx = services.db.begin_read().await?;
    let (count,) = query!(
        &mut tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM invoices WHERE {conditions}")),
        actor.business_id,
        status,
        filter.member_id.unwrap_or(0),
        filter.membership_id.unwrap_or(0),
        from,
        to
    )?;
    let rows = query!(&mut tx, fetch_all as InvoiceListItem,
        sqlx::AssertSqlSafe(format!(
            "SELECT id, number, billing_date, due_date, status, currency, total_minor, amount_paid_minor,
                    membership_id, member_id, organization_id, credit_note_for, {REFUNDED}
               FROM invoices i WHERE {conditions} ORDER BY id LIMIT $7 OFFSET $8")),
        actor.business_id, status, filter.member_id.unwrap_or(0), filter.membership_id.unwrap_or(0), from, to,
        window.limit, window.offset)?;
    tx.commit().await?;
    Ok((rows, count))
}
