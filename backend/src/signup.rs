//! Public signup from a location's page: the member, the membership, the
//! first invoice and its card payment, in one idempotent operation.
//!
//! The signup's form carries a key made when the form was shown. One write
//! transaction finds an earlier signup with that key (a refresh or double
//! submit) or creates the member, sells the membership and records the
//! signup; then the first invoice is billed and charged to the card outside
//! any transaction, with a key derived from the signup's, so a repeat is
//! charged once. A declined card leaves the signup in "payment failed"; the
//! status page retries with another card. Where a signup stands is computed
//! from its membership and invoice, never stored.

use domain::catalog::{PublicType, PurchaseType, TypeStatus, current_price};
use domain::lifecycle::Status;
use domain::lifecycle::sale::{SaleCommand, SellForm};
use domain::payments::CardForm;
use domain::signup::{
    RetryForm, SignupForm, SignupOptions, SignupPreview, SignupState, SignupView,
};

use crate::engine::ledger::Account;
use crate::payments::Charged;
use crate::platform::actor::Actor;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::memberships::HolderRef;
use crate::{Services, query};

/// The location of a slug and the active, offered type there.
async fn offered(
    tx: &mut Tx,
    slug: &str,
    type_id: i64,
) -> Result<(Business, i64, String, crate::store::catalog::Loaded), Error> {
    let (location_id, location_name, business_id) = query!(
        tx,
        fetch_optional as (i64, String, i64),
        "SELECT id, name, business_id FROM locations WHERE slug = $1",
        slug
    )?
    .ok_or(Error::NotFound)?;
    let business = crate::store::business::load(tx, business_id).await?;
    let loaded = crate::store::catalog::load(tx, business.id, Some(type_id))
        .await?
        .into_iter()
        .find(|t| {
            t.id == type_id
                && t.status == TypeStatus::Active
                && t.spec.purchase_type != PurchaseType::Benefit
                && (t.spec.all_locations || t.spec.location_ids.contains(&location_id))
        })
        .ok_or(Error::NotFound)?;
    Ok((business, location_id, location_name, loaded))
}

/// The signup page of a type at a location (not found unless offered there).
pub async fn options(
    services: &Services,
    slug: &str,
    type_id: i64,
) -> Result<SignupOptions, Error> {
    let mut tx = services.db.begin_read().await?;
    let (business, _, location_name, t) = offered(&mut tx, slug, type_id).await?;
    tx.commit().await?;
    let today = services.today(&business);
    let price = current_price(&t.prices, today).ok_or(Error::NotFound)?;
    Ok(SignupOptions {
        business_name: business.name.clone(),
        location_name,
        location_slug: slug.to_string(),
        type_id,
        offer: PublicType::new(t.id, &t.spec, price.fee, price.initiation_fee),
        member_types: t.spec.member_types.clone(),
        today,
        key: crate::engine::ledger::new_key(),
    })
}

/// The sale the join form asks for, read as the staff app's sale form is.
fn sale_command(
    form: &SignupForm,
    location_id: i64,
    today: chrono::NaiveDate,
) -> Result<SaleCommand, domain::Invalid> {
    SellForm {
        type_id: form.type_id.trim().to_string(),
        start: match form.start.trim() {
            "" => today.to_string(),
            s => s.to_string(),
        },
        location_ids: vec![location_id.to_string()],
        payer: "member".into(),
        source: "portal".into(),
        ..Default::default()
    }
    .command()
}

/// Checks the details and makes the member in `tx`; with `refuse_known`, an
/// email that already belongs to a member here is `SignInInstead` (the
/// preview passes `false`: it tells no one who is a member).
async fn new_member(
    tx: &mut Tx,
    business: &Business,
    form: &SignupForm,
    today: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
    refuse_known: bool,
) -> Result<i64, Error> {
    let context = crate::members::context(tx, business, today).await?;
    let details = form.member().validate(&context)?;
    if refuse_known
        && query!(
            tx,
            fetch_optional as (i64,),
            "SELECT id FROM members WHERE business_id = $1 AND email_lc = $2 AND status = $3 LIMIT 1",
            business.id,
            &details.email,
            "active"
        )?
        .is_some()
    {
        return Err(Error::SignInInstead);
    }
    Ok(
        crate::members::insert_member(tx, business.id, &details, now)
            .await?
            .0,
    )
}

