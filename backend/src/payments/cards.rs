//! The card on file of an account: kept from the gateway's token, replaced,
//! removed, and its label for pages.

use crate::engine::ledger::Account;
use crate::engine::ledger::{card_of, lock_account, require_account};
use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::{Services, query};
use chrono::{DateTime, Utc};
use domain::payments::{CardForm, check_card};
use domain::staff::Role;

/// Keeps a card on file for a member or an organization, replacing the
/// current one. Front desk and up. The number goes to the gateway; only its
/// brand, last digits, expiry and the gateway's token are stored.
pub async fn add_card(
    services: &Services,
    actor: &Actor,
    account: Account,
    form: &CardForm,
) -> Result<String, Error> {
    actor.require(Role::FrontDesk)?;
    keep_card(services, actor.business_id, Some(actor), account, form).await
}

/// Keeps a card on file for an account (replacing the one there), for staff
/// (`actor`) or the account's member in the portal (`None`).
pub(crate) async fn keep_card(
    services: &Services,
    business_id: i64,
    actor: Option<&Actor>,
    account: Account,
    form: &CardForm,
) -> Result<String, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    let (card, digits) = check_card(form, today)?;
    let token = services
        .gateway
        .tokenize(&digits)
        .map_err(|reason| Error::invalid("number", reason))?;
    lock_account(&mut tx, business.id, account).await?;
    let sql = format!(
        "UPDATE cards SET removed_at = $1 WHERE business_id = $2 AND {} = $3 AND removed_at IS NULL",
        account.column()
    );
    query!(
        &mut tx,
        execute,
        sqlx::AssertSqlSafe(sql),
        now,
        business.id,
        account.id()
    )?;
    let (member_id, organization_id) = account.columns();
    query!(&mut tx, execute,
        "INSERT INTO cards (business_id, member_id, organization_id, brand, last4, exp_month, exp_year, token, added_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        business.id, member_id, organization_id, &card.brand, &card.last4, card.exp_month as i64,
        card.exp_year as i64, token, now)?;
    // Invoices waiting for a card are tried again by the next collection.
    let sql = format!(
        "UPDATE invoices SET next_attempt_on = $1
          WHERE business_id = $2 AND {} = $3 AND status = 'open' AND total_minor > amount_paid_minor AND attempts > 0",
        account.column()
    );
    query!(
        &mut tx,
        execute,
        sqlx::AssertSqlSafe(sql),
        today,
        business.id,
        account.id()
    )?;
    card_audit(
        &mut tx,
        business.id,
        actor,
        account,
        "card.added",
        &card.label(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(card.label())
}

pub(crate) async fn card_audit(
    tx: &mut Tx,
    business_id: i64,
    actor: Option<&Actor>,
    account: Account,
    action: &str,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    match actor {
        Some(actor) => audit::record(tx, actor, action, "card", None, details, now).await,
        None => {
            audit::record(
                tx,
                &crate::platform::actor::Actor::system(business_id),
                &format!("{action}_by_member"),
                "member",
                Some(account.id()),
                details,
                now,
            )
            .await
        }
    }
}

/// Removes the card on file of an account; later invoices wait for a payment.
pub(crate) async fn remove_card(
    services: &Services,
    business_id: i64,
    actor: Option<&Actor>,
    account: Account,
) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    lock_account(&mut tx, business_id, account).await?;
    let sql = format!(
        "UPDATE cards SET removed_at = $1 WHERE business_id = $2 AND {} = $3 AND removed_at IS NULL",
        account.column()
    );
    let removed = query!(
        &mut tx,
        execute,
        sqlx::AssertSqlSafe(sql),
        now,
        business_id,
        account.id()
    )?;
    if removed == 0 {
        return Err(Error::Conflict(
            "There is no card on file to remove.".into(),
        ));
    }
    card_audit(
        &mut tx,
        business_id,
        actor,
        account,
        "card.removed",
        "",
        now,
    )
    .await?;
    tx.commit().await
}

/// The label of the card on file of an account, if any.
pub(crate) async fn card_label_of(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
) -> Result<Option<String>, Error> {
    Ok(card_of(tx, business_id, account).await?.map(|(_, l)| l))
}

/// The card on file of an account, as a label. Viewers and up.
pub async fn card_label(
    services: &Services,
    actor: &Actor,
    account: Account,
) -> Result<Option<String>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    require_account(&mut tx, actor.business_id, account).await?;
    let card = card_of(&mut tx, actor.business_id, account).await?;
    tx.commit().await?;
    Ok(card.map(|(_, label)| label))
}
