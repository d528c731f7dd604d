//! Memberships: read, sell (or preview a sale), and every lifecycle action
//! (or its preview).

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use backend::memberships::HolderRef;
use domain::api_keys::Scope;
use domain::lifecycle::policy::{CancelWhen, ChangeWhen};
use domain::lifecycle::sale::{DiscountAsk, DiscountKind, Payer, SaleCommand, Source};
use domain::memberships::{ActionCommand, ActionKind, Ask};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{
    ApiQuery, Scoped, WriteRequest, answer, id, idempotent, json, optional_id, renamed, scope,
};
use super::page::{Here, PageQuery};
use super::types::{
    ActionInput, ActionResultDto, FamilyDto, FamilyInput, MembershipDto, MembershipSummaryDto,
    SaleInput, SalePreviewDto,
};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// `true`: answer what it would do; nothing is saved.
    pub preview: Option<bool>,
}

/// Read a membership
///
/// With its status computed for today and the explanation of that status.
#[utoipa::path(get, path = "/memberships/{id}", tag = "Memberships",
    params(("id" = String, Path, description = "The membership's id")),
    responses(
        (status = 200, body = MembershipDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn read_membership(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    Path(membership_id): Path<String>,
) -> Result<Json<MembershipDto>, ApiError> {
    let page =
        backend::memberships::membership(&state.services, &c.actor, id(&membership_id)?).await?;
    Ok(Json(page.into()))
}

/// The typed sale the JSON asks for: the same the staff app's form becomes.
fn sale_command(input: &SaleInput) -> Result<(HolderRef, SaleCommand), ApiError> {
    let member = optional_id("member_id", input.member_id.as_deref())?;
    let organization = optional_id("organization_id", input.organization_id.as_deref())?;
    let holder = match (member, organization) {
        (Some(m), None) => HolderRef::Member(m),
        (None, Some(o)) => HolderRef::Organization(o),
        _ => {
            return Err(ApiError::invalid(
                "member_id",
                "send either member_id or organization_id",
            ));
        }
    };
    let type_id = optional_id("type_id", Some(&input.type_id))?
        .ok_or_else(|| ApiError::invalid("type_id", "choose a membership type"))?;
    let mut location_ids = Vec::new();
    for text in &input.location_ids {
        location_ids.extend(optional_id("location_ids", Some(text))?);
    }
    let payer = match input.payer.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(Payer::parse(text).ok_or_else(|| {
            ApiError::invalid("payer", "choose member, organization or personal")
        })?),
    };
    let kind = match input.discount_kind.as_deref().map(str::trim) {
        None | Some("") => DiscountKind::None,
        Some(text) => DiscountKind::parse(text)
            .ok_or_else(|| ApiError::invalid("discount_kind", "choose percent, fixed or manual"))?,
    };
    let discount = DiscountAsk {
        kind,
        value: input.discount_value.clone().unwrap_or_default(),
        periods: input.discount_periods,
        reason: input.discount_reason.clone().unwrap_or_default(),
    };
    let source = match input.source.as_deref().map(str::trim) {
        None | Some("") => Source::Api,
        Some(text) => Source::parse(text).ok_or_else(|| {
            ApiError::invalid("source", "choose front_desk, portal, api or import")
        })?,
    };
    Ok((
        holder,
        SaleCommand {
            type_id,
            price_id: optional_id("price_id", input.price_id.as_deref())?,
            start: input.start,
            location_ids,
            payer,
            discount,
            source: Some(source),
            notes: input.notes.clone().unwrap_or_default(),
        },
    ))
}

/// Sell a membership
///
/// With `preview=true` the answer is the sale's preview (its first invoice and
/// dates) and nothing is saved. Otherwise the membership is created with its
/// first invoice and the answer is the membership (201).
#[utoipa::path(post, path = "/memberships", tag = "Memberships",
    request_body = SaleInput,
    params(PreviewQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = MembershipDto, description = "Sold"),
        (status = 200, body = SalePreviewDto, description = "The preview (preview=true)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("api_key" = ["write_memberships"])))]
pub async fn sell(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMemberships>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    request: WriteRequest,
) -> Response {
    let services = &state.services;
    let run = || async {
        let input: SaleInput = json(&request.body)?;
        let (holder, sale) = sale_command(&input)?;
        if q.preview == Some(true) {
            let summary =
                backend::memberships::preview_sale(services, &c.actor, holder, &sale).await?;
            return answer(StatusCode::OK, &SalePreviewDto::from(summary));
        }
        let sold = backend::memberships::sell(services, &c.actor, holder, &sale).await?;
        let page = backend::memberships::membership(services, &c.actor, sold).await?;
        answer(StatusCode::CREATED, &MembershipDto::from(page))
    };
    if q.preview == Some(true) {
        return super::extract::respond(run().await);
    }
    idempotent(&state, &c, &request, run).await
}

/// The actions, as the path names them.
#[derive(Clone, Copy, Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionName {
    Approve,
    Reject,
    Pause,
    Resume,
    Cancel,
    Reactivate,
    Renew,
    ChangeType,
    ChangePrice,
    SwitchCycle,
    ChangeBillingDate,
    AddFreePeriod,
    Lock,
    Unlock,
}

/// The API's action names, as the staff forms name them.
pub const ACTIONS: &[&str] = &[
    "approve",
    "reject",
    "pause",
    "resume",
    "cancel",
    "reactivate",
    "renew",
    "change_type",
    "change_price",
    "switch_cycle",
    "change_billing_date",
    "add_free_period",
    "lock",
    "unlock",
];

/// The typed command the JSON asks for: the same the staff app's form
/// becomes, so both doors are decided alike.
fn action_command(action: &str, input: &ActionInput) -> Result<ActionCommand, ApiError> {
    let kind = match action {
        "add_free_period" => ActionKind::FreePeriods,
        a if ACTIONS.contains(&a) => ActionKind::parse(a).ok_or_else(ApiError::not_found)?,
        _ => return Err(ApiError::not_found()),
    };
    let required_id = |field: &str, text: Option<&str>, what: &str| {
        optional_id(field, text)?
            .ok_or_else(|| ApiError::invalid(field, format!("send the {what}'s id")))
    };
    let when = input
        .when
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty());
    let change_when = || match when {
        None => Ok(ChangeWhen::NextPeriod),
        Some(text) => ChangeWhen::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "when",
                "choose when the change takes effect: now or next_period",
            )
        }),
    };
    let ask = match kind {
        ActionKind::Pause => Ask::Pause {
            from: input.from,
            until: input.until,
        },
        ActionKind::Resume => Ask::Resume { on: input.on },
        ActionKind::Reactivate => Ask::Reactivate { on: input.on },
        ActionKind::Cancel => Ask::Cancel {
            when: match when {
                None | Some("at_period_end") => CancelWhen::PeriodEnd,
                Some(text) => CancelWhen::parse(text).ok_or_else(|| {
                    ApiError::invalid(
                        "when",
                        "choose when the cancellation takes effect: at_period_end, earliest or immediately",
                    )
                })?,
            },
        },
        ActionKind::Renew => Ask::Renew,
        ActionKind::Approve => Ask::Approve,
        ActionKind::Reject => Ask::Reject,
        ActionKind::Lock => Ask::Lock,
        ActionKind::Unlock => Ask::Unlock,
        ActionKind::ChangeType => Ask::ChangeType {
            type_id: required_id("type_id", input.type_id.as_deref(), "membership type")?,
            when: change_when()?,
        },
        ActionKind::ChangePrice => Ask::ChangePrice {
            price_id: required_id("price_id", input.price_id.as_deref(), "price version")?,
            when: change_when()?,
        },
        ActionKind::SwitchCycle => Ask::SwitchCycle {
            type_id: required_id("type_id", input.type_id.as_deref(), "membership type")?,
            on: input.on,
        },
        ActionKind::FreePeriods => Ask::FreePeriods {
            periods: input.periods.ok_or_else(|| {
                ApiError::invalid("periods", "enter a number of periods from 1 to 12")
            })?,
        },
        ActionKind::ChangeBillingDate => Ask::ChangeBillingDate {
            on: input
                .on
                .ok_or_else(|| ApiError::invalid("on", "choose the new billing date"))?,
            prorate: input.prorate.unwrap_or(true),
        },
    };
    Ok(ActionCommand {
        ask,
        reason: input.reason.clone().unwrap_or_default(),
        force: input.force == Some(true),
        version: None,
    })
}

