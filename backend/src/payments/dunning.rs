//! The past-due list with its Charge buttons, retrying every card, and an
//! account's billing page (invoices, payments, credit, card).

use super::charge::{Charged, charge_card};
use crate::engine::ledger::Account;
use crate::engine::ledger::{
    balance, card_of, dues, invoice_ref, new_key, oldest_unpaid_all, require_account,
};
use crate::platform::actor::Actor;
use crate::platform::error::Error;
use crate::{Services, query};
use chrono::NaiveDate;
use domain::Money;
use domain::staff::Role;

/// Memberships that are past due or suspended today, longest overdue first.
/// Viewers and up.
pub async fn dunning_list(
    services: &Services,
    actor: &Actor,
) -> Result<Vec<domain::invoices::DunningRow>, Error> {
    use domain::lifecycle::Status;
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let mut oldest: Vec<(i64, NaiveDate)> = oldest_unpaid_all(&mut tx, business.id)
        .await?
        .into_iter()
        .collect();
    oldest.sort_by_key(|(id, due)| (*due, *id));
    let mut out = Vec::new();
    for (membership_id, due_date) in oldest {
        let overdue = business.dunning.overdue(Some(due_date), today);
        let (status, since) = match (overdue.suspended_since, overdue.past_due_since) {
            (Some(s), _) => (Status::Suspended, s),
            (None, Some(p)) => (Status::PastDue, p),
            _ => continue,
        };
        let (invoice_id, number, attempts, next_attempt_on) = query!(
            &mut tx,
            fetch_one as (i64, i64, i64, Option<NaiveDate>),
            "SELECT id, number, attempts, next_attempt_on FROM invoices
              WHERE business_id = $1 AND membership_id = $2 AND status = 'open' AND total_minor > amount_paid_minor
              ORDER BY due_date, number LIMIT 1",
            business.id,
            membership_id
        )?;
        let (total_due,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT CAST(COALESCE(SUM(total_minor - amount_paid_minor), 0) AS BIGINT) FROM invoices
              WHERE business_id = $1 AND membership_id = $2 AND status = 'open' AND total_minor > amount_paid_minor",
            business.id,
            membership_id
        )?;
        let (holder, membership_name) =
            crate::store::memberships::holder_and_name(&mut tx, business.id, membership_id).await?;
        let account = invoice_ref(&mut tx, business.id, invoice_id)
            .await?
            .account()?;
        let has_card = card_of(&mut tx, business.id, account).await?.is_some();
        out.push(domain::invoices::DunningRow {
            has_card,
            charge_key: new_key(),
            membership_id,
            membership_name,
            holder,
            status,
            since,
            oldest_invoice_id: invoice_id,
            oldest_invoice_number: number,
            due: Money::new(total_due, business.currency),
            attempts,
            next_attempt_on,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Charges the card on file of every past-due or suspended membership's
/// oldest unpaid invoice now, as a manager asked. Each charge is keyed by
/// `key` and the invoice, so the same click sent twice charges once.
pub async fn retry_cards(
    services: &Services,
    actor: &Actor,
    key: &str,
) -> Result<domain::invoices::RetryReport, Error> {
    actor.require(Role::Manager)?;
    if key.trim().is_empty() {
        return Err(Error::invalid(
            "key",
            "this form has expired; reload the page and try again",
        ));
    }
    let rows = dunning_list(services, actor).await?;
    let mut report = domain::invoices::RetryReport::default();
    for row in rows.iter().filter(|r| r.has_card) {
        let key = format!("retry:{}:{}", key.trim(), row.oldest_invoice_id);
        match charge_card(services, actor, row.oldest_invoice_id, None, &key).await {
            Ok(Charged::Succeeded(_) | Charged::Replayed(_)) => report.charged += 1,
            Ok(Charged::Failed { .. }) => report.declined += 1,
            // Paid meanwhile, or a charge already under way: nothing to do.
            Err(Error::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}

/// The card on file, credit balance and unpaid invoices of an account.
/// Viewers and up.
pub async fn account_billing(
    services: &Services,
    actor: &Actor,
    account: Account,
) -> Result<domain::invoices::AccountBilling, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    require_account(&mut tx, business.id, account).await?;
    let card = card_of(&mut tx, business.id, account)
        .await?
        .map(|(_, l)| l);
    let credit = balance(&mut tx, business.id, account).await?;
    let ids: Vec<i64> = dues(&mut tx, &business, account, None)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut unpaid = Vec::new();
    for id in ids {
        unpaid.push(crate::store::invoices::summary_of(&mut tx, business.id, id).await?);
    }
    tx.commit().await?;
    Ok(domain::invoices::AccountBilling {
        card,
        credit: Money::new(credit, business.currency),
        unpaid,
        can_take_payments: actor.allows(Role::FrontDesk),
    })
}
