//! The staff app's frame: skip link, header with the business and the user,
//! navigation, the simulated-clock banner, and the page in `<main>`.

use domain::staff::{Role, StaffOverview};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};

use crate::api::{SignOut, get_current_staff};
use crate::components::form::ErrorNotice;
use crate::error::AppError;

/// The signed-in staff member, provided to every staff page.
pub type StaffResource = Resource<Result<StaffOverview, AppError>>;

#[component]
pub fn StaffLayout() -> impl IntoView {
    let overview: StaffResource = Resource::new(|| (), |_| get_current_staff());
    provide_context(overview);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(staff) => view! { <Frame staff /> }.into_any(),
                    Err(AppError::Unauthenticated) => view! { <Redirect path="/sign-in" /> }.into_any(),
                    Err(error) => view! { <main id="main"><ErrorNotice error /></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(staff: StaffOverview) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let is_owner = staff.role.allows(Role::Owner);
    let today = staff.today.format("%Y-%m-%d").to_string();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <div class="brand">
                <span class="logo" aria-hidden="true">"▦"</span>
                <span class="business">{staff.business_name.clone()}</span>
            </div>
            <div class="who">
                <span>{staff.user_name.clone()}" · "{staff.role.label()}</span>
                <ActionForm action=sign_out attr:class="inline">
                    <button type="submit" class="link-button">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
        {staff.simulated.then(|| view! {
            <div class="sim-banner" role="status" data-testid="simulated-clock-banner">
                "Simulated date: " <strong>{today.clone()}</strong>
                ". Statuses and billing use this date, not today's. "
                {is_owner.then(|| view! { <A href="/settings/clock">"Change"</A> })}
            </div>
        })}
        <div class="app-body">
            <nav class="app-nav" aria-label="Main">
                <ul>
                    <li><A href="/" exact=true>"Dashboard"</A></li>
                    <li><A href="/members">"Members"</A></li>
                    <li><A href="/memberships">"Memberships"</A></li>
                    <li><A href="/invoices">"Invoices"</A></li>
                    <li><A href="/billing">"Billing"</A></li>
                    <li><A href="/schedule">"Schedule"</A></li>
                    <li><A href="/services">"Services"</A></li>
                    <li><A href="/visits">"Visits"</A></li>
                    <li><A href="/organizations">"Organizations"</A></li>
                    <li><A href="/membership-types">"Membership types"</A></li>
                    <li><A href="/settings/locations">"Locations"</A></li>
                    <li><A href="/settings/api">"API"</A></li>
                    {is_owner.then(|| view! { <li><A href="/settings/api-keys">"API keys"</A></li> })}
                    {is_owner.then(|| view! { <li><A href="/settings/clock">"Clock"</A></li> })}
                </ul>
            </nav>
            <main id="main" tabindex="-1">
                <Outlet />
            </main>
        </div>
    }
}

/// The signed-in staff member for pages inside the staff layout.
pub fn use_staff() -> StaffResource {
    expect_context::<StaffResource>()
}
