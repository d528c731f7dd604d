//! The business's locations: where memberships apply and where the public pages live.

use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{CreateLocation, get_locations};
use crate::components::form::{ErrorNotice, Text, field_error};
use crate::components::layout::use_staff;

#[component]
pub fn LocationsPage() -> impl IntoView {
    let staff = use_staff();
    let create = ServerAction::<CreateLocation>::new();
    let locations = Resource::new(move || create.version().get(), |_| get_locations());
    let value = create.value();
    view! {
        <Title text="Locations" />
        <h1>"Locations"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match locations.await {
                    Ok(list) if list.is_empty() => view! { <p data-testid="no-locations">"No locations yet: add the first one below."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="data-table" data-testid="locations">
                            <caption class="visually-hidden">"Locations"</caption>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Address"</th><th scope="col">"Public page"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|l| {
                                    let href = format!("/join/{}", l.slug);
                                    view! {
                                        <tr>
                                            <th scope="row" data-label="Name">{l.name}</th>
                                            <td data-label="Address">{l.address}</td>
                                            <td data-label="Public page"><a href=href.clone()>{href.clone()}</a></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense>
            {move || Suspend::new(async move {
                let may_add = staff.await.map(|s| s.role.allows(Role::Manager)).unwrap_or(false);
                may_add.then(|| view! {
                    <section class="card" aria-labelledby="new-location-heading">
                        <h2 id="new-location-heading">"New location"</h2>
                        <ActionForm action=create>
                            <Text name="name" label="Name" value=String::new() error=field_error(value, "name") />
                            <Text name="address" label="Address" value=String::new() error=field_error(value, "address") />
                            <button type="submit" class="primary">"Add location"</button>
                        </ActionForm>
                    </section>
                })
            })}
        </Suspense>
    }
}
