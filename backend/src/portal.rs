//! The member portal's use cases: sign-in by one-time code, portal sessions,
//! and what a signed-in member may read and do.
//!
//! A code is stored for every request, known email or not, and only a known
//! email gets a message, so neither the answers nor the rate limits tell
//! whether an email belongs to a member. Codes and session tokens are kept as
//! SHA-256 hashes. Everything a member reads is found through their own
//! member id: a membership, booking or invoice of someone else is "not found".

use chrono::{DateTime, Utc};
use domain::portal::{
    CODE_VALID, CodeCheck, CodeForm, CodeState, EmailChangeForm, EmailCodeForm, PortalAccount,
    PortalBusiness, PortalHome, PortalMembership, PortalSession, Profile, ProfileForm,
    REQUEST_WINDOW, Reach, SESSION_IDLE, check_code, may_request_code, normalize_email, parse_code,
};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::platform::secrets::{new_token, token_hash};
use crate::store::business::Business;
use crate::{Services, query};

/// A signed-in member: the account their portal session is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub business_id: i64,
    pub member_id: i64,
}

/// A started portal session: the token goes into the cookie, never into a log.
pub struct NewSession {
    pub token: String,
    /// The email has several accounts: the member picks one next.
    pub must_choose: bool,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"(hidden)")
            .field("must_choose", &self.must_choose)
            .finish()
    }
}

fn code_hash(email: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{email}:{code}").as_bytes()))
}

/// The accounts an email signs in to: active members of any business, or of
/// one (`Some(business_id)`).
async fn accounts(
    tx: &mut Tx,
    email: &str,
    business_id: Option<i64>,
) -> Result<Vec<PortalAccount>, Error> {
    let rows = query!(
        tx,
        fetch_all as (i64, i64, String, String, String, String, i64),
        "SELECT m.id, b.id, b.name, b.slug, m.first_name, m.last_name, m.member_number
           FROM members m JOIN businesses b ON b.id = m.business_id
          WHERE m.email_lc = $1 AND m.status = $2
          ORDER BY b.name, m.member_number",
        email,
        "active"
    )?;
    Ok(rows
        .into_iter()
        .filter(|row| business_id.is_none_or(|b| b == row.1))
        .map(
            |(member_id, _, business_name, business_slug, first, last, number)| PortalAccount {
                member_id,
                business_name,
                business_slug,
                member_name: format!("{first} {last}"),
                member_number: number,
            },
        )
        .collect())
}

/// The business whose portal lives at /portal/sign-in/{slug}.
pub async fn portal_business(services: &Services, slug: &str) -> Result<PortalBusiness, Error> {
    let mut tx = services.db.begin_read().await?;
    let found = query!(
        &mut tx,
        fetch_optional as (String, String),
        "SELECT slug, name FROM businesses WHERE slug = $1",
        slug
    )?;
    tx.commit().await?;
    let (slug, name) = found.ok_or(Error::NotFound)?;
    Ok(PortalBusiness { slug, name })
}

/// The accounts a sign-in at `business` (a slug; empty on the shared page) is about.
fn at_business(accounts: Vec<PortalAccount>, business: &str) -> Vec<PortalAccount> {
    if business.is_empty() {
        accounts
    } else {
        accounts
            .into_iter()
            .filter(|a| a.business_slug == business)
            .collect()
    }
}

