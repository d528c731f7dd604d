//! The membership catalog: storage and use cases of membership types.
//!
//! A type's identity, presentation and billing shape are columns (they are
//! filtered and sorted on); the rest of its settings (term, benefits,
//! policies, ...) is one JSON document checked by the domain. Prices are
//! versions in `membership_type_prices`; location scope is a join table.

use chrono::NaiveDate;
use domain::catalog::{
    self, CatalogContext, MembershipTypeDetail, MembershipTypeForm, MembershipTypeSummary,
    PurchaseType, TypeFilter, TypeSpec, TypeStatus,
};
use domain::staff::Role;
use domain::{Currency, Invalid, Money};

use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::catalog::{Loaded, Settings, load, load_one};
use crate::{Services, query};

mod arrange;
pub use arrange::{
    change_type_status, delete_membership_type, duplicate_membership_type, move_membership_type,
};

fn summary(t: &Loaded, today: NaiveDate, currency: Currency) -> MembershipTypeSummary {
    let price = catalog::current_price(&t.prices, today);
    MembershipTypeSummary {
        id: t.id,
        name: t.spec.name.clone(),
        color: t.spec.color.clone(),
        purchase_type: t.spec.purchase_type,
        billing_interval: t.spec.billing_interval,
        status: t.status,
        display_order: t.display_order,
        fee: price.map(|p| p.fee).unwrap_or(Money::zero(currency)),
        initiation_fee: price
            .map(|p| p.initiation_fee)
            .unwrap_or(Money::zero(currency)),
        term: t.spec.term.clone(),
        all_locations: t.spec.all_locations,
        location_ids: t.spec.location_ids.clone(),
        memberships: t.memberships,
    }
}

async fn detail(
    tx: &mut Tx,
    business: &Business,
    today: NaiveDate,
    t: Loaded,
) -> Result<MembershipTypeDetail, Error> {
    let locations = crate::store::business::locations(tx, business.id).await?;
    let location_names = if t.spec.all_locations {
        Vec::new()
    } else {
        locations
            .iter()
            .filter(|l| t.spec.location_ids.contains(&l.id))
            .map(|l| l.name.clone())
            .collect()
    };
    let renew_into_name = match t.spec.renew_into {
        Some(id) => query!(
            tx,
            fetch_optional as (String,),
            "SELECT name FROM membership_types WHERE id = $1 AND business_id = $2",
            id,
            business.id
        )?
        .map(|(name,)| name),
        None => None,
    };
    let current_price_id = catalog::current_price(&t.prices, today)
        .map(|p| p.id)
        .unwrap_or(0);
    Ok(MembershipTypeDetail {
        id: t.id,
        status: t.status,
        display_order: t.display_order,
        spec: t.spec,
        prices: t.prices,
        current_price_id,
        memberships: t.memberships,
        location_names,
        renew_into_name,
    })
}

/// Reads the type back as its page shows it, and commits the use case's transaction.
async fn finish_with_detail(
    mut tx: Tx,
    business: &Business,
    today: NaiveDate,
    id: i64,
) -> Result<MembershipTypeDetail, Error> {
    let loaded = load_one(&mut tx, business.id, id).await?;
    let detail = detail(&mut tx, business, today, loaded).await?;
    tx.commit().await?;
    Ok(detail)
}

/// What the domain needs to validate a type of this business.
async fn context(
    tx: &mut Tx,
    business: &Business,
    editing: Option<i64>,
) -> Result<CatalogContext, Error> {
    let location_ids = crate::store::business::locations(tx, business.id)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    let member_types = crate::store::business::member_types(tx, business.id).await?;
    let other_type_ids = query!(
        tx,
        fetch_all as (i64,),
        "SELECT id FROM membership_types WHERE business_id = $1",
        business.id
    )?
    .into_iter()
    .map(|(id,)| id)
    .filter(|id| Some(*id) != editing)
    .collect();
    Ok(CatalogContext {
        currency: business.currency,
        location_ids,
        member_types,
        other_type_ids,
    })
}

fn name_taken(e: sqlx::Error, name: &str) -> Error {
    let e = Error::from(e);
    if e.violates_unique("membership_types", &["business_id", "name"]) {
        Error::invalid(
            "name",
            format!("a membership type named {name:?} already exists"),
        )
    } else {
        e
    }
}

async fn write_locations(
    tx: &mut Tx,
    business_id: i64,
    type_id: i64,
    spec: &TypeSpec,
) -> Result<(), Error> {
    query!(
        tx,
        execute,
        "DELETE FROM membership_type_locations WHERE membership_type_id = $1 AND business_id = $2",
        type_id,
        business_id
    )?;
    for location_id in &spec.location_ids {
        query!(
            tx,
            execute,
            "INSERT INTO membership_type_locations (membership_type_id, location_id, business_id) VALUES ($1, $2, $3)",
            type_id,
            *location_id,
            business_id
        )?;
    }
    Ok(())
}

