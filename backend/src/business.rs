//! Businesses (tenants), their locations and the bootstrap of the first owner.

use chrono_tz::Tz;
use domain::Currency;
use domain::staff::{DashboardCounts, Role, StaffOverview};

use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
pub use crate::store::business::{Business, Location, load, locations, member_types};
use crate::{Services, query};

/// Validated settings of a new business.
pub struct NewBusiness<'a> {
    pub name: &'a str,
    pub time_zone: &'a str,
    pub currency: &'a str,
}

pub async fn insert(
    tx: &mut Tx,
    new: &NewBusiness<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Error> {
    let mut invalid = domain::Invalid::default();
    if new.name.trim().is_empty() {
        invalid.push("business_name", "enter the business's name");
    }
    if new.time_zone.parse::<Tz>().is_err() {
        invalid.push(
            "time_zone",
            format!(
                "{:?} is not a time zone name such as Europe/Berlin",
                new.time_zone
            ),
        );
    }
    let currency = invalid.check("currency", Currency::from_code(new.currency));
    if !invalid.is_empty() {
        return Err(invalid.into());
    }
    let currency = currency.expect("checked above");
    let slug = free_slug(
        tx,
        "SELECT id FROM businesses WHERE slug = $1",
        &slugify(new.name),
    )
    .await?;
    let (id,) = query!(
        tx,
        fetch_one as (i64,),
        "INSERT INTO businesses (name, time_zone, currency, slug, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        new.name.trim(),
        new.time_zone,
        currency.code(),
        &slug,
        now
    )?;
    for (position, name) in DEFAULT_MEMBER_TYPES.iter().enumerate() {
        query!(
            tx,
            execute,
            "INSERT INTO member_types (business_id, name, position) VALUES ($1, $2, $3)",
            id,
            *name,
            position as i64
        )?;
    }
    Ok(id)
}

/// Member types every new business starts with; it can change them later.
pub const DEFAULT_MEMBER_TYPES: &[&str] = &["Adult", "Youth", "Student", "Senior"];

/// "Harbour Street" -> "harbour-street": the location's address in public links.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for ch in name.trim().to_lowercase().chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        "location".to_string()
    } else {
        slug
    }
}

/// `base`, or `base-2`, `base-3`, ...: the first slug `taken` (a query for
/// the id of a row with slug $1) finds no row for.
async fn free_slug(tx: &mut Tx, taken: &'static str, base: &str) -> Result<String, Error> {
    let mut slug = base.to_string();
    for n in 2.. {
        if query!(tx, fetch_optional as (i64,), taken, &slug)?.is_none() {
            break;
        }
        slug = format!("{base}-{n}");
    }
    Ok(slug)
}

/// Adds a location with a public slug unique across all businesses ("riverside", "riverside-2", ...).
pub async fn insert_location(
    tx: &mut Tx,
    business_id: i64,
    name: &str,
    address: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Error> {
    if name.trim().is_empty() {
        return Err(Error::invalid("name", "enter the location's name"));
    }
    let slug = free_slug(
        tx,
        "SELECT id FROM locations WHERE slug = $1",
        &slugify(name),
    )
    .await?;
    let (id,) = query!(
        tx,
        fetch_one as (i64,),
        "INSERT INTO locations (business_id, name, address, slug, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        business_id,
        name.trim(),
        address,
        &slug,
        now
    )?;
    Ok(id)
}

/// Creates a business and its first owner in one transaction (the `create-owner` command).
pub async fn create_owner(
    services: &Services,
    business: &NewBusiness<'_>,
    email: &str,
    name: &str,
    password: &str,
) -> Result<(i64, i64), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business_id = insert(&mut tx, business, now).await?;
    let user_id = crate::store::business::insert_staff_user(
        &mut tx,
        business_id,
        email,
        name,
        Role::Owner,
        password,
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        &crate::platform::actor::Actor::system(business_id),
        "business.created",
        "business",
        Some(business_id),
        "{}",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((business_id, user_id))
}

pub async fn count_businesses(services: &Services) -> Result<i64, Error> {
    let mut tx = services.db.begin_read().await?;
    let (n,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM businesses"
    )?;
    tx.commit().await?;
    Ok(n)
}

/// Who is signed in, for the staff app's frame.
pub async fn staff_overview(services: &Services, actor: &Actor) -> Result<StaffOverview, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = load(&mut tx, actor.business_id).await?;
    let (user_name,) = query!(
        &mut tx,
        fetch_one as (String,),
        "SELECT name FROM staff_users WHERE id = $1 AND business_id = $2",
        actor.staff_user_id(),
        actor.business_id
    )?;
    tx.commit().await?;
    Ok(StaffOverview {
        today: services.today(&business),
        simulated: business.simulated_today.is_some(),
        business_name: business.name,
        currency: business.currency,
        time_zone: business.time_zone.name().to_string(),
        user_name,
        role: actor.role().ok_or(Error::Forbidden)?,
    })
}

