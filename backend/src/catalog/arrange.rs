//! A type's place in the catalog: its status (activate, retire), deleting an
//! unused one, duplicating and reordering.

use super::*;

/// Moves a type between draft, active and retired by the domain's rule.
pub async fn change_type_status(
    services: &Services,
    actor: &Actor,
    id: i64,
    to: TypeStatus,
) -> Result<MembershipTypeDetail, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let current = load_one(&mut tx, business.id, id).await?;
    current.status.check_change(to).map_err(Error::Conflict)?;
    query!(
        &mut tx,
        execute,
        "UPDATE membership_types SET status = $1, updated_at = $2 WHERE id = $3 AND business_id = $4",
        to.as_str(),
        now,
        id,
        business.id
    )?;
    let details = serde_json::json!({ "from": current.status.as_str(), "to": to.as_str() });
    audit::record(
        &mut tx,
        actor,
        "membership_type.status_changed",
        "membership_type",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    let today = services.today(&business);
    finish_with_detail(tx, &business, today, id).await
}

/// Deletes a draft type that no membership uses (a mistake); everything else is retired instead.
pub async fn delete_membership_type(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> Result<(), Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let all = load(&mut tx, business.id, None).await?;
    let current = all.iter().find(|t| t.id == id).ok_or(Error::NotFound)?;
    catalog::check_delete(current.status, current.memberships).map_err(Error::Conflict)?;
    if all.iter().any(|t| t.spec.renew_into == Some(id)) {
        return Err(Error::Conflict(
            "another type renews into this one: change that type first".into(),
        ));
    }
    query!(
        &mut tx,
        execute,
        "DELETE FROM membership_type_locations WHERE membership_type_id = $1 AND business_id = $2",
        id,
        business.id
    )?;
    query!(
        &mut tx,
        execute,
        "DELETE FROM membership_type_prices WHERE membership_type_id = $1 AND business_id = $2",
        id,
        business.id
    )?;
    query!(
        &mut tx,
        execute,
        "DELETE FROM membership_types WHERE id = $1 AND business_id = $2",
        id,
        business.id
    )?;
    let details = serde_json::json!({ "name": current.spec.name });
    audit::record(
        &mut tx,
        actor,
        "membership_type.deleted",
        "membership_type",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    tx.commit().await
}

/// Copies a type into a new draft named "… (copy)", with its current price from today.
pub async fn duplicate_membership_type(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> Result<MembershipTypeDetail, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let source = load_one(&mut tx, business.id, id).await?;
    let price = catalog::current_price(&source.prices, today)
        .cloned()
        .ok_or_else(|| Error::internal("a type without price"))?;
    let names: Vec<(String,)> = query!(
        &mut tx,
        fetch_all as (String,),
        "SELECT name FROM membership_types WHERE business_id = $1",
        business.id
    )?;
    let mut spec = source.spec.clone();
    spec.name = (1..)
        .map(|n| {
            if n == 1 {
                format!("{} (copy)", source.spec.name)
            } else {
                format!("{} (copy {n})", source.spec.name)
            }
        })
        .find(|candidate| !names.iter().any(|(n,)| n == candidate))
        .expect("some copy name is free");
    let new_id = insert_type(
        &mut tx,
        &business,
        &spec,
        TypeStatus::Draft,
        price.fee,
        price.initiation_fee,
        today,
        now,
    )
    .await?;
    let details = serde_json::json!({ "from": id, "name": spec.name });
    audit::record(
        &mut tx,
        actor,
        "membership_type.duplicated",
        "membership_type",
        Some(new_id),
        &details.to_string(),
        now,
    )
    .await?;
    finish_with_detail(tx, &business, today, new_id).await
}

/// Moves a type one place up or down in the display order of its status group.
pub async fn move_membership_type(
    services: &Services,
    actor: &Actor,
    id: i64,
    up: bool,
) -> Result<(), Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let mut types: Vec<_> = load(&mut tx, business.id, None)
        .await?
        .iter()
        .map(|t| summary(t, today, business.currency))
        .collect();
    catalog::sort_for_display(&mut types);
    let position = types
        .iter()
        .position(|t| t.id == id)
        .ok_or(Error::NotFound)?;
    let neighbour = if up {
        position.checked_sub(1)
    } else {
        Some(position + 1).filter(|p| *p < types.len())
    };
    let Some(neighbour) = neighbour.filter(|n| types[*n].status == types[position].status) else {
        return Ok(()); // already first or last of its group
    };
    // Renumber the whole list in steps of 10 with the two swapped, so equal orders never tie.
    types.swap(position, neighbour);
    for (i, t) in types.iter().enumerate() {
        let order = (i as i64 + 1) * 10;
        if t.display_order != order {
            query!(
                &mut tx,
                execute,
                "UPDATE membership_types SET display_order = $1 WHERE id = $2 AND business_id = $3",
                order,
                t.id,
                business.id
            )?;
        }
    }
    let details = serde_json::json!({ "direction": if up { "up" } else { "down" } });
    audit::record(
        &mut tx,
        actor,
        "membership_type.moved",
        "membership_type",
        Some(id),
        &details.to_string(),
        now,
    )
    .await?;
    tx.commit().await
}
