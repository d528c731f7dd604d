//! The public page of a location: what it offers, readable on a phone, no sign-in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::catalog::get_public_offer;
use crate::error::AppError;

#[component]
pub fn JoinPage() -> impl IntoView {
    let params = use_params_map();
    let offer = Resource::new(
        move || params.with(|p| p.get("location").unwrap_or_default()),
        get_public_offer,
    );
    view! {
        <div class="portal">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match offer.await {
                        Ok(o) => view! {
                            <Title text=format!("Join {}", o.business_name) />
                            <header class="portal-header">
                                <span class="logo" aria-hidden="true">"▦"</span>
                                <span>{o.business_name.clone()}</span>
                            </header>
                            <main id="main" class="portal-main" tabindex="-1">
                                <h1>{format!("Join us at {}", o.location_name)}</h1>
                                {o.types.is_empty().then(|| view! { <p>"Nothing is on offer here right now."</p> })}
                                <ul class="offer-list" aria-label="Memberships on offer">
                                    {o.types.into_iter().map(|t| {
                                        let join = format!("/join/{}/{}", params.with_untracked(|p| p.get("location").unwrap_or_default()), t.id);
                                        let label = format!("Join with {}", t.name);
                                        view! {
                                        <li class="offer">
                                            <h2>{t.name}</h2>
                                            <p class="offer-price">{t.price}</p>
                                            {t.initiation_fee.map(|f| view! { <p>"One-time joining fee: " {f}</p> })}
                                            <p>"Term: " {t.term}</p>
                                            {(!t.description.is_empty()).then(|| view! { <p>{t.description}</p> })}
                                            {(!t.benefits.is_empty()).then(|| view! {
                                                <ul class="benefits">
                                                    {t.benefits.into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}
                                                </ul>
                                            })}
                                            <a class="button primary-link" href=join aria-label=label>"Join"</a>
                                        </li>
                                    }}).collect_view()}
                                </ul>
                                <p class="hint">"Already a member? " <a href=crate::api::portal::sign_in_path(&o.business_slug)>"Sign in to the member portal"</a></p>
                            </main>
                        }.into_any(),
                        Err(AppError::NotFound) => view! {
                            <main id="main" class="portal-main">
                                <h1>"Location not found"</h1>
                                <p>"Please check the link you were given."</p>
                            </main>
                        }.into_any(),
                        Err(error) => view! { <main id="main" class="portal-main"><p role="alert">{error.to_string()}</p></main> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
