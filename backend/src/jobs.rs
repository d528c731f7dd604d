//! The daily work and the scheduler's side of things: what happens because
//! a business's date moved, not because someone asked. Renewals, billing,
//! collection and dunning, credit grants and expiries, visit generation. The
//! simulated clock calls these, never an area's internals.

use crate::engine::credits::bring_up_to_date;
use crate::engine::ledger::{
    Account, Standing, last_standing_with_invoice, mail, oldest_unpaid, oldest_unpaid_all,
};
use crate::engine::lifecycle::{Showing, act_as};
use crate::payments::{Charged, charge_card};
use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::business::load;
use crate::store::memberships::{load_membership, types};
use crate::visits::generate;
use crate::{Services, query};
use chrono::NaiveDate;

pub mod lease;
use domain::credits::credits_of;
use domain::lifecycle::BillingNote;
use domain::lifecycle::{Event, Status};
use domain::memberships::{ActionCommand, Ask};
use domain::staff::Role;

/// Renews, as the system, the memberships whose term has ended and whose type
/// renews into another type. Safe to run any number of times: a renewed
/// membership's end moves on, so it is not picked again. Returns how many it renewed.
pub async fn renew_due(services: &Services, business_id: i64) -> Result<usize, Error> {
    let (today, candidates) = {
        let mut tx = services.db.begin_read().await?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        let today = services.today(&business);
        let ids = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM memberships WHERE business_id = $1 AND end_date IS NOT NULL AND end_date <= $2 ORDER BY id",
            business_id,
            today
        )?;
        let types = types(&mut tx, business_id).await?;
        let mut due = Vec::new();
        for (id,) in ids {
            let loaded = load_membership(&mut tx, business_id, id).await?;
            let (current, _, m) = loaded.in_effect(&types, today)?;
            let renews = current.spec.end_action == domain::catalog::spec::EndAction::RenewOther;
            if renews && m.cancel_end().is_none() && m.status(today).status == Status::Expired {
                due.push((id, loaded.row.version));
            }
        }
        tx.commit().await?;
        (today, due)
    };
    let mut renewed = 0;
    for (id, version) in candidates {
        let command = ActionCommand {
            version: Some(version),
            ..ActionCommand::new(Ask::Renew)
        };
        match act_as(
            services,
            &Actor::system(business_id),
            id,
            &command,
            Showing::Effect,
        )
        .await
        {
            Ok(_) => renewed += 1,
            // Someone changed it meanwhile, or the renewal type is not on sale:
            // the membership stays as it is and the next run looks again.
            Err(error) => tracing::warn!(membership = id, %today, %error, "renewal not made"),
        }
    }
    Ok(renewed)
}

/// The day's work of every business that has some due and that no other
/// server is doing (see `lease`): renewals, billing, collection, statuses,
/// visits, credits. A business whose work fails is told in the log and
/// tried again at the next call; the others go on.
pub async fn run_daily(services: &Services) -> Result<(), Error> {
    let ids = {
        let mut tx = services.db.begin_read().await?;
        let ids = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM businesses ORDER BY id"
        )?;
        tx.commit().await?;
        ids
    };
    let mut failed = None;
    for (id,) in ids {
        let Some(claim) = lease::claim(services, id).await? else {
            continue;
        };
        let result = if claim.new_day {
            day_work(services, id).await
        } else {
            sweep(services, id).await
        };
        lease::release(services, &claim, result.is_ok()).await?;
        if let Err(error) = result {
            tracing::error!(business = id, %error, "the daily work failed");
            failed = Some(error);
        }
    }
    failed.map_or(Ok(()), Err)
}

/// What may be due again on a day whose work is done: charges (a card
/// added to an unpaid invoice, a retry), statuses whose day has come, the
/// kept counts. Billing, renewals, visits and credits follow the date, so
/// they wait for the next one.
pub async fn sweep(services: &Services, business_id: i64) -> Result<(), Error> {
    crate::jobs::collect(services, business_id).await?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    tx.commit().await?;
    let today = services.today(&business);
    crate::store::memberships::advance(&services.db, &business, today).await?;
    crate::store::memberships::compact(&services.db, business_id).await?;
    Ok(())
}

/// One business's day, as the scheduler does it.
pub async fn day_work(services: &Services, business_id: i64) -> Result<(), Error> {
    day_work_as(services, business_id, crate::billing::SCHEDULER).await
}

