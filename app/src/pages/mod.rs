pub mod api;
pub mod billing;
pub mod bookings;
pub mod clock;
pub mod credits;
pub mod dashboard;
pub mod invoices;
pub mod join;
pub mod locations;
pub mod members;
pub mod membership_type;
pub mod membership_types;
pub mod memberships;
pub mod organizations;
pub mod portal;
pub mod sign_in;
pub mod signup;
pub mod type_editor;
pub mod visits;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main id="main" class="narrow">
            <h1>"Page not found"</h1>
            <p><a href="/">"Go to the dashboard"</a></p>
        </main>
    }
}
