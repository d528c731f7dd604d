//! Members: list, read, create, update.

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use backend::members::MemberListFilter;
use domain::members::MemberStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Scoped, WriteRequest, answer, id, idempotent, json, scope};
use super::page::{Here, PageQuery};
use super::types::{MemberDto, MemberInput, MemberSummaryDto};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberListQuery {
    /// `active` or `archived`.
    pub status: Option<String>,
    /// Exactly this email address (any case).
    pub email: Option<String>,
    /// The start of a first name, last name or email.
    pub search: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// In id order (oldest first).
    pub results: Vec<MemberSummaryDto>,
}

/// List members
#[utoipa::path(get, path = "/members", tag = "Members",
    params(MemberListQuery, PageQuery),
    responses(
        (status = 200, body = MemberPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn list_members(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<MemberListQuery>,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<Json<MemberPage>, ApiError> {
    let filter = MemberListFilter {
        status: match q.status.as_deref() {
            None | Some("") => None,
            Some(t) => Some(MemberStatus::parse(t).ok_or_else(|| {
                ApiError::invalid("status", "a member's status is active or archived")
            })?),
        },
        email: q.email.filter(|e| !e.trim().is_empty()),
        search: q.search,
    };
    let position = p.seek()?;
    let (rows, count) = backend::members::page_of_members(
        &state.services,
        &c.actor,
        &filter,
        position.0,
        position.1 + 1,
    )
    .await?;
    let (count, next, previous, rows) =
        Here::new(&headers, &uri).seek_page(position, rows, count, |m| m.id);
    Ok(Json(MemberPage {
        count,
        next,
        previous,
        results: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Read a member
#[utoipa::path(get, path = "/members/{id}", tag = "Members",
    params(("id" = String, Path, description = "The member's id")),
    responses(
        (status = 200, body = MemberDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn read_member(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    Path(member_id): Path<String>,
) -> Result<Json<MemberDto>, ApiError> {
    Ok(Json(
        backend::members::member(&state.services, &c.actor, id(&member_id)?)
            .await?
            .into(),
    ))
}

/// Create a member
///
/// `first_name` and `last_name` are required. Send an `Idempotency-Key` to
/// make a retry safe.
#[utoipa::path(post, path = "/members", tag = "Members",
    request_body = MemberInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = MemberDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["write_members"])))]
pub async fn create_member(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMembers>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let input: MemberInput = json(&request.body)?;
        let form = input.onto(None);
        let view = backend::members::create_member(&state.services, &c.actor, &form).await?;
        answer(StatusCode::CREATED, &MemberDto::from(view))
    })
    .await
}

/// Update a member
///
/// Only the fields sent change; `null` clears an optional field.
#[utoipa::path(patch, path = "/members/{id}", tag = "Members",
    request_body = MemberInput,
    params(("id" = String, Path, description = "The member's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 200, body = MemberDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["write_members"])))]
pub async fn update_member(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMembers>,
    Path(member_id): Path<String>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let member_id = id(&member_id)?;
        let input: MemberInput = json(&request.body)?;
        let current = backend::members::member(&state.services, &c.actor, member_id).await?;
        let form = input.onto(Some(&current.details));
        let view =
            backend::members::update_member(&state.services, &c.actor, member_id, &form).await?;
        answer(StatusCode::OK, &MemberDto::from(view))
    })
    .await
}