/// One business's day: renewals first, then billing up to its date, the run
/// recorded as started by `started_by`.
pub async fn day_work_as(
    services: &Services,
    business_id: i64,
    started_by: &str,
) -> Result<(), Error> {
    renew_due(services, business_id).await?;
    let today = {
        let mut tx = services.db.begin_read().await?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        tx.commit().await?;
        services.today(&business)
    };
    let report = crate::billing::run_billing_as(services, business_id, today, started_by).await?;
    if report.invoices > 0 || !report.failed.is_empty() {
        tracing::info!(business = business_id, %today, invoices = report.invoices, failed = report.failed.len(), "billing run");
    }
    let charged = crate::jobs::collect(services, business_id).await?;
    if charged > 0 {
        tracing::info!(business = business_id, %today, charged, "collection");
    }
    // The stored statuses whose day has come (a pause starting, a
    // cancellation taking effect, an invoice falling past due).
    let business = {
        let mut tx = services.db.begin_read().await?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        tx.commit().await?;
        business
    };
    crate::store::memberships::advance(&services.db, &business, today).await?;
    crate::store::memberships::compact(&services.db, business_id).await?;
    crate::jobs::visits_work(services, business_id).await?;
    // Credits last: a membership suspended for an unpaid invoice earns none.
    let entries = crate::jobs::credits_work(services, business_id).await?;
    if entries > 0 {
        tracing::info!(business = business_id, %today, entries, "credits");
    }
    Ok(())
}

/// The daily collection of a business: charges the cards on file of invoices
/// that are due (and retries failed charges on the schedule), then marks
/// memberships past due or suspended on their timelines, with a message each.
pub async fn collect(services: &Services, business_id: i64) -> Result<usize, Error> {
    let (business, due) = {
        let mut tx = services.db.begin_read().await?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        let today = services.today(&business);
        let due = query!(&mut tx, fetch_all as (i64, i64),
            "SELECT i.id, i.attempts FROM invoices i
              WHERE i.business_id = $1 AND i.status = 'open' AND i.total_minor > i.amount_paid_minor
                AND ((i.attempts = 0 AND i.due_date <= $2) OR i.next_attempt_on <= $2)
                AND EXISTS (SELECT 1 FROM cards c WHERE c.removed_at IS NULL
                             AND ((i.member_id IS NOT NULL AND c.member_id = i.member_id)
                               OR (i.organization_id IS NOT NULL AND c.organization_id = i.organization_id)))
              ORDER BY i.id",
            business.id, today)?;
        tx.commit().await?;
        (business, due)
    };
    let mut charged = 0;
    for (invoice_id, attempts) in due {
        let key = format!("auto:{invoice_id}:{}", attempts + 1);
        match charge_card(
            services,
            &Actor::system(business_id),
            invoice_id,
            None,
            &key,
        )
        .await
        {
            Ok(Charged::Succeeded(_)) => charged += 1,
            Ok(_) => {}
            Err(Error::Conflict(_)) => {}
            Err(error) => tracing::error!(invoice = invoice_id, %error, "automatic charge failed"),
        }
    }
    mark_overdue(services, &business).await?;
    Ok(charged)
}