/// A policy refusal tells the caller it may be overridden only when this
/// key may do it.
fn refusal_for(c: &backend::api_keys::ApiClient, error: backend::Error) -> ApiError {
    match error {
        backend::Error::Refused(message)
            if c.scopes.contains(&Scope::OverridePolicy)
                && c.actor.allows(domain::staff::Role::Manager) =>
        {
            backend::Error::Refused(format!(
                "{message} This key may override the policy: send \"force\": true with a reason."
            ))
            .into()
        }
        other => other.into(),
    }
}

/// Act on a membership
///
/// `action` is one of approve, reject, pause, resume, cancel, reactivate,
/// renew, change_type, change_price, switch_cycle, change_billing_date,
/// add_free_period, lock, unlock. With `preview=true` nothing is saved.
/// A refusal by the business's policy is 422 with the policy's explanation;
/// a key with the `override_policy` scope (a manager's or owner's) may send
/// `force: true` with a reason to carry it out anyway, and only such a key
/// is told so in the message. An action the membership's state does not
/// allow (pausing a cancelled membership) is 409; missing fields (a reason
/// where one is required) are 400.
#[utoipa::path(post, path = "/memberships/{id}/actions/{action}", tag = "Memberships",
    request_body = ActionInput,
    params(("id" = String, Path, description = "The membership's id"),
        ("action" = ActionName, Path, description = "The action's name"),
        PreviewQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 200, body = ActionResultDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("api_key" = ["write_memberships"])))]
