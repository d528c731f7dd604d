//! Organizations and their authorized members.

use chrono::NaiveDate;
use domain::organizations::{
    self as rules, AuthorizedMember, OrganizationDetails, OrganizationForm, OrganizationSummary,
    OrganizationView,
};
use domain::paging::{self, Listed};
use domain::staff::Role;

use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::{Tx, Window};
use crate::platform::error::Error;
use crate::{Services, query};

#[derive(sqlx::FromRow)]
struct OrganizationRow {
    name: String,
    contact_name: String,
    email: String,
    phone: String,
    billing_address: String,
    max_members: Option<i64>,
}

impl OrganizationRow {
    fn details(&self) -> OrganizationDetails {
        OrganizationDetails {
            name: self.name.clone(),
            contact_name: self.contact_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            billing_address: self.billing_address.clone(),
            max_members: self.max_members.and_then(|n| u32::try_from(n).ok()),
        }
    }
}

fn name_taken(e: sqlx::Error, name: &str) -> Error {
    let e = Error::from(e);
    if e.violates_unique("organizations", &["business_id", "name"]) {
        Error::invalid(
            "name",
            format!("an organization named {name:?} already exists"),
        )
    } else {
        e
    }
}

async fn load(tx: &mut Tx, business_id: i64, id: i64) -> Result<OrganizationRow, Error> {
    query!(tx, fetch_optional as OrganizationRow,
        "SELECT name, contact_name, email, phone, billing_address, max_members FROM organizations WHERE business_id = $1 AND id = $2 AND deleted_at IS NULL",
        business_id, id)?
    .ok_or(Error::NotFound)
}