fn new_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// Sends a sign-in code to the email if it belongs to a member; answers the
/// same either way. `client` is the address the request came from; at a
/// business's own portal (`business`, a slug), only that business writes.
///
/// Each business the email belongs to mails its own code, and a code signs
/// in only to that business's accounts: a code is read by whoever reads the
/// channel it went through (that business's outbox, where staff may see it
/// when no mail server is set up), so it proves nothing for another business.
pub async fn request_code(
    services: &Services,
    email: &str,
    client: &str,
    business: &str,
) -> Result<(), Error> {
    let email = normalize_email(email)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    // Concurrent requests for one email or from one client count one after
    // the other (PostgreSQL; SQLite serialises writers anyway).
    crate::platform::db::serialize_on(&mut tx, &format!("portal-code-email:{email}")).await?;
    crate::platform::db::serialize_on(&mut tx, &format!("portal-code-client:{client}")).await?;
    let since = now - REQUEST_WINDOW;
    let (for_email,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM portal_codes WHERE email = $1 AND created_at > $2",
        &email,
        since
    )?;
    let (for_client,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM portal_codes WHERE client = $1 AND created_at > $2",
        client,
        since
    )?;
    may_request_code(services.code_limits, for_email as u32, for_client as u32)
        .map_err(Error::TooMany)?;
    let (code_id,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "INSERT INTO portal_codes (email, client, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &email,
        client,
        "",
        now,
        now + CODE_VALID
    )?;
    // One code and message per business the email belongs to (each has its own outbox).
    let mut mailed = std::collections::BTreeSet::new();
    for account in at_business(accounts(&mut tx, &email, None).await?, business) {
        let (business_id, first_name) = query!(
            &mut tx,
            fetch_one as (i64, String),
            "SELECT business_id, first_name FROM members WHERE id = $1",
            account.member_id
        )?;
        if !mailed.insert(business_id) {
            continue;
        }
        let code = new_code();
        query!(
            &mut tx,
            execute,
            "INSERT INTO portal_code_businesses (code_id, business_id, code_hash) VALUES ($1, $2, $3)",
            code_id,
            business_id,
            code_hash(&email, &code)
        )?;
        let body = format!(
            "Hello {first_name},\n\nYour code to sign in to the member portal of {business} is {spaced}.\n\nIt works once, for {minutes} minutes, and only at {business}. If you did not ask for it, you can ignore this message.",
            business = account.business_name,
            spaced = format_args!("{} {}", &code[..3], &code[3..]),
            minutes = CODE_VALID.num_minutes(),
        );
        query!(
            &mut tx,
            execute,
            "INSERT INTO outbox (business_id, to_address, subject, body, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            business_id,
            &email,
            format!("Your sign-in code: {code}"),
            body,
            "portal_code",
            now
        )?;
    }
    tx.commit().await
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    id: i64,
    expires_at: DateTime<Utc>,
    wrong_attempts: i64,
    used_at: Option<DateTime<Utc>>,
}

/// Checks a code against the email's newest request; a right code starts a
/// portal session on the business that mailed it (on the email's account
/// there, when it has only one).
pub async fn verify_code(services: &Services, form: &CodeForm) -> Result<NewSession, Error> {
    let email = normalize_email(&form.email)?;
    let code = parse_code(&form.code)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    // Guesses at one email's code are counted one after the other.
    crate::platform::db::serialize_on(&mut tx, &format!("portal-code-email:{email}")).await?;
    let row = query!(
        &mut tx,
        fetch_optional as CodeRow,
        "SELECT id, expires_at, wrong_attempts, used_at FROM portal_codes WHERE email = $1 ORDER BY id DESC LIMIT 1",
        &email
    )?;
    let state = row.as_ref().map(|r| CodeState {
        expires_at: r.expires_at,
        wrong_attempts: r.wrong_attempts.max(0) as u32,
        used: r.used_at.is_some(),
    });
    let proven = match &row {
        Some(row) => query!(
            &mut tx,
            fetch_optional as (i64,),
            "SELECT business_id FROM portal_code_businesses WHERE code_id = $1 AND code_hash = $2",
            row.id,
            code_hash(&email, &code)
        )?
        .map(|(b,)| b),
        None => None,
    };
    let check = check_code(state, proven.is_some(), now);
    let (row, scope) = match (check, row, proven) {
        (CodeCheck::Accepted, Some(row), Some(scope)) => (row, scope),
        (check, row, _) => {
            if check.counts_as_wrong()
                && let Some(row) = row
            {
                query!(
                    &mut tx,
                    execute,
                    "UPDATE portal_codes SET wrong_attempts = wrong_attempts + 1 WHERE id = $1",
                    row.id
                )?;
                tx.commit().await?;
            }
            return Err(Error::invalid("code", check.message()));
        }
    };
    // Once: a second request with the same code finds it used.
    let taken = query!(
        &mut tx,
        execute,
        "UPDATE portal_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        now,
        row.id
    )?;
    if taken == 0 {
        return Err(Error::invalid("code", CodeCheck::Used.message()));
    }
    let here = accounts(&mut tx, &email, Some(scope)).await?;
    let single = match here.as_slice() {
        [one] => Some(one.member_id),
        _ => None,
    };
    let token = new_token();
    query!(
        &mut tx,
        execute,
        "INSERT INTO portal_sessions (token_hash, email, business_id, member_id, scope_business_id, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        token_hash(&token),
        &email,
        single.map(|_| scope),
        single,
        scope,
        now,
        now,
        now + SESSION_IDLE
    )?;
    if let Some(member_id) = single {
        signed_in_audit(&mut tx, scope, member_id, now).await?;
    }
    tx.commit().await?;
    Ok(NewSession {
        token,
        must_choose: single.is_none(),
    })
}

