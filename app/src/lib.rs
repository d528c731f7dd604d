#![recursion_limit = "256"]
//! Tessera's user interface: the staff back office, the member portal and the
//! server functions behind them. Rendered on the server, hydrated in the browser.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

pub use error::AppError;

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    api::ssr::content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body data-hydrated="false">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/tessera.css" />
        <Title formatter=|page: String| components::text::rcdata(if page.is_empty() { "Tessera".to_string() } else { format!("{page} · Tessera") }) />
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/sign-in") view=pages::sign_in::SignInPage />
                <Route path=path!("/portal/sign-in") view=pages::portal::PortalSignInPage />
                <Route path=path!("/portal/sign-in/:business") view=pages::portal::PortalSignInPage />
                <Route path=path!("/portal/choose") view=pages::portal::PortalChoosePage ssr=SsrMode::Async />
                <ParentRoute path=path!("/portal") view=pages::portal::PortalLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::portal::PortalHomePage />
                    <Route path=path!("memberships/:id") view=pages::portal::PortalMembershipPage />
                    <Route path=path!("memberships/:id/book") view=pages::portal::PortalBookPage />
                    <Route path=path!("bookings") view=pages::portal::PortalBookingsPage />
                    <Route path=path!("bookings/:id") view=pages::portal::PortalBookingPage />
                    <Route path=path!("invoices") view=pages::portal::PortalInvoicesPage />
                    <Route path=path!("invoices/:id") view=pages::portal::PortalInvoicePage />
                    <Route path=path!("profile") view=pages::portal::PortalProfilePage />
                </ParentRoute>
                <Route path=path!("/join/status/:token") view=pages::signup::SignupStatusPage ssr=SsrMode::Async />
                <Route path=path!("/join/:location") view=pages::join::JoinPage ssr=SsrMode::Async />
                <Route path=path!("/join/:location/:type") view=pages::signup::SignupPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=components::layout::StaffLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::dashboard::Dashboard />
                    <Route path=path!("members") view=pages::members::MembersPage />
                    <Route path=path!("members/new") view=pages::members::NewMemberPage />
                    <Route path=path!("members/:id") view=pages::members::MemberPage />
                    <Route path=path!("members/:id/sell") view=pages::memberships::SellToMemberPage />
                    <Route path=path!("memberships") view=pages::memberships::MembershipsPage />
                    <Route path=path!("memberships/:id") view=pages::memberships::MembershipPage />
                    <Route path=path!("invoices") view=pages::invoices::InvoicesPage />
                    <Route path=path!("invoices/:id") view=pages::invoices::InvoicePage />
                    <Route path=path!("billing") view=pages::billing::BillingPage />
                    <Route path=path!("services") view=pages::bookings::ServicesPage />
                    <Route path=path!("visits") view=pages::visits::VisitsPage />
                    <Route path=path!("schedule") view=pages::bookings::SchedulePage />
                    <Route path=path!("memberships/:id/book") view=pages::bookings::BookPage />
                    <Route path=path!("billing/runs") view=pages::billing::BillingRunsPage />
                    <Route path=path!("billing/revenue") view=pages::billing::RevenuePage />
                    <Route path=path!("organizations") view=pages::organizations::OrganizationsPage />
                    <Route path=path!("organizations/:id") view=pages::organizations::OrganizationPage />
                    <Route path=path!("organizations/:id/sell") view=pages::memberships::SellToOrganizationPage />
                    <Route path=path!("membership-types") view=pages::membership_types::MembershipTypesPage />
                    <Route path=path!("membership-types/new") view=pages::type_editor::NewTypePage />
                    <Route path=path!("membership-types/:id") view=pages::membership_type::MembershipTypePage />
                    <Route path=path!("membership-types/:id/edit") view=pages::type_editor::EditTypePage />
                    <Route path=path!("settings/clock") view=pages::clock::ClockPage />
                    <Route path=path!("settings/locations") view=pages::locations::LocationsPage />
                    <Route path=path!("settings/api-keys") view=pages::api::ApiKeysPage />
                    <Route path=path!("settings/api") view=pages::api::ApiReferencePage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
