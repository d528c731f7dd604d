//! Who does a business's daily work when several servers share one
//! database. Each server's scheduler asks every minute; a business is
//! claimed through its `day_work` row: read under a row lock (`FOR UPDATE
//! SKIP LOCKED` on PostgreSQL: a row another server is deciding on is
//! skipped; on SQLite write transactions, `BEGIN IMMEDIATE`, run one at a
//! time), then taken by a conditional update (the lease is free or has run
//! out). A claim is made only when there is work: the business's date has
//! moved since the work was last done, a stored status is due, or the last
//! sweep is an hour old (work made during the day, such as a card added to
//! an unpaid invoice).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::platform::error::Error;
use crate::{Services, query};

/// How long a claim holds when its server stops without releasing it.
pub const LEASE: TimeDelta = TimeDelta::minutes(15);
/// How often a business whose date has not moved is looked at again.
pub const SWEEP: TimeDelta = TimeDelta::hours(1);

/// A business's daily work, claimed by this server for `today`.
#[derive(Clone, Debug)]
pub struct Claim {
    pub business_id: i64,
    pub today: NaiveDate,
    /// The business's date moved since its work was last done: the whole
    /// day's work is due, not only a sweep.
    pub new_day: bool,
}

/// Claims the business's daily work when some is due and no other server
/// holds it. `None`: nothing to do, or another server is doing it.
pub async fn claim(services: &Services, business_id: i64) -> Result<Option<Claim>, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    query!(
        &mut tx,
        execute,
        "INSERT INTO day_work (business_id) VALUES ($1) ON CONFLICT (business_id) DO NOTHING",
        business_id
    )?;
    let lock = match services.db.kind() {
        "postgres" => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let Some((done_on, done_at)) = query!(
        &mut tx,
        fetch_optional as (Option<NaiveDate>, Option<DateTime<Utc>>),
        sqlx::AssertSqlSafe(format!(
            "SELECT done_on, done_at FROM day_work WHERE business_id = $1{lock}"
        )),
        business_id
    )?
    else {
        // Another server is deciding on it this moment.
        tx.commit().await?;
        return Ok(None);
    };
    let new_day = done_on != Some(today);
    let due = new_day
        || done_at.is_none_or(|at| at + SWEEP <= now)
        || crate::store::memberships::any_due(&mut tx, business_id, today).await?;
    if !due {
        tx.commit().await?;
        return Ok(None);
    }
    let taken = query!(
        &mut tx,
        execute,
        "UPDATE day_work SET held_by = $1, held_until = $2
          WHERE business_id = $3 AND (held_until IS NULL OR held_until <= $4)",
        &*services.server_id,
        now + LEASE,
        business_id,
        now
    )?;
    tx.commit().await?;
    Ok((taken == 1).then_some(Claim {
        business_id,
        today,
        new_day,
    }))
}

/// Gives the claim back; when the work succeeded, records the date it was
/// done for (the next claim waits for the date to move, a due status or the
/// sweep).
pub async fn release(services: &Services, claim: &Claim, done: bool) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    if done {
        query!(
            &mut tx,
            execute,
            "UPDATE day_work SET held_until = NULL, done_on = $1, done_at = $2, runs = runs + 1
              WHERE business_id = $3 AND held_by = $4",
            claim.today,
            now,
            claim.business_id,
            &*services.server_id
        )?;
    } else {
        query!(
            &mut tx,
            execute,
            "UPDATE day_work SET held_until = NULL WHERE business_id = $1 AND held_by = $2",
            claim.business_id,
            &*services.server_id
        )?;
    }
    tx.commit().await?;
    Ok(())
}
