//! Merging a duplicate member record into the one kept: nothing deleted,
//! everything moved over and archived.

use super::*;

/// Merges a duplicate record (by member number) into `keep_id`: its memberships,
/// family places and organization authorizations move over, blank profile
/// fields are filled from it, and the duplicate is archived pointing here.
/// Nothing is deleted. Managers and owners only.
pub async fn merge_members(
    services: &Services,
    actor: &Actor,
    keep_id: i64,
    duplicate_number: &str,
) -> Result<MemberView, Error> {
    actor.require(Role::Manager)?;
    let number: i64 = duplicate_number
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| Error::invalid("duplicate_number", "enter a member number, such as 1002"))?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let keep = load(&mut tx, business.id, keep_id).await?;
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members WHERE business_id = $1 AND member_number = $2"
    );
    let dup = query!(
        &mut tx,
        fetch_optional as MemberRow,
        sqlx::AssertSqlSafe(sql),
        business.id,
        number
    )?
    .ok_or_else(|| Error::invalid("duplicate_number", format!("no member has number {number}")))?;
    domain::members::check_merge(
        keep.id,
        keep.merged_into.is_some(),
        dup.id,
        dup.merged_into.is_some(),
    )
    .map_err(|m| Error::invalid("duplicate_number", m))?;
    let (b, k, d) = (business.id, keep.id, dup.id);
    let moved = query!(
        &mut tx,
        execute,
        "UPDATE memberships SET member_id = $1 WHERE business_id = $2 AND member_id = $3",
        k,
        b,
        d
    )?;
    // A place the kept member already has ends; the rest move over.
    query!(&mut tx, execute,
        "UPDATE membership_members SET removed_on = $1, removed_at = $2
          WHERE business_id = $3 AND member_id = $4 AND removed_at IS NULL
            AND membership_id IN (SELECT membership_id FROM membership_members WHERE member_id = $5 AND removed_at IS NULL)",
        services.today(&business), now, b, d, k)?;
    query!(
        &mut tx,
        execute,
        "UPDATE membership_members SET member_id = $1 WHERE business_id = $2 AND member_id = $3 AND removed_at IS NULL",
        k,
        b,
        d
    )?;
    query!(&mut tx, execute,
        "UPDATE organization_members SET removed_at = $1, removed_by = $2
          WHERE business_id = $3 AND member_id = $4 AND removed_at IS NULL
            AND organization_id IN (SELECT organization_id FROM organization_members WHERE member_id = $5 AND removed_at IS NULL)",
        now, actor.staff_user_id(), b, d, k)?;
    query!(
        &mut tx,
        execute,
        "UPDATE organization_members SET member_id = $1 WHERE business_id = $2 AND member_id = $3 AND removed_at IS NULL",
        k,
        b,
        d
    )?;
    // Blank fields of the kept record take the duplicate's values.
    let or = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            a.to_string()
        }
    };
    let email = or(&keep.email, &dup.email);
    let phone = or(&keep.phone, &dup.phone);
    let notes = match (keep.notes.is_empty(), dup.notes.is_empty()) {
        (_, true) => keep.notes.clone(),
        (true, false) => dup.notes.clone(),
        (false, false) => format!("{}\n{}", keep.notes, dup.notes),
    };
    let digits = domain::members::digits(&phone);
    let end = domain::members::phone_end(&digits);
    query!(&mut tx, execute,
        "UPDATE members SET email = $1, email_lc = $2, phone = $3, phone_digits = $4, phone_end = $5, notes = $6,
                date_of_birth = COALESCE(date_of_birth, $7), member_type = COALESCE(member_type, $8),
                home_location_id = COALESCE(home_location_id, $9)
          WHERE business_id = $10 AND id = $11",
        &email, email.to_lowercase(), &phone, digits, end, &notes, dup.date_of_birth, dup.member_type.as_deref(),
        dup.home_location_id, b, k)?;
    query!(
        &mut tx,
        execute,
        "UPDATE members SET status = $1, merged_into = $2 WHERE business_id = $3 AND id = $4",
        MemberStatus::Archived.as_str(),
        k,
        b,
        d
    )?;
    let details = serde_json::json!({
        "kept": keep.member_number,
        "duplicate": dup.member_number,
        "memberships_moved": moved,
    });
    audit::record(
        &mut tx,
        actor,
        "member.merged",
        "member",
        Some(k),
        &details.to_string(),
        now,
    )
    .await?;
    let view = current_view(&mut tx, services, &business, k).await?;
    tx.commit().await?;
    Ok(view)
}
