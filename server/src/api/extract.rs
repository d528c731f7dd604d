//! What every API handler takes from a request: the key's client, query
//! parameters, ids, JSON bodies, and the `Idempotency-Key` of writes.

use app::api::ssr::AppState;
use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use backend::api_keys::{self, ApiClient, Replay};
use domain::api_keys::Scope;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// The caller, from `Authorization: Bearer <key>`.
pub struct Client(pub ApiClient);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .ok_or(backend::Error::Unauthenticated)?;
        Ok(Client(
            api_keys::authenticate(&state.services, secret).await?,
        ))
    }
}

/// The key's client, refused (403) unless the key has the scope `S`
/// names: a handler takes `Scoped(c, _): Scoped<scope::Billing>`, so no
/// handler can forget its scope.
pub struct Scoped<S>(pub ApiClient, pub PhantomData<S>);

/// A scope as a type, for [`Scoped`].
pub trait NeedsScope {
    const SCOPE: Scope;
}

impl<S: NeedsScope> FromRequestParts<AppState> for Scoped<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Client(client) = Client::from_request_parts(parts, state).await?;
        client.require(S::SCOPE)?;
        Ok(Scoped(client, PhantomData))
    }
}

/// The scopes operations need, one type each.
pub mod scope {
    use super::{NeedsScope, Scope};

    macro_rules! scopes {
        ($($name:ident),*) => {
            $(
                pub struct $name;
                impl NeedsScope for $name {
                    const SCOPE: Scope = Scope::$name;
                }
            )*
        };
    }

    scopes!(
        ReadCatalog,
        ReadMembers,
        WriteMembers,
        WriteMemberships,
        Billing,
        Credits
    );
}

/// Query parameters; one that cannot be read is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                format!(
                    "the query parameters cannot be read: {}",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// An id from the path: ids are strings of digits; anything else names nothing.
pub fn id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && text.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(ApiError::not_found)
}

/// An optional id given as a query parameter or body field.
pub fn optional_id(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => match t.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Some(id)),
            _ => Err(ApiError::invalid(
                field,
                "an id is a string of digits, such as \"12\"",
            )),
        },
    }
}

/// An optional date given as a query parameter: `YYYY-MM-DD`.
pub fn optional_date(
    field: &str,
    text: Option<&str>,
) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "a date is YYYY-MM-DD")),
    }
}

/// A JSON body; the first field that cannot be read is named.
pub fn json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid("body", "send a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "body".to_string()
        } else {
            path
        };
        ApiError::invalid(&field, e.inner().to_string())
    })?;
    de.end()
        .map_err(|e| ApiError::invalid("body", e.to_string()))?;
    Ok(value)
}

/// The use case's form names some fields otherwise than the API: rename them
/// in a validation error (`reason` → `description`, ...).
pub fn renamed(error: backend::Error, names: &[(&str, &str)]) -> backend::Error {
    match error {
        backend::Error::Invalid(mut invalid) => {
            for e in &mut invalid.errors {
                if let Some((_, to)) = names.iter().find(|(from, _)| *from == e.field) {
                    e.field = (*to).to_string();
                }
            }
            backend::Error::Invalid(invalid)
        }
        other => other,
    }
}

/// A JSON answer with its status.
pub type Answer = (StatusCode, serde_json::Value);

pub fn answer<T: Serialize>(status: StatusCode, value: &T) -> Result<Answer, ApiError> {
    serde_json::to_value(value)
        .map(|v| (status, v))
        .map_err(|e| backend::Error::internal(format!("serialising an answer: {e}")).into())
}

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// A write's own key for the use case's idempotency (payments, credits,
/// bookings keep one): the request's `Idempotency-Key`, so a repeat after the
/// stored answer expired still writes once; without one, a fresh key.
pub fn use_case_key(client: &ApiClient, request: &WriteRequest) -> String {
    request
        .headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("api:{}:{}", client.key_id, k.trim()))
        .filter(|k| k.len() <= 100)
        .unwrap_or_else(backend::engine::ledger::new_key)
}

/// The most a request body may hold.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A write as received: what its idempotency fingerprint is made of.
pub struct WriteRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The address of the connection's other end, when the server knows it.
    pub connected: Option<std::net::IpAddr>,
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for WriteRequest {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|o| o.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let connected = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::invalid("body", "the body is too large (at most 1 MiB)"))?;
        Ok(WriteRequest {
            method: parts.method,
            uri,
            headers: parts.headers,
            body,
            connected,
        })
    }
}

/// Runs a write once per `Idempotency-Key` (when one is sent): the first
/// answer is stored and replayed for a repeat of the same request; the same
/// key with another request is refused (409).
pub async fn idempotent<F, Fut>(
    state: &AppState,
    client: &ApiClient,
    request: &WriteRequest,
    run: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Answer, ApiError>>,
{
    let WriteRequest {
        method,
        uri,
        headers,
        body,
        ..
    } = request;
    let key = match headers.get(IDEMPOTENCY_HEADER).map(|v| v.to_str()) {
        None => return respond(run().await),
        Some(Ok(key)) if !key.trim().is_empty() && key.len() <= 255 => key.trim().to_string(),
        Some(_) => {
            return ApiError::invalid(
                "Idempotency-Key",
                "an idempotency key is 1 to 255 visible characters",
            )
            .into_response();
        }
    };
    let mut hash = Sha256::new();
    for part in [
        method.as_str().as_bytes(),
        b" ",
        uri.path().as_bytes(),
        b"?",
        uri.query().unwrap_or("").as_bytes(),
        b"\n",
        body,
    ] {
        hash.update(part);
    }
    let fingerprint = hex::encode(hash.finalize());
    let business_id = client.actor.business_id;
    // Keys are the caller's: two API keys of one business may both send
    // `order-1001` and each gets its own request run and replayed.
    let key = format!("key:{}:{key}", client.key_id);
    let services = &state.services;
    match api_keys::begin_idempotent(services, business_id, &key, &fingerprint).await {
        Err(error) => ApiError::from(error).into_response(),
        Ok(Replay::OtherRequest) => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; use a new key for a new request",
        )
        .into_response(),
        Ok(Replay::InProgress) => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_in_progress",
            "the first request with this Idempotency-Key is still running; repeat it in a moment",
        )
        .into_response(),
        Ok(Replay::Answer { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Replay::Run) => {
            let result = run().await;
            let (status, body) = match &result {
                Ok((status, value)) => (*status, value.to_string()),
                Err(error) => (error.status, serde_json::to_string(&error.body).unwrap_or_default()),
            };
            let stored = if status.is_server_error() {
                api_keys::abandon_idempotent(services, business_id, &key).await
            } else {
                api_keys::finish_idempotent(services, business_id, &key, status.as_u16(), &body).await
            };
            if let Err(error) = stored {
                tracing::error!(%error, "storing an idempotent answer failed");
            }
            respond(result)
        }
    }
}

pub fn respond(result: Result<Answer, ApiError>) -> Response {
    match result {
        Ok((status, value)) => (status, axum::Json(value)).into_response(),
        Err(error) => error.into_response(),
    }
}
