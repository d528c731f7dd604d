//! API keys and the integration API's idempotent writes.
//!
//! A key belongs to one business and acts through a staff record of its own
//! (role manager, disabled so nobody can sign in with it): every use case the
//! API calls authorizes it like a person, and the audit trail names the key.
//! Scopes narrow what the key may call. Only the key's SHA-256 is stored.

use chrono::{DateTime, TimeDelta, Utc};
use domain::api_keys::{
    ApiKeyForm, ApiKeyView, CreatedApiKey, Scope, scopes_from_text, scopes_to_text,
};
use domain::staff::Role;

use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::platform::secrets::token_hash;
use crate::{Services, query};

/// What every key's secret starts with, so a leaked one is easy to recognise.
pub const KEY_PREFIX: &str = "tsk_";
/// How long the first answer to an `Idempotency-Key` is kept and replayed.
pub const IDEMPOTENCY_KEPT: TimeDelta = TimeDelta::hours(48);
/// A write still marked running after this long is taken to have died; a
/// repeat runs it again.
pub const IDEMPOTENCY_STALE: TimeDelta = TimeDelta::minutes(2);

/// The caller of an API request: the key's business, scopes, and the actor
/// the use cases see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiClient {
    pub key_id: i64,
    pub scopes: Vec<Scope>,
    pub actor: Actor,
}

impl ApiClient {
    /// Refuses (403) unless the key was given `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), Error> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    name: String,
    prefix: String,
    scopes: String,
    created_by: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyRow> for ApiKeyView {
    fn from(r: KeyRow) -> Self {
        ApiKeyView {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: scopes_from_text(&r.scopes),
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

const KEY_COLUMNS: &str = "k.id, k.name, k.prefix, k.scopes, u.name AS created_by, k.created_at, k.last_used_at, k.revoked_at";

/// The business's keys, newest first (revoked ones too, marked).
pub async fn list(services: &Services, actor: &Actor) -> Result<Vec<ApiKeyView>, Error> {
    actor.require(Role::Owner)?;
    let mut tx = services.db.begin_read().await?;
    let rows = query!(
        &mut tx,
        fetch_all as KeyRow,
        sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k JOIN staff_users u ON u.id = k.created_by
                   WHERE k.business_id = $1 ORDER BY k.created_at DESC, k.id DESC"
        )),
        actor.business_id
    )?;
    tx.commit().await?;
    Ok(rows.into_iter().map(ApiKeyView::from).collect())
}

/// Makes a key (owners only) and returns it with its secret, shown only now.
pub async fn create(
    services: &Services,
    actor: &Actor,
    form: &ApiKeyForm,
) -> Result<CreatedApiKey, Error> {
    actor.require(Role::Owner)?;
    let new = form.validate()?;
    let now = services.clock.now();
    let secret = format!("{KEY_PREFIX}{}", crate::platform::secrets::new_token());
    let prefix: String = secret.chars().take(KEY_PREFIX.len() + 8).collect();
    let mut tx = services.db.begin_write().await?;
    let (staff_user_id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO staff_users (business_id, email, name, role, password_hash, disabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        actor.business_id,
        format!("{}@api-keys.invalid", &token_hash(&secret)[..24]),
        format!("API key: {}", new.name),
        Role::Manager.as_str(),
        "!",
        true,
        now)?;
    let (id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO api_keys (business_id, staff_user_id, name, prefix, key_hash, scopes, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        actor.business_id, staff_user_id, &new.name, &prefix, token_hash(&secret),
        scopes_to_text(&new.scopes), actor.staff_user_id(), now)?;
    audit::record(
        &mut tx,
        actor,
        "api_key.created",
        "api_key",
        Some(id),
        &format!("{} ({})", new.name, scopes_to_text(&new.scopes)),
        now,
    )
    .await?;
    let key = one(&mut tx, actor.business_id, id).await?;
    tx.commit().await?;
    Ok(CreatedApiKey { key, secret })
}

async fn one(tx: &mut Tx, business_id: i64, id: i64) -> Result<ApiKeyView, Error> {
    let row = query!(
        tx,
        fetch_optional as KeyRow,
        sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k JOIN staff_users u ON u.id = k.created_by
                   WHERE k.business_id = $1 AND k.id = $2"
        )),
        business_id,
        id
    )?;
    row.map(ApiKeyView::from).ok_or(Error::NotFound)
}

/// Revokes a key (owners only): from now on it answers 401. Revoking twice is harmless.
pub async fn revoke(services: &Services, actor: &Actor, id: i64) -> Result<ApiKeyView, Error> {
    actor.require(Role::Owner)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let key = one(&mut tx, actor.business_id, id).await?;
    if key.revoked_at.is_none() {
        query!(
            &mut tx,
            execute,
            "UPDATE api_keys SET revoked_at = $1 WHERE business_id = $2 AND id = $3",
            now,
            actor.business_id,
            id
        )?;
        audit::record(
            &mut tx,
            actor,
            "api_key.revoked",
            "api_key",
            Some(id),
            &key.name,
            now,
        )
        .await?;
    }
    let key = one(&mut tx, actor.business_id, id).await?;
    tx.commit().await?;
    Ok(key)
}

#[derive(sqlx::FromRow)]
struct AuthRow {
    id: i64,
    business_id: i64,
    staff_user_id: i64,
    scopes: String,
    last_used_at: Option<DateTime<Utc>>,
}

/// The client behind a bearer key, or `Unauthenticated` (unknown or revoked).
/// Notes the key's last use, at most once a minute.
pub async fn authenticate(services: &Services, secret: &str) -> Result<ApiClient, Error> {
    if !secret.starts_with(KEY_PREFIX) {
        return Err(Error::Unauthenticated);
    }
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as AuthRow,
        "SELECT id, business_id, staff_user_id, scopes, last_used_at FROM api_keys
          WHERE key_hash = $1 AND revoked_at IS NULL",
        token_hash(secret)
    )?;
    tx.commit().await?;
    let row = row.ok_or(Error::Unauthenticated)?;
    if row
        .last_used_at
        .is_none_or(|t| now - t > TimeDelta::minutes(1))
    {
        let mut tx = services.db.begin_write().await?;
        query!(
            &mut tx,
            execute,
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2",
            now,
            row.id
        )?;
        tx.commit().await?;
    }
    Ok(ApiClient {
        key_id: row.id,
        scopes: scopes_from_text(&row.scopes),
        actor: Actor::staff(row.business_id, row.staff_user_id, Role::Manager),
    })
}

/// Makes a key for the owner with this email (the `server api-key` command).
pub async fn create_for_owner_email(
    services: &Services,
    email: &str,
    form: &ApiKeyForm,
) -> Result<CreatedApiKey, Error> {
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as (i64, i64),
        "SELECT id, business_id FROM staff_users WHERE email = $1 AND role = $2 AND disabled = $3",
        email.trim().to_lowercase(),
        Role::Owner.as_str(),
        false
    )?;
    tx.commit().await?;
    let (staff_user_id, business_id) =
        row.ok_or_else(|| Error::invalid("email", "no active owner has this email"))?;
    let actor = Actor::staff(business_id, staff_user_id, Role::Owner);
    create(services, &actor, form).await
}

