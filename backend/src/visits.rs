//! Recurring services: types of visit a membership type includes, the
//! service addresses of memberships, and their visits, generated a year ahead
//! (keyed by address and due date, so generating again writes nothing twice),
//! scheduled, completed or cancelled by staff.

use chrono::{Months, NaiveDate};
use domain::Invalid;
use domain::paging::{self, Listed};
use domain::staff::Role;
use domain::visits::{
    RecurringServiceForm, RecurringServiceSpec, ScheduleVisitForm, ServiceAddressForm, VisitFilter,
    VisitStatus, VisitsPage, due_dates,
};

use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::{Tx, Window};
use crate::platform::error::Error;
use crate::store::bookings::page_of;
use crate::store::memberships::{load_membership, types};
use crate::{Services, query};

async fn load_services(
    tx: &mut Tx,
    business_id: i64,
) -> Result<Vec<(i64, RecurringServiceSpec)>, Error> {
    query!(
        tx,
        fetch_all as (i64, String),
        "SELECT id, spec FROM recurring_services WHERE business_id = $1 ORDER BY name",
        business_id
    )?
    .into_iter()
    .map(|(id, spec)| {
        Ok((
            id,
            serde_json::from_str(&spec)
                .map_err(|e| Error::internal(format!("recurring service {id}: {e}")))?,
        ))
    })
    .collect()
}

