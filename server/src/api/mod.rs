//! The integration REST API, v1, under `/api/v1`: the same backend use cases
//! as the staff app behind per-business API keys, described by an OpenAPI
//! 3.1 document generated from these handlers (utoipa) and served at
//! `/api/v1/openapi.json`. No rule lives here: handlers read the request,
//! call a use case, and shape its answer.

use std::sync::Arc;

use app::api::ssr::AppState;
use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod billing;
pub mod catalog;
pub mod credits;
pub mod error;
pub mod events;
pub mod extract;
pub mod members;
pub mod memberships;
pub mod organizations;
pub mod page;
pub mod public;
pub mod reference;
pub mod types;

pub const BASE: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera API",
        version = "1.0.0",
        description = "Membership and billing for clubs, studios and coworking spaces.\n\n\
Authenticate with an API key made by an owner in the staff app (Settings → API keys): \
`Authorization: Bearer tsk_...`. The key decides the business; each key has scopes.\n\n\
Ids are strings; money is `{ amount_minor, currency, display }`; dates are `YYYY-MM-DD`; \
times are RFC 3339 UTC. Lists take `page_size` with `cursor` or `page` and answer \
`{ count, next, previous, results }`. Writes accept an `Idempotency-Key` header: the first \
answer is replayed for a repeat of the same request for 48 hours; the same key with another \
request is refused (409). Errors are `{ \"error\": { \"code\", \"message\", \"field\" } }`: \
400 validation, 401 no or bad key, 403 scope, 404 not found (also another business's ids), \
409 state conflict, 422 refused by the business's policy."
    ),
    servers((url = "/api/v1")),
    // Schemas named only by path parameters are not collected on their own.
    components(schemas(memberships::ActionName)),
    modifiers(&BearerKey),
    tags(
        (name = "Catalog", description = "Membership types"),
        (name = "Members", description = "Members, organizations and the members they authorize"),
        (name = "Memberships", description = "Memberships: sell, read, and their lifecycle actions"),
        (name = "Billing", description = "Invoices, payments, card charges, refunds and credit notes"),
        (name = "Credits", description = "Credits: balance, history, adjustments"),
        (name = "Bookings", description = "Services, their availability, and bookings"),
        (name = "Events", description = "The events feed"),
        (name = "Public", description = "No key needed: what a location offers, and signing up"),
    )
)]
struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tsk_...")
                    .description(Some("An API key from Settings → API keys"))
                    .build(),
            ),
        );
    }
}

/// The API's routes (relative to `/api/v1`) and their OpenAPI document.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalog::list_types))
        .routes(routes!(catalog::read_type))
        .routes(routes!(members::list_members, members::create_member))
        .routes(routes!(members::read_member, members::update_member))
        .routes(routes!(
            organizations::list_organizations,
            organizations::create_organization
        ))
        .routes(routes!(
            organizations::read_organization,
            organizations::update_organization
        ))
        .routes(routes!(
            organizations::list_authorized,
            organizations::authorize
        ))
        .routes(routes!(organizations::remove_authorized))
        .routes(routes!(memberships::list_memberships, memberships::sell))
        .routes(routes!(memberships::family, memberships::add_family_member))
        .routes(routes!(memberships::remove_family_member))
        .routes(routes!(memberships::read_membership))
        .routes(routes!(memberships::act))
        .routes(routes!(billing::list_invoices))
        .routes(routes!(billing::read_invoice))
        .routes(routes!(billing::record_payment))
        .routes(routes!(billing::charge))
        .routes(routes!(billing::refund))
        .routes(routes!(billing::credit_note))
        .routes(routes!(credits::credits))
        .routes(routes!(credits::adjust))
        .routes(routes!(credits::list_services))
        .routes(routes!(credits::availability))
        .routes(routes!(credits::list_bookings, credits::create_booking))
        .routes(routes!(credits::read_booking))
        .routes(routes!(credits::cancel_booking))
        .routes(routes!(events::events))
        .routes(routes!(public::offer))
        .routes(routes!(public::sign_up))
        .routes(routes!(public::signup_status))
        .split_for_parts()
}

/// The OpenAPI document, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// `/api/v1/...`: the routes, the document, and JSON answers for unknown paths.
pub fn router() -> Router<AppState> {
    let (routes, doc) = routes();
    let _ = app::api::api_keys::REFERENCE.set(reference::reference(&doc));
    let doc = Arc::new(doc);
    let api = routes
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { error::ApiError::not_found() })
        // A known path asked with a method it does not take: 405 in the
        // error shape (the `Allow` header names the methods it takes).
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not take that method; the Allow header lists those it takes",
            )
        })
        // A bug must not drop the connection: answer the error shape, log it.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("an API request panicked");
                axum::response::IntoResponse::into_response(error::ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; try again later",
                ))
            },
        ));
    Router::new().nest(BASE, api)
}
