//! The integration API in the staff app: owners make and revoke keys; every
//! staff user can read the reference generated from the OpenAPI document.

use domain::api_keys::{ApiEndpoint, Scope};
use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::api_keys::{CreateApiKey, RevokeApiKey, get_api_reference, list_api_keys};
use crate::components::form::{Checks, ErrorNotice, Text, field_error, form_error};
use crate::components::layout::use_staff;

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".into())
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let staff = use_staff();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let value = create.value();
    let other_error = Signal::derive(move || {
        form_error(value).get().filter(|_| {
            field_error(value, "name").get().is_none()
                && field_error(value, "scopes").get().is_none()
        })
    });
    view! {
        <Title text="API keys" />
        <h1>"API keys"</h1>
        <p>
            "Your website, door system, accounting or CRM reach Tessera through its "
            <a href="/settings/api">"REST API"</a>
            " (the OpenAPI document: " <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>
            "). Each key belongs to this business and may do only what its scopes allow."
        </p>
        <Suspense>
            {move || Suspend::new(async move {
                let Ok(s) = staff.await else { return ().into_any() };
                if !s.role.allows(Role::Owner) {
                    return view! { <p data-testid="keys-owner-only">"Only an owner can make and revoke API keys."</p> }.into_any();
                }
                view! {
                    {move || value.get().and_then(|r| r.ok()).map(|created| view! {
                        <section class="card notice" role="status" data-testid="new-key" aria-labelledby="new-key-heading">
                            <h2 id="new-key-heading">{format!("Your new key \u{201c}{}\u{201d}", created.key.name)}</h2>
                            <p>"Copy it now: it is shown only this once and cannot be shown again."</p>
                            <label for="new-key-secret">"Key"</label>
                            <input id="new-key-secret" type="text" readonly value=created.secret class="secret" />
                        </section>
                    })}
                    <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match keys.await {
                                Ok(list) if list.is_empty() => view! { <p data-testid="no-keys">"No keys yet."</p> }.into_any(),
                                Ok(list) => view! {
                                    <table class="data-table" data-testid="api-keys">
                                        <caption class="visually-hidden">"API keys"</caption>
                                        <thead><tr>
                                            <th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Scopes"</th>
                                            <th scope="col">"Made"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
                                        </tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|k| {
                                                let scopes = k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                                                let made = format!("{} by {}", when(Some(k.created_at)), k.created_by);
                                                let name = k.name.clone();
                                                view! {
                                                    <tr>
                                                        <th scope="row" data-label="Name">{k.name.clone()}</th>
                                                        <td data-label="Key"><code>{format!("{}…", k.prefix)}</code></td>
                                                        <td data-label="Scopes">{scopes}</td>
                                                        <td data-label="Made">{made}</td>
                                                        <td data-label="Last used">{when(k.last_used_at)}</td>
                                                        <td data-label="Status">{match k.revoked_at {
                                                            Some(t) => view! { <span class="badge">{format!("Revoked {}", when(Some(t)))}</span> }.into_any(),
                                                            None => view! {
                                                                <details class="confirm">
                                                                    <summary>"Revoke"</summary>
                                                                    <ActionForm action=revoke>
                                                                        <input type="hidden" name="id" value=k.id.to_string() />
                                                                        <p>"Programs using this key stop working at once."</p>
                                                                        <button type="submit" class="danger">{format!("Revoke \u{201c}{name}\u{201d}")}</button>
                                                                    </ActionForm>
                                                                </details>
                                                            }.into_any(),
                                                        }}</td>
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
                    <section class="card" aria-labelledby="new-api-key-heading">
                        <h2 id="new-api-key-heading">"New key"</h2>
                        <ActionForm action=create>
                            <Text name="name" label="Name" value=String::new() error=field_error(value, "name")
                                hint="What uses the key, such as \u{201c}Website\u{201d} or \u{201c}Front door\u{201d}." />
                            <Checks name="scopes" legend="What the key may do" checked=vec![]
                                choices=Scope::ALL.iter().map(|s| (s.as_str().to_string(), format!("{}: {}", s.label(), s.explanation()))).collect()
                                error=field_error(value, "scopes") />
                            <p class="form-error" role="alert">{move || other_error.get()}</p>
                            <button type="submit" class="primary">"Make the key"</button>
                        </ActionForm>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

fn endpoint_view(e: ApiEndpoint) -> impl IntoView {
    let anchor = format!(
        "{}-{}",
        e.method.to_lowercase(),
        e.path.replace(['/', '{', '}'], "-")
    );
    view! {
        <section class="card endpoint" id=anchor.clone() aria-labelledby=format!("{anchor}-h")>
            <h3 id=format!("{anchor}-h")><code>{format!("{} /api/v1{}", e.method, e.path)}</code></h3>
            <p><strong>{e.summary}</strong></p>
            {(!e.description.is_empty()).then(|| view! { <p class="description">{e.description}</p> })}
            {(!e.scopes.is_empty()).then(|| view! { <p>"Scope: " <code>{e.scopes.join(", ")}</code></p> })}
            {(!e.parameters.is_empty()).then(|| view! {
                <table class="data-table">
                    <caption>"Parameters"</caption>
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"In"</th><th scope="col">"Required"</th><th scope="col">"Meaning"</th></tr></thead>
                    <tbody>
                        {e.parameters.into_iter().map(|p| view! {
                            <tr>
                                <th scope="row" data-label="Name"><code>{p.name}</code></th>
                                <td data-label="In">{p.location}</td>
                                <td data-label="Required">{if p.required { "yes" } else { "no" }}</td>
                                <td data-label="Meaning">{p.description}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {e.body.map(|b| view! { <p>"Body: " <code>{b}</code></p> })}
            <p>"Answers: " {e.responses.into_iter().map(|(status, what)| format!("{status} {what}")).collect::<Vec<_>>().join(" · ")}</p>
        </section>
    }
}

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| get_api_reference());
    view! {
        <Title text="API reference" />
        <h1>"API reference"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match reference.await {
                    Ok(r) => {
                        let mut tags: Vec<String> = Vec::new();
                        for e in &r.endpoints {
                            if !tags.contains(&e.tag) {
                                tags.push(e.tag.clone());
                            }
                        }
                        view! {
                            <p>{format!("{} {}", r.title, r.version)} " · " <a href="/api/v1/openapi.json">"OpenAPI document"</a> " · " <a href="/settings/api-keys">"API keys"</a></p>
                            <div class="description" data-testid="api-description">
                                {r.description.split("\n\n").map(|p| view! { <p>{p.to_string()}</p> }).collect_view()}
                            </div>
                            {tags.into_iter().map(|tag| {
                                let endpoints: Vec<ApiEndpoint> = r.endpoints.iter().filter(|e| e.tag == tag).cloned().collect();
                                view! {
                                    <h2>{tag.clone()}</h2>
                                    {endpoints.into_iter().map(endpoint_view).collect_view()}
                                }
                            }).collect_view()}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
