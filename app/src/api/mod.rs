//! Server functions: thin, public doors onto the backend's use cases.
//!
//! Each one authenticates (staff session cookie), lets the use case authorize
//! and validate, and returns domain views. Endpoints are fixed under `/rpc`.

use domain::staff::{DashboardCounts, StaffOverview};
use leptos::prelude::*;

use crate::error::AppError;

pub mod api_keys;
pub mod bookings;
pub mod catalog;
pub mod credits;
pub mod invoices;
pub mod members;
pub mod memberships;
pub mod organizations;
pub mod portal;
pub mod signup;
pub mod visits;

#[cfg(feature = "ssr")]
pub mod ssr {
    use axum::http::header::{COOKIE, SET_COOKIE};
    use axum::http::{HeaderValue, request::Parts};
    use backend::{Actor, Services};
    use leptos::prelude::*;

    use crate::error::AppError;

    pub const STAFF_COOKIE: &str = "tessera_staff";

    /// What the server gives every request: the backend's services and cookie settings.
    #[derive(Clone, Debug)]
    pub struct AppState {
        pub services: Services,
        pub leptos_options: LeptosOptions,
        /// Mark cookies `Secure` (the app is served over https).
        pub secure_cookies: bool,
        /// Proxies of ours in front of the server, whose `X-Forwarded-For`
        /// entries are believed (see `client_address`).
        pub trusted_proxies: u32,
    }

    impl axum::extract::FromRef<AppState> for LeptosOptions {
        fn from_ref(state: &AppState) -> Self {
            state.leptos_options.clone()
        }
    }

    /// The Content-Security-Policy of a page: scripts only from this server
    /// or inline with this response's nonce (Leptos puts the nonce on its
    /// hydration and resource scripts), WebAssembly compiled from there,
    /// no plugins, no framing, forms posted only here. Style attributes are
    /// allowed (the type colour swatches), style elements only from here.
    pub fn content_security_policy() {
        let (Some(nonce), Some(response)) = (
            leptos::nonce::use_nonce(),
            use_context::<leptos_axum::ResponseOptions>(),
        ) else {
            return;
        };
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'"
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })
    }

    /// The value of a cookie in the current request.
    pub fn request_cookie(name: &str) -> Option<String> {
        let parts = use_context::<Parts>()?;
        parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// Sets (or with `None`, removes) the staff session cookie on the response.
    pub fn set_staff_cookie(state: &AppState, token: Option<&str>) {
        set_cookie(state, STAFF_COOKIE, token, backend::auth::SESSION_IDLE);
    }

    pub const PORTAL_COOKIE: &str = "tessera_member";

    /// Sets (or with `None`, removes) the member portal's session cookie.
    pub fn set_portal_cookie(state: &AppState, token: Option<&str>) {
        set_cookie(state, PORTAL_COOKIE, token, domain::portal::SESSION_IDLE);
    }

    fn set_cookie(state: &AppState, name: &str, token: Option<&str>, idle: chrono::TimeDelta) {
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        let cookie = match token {
            Some(token) => format!(
                "{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                idle.num_seconds()
            ),
            None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
        };
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(&cookie),
        ) {
            response.append_header(SET_COOKIE, value);
        }
    }

    /// The address the request came from (for rate limits), or "unknown".
    pub fn client_address() -> String {
        let trusted = use_context::<AppState>().map_or(0, |s| s.trusted_proxies);
        use_context::<Parts>()
            .map(|p| client_of(&p, trusted))
            .unwrap_or_else(|| "unknown".into())
    }

    /// The client's address: the connection's, or behind `trusted` proxies of
    /// ours, the `trusted`th entry from the end of `X-Forwarded-For` (each
    /// proxy appends the address it saw; what comes before is the client's
    /// word and is not believed).
    pub fn client_of(parts: &Parts, trusted: u32) -> String {
        let connected = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        client_from(&parts.headers, connected, trusted)
    }

    /// `client_of` from the request's headers and the connection's address.
    pub fn client_from(
        headers: &axum::http::HeaderMap,
        connected: Option<std::net::IpAddr>,
        trusted: u32,
    ) -> String {
        if trusted > 0 {
            let forwarded: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect();
            if let Some(seen) = forwarded
                .len()
                .checked_sub(trusted as usize)
                .and_then(|i| forwarded.get(i))
                .and_then(|a| a.parse::<std::net::IpAddr>().ok())
            {
                return seen.to_string();
            }
        }
        connected.map_or_else(|| "unknown".into(), |ip| ip.to_string())
    }

    /// The member signed in to the portal, or `Unauthenticated`. Staff
    /// sessions do not count: the portal has its own cookie.
    pub async fn member() -> Result<(AppState, backend::portal::Member), AppError> {
        let state = state()?;
        let token = request_cookie(PORTAL_COOKIE).ok_or(AppError::Unauthenticated)?;
        let member = backend::portal::authenticate(&state.services, &token).await?;
        Ok((state, member))
    }

    /// A list's page number as typed in the address ("" is the first page);
    /// anything else is refused on the `page` field.
    pub fn page_number(text: &str) -> Result<i64, AppError> {
        domain::paging::page_number(text)
            .map_err(|message| domain::Invalid::one("page", message).into())
    }

    /// Finishes a server function: an error answered over `/rpc` gets its HTTP
    /// status. (Plain form posts keep the redirect that carries the error back to
    /// the form, and calls made while rendering a page do not touch its status.)
    pub fn reply<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result {
            let parts = use_context::<Parts>();
            let over_rpc = parts
                .as_ref()
                .is_some_and(|p| p.uri.path().starts_with("/rpc/"));
            let accepts_html = parts
                .as_ref()
                .and_then(|p| p.headers.get(axum::http::header::ACCEPT))
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"));
            if over_rpc
                && !accepts_html
                && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            {
                response.set_status(error.status_code());
            }
        }
        result
    }

    /// The signed-in staff user, or `Unauthenticated`.
    pub async fn staff() -> Result<(AppState, Actor), AppError> {
        let state = state()?;
        let token = request_cookie(STAFF_COOKIE).ok_or(AppError::Unauthenticated)?;
        let actor = backend::auth::authenticate(&state.services, &token).await?;
        Ok((state, actor))
    }
}