pub async fn act(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMemberships>,
    Path((membership_id, action)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    request: WriteRequest,
) -> Response {
    let services = &state.services;
    let preview = q.preview == Some(true);
    let run = || async {
        let membership_id = id(&membership_id)?;
        let input: ActionInput = if request.body.iter().all(u8::is_ascii_whitespace) {
            ActionInput::default()
        } else {
            json(&request.body)?
        };
        let command = action_command(&action, &input)?;
        if command.force {
            c.require(Scope::OverridePolicy)?;
        }
        let (done, after) = if preview {
            (
                backend::memberships::preview_action(services, &c.actor, membership_id, &command)
                    .await
                    .map_err(|e| refusal_for(&c, e))?,
                None,
            )
        } else {
            let showing = backend::memberships::Showing::Billing;
            let (done, page) =
                backend::memberships::act(services, &c.actor, membership_id, &command, showing)
                    .await
                    .map_err(|e| refusal_for(&c, e))?;
            (done, Some(MembershipDto::from(page)))
        };
        answer(
            StatusCode::OK,
            &ActionResultDto {
                effect: done.effect,
                status_after: done.status_after.into(),
                billing: done.billing.into_iter().map(Into::into).collect(),
                billing_up_to: done.billing_up_to,
                preview,
                membership: after,
            },
        )
    };
    if preview {
        return super::extract::respond(run().await);
    }
    idempotent(&state, &c, &request, run).await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembershipListQuery {
    /// Held by this member (as primary or family member).
    pub member: Option<String>,
    /// Held by this organization.
    pub organization: Option<String>,
    /// Of this membership type.
    pub r#type: Option<String>,
    /// Computed status today: `not_approved`, `pending`, `active`, `paused`,
    /// `past_due`, `suspended`, `cancelling`, `cancelled`, `expired`, `rejected`.
    pub status: Option<String>,
    /// Usable at this location.
    pub location: Option<String>,
    /// Active on some day between two dates: `2026-11-01,2026-11-30`.
    pub active_between: Option<String>,
    /// Ending (cancellation or fixed term) between two dates: `2026-12-01,2026-12-31`.
    pub expiring_between: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// In id order (oldest first).
    pub results: Vec<MembershipSummaryDto>,
}

fn between(field: &str, text: Option<&str>) -> Result<(String, String), ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Default::default()),
        Some(t) => {
            let parts: Vec<&str> = t.split(',').map(str::trim).collect();
            let ok = parts.len() == 2
                && parts
                    .iter()
                    .all(|p| chrono::NaiveDate::parse_from_str(p, "%Y-%m-%d").is_ok());
            if !ok {
                return Err(ApiError::invalid(
                    field,
                    "two dates, from and to: 2026-11-01,2026-11-30",
                ));
            }
            Ok((parts[0].to_string(), parts[1].to_string()))
        }
    }
}

