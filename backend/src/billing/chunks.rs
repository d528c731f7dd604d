//! A billing run's work, shared by every server on the database. A run is
//! cut into chunks of memberships when it starts (`billing_run_chunks`, the
//! last chunk open-ended); a server claims a chunk with a lease (read `FOR
//! UPDATE SKIP LOCKED` on PostgreSQL, so two servers never take the same
//! one; on SQLite write transactions run one at a time), bills it, and
//! deletes it in the transaction that writes its invoices and adds its counts
//! to the run's row. The server that started the run works on it and waits
//! for the chunks others hold; the others find open runs through
//! [`help_with_runs`]. A chunk whose server stopped is taken over when its
//! lease runs out; the unique line keys still decide every race.

use chrono::{NaiveDate, TimeDelta};

use super::Progress;
use crate::engine::invoicing::{bill_batch, bill_membership, catalog_of};
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::memberships::types;
use crate::{Services, query};

/// How long a claimed chunk stays with its server before another may take
/// it over (a chunk takes well under a second to bill).
pub const CHUNK_LEASE: TimeDelta = TimeDelta::minutes(2);

/// Writes the chunks of a new run: `batch` memberships each, in id order;
/// the last one also takes memberships sold while the run goes on.
pub(super) async fn cut(
    tx: &mut Tx,
    business_id: i64,
    run_id: i64,
    batch: i64,
) -> Result<(), Error> {
    query!(
        tx,
        execute,
        "INSERT INTO billing_run_chunks (run_id, first_id, last_id)
         SELECT $1, MIN(id), MAX(id) FROM (
             SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / $3 AS chunk
               FROM memberships WHERE business_id = $2
         ) AS numbered GROUP BY chunk",
        run_id,
        business_id,
        batch.max(1)
    )?;
    query!(
        tx,
        execute,
        "UPDATE billing_run_chunks SET last_id = $2
          WHERE run_id = $1 AND first_id = (SELECT MAX(first_id) FROM billing_run_chunks WHERE run_id = $1)",
        run_id,
        i64::MAX
    )?;
    Ok(())
}

/// What a server needs to bill a run's chunks: read once per run.
struct Run {
    id: i64,
    business: Business,
    date: NaiveDate,
    types: crate::store::catalog::Types,
}

impl Run {
    async fn load(services: &Services, run_id: i64) -> Result<Run, Error> {
        let mut tx = services.db.begin_read().await?;
        let (business_id, date) = query!(
            &mut tx,
            fetch_one as (i64, NaiveDate),
            "SELECT business_id, run_date FROM billing_runs WHERE id = $1",
            run_id
        )?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        let types = types(&mut tx, business_id).await?;
        tx.commit().await?;
        Ok(Run {
            id: run_id,
            business,
            date,
            types,
        })
    }
}

