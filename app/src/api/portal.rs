//! Server functions of the member portal. They read the portal's own session
//! cookie (never the staff one), and every use case is scoped to the member.

use domain::portal::{CodeForm, PortalHome, PortalSession};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

/// Sends a sign-in code (when the email belongs to a member) and moves to
/// the code step. The answer is the same for every well-formed email.
/// At a business's own portal (`business`, its slug) only that business's
/// account is written to and chosen.
#[server(prefix = "/rpc", endpoint = "portal/request-code")]
pub async fn request_code(
    email: String,
    #[server(default)] business: String,
) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            let client = ssr::client_address();
            backend::portal::request_code(&state.services, &email, &client, &business).await?;
            let email = domain::portal::normalize_email(&email)?;
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("email", &email)
                .finish();
            leptos_axum::redirect(&format!("{}?{query}", sign_in_path(&business)));
            Ok(())
        }
        .await,
    )
}

/// The sign-in page of a business's portal, or the shared one.
pub fn sign_in_path(business: &str) -> String {
    if business.is_empty() {
        "/portal/sign-in".to_string()
    } else {
        // Slugs are lower-case letters, digits and dashes; nothing else gets into a link.
        let slug: String = business
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        format!("/portal/sign-in/{slug}")
    }
}

/// The business whose portal lives at /portal/sign-in/{slug}.
#[server(prefix = "/rpc", endpoint = "portal/business")]
pub async fn get_portal_business(slug: String) -> Result<domain::portal::PortalBusiness, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::portal::portal_business(&state.services, &slug).await?)
        }
        .await,
    )
}

/// Checks the code; a right one starts a portal session.
#[server(prefix = "/rpc", endpoint = "portal/verify-code")]
pub async fn verify_code(form: CodeForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            let session = backend::portal::verify_code(&state.services, &form).await?;
            ssr::set_portal_cookie(&state, Some(&session.token));
            leptos_axum::redirect(if session.must_choose {
                "/portal/choose"
            } else {
                "/portal"
            });
            Ok(())
        }
        .await,
    )
}

/// Who is signed in to the portal (the email and the account in use).
#[server(prefix = "/rpc", endpoint = "portal/session")]
pub async fn get_portal_session() -> Result<PortalSession, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            let token = ssr::request_cookie(ssr::PORTAL_COOKIE).ok_or(AppError::Unauthenticated)?;
            let session = backend::portal::session(&state.services, &token).await?;
            // Every page asks for the session: the cookie lasts as long as the
            // session, a week from the member's last visit.
            ssr::set_portal_cookie(&state, Some(&token));
            Ok(session)
        }
        .await,
    )
}

/// Puts the session on one of the email's accounts.
#[server(prefix = "/rpc", endpoint = "portal/choose")]
pub async fn choose_account(member_id: i64) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            let token = ssr::request_cookie(ssr::PORTAL_COOKIE).ok_or(AppError::Unauthenticated)?;
            backend::portal::choose(&state.services, &token, member_id).await?;
            leptos_axum::redirect("/portal");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/sign-out")]
pub async fn portal_sign_out() -> Result<(), AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            // Back to the sign-in page of the business the member was at.
            let mut business = String::new();
            if let Some(token) = ssr::request_cookie(ssr::PORTAL_COOKIE) {
                if let Ok(session) = backend::portal::session(&state.services, &token).await
                    && let Some(account) = session.account
                {
                    business = account.business_slug;
                }
                backend::portal::sign_out(&state.services, &token).await?;
            }
            ssr::set_portal_cookie(&state, None);
            leptos_axum::redirect(&sign_in_path(&business));
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/home")]
pub async fn get_portal_home() -> Result<PortalHome, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::home(&state.services, member).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/membership")]
pub async fn get_portal_membership(
    id: i64,
    #[server(default)] page: String,
) -> Result<domain::portal::PortalMembershipPage, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            let page = ssr::page_number(&page)?;
            Ok(backend::portal::membership(&state.services, member, id, page).await?)
        }
        .await,
    )
}

/// What a pause, resume or cancellation would do (the type's policy decides).
#[server(prefix = "/rpc", endpoint = "portal/preview-action")]
pub async fn preview_portal_action(
    id: i64,
    form: domain::memberships::ActionForm,
) -> Result<domain::memberships::ActionPreview, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::preview_action(&state.services, member, id, &form).await?)
        }
        .await,
    )
}