/// List memberships
///
/// Each with its status computed for today.
#[utoipa::path(get, path = "/memberships", tag = "Memberships",
    params(MembershipListQuery, PageQuery),
    responses(
        (status = 200, body = MembershipPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn list_memberships(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<MembershipListQuery>,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<axum::Json<MembershipPage>, ApiError> {
    let position = p.seek()?;
    let member = optional_id("member", q.member.as_deref())?;
    let organization = optional_id("organization", q.organization.as_deref())?;
    let holder = match (member, organization) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "member",
                "filter by a member or an organization, not both",
            ));
        }
        (Some(m), None) => Some(HolderRef::Member(m)),
        (None, Some(o)) => Some(HolderRef::Organization(o)),
        (None, None) => None,
    };
    let (active_from, active_to) = between("active_between", q.active_between.as_deref())?;
    let (ending_from, ending_to) = between("expiring_between", q.expiring_between.as_deref())?;
    let filter = domain::memberships::MembershipFilter {
        status: q.status.unwrap_or_default(),
        type_id: optional_id("type", q.r#type.as_deref())?
            .map(|i| i.to_string())
            .unwrap_or_default(),
        location_id: optional_id("location", q.location.as_deref())?
            .map(|i| i.to_string())
            .unwrap_or_default(),
        active_from,
        active_to,
        ending_from,
        ending_to,
        ending_within: String::new(),
        page: String::new(),
    };
    let (rows, count) = backend::memberships::page_matching(
        &state.services,
        &c.actor,
        &filter,
        holder,
        position.0,
        position.1 + 1,
    )
    .await?;
    let (count, next, previous, rows) =
        Here::new(&headers, &uri).seek_page(position, rows, count, |m| m.id);
    Ok(axum::Json(MembershipPage {
        count,
        next,
        previous,
        results: rows.into_iter().map(Into::into).collect(),
    }))
}

/// List a membership's family members
#[utoipa::path(get, path = "/memberships/{id}/family-members", tag = "Memberships",
    params(("id" = String, Path, description = "The membership's id")),
    responses(
        (status = 200, body = FamilyDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn family(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    Path(membership_id): Path<String>,
) -> Result<axum::Json<FamilyDto>, ApiError> {
    let page =
        backend::memberships::membership(&state.services, &c.actor, id(&membership_id)?).await?;
    Ok(axum::Json(FamilyDto::from(&page)))
}

/// Add a family member
///
/// Only on a group type, up to its maximum (409 beyond it); the family
/// member's fee is billed from today.
#[utoipa::path(post, path = "/memberships/{id}/family-members", tag = "Memberships",
    request_body = FamilyInput,
    params(("id" = String, Path, description = "The membership's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = FamilyDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("api_key" = ["write_memberships"])))]
pub async fn add_family_member(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMemberships>,
    Path(membership_id): Path<String>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let membership_id = id(&membership_id)?;
        // Another business's membership is not found, whoever is named.
        backend::memberships::membership(&state.services, &c.actor, membership_id).await?;
        let input: FamilyInput = json(&request.body)?;
        let member_id = optional_id("member_id", Some(&input.member_id))?
            .ok_or_else(|| ApiError::invalid("member_id", "name the member to add"))?;
        let member = backend::members::member(&state.services, &c.actor, member_id)
            .await
            .map_err(|e| match e {
                backend::Error::NotFound => {
                    ApiError::invalid("member_id", "there is no such member")
                }
                other => other.into(),
            })?;
        let page = backend::memberships::add_family_member(
            &state.services,
            &c.actor,
            membership_id,
            &member.member_number.to_string(),
            None,
        )
        .await
        .map_err(|e| renamed(e, &[("member_number", "member_id")]))?;
        answer(StatusCode::CREATED, &FamilyDto::from(&page))
    })
    .await
}

/// Remove a family member
#[utoipa::path(delete, path = "/memberships/{id}/family-members/{member_id}", tag = "Memberships",
    params(("id" = String, Path, description = "The membership's id"),
        ("member_id" = String, Path, description = "The family member's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 400, body = ErrorBody, description = "A malformed Idempotency-Key or body"),
        (status = 200, body = FamilyDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["write_memberships"])))]
pub async fn remove_family_member(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMemberships>,
    Path((membership_id, member_id)): Path<(String, String)>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let page = backend::memberships::remove_family_member(
            &state.services,
            &c.actor,
            id(&membership_id)?,
            id(&member_id)?,
            None,
        )
        .await?;
        answer(StatusCode::OK, &FamilyDto::from(&page))
    })
    .await
}
