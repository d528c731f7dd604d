use leptos::prelude::*;
use leptos_meta::Title;

/// The member portal's frame: mobile first, filled by the portal issue
/// (sign-in by one-time code, memberships, credits, invoices, bookings).
#[component]
pub fn PortalHome() -> impl IntoView {
    view! {
        <Title text="Member portal" />
        <div class="portal">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="portal-header">
                <span class="logo" aria-hidden="true">"▦"</span>
                <span>"Member portal"</span>
            </header>
            <main id="main" class="portal-main" tabindex="-1">
                <h1>"Welcome"</h1>
                <p>
                    "Here you will see your membership, credits, invoices and bookings. "
                    "Member sign-in opens soon: until then, please ask at the front desk."
                </p>
            </main>
            <nav class="portal-nav" aria-label="Portal">
                <ul>
                    <li><a href="/portal" aria-current="page">"Home"</a></li>
                </ul>
            </nav>
        </div>
    }
}
