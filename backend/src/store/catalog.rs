//! Rows of the catalog: membership types (columns plus a JSON document of
//! settings checked by the domain), their price versions and locations.

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;
use chrono::NaiveDate;
use domain::catalog::{
    Benefits, BillingInterval, EndAction, GroupPolicy, Policies, PriceVersion, PurchaseType, Term,
    TypeSpec, TypeStatus,
};
use domain::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The part of a type's settings stored as JSON. Missing keys take defaults,
/// so documents written before a setting existed still read.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    pub(crate) term: Term,
    pub(crate) end_action: EndAction,
    pub(crate) renew_into: Option<i64>,
    pub(crate) punch_card_credits: Option<u32>,
    pub(crate) member_types: Vec<String>,
    pub(crate) youth: bool,
    pub(crate) group: Option<GroupPolicy>,
    pub(crate) benefits: Benefits,
    pub(crate) policies: Policies,
    pub(crate) revenue_account: String,
    pub(crate) deferred_revenue: bool,
}

impl Settings {
    pub(crate) fn of(spec: &TypeSpec) -> Settings {
        Settings {
            term: spec.term.clone(),
            end_action: spec.end_action,
            renew_into: spec.renew_into,
            punch_card_credits: spec.punch_card_credits,
            member_types: spec.member_types.clone(),
            youth: spec.youth,
            group: spec.group.clone(),
            benefits: spec.benefits.clone(),
            policies: spec.policies.clone(),
            revenue_account: spec.revenue_account.clone(),
            deferred_revenue: spec.deferred_revenue,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TypeRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) color: String,
    pub(crate) purchase_type: String,
    pub(crate) billing_interval: Option<String>,
    pub(crate) status: String,
    pub(crate) display_order: i64,
    pub(crate) all_locations: bool,
    pub(crate) settings: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PriceRow {
    pub(crate) id: i64,
    pub(crate) membership_type_id: i64,
    pub(crate) fee_minor: i64,
    pub(crate) initiation_fee_minor: i64,
    pub(crate) currency: String,
    pub(crate) effective_from: NaiveDate,
}

/// The business's catalog by type id, loaded once per request.
pub(crate) type Types = std::collections::HashMap<i64, Loaded>;

/// A membership type with its price versions, as the domain reads it.
pub(crate) struct Loaded {
    pub(crate) id: i64,
    pub(crate) status: TypeStatus,
    pub(crate) display_order: i64,
    pub(crate) spec: TypeSpec,
    pub(crate) prices: Vec<PriceVersion>,
    pub(crate) memberships: i64,
}

impl Loaded {
    /// The type as a lifecycle request reads it.
    pub(crate) fn offered(&self) -> domain::lifecycle::request::Offered<'_> {
        domain::lifecycle::request::Offered {
            id: self.id,
            on_sale: self.status == TypeStatus::Active,
            spec: &self.spec,
            prices: &self.prices,
        }
    }
}

pub(crate) fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} {value:?} is not known"))
}

/// Loads every type of the business (or the one with `only`), with prices, locations and counts.
pub(crate) async fn load(
    tx: &mut Tx,
    business_id: i64,
    only: Option<i64>,
) -> Result<Vec<Loaded>, Error> {
    crate::platform::tally::catalog_loaded();
    load_with(tx, business_id, only, true).await
}

/// The types with these ids, as rules read them, without the counts of
/// memberships per price (which read every membership of the business): what
/// recomputing one membership's projection after a payment needs.
pub(crate) async fn specs(tx: &mut Tx, business_id: i64, ids: &[i64]) -> Result<Types, Error> {
    let mut types = Types::new();
    for id in ids {
        if !types.contains_key(id) {
            for loaded in load_with(tx, business_id, Some(*id), false).await? {
                types.insert(loaded.id, loaded);
            }
        }
    }
    Ok(types)
}

/// Every type of the business, without the per-price membership counts
/// (which read every membership): what lists need to name types.
pub(crate) async fn specs_all(tx: &mut Tx, business_id: i64) -> Result<Types, Error> {
    Ok(load_with(tx, business_id, None, false)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect())
}

