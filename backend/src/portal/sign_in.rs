//! Sign-in by one-time code: asked for (the same answer for any email,
//! limited per email and client), mailed only to a known email, checked
//! with a limit on wrong guesses.

use super::session::{NewSession, accounts, at_business, signed_in_audit};
use crate::platform::error::Error;
use crate::platform::secrets::{new_token, token_hash};
use crate::{Services, query};
use chrono::{DateTime, Utc};
use domain::portal::{
    CODE_VALID, CodeCheck, CodeForm, CodeState, PortalBusiness, REQUEST_WINDOW, SESSION_IDLE,
    check_code, may_request_code, normalize_email, parse_code,
};
use rand::Rng;
use sha2::{Digest, Sha256};

pub(crate) fn code_hash(email: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{email}:{code}").as_bytes()))
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

pub(crate) fn new_code() -> String {
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
pub(crate) struct CodeRow {
    pub(crate) id: i64,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) wrong_attempts: i64,
    pub(crate) used_at: Option<DateTime<Utc>>,
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
