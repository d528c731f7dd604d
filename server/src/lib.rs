//! The Tessera server: typed configuration, the axum router (Leptos pages,
//! server functions under `/rpc`, `/healthz`, static files) and startup.

use std::net::SocketAddr;

use app::api::ssr::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use backend::{Clock, Db, Services};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::trace::TraceLayer;

pub mod api;
pub mod guard;

/// Settings read once at startup from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://data/tessera.db` (default) or `postgres://...`.
    pub database_url: String,
    pub addr: SocketAddr,
    /// The address people use, when behind a proxy: `https://` makes cookies `Secure`.
    pub public_url: Option<String>,
    /// Where cargo-leptos put the site (the wasm, JS and CSS under `pkg/`).
    pub site_root: String,
    pub output_name: String,
    /// `TESSERA_PORTAL_CODES_PER_CLIENT`: sign-in codes one client address may
    /// ask for per 15 minutes (default 10; raise it when many members share one
    /// address, or in end-to-end tests where every request comes from 127.0.0.1).
    pub portal_codes_per_client: Option<u32>,
    /// `TESSERA_TRUSTED_PROXIES`: how many proxies of ours stand in front of
    /// the server (default 0). With N, the client's address for rate limits is
    /// the one the Nth proxy from us saw: the Nth entry from the end of
    /// `X-Forwarded-For`. Without it the header is ignored (anyone can send it).
    pub trusted_proxies: u32,
    /// `TESSERA_SIGNUPS_PER_CLIENT`: public signups one client address may
    /// make per hour (default 10).
    pub signups_per_client: Option<u32>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tessera.db";

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        // A whole-number setting: absent, or refused with its name and value.
        let number = |name: &str| -> Result<Option<u32>, String> {
            var(name)
                .map(|text| {
                    text.trim()
                        .parse()
                        .map_err(|_| format!("{name} {text:?} is not a whole number"))
                })
                .transpose()
        };
        let addr_text = var("TESSERA_ADDR")
            .or_else(|| var("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let addr = addr_text.parse().map_err(|_| {
            format!("TESSERA_ADDR {addr_text:?} is not an address such as 127.0.0.1:3000")
        })?;
        Ok(Config {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            addr,
            public_url: var("TESSERA_PUBLIC_URL"),
            // cargo-leptos bakes the site's location into the binaries it builds.
            site_root: var("LEPTOS_SITE_ROOT")
                .or_else(|| option_env!("LEPTOS_SITE_ROOT").map(str::to_string))
                .unwrap_or_else(|| "target/site".into()),
            output_name: var("LEPTOS_OUTPUT_NAME")
                .or_else(|| option_env!("LEPTOS_OUTPUT_NAME").map(str::to_string))
                .unwrap_or_else(|| "tessera".into()),
            portal_codes_per_client: number("TESSERA_PORTAL_CODES_PER_CLIENT")?,
            signups_per_client: number("TESSERA_SIGNUPS_PER_CLIENT")?,
            trusted_proxies: number("TESSERA_TRUSTED_PROXIES")?.unwrap_or(0),
        })
    }

    pub fn leptos_options(&self) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name(self.output_name.as_str())
            .site_root(self.site_root.as_str())
            .site_addr(self.addr)
            .build()
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// Opens the database named by the URL (creating a SQLite file's folder) and applies migrations.
pub async fn open_database(url: &str) -> Result<Db, backend::Error> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                backend::Error::internal(format!("creating {}: {e}", parent.display()))
            })?;
        }
    }
    let db = Db::connect(url).await?;
    db.migrate().await?;
    Ok(db)
}

pub fn app_state(config: &Config, db: Db, clock: Clock) -> AppState {
    let mut services = Services::new(db, clock);
    if let Some(per_client) = config.portal_codes_per_client {
        services.code_limits.per_client = per_client;
    }
    if let Some(per_client) = config.signups_per_client {
        services.signups_per_client = per_client;
    }
    AppState {
        services,
        leptos_options: config.leptos_options(),
        secure_cookies: config.secure_cookies(),
        trusted_proxies: config.trusted_proxies,
    }
}

/// The whole HTTP application. Server functions are mounted by `leptos_routes_with_context`
/// at their fixed endpoints under `/rpc`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api::router())
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn(
            bad_requests_are_not_server_errors,
        ))
        .layer(axum::middleware::from_fn(guard::refuse_control_characters))
        .layer(axum::middleware::from_fn(guard::same_origin_writes))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(TraceLayer::new_for_http())
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(compressible)))
        .with_state(state)
}

/// The WebAssembly, scripts, styles and JSON are gzipped for browsers that
/// accept it (the release WebAssembly goes from about 4.7 MB to 1.7 MB, what
/// a phone on a slow connection waits for). HTML is not: pages stream their
/// parts as they are ready, and compression would hold them back.
fn compressible(
    _: StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            [
                "application/wasm",
                "text/javascript",
                "application/javascript",
                "text/css",
                "application/json",
            ]
            .iter()
            .any(|c| t.starts_with(c))
        })
}

/// A server function whose arguments cannot be read (a missing field, a malformed
/// body) fails before its body runs, and the server-function layer answers 500.
/// That is the caller's mistake, not ours: answer 400 with the same JSON error.
async fn bad_requests_are_not_server_errors(request: Request<Body>, next: Next) -> Response {
    let is_rpc = request.uri().path().starts_with("/rpc/");
    let response = next.run(request).await;
    if !is_rpc || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let is_request_error = serde_json::from_slice::<serde_json::Value>(&bytes)
        .is_ok_and(|v| v.get("code").and_then(|c| c.as_str()) == Some("request"));
    if is_request_error {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(%error, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Ready for traffic: the database answers and has every migration this
/// build carries (a load balancer keeps a server that is not out of rotation;
/// `/healthz` only says the process and its database are alive).
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.db.pending_migrations().await {
        Ok(0) => (StatusCode::OK, "ready".to_string()),
        Ok(n) => {
            tracing::warn!(pending = n, "readiness: migrations are pending");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{n} migration(s) pending"),
            )
        }
        Err(error) => {
            tracing::error!(%error, "readiness: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable".to_string(),
            )
        }
    }
}

/// Runs the day's work (renewals now, billing later) once a minute for every
/// business, on each business's own date (the simulated one too). Each job is
/// idempotent, so running it often only finds nothing to do. Every two
/// seconds it also takes a share of any billing run's open chunks
/// (`backend::billing::help_with_runs`), so every server bills.
pub fn spawn_scheduler(services: backend::Services) {
    let helper = services.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(error) = backend::jobs::run_daily(&services).await {
                tracing::error!(%error, "the daily work failed; it runs again in a minute");
            }
        }
    });
    // Billing runs another server started (or one that stopped left): this
    // server bills a share of their chunks.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tick.tick().await;
            if let Err(error) = backend::billing::help_with_runs(&helper).await {
                tracing::error!(%error, "helping with a billing run failed; tried again shortly");
            }
        }
    });
}