async fn authorized(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<Vec<AuthorizedMember>, Error> {
    Ok(query!(
        tx,
        fetch_all as (i64, i64, String, String, NaiveDate),
        "SELECT m.id, m.member_number, m.first_name, m.last_name, om.added_on
           FROM organization_members om JOIN members m ON m.id = om.member_id
          WHERE om.business_id = $1 AND om.organization_id = $2 AND om.removed_at IS NULL
          ORDER BY m.last_name_lc, m.first_name_lc, m.id",
        business_id,
        id
    )?
    .into_iter()
    .map(
        |(member_id, member_number, first, last, since)| AuthorizedMember {
            member_id,
            member_number,
            name: format!("{first} {last}"),
            since,
        },
    )
    .collect())
}

async fn view(
    tx: &mut Tx,
    services: &Services,
    business_id: i64,
    id: i64,
) -> Result<OrganizationView, Error> {
    view_page(tx, services, business_id, id, 1).await
}

/// The organization's page, with page `memberships_page` of its memberships.
async fn view_page(
    tx: &mut Tx,
    services: &Services,
    business_id: i64,
    id: i64,
    memberships_page: i64,
) -> Result<OrganizationView, Error> {
    let row = load(tx, business_id, id).await?;
    let business = crate::store::business::load(tx, business_id).await?;
    let today = services.today(&business);
    Ok(OrganizationView {
        id,
        details: row.details(),
        authorized: authorized(tx, business_id, id).await?,
        memberships: crate::engine::lifecycle::held_by(
            tx,
            &business,
            crate::store::memberships::HolderRef::Organization(id),
            today,
            memberships_page,
        )
        .await?,
    })
}

/// Deletes an organization that has no running membership (held or paid by
/// it). The row is hidden, not removed: its memberships' history keeps it.
pub async fn delete_organization(services: &Services, actor: &Actor, id: i64) -> Result<(), Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let row = load(&mut tx, actor.business_id, id).await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let running =
        crate::store::memberships::running_for_organization(&mut tx, &business, id, today).await?;
    rules::check_delete(&row.name, &running).map_err(Error::Conflict)?;
    query!(
        &mut tx,
        execute,
        "UPDATE organizations SET deleted_at = $1 WHERE business_id = $2 AND id = $3",
        now,
        actor.business_id,
        id
    )?;
    audit::record(
        &mut tx,
        actor,
        "organization.deleted",
        "organization",
        Some(id),
        &serde_json::json!({ "name": row.name }).to_string(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A window of the business's organizations by name, and how many there
/// are: counted and paged in SQL (the name is unique in a business and
/// indexed with it).
pub async fn page_of_organizations(
    services: &Services,
    actor: &Actor,
    window: Window,
) -> Result<(Vec<OrganizationSummary>, i64), Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let (count,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM organizations WHERE business_id = $1 AND deleted_at IS NULL",
        actor.business_id
    )?;
    let rows = query!(&mut tx, fetch_all as (i64, String, String, String, Option<i64>, i64),
        "SELECT o.id, o.name, o.contact_name, o.email, o.max_members,
                (SELECT COUNT(*) FROM organization_members om WHERE om.organization_id = o.id AND om.removed_at IS NULL)
           FROM organizations o WHERE o.business_id = $1 AND o.deleted_at IS NULL
          ORDER BY o.name, o.id LIMIT $2 OFFSET $3",
        actor.business_id, window.limit, window.offset)?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(
            |(id, name, contact_name, email, max, authorized)| OrganizationSummary {
                id,
                name,
                contact_name,
                email,
                authorized,
                max_members: max.and_then(|n| u32::try_from(n).ok()),
            },
        )
        .collect();
    Ok((rows, count))
}

/// The staff list: a page (`page` as typed, empty for the first) of the
/// organizations by name, with how many there are.
pub async fn list_organizations(
    services: &Services,
    actor: &Actor,
    page: &str,
) -> Result<Listed<OrganizationSummary>, Error> {
    let page = paging::page_number(page).map_err(|message| Error::invalid("page", message))?;
    let window = Window {
        offset: paging::offset_of(page, paging::PER_PAGE),
        limit: paging::PER_PAGE,
    };
    let (rows, total) = page_of_organizations(services, actor, window).await?;
    Ok(Listed {
        rows,
        total,
        page,
        per_page: paging::PER_PAGE,
    })
}

pub async fn organization(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> Result<OrganizationView, Error> {
    organization_page(services, actor, id, 1).await
}

/// An organization, with page `memberships_page` (from 1) of its memberships.
pub async fn organization_page(
    services: &Services,
    actor: &Actor,
    id: i64,
    memberships_page: i64,
) -> Result<OrganizationView, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let v = view_page(&mut tx, services, actor.business_id, id, memberships_page).await?;
    tx.commit().await?;
    Ok(v)
}

/// Creates (`id` 0) or updates an organization. Front desk and above. The maximum
/// cannot drop below the members already authorized.
pub async fn save_organization(
    services: &Services,
    actor: &Actor,
    id: i64,
    form: &OrganizationForm,
) -> Result<OrganizationView, Error> {
    actor.require(Role::FrontDesk)?;
    let d = form.validate()?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let max = d.max_members.map(i64::from);
    let id = if id == 0 {
        let (id,) = query!(&mut tx, fetch_one as (i64,),
            "INSERT INTO organizations (business_id, name, contact_name, email, phone, billing_address, max_members, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            actor.business_id, &d.name, &d.contact_name, &d.email, &d.phone, &d.billing_address, max, now)
        .map_err(|e| name_taken(e, &d.name))?;
        audit::record(
            &mut tx,
            actor,
            "organization.created",
            "organization",
            Some(id),
            &serde_json::json!({ "name": d.name }).to_string(),
            now,
        )
        .await?;
        id
    } else {
        let before = load(&mut tx, actor.business_id, id).await?;
        let current = authorized(&mut tx, actor.business_id, id).await?.len();
        if let Some(max) = d.max_members
            && (max as usize) < current
        {
            return Err(Error::invalid(
                "max_members",
                format!(
                    "{current} members are authorized: remove some before lowering the maximum to {max}"
                ),
            ));
        }
        query!(&mut tx, execute,
            "UPDATE organizations SET name = $1, contact_name = $2, email = $3, phone = $4, billing_address = $5, max_members = $6
              WHERE id = $7 AND business_id = $8",
            &d.name, &d.contact_name, &d.email, &d.phone, &d.billing_address, max, id, actor.business_id)
        .map_err(|e| name_taken(e, &d.name))?;
        let details = serde_json::json!({ "before": before.details(), "after": d });
        audit::record(
            &mut tx,
            actor,
            "organization.updated",
            "organization",
            Some(id),
            &details.to_string(),
            now,
        )
        .await?;
        id
    };
    let v = view(&mut tx, services, actor.business_id, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Authorizes a member (by member number) to use the organization's memberships.
pub async fn authorize_member(
    services: &Services,
    actor: &Actor,
    id: i64,
    member_number: &str,
) -> Result<OrganizationView, Error> {
    actor.require(Role::FrontDesk)?;
    let number: i64 = member_number
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| Error::invalid("member_number", "enter a member number, such as 1042"))?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let org = load(&mut tx, business.id, id).await?;
    let (member_id,) = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM members WHERE business_id = $1 AND member_number = $2",
        business.id,
        number
    )?
    .ok_or_else(|| Error::invalid("member_number", format!("no member has number {number}")))?;
    let current = authorized(&mut tx, business.id, id).await?;
    rules::check_authorize(
        current.len(),
        org.details().max_members,
        current.iter().any(|m| m.member_id == member_id),
    )
    .map_err(|message| Error::invalid("member_number", message))?;
    query!(
        &mut tx,
        execute,
        "INSERT INTO organization_members (business_id, organization_id, member_id, added_at, added_on, added_by) VALUES ($1, $2, $3, $4, $5, $6)",
        business.id,
        id,
        member_id,
        now,
        services.today(&business),
        actor.staff_user_id()
    )?;
    audit::record(
        &mut tx,
        actor,
        "organization.member_authorized",
        "organization",
        Some(id),
        &serde_json::json!({ "member_id": member_id }).to_string(),
        now,
    )
    .await?;
    let v = view(&mut tx, services, business.id, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Ends a member's authorization; the record of it stays.
pub async fn remove_member(
    services: &Services,
    actor: &Actor,
    id: i64,
    member_id: i64,
) -> Result<OrganizationView, Error> {
    actor.require(Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    load(&mut tx, actor.business_id, id).await?;
    let changed = query!(&mut tx, execute,
        "UPDATE organization_members SET removed_at = $1, removed_by = $2
          WHERE business_id = $3 AND organization_id = $4 AND member_id = $5 AND removed_at IS NULL",
        now, actor.staff_user_id(), actor.business_id, id, member_id)?;
    if changed == 0 {
        return Err(Error::Conflict(
            "this member is not authorized by the organization".into(),
        ));
    }
    audit::record(
        &mut tx,
        actor,
        "organization.member_removed",
        "organization",
        Some(id),
        &serde_json::json!({ "member_id": member_id }).to_string(),
        now,
    )
    .await?;
    let v = view(&mut tx, services, actor.business_id, id).await?;
    tx.commit().await?;
    Ok(v)
}
