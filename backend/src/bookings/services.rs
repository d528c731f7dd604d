//! The bookable services of the business, their timetables and locations,
//! and the business's local time they are read in.

use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::{Tx, Window};
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::{Services, query};
use chrono::NaiveDateTime;
use domain::Invalid;
use domain::bookings::{ServiceForm, ServiceView};
use domain::staff::Role;

pub(crate) async fn location_ids(
    tx: &mut Tx,
    business_id: i64,
) -> Result<Vec<(i64, String)>, Error> {
    Ok(query!(
        tx,
        fetch_all as (i64, String),
        "SELECT id, name FROM locations WHERE business_id = $1 ORDER BY name",
        business_id
    )?)
}

pub(crate) async fn load_services(
    tx: &mut Tx,
    business_id: i64,
) -> Result<Vec<ServiceView>, Error> {
    let rows = query!(
        tx,
        fetch_all as ServiceRow,
        sqlx::AssertSqlSafe(format!(
            "{SERVICE_SELECT} WHERE s.business_id = $1 ORDER BY s.name, s.id"
        )),
        business_id
    )?;
    rows.into_iter().map(service_view).collect()
}

const SERVICE_SELECT: &str = "SELECT s.id, s.spec, s.active, l.name FROM services s LEFT JOIN locations l ON l.id = s.location_id";

type ServiceRow = (i64, String, bool, Option<String>);

fn service_view((id, spec, active, location): ServiceRow) -> Result<ServiceView, Error> {
    Ok(ServiceView {
        id,
        spec: serde_json::from_str(&spec)
            .map_err(|e| Error::internal(format!("service {id}: {e}")))?,
        location: location.unwrap_or_else(|| "Every location".into()),
        active,
    })
}

/// The business's services, by name. Viewers and up.
pub async fn services(services: &Services, actor: &Actor) -> Result<Vec<ServiceView>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let list = load_services(&mut tx, actor.business_id).await?;
    tx.commit().await?;
    Ok(list)
}

/// A window of the business's services by name, and how many there are:
/// the API's list. Viewers and up.
pub async fn page_of_services(
    services: &Services,
    actor: &Actor,
    window: Window,
) -> Result<(Vec<ServiceView>, i64), Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let (total,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM services WHERE business_id = $1",
        actor.business_id
    )?;
    let rows = query!(
        &mut tx,
        fetch_all as ServiceRow,
        sqlx::AssertSqlSafe(format!(
            "{SERVICE_SELECT} WHERE s.business_id = $1 ORDER BY s.name, s.id LIMIT $2 OFFSET $3"
        )),
        actor.business_id,
        window.limit,
        window.offset
    )?;
    tx.commit().await?;
    let list = rows
        .into_iter()
        .map(service_view)
        .collect::<Result<_, Error>>()?;
    Ok((list, total))
}

/// Adds a service. Managers and owners.
pub async fn create_service(
    services: &Services,
    actor: &Actor,
    form: &ServiceForm,
) -> Result<i64, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let locations: Vec<i64> = location_ids(&mut tx, business.id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let spec = form.validate(business.currency, &locations)?;
    let json = serde_json::to_string(&spec).map_err(|e| Error::internal(e.to_string()))?;
    let inserted: Result<(i64,), Error> = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO services (business_id, location_id, name, spec, active, created_at) VALUES ($1, $2, $3, $4, TRUE, $5) RETURNING id",
        business.id, spec.location_id, &spec.name, json, now)
    .map_err(Error::from);
    let (id,) = match inserted {
        Ok(row) => row,
        Err(e) if e.violates_unique("services", &["business_id", "name"]) => {
            return Err(Invalid::one("name", "a service of this name exists already").into());
        }
        Err(e) => return Err(e),
    };
    audit::record(
        &mut tx,
        actor,
        "service.created",
        "service",
        Some(id),
        &spec.describe(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Takes a service off the schedule, or puts it back (bookings stay).
pub async fn set_service_active(
    services: &Services,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<(), Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let n = query!(
        &mut tx,
        execute,
        "UPDATE services SET active = $3 WHERE business_id = $1 AND id = $2",
        actor.business_id,
        id,
        active
    )?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        actor,
        if active {
            "service.activated"
        } else {
            "service.deactivated"
        },
        "service",
        Some(id),
        "",
        now,
    )
    .await?;
    tx.commit().await
}

/// The business's local date and time now.
pub(crate) fn local_now(services: &Services, business: &Business) -> NaiveDateTime {
    let now = services
        .clock
        .now()
        .with_timezone(&business.time_zone)
        .naive_local();
    // On the simulated clock the day moves, the time of day does not.
    services.today(business).and_time(now.time())
}