fn settings_json(spec: &TypeSpec) -> Result<String, Error> {
    serde_json::to_string(&Settings::of(spec))
        .map_err(|e| Error::internal(format!("encoding settings: {e}")))
}

#[allow(clippy::too_many_arguments)]
async fn insert_type(
    tx: &mut Tx,
    business: &Business,
    spec: &TypeSpec,
    status: TypeStatus,
    fee: Money,
    initiation_fee: Money,
    effective_from: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Error> {
    let (next_order,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COALESCE(MAX(display_order), 0) + 10 FROM membership_types WHERE business_id = $1",
        business.id
    )?;
    let (id,) = query!(tx, fetch_one as (i64,),
        "INSERT INTO membership_types (business_id, name, description, color, purchase_type, billing_interval, status,
                                       display_order, all_locations, settings, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        business.id, &spec.name, &spec.description, &spec.color, spec.purchase_type.as_str(),
        spec.billing_interval.map(|i| i.as_str()), status.as_str(), next_order, spec.all_locations,
        settings_json(spec)?, now, now)
    .map_err(|e| name_taken(e, &spec.name))?;
    write_locations(tx, business.id, id, spec).await?;
    query!(tx, execute,
        "INSERT INTO membership_type_prices (business_id, membership_type_id, fee_minor, initiation_fee_minor, currency, effective_from, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        business.id, id, fee.minor, initiation_fee.minor, fee.currency.code(), effective_from, now)?;
    Ok(id)
}

/// Lists the business's membership types that match the filter, in display order,
/// each with the price in effect today.
pub async fn list_membership_types(
    services: &Services,
    actor: &Actor,
    filter: &TypeFilter,
) -> Result<Vec<MembershipTypeSummary>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let loaded = load(&mut tx, business.id, None).await?;
    tx.commit().await?;
    let mut types: Vec<_> = loaded
        .iter()
        .map(|t| summary(t, today, business.currency))
        .filter(|t| filter.matches(t))
        .collect();
    catalog::sort_for_display(&mut types);
    Ok(types)
}

/// A window of the types matching the filter, in the catalog's display
/// order (status, display order, name, id), with every detail, and how many
/// match in all: filtered, ordered, counted and paged in SQL (the API's list).
pub async fn page_of_types(
    services: &Services,
    actor: &Actor,
    filter: &TypeFilter,
    window: crate::platform::db::Window,
) -> Result<(Vec<MembershipTypeDetail>, i64), Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let (ids, count) =
        crate::store::catalog::page_of_types(&mut tx, business.id, filter, window).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let loaded = load_one(&mut tx, business.id, id).await?;
        out.push(detail(&mut tx, &business, today, loaded).await?);
    }
    tx.commit().await?;
    Ok((out, count))
}

/// One membership type of the actor's business; another business's id is `NotFound`.
pub async fn membership_type(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> Result<MembershipTypeDetail, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    finish_with_detail(tx, &business, today, id).await
}

/// What the type form offers to choose from: the business's locations, member types and other types.
pub async fn form_options(
    services: &Services,
    actor: &Actor,
) -> Result<domain::catalog::FormOptions, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let locations = crate::store::business::locations(&mut tx, business.id)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    let member_types = crate::store::business::member_types(&mut tx, business.id).await?;
    let types = query!(
        &mut tx,
        fetch_all as (i64, String),
        "SELECT id, name FROM membership_types WHERE business_id = $1 ORDER BY name",
        business.id
    )?;
    tx.commit().await?;
    Ok(domain::catalog::FormOptions {
        currency: business.currency,
        locations,
        member_types,
        types,
    })
}

/// Creates a membership type with its first price version, effective today. Managers and owners.
pub async fn create_membership_type(
    services: &Services,
    actor: &Actor,
    form: &MembershipTypeForm,
) -> Result<MembershipTypeDetail, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let ctx = context(&mut tx, &business, None).await?;
    let new = form.validate_new(&ctx)?;
    let today = services.today(&business);
    let id = insert_type(
        &mut tx,
        &business,
        &new.spec,
        new.status,
        new.price.fee,
        new.price.initiation_fee,
        today,
        now,
    )
    .await?;
    let details = serde_json::json!({ "name": new.spec.name, "fee_minor": new.price.fee.minor, "status": new.status.as_str() });
    audit::record(
        &mut tx,
        actor,
        "membership_type.created",
        "membership_type",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    finish_with_detail(tx, &business, today, id).await
}