/// What to do with a write sent with an `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replay {
    /// First time (or the first try died): run it, then `finish` or `abandon`.
    Run,
    /// Done before: send this answer again.
    Answer { status: u16, body: String },
    /// The key was used for a different request.
    OtherRequest,
    /// The first request with this key is still running.
    InProgress,
}

#[derive(sqlx::FromRow)]
struct IdemRow {
    fingerprint: String,
    status: i64,
    body: String,
    created_at: DateTime<Utc>,
}

/// Claims an idempotency key for a request (`fingerprint`: a hash of its
/// method, path and body), or says how to answer a repeat.
pub async fn begin_idempotent(
    services: &Services,
    business_id: i64,
    key: &str,
    fingerprint: &str,
) -> Result<Replay, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "DELETE FROM api_idempotency WHERE business_id = $1 AND created_at < $2",
        business_id,
        now - IDEMPOTENCY_KEPT
    )?;
    // SQLite's write transaction already excludes other writers; PostgreSQL locks the row.
    let lock = if matches!(tx, Tx::Postgres(_)) {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = query!(
        &mut tx,
        fetch_optional as IdemRow,
        sqlx::AssertSqlSafe(format!(
            "SELECT fingerprint, status, body, created_at FROM api_idempotency
                   WHERE business_id = $1 AND idempotency_key = $2{lock}"
        )),
        business_id,
        key
    )?;
    let replay = match row {
        None => {
            // Two first requests at once: the one whose row goes in runs.
            let claimed = query!(&mut tx, execute,
                "INSERT INTO api_idempotency (business_id, idempotency_key, fingerprint, status, body, created_at)
                 VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (business_id, idempotency_key) DO NOTHING",
                business_id, key, fingerprint, now)?;
            if claimed == 1 {
                Replay::Run
            } else {
                Replay::InProgress
            }
        }
        Some(row) if row.fingerprint != fingerprint => Replay::OtherRequest,
        Some(row) if row.status == 0 && now - row.created_at > IDEMPOTENCY_STALE => {
            query!(
                &mut tx,
                execute,
                "UPDATE api_idempotency SET created_at = $1 WHERE business_id = $2 AND idempotency_key = $3",
                now,
                business_id,
                key
            )?;
            Replay::Run
        }
        Some(row) if row.status == 0 => Replay::InProgress,
        Some(row) => Replay::Answer {
            status: u16::try_from(row.status).unwrap_or(200),
            body: row.body,
        },
    };
    tx.commit().await?;
    Ok(replay)
}

/// Stores the answer to replay for the key.
pub async fn finish_idempotent(
    services: &Services,
    business_id: i64,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), Error> {
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "UPDATE api_idempotency SET status = $1, body = $2 WHERE business_id = $3 AND idempotency_key = $4",
        i64::from(status),
        body,
        business_id,
        key
    )?;
    tx.commit().await
}

/// Frees the key after a failure of ours, so that a repeat runs again.
pub async fn abandon_idempotent(
    services: &Services,
    business_id: i64,
    key: &str,
) -> Result<(), Error> {
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "DELETE FROM api_idempotency WHERE business_id = $1 AND idempotency_key = $2 AND status = 0",
        business_id,
        key
    )?;
    tx.commit().await
}