/// How long a draft of a visitor's details is kept.
const DRAFT_KEPT: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Keeps the details a visitor typed (no card, no key) and returns the
/// draft's token for the page's address. The details are checked as the
/// preview will check them only when it runs; here they are merely kept.
pub async fn save_draft(services: &Services, form: &SignupForm) -> Result<String, Error> {
    let now = services.clock.now();
    let details = SignupForm {
        number: String::new(),
        expiry: String::new(),
        key: String::new(),
        ..form.clone()
    };
    let details = serde_json::to_string(&details)
        .map_err(|e| Error::internal(format!("a signup draft: {e}")))?;
    if details.len() > 4096 {
        return Err(Error::invalid("first_name", "these details are too long"));
    }
    let token = crate::platform::secrets::new_token();
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "DELETE FROM signup_drafts WHERE created_at < $1",
        now - DRAFT_KEPT
    )?;
    query!(
        &mut tx,
        execute,
        "INSERT INTO signup_drafts (token, details, created_at) VALUES ($1, $2, $3)",
        &token,
        details,
        now
    )?;
    tx.commit().await?;
    Ok(token)
}

/// The details of a draft; `NotFound` once it is a day old or unknown.
pub async fn draft(services: &Services, token: &str) -> Result<SignupForm, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as (String,),
        "SELECT details FROM signup_drafts WHERE token = $1 AND created_at > $2",
        token,
        now - DRAFT_KEPT
    )?;
    tx.commit().await?;
    let (details,) = row.ok_or(Error::NotFound)?;
    serde_json::from_str(&details).map_err(|e| Error::internal(format!("a signup draft: {e}")))
}

/// The first invoice the signup would bring, without saving anything.
pub async fn preview(
    services: &Services,
    slug: &str,
    form: &SignupForm,
) -> Result<SignupPreview, Error> {
    let type_id = form.check_basics()?;
    let now = services.clock.now();
    // The same checks as the sale, on a member made in a transaction that is
    // rolled back: what is previewed is what the signup will bill.
    let mut tx = services.db.begin_write().await?;
    let (business, location_id, _, offer) = offered(&mut tx, slug, type_id).await?;
    form.check_member_type(&offer.spec.member_types)?;
    let today = services.today(&business);
    // The preview answers the same whether or not the email is a member's:
    // only the signup itself, rate-limited and with a card, says so, and then
    // only by sending the email a sign-in code.
    let member = new_member(&mut tx, &business, form, today, now, false).await?;
    let summary = crate::engine::lifecycle::sale_summary(
        &mut tx,
        &business,
        today,
        HolderRef::Member(member),
        &sale_command(form, location_id, today)?,
    )
    .await?;
    drop(tx);
    Ok(SignupPreview {
        type_name: summary.type_name,
        preview: summary.preview,
    })
}

