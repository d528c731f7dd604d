//! Membership types: list and read.

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use domain::catalog::{PurchaseType, TypeFilter, TypeStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Scoped, id, optional_id, scope};
use super::page::{Here, PageQuery};
use super::types::MembershipTypeDto;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TypeListQuery {
    /// `draft`, `active` or `retired`.
    pub status: Option<String>,
    /// `recurring`, `prepaid` or `benefit`.
    pub purchase_type: Option<String>,
    /// Types offered at this location.
    pub location: Option<String>,
    /// Also list retired types (when no status is given).
    pub include_retired: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TypeList {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// Ordered by status (active, draft, retired), display order, then name.
    pub results: Vec<MembershipTypeDto>,
}

/// List membership types
///
/// Every type with every catalog field, its prices and policies.
#[utoipa::path(get, path = "/membership-types", tag = "Catalog",
    params(TypeListQuery, PageQuery),
    responses(
        (status = 200, body = TypeList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["read_catalog"])))]
pub async fn list_types(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadCatalog>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<TypeListQuery>,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<Json<TypeList>, ApiError> {
    let window = p.window()?;
    let filter = TypeFilter {
        status: match q.status.as_deref() {
            None | Some("") => None,
            Some(t) => Some(TypeStatus::parse(t).ok_or_else(|| {
                ApiError::invalid("status", "a status is draft, active or retired")
            })?),
        },
        purchase_type: match q.purchase_type.as_deref() {
            None | Some("") => None,
            Some(t) => Some(PurchaseType::parse(t).ok_or_else(|| {
                ApiError::invalid(
                    "purchase_type",
                    "a purchase type is recurring, prepaid or benefit",
                )
            })?),
        },
        location_id: optional_id("location", q.location.as_deref())?,
        search: String::new(),
        include_retired: q.include_retired.unwrap_or(false),
    };
    let (types, count) = backend::catalog::page_of_types(
        &state.services,
        &c.actor,
        &filter,
        super::page::one_more(window),
    )
    .await?;
    let (count, next, previous, page) = Here::new(&headers, &uri).page(window, types, count);
    let results = page.into_iter().map(Into::into).collect();
    Ok(Json(TypeList {
        count,
        next,
        previous,
        results,
    }))
}

/// Read a membership type
#[utoipa::path(get, path = "/membership-types/{id}", tag = "Catalog",
    params(("id" = String, Path, description = "The type's id")),
    responses(
        (status = 200, body = MembershipTypeDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["read_catalog"])))]
pub async fn read_type(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadCatalog>,
    Path(type_id): Path<String>,
) -> Result<Json<MembershipTypeDto>, ApiError> {
    let detail =
        backend::catalog::membership_type(&state.services, &c.actor, id(&type_id)?).await?;
    Ok(Json(detail.into()))
}
