use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::get_dashboard_counts;
use crate::components::form::ErrorNotice;

#[component]
pub fn Dashboard() -> impl IntoView {
    let counts = Resource::new(|| (), |_| get_dashboard_counts());
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Counting…"</p> }>
            {move || Suspend::new(async move {
                match counts.await {
                    Ok(c) => view! {
                        <ul class="stat-cards" aria-label="Key figures">
                            <li class="stat" data-testid="count-members">
                                <span class="stat-value">{c.members}</span>
                                <span class="stat-label"><a href="/members">"Members"</a></span>
                            </li>
                            <li class="stat" data-testid="count-active-memberships">
                                <span class="stat-value">{c.active_memberships}</span>
                                <span class="stat-label">"Active memberships"</span>
                            </li>
                            <li class="stat" data-testid="count-membership-types">
                                <span class="stat-value">{c.membership_types}</span>
                                <span class="stat-label">
                                    <a href="/membership-types">"Membership types"</a>
                                    " (" {c.active_membership_types} " on sale)"
                                </span>
                            </li>
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
