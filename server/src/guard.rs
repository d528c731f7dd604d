//! What every request passes before it reaches a page, a server function or
//! the API: control characters refused, cross-site writes refused, redirects
//! kept on this site, and the security headers on every answer.

use axum::body::Body;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, LOCATION, ORIGIN, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;

/// The most of a body read to look for control characters (the API takes
/// 1 MiB; server functions far less).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Every answer: no MIME sniffing, no framing, the referrer only to this
/// site, and (unless a page set its own, with its nonce) a policy that lets
/// the answer run nothing.
pub async fn security_headers(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        let is_html = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(if is_html {
                // A page rendered without the app's policy (an error page): no scripts.
                "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
            } else {
                "default-src 'none'; frame-ancestors 'none'"
            }),
        );
    }
    response
}

/// Whether a request changes state (anything but GET, HEAD and OPTIONS).
fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The host:port of an origin or URL (`https://club.example:8443/x` → `club.example:8443`).
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// Refuses a cross-site request that would change state with the visitor's
/// cookies (a form on another site posting to `/rpc/clock/set`, or signing
/// the visitor in as someone else). Browsers say where a request comes from
/// in `Sec-Fetch-Site` (all current ones) or `Origin`; a request with
/// neither is not a browser's and carries no one's cookies by accident.
/// The REST API is left out: it is called from other sites on purpose and
/// authenticates by a key in a header, never by a cookie.
pub async fn same_origin_writes(request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path();
    if !writes(request.method()) || path.starts_with("/api/") {
        return next.run(request).await;
    }
    let headers = request.headers();
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let same_origin = match (fetch_site, origin) {
        (Some(site), _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin)) => host.is_some() && authority(origin) == host,
        (None, None) => true,
    };
    if !same_origin {
        tracing::warn!(path, ?fetch_site, ?origin, "a cross-site write was refused");
        return (
            StatusCode::FORBIDDEN,
            "This request came from another site and was refused. Open Tessera itself and try again.",
        )
            .into_response();
    }
    let host = host.map(str::to_string);
    let mut response = next.run(request).await;
    keep_redirect_here(&mut response, host.as_deref());
    response
}

/// A server function posted by a plain form answers with a redirect back to
/// the page it came from (its `Referer`). A redirect never leaves this site:
/// an address elsewhere becomes the home page.
fn keep_redirect_here(response: &mut Response, host: Option<&str>) {
    let Some(location) = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return;
    };
    let here = if location.starts_with("//") || location.starts_with("/\\") {
        false
    } else if location.starts_with('/') {
        true
    } else {
        authority(&location).is_some_and(|a| Some(a) == host)
    };
    if here {
        return;
    }
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/"));
}

/// Refuses text with control characters (NUL, escape, ...) anywhere in the
/// query string or in a form or JSON body, with 400 naming the field, before
/// any handler or database sees it. Line breaks and tabs are allowed.
pub async fn refuse_control_characters(request: Request<Body>, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    if let Some(query) = request.uri().query()
        && let Some(field) = form_field_with_control(query.as_bytes())
    {
        return refusal(is_api, &field);
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_json = content_type.starts_with("application/json");
    if !is_form && !is_json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response();
        }
    };
    let field = if is_form {
        form_field_with_control(&bytes)
    } else {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| json_field_with_control(&v, ""))
    };
    if let Some(field) = field {
        return refusal(is_api, &field);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The field name people know: `form[notes]` → `notes`.
fn field_name(key: &str) -> String {
    match key.rsplit_once('[') {
        Some((_, inner)) => inner.trim_end_matches(']').to_string(),
        None => key.to_string(),
    }
}

fn form_field_with_control(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded).find_map(|(key, value)| {
        (domain::has_control_characters(&key) || domain::has_control_characters(&value))
            .then(|| field_name(&key))
    })
}

fn json_field_with_control(value: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => domain::has_control_characters(text).then(|| at.to_string()),
        Value::Array(items) => items.iter().find_map(|v| json_field_with_control(v, at)),
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            if domain::has_control_characters(key) {
                return Some(key.clone());
            }
            json_field_with_control(v, key)
        }),
        _ => None,
    }
}

fn refusal(is_api: bool, field: &str) -> Response {
    if is_api {
        return ApiError::invalid(field, domain::CONTROL_CHARACTERS).into_response();
    }
    let error = app::AppError::Invalid {
        invalid: domain::Invalid::one(field, domain::CONTROL_CHARACTERS),
    };
    let body = serde_json::to_string(&error).unwrap_or_default();
    (
        StatusCode::BAD_REQUEST,
        [(CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_as_people_know_them() {
        assert_eq!(
            form_field_with_control(b"form%5Bnotes%5D=a%00b&x=1"),
            Some("notes".into())
        );
        assert_eq!(form_field_with_control(b"email=a%0Ab&x=%09"), None);
        let json: serde_json::Value =
            serde_json::from_str(r#"{"address":{"line1":"x\u0000"}}"#).unwrap();
        assert_eq!(json_field_with_control(&json, ""), Some("line1".into()));
    }

    #[test]
    fn authorities_are_compared_without_scheme_or_path() {
        assert_eq!(
            authority("https://club.example:8443/x?y"),
            Some("club.example:8443")
        );
        assert_eq!(authority("http://127.0.0.1:3000"), Some("127.0.0.1:3000"));
        assert_eq!(authority("/relative"), None);
    }
}
