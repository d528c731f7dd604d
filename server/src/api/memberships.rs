//! Memberships: read, sell (or preview a sale), and every lifecycle action
//! (or its preview).

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use backend::memberships::HolderRef;
use domain::api_keys::Scope;
use domain::lifecycle::sale::SellForm;
use domain::memberships::ActionForm;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Client, WriteRequest, answer, id, idempotent, json, optional_id};
use super::types::{ActionInput, ActionResultDto, MembershipDto, SaleInput, SalePreviewDto};

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
    client: Client,
    Path(membership_id): Path<String>,
) -> Result<Json<MembershipDto>, ApiError> {
    let c = client.with(Scope::ReadMembers)?;
    let page =
        backend::memberships::membership(&state.services, &c.actor, id(&membership_id)?).await?;
    Ok(Json(page.into()))
}

fn sell_form(input: &SaleInput) -> Result<(HolderRef, SellForm), ApiError> {
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
    let form = SellForm {
        type_id: input.type_id.clone(),
        price_id: input.price_id.clone().unwrap_or_default(),
        start: input.start.map(|d| d.to_string()).unwrap_or_default(),
        location_ids: input.location_ids.clone(),
        payer: input.payer.clone().unwrap_or_default(),
        discount_kind: input.discount_kind.clone().unwrap_or_default(),
        discount_value: input.discount_value.clone().unwrap_or_default(),
        discount_periods: input
            .discount_periods
            .map(|p| p.to_string())
            .unwrap_or_default(),
        discount_reason: input.discount_reason.clone().unwrap_or_default(),
        source: input.source.clone().unwrap_or_else(|| "api".into()),
        notes: input.notes.clone().unwrap_or_default(),
    };
    Ok((holder, form))
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
    client: Client,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    request: WriteRequest,
) -> Response {
    let c = match client.with(Scope::WriteMemberships) {
        Ok(c) => c.clone(),
        Err(e) => return e.into_response(),
    };
    let services = &state.services;
    let run = || async {
        let input: SaleInput = json(&request.body)?;
        let (holder, form) = sell_form(&input)?;
        if q.preview == Some(true) {
            let summary =
                backend::memberships::preview_sale(services, &c.actor, holder, &form).await?;
            return answer(StatusCode::OK, &SalePreviewDto::from(summary));
        }
        let sold = backend::memberships::sell(services, &c.actor, holder, &form).await?;
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

fn action_form(action: &str, input: &ActionInput) -> Result<ActionForm, ApiError> {
    let kind = match action {
        "add_free_period" => "free_periods",
        a if ACTIONS.contains(&a) => a,
        _ => return Err(ApiError::not_found()),
    };
    let when = match (kind, input.when.as_deref()) {
        ("cancel", Some("at_period_end")) => "period_end".to_string(),
        (_, w) => w.unwrap_or_default().to_string(),
    };
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    Ok(ActionForm {
        action: kind.into(),
        from: date(input.from),
        until: date(input.until),
        on: date(input.on),
        when,
        type_id: input.type_id.clone().unwrap_or_default(),
        price_id: input.price_id.clone().unwrap_or_default(),
        periods: input.periods.map(|p| p.to_string()).unwrap_or_default(),
        prorate: match input.prorate {
            Some(false) => "no".into(),
            _ => String::new(),
        },
        reason: input.reason.clone().unwrap_or_default(),
        force: String::new(),
        version: String::new(),
    })
}

/// Act on a membership
///
/// `action` is one of approve, reject, pause, resume, cancel, reactivate,
/// renew, change_type, change_price, switch_cycle, change_billing_date,
/// add_free_period, lock, unlock. With `preview=true` nothing is saved.
/// A refusal by the business's policy is 422 with the policy's explanation;
/// an action the membership's state does not allow (pausing a cancelled
/// membership) is 409.
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
    client: Client,
    Path((membership_id, action)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    request: WriteRequest,
) -> Response {
    let c = match client.with(Scope::WriteMemberships) {
        Ok(c) => c.clone(),
        Err(e) => return e.into_response(),
    };
    let services = &state.services;
    let preview = q.preview == Some(true);
    let run = || async {
        let membership_id = id(&membership_id)?;
        let input: ActionInput = if request.body.iter().all(u8::is_ascii_whitespace) {
            ActionInput::default()
        } else {
            json(&request.body)?
        };
        let form = action_form(&action, &input)?;
        let (done, after) = if preview {
            (
                backend::memberships::preview_action(services, &c.actor, membership_id, &form)
                    .await?,
                None,
            )
        } else {
            let (done, page) =
                backend::memberships::act_returning(services, &c.actor, membership_id, &form)
                    .await?;
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