/// Saves a type's settings. Its purchase type and billing interval are fixed once
/// memberships use it: billing already follows them.
pub async fn update_membership_type(
    services: &Services,
    actor: &Actor,
    id: i64,
    form: &MembershipTypeForm,
) -> Result<MembershipTypeDetail, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let current = load_one(&mut tx, business.id, id).await?;
    let ctx = context(&mut tx, &business, Some(id)).await?;
    let spec = form.validate_spec(&ctx)?;
    if current.memberships > 0 {
        let mut invalid = Invalid::default();
        if spec.purchase_type != current.spec.purchase_type {
            invalid.push(
                "purchase_type",
                "memberships use this type: its purchase type cannot change",
            );
        }
        if spec.billing_interval != current.spec.billing_interval {
            invalid.push(
                "billing_interval",
                "memberships use this type: switch their billing cycle instead",
            );
        }
        if !invalid.is_empty() {
            return Err(invalid.into());
        }
    }
    if let Some(price) = catalog::current_price(&current.prices, services.today(&business)) {
        let mut invalid = Invalid::default();
        catalog::check_price(
            Some(spec.purchase_type),
            &price.fee.to_plain(),
            &price.initiation_fee.to_plain(),
            business.currency,
            &mut invalid,
        );
        if !invalid.is_empty() {
            return Err(Error::invalid(
                "purchase_type",
                "the current price does not fit this purchase type: add a price version first",
            ));
        }
    }
    query!(&mut tx, execute,
        "UPDATE membership_types SET name = $1, description = $2, color = $3, purchase_type = $4, billing_interval = $5,
                all_locations = $6, settings = $7, updated_at = $8
          WHERE id = $9 AND business_id = $10",
        &spec.name, &spec.description, &spec.color, spec.purchase_type.as_str(), spec.billing_interval.map(|i| i.as_str()),
        spec.all_locations, settings_json(&spec)?, now, id, business.id)
    .map_err(|e| name_taken(e, &spec.name))?;
    write_locations(&mut tx, business.id, id, &spec).await?;
    let details = serde_json::json!({ "before": current.spec, "after": spec });
    audit::record(
        &mut tx,
        actor,
        "membership_type.updated",
        "membership_type",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    let today = services.today(&business);
    finish_with_detail(tx, &business, today, id).await
}

/// Adds a price version from a date (today or later). Memberships already sold keep their version.
pub async fn add_price_version(
    services: &Services,
    actor: &Actor,
    id: i64,
    fee: &str,
    initiation_fee: &str,
    effective_from: &str,
) -> Result<MembershipTypeDetail, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let current = load_one(&mut tx, business.id, id).await?;
    let mut invalid = Invalid::default();
    let price = catalog::check_price(
        Some(current.spec.purchase_type),
        fee,
        initiation_fee,
        business.currency,
        &mut invalid,
    );
    let from = match NaiveDate::parse_from_str(effective_from.trim(), "%Y-%m-%d") {
        Ok(date) => match catalog::check_new_price_version(&current.prices, date, today) {
            Ok(()) => Some(date),
            Err(message) => {
                invalid.push("effective_from", message);
                None
            }
        },
        Err(_) => {
            invalid.push("effective_from", "enter a date as YYYY-MM-DD");
            None
        }
    };
    let (Some(price), Some(from), true) = (price, from, invalid.is_empty()) else {
        return Err(invalid.into());
    };
    query!(&mut tx, execute,
        "INSERT INTO membership_type_prices (business_id, membership_type_id, fee_minor, initiation_fee_minor, currency, effective_from, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        business.id, id, price.fee.minor, price.initiation_fee.minor, business.currency.code(), from, now)?;
    let details = serde_json::json!({ "fee_minor": price.fee.minor, "initiation_fee_minor": price.initiation_fee.minor, "effective_from": from.to_string() });
    audit::record(
        &mut tx,
        actor,
        "membership_type.price_added",
        "membership_type",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    finish_with_detail(tx, &business, today, id).await
}

/// The public "join" page of a location: its business and the active types offered there.
pub async fn public_offer(
    services: &Services,
    location_slug: &str,
) -> Result<domain::catalog::PublicOffer, Error> {
    let mut tx = services.db.begin_read().await?;
    let (location_id, location_name, business_id) = query!(
        &mut tx,
        fetch_optional as (i64, String, i64),
        "SELECT id, name, business_id FROM locations WHERE slug = $1",
        location_slug
    )?
    .ok_or(Error::NotFound)?;
    let business = crate::store::business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    let loaded = load(&mut tx, business.id, None).await?;
    tx.commit().await?;
    let filter = TypeFilter {
        status: Some(TypeStatus::Active),
        location_id: Some(location_id),
        ..Default::default()
    };
    // Benefits are granted by staff, not sold: they are never on a public page.
    let mut offered: Vec<&Loaded> = loaded
        .iter()
        .filter(|t| t.spec.purchase_type != PurchaseType::Benefit)
        .filter(|t| filter.matches(&summary(t, today, business.currency)))
        .collect();
    offered.sort_by_key(|t| (t.display_order, t.spec.name.to_lowercase()));
    let types = offered
        .into_iter()
        .map(|t| {
            let price = catalog::current_price(&t.prices, today);
            domain::catalog::PublicType::new(
                t.id,
                &t.spec,
                price
                    .map(|p| p.fee)
                    .unwrap_or(Money::zero(business.currency)),
                price
                    .map(|p| p.initiation_fee)
                    .unwrap_or(Money::zero(business.currency)),
            )
        })
        .collect();
    Ok(domain::catalog::PublicOffer {
        business_name: business.name,
        business_slug: business.slug,
        location_name,
        types,
    })
}