/// Signs up: returns the token of the signup's status page. The same key
/// answers the same token without doing anything twice.
/// At most `services.signups_per_client` new signups come from one client
/// address per hour (a replay of the same key is not a new one).
pub async fn start(
    services: &Services,
    slug: &str,
    form: &SignupForm,
    client: &str,
) -> Result<String, Error> {
    let type_id = form.check_basics()?;
    let key = form.check_key()?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    // Concurrent signups from one address are counted one after the other.
    crate::platform::db::serialize_on(&mut tx, &format!("signup-client:{client}")).await?;
    let (business, location_id, _, offer) = offered(&mut tx, slug, type_id).await?;
    if let Some((token, membership)) = query!(
        &mut tx,
        fetch_optional as (String, i64),
        "SELECT token, membership_id FROM signups WHERE business_id = $1 AND idempotency_key = $2",
        business.id,
        key
    )? {
        drop(tx);
        // A second send of the form while the first is still charging the
        // card answers once the first payment has an outcome, so that both
        // show the same status page.
        wait_for_first_payment(services, business.id, membership).await?;
        return Ok(token);
    }
    form.check_member_type(&offer.spec.member_types)?;
    let (recent,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM signups WHERE client_address = $1 AND created_at > $2",
        client,
        now - chrono::TimeDelta::hours(1)
    )?;
    if recent >= i64::from(services.signups_per_client) {
        return Err(Error::TooMany(domain::signup::too_many_signups()));
    }
    let today = services.today(&business);
    // The card is checked before anything is made; it is charged afterwards.
    let (_, digits) = domain::payments::check_card(&form.card(), today)?;
    services
        .gateway
        .tokenize(&digits)
        .map_err(|reason| Error::invalid("number", reason))?;
    let member = match new_member(&mut tx, &business, form, today, now, true).await {
        Err(Error::SignInInstead) => {
            drop(tx);
            crate::portal::request_code(services, &form.email, client, &business.slug).await?;
            return Err(Error::SignInInstead);
        }
        other => other?,
    };
    let membership = crate::engine::lifecycle::sell_in(
        &mut tx,
        &business,
        &Actor::member(business.id, member),
        HolderRef::Member(member),
        &sale_command(form, location_id, today)?,
        today,
        now,
    )
    .await?;
    let token = crate::platform::secrets::new_token();
    query!(
        &mut tx,
        execute,
        "INSERT INTO signups (business_id, token, idempotency_key, member_id, membership_id, created_at, client_address)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        business.id,
        &token,
        key,
        member,
        membership,
        now,
        client
    )?;
    let (type_name,) = query!(
        &mut tx,
        fetch_one as (String,),
        "SELECT t.name FROM memberships m JOIN membership_types t ON t.id = m.membership_type_id WHERE m.id = $1",
        membership
    )?;
    crate::engine::ledger::mail(
        &mut tx,
        &business,
        Account::Member(member),
        "signup",
        &format!("Welcome to {}", business.name),
        &format!(
            "Thank you for joining {} with {type_name}. You can follow your signup, and sign in to the member portal with this email address, at any time.\n\n{}",
            business.name, business.name
        ),
        None,
        Some(membership),
        now,
    )
    .await?;
    tx.commit().await?;
    pay(services, &business, member, membership, &form.card(), key).await?;
    Ok(token)
}