/// Every business, for the command line's jobs.
pub async fn all(services: &Services) -> Result<Vec<Business>, Error> {
    let mut tx = services.db.begin_read().await?;
    let ids = query!(
        &mut tx,
        fetch_all as (i64,),
        "SELECT id FROM businesses ORDER BY id"
    )?;
    let mut out = Vec::new();
    for (id,) in ids {
        out.push(load(&mut tx, id).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// The dashboard's counts for the actor's business.
pub async fn dashboard_counts(
    services: &Services,
    actor: &Actor,
) -> Result<DashboardCounts, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let (members,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM members WHERE business_id = $1 AND status = $2",
        business.id,
        "active"
    )?;
    let (active_memberships,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM memberships WHERE business_id = $1 AND start_date <= $2 AND (end_date IS NULL OR end_date > $2)",
        business.id,
        today
    )?;
    let (membership_types,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM membership_types WHERE business_id = $1",
        business.id
    )?;
    let (active_membership_types,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM membership_types WHERE business_id = $1 AND status = $2",
        business.id,
        "active"
    )?;
    tx.commit().await?;
    Ok(DashboardCounts {
        members,
        active_memberships,
        membership_types,
        active_membership_types,
    })
}

/// The business's locations, for its settings page.
pub async fn list_locations(
    services: &Services,
    actor: &Actor,
) -> Result<Vec<domain::business::LocationView>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let rows = query!(
        &mut tx,
        fetch_all as (i64, String, String, Option<String>),
        "SELECT id, name, address, slug FROM locations WHERE business_id = $1 ORDER BY name, id",
        actor.business_id
    )?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, address, slug)| domain::business::LocationView {
            id,
            name,
            address,
            slug: slug.unwrap_or_default(),
        })
        .collect())
}

/// Adds a location. Managers and owners; names are unique within the business.
pub async fn create_location(
    services: &Services,
    actor: &Actor,
    form: &domain::business::LocationForm,
) -> Result<domain::business::LocationView, Error> {
    actor.require(Role::Manager)?;
    let new = form.validate()?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let taken = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM locations WHERE business_id = $1 AND LOWER(name) = LOWER($2)",
        actor.business_id,
        &new.name
    )?;
    if taken.is_some() {
        return Err(Error::invalid(
            "name",
            format!("a location named {:?} already exists", new.name),
        ));
    }
    let id = insert_location(&mut tx, actor.business_id, &new.name, &new.address, now).await?;
    let (slug,) = query!(
        &mut tx,
        fetch_one as (Option<String>,),
        "SELECT slug FROM locations WHERE id = $1",
        id
    )?;
    let details = serde_json::json!({ "name": new.name, "slug": slug });
    audit::record(
        &mut tx,
        actor,
        "location.created",
        "location",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(domain::business::LocationView {
        id,
        name: new.name,
        address: new.address,
        slug: slug.unwrap_or_default(),
    })
}

/// The business's billing settings, for the settings page. Viewers and up.
pub async fn billing_settings(
    services: &Services,
    actor: &Actor,
) -> Result<domain::business::BillingSettingsForm, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = load(&mut tx, actor.business_id).await?;
    tx.commit().await?;
    Ok(domain::business::BillingSettingsForm::from_settings(
        &domain::business::BillingSettings {
            dunning: business.dunning.clone(),
            credit_unused_on_cancel: business.credit_unused_on_cancel,
            credit_adjust_limit: u32::try_from(business.credit_adjust_limit).unwrap_or(0),
            overpayment_limit: u32::try_from(business.overpayment_limit).unwrap_or(0),
        },
    ))
}

/// Changes due dates, retries, past due and suspension, and the credit on
/// immediate cancellation. Owners only; audited with the old and new values.
pub async fn update_billing_settings(
    services: &Services,
    actor: &Actor,
    form: &domain::business::BillingSettingsForm,
) -> Result<(), Error> {
    actor.require(Role::Owner)?;
    let settings = form.validate()?;
    let (dunning, credit) = (&settings.dunning, settings.credit_unused_on_cancel);
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let before = load(&mut tx, actor.business_id).await?;
    let retry = dunning
        .retry_days
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    query!(
        &mut tx,
        execute,
        "UPDATE businesses SET terms_days = $1, retry_days = $2, past_due_after_days = $3,
                suspend_after_days = $4, credit_unused_on_cancel = $5, credit_adjust_limit = $6,
                overpayment_limit = $7 WHERE id = $8",
        i64::from(dunning.terms_days),
        retry,
        i64::from(dunning.past_due_after),
        i64::from(dunning.suspend_after),
        credit,
        i64::from(settings.credit_adjust_limit),
        i64::from(settings.overpayment_limit),
        before.id
    )?;
    audit::record(
        &mut tx,
        actor,
        "business.billing_settings_changed",
        "business",
        Some(before.id),
        &format!("{} → {}", before.dunning.describe(), dunning.describe()),
        now,
    )
    .await?;
    // Past due and suspension are read from these days: every membership's
    // stored status is recomputed with them, now rather than at the next
    // daily work.
    let restanding = (before.dunning.past_due_after, before.dunning.suspend_after)
        != (dunning.past_due_after, dunning.suspend_after);
    if restanding {
        crate::store::memberships::mark_all(&mut tx, before.id).await?;
    }
    tx.commit().await?;
    if restanding {
        let mut tx = services.db.begin_read().await?;
        let after = load(&mut tx, before.id).await?;
        tx.commit().await?;
        crate::store::memberships::advance(&services.db, &after, services.today(&after)).await?;
    }
    Ok(())
}
