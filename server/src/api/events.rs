//! The events feed.

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Scoped, scope};
use super::types::{EventDto, EventsPageDto};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The last `seq` you have seen (0 or left out: from the start).
    pub after: Option<String>,
    /// At most this many events, 1 to 500 (default 100).
    pub limit: Option<String>,
}

/// Follow the events feed
///
/// What happened in the business, oldest first: `member.created`,
/// `membership.sold`, `membership.paused`, `membership.cancelled`,
/// `invoice.paid`, `payment.failed`, ... Each event has a number (`seq`);
/// ask again with `after=` the `last_seq` of the answer. Numbers follow the
/// order in which changes were saved, so polling this way misses nothing and
/// sees nothing twice.
#[utoipa::path(get, path = "/events", tag = "Events",
    params(EventsQuery),
    responses(
        (status = 200, body = EventsPageDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["read_members"])))]
pub async fn events(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::ReadMembers>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<EventsPageDto>, ApiError> {
    let after = match q.after.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(t) => t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid(
                "after",
                "after is the last seq you have seen: a whole number from 0",
            )
        })?,
    };
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => 100,
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "a limit is a whole number from 1 to 500"))?,
    };
    let page = backend::platform::events::after(&state.services, &c.actor, after, limit).await?;
    Ok(Json(EventsPageDto {
        results: page
            .events
            .into_iter()
            .map(|e| EventDto {
                seq: e.seq,
                kind: e.kind,
                subject: e.subject,
                subject_id: e.subject_id.map(|i| i.to_string()),
                data: e.data,
                occurred_at: e.occurred_at,
            })
            .collect(),
        last_seq: page.last_seq,
        has_more: page.has_more,
    }))
}
