//! The membership catalog: use cases and storage of membership types.

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::catalog::{
    self, BillingInterval, MembershipTypeForm, MembershipTypeSummary, PurchaseType, TypeStatus,
};
use domain::staff::Role;
use domain::{Currency, Money};

use crate::audit::{self, By};
use crate::auth::Actor;
use crate::business;
use crate::error::Error;
use crate::{Services, query};

#[derive(sqlx::FromRow)]
struct TypeRow {
    id: i64,
    name: String,
    purchase_type: String,
    billing_interval: Option<String>,
    status: String,
    display_order: i64,
}

#[derive(sqlx::FromRow)]
struct PriceRow {
    membership_type_id: i64,
    fee_minor: i64,
    currency: String,
    effective_from: NaiveDate,
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} {value:?} is not known"))
}

/// Lists the business's membership types in display order, each with the price in effect today.
pub async fn list_membership_types(
    services: &Services,
    actor: &Actor,
) -> Result<Vec<MembershipTypeSummary>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let rows = query!(
        &mut tx,
        fetch_all as TypeRow,
        "SELECT id, name, purchase_type, billing_interval, status, display_order FROM membership_types WHERE business_id = $1",
        business.id
    )?;
    let prices =
        query!(&mut tx, fetch_all as PriceRow,
        "SELECT membership_type_id, fee_minor, currency, effective_from FROM membership_type_prices
          WHERE business_id = $1 ORDER BY effective_from, id",
        business.id)?;
    let counts: HashMap<i64, i64> = query!(&mut tx, fetch_all as (i64, i64),
        "SELECT membership_type_id, COUNT(*) FROM memberships WHERE business_id = $1 GROUP BY membership_type_id",
        business.id)?
        .into_iter()
        .collect();
    tx.commit().await?;

    // The price in effect is the latest version that started on or before today;
    // a type whose only prices start later shows its first one.
    let mut current: HashMap<i64, &PriceRow> = HashMap::new();
    for price in &prices {
        let slot = current.entry(price.membership_type_id).or_insert(price);
        if price.effective_from <= today {
            *slot = price;
        }
    }
    let mut types = rows
        .into_iter()
        .map(|row| {
            let price = current.get(&row.id).ok_or_else(|| {
                Error::internal(format!("membership type {} has no price", row.id))
            })?;
            let currency = Currency::from_code(&price.currency)
                .map_err(|_| corrupt("currency", &price.currency))?;
            Ok(MembershipTypeSummary {
                id: row.id,
                purchase_type: PurchaseType::parse(&row.purchase_type)
                    .ok_or_else(|| corrupt("purchase type", &row.purchase_type))?,
                billing_interval: match row.billing_interval.as_deref() {
                    None => None,
                    Some(text) => Some(
                        BillingInterval::parse(text)
                            .ok_or_else(|| corrupt("billing interval", text))?,
                    ),
                },
                status: TypeStatus::parse(&row.status)
                    .ok_or_else(|| corrupt("status", &row.status))?,
                display_order: row.display_order,
                fee: Money::new(price.fee_minor, currency),
                memberships: counts.get(&row.id).copied().unwrap_or(0),
                name: row.name,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    catalog::sort_for_display(&mut types);
    Ok(types)
}

/// Creates a membership type with its first price version, effective today. Managers and owners.
pub async fn create_membership_type(
    services: &Services,
    actor: &Actor,
    form: &MembershipTypeForm,
) -> Result<MembershipTypeSummary, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let new = form.validate(business.currency)?;
    let today = services.today(&business);
    let (next_order,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COALESCE(MAX(display_order), 0) + 10 FROM membership_types WHERE business_id = $1",
        business.id
    )?;
    let inserted = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO membership_types (business_id, name, purchase_type, billing_interval, status, display_order, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        business.id, &new.name, new.purchase_type.as_str(), new.billing_interval.map(|i| i.as_str()),
        new.status.as_str(), next_order, now, now);
    let (id,) = match inserted {
        Ok(row) => row,
        Err(e) => {
            let e = Error::from(e);
            return Err(if e.is_unique_violation() {
                Error::invalid(
                    "name",
                    format!("a membership type named {:?} already exists", new.name),
                )
            } else {
                e
            });
        }
    };
    query!(&mut tx, execute,
        "INSERT INTO membership_type_prices (business_id, membership_type_id, fee_minor, initiation_fee_minor, currency, effective_from, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        business.id, id, new.fee.minor, 0i64, new.fee.currency.code(), today, now)?;
    let details = serde_json::json!({ "name": new.name, "fee_minor": new.fee.minor, "status": new.status.as_str() });
    audit::record(
        &mut tx,
        business.id,
        By::Staff(actor.staff_user_id),
        "membership_type.created",
        "membership_type",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(MembershipTypeSummary {
        id,
        name: new.name,
        purchase_type: new.purchase_type,
        billing_interval: new.billing_interval,
        status: new.status,
        display_order: next_order,
        fee: new.fee,
        memberships: 0,
    })
}

/// One membership type of the actor's business; another business's id is `NotFound`.
pub async fn membership_type(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> Result<MembershipTypeSummary, Error> {
    list_membership_types(services, actor)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(Error::NotFound)
}