/// Records past due and suspended on the timelines of memberships whose
/// oldest unpaid invoice is old enough, once per invoice and step.
pub(crate) async fn mark_overdue(services: &Services, business: &Business) -> Result<(), Error> {
    let now = services.clock.now();
    let today = services.today(business);
    let mut tx = services.db.begin_write().await?;
    let oldest = oldest_unpaid_all(&mut tx, business.id).await?;
    let mut ids: Vec<_> = oldest.into_iter().collect();
    ids.sort();
    for (membership_id, due) in ids {
        let overdue = business.dunning.overdue(Some(due), today);
        let Some(past_since) = overdue.past_due_since else {
            continue;
        };
        let Some((_, number)) = oldest_unpaid(&mut tx, business.id, membership_id).await? else {
            continue;
        };
        let last = last_standing_with_invoice(&mut tx, business.id, membership_id).await?;
        let (member_id, organization_id): (Option<i64>, Option<i64>) = query!(
            &mut tx,
            fetch_one as (Option<i64>, Option<i64>),
            "SELECT member_id, organization_id FROM invoices WHERE business_id = $1 AND membership_id = $2 AND number = $3",
            business.id,
            membership_id,
            number
        )?;
        let account = Account::from_columns(member_id, organization_id)
            .ok_or_else(|| Error::internal("an invoice without account"))?;
        let mut steps = Vec::new();
        let noted_past =
            matches!(last, Some((Standing::PastDue | Standing::Suspended, Some(n))) if n == number);
        if !noted_past {
            steps.push((
                past_since,
                BillingNote::PastDue {
                    invoice_number: number,
                },
            ));
        }
        if let Some(suspended_since) = overdue.suspended_since
            && !matches!(last, Some((Standing::Suspended, Some(n))) if n == number)
        {
            steps.push((
                suspended_since,
                BillingNote::Suspended {
                    invoice_number: number,
                },
            ));
        }
        for (on, note) in steps {
            crate::store::memberships::append_billing_note(
                &mut tx,
                business.id,
                membership_id,
                on,
                &note,
                now,
            )
            .await?;
            let text = Event::Billing {
                on,
                note: note.clone(),
            }
            .describe();
            let subject = match note {
                BillingNote::Suspended { .. } => "Your membership is suspended",
                _ => "Your payment is overdue",
            };
            mail(
                &mut tx,
                business,
                account,
                "dunning",
                subject,
                &format!(
                    "{text}.\n\nPay the balance at the front desk or update your card and the membership is restored at once.\n\n{}",
                    business.name
                ),
                None,
                Some(membership_id),
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The daily credits work of a business: every membership whose type (now
/// or when sold) grants credits, or that holds credits, is brought up to date,
/// each in its own transaction.
pub async fn credits_work(services: &Services, business_id: i64) -> Result<usize, Error> {
    let now = services.clock.now();
    let (business, types, ids) = {
        let mut tx = services.db.begin_read().await?;
        let business = crate::store::business::load(&mut tx, business_id).await?;
        let types = types(&mut tx, business_id).await?;
        // Ids are numbers from the database: safe to write into the statement.
        let granting: Vec<String> = types
            .values()
            .filter(|t| credits_of(&t.spec) > 0)
            .map(|t| t.id.to_string())
            .collect();
        let by_type = if granting.is_empty() {
            "FALSE".to_string()
        } else {
            format!("membership_type_id IN ({})", granting.join(", "))
        };
        let sql = format!(
            "SELECT id FROM memberships WHERE business_id = $1
                AND ({by_type}
                     OR id IN (SELECT membership_id FROM credit_lots WHERE business_id = $1 AND remaining > 0)
                     OR id IN (SELECT membership_id FROM membership_events WHERE business_id = $1 AND kind IN ('type_changed', 'cycle_switched', 'renewed_into')))
              ORDER BY id"
        );
        let ids = query!(
            &mut tx,
            fetch_all as (i64,),
            sqlx::AssertSqlSafe(sql),
            business_id
        )?;
        tx.commit().await?;
        (business, types, ids)
    };
    let today = services.today(&business);
    let mut written = 0;
    for (id,) in ids {
        let mut tx = services.db.begin_write().await?;
        match bring_up_to_date(&mut tx, &business, &types, id, today, now).await {
            Ok(n) => {
                tx.commit().await?;
                written += n;
            }
            Err(error) => tracing::error!(membership = id, %error, "credits work failed"),
        }
    }
    Ok(written)
}

/// The daily work's part: keeps a year of visits generated.
pub async fn visits_work(services: &Services, business_id: i64) -> Result<usize, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let n = generate(&mut tx, business_id, services.today(&business), now).await?;
    tx.commit().await?;
    Ok(n)
}

/// Sets (or with `None`, clears) the business's simulated date, then runs the
/// day's work for it. Owners only.
pub async fn set_simulated_date(
    services: &Services,
    actor: &Actor,
    date: Option<NaiveDate>,
) -> Result<(), Error> {
    actor.require(Role::Owner)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = load(&mut tx, actor.business_id).await?;
    query!(
        &mut tx,
        execute,
        "UPDATE businesses SET simulated_today = $1 WHERE id = $2",
        date,
        business.id
    )?;
    // Stored statuses were computed for later days than the new date: all
    // are recomputed by the day's work below.
    let moved_to = services.today(&Business {
        simulated_today: date,
        ..business.clone()
    });
    if moved_to < services.today(&business) {
        crate::store::memberships::mark_all(&mut tx, business.id).await?;
    }
    let details = serde_json::json!({
        "from": business.simulated_today.map(|d| d.to_string()),
        "to": date.map(|d| d.to_string()),
    });
    audit::record(
        &mut tx,
        actor,
        "clock.simulated_date_set",
        "business",
        Some(business.id),
        &details.to_string(),
        now,
    )
    .await?;
    let name = actor.name(&mut tx).await?;
    tx.commit().await?;
    // The day's work runs at once for the new date, as it would when the day
    // came; its billing run is the owner's, who moved the clock.
    crate::jobs::day_work_as(services, business.id, &name).await?;
    Ok(())
}