async fn business_of(tx: &mut Tx, member_id: i64) -> Result<i64, Error> {
    Ok(query!(
        tx,
        fetch_one as (i64,),
        "SELECT business_id FROM members WHERE id = $1",
        member_id
    )?
    .0)
}

async fn signed_in_audit(
    tx: &mut Tx,
    business_id: i64,
    member_id: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    crate::platform::audit::record(
        tx,
        business_id,
        crate::platform::audit::By::System,
        "member.portal_signed_in",
        "member",
        Some(member_id),
        "{}",
        now,
    )
    .await
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    email: String,
    member_id: Option<i64>,
    scope_business_id: Option<i64>,
    last_seen_at: DateTime<Utc>,
}

/// A live session behind a token: its id, email, the business its code came
/// from (the only one whose accounts it reaches) and the account it is on.
struct Live {
    id: i64,
    email: String,
    scope: i64,
    account: Option<Member>,
}

async fn live(services: &Services, token: &str) -> Result<Live, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as SessionRow,
        "SELECT id, email, member_id, scope_business_id, last_seen_at FROM portal_sessions
          WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2",
        token_hash(token),
        now
    )?
    .ok_or(Error::Unauthenticated)?;
    let scope = row.scope_business_id.ok_or(Error::Unauthenticated)?;
    // The account counts only while the member is active and still has this email.
    let account = match row.member_id {
        Some(member_id) => query!(
            &mut tx,
            fetch_optional as (i64,),
            "SELECT business_id FROM members WHERE id = $1 AND email_lc = $2 AND status = $3 AND business_id = $4",
            member_id,
            &row.email,
            "active",
            scope
        )?
        .map(|(business_id,)| Member {
            business_id,
            member_id,
        }),
        None => None,
    };
    tx.commit().await?;
    // Refresh at most once a minute: a write per request would serialise every page on SQLite.
    if now - row.last_seen_at > chrono::TimeDelta::minutes(1) {
        let mut tx = services.db.begin_write().await?;
        query!(
            &mut tx,
            execute,
            "UPDATE portal_sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3",
            now,
            now + SESSION_IDLE,
            row.id
        )?;
        tx.commit().await?;
    }
    Ok(Live {
        id: row.id,
        email: row.email,
        scope,
        account,
    })
}

/// The member signed in with this token, or `Unauthenticated` (no session,
/// or no account chosen yet).
pub async fn authenticate(services: &Services, token: &str) -> Result<Member, Error> {
    live(services, token)
        .await?
        .account
        .ok_or(Error::Unauthenticated)
}

/// The session's email and chosen account, for the portal's frame.
pub async fn session(services: &Services, token: &str) -> Result<PortalSession, Error> {
    let live = live(services, token).await?;
    let mut tx = services.db.begin_read().await?;
    let all = accounts(&mut tx, &live.email, Some(live.scope)).await?;
    tx.commit().await?;
    Ok(PortalSession {
        account: live
            .account
            .and_then(|a| all.iter().find(|x| x.member_id == a.member_id).cloned()),
        accounts: all,
        email: live.email,
    })
}

/// Puts the session on one of its email's accounts at the business its code came from.
pub async fn choose(services: &Services, token: &str, member_id: i64) -> Result<(), Error> {
    let live = live(services, token).await?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    if !accounts(&mut tx, &live.email, Some(live.scope))
        .await?
        .iter()
        .any(|a| a.member_id == member_id)
    {
        return Err(Error::NotFound);
    }
    let business_id = business_of(&mut tx, member_id).await?;
    query!(
        &mut tx,
        execute,
        "UPDATE portal_sessions SET business_id = $1, member_id = $2 WHERE id = $3",
        business_id,
        member_id,
        live.id
    )?;
    signed_in_audit(&mut tx, business_id, member_id, now).await?;
    tx.commit().await
}

/// Ends the session behind a token. Unknown tokens are ignored.
pub async fn sign_out(services: &Services, token: &str) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "UPDATE portal_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        now,
        token_hash(token)
    )?;
    tx.commit().await
}