/// Waits (at most ten seconds) until the membership's first invoice is paid,
/// has a failed payment, or is not open.
async fn wait_for_first_payment(
    services: &Services,
    business_id: i64,
    membership: i64,
) -> Result<(), Error> {
    for _ in 0..100 {
        let mut tx = services.db.begin_read().await?;
        let (waiting,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT COUNT(*) FROM invoices i
              WHERE i.business_id = $1 AND i.membership_id = $2 AND i.status = 'open'
                AND i.total_minor > i.amount_paid_minor
                AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id)",
            business_id,
            membership
        )?;
        tx.commit().await?;
        if waiting == 0 {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Bills the membership's first invoice (if not yet) and charges it to the
/// card, which becomes the card on file.
async fn pay(
    services: &Services,
    business: &Business,
    member: i64,
    membership: i64,
    card: &CardForm,
    key: &str,
) -> Result<(), Error> {
    let today = services.today(business);
    crate::engine::invoicing::bill_membership(services, business, membership, today).await?;
    crate::engine::credits::grant_now(services, business, membership).await;
    crate::payments::keep_card(services, business.id, None, Account::Member(member), card).await?;
    let invoice = first_invoice(services, business.id, membership).await?;
    if let Some((id, due)) = invoice
        && due > 0
    {
        let by = Actor::member(business.id, member);
        match crate::payments::charge_card(services, &by, id, None, &format!("signup:{key}")).await
        {
            Ok(Charged::Succeeded(_) | Charged::Replayed(_) | Charged::Failed { .. }) => {}
            Err(Error::Conflict(_)) => {} // nothing due any more
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The membership's first invoice: (id, amount due).
async fn first_invoice(
    services: &Services,
    business_id: i64,
    membership: i64,
) -> Result<Option<(i64, i64)>, Error> {
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as (i64, i64, i64, String),
        "SELECT id, total_minor, amount_paid_minor, status FROM invoices
          WHERE business_id = $1 AND membership_id = $2 ORDER BY id LIMIT 1",
        business_id,
        membership
    )?;
    tx.commit().await?;
    Ok(row.map(|(id, total, paid, status)| {
        (
            id,
            if status == "open" {
                (total - paid).max(0)
            } else {
                0
            },
        )
    }))
}

#[derive(sqlx::FromRow)]
struct SignupRow {
    business_id: i64,
    member_id: i64,
    membership_id: i64,
    idempotency_key: String,
}

async fn find(services: &Services, token: &str) -> Result<SignupRow, Error> {
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as SignupRow,
        "SELECT business_id, member_id, membership_id, idempotency_key FROM signups WHERE token = $1",
        token
    )?;
    tx.commit().await?;
    row.ok_or(Error::NotFound)
}

/// Where a signup stands, for its status page.
pub async fn status(services: &Services, token: &str) -> Result<SignupView, Error> {
    let row = find(services, token).await?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, row.business_id).await?;
    let today = services.today(&business);
    let stored =
        crate::store::memberships::load_membership(&mut tx, business.id, row.membership_id).await?;
    let types = crate::store::memberships::types(&mut tx, business.id).await?;
    let (current, _) = crate::store::memberships::type_in_effect_pub(&types, &stored, today)?;
    let m = domain::lifecycle::Membership {
        spec: &current.spec,
        events: &stored.events,
        overdue: Default::default(),
    };
    let (first, last, email) = query!(
        &mut tx,
        fetch_one as (String, String, String),
        "SELECT first_name, last_name, email FROM members WHERE id = $1",
        row.member_id
    )?;
    let invoice = query!(
        &mut tx,
        fetch_optional as (i64, i64, i64, String),
        "SELECT id, total_minor, amount_paid_minor, status FROM invoices
          WHERE business_id = $1 AND membership_id = $2 ORDER BY id LIMIT 1",
        business.id,
        row.membership_id
    )?;
    let failure = match &invoice {
        Some((id, total, paid, status)) if status == "open" && total > paid => query!(
            &mut tx,
            fetch_optional as (String,),
            "SELECT failure FROM payments WHERE invoice_id = $1 AND succeeded = $2 ORDER BY id DESC LIMIT 1",
            *id,
            false
        )?
        .map(|(f,)| f)
        .or(Some("the payment has not gone through yet".into())),
        _ => None,
    };
    tx.commit().await?;
    let currency = business.currency;
    let state = match failure {
        Some(reason) => SignupState::PaymentFailed { reason },
        None if m.status(today).status == Status::NotApproved => SignupState::PendingApproval,
        None => SignupState::Active,
    };
    Ok(SignupView {
        token: token.to_string(),
        business_name: business.name,
        member_name: format!("{first} {last}"),
        email,
        type_name: current.spec.name.clone(),
        start: stored.row.start_date,
        state,
        first_invoice_total: invoice
            .as_ref()
            .map(|(_, total, ..)| domain::Money::new(*total, currency)),
        amount_due: invoice.as_ref().map(|(_, total, paid, status)| {
            domain::Money::new(
                if status == "open" {
                    (total - paid).max(0)
                } else {
                    0
                },
                currency,
            )
        }),
        retry_key: crate::engine::ledger::new_key(),
    })
}

/// Tries the first invoice again with another card (which replaces the one on file).
pub async fn retry(services: &Services, token: &str, form: &RetryForm) -> Result<(), Error> {
    let row = find(services, token).await?;
    if form.key.trim().is_empty() {
        return Err(Error::invalid(
            "key",
            "this form has expired; reload the page and try again",
        ));
    }
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, row.business_id).await?;
    tx.commit().await?;
    let card = CardForm {
        number: form.number.clone(),
        expiry: form.expiry.clone(),
    };
    pay(
        services,
        &business,
        row.member_id,
        row.membership_id,
        &card,
        &format!("{}:retry:{}", row.idempotency_key, form.key.trim()),
    )
    .await
}
