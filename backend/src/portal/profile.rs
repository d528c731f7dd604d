//! The member's own details, and an email change confirmed by a code sent
//! to the new address.

use super::session::Member;
use super::sign_in::{code_hash, new_code};
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::{Services, query};
use chrono::{DateTime, Utc};
use domain::portal::{
    CODE_VALID, CodeCheck, CodeState, EmailChangeForm, EmailCodeForm, Profile, ProfileForm,
    REQUEST_WINDOW, check_code, may_request_code, parse_code,
};

#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    pub(crate) id: i64,
    pub(crate) new_email: String,
    pub(crate) code_hash: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) wrong_attempts: i64,
    pub(crate) used_at: Option<DateTime<Utc>>,
}

impl ChangeRow {
    pub(crate) fn state(&self) -> CodeState {
        CodeState {
            expires_at: self.expires_at,
            wrong_attempts: self.wrong_attempts.max(0) as u32,
            used: self.used_at.is_some(),
        }
    }
}

/// The member's newest email change, whatever became of it.
pub(crate) async fn newest_change(tx: &mut Tx, member: Member) -> Result<Option<ChangeRow>, Error> {
    Ok(query!(
        tx,
        fetch_optional as ChangeRow,
        "SELECT id, new_email, code_hash, expires_at, wrong_attempts, used_at FROM portal_email_changes
          WHERE member_id = $1 AND business_id = $2 ORDER BY id DESC LIMIT 1",
        member.member_id,
        member.business_id
    )?)
}

/// The member's profile, with the new email that waits for its code, if any.
pub async fn profile(services: &Services, member: Member) -> Result<Profile, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let profile = profile_in(&mut tx, member, now).await?;
    tx.commit().await?;
    Ok(profile)
}

pub(crate) async fn profile_in(
    tx: &mut Tx,
    member: Member,
    now: DateTime<Utc>,
) -> Result<Profile, Error> {
    let (member_number, d) =
        crate::members::details_of(tx, member.business_id, member.member_id).await?;
    let pending_email = newest_change(tx, member)
        .await?
        .filter(|c| check_code(Some(c.state()), true, now) == CodeCheck::Accepted)
        .map(|c| c.new_email);
    Ok(Profile {
        member_number,
        first_name: d.first_name,
        last_name: d.last_name,
        email: d.email,
        phone: d.phone,
        marketing_consent: d.marketing_consent,
        pending_email,
    })
}

/// Saves the name, phone and marketing consent a member gave, checked by the
/// same rules as the staff form; the audit keeps the details before and after.
pub async fn update_profile(
    services: &Services,
    member: Member,
    form: &ProfileForm,
) -> Result<Profile, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let (_, before) = crate::members::details_of(&mut tx, business.id, member.member_id).await?;
    let context = crate::members::context(&mut tx, &business, services.today(&business)).await?;
    let after = form.onto(&before).validate(&context)?;
    crate::members::write_details(&mut tx, business.id, member.member_id, &after).await?;
    let details = serde_json::json!({ "before": before, "after": after });
    crate::platform::audit::record(
        &mut tx,
        &crate::platform::actor::Actor::member(business.id, member.member_id),
        "member.updated",
        "member",
        Some(member.member_id),
        &details.to_string(),
        now,
    )
    .await?;
    let profile = profile_in(&mut tx, member, now).await?;
    tx.commit().await?;
    Ok(profile)
}

