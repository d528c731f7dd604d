//! Staff authentication: argon2id passwords and server-side sessions.
//!
//! A session is a random 256-bit token given to the browser in an HttpOnly
//! cookie; the database keeps only its SHA-256, so a leaked database does not
//! leak sessions. Sessions end on sign-out or after `SESSION_IDLE` without use.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::staff::Role;

use crate::platform::actor::Actor;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::platform::secrets::{hash_password, new_token, token_hash, verify_password};
pub use crate::store::business::insert_staff_user;
use crate::{Services, query};

/// How long a staff session lasts without being used.
pub const SESSION_IDLE: chrono::TimeDelta = chrono::TimeDelta::hours(12);
/// The pause after a failed sign-in, so guessing is slow.
pub const FAILED_SIGN_IN_DELAY: Duration = Duration::from_millis(400);

#[derive(sqlx::FromRow)]
struct Credentials {
    id: i64,
    business_id: i64,
    password_hash: String,
    disabled: bool,
    role: String,
}

impl Credentials {
    /// The user as an actor of their business.
    fn actor(&self) -> Result<Actor, Error> {
        let role = Role::parse(&self.role)
            .ok_or_else(|| Error::internal(format!("unknown role {:?}", self.role)))?;
        Ok(Actor::staff(self.business_id, self.id, role))
    }
}

/// A started session: the token goes into the cookie, never into a log.
pub struct NewSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Failed sign-ins count for this long.
pub const ATTEMPT_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(15);
/// Wrong passwords for one email within the window that lock it.
pub const ACCOUNT_LOCK_AFTER: i64 = 10;
/// Wrong passwords from one client address within the window that stop it.
pub const CLIENT_LOCK_AFTER: i64 = 30;
/// Passwords checked at once, at most: argon2id is meant to be expensive,
/// and thirty parallel sign-ins must not take every core from the server.
const CONCURRENT_HASHES: usize = 2;
/// How long a sign-in waits for a turn to check its password.
const HASH_WAIT: Duration = Duration::from_secs(5);

fn hashing() -> &'static tokio::sync::Semaphore {
    static HASHING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    HASHING.get_or_init(|| tokio::sync::Semaphore::new(CONCURRENT_HASHES))
}

/// The pause after the `n`th wrong password in a row: `first` (0.4 s),
/// doubling up to 16 times it (6.4 s).
pub fn failure_delay(first: Duration, n: i64) -> Duration {
    first * 2_u32.pow(n.clamp(1, 5) as u32 - 1)
}

fn locked() -> Error {
    Error::TooMany(
        "too many wrong passwords: sign-in to this account is paused for 15 minutes, and the business's owner has been told"
            .into(),
    )
}

/// Signs a staff user in (from an unknown client address; see `sign_in_from`).
pub async fn sign_in(
    services: &Services,
    email: &str,
    password: &str,
) -> Result<NewSession, Error> {
    sign_in_from(services, email, password, "").await
}

/// Signs a staff user in. Unknown email, wrong password and disabled user all
/// answer the same `SignInFailed` after the same work and the same delay.
///
/// Guessing is throttled: each attempt is recorded before the password is
/// checked (one after the other per email and per client), so however many
/// come at once, at most `ACCOUNT_LOCK_AFTER` wrong passwords are tried on
/// an email and `CLIENT_LOCK_AFTER` from a client in 15 minutes; the pause
/// after a wrong password grows; the owner is told when an account locks.
/// Passwords are checked at most `CONCURRENT_HASHES` at a time.
pub async fn sign_in_from(
    services: &Services,
    email: &str,
    password: &str,
    client: &str,
) -> Result<NewSession, Error> {
    let email = email.trim().to_lowercase();
    let now = services.clock.now();
    // Claim an attempt, or be refused, before any password is checked.
    let (attempt, found) = {
        let mut tx = services.db.begin_write().await?;
        crate::platform::db::serialize_on(&mut tx, &format!("sign-in-email:{email}")).await?;
        crate::platform::db::serialize_on(&mut tx, &format!("sign-in-client:{client}")).await?;
        let since = now - ATTEMPT_WINDOW;
        let (for_email,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT COUNT(*) FROM sign_in_attempts WHERE email = $1 AND created_at > $2",
            &email,
            since
        )?;
        let (for_client,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT COUNT(*) FROM sign_in_attempts WHERE client = $1 AND created_at > $2",
            client,
            since
        )?;
        if for_email >= ACCOUNT_LOCK_AFTER {
            return Err(locked());
        }
        if !client.is_empty() && for_client >= CLIENT_LOCK_AFTER {
            return Err(Error::TooMany(
                "too many wrong passwords from this address: try again in 15 minutes".into(),
            ));
        }
        let (attempt,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "INSERT INTO sign_in_attempts (email, client, created_at) VALUES ($1, $2, $3) RETURNING id",
            &email,
            client,
            now
        )?;
        let found = query!(
            &mut tx,
            fetch_optional as Credentials,
            "SELECT id, business_id, password_hash, disabled, role FROM staff_users WHERE email = $1",
            &email
        )?;
        tx.commit().await?;
        (attempt, found)
    };
    // Verify against a real hash even for unknown emails, so timing does not
    // tell them apart; outside any transaction, a few at a time.
    let hash = found
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(dummy_hash);
    let password_ok = {
        let permit = tokio::time::timeout(HASH_WAIT, hashing().acquire())
            .await
            .map_err(|_| {
                Error::TooMany("the server is busy signing people in; try again in a moment".into())
            })?
            .map_err(|e| Error::internal(format!("the hashing semaphore closed: {e}")))?;
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| Error::internal(format!("password check task failed: {e}")))?;
        drop(permit);
        ok
    };
    let user = match found {
        Some(user) if password_ok && !user.disabled => user,
        other => {
            let failures = failed(services, &email, client, attempt, other.as_ref()).await?;
            tokio::time::sleep(failure_delay(services.sign_in_pause, failures)).await;
            return Err(if failures >= ACCOUNT_LOCK_AFTER {
                locked()
            } else {
                Error::SignInFailed
            });
        }
    };
    let token = new_token();
    let expires_at = now + SESSION_IDLE;
    let mut tx = services.db.begin_write().await?;
    // The right password: this email's count starts again.
    query!(
        &mut tx,
        execute,
        "DELETE FROM sign_in_attempts WHERE email = $1 AND id <= $2",
        &email,
        attempt
    )?;
    query!(
        &mut tx,
        execute,
        "INSERT INTO staff_sessions (token_hash, staff_user_id, business_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        token_hash(&token),
        user.id,
        user.business_id,
        now,
        now,
        expires_at
    )?;
    crate::platform::audit::record(
        &mut tx,
        &user.actor()?,
        "staff.signed_in",
        "staff_user",
        Some(user.id),
        "{}",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession { token, expires_at })
}

