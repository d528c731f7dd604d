//! Public endpoints (no key): what a location offers, and the signup flow
//! of the join pages.

use app::api::ssr::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorBody};
use super::extract::{IDEMPOTENCY_HEADER, WriteRequest, json, renamed};
use super::types::{PublicOfferDto, SignupInput, SignupStatusDto};

/// What a location offers
///
/// The active membership types offered at a location (by its public
/// address, as in `/join/{location}`), as the public sees them. No key needed.
#[utoipa::path(get, path = "/public/locations/{location}/membership-types", tag = "Public",
    params(("location" = String, Path, description = "The location's address name (slug)")),
    responses(
        (status = 200, body = PublicOfferDto),
        (status = 404, body = ErrorBody),
    ),
    security(()))]
pub async fn offer(
    State(state): State<AppState>,
    Path(location): Path<String>,
) -> Result<Json<PublicOfferDto>, ApiError> {
    Ok(Json(
        backend::catalog::public_offer(&state.services, &location)
            .await?
            .into(),
    ))
}

/// Sign up
///
/// Creates the member, the membership (not approved when the type requires
/// approval), the first invoice and its payment with the card, in one
/// idempotent operation: the same `Idempotency-Key` answers the same signup
/// and nothing is made twice. A declined card still answers 201 with state
/// `payment_failed`. An email that is already a member's makes nothing and
/// charges nothing: a portal sign-in code is sent to it and the answer is
/// 409 `sign_in_required` (only after the card's details were checked, and
/// counted by the sign-in code limits, so the endpoint is no cheap way to
/// learn who is a member). At most
/// `TESSERA_SIGNUPS_PER_CLIENT` signups (default 10) come from one client
/// address per hour (429 after). No key needed.
#[utoipa::path(post, path = "/public/locations/{location}/signups", tag = "Public",
    request_body = SignupInput,
    params(("location" = String, Path, description = "The location's address name (slug)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same signup is answered")),
    responses(
        (status = 201, body = SignupStatusDto),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The email is a member's: a sign-in code was sent to it", body = ErrorBody),
        (status = 429, description = "Too many signups from this address in the last hour", body = ErrorBody),
    ),
    security(()))]
pub async fn sign_up(
    State(state): State<AppState>,
    Path(location): Path<String>,
    request: WriteRequest,
) -> Response {
    let result = async {
        let input: SignupInput = json(&request.body)?;
        let key = request
            .headers
            .get(IDEMPOTENCY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|k| format!("api:{}", k.trim()))
            .filter(|k| k.len() <= 100)
            .unwrap_or_else(backend::engine::ledger::new_key);
        let form = domain::signup::SignupForm {
            type_id: input.type_id,
            first_name: input.first_name,
            last_name: input.last_name,
            email: input.email,
            phone: input.phone.unwrap_or_default(),
            date_of_birth: input.date_of_birth.unwrap_or_default(),
            start: input.start.unwrap_or_default(),
            member_type: input.member_type.unwrap_or_default(),
            number: input.card_number,
            expiry: input.card_expiry,
            key,
        };
        let client =
            app::api::ssr::client_from(&request.headers, request.connected, state.trusted_proxies);
        let token = backend::signup::start(&state.services, &location, &form, &client)
            .await
            .map_err(|e| renamed(e, &[("number", "card_number"), ("expiry", "card_expiry")]))?;
        let view = backend::signup::status(&state.services, &token).await?;
        Ok::<_, ApiError>(SignupStatusDto::from(view))
    }
    .await;
    match result {
        Ok(dto) => (StatusCode::CREATED, Json(dto)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// A signup's status
///
/// `active`, `pending_approval` (staff approve it first) or `payment_failed`
/// (the visitor may retry with another card on the status page). No key
/// needed: the token is the signup's secret.
#[utoipa::path(get, path = "/public/signups/{token}", tag = "Public",
    params(("token" = String, Path, description = "The token a signup answered")),
    responses(
        (status = 200, body = SignupStatusDto),
        (status = 404, body = ErrorBody),
    ),
    security(()))]
pub async fn signup_status(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<SignupStatusDto>, ApiError> {
    Ok(Json(
        backend::signup::status(&state.services, &token)
            .await?
            .into(),
    ))
}
