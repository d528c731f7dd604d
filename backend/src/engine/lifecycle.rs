//! Lifecycle application: checking and recording a sale, deciding an
//! action with the domain's policy engine and appending its event, and the
//! statuses lists and the desk show.

use crate::platform::actor::{Actor, Who};
use crate::platform::audit;
use crate::platform::db::{Tx, Window};
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::catalog::{self, Loaded, Types};
use crate::store::memberships::{
    Filters, HolderRef, Order, Stored, SummaryRow, append_event, fetch_page, fresh,
    load_membership, lock_row, reproject, type_in_effect, types,
};
use crate::{Services, query};
use chrono::{DateTime, NaiveDate, Utc};
use domain::Invalid;
use domain::lifecycle::policy::{self};
use domain::lifecycle::sale::{Payer, SaleCommand, SaleContext, TypeOnSale, check_sale, preview};
use domain::lifecycle::{Event, Membership, Recorded, Status, StatusReport};
use domain::memberships::{ActionCommand, ActionPreview, MembershipSummary, SaleSummary};
use domain::paging::{self, Listed};
use domain::parties::Holder;
use std::collections::HashMap;

mod sale;
pub(crate) use sale::{check, holds_type, parties, sale_summary, sell_in};

/// The audit event of a membership's sale or action. A member's own
/// actions are audited as the system's (their membership's timeline names
/// them).
pub(crate) async fn record_audit(
    tx: &mut Tx,
    by: &Actor,
    action: &str,
    id: i64,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let by = match by.who {
        Who::Staff { .. } => *by,
        Who::Member { .. } | Who::System => Actor::system(by.business_id),
    };
    audit::record(
        tx,
        &by,
        action,
        "membership",
        Some(id),
        &details.to_string(),
        now,
    )
    .await
}

/// A missing field, a policy's objection, or a fact of the membership's
/// state that no one can override.
pub(crate) fn refused(refusal: policy::Refusal) -> Error {
    match refusal.field {
        Some(field) => Error::invalid(&field, refusal.message),
        None if refusal.policy => Error::Refused(refusal.message),
        None => Error::Conflict(refusal.message),
    }
}

/// What an action would do for whoever `by` is, without saving it.
pub(crate) async fn preview_as(
    services: &Services,
    by: &Actor,
    id: i64,
    command: &ActionCommand,
) -> Result<ActionPreview, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, by.business_id).await?;
    let today = services.today(&business);
    let types = types(&mut tx, business.id).await?;
    let preview = decide(
        &mut tx,
        &business,
        &types,
        by,
        id,
        command,
        today,
        Showing::Billing,
    )
    .await?
    .1;
    tx.commit().await?;
    Ok(preview)
}

/// What an action's answer shows besides its effect and the status after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Showing {
    /// What billing will write because of the change, up to the day it takes
    /// effect: the generator runs twice (with and without the change). A
    /// preview, and the API's answer to an action, show it.
    Billing,
    /// Only the effect: an applied action is then billed once, by billing.
    Effect,
}

