//! Organizations and the members they authorize.

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{
    ApiQuery, Scoped, WriteRequest, answer, id, idempotent, json, renamed, scope,
};
use super::page::{Here, PageQuery, one_more};
use super::types::{
    AuthorizeInput, AuthorizedMemberDto, OrganizationDto, OrganizationInput, OrganizationSummaryDto,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// By name.
    pub results: Vec<OrganizationSummaryDto>,
}

/// List organizations
#[utoipa::path(get, path = "/organizations", tag = "Members",
    params(PageQuery),
    responses(
        (status = 200, body = OrganizationPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn list_organizations(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<Json<OrganizationPage>, ApiError> {
    let window = p.window()?;
    let (rows, count) =
        backend::organizations::page_of_organizations(&state.services, &c.actor, one_more(window))
            .await?;
    let (count, next, previous, rows) = Here::new(&headers, &uri).page(window, rows, count);
    Ok(Json(OrganizationPage {
        count,
        next,
        previous,
        results: rows
            .into_iter()
            .map(|o| OrganizationSummaryDto {
                id: o.id.to_string(),
                name: o.name,
                contact_name: o.contact_name,
                email: o.email,
                authorized: o.authorized,
                max_members: o.max_members,
            })
            .collect(),
    }))
}

/// Read an organization
#[utoipa::path(get, path = "/organizations/{id}", tag = "Members",
    params(("id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, body = OrganizationDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn read_organization(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    Path(organization_id): Path<String>,
) -> Result<Json<OrganizationDto>, ApiError> {
    let view =
        backend::organizations::organization(&state.services, &c.actor, id(&organization_id)?)
            .await?;
    Ok(Json(view.into()))
}

/// Create an organization
#[utoipa::path(post, path = "/organizations", tag = "Members",
    request_body = OrganizationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = OrganizationDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["write_members"])))]
pub async fn create_organization(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMembers>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let input: OrganizationInput = json(&request.body)?;
        let view = backend::organizations::save_organization(
            &state.services,
            &c.actor,
            0,
            &input.onto(None),
        )
        .await?;
        answer(StatusCode::CREATED, &OrganizationDto::from(view))
    })
    .await
}

/// Update an organization
///
/// Only the fields sent change.
#[utoipa::path(patch, path = "/organizations/{id}", tag = "Members",
    request_body = OrganizationInput,
    params(("id" = String, Path, description = "The organization's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 200, body = OrganizationDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["write_members"])))]
pub async fn update_organization(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMembers>,
    Path(organization_id): Path<String>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let organization_id = id(&organization_id)?;
        let input: OrganizationInput = json(&request.body)?;
        let current =
            backend::organizations::organization(&state.services, &c.actor, organization_id)
                .await?;
        let form = input.onto(Some(&current.details));
        let view = backend::organizations::save_organization(
            &state.services,
            &c.actor,
            organization_id,
            &form,
        )
        .await?;
        answer(StatusCode::OK, &OrganizationDto::from(view))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizedList {
    pub count: i64,
    pub results: Vec<AuthorizedMemberDto>,
}

/// List an organization's authorized members
#[utoipa::path(get, path = "/organizations/{id}/members", tag = "Members",
    params(("id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, body = AuthorizedList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn list_authorized(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    Path(organization_id): Path<String>,
) -> Result<Json<AuthorizedList>, ApiError> {
    let view: OrganizationDto =
        backend::organizations::organization(&state.services, &c.actor, id(&organization_id)?)
            .await?
            .into();
    Ok(Json(AuthorizedList {
        count: view.authorized_members.len() as i64,
        results: view.authorized_members,
    }))
}

/// Authorize a member
///
/// The member may then use the organization's memberships and credits.
/// Refused (400 on `member_id`) beyond the organization's maximum.
#[utoipa::path(post, path = "/organizations/{id}/members", tag = "Members",
    request_body = AuthorizeInput,
    params(("id" = String, Path, description = "The organization's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = OrganizationDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["write_members"])))]
pub async fn authorize(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMembers>,
    Path(organization_id): Path<String>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let organization_id = id(&organization_id)?;
        // Another business's organization is not found, whoever is named.
        backend::organizations::organization(&state.services, &c.actor, organization_id).await?;
        let input: AuthorizeInput = json(&request.body)?;
        let member_id = input.member_id.trim().parse::<i64>().map_err(|_| {
            ApiError::invalid("member_id", "an id is a string of digits, such as \"12\"")
        })?;
        let member = backend::members::member(&state.services, &c.actor, member_id)
            .await
            .map_err(|e| match e {
                backend::Error::NotFound => {
                    ApiError::invalid("member_id", "there is no such member")
                }
                other => other.into(),
            })?;
        let view = backend::organizations::authorize_member(
            &state.services,
            &c.actor,
            organization_id,
            &member.member_number.to_string(),
        )
        .await
        .map_err(|e| renamed(e, &[("member_number", "member_id")]))?;
        answer(StatusCode::CREATED, &OrganizationDto::from(view))
    })
    .await
}

/// Remove an authorized member
#[utoipa::path(delete, path = "/organizations/{id}/members/{member_id}", tag = "Members",
    params(("id" = String, Path, description = "The organization's id"),
        ("member_id" = String, Path, description = "The member's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 400, body = ErrorBody, description = "A malformed Idempotency-Key or body"),
        (status = 200, body = OrganizationDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["write_members"])))]
pub async fn remove_authorized(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::WriteMembers>,
    Path((organization_id, member_id)): Path<(String, String)>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let view = backend::organizations::remove_member(
            &state.services,
            &c.actor,
            id(&organization_id)?,
            id(&member_id)?,
        )
        .await?;
        answer(StatusCode::OK, &OrganizationDto::from(view))
    })
    .await
}