// ---------------------------------------------------------------------------
// The member's profile

#[derive(sqlx::FromRow)]
struct ChangeRow {
    id: i64,
    new_email: String,
    code_hash: String,
    expires_at: DateTime<Utc>,
    wrong_attempts: i64,
    used_at: Option<DateTime<Utc>>,
}

impl ChangeRow {
    fn state(&self) -> CodeState {
        CodeState {
            expires_at: self.expires_at,
            wrong_attempts: self.wrong_attempts.max(0) as u32,
            used: self.used_at.is_some(),
        }
    }
}

/// The member's newest email change, whatever became of it.
async fn newest_change(tx: &mut Tx, member: Member) -> Result<Option<ChangeRow>, Error> {
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

async fn profile_in(tx: &mut Tx, member: Member, now: DateTime<Utc>) -> Result<Profile, Error> {
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
        business.id,
        crate::platform::audit::By::Member(member.member_id),
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
        business.id,
        crate::platform::audit::By::Member(member.member_id),
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

// ---------------------------------------------------------------------------
// What the member sees

/// The memberships a member reaches: held, as a family member, or through an
/// authorizing organization; each once, the closest reach first.
pub(crate) async fn reachable(tx: &mut Tx, member: Member) -> Result<Vec<(i64, Reach)>, Error> {
    let rows = query!(
        tx,
        fetch_all as (i64, i64),
        "SELECT id, CAST(0 AS BIGINT) FROM memberships WHERE business_id = $1 AND member_id = $2
         UNION
         SELECT membership_id, CAST(1 AS BIGINT) FROM membership_members WHERE business_id = $1 AND member_id = $2 AND removed_at IS NULL
         UNION
         SELECT m.id, CAST(2 AS BIGINT) FROM memberships m JOIN organization_members om ON om.organization_id = m.organization_id
          WHERE m.business_id = $1 AND om.business_id = $1 AND om.member_id = $2 AND om.removed_at IS NULL",
        member.business_id,
        member.member_id
    )?;
    let mut out: Vec<(i64, Reach)> = Vec::new();
    let mut rows = rows;
    rows.sort();
    for (id, reach) in rows {
        if out.iter().any(|(seen, _)| *seen == id) {
            continue;
        }
        let reach = match reach {
            0 => Reach::Holder,
            1 => Reach::Family,
            _ => Reach::Organization,
        };
        out.push((id, reach));
    }
    Ok(out)
}

/// The membership if the member reaches it, else `NotFound`.
pub(crate) async fn reach(tx: &mut Tx, member: Member, membership_id: i64) -> Result<Reach, Error> {
    reachable(tx, member)
        .await?
        .into_iter()
        .find(|(id, _)| *id == membership_id)
        .map(|(_, r)| r)
        .ok_or(Error::NotFound)
}

async fn portal_membership(
    tx: &mut Tx,
    business: &Business,
    id: i64,
    reach: Reach,
    today: chrono::NaiveDate,
) -> Result<PortalMembership, Error> {
    let stored = crate::store::memberships::load_membership(tx, business.id, id).await?;
    let types = crate::store::memberships::types(tx, business.id).await?;
    let (current, _) = crate::store::memberships::type_in_effect_pub(&types, &stored, today)?;
    let m = domain::lifecycle::Membership {
        spec: &current.spec,
        events: &stored.events,
        overdue: crate::engine::ledger::overdue_of(tx, business, id, today).await?,
    };
    let next_billing = m.next_billing(today);
    let next_amount = if reach == Reach::Holder && stored.row.payer != "organization" {
        crate::engine::invoicing::upcoming(tx, business, &types, &stored, &m, today)
            .await?
            .into_iter()
            .next()
            .map(|c| c.total)
    } else {
        None
    };
    let held_by = match reach {
        Reach::Holder => "Yours".to_string(),
        Reach::Family | Reach::Organization => {
            crate::store::memberships::holder_name(tx, business.id, &stored).await?
        }
    };
    let credits = query!(
        tx,
        fetch_optional as (i64,),
        "SELECT balance FROM credit_balances WHERE membership_id = $1 AND business_id = $2",
        id,
        business.id
    )?
    .map(|(b,)| b)
    .unwrap_or(0);
    Ok(PortalMembership {
        id,
        type_name: current.spec.name.clone(),
        reach,
        held_by,
        status: m.status(today),
        next_billing,
        next_amount,
        credits,
    })
}

/// The portal's home: the member's memberships, credits and coming bookings.
pub async fn home(services: &Services, member: Member) -> Result<PortalHome, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let today = services.today(&business);
    let (first, last, email) = query!(
        &mut tx,
        fetch_one as (String, String, String),
        "SELECT first_name, last_name, email_lc FROM members WHERE id = $1 AND business_id = $2",
        member.member_id,
        business.id
    )?;
    let mut memberships = Vec::new();
    for (id, reach) in reachable(&mut tx, member).await? {
        memberships.push(portal_membership(&mut tx, &business, id, reach, today).await?);
    }
    // Running ones first, then by newest.
    memberships.sort_by_key(|m| {
        use domain::lifecycle::Status;
        let over = matches!(
            m.status.status,
            Status::Cancelled | Status::Expired | Status::Rejected
        );
        (over, std::cmp::Reverse(m.id))
    });
    let now = crate::bookings::local_now(services, &business);
    let upcoming =
        crate::bookings::upcoming_of_member(&mut tx, &business, member.member_id, now).await?;
    let other_accounts = accounts(&mut tx, &email, Some(member.business_id))
        .await?
        .len()
        .saturating_sub(1);
    tx.commit().await?;
    Ok(PortalHome {
        business_name: business.name,
        member_name: format!("{first} {last}"),
        memberships,
        upcoming,
        other_accounts,
    })
}

/// The type's pause and cancellation rules, as the member reads them.
fn rules(spec: &domain::catalog::TypeSpec) -> Vec<String> {
    let p = &spec.policies;
    let mut out = Vec::new();
    match &p.pause {
        None => out.push("Pauses are not offered for this membership.".to_string()),
        Some(pause) if !pause.portal_allowed => {
            out.push("Pauses are arranged at the front desk.".to_string())
        }
        Some(pause) => out.push(match pause.max_days {
            Some(max) => format!(
                "You may pause here, for {} to {max} days at a time.",
                pause.min_days.max(1)
            ),
            None => "You may pause here.".to_string(),
        }),
    }
    out.push(if p.cancellation.portal_allowed {
        if p.min_commitment_periods > 0 {
            format!(
                "You may cancel here, at the end of a billing period, once your first {} periods are done.",
                p.min_commitment_periods
            )
        } else {
            "You may cancel here, at the end of a billing period.".to_string()
        }
    } else {
        "Cancellations are arranged at the front desk.".to_string()
    });
    out
}

/// A membership the member reaches, with its credits, their bookings with it
/// and what they may do with it. Anyone else's membership is "not found".
pub async fn membership(
    services: &Services,
    member: Member,
    id: i64,
) -> Result<domain::portal::PortalMembershipPage, Error> {
    use domain::lifecycle::Status;
    use domain::memberships::ActionKind;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let today = services.today(&business);
    let reach = reach(&mut tx, member, id).await?;
    let summary = portal_membership(&mut tx, &business, id, reach, today).await?;
    let stored = crate::store::memberships::load_membership(&mut tx, business.id, id).await?;
    let types = crate::store::memberships::types(&mut tx, business.id).await?;
    let (current, _) = crate::store::memberships::type_in_effect_pub(&types, &stored, today)?;
    let credits = crate::credits::view_in(
        &mut tx,
        &business,
        id,
        &domain::credits::EntryFilter::default(),
        today,
    )
    .await?;
    let family = query!(
        &mut tx,
        fetch_all as (String, String),
        "SELECT m.first_name, m.last_name FROM membership_members mm JOIN members m ON m.id = mm.member_id
          WHERE mm.business_id = $1 AND mm.membership_id = $2 AND mm.removed_at IS NULL ORDER BY m.first_name",
        business.id,
        id
    )?
    .into_iter()
    .map(|(f, l)| format!("{f} {l}"))
    .collect();
    let bookings =
        crate::bookings::of_member_membership(&mut tx, &business, member.member_id, id).await?;
    let mut entries = credits.entries;
    if reach == Reach::Organization {
        // Colleagues share the credits, not what each other booked.
        let own: Vec<i64> = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM bookings WHERE business_id = $1 AND membership_id = $2 AND member_id = $3",
            business.id,
            id,
            member.member_id
        )?
        .into_iter()
        .map(|(b,)| b)
        .collect();
        for entry in &mut entries {
            if entry.booking_id.is_some_and(|b| !own.contains(&b)) {
                entry.by = "another member".into();
                entry.reason = "Used by another member of your organization".into();
                entry.booking_id = None;
            }
        }
    }
    tx.commit().await?;
    let status = summary.status.status;
    let mut unavailable = Vec::new();
    let actions = if reach == Reach::Holder {
        let p = &current.spec.policies;
        let name = &current.spec.name;
        let mut a = Vec::new();
        if matches!(status, Status::Active | Status::Pending) {
            match &p.pause {
                Some(pause) if pause.portal_allowed => a.push(ActionKind::Pause),
                Some(_) => unavailable.push((
                    ActionKind::Pause,
                    format!("{name} is paused with the staff, not here: ask at the desk."),
                )),
                None => {
                    unavailable.push((ActionKind::Pause, format!("{name} does not allow pauses.")))
                }
            }
        }
        if status == Status::Paused {
            a.push(ActionKind::Resume);
        }
        if matches!(status, Status::Active | Status::Paused | Status::PastDue) {
            if p.cancellation.portal_allowed {
                a.push(ActionKind::Cancel);
            } else {
                unavailable.push((
                    ActionKind::Cancel,
                    format!("{name} is cancelled with the staff, not here: ask at the desk."),
                ));
            }
        }
        a
    } else {
        Vec::new()
    };
    Ok(domain::portal::PortalMembershipPage {
        membership: summary,
        family,
        credits: entries,
        next_expiry: credits.next_expiry,
        bookings,
        actions,
        unavailable,
        rules: rules(&current.spec),
        version: stored.row.version,
        today,
    })
}