/// Takes the run's first chunk that no server holds (or whose lease ran
/// out) for this server: its first and last membership ids.
async fn claim(services: &Services, run_id: i64) -> Result<Option<(i64, i64)>, Error> {
    let now = services.clock.now();
    let lock = match services.db.kind() {
        "postgres" => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let mut tx = services.db.begin_write().await?;
    let found = query!(
        &mut tx,
        fetch_optional as (i64, i64),
        sqlx::AssertSqlSafe(format!(
            "SELECT first_id, last_id FROM billing_run_chunks
              WHERE run_id = $1 AND (claimed_until IS NULL OR claimed_until < $2)
              ORDER BY first_id LIMIT 1{lock}"
        )),
        run_id,
        now
    )?;
    if let Some((first, _)) = found {
        query!(
            &mut tx,
            execute,
            "UPDATE billing_run_chunks SET claimed_by = $3, claimed_until = $4 WHERE run_id = $1 AND first_id = $2",
            run_id,
            first,
            &*services.server_id,
            now + CHUNK_LEASE
        )?;
    }
    tx.commit().await?;
    Ok(found)
}

/// Removes this server's claimed chunk in `tx`: false when it is no longer
/// this server's (its lease ran out and another server took it over).
async fn take(tx: &mut Tx, services: &Services, run_id: i64, first: i64) -> Result<bool, Error> {
    let removed = query!(
        tx,
        execute,
        "DELETE FROM billing_run_chunks WHERE run_id = $1 AND first_id = $2 AND claimed_by = $3",
        run_id,
        first,
        &*services.server_id
    )?;
    Ok(removed == 1)
}

/// Bills a claimed chunk in one transaction with the catalog loaded once;
/// when that fails (a membership with bad data, or lines another run wrote
/// first), bills it again one membership at a time, so one failure never
/// stops the run.
async fn bill(services: &Services, run: &Run, first: i64, last: i64) -> Result<(), Error> {
    let now = services.clock.now();
    let catalog = catalog_of(&run.types);
    let business_id = run.business.id;
    let mut tx = services.db.begin_write().await?;
    let attempt = async {
        if !take(&mut tx, services, run.id, first).await? {
            return Ok(None);
        }
        let batch =
            crate::store::memberships::load_batch(&mut tx, business_id, first, last).await?;
        let invoices = bill_batch(&mut tx, &run.business, &catalog, &batch, run.date, now).await?;
        Ok::<_, Error>(Some((batch.len(), invoices)))
    }
    .await;
    match attempt {
        Ok(Some((done, invoices))) => {
            add_counts(&mut tx, services, run.id, done, invoices, &[]).await?;
            tx.commit().await?;
        }
        Ok(None) => drop(tx),
        Err(error) => {
            tracing::debug!(%error, "a billing chunk failed; billing it one by one");
            drop(tx);
            let mut tx = services.db.begin_read().await?;
            let ids = query!(
                &mut tx,
                fetch_all as (i64,),
                "SELECT id FROM memberships WHERE business_id = $1 AND id BETWEEN $2 AND $3 ORDER BY id",
                business_id,
                first,
                last
            )?;
            tx.commit().await?;
            let mut invoices = 0;
            let mut failed = Vec::new();
            for &(id,) in &ids {
                match bill_membership(services, &run.business, id, run.date).await {
                    Ok(n) => invoices += n,
                    Err(error) => {
                        tracing::error!(membership = id, %error, "billing failed");
                        failed.push((id, error.for_people()));
                    }
                }
            }
            let mut tx = services.db.begin_write().await?;
            if take(&mut tx, services, run.id, first).await? {
                add_counts(&mut tx, services, run.id, ids.len(), invoices, &failed).await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}

/// Adds a chunk's counts (and its failures) to the run's row, with a
/// heartbeat. The failures list is read and written under a lock of its
/// own (two servers may finish chunks at once).
async fn add_counts(
    tx: &mut Tx,
    services: &Services,
    run_id: i64,
    done: usize,
    invoices: usize,
    failed: &[(i64, String)],
) -> Result<(), Error> {
    if !failed.is_empty() {
        crate::platform::db::serialize_on(tx, &format!("billing-run-failures:{run_id}")).await?;
        let (stored,) = query!(
            tx,
            fetch_one as (String,),
            "SELECT failures FROM billing_runs WHERE id = $1",
            run_id
        )?;
        let mut all: Vec<(i64, String)> = serde_json::from_str(&stored)
            .map_err(|e| Error::internal(format!("failures of run {run_id}: {e}")))?;
        all.extend(failed.iter().cloned());
        all.sort_by_key(|(id, _)| *id);
        let json = serde_json::to_string(&all)
            .map_err(|e| Error::internal(format!("failures of run {run_id}: {e}")))?;
        query!(
            tx,
            execute,
            "UPDATE billing_runs SET failures = $2, failed = failed + $3 WHERE id = $1",
            run_id,
            json,
            failed.len() as i64
        )?;
    }
    query!(
        tx,
        execute,
        "UPDATE billing_runs SET done = done + $2, invoices = invoices + $3, heartbeat_at = $4 WHERE id = $1",
        run_id,
        done as i64,
        invoices as i64,
        services.clock.now()
    )?;
    Ok(())
}

/// The run's progress as committed.
pub(super) async fn progress_of(services: &Services, run_id: i64) -> Result<Progress, Error> {
    let mut tx = services.db.begin_read().await?;
    let (total, done, invoices, failed) = query!(
        &mut tx,
        fetch_one as (i64, i64, i64, i64),
        "SELECT total, done, invoices, failed FROM billing_runs WHERE id = $1",
        run_id
    )?;
    tx.commit().await?;
    Ok(Progress {
        total: total as usize,
        done: done as usize,
        invoices: invoices as usize,
        failed: failed as usize,
    })
}

/// Marks the run finished when no chunk is left: whether it is.
async fn finish_if_done(services: &Services, run_id: i64) -> Result<bool, Error> {
    let mut tx = services.db.begin_write().await?;
    let (left,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM billing_run_chunks WHERE run_id = $1",
        run_id
    )?;
    if left == 0 {
        query!(
            &mut tx,
            execute,
            "UPDATE billing_runs SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL",
            run_id,
            services.clock.now()
        )?;
    }
    tx.commit().await?;
    Ok(left == 0)
}

/// Bills the run's chunks that no server holds until none is left to claim,
/// telling `progress` after each; then, when `wait`, waits for the chunks
/// other servers hold (taking over any whose lease runs out) until the run
/// is finished. Returns how many chunks this server billed.
pub(super) async fn work_on(
    services: &Services,
    run_id: i64,
    wait: bool,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<usize, Error> {
    let run = Run::load(services, run_id).await?;
    let mut billed = 0;
    loop {
        while let Some((first, last)) = claim(services, run_id).await? {
            bill(services, &run, first, last).await?;
            billed += 1;
            progress(&progress_of(services, run_id).await?);
        }
        if finish_if_done(services, run_id).await? || !wait {
            return Ok(billed);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Works on the open runs of every business whose chunks no server holds
/// (the runs other servers started): this server's share of their work.
/// Returns how many chunks it billed.
pub async fn help_with_runs(services: &Services) -> Result<usize, Error> {
    let mut tx = services.db.begin_read().await?;
    let runs = query!(
        &mut tx,
        fetch_all as (i64,),
        "SELECT DISTINCT run_id FROM billing_run_chunks WHERE claimed_until IS NULL OR claimed_until < $1",
        services.clock.now()
    )?;
    tx.commit().await?;
    let mut billed = 0;
    for (run_id,) in runs {
        billed += work_on(services, run_id, false, &|_| {}).await?;
    }
    Ok(billed)
}