#[server(prefix = "/rpc", endpoint = "session/sign-in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            let session = backend::auth::sign_in_from(
                &state.services,
                &email,
                &password,
                &ssr::client_address(),
            )
            .await?;
            ssr::set_staff_cookie(&state, Some(&session.token));
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "session/sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            if let Some(token) = ssr::request_cookie(ssr::STAFF_COOKIE) {
                backend::auth::sign_out(&state.services, &token).await?;
            }
            ssr::set_staff_cookie(&state, None);
            leptos_axum::redirect("/sign-in");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "session/current")]
pub async fn get_current_staff() -> Result<StaffOverview, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::business::staff_overview(&state.services, &actor).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "dashboard/counts")]
pub async fn get_dashboard_counts() -> Result<DashboardCounts, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::business::dashboard_counts(&state.services, &actor).await?)
        }
        .await,
    )
}

/// Sets the business's simulated date (`YYYY-MM-DD`), or goes back to the real date when empty.
#[server(prefix = "/rpc", endpoint = "clock/set")]
pub async fn set_simulated_date(#[server(default)] date: String) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let date = match date.trim() {
                "" => None,
                text => Some(
                    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map_err(|_| domain::Invalid::one("date", "enter a date as YYYY-MM-DD"))?,
                ),
            };
            backend::jobs::set_simulated_date(&state.services, &actor, date).await?;
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "locations/list")]
pub async fn get_locations() -> Result<Vec<domain::business::LocationView>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::business::list_locations(&state.services, &actor).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "locations/create")]
pub async fn create_location(
    form: domain::business::LocationForm,
) -> Result<domain::business::LocationView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::business::create_location(&state.services, &actor, &form).await?)
        }
        .await,
    )
}
