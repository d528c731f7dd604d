//! The audit trail: an append-only record of who changed what and when.

use chrono::{DateTime, Utc};

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;

/// Who did it.
#[derive(Clone, Copy, Debug)]
pub enum By {
    Staff(i64),
    /// A member, in the portal.
    Member(i64),
    System,
}

/// Records what a signed-in staff user did in their business.
pub async fn by_staff(
    tx: &mut Tx,
    actor: &crate::platform::actor::Actor,
    action: &str,
    subject: &str,
    subject_id: Option<i64>,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    record(
        tx,
        actor.business_id,
        By::Staff(actor.staff_user_id),
        action,
        subject,
        subject_id,
        details,
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    business_id: i64,
    by: By,
    action: &str,
    subject: &str,
    subject_id: Option<i64>,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (actor, actor_id) = match by {
        By::Staff(id) => ("staff", Some(id)),
        By::Member(id) => ("member", Some(id)),
        By::System => ("system", None),
    };
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