/// Loads the membership, decides the action with the catalog `types`, and
/// returns the decision with its preview.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn decide(
    tx: &mut Tx,
    business: &Business,
    types: &Types,
    by: &Actor,
    id: i64,
    command: &ActionCommand,
    today: NaiveDate,
    showing: Showing,
) -> Result<(policy::Decision, ActionPreview, Stored), Error> {
    let loaded = load_membership(tx, business.id, id).await?;
    let (current, _) = type_in_effect(types, &loaded.row, &loaded.events, today)?;
    let asked = command.asked(today)?;
    let request = domain::lifecycle::request::request_for(
        asked,
        &command.reason,
        command.force,
        current.offered(),
        |id| types.get(&id).map(Loaded::offered),
        today,
    )
    .map_err(refused)?;
    let acting = by.acting();
    let m = Membership {
        spec: &current.spec,
        events: &loaded.events,
        overdue: crate::engine::ledger::overdue_of(tx, business, id, today).await?,
    };
    let decision = policy::decide(&m, acting, &request, today).map_err(refused)?;
    let mut after = loaded.events.clone();
    after.push(Recorded {
        event: decision.event.clone(),
        by: String::new(),
        reason: request.reason.clone(),
        forced: decision.forced,
    });
    let status_after = Membership {
        events: &after,
        ..m
    }
    .status(today);
    // What billing will write for it: the generator on a copy of the events,
    // up to the day the change takes effect (today at the earliest).
    let billing_up_to = decision.event.effective().max(today);
    let billing = match showing {
        Showing::Effect => Vec::new(),
        Showing::Billing => {
            use crate::engine::invoicing::missing_with;
            let (_, billing) =
                missing_with(tx, business, types, &loaded, &after, billing_up_to).await?;
            let (_, anyway) =
                missing_with(tx, business, types, &loaded, &loaded.events, billing_up_to).await?;
            // Only what the change makes different: lines billed anyway are left out.
            billing
                .into_iter()
                .filter(|l| !anyway.contains(l))
                .collect()
        }
    };
    let preview = ActionPreview {
        effect: decision.effect.clone(),
        forced: decision.forced,
        status_after,
        billing: billing.into_iter().map(|l| l.line).collect(),
        billing_up_to,
    };
    Ok((decision, preview, loaded))
}

/// Where each member's memberships (held by them) stand on `today`: the
/// most pressing status of them, for the desk's search.
pub(crate) async fn standings(
    tx: &mut Tx,
    business: &Business,
    member_ids: &[i64],
    today: NaiveDate,
) -> Result<HashMap<i64, StatusReport>, Error> {
    if member_ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Ids read from the database: safe to write into the statement. The
    // members' index finds their memberships (`+` keeps SQLite from walking
    // the business's whole index in id order instead: 0.3 s at 1,000,000).
    let list = member_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let held = query!(
        tx,
        fetch_all as (i64, i64),
        sqlx::AssertSqlSafe(format!(
            "SELECT id, member_id FROM memberships WHERE +business_id = $1 AND member_id IN ({list}) ORDER BY id"
        )),
        business.id
    )?;
    let types = types(tx, business.id).await?;
    let pressing = |s: Status| match s {
        Status::Suspended => 9,
        Status::PastDue => 8,
        Status::Paused => 7,
        Status::Active => 6,
        Status::Cancelling => 5,
        Status::Pending => 4,
        Status::NotApproved => 3,
        Status::Cancelled => 2,
        Status::Expired => 1,
        Status::Rejected => 0,
    };
    let mut out: HashMap<i64, StatusReport> = HashMap::new();
    for (id, member) in held {
        let stored = load_membership(tx, business.id, id).await?;
        let (current, _) = type_in_effect(&types, &stored.row, &stored.events, today)?;
        let m = Membership {
            spec: &current.spec,
            events: &stored.events,
            overdue: crate::engine::ledger::overdue_of(tx, business, id, today).await?,
        };
        let report = m.status(today);
        match out.get(&member) {
            Some(r) if pressing(r.status) >= pressing(report.status) => {}
            _ => {
                out.insert(member, report);
            }
        }
    }
    Ok(out)
}

/// Applies an action for whoever `by` is; returns what it did.
pub async fn act_as(
    services: &Services,
    by: &Actor,
    id: i64,
    command: &ActionCommand,
    showing: Showing,
) -> Result<ActionPreview, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, by.business_id).await?;
    let today = services.today(&business);
    lock_row(&mut tx, business.id, id, command.version).await?;
    let types = types(&mut tx, business.id).await?;
    let (decision, preview, _) =
        decide(&mut tx, &business, &types, by, id, command, today, showing).await?;
    let (actor_kind, actor_id) = by.kind_and_id();
    let label = by.author(&mut tx).await?.label;
    append_event(
        &mut tx,
        business.id,
        id,
        &decision.event,
        command.reason.trim(),
        decision.forced,
        (actor_kind, actor_id, &label),
        now,
    )
    .await?;
    reproject(&mut tx, &business, Some(&types), id, today).await?;
    let details = serde_json::json!({
        "event": decision.event,
        "reason": command.reason.trim(),
        "forced": decision.forced,
    });
    let action = format!("membership.{}", decision.event.kind());
    record_audit(&mut tx, by, &action, id, &details, now).await?;
    tx.commit().await?;
    // What the change means for today's bill is written at once (a credit, a
    // prorated difference); later periods are billed on their days.
    if let Err(error) =
        crate::engine::invoicing::bill_with(services, &business, &types, id, today).await
    {
        tracing::error!(membership = id, %error, "billing right after a change failed");
    }
    Ok(preview)
}

