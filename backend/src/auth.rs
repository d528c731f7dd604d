//! Staff authentication: argon2id passwords and server-side sessions.
//!
//! A session is a random 256-bit token given to the browser in an HttpOnly
//! cookie; the database keeps only its SHA-256, so a leaked database does not
//! leak sessions. Sessions end on sign-out or after `SESSION_IDLE` without use.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use domain::staff::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::Tx;
use crate::error::Error;
use crate::{Services, query};

/// How long a staff session lasts without being used.
pub const SESSION_IDLE: chrono::TimeDelta = chrono::TimeDelta::hours(12);
/// The pause after a failed sign-in, so guessing is slow.
pub const FAILED_SIGN_IN_DELAY: Duration = Duration::from_millis(400);
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A password hash. Deliberately neither `Serialize` nor `Display`.
pub struct PasswordHashText(String);

impl PasswordHashText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn hash_password(password: &str) -> Result<PasswordHashText, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| PasswordHashText(h.to_string()))
        .map_err(|e| Error::internal(format!("hashing a password failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Checks a new password against the rule: at least `MIN_PASSWORD_CHARS` characters.
pub fn check_new_password(password: &str) -> Result<(), Error> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("use at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Who is acting: a signed-in staff user of one business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub business_id: i64,
    pub staff_user_id: i64,
    pub role: Role,
}

impl Actor {
    /// Refuses unless the actor's role includes `required`.
    pub fn require(&self, required: Role) -> Result<(), Error> {
        if self.role.allows(required) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

#[derive(sqlx::FromRow)]
struct Credentials {
    id: i64,
    business_id: i64,
    password_hash: String,
    disabled: bool,
}

/// A started session: the token goes into the cookie, never into a log.
pub struct NewSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signs a staff user in. Unknown email, wrong password and disabled user all
/// answer the same `SignInFailed` after the same work and the same delay.
pub async fn sign_in(
    services: &Services,
    email: &str,
    password: &str,
) -> Result<NewSession, Error> {
    let email = email.trim().to_lowercase();
    let mut tx = services.db.begin_write().await?;
    let found = query!(
        &mut tx,
        fetch_optional as Credentials,
        "SELECT id, business_id, password_hash, disabled FROM staff_users WHERE email = $1",
        &email
    )?;
    // Verify against a real hash even for unknown emails, so timing does not tell them apart.
    let hash = found
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(dummy_hash);
    let password_ok = {
        let password = password.to_string();
        tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| Error::internal(format!("password check task failed: {e}")))?
    };
    let user = match found {
        Some(user) if password_ok && !user.disabled => user,
        _ => {
            drop(tx);
            tokio::time::sleep(FAILED_SIGN_IN_DELAY).await;
            return Err(Error::SignInFailed);
        }
    };
    let now = services.clock.now();
    let token = new_token();
    let expires_at = now + SESSION_IDLE;
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
    crate::audit::record(
        &mut tx,
        user.business_id,
        crate::audit::By::Staff(user.id),
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

fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            hash_password("not a real password, only for timing")
                .map(|h| h.0)
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
    Ok(Actor {
        business_id: row.business_id,
        staff_user_id: row.staff_user_id,
        role,
    })
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

/// Inserts a staff user (used by bootstrap, seeding and staff management).
pub async fn insert_staff_user(
    tx: &mut Tx,
    business_id: i64,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() < 3 {
        return Err(Error::invalid("email", "enter an email address"));
    }
    if name.trim().is_empty() {
        return Err(Error::invalid("name", "enter a name"));
    }
    check_new_password(password)?;
    let hash = hash_password(password)?;
    let result = query!(
        tx,
        fetch_one as (i64,),
        "INSERT INTO staff_users (business_id, email, name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        business_id,
        &email,
        name.trim(),
        role.as_str(),
        hash.as_str(),
        false,
        now
    );
    match result {
        Ok((id,)) => Ok(id),
        Err(e) => {
            let e = Error::from(e);
            if e.is_unique_violation() {
                Err(Error::invalid(
                    "email",
                    "a staff user with this email already exists",
                ))
            } else {
                Err(e)
            }
        }
    }
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
