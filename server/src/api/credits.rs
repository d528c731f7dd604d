//! Credits (balance, history, adjustments), services with their
//! availability, and bookings.

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use backend::bookings::BookingListFilter;
use domain::bookings::{BookingForm, BookingStatus};
use domain::credits::{AdjustCommand, EntryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{
    ApiQuery, Scoped, WriteRequest, answer, id, idempotent, json, optional_date as date,
    optional_id, renamed, scope, use_case_key,
};
use super::page::{Here, PageQuery, one_more};
use super::types::{
    AdjustedDto, AdjustmentInput, AvailabilityDto, BookingDto, BookingInput, CancelledBookingDto,
    CreditEntryDto, CreditsDto, ServiceDto, SlotDto,
};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreditsQuery {
    /// Only entries of this kind: `grant`, `carry_over`, `expire`, `adjust`, `redeem`, `reverse`.
    pub kind: Option<String>,
    /// Entries on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Entries on or before this day (YYYY-MM-DD).
    pub to: Option<String>,
}

/// Read a membership's credits
///
/// The balance, what expires next, and the history (newest first, paginated).
#[utoipa::path(get, path = "/memberships/{id}/credits", tag = "Credits",
    params(("id" = String, Path, description = "The membership's id"), CreditsQuery, PageQuery),
    responses(
        (status = 200, body = CreditsDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn credits(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    Path(membership_id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<CreditsQuery>,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<Json<CreditsDto>, ApiError> {
    let membership_id = id(&membership_id)?;
    let window = p.window()?;
    let filter = EntryFilter {
        kind: q.kind.unwrap_or_default(),
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        page: String::new(),
    };
    let view = backend::credits::view_window(
        &state.services,
        &c.actor,
        membership_id,
        &filter,
        super::page::one_more(window),
    )
    .await?;
    let (rows, count) = (view.entries.rows, view.entries.total);
    let (count, next, previous, rows) = Here::new(&headers, &uri).page(window, rows, count);
    Ok(Json(CreditsDto {
        membership_id: view.membership_id.to_string(),
        balance: view.balance,
        next_expiry_on: view.next_expiry.map(|e| e.0),
        next_expiry_credits: view.next_expiry.map(|e| e.1),
        credits_per_period: view.credits_per_period,
        count,
        next,
        previous,
        results: rows
            .into_iter()
            .map(|e| CreditEntryDto {
                id: e.id.to_string(),
                kind: e.kind.as_str().into(),
                amount: e.amount,
                on: e.on,
                recorded_at: e.recorded_at,
                by: e.by,
                reason: e.reason,
                expires_on: e.expires_on,
                booking_id: e.booking_id.map(|i| i.to_string()),
            })
            .collect(),
    }))
}

/// Adjust a membership's credits
///
/// Positive or negative whole credits with a description. A negative
/// adjustment that would take the balance below zero is refused (409
/// `insufficient_credits` on `amount`) with the balance in the message, as
/// every request that runs short of credits is.
#[utoipa::path(post, path = "/memberships/{id}/credits/adjustments", tag = "Credits",
    request_body = AdjustmentInput,
    params(("id" = String, Path, description = "The membership's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = AdjustedDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn adjust(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    Path(membership_id): Path<String>,
    request: WriteRequest,
) -> Response {
    let key = use_case_key(&c, &request);
    idempotent(&state, &c, &request, || async {
        let membership_id = id(&membership_id)?;
        let input: AdjustmentInput = json(&request.body)?;
        let command = AdjustCommand {
            amount: input.amount,
            reason: input.description,
            key,
        };
        let balance = backend::credits::adjust(&state.services, &c.actor, membership_id, &command)
            .await
            .map_err(|e| renamed(e, &[("reason", "description")]))?;
        answer(
            StatusCode::CREATED,
            &AdjustedDto {
                membership_id: membership_id.to_string(),
                balance,
            },
        )
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<ServiceDto>,
}

/// List services
///
/// Classes, appointments and bookable resources, with their prices (money
/// and/or credits), capacity, cancellation window and weekly timetable.
#[utoipa::path(get, path = "/services", tag = "Bookings",
    params(PageQuery),
    responses(
        (status = 200, body = ServiceList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn list_services(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<Json<ServiceList>, ApiError> {
    let window = p.window()?;
    let (rows, count) =
        backend::bookings::page_of_services(&state.services, &c.actor, one_more(window)).await?;
    let (count, next, previous, rows) = Here::new(&headers, &uri).page(window, rows, count);
    Ok(Json(ServiceList {
        count,
        next,
        previous,
        results: rows.into_iter().map(ServiceDto::from).collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// YYYY-MM-DD; left out, the business's today.
    pub day: Option<String>,
}

/// A service's availability
///
/// The service's slots on a day with their places left.
#[utoipa::path(get, path = "/services/{id}/availability", tag = "Bookings",
    params(("id" = String, Path, description = "The service's id"), AvailabilityQuery),
    responses(
        (status = 200, body = AvailabilityDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn availability(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    Path(service_id): Path<String>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> Result<Json<AvailabilityDto>, ApiError> {
    let service_id = id(&service_id)?;
    let day = date("day", q.day.as_deref())?;
    let services = backend::bookings::services(&state.services, &c.actor).await?;
    if !services.iter().any(|s| s.id == service_id) {
        return Err(ApiError::not_found());
    }
    let schedule = backend::bookings::schedule(&state.services, &c.actor, day, None).await?;
    Ok(Json(AvailabilityDto {
        service_id: service_id.to_string(),
        day: schedule.day,
        slots: schedule
            .slots
            .into_iter()
            .filter(|s| s.service_id == service_id)
            .map(|s| SlotDto {
                starts: s.starts,
                capacity: s.capacity,
                booked: s.booked,
                places_left: s.capacity.saturating_sub(s.booked),
            })
            .collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingListQuery {
    /// `booked`, `cancelled`, `attended` or `no_show`.
    pub status: Option<String>,
    pub member: Option<String>,
    pub membership: Option<String>,
    pub service: Option<String>,
    /// Starting on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Starting on or before this day (YYYY-MM-DD).
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// In id order (oldest first).
    pub results: Vec<BookingDto>,
}

/// List bookings
#[utoipa::path(get, path = "/bookings", tag = "Bookings",
    params(BookingListQuery, PageQuery),
    responses(
        (status = 200, body = BookingPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn list_bookings(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<BookingListQuery>,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> Result<Json<BookingPage>, ApiError> {
    let filter = BookingListFilter {
        status: match q.status.as_deref() {
            None | Some("") => None,
            Some(t) => Some(BookingStatus::parse(t).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    "a status is booked, cancelled, attended or no_show",
                )
            })?),
        },
        member_id: optional_id("member", q.member.as_deref())?,
        membership_id: optional_id("membership", q.membership.as_deref())?,
        service_id: optional_id("service", q.service.as_deref())?,
        from: date("from", q.from.as_deref())?,
        to: date("to", q.to.as_deref())?,
    };
    let window = p.window()?;
    let (rows, count) = backend::bookings::page_of_bookings(
        &state.services,
        &c.actor,
        &filter,
        super::page::one_more(window),
    )
    .await?;
    let (count, next, previous, rows) = Here::new(&headers, &uri).page(window, rows, count);
    Ok(Json(BookingPage {
        count,
        next,
        previous,
        results: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Read a booking
#[utoipa::path(get, path = "/bookings/{id}", tag = "Bookings",
    params(("id" = String, Path, description = "The booking's id")),
    responses(
        (status = 200, body = BookingDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn read_booking(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    Path(booking_id): Path<String>,
) -> Result<Json<BookingDto>, ApiError> {
    Ok(Json(
        backend::bookings::booking(&state.services, &c.actor, id(&booking_id)?)
            .await?
            .into(),
    ))
}

/// Book a service
///
/// Paid by an included allowance, credits or money (added to the member's
/// next invoice), as `pay_with` says or the first that works. Capacity is
/// enforced; a paused, past-due or suspended membership cannot book where
/// the service requires an active one (409).
#[utoipa::path(post, path = "/bookings", tag = "Bookings",
    request_body = BookingInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 201, body = BookingDto),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn create_booking(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    request: WriteRequest,
) -> Response {
    let key = use_case_key(&c, &request);
    idempotent(&state, &c, &request, || async {
        let input: BookingInput = json(&request.body)?;
        let form = BookingForm {
            service_id: input.service_id,
            membership_id: input.membership_id,
            day: input.day,
            time: input.time,
            pay_with: input.pay_with.unwrap_or_default(),
            member_id: input.member_id.unwrap_or_default(),
            key,
        };
        let booked = backend::bookings::book(&state.services, &c.actor, &form).await?;
        let booking = backend::bookings::booking(&state.services, &c.actor, booked).await?;
        answer(StatusCode::CREATED, &BookingDto::from(booking))
    })
    .await
}

/// Cancel a booking
///
/// Inside the service's cancellation window credits come back; later they
/// are kept and the late fee is billed.
#[utoipa::path(post, path = "/bookings/{id}/cancel", tag = "Bookings",
    params(("id" = String, Path, description = "The booking's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses(
        (status = 400, body = ErrorBody, description = "A malformed Idempotency-Key or body"),
        (status = 200, body = CancelledBookingDto),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("api_key" = ["credits"])))]
pub async fn cancel_booking(
    State(state): State<AppState>,
    Scoped(c, _): Scoped<scope::Credits>,
    Path(booking_id): Path<String>,
    request: WriteRequest,
) -> Response {
    idempotent(&state, &c, &request, || async {
        let booking_id = id(&booking_id)?;
        let outcome = backend::bookings::cancel(&state.services, &c.actor, booking_id).await?;
        let booking = backend::bookings::booking(&state.services, &c.actor, booking_id).await?;
        answer(
            StatusCode::OK,
            &CancelledBookingDto {
                outcome,
                booking: booking.into(),
            },
        )
    })
    .await
}