/// Records the previewed action and returns to the membership.
#[server(prefix = "/rpc", endpoint = "portal/act")]
pub async fn portal_act(
    id: i64,
    form: domain::memberships::ActionForm,
) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            let done = backend::portal::act(&state.services, member, id, &form).await?;
            leptos_axum::redirect(&format!("/portal/memberships/{id}"));
            Ok(done.effect)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/invoices")]
pub async fn get_portal_invoices(
    #[server(default)] page: String,
) -> Result<domain::paging::Listed<domain::invoices::InvoiceSummary>, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::invoices(&state.services, member, &page).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/invoice")]
pub async fn get_portal_invoice(id: i64) -> Result<domain::invoices::InvoiceView, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::invoice(&state.services, member, id).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/bookings")]
pub async fn get_portal_bookings(
    #[server(default)] status: String,
    #[server(default)] page: String,
) -> Result<domain::paging::Listed<domain::bookings::BookingView>, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::bookings(&state.services, member, &status, &page).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/booking")]
pub async fn get_portal_booking(id: i64) -> Result<domain::bookings::BookingView, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::booking(&state.services, member, id).await?)
        }
        .await,
    )
}

/// Cancels one of the member's bookings; says what happened to the credits.
#[server(prefix = "/rpc", endpoint = "portal/cancel-booking")]
pub async fn portal_cancel_booking(id: i64) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::cancel_booking(&state.services, member, id).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/booking-page")]
pub async fn get_portal_booking_page(
    id: i64,
    #[server(default)] service: String,
    #[server(default)] day: String,
) -> Result<domain::bookings::BookingPage, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            let service_id = service.trim().parse().ok();
            let day = match day.trim() {
                "" => None,
                text => Some(
                    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map_err(|_| domain::Invalid::one("day", "enter a date as YYYY-MM-DD"))?,
                ),
            };
            Ok(
                backend::portal::booking_page(&state.services, member, id, service_id, day, 1)
                    .await?,
            )
        }
        .await,
    )
}

/// Books a slot for the signed-in member.
#[server(prefix = "/rpc", endpoint = "portal/book")]
pub async fn portal_book(form: domain::bookings::BookingForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::book(&state.services, member, &form).await?)
        }
        .await,
    )
}

/// The member's card on file, if any.
#[server(prefix = "/rpc", endpoint = "portal/card")]
pub async fn get_portal_card() -> Result<Option<String>, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::card(&state.services, member).await?)
        }
        .await,
    )
}

/// Keeps a card on file (sandbox gateway: only its token and last four digits are stored).
#[server(prefix = "/rpc", endpoint = "portal/keep-card")]
pub async fn portal_keep_card(form: domain::payments::CardForm) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::keep_card(&state.services, member, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "portal/remove-card")]
pub async fn portal_remove_card() -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::remove_card(&state.services, member).await?)
        }
        .await,
    )
}

/// Pays an open invoice with the card on file; the key makes a repeat charge once.
#[server(prefix = "/rpc", endpoint = "portal/pay-invoice")]
pub async fn portal_pay_invoice(id: i64, key: String) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::pay_invoice(&state.services, member, id, &key).await?)
        }
        .await,
    )
}

/// The signed-in member's profile.
#[server(prefix = "/rpc", endpoint = "portal/profile")]
pub async fn get_portal_profile() -> Result<domain::portal::Profile, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            Ok(backend::portal::profile(&state.services, member).await?)
        }
        .await,
    )
}

/// Saves the member's name, phone and marketing consent.
#[server(prefix = "/rpc", endpoint = "portal/save-profile")]
pub async fn save_portal_profile(form: domain::portal::ProfileForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            backend::portal::update_profile(&state.services, member, &form).await?;
            Ok(())
        }
        .await,
    )
}

/// Sends a code to the new email address; the change waits for it.
#[server(prefix = "/rpc", endpoint = "portal/change-email")]
pub async fn request_email_change(form: domain::portal::EmailChangeForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            backend::portal::request_email_change(&state.services, member, &form).await?;
            leptos_axum::redirect("/portal/profile");
            Ok(())
        }
        .await,
    )
}

/// Confirms the new email with the code sent to it.
#[server(prefix = "/rpc", endpoint = "portal/confirm-email")]
pub async fn confirm_email_change(form: domain::portal::EmailCodeForm) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let (state, member) = ssr::member().await?;
            let profile =
                backend::portal::confirm_email_change(&state.services, member, &form).await?;
            leptos_axum::redirect("/portal/profile");
            Ok(profile.email)
        }
        .await,
    )
}
