//! Server functions of the public signup: no account, no session.

use domain::signup::{RetryForm, SignupForm, SignupOptions, SignupPreview, SignupView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[server(prefix = "/rpc", endpoint = "signup/options")]
pub async fn get_signup_options(location: String, type_id: i64) -> Result<SignupOptions, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::signup::options(&state.services, &location, type_id).await?)
        }
        .await,
    )
}

/// Keeps the details a visitor typed and goes on to the preview, whose
/// address carries only the draft's token (never a name or an email).
#[server(prefix = "/rpc", endpoint = "signup/details")]
pub async fn save_signup_details(
    location: String,
    type_id: i64,
    form: SignupForm,
) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            // The location goes into the address the visitor is sent to.
            if location.is_empty()
                || !location
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(AppError::NotFound);
            }
            let token = backend::signup::save_draft(&state.services, &form).await?;
            leptos_axum::redirect(&format!("/join/{location}/{type_id}?draft={token}"));
            Ok(token)
        }
        .await,
    )
}

/// The details a visitor typed, by the draft's token.
#[server(prefix = "/rpc", endpoint = "signup/draft")]
pub async fn get_signup_draft(token: String) -> Result<SignupForm, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::signup::draft(&state.services, &token).await?)
        }
        .await,
    )
}

/// The first invoice the signup would bring (nothing is saved).
#[server(prefix = "/rpc", endpoint = "signup/preview")]
pub async fn preview_signup(location: String, form: SignupForm) -> Result<SignupPreview, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::signup::preview(&state.services, &location, &form).await?)
        }
        .await,
    )
}

/// Signs up and goes to the signup's status page.
#[server(prefix = "/rpc", endpoint = "signup/start")]
pub async fn start_signup(location: String, form: SignupForm) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            match backend::signup::start(&state.services, &location, &form, &ssr::client_address())
                .await
            {
                Ok(token) => {
                    leptos_axum::redirect(&format!("/join/status/{token}"));
                    Ok(token)
                }
                // A member already: a sign-in code went to the email; nothing was charged.
                Err(backend::Error::SignInInstead) => {
                    let query: String = form_urlencoded::Serializer::new(String::new())
                        .append_pair("email", form.email.trim())
                        .append_pair("joining", "1")
                        .finish();
                    leptos_axum::redirect(&format!("/portal/sign-in?{query}"));
                    Ok(String::new())
                }
                Err(error) => Err(error.into()),
            }
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "signup/status")]
pub async fn get_signup_status(token: String) -> Result<SignupView, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::signup::status(&state.services, &token).await?)
        }
        .await,
    )
}

/// Tries the first payment again with another card.
#[server(prefix = "/rpc", endpoint = "signup/retry")]
pub async fn retry_signup(token: String, form: RetryForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            backend::signup::retry(&state.services, &token, &form).await?;
            leptos_axum::redirect(&format!("/join/status/{token}"));
            Ok(())
        }
        .await,
    )
}