async fn load_with(
    tx: &mut Tx,
    business_id: i64,
    only: Option<i64>,
    count_memberships: bool,
) -> Result<Vec<Loaded>, Error> {
    let rows = query!(tx, fetch_all as TypeRow,
        "SELECT id, name, description, color, purchase_type, billing_interval, status, display_order, all_locations, settings
           FROM membership_types WHERE business_id = $1 AND ($2 = 0 OR id = $2)",
        business_id, only.unwrap_or(0))?;
    let prices =
        query!(tx, fetch_all as PriceRow,
        "SELECT id, membership_type_id, fee_minor, initiation_fee_minor, currency, effective_from
           FROM membership_type_prices WHERE business_id = $1 ORDER BY effective_from, id",
        business_id)?;
    let per_price: HashMap<i64, i64> = if count_memberships {
        query!(
            tx,
            fetch_all as (i64, i64),
            "SELECT price_id, COUNT(*) FROM memberships WHERE business_id = $1 GROUP BY price_id",
            business_id
        )?
        .into_iter()
        .collect()
    } else {
        HashMap::new()
    };
    let links = query!(
        tx,
        fetch_all as (i64, i64),
        "SELECT membership_type_id, location_id FROM membership_type_locations WHERE business_id = $1 ORDER BY location_id",
        business_id
    )?;

    let mut prices_by_type: HashMap<i64, Vec<PriceVersion>> = HashMap::new();
    for p in prices {
        let currency =
            Currency::from_code(&p.currency).map_err(|_| corrupt("currency", &p.currency))?;
        prices_by_type
            .entry(p.membership_type_id)
            .or_default()
            .push(PriceVersion {
                id: p.id,
                fee: Money::new(p.fee_minor, currency),
                initiation_fee: Money::new(p.initiation_fee_minor, currency),
                effective_from: p.effective_from,
                memberships: per_price.get(&p.id).copied().unwrap_or(0),
            });
    }
    let mut locations_by_type: HashMap<i64, Vec<i64>> = HashMap::new();
    for (type_id, location_id) in links {
        locations_by_type
            .entry(type_id)
            .or_default()
            .push(location_id);
    }

    rows.into_iter()
        .map(|row| {
            let settings: Settings = serde_json::from_str(&row.settings).map_err(|e| {
                Error::internal(format!("settings of membership type {}: {e}", row.id))
            })?;
            let prices = prices_by_type.remove(&row.id).unwrap_or_default();
            let spec = TypeSpec {
                purchase_type: PurchaseType::parse(&row.purchase_type)
                    .ok_or_else(|| corrupt("purchase type", &row.purchase_type))?,
                billing_interval: match row.billing_interval.as_deref() {
                    None => None,
                    Some(text) => Some(
                        BillingInterval::parse(text)
                            .ok_or_else(|| corrupt("billing interval", text))?,
                    ),
                },
                name: row.name,
                description: row.description,
                color: row.color,
                term: settings.term,
                end_action: settings.end_action,
                renew_into: settings.renew_into,
                punch_card_credits: settings.punch_card_credits,
                all_locations: row.all_locations,
                location_ids: locations_by_type.remove(&row.id).unwrap_or_default(),
                member_types: settings.member_types,
                youth: settings.youth,
                group: settings.group,
                benefits: settings.benefits,
                policies: settings.policies,
                revenue_account: settings.revenue_account,
                deferred_revenue: settings.deferred_revenue,
            };
            Ok(Loaded {
                id: row.id,
                status: TypeStatus::parse(&row.status)
                    .ok_or_else(|| corrupt("status", &row.status))?,
                display_order: row.display_order,
                memberships: prices.iter().map(|p| p.memberships).sum(),
                prices,
                spec,
            })
        })
        .collect()
}

pub(crate) async fn load_one(tx: &mut Tx, business_id: i64, id: i64) -> Result<Loaded, Error> {
    load(tx, business_id, Some(id))
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// The ids of a window of the types matching `filter`, in the catalog's
/// display order (`domain::catalog::sort_for_display`: active, draft,
/// retired; then display order, name, id), and how many match in all.
pub(crate) async fn page_of_types(
    tx: &mut Tx,
    business_id: i64,
    filter: &domain::catalog::TypeFilter,
    window: crate::platform::db::Window,
) -> Result<(Vec<i64>, i64), Error> {
    // A business's catalog is tens of rows: one statement with every
    // condition bound reads them on the business's index. (The name is
    // lowered by each database: SQLite's LOWER folds ASCII letters only.)
    const MATCHING: &str = "FROM membership_types t WHERE t.business_id = $1
        AND (($2 = '' AND ($3 OR t.status <> 'retired')) OR t.status = $2)
        AND ($4 = '' OR t.purchase_type = $4)
        AND ($5 = 0 OR t.all_locations = $6
             OR EXISTS (SELECT 1 FROM membership_type_locations l WHERE l.membership_type_id = t.id AND l.location_id = $5))
        AND ($7 = '' OR LOWER(t.name) LIKE $8 ESCAPE '\\')";
    let status = filter.status.map_or("", |s| s.as_str());
    let purchase_type = filter.purchase_type.map_or("", |p| p.as_str());
    let location = filter.location_id.unwrap_or(0);
    let search = filter.search.trim().to_lowercase();
    let like = format!(
        "%{}%",
        search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    // Both statements bind the filter's values first, in this order.
    macro_rules! matching {
        ($method:ident as $ty:ty, $sql:expr $(, $more:expr)*) => {
            query!(tx, $method as $ty, sqlx::AssertSqlSafe($sql),
                business_id, status, filter.include_retired, purchase_type, location, true,
                &search, &like $(, $more)*)
        };
    }
    let (count,) = matching!(fetch_one as (i64,), format!("SELECT COUNT(*) {MATCHING}"))?;
    let ids = matching!(
        fetch_all as (i64,),
        format!(
            "SELECT t.id {MATCHING}
              ORDER BY CASE t.status WHEN 'active' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END,
                       t.display_order, LOWER(t.name), t.id
              LIMIT $9 OFFSET $10"
        ),
        window.limit,
        window.offset
    )?;
    Ok((ids.into_iter().map(|(id,)| id).collect(), count))
}