/// Sends a code to the new address; the email changes only when the code
/// comes back. Limited like sign-in codes (per member).
pub async fn request_email_change(
    services: &Services,
    member: Member,
    form: &EmailChangeForm,
) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    crate::platform::db::serialize_on(
        &mut tx,
        &format!("portal-email-change:{}", member.member_id),
    )
    .await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let (_, current) = crate::members::details_of(&mut tx, business.id, member.member_id).await?;
    let email = form.check(&current.email)?;
    let (recent,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM portal_email_changes WHERE member_id = $1 AND created_at > $2",
        member.member_id,
        now - REQUEST_WINDOW
    )?;
    may_request_code(services.code_limits, recent as u32, 0).map_err(Error::TooMany)?;
    let code = new_code();
    query!(
        &mut tx,
        execute,
        "INSERT INTO portal_email_changes (business_id, member_id, new_email, code_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        business.id,
        member.member_id,
        &email,
        code_hash(&email, &code),
        now,
        now + CODE_VALID
    )?;
    let body = format!(
        "Hello {first},\n\nTo use this address for your membership at {business}, enter the code {spaced} on your profile page in the member portal.\n\nIt works once, for {minutes} minutes. If you did not ask for it, you can ignore this message.",
        first = current.first_name,
        business = business.name,
        spaced = format_args!("{} {}", &code[..3], &code[3..]),
        minutes = CODE_VALID.num_minutes(),
    );
    query!(
        &mut tx,
        execute,
        "INSERT INTO outbox (business_id, to_address, subject, body, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        business.id,
        &email,
        format!("Confirm your new email: {code}"),
        body,
        "portal_email_code",
        now
    )?;
    tx.commit().await
}

/// Checks the code sent to the new address; a right one moves the member
/// (and their portal sessions) to it, and the old address is told.
pub async fn confirm_email_change(
    services: &Services,
    member: Member,
    form: &EmailCodeForm,
) -> Result<Profile, Error> {
    let code = parse_code(&form.code)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    crate::platform::db::serialize_on(
        &mut tx,
        &format!("portal-email-change:{}", member.member_id),
    )
    .await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let row = newest_change(&mut tx, member).await?;
    let matches = row
        .as_ref()
        .is_some_and(|r| r.code_hash == code_hash(&r.new_email, &code));
    let check = check_code(row.as_ref().map(ChangeRow::state), matches, now);
    let row = match (check, row) {
        (CodeCheck::Accepted, Some(row)) => row,
        (check, row) => {
            if check.counts_as_wrong()
                && let Some(row) = row
            {
                query!(
                    &mut tx,
                    execute,
                    "UPDATE portal_email_changes SET wrong_attempts = wrong_attempts + 1 WHERE id = $1",
                    row.id
                )?;
                tx.commit().await?;
            }
            return Err(Error::invalid("code", check.message()));
        }
    };
    let taken = query!(
        &mut tx,
        execute,
        "UPDATE portal_email_changes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        now,
        row.id
    )?;
    if taken == 0 {
        return Err(Error::invalid("code", CodeCheck::Used.message()));
    }
    let (_, before) = crate::members::details_of(&mut tx, business.id, member.member_id).await?;
    let after = domain::members::MemberDetails {
        email: row.new_email.clone(),
        ..before.clone()
    };
    crate::members::write_details(&mut tx, business.id, member.member_id, &after).await?;
    // The member stays signed in, now under the new address.
    query!(
        &mut tx,
        execute,
        "UPDATE portal_sessions SET email = $1 WHERE member_id = $2 AND ended_at IS NULL",
        &row.new_email,
        member.member_id
    )?;
    let details = serde_json::json!({ "before": before.email, "after": after.email });
    crate::platform::audit::record(
        &mut tx,
        &crate::platform::actor::Actor::member(business.id, member.member_id),
        "member.email_changed",
        "member",
        Some(member.member_id),
        &details.to_string(),
        now,
    )
    .await?;
    if !before.email.is_empty() {
        let body = format!(
            "Hello {first},\n\nThe email address of your membership at {business} was changed to {new} in the member portal. If this was not you, please contact {business}.",
            first = before.first_name,
            business = business.name,
            new = after.email,
        );
        query!(
            &mut tx,
            execute,
            "INSERT INTO outbox (business_id, to_address, subject, body, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            business.id,
            &before.email,
            "Your email address was changed",
            body,
            "portal_email_changed",
            now
        )?;
    }
    let profile = profile_in(&mut tx, member, now).await?;
    tx.commit().await?;
    Ok(profile)
}
