//! The audit trail: an append-only record of who changed what and when.

use chrono::{DateTime, Utc};

use crate::platform::actor::Actor;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;

/// Records what `actor` did in their business.
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    subject: &str,
    subject_id: Option<i64>,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let business_id = actor.business_id;
    let (actor, actor_id) = actor.kind_and_id();
    query!(tx, execute,
        "INSERT INTO audit_events (business_id, actor, actor_id, action, subject, subject_id, details, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        business_id, actor, actor_id, action, subject, subject_id, details, now)?;
    crate::platform::events::from_audit(
        tx,
        business_id,
        actor,
        action,
        subject,
        subject_id,
        details,
        now,
    )
    .await
}