/// Only the holder changes a membership, and only as `member_form` allows.
async fn holder_form(
    services: &Services,
    member: Member,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionForm, Error> {
    let form = domain::portal::member_form(form)?;
    let mut tx = services.db.begin_read().await?;
    let reach = reach(&mut tx, member, id).await?;
    tx.commit().await?;
    if reach != Reach::Holder {
        return Err(Error::Conflict(
            "Only the membership's holder can change it; ask them or the front desk.".into(),
        ));
    }
    Ok(form)
}

/// What a pause, resume or cancellation would do, decided by the type's
/// policy for a member (the same preview the staff app shows).
pub async fn preview_action(
    services: &Services,
    member: Member,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionPreview, Error> {
    let form = holder_form(services, member, id, form).await?;
    crate::engine::lifecycle::preview_as(
        services,
        crate::platform::actor::By::Member(member.member_id),
        member.business_id,
        id,
        &form,
    )
    .await
}

/// Records a pause, resume or cancellation asked for by the member.
pub async fn act(
    services: &Services,
    member: Member,
    id: i64,
    form: &domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionPreview, Error> {
    let form = holder_form(services, member, id, form).await?;
    crate::engine::lifecycle::act_as(
        services,
        crate::platform::actor::By::Member(member.member_id),
        member.business_id,
        id,
        &form,
        crate::engine::lifecycle::Showing::Effect,
    )
    .await
}

/// The invoices billed to the member, newest first.
pub async fn invoices(
    services: &Services,
    member: Member,
) -> Result<Vec<domain::invoices::InvoiceSummary>, Error> {
    let mut tx = services.db.begin_read().await?;
    let list =
        crate::store::invoices::of_member(&mut tx, member.business_id, member.member_id).await?;
    tx.commit().await?;
    Ok(list)
}

/// One invoice billed to the member; anyone else's is "not found".
pub async fn invoice(
    services: &Services,
    member: Member,
    id: i64,
) -> Result<domain::invoices::InvoiceView, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let owner = query!(
        &mut tx,
        fetch_optional as (Option<i64>,),
        "SELECT member_id FROM invoices WHERE business_id = $1 AND id = $2",
        business.id,
        id
    )?;
    if owner != Some((Some(member.member_id),)) {
        return Err(Error::NotFound);
    }
    let view = crate::billing::invoice_view(&mut tx, business, id, false, false).await?;
    tx.commit().await?;
    Ok(view)
}

/// The member's own bookings (all their memberships), newest first, by status.
pub async fn bookings(
    services: &Services,
    member: Member,
    status: &str,
) -> Result<Vec<domain::bookings::BookingView>, Error> {
    let status = match status.trim() {
        "" => None,
        s => Some(
            domain::bookings::BookingStatus::parse(s)
                .ok_or_else(|| domain::Invalid::one("status", "choose a status from the list"))?,
        ),
    };
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let list =
        crate::bookings::of_member(&mut tx, &business, member.member_id, status, None).await?;
    tx.commit().await?;
    Ok(list)
}

/// One of the member's bookings; anyone else's is "not found".
pub async fn booking(
    services: &Services,
    member: Member,
    id: i64,
) -> Result<domain::bookings::BookingView, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let found =
        crate::bookings::of_member(&mut tx, &business, member.member_id, None, Some(id)).await?;
    tx.commit().await?;
    found.into_iter().next().ok_or(Error::NotFound)
}

/// Cancels one of the member's bookings (credits back inside the window).
pub async fn cancel_booking(services: &Services, member: Member, id: i64) -> Result<String, Error> {
    crate::bookings::cancel_as(
        services,
        crate::platform::actor::By::Member(member.member_id),
        member.business_id,
        id,
        Some(member.member_id),
    )
    .await
}

/// The booking page of a membership the member reaches.
pub async fn booking_page(
    services: &Services,
    member: Member,
    membership_id: i64,
    service_id: Option<i64>,
    day: Option<chrono::NaiveDate>,
) -> Result<domain::bookings::BookingPage, Error> {
    let mut tx = services.db.begin_read().await?;
    reach(&mut tx, member, membership_id).await?;
    tx.commit().await?;
    let mut page = crate::bookings::booking_page_for(
        services,
        member.business_id,
        membership_id,
        service_id,
        day,
        true,
    )
    .await?;
    // A member sees and books only for themselves.
    page.bookings.retain(|b| b.member_id == member.member_id);
    page.users.retain(|(id, _)| *id == member.member_id);
    Ok(page)
}

/// Books a slot for the member with a membership they reach.
pub async fn book(
    services: &Services,
    member: Member,
    form: &domain::bookings::BookingForm,
) -> Result<i64, Error> {
    let membership_id = form
        .membership_id
        .trim()
        .parse::<i64>()
        .map_err(|_| domain::Invalid::one("membership_id", "choose a membership"))?;
    let mut tx = services.db.begin_read().await?;
    reach(&mut tx, member, membership_id).await?;
    tx.commit().await?;
    let form = domain::bookings::BookingForm {
        member_id: member.member_id.to_string(),
        ..form.clone()
    };
    crate::bookings::book_as(
        services,
        crate::platform::actor::By::Member(member.member_id),
        member.business_id,
        &form,
    )
    .await
}

/// The member's card on file, as "Visa ending 4242 (expires 04/2029)".
pub async fn card(services: &Services, member: Member) -> Result<Option<String>, Error> {
    let mut tx = services.db.begin_read().await?;
    let card = crate::payments::card_label_of(
        &mut tx,
        member.business_id,
        crate::engine::ledger::Account::Member(member.member_id),
    )
    .await?;
    tx.commit().await?;
    Ok(card)
}

/// Keeps a card on file for the member (replacing the one there). Only the
/// gateway's token and the last four digits are stored.
pub async fn keep_card(
    services: &Services,
    member: Member,
    form: &domain::payments::CardForm,
) -> Result<String, Error> {
    crate::payments::keep_card(
        services,
        member.business_id,
        None,
        crate::engine::ledger::Account::Member(member.member_id),
        form,
    )
    .await
}

/// Removes the member's card on file.
pub async fn remove_card(services: &Services, member: Member) -> Result<(), Error> {
    crate::payments::remove_card(
        services,
        member.business_id,
        None,
        crate::engine::ledger::Account::Member(member.member_id),
    )
    .await
}

/// Pays what is due on one of the member's invoices with their card on file.
/// The form's key makes a repeated request charge once. Says what happened.
pub async fn pay_invoice(
    services: &Services,
    member: Member,
    id: i64,
    key: &str,
) -> Result<String, Error> {
    use crate::payments::{Charged, charge_card};
    use crate::platform::actor::TakenBy;
    let by = TakenBy::Member {
        business_id: member.business_id,
        member_id: member.member_id,
    };
    Ok(match charge_card(services, by, id, None, key).await? {
        Charged::Succeeded(_) | Charged::Replayed(_) => {
            "Paid with your card on file. A receipt is on its way.".to_string()
        }
        Charged::Failed { reason, .. } => {
            return Err(Error::Conflict(format!(
                "Your card was declined: {reason}. Try another card."
            )));
        }
    })
}