/// After a wrong password (its attempt stays counted): how many attempts on
/// the email in the window came up to this one; at the one that locks a
/// known account, its business's owners are mailed and the audit records it
/// (once, however many guesses came at once).
async fn failed(
    services: &Services,
    email: &str,
    client: &str,
    attempt: i64,
    user: Option<&Credentials>,
) -> Result<i64, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let (failures,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM sign_in_attempts WHERE email = $1 AND created_at > $2 AND id <= $3",
        email,
        now - ATTEMPT_WINDOW,
        attempt
    )?;
    if failures == ACCOUNT_LOCK_AFTER
        && let Some(user) = user
    {
        let owners = query!(
            &mut tx,
            fetch_all as (String,),
            "SELECT email FROM staff_users WHERE business_id = $1 AND role = $2 AND disabled = $3",
            user.business_id,
            "owner",
            false
        )?;
        let from = if client.is_empty() {
            "an unknown address"
        } else {
            client
        };
        for (owner,) in owners {
            query!(
                &mut tx,
                execute,
                "INSERT INTO outbox (business_id, to_address, subject, body, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                user.business_id,
                owner,
                format!("Sign-in to {email} paused after {ACCOUNT_LOCK_AFTER} wrong passwords"),
                format!(
                    "Someone typed a wrong password for the staff account {email} {ACCOUNT_LOCK_AFTER} times in 15 minutes, last from {from}. Sign-in to that account is paused for 15 minutes.\n\nIf this was not the account's owner, consider changing its password."
                ),
                "sign_in_locked",
                now
            )?;
        }
        crate::platform::audit::record(
            &mut tx,
            &crate::platform::actor::Actor::system(user.business_id),
            "staff.sign_in_locked",
            "staff_user",
            Some(user.id),
            &serde_json::json!({ "client": client, "failures": failures }).to_string(),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(failures)
}

fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            hash_password("not a real password, only for timing")
                .map(|h| h.as_str().to_string())
                .unwrap_or_default()
        })
        .clone()
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    staff_user_id: i64,
    business_id: i64,
    role: String,
    last_seen_at: DateTime<Utc>,
}

/// The actor behind a session token, or `Unauthenticated`. Refreshes the idle timer.
pub async fn authenticate(services: &Services, token: &str) -> Result<Actor, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as SessionRow,
        "SELECT s.id AS session_id, s.staff_user_id, s.business_id, u.role, s.last_seen_at
           FROM staff_sessions s JOIN staff_users u ON u.id = s.staff_user_id
          WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND u.disabled = $3",
        token_hash(token),
        now,
        false
    )?;
    tx.commit().await?;
    let row = row.ok_or(Error::Unauthenticated)?;
    let role = Role::parse(&row.role)
        .ok_or_else(|| Error::internal(format!("unknown role {:?}", row.role)))?;
    // Refresh at most once a minute: a write per request would serialise every page on SQLite.
    if now - row.last_seen_at > chrono::TimeDelta::minutes(1) {
        let mut tx = services.db.begin_write().await?;
        query!(
            &mut tx,
            execute,
            "UPDATE staff_sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3",
            now,
            now + SESSION_IDLE,
            row.session_id
        )?;
        tx.commit().await?;
    }
    Ok(Actor::staff(row.business_id, row.staff_user_id, role))
}

/// Ends the session behind a token (sign-out). Unknown tokens are ignored.
pub async fn sign_out(services: &Services, token: &str) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "UPDATE staff_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        now,
        token_hash(token)
    )?;
    tx.commit().await
}

/// Disables a staff user: they can no longer sign in, and their sessions stop working.
pub async fn set_staff_disabled(
    tx: &mut Tx,
    business_id: i64,
    staff_user_id: i64,
    disabled: bool,
) -> Result<(), Error> {
    let changed = query!(
        tx,
        execute,
        "UPDATE staff_users SET disabled = $1 WHERE id = $2 AND business_id = $3",
        disabled,
        staff_user_id,
        business_id
    )?;
    if changed == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", hash.as_str()));
        assert!(!verify_password("correct horse battery!", hash.as_str()));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