/// A page of the memberships a member or organization holds (or pays
/// for), newest first, and how many there are.
pub(crate) async fn held_by(
    tx: &mut Tx,
    business: &Business,
    holder_ref: HolderRef,
    today: NaiveDate,
    page: i64,
) -> Result<Listed<MembershipSummary>, Error> {
    let filters = Filters {
        holder: Some(holder_ref),
        ..Filters::all(business.id)
    };
    let window = Window {
        offset: paging::offset_of(page, HELD_PER_PAGE),
        limit: HELD_PER_PAGE,
    };
    let rows = fetch_page(tx, &filters, Order::Newest, window).await?;
    // Most holders have a few: a first page that is not full is all of them.
    let total = if window.offset == 0 && (rows.len() as i64) < window.limit {
        rows.len() as i64
    } else {
        crate::store::memberships::count_filtered(tx, &filters).await?
    };
    Ok(Listed {
        rows: summaries(tx, business, rows, today).await?,
        total,
        page,
        per_page: HELD_PER_PAGE,
    })
}

/// How many of its memberships a member's or organization's page shows at a time.
pub const HELD_PER_PAGE: i64 = 50;

/// The summaries of a page of memberships, from their stored projection
/// (written with every change and checked by `server check`; a
/// membership's own page explains its status from the events). A row whose
/// day to change has come before the daily work advanced it is recomputed
/// here, so that no list shows yesterday's status.
pub(crate) async fn summaries(
    tx: &mut Tx,
    business: &Business,
    rows: Vec<SummaryRow>,
    today: NaiveDate,
) -> Result<Vec<MembershipSummary>, Error> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let holder = match (row.member_id, row.organization_id) {
            (Some(id), _) => Holder {
                name: row.holder_name.unwrap_or_default(),
                href: format!("/members/{id}"),
                member_number: row.member_number,
            },
            (None, org) => Holder {
                name: row.holder_name.unwrap_or_default(),
                href: format!("/organizations/{}", org.unwrap_or_default()),
                member_number: None,
            },
        };
        let (type_name, type_color, status, start, end, locked) = if row
            .status_changes_on
            .is_some_and(|d| d <= today)
        {
            let fresh = fresh(tx, business, None, row.id, today).await?;
            let p = fresh.projection;
            let status = StatusReport {
                status: p.status,
                since: p.since,
                until: p.until,
                explanation: p.explanation,
            };
            (
                fresh.type_name,
                fresh.type_color,
                status,
                fresh.anchor,
                fresh.end,
                p.locked,
            )
        } else {
            let status = StatusReport {
                status: Status::parse(&row.status).ok_or_else(|| {
                    Error::internal(format!("membership {} has status {:?}", row.id, row.status))
                })?,
                since: row.status_since,
                until: row.status_until,
                explanation: row.status_explanation,
            };
            let name = row.type_name.unwrap_or_default();
            let color = row.type_color.unwrap_or_default();
            (
                name,
                color,
                status,
                row.start_date,
                row.end_date,
                row.locked,
            )
        };
        let summary = MembershipSummary {
            id: row.id,
            holder,
            type_name,
            type_color,
            status,
            start,
            last_day: end.and_then(|e| e.pred_opt()),
            locked,
        };
        out.push(summary);
    }
    Ok(out)
}