/// Adds a recurring service type. Managers and owners.
pub async fn create_service(
    services: &Services,
    actor: &Actor,
    form: &RecurringServiceForm,
) -> Result<i64, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let types: Vec<i64> = types(&mut tx, actor.business_id)
        .await?
        .into_keys()
        .collect();
    let spec = form.validate(&types)?;
    let json = serde_json::to_string(&spec).map_err(|e| Error::internal(e.to_string()))?;
    let inserted: Result<(i64,), Error> = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO recurring_services (business_id, name, spec, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        actor.business_id, &spec.name, json, now)
    .map_err(Error::from);
    let (id,) = match inserted {
        Ok(row) => row,
        Err(e) if e.violates_unique("recurring_services", &["business_id", "name"]) => {
            return Err(
                Invalid::one("name", "a recurring service of this name exists already").into(),
            );
        }
        Err(e) => return Err(e),
    };
    audit::record(
        &mut tx,
        actor,
        "recurring_service.created",
        "recurring_service",
        Some(id),
        &spec.name,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds a service address to a membership whose type includes the service,
/// and generates its visits for the coming year. Front desk and up.
pub async fn add_address(
    services: &Services,
    actor: &Actor,
    form: &ServiceAddressForm,
) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let mut invalid = Invalid::default();
    let membership_id = form.membership_id.trim().parse::<i64>().ok();
    if membership_id.is_none() {
        invalid.push("membership_id", "enter the membership's number");
    }
    let service_id = form.recurring_service_id.trim().parse::<i64>().ok();
    if service_id.is_none() {
        invalid.push("recurring_service_id", "choose a recurring service");
    }
    let address = form.address.trim().to_string();
    if address.is_empty() {
        invalid.push("address", "enter the address the visits go to");
    } else if address.chars().count() > 200 {
        invalid.push("address", "use at most 200 characters");
    }
    let first_due = match form.first_due.trim() {
        "" => Some(today),
        t => invalid.check(
            "first_due",
            NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| "enter a date as YYYY-MM-DD"),
        ),
    };
    let (Some(membership_id), Some(service_id), Some(first_due)) =
        (membership_id, service_id, first_due)
    else {
        return Err(invalid.into());
    };
    if !invalid.is_empty() {
        return Err(invalid.into());
    }
    let stored = load_membership(&mut tx, business.id, membership_id)
        .await
        .map_err(|e| match e {
            Error::NotFound => {
                Invalid::one("membership_id", "no membership has this number").into()
            }
            e => e,
        })?;
    let (_, spec) = load_services(&mut tx, business.id)
        .await?
        .into_iter()
        .find(|(id, _)| *id == service_id)
        .ok_or_else(|| Invalid::one("recurring_service_id", "choose a recurring service"))?;
    if !spec.type_ids.contains(&stored.row.membership_type_id) {
        return Err(Error::Conflict(format!(
            "This membership's type does not include {}.",
            spec.name
        )));
    }
    let (id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO service_addresses (business_id, membership_id, recurring_service_id, address, first_due, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        business.id, membership_id, service_id, &address, first_due, now)?;
    generate(&mut tx, business.id, today, now).await?;
    audit::record(
        &mut tx,
        actor,
        "service_address.added",
        "membership",
        Some(membership_id),
        &format!("{}: {address}", spec.name),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes the visits due within a year from `today` that are not written
/// yet, for every service address of the business. Returns how many.
pub(crate) async fn generate(
    tx: &mut Tx,
    business_id: i64,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, Error> {
    let specs = load_services(tx, business_id).await?;
    let addresses = query!(
        tx,
        fetch_all as (i64, i64, NaiveDate),
        "SELECT id, recurring_service_id, first_due FROM service_addresses WHERE business_id = $1",
        business_id
    )?;
    let until = today + Months::new(12);
    let mut written = 0;
    for (address, service, first) in addresses {
        let Some((_, spec)) = specs.iter().find(|(id, _)| *id == service) else {
            continue;
        };
        for due in due_dates(first, spec.visits_per_year, until) {
            let inserted = query!(tx, execute,
                "INSERT INTO service_visits (business_id, service_address_id, due_on, status, changed_at)
                 VALUES ($1, $2, $3, 'not_scheduled', $4) ON CONFLICT (service_address_id, due_on) DO NOTHING",
                business_id, address, due, now)?;
            written += inserted as usize;
        }
    }
    Ok(written)
}

/// The visits page: recurring services and the visits by status and dates.
/// Viewers and up.
pub async fn page(
    services: &Services,
    actor: &Actor,
    filter: &VisitFilter,
) -> Result<VisitsPage, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let mut invalid = Invalid::default();
    let status = match filter.status.trim() {
        "" => None,
        t => {
            let s = VisitStatus::parse(t);
            if s.is_none() {
                invalid.push("status", "choose a status from the list");
            }
            s
        }
    };
    let mut date = |field: &str, text: &str| match text.trim() {
        "" => None,
        t => invalid.check(
            field,
            NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| "enter a date as YYYY-MM-DD"),
        ),
    };
    let from = date("from", &filter.from);
    let to = date("to", &filter.to);
    let page = match paging::page_number(&filter.page) {
        Ok(page) => page,
        Err(message) => {
            invalid.push("page", message);
            1
        }
    };
    if !invalid.is_empty() {
        return Err(invalid.into());
    }
    let all_types = types(&mut tx, business.id).await?;
    let specs = load_services(&mut tx, business.id).await?;
    let window = Window {
        offset: paging::offset_of(page, paging::PER_PAGE),
        limit: paging::PER_PAGE,
    };
    let (rows, total) = page_of(&mut tx, business.id, status, from, to, window).await?;
    tx.commit().await?;
    let mut types: Vec<(i64, String)> = all_types
        .values()
        .filter(|t| t.status == domain::catalog::TypeStatus::Active)
        .map(|t| (t.id, t.spec.name.clone()))
        .collect();
    types.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(VisitsPage {
        services: specs
            .into_iter()
            .map(|(id, s)| {
                let names = s
                    .type_ids
                    .iter()
                    .filter_map(|t| all_types.get(t).map(|l| l.spec.name.clone()))
                    .collect::<Vec<_>>()
                    .join(", ");
                (id, s.name, s.visits_per_year, names)
            })
            .collect(),
        types,
        visits: Listed {
            rows,
            total,
            page,
            per_page: paging::PER_PAGE,
        },
        can_change: actor.allows(Role::FrontDesk),
        can_manage: actor.allows(Role::Manager),
    })
}

/// Schedules a visit (or moves it), completes or cancels it. Front desk and up.
pub async fn change(
    services: &Services,
    actor: &Actor,
    id: i64,
    to: VisitStatus,
    when: &ScheduleVisitForm,
) -> Result<(), Error> {
    actor.require(Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let (status,) = query!(
        &mut tx,
        fetch_optional as (String,),
        "SELECT status FROM service_visits WHERE business_id = $1 AND id = $2",
        business.id,
        id
    )?
    .ok_or(Error::NotFound)?;
    let from =
        VisitStatus::parse(&status).ok_or_else(|| Error::internal(format!("visit {id} status")))?;
    if matches!(from, VisitStatus::Completed | VisitStatus::Cancelled) {
        return Err(Error::Conflict(format!(
            "This visit is {}: it cannot change any more.",
            from.label().to_lowercase()
        )));
    }
    let at = match to {
        VisitStatus::Scheduled => Some(when.parse(services.today(&business))?),
        VisitStatus::Completed if from != VisitStatus::Scheduled => {
            return Err(Error::Conflict(
                "Schedule the visit before completing it.".into(),
            ));
        }
        VisitStatus::NotScheduled => {
            return Err(Invalid::one("status", "schedule, complete or cancel the visit").into());
        }
        _ => None,
    };
    query!(&mut tx, execute,
        "UPDATE service_visits SET status = $3, scheduled_at = COALESCE($4, scheduled_at), changed_at = $5
          WHERE business_id = $1 AND id = $2",
        business.id, id, to.as_str(), at, now)?;
    audit::record(
        &mut tx,
        actor,
        "visit.changed",
        "visit",
        Some(id),
        to.as_str(),
        now,
    )
    .await?;
    tx.commit().await
}
