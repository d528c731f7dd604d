//! The events feed: an append-only list of what happened in a business,
//! numbered 1, 2, 3... for integrations to poll with a cursor.
//!
//! Numbers are handed out from one counter row per business, updated in the
//! same transaction as the change and held until it commits: an event with a
//! higher number never becomes visible before one with a lower number, so a
//! reader that remembers the last number it saw misses nothing and sees
//! nothing twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::platform::actor::Actor;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::{Services, query};
use domain::staff::Role;

/// One event of the feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedEvent {
    pub seq: i64,
    /// `membership.sold`, `membership.paused`, `invoice.paid`, `payment.failed`, ...
    pub kind: String,
    /// What it is about: `membership`, `member`, `invoice`, `payment`, ...
    pub subject: String,
    pub subject_id: Option<i64>,
    /// Details; always a JSON object.
    pub data: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// Audit actions that are about the app itself, not the business's members
/// and money: kept out of the feed.
fn is_internal(kind: &str) -> bool {
    [
        "staff.",
        "api_key.",
        "demo.",
        "clock.",
        "test.",
        "member.portal_signed_in",
    ]
    .iter()
    .any(|p| kind.starts_with(p))
}

/// Appends an event in the caller's transaction.
pub async fn emit(
    tx: &mut Tx,
    business_id: i64,
    kind: &str,
    subject: &str,
    subject_id: Option<i64>,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let (seq,) = query!(
        tx,
        fetch_one as (i64,),
        "INSERT INTO event_counters (business_id, last_seq) VALUES ($1, 1)
         ON CONFLICT (business_id) DO UPDATE SET last_seq = event_counters.last_seq + 1
         RETURNING last_seq",
        business_id
    )?;
    let data = if data.is_object() {
        data.clone()
    } else {
        serde_json::json!({ "value": data })
    };
    query!(
        tx,
        execute,
        "INSERT INTO events (business_id, seq, kind, subject, subject_id, data, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        business_id,
        seq,
        kind,
        subject,
        subject_id,
        data.to_string(),
        now
    )?;
    Ok(seq)
}

/// The feed's copy of an audit record (the audit trail calls this).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn from_audit(
    tx: &mut Tx,
    business_id: i64,
    actor: &str,
    action: &str,
    subject: &str,
    subject_id: Option<i64>,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if is_internal(action) {
        return Ok(());
    }
    let mut data = match serde_json::from_str::<serde_json::Value>(details) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => serde_json::json!({ "description": details }),
    };
    if let Some(object) = data.as_object_mut() {
        object.insert("actor".into(), actor.into());
    }
    emit(tx, business_id, action, subject, subject_id, &data, now).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    kind: String,
    subject: String,
    subject_id: Option<i64>,
    data: String,
    occurred_at: DateTime<Utc>,
}

/// A page of the feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    /// The number to ask after next time: the last event's, or `after` when none.
    pub last_seq: i64,
    pub has_more: bool,
}

/// Events numbered above `after`, oldest first, at most `limit`.
pub async fn after(
    services: &Services,
    actor: &Actor,
    after: i64,
    limit: u32,
) -> Result<FeedPage, Error> {
    actor.require(Role::Viewer)?;
    let limit = i64::from(limit.clamp(1, 500));
    let mut tx = services.db.begin_read().await?;
    let mut rows = query!(
        &mut tx,
        fetch_all as Row,
        "SELECT seq, kind, subject, subject_id, data, occurred_at FROM events
          WHERE business_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        actor.business_id,
        after,
        limit + 1
    )?;
    tx.commit().await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let events: Vec<FeedEvent> = rows
        .into_iter()
        .map(|r| FeedEvent {
            seq: r.seq,
            kind: r.kind,
            subject: r.subject,
            subject_id: r.subject_id,
            data: serde_json::from_str(&r.data).unwrap_or_else(|_| serde_json::json!({})),
            occurred_at: r.occurred_at,
        })
        .collect();
    Ok(FeedPage {
        last_seq: events.last().map_or(after, |e| e.seq),
        has_more,
        events,
    })
}
