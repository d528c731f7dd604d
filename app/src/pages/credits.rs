//! The credits section of a membership: balance, what expires next, the
//! history with its filters, and the adjustment form.

use domain::credits::{EntryFilter, EntryKind};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::credits::{AdjustCredits, get_credits};
use crate::components::form::{ErrorNotice, FormError, FormErrors, Text, successes};
use crate::components::pager::Pager;

/// Beside the membership page's own Suspense, with a resource of its own.
#[component]
pub fn CreditsSection(id: Memo<i64>) -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| EntryFilter {
            kind: q.get("credits_kind").unwrap_or_default(),
            from: q.get("credits_from").unwrap_or_default(),
            to: q.get("credits_to").unwrap_or_default(),
            page: q.get("credits_page").unwrap_or_default(),
        })
    });
    let adjust = ServerAction::<AdjustCredits>::new();
    let adjusted = successes!(adjust);
    let credits = Resource::new(
        move || (id.get(), filter.get(), adjusted.get()),
        |(id, filter, _)| get_credits(id, filter),
    );
    let errors = FormErrors::of(adjust.value());
    view! {
        <section class="card wide" aria-labelledby="credits-heading" data-testid="credits">
            <h2 id="credits-heading">"Credits"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let f = filter.get_untracked();
                    match credits.await {
                        Ok(c) => view! {
                            <dl class="facts">
                                <dt>"Balance"</dt><dd data-testid="credit-balance">{format!("{} credits", c.balance)}</dd>
                                <dt>"Granted"</dt><dd>{if c.credits_per_period == 0 { "none by the type".to_string() } else { format!("{} each period", c.credits_per_period) }}</dd>
                                <dt>"Next expiry"</dt><dd>{match c.next_expiry { Some((on, n)) => format!("{n} on {on}"), None => "none".to_string() }}</dd>
                            </dl>
                            <p><leptos_router::components::A href=format!("/memberships/{}/book", c.membership_id)>"Book a class or service"</leptos_router::components::A></p>
                            {c.can_adjust.then(|| view! {
                                <details class="confirm" data-testid="adjust-credits">
                                    <summary>"Adjust credits"</summary>
                                    <leptos::form::ActionForm action=adjust>
                                        <input type="hidden" name="id" value=c.membership_id />
                                        <input type="hidden" name="form[key]" value=c.form_key.clone() />
                                        <Text name="amount" label="Credits (negative to take away)" value=String::new()
                                            error=errors.field("amount") />
                                        {c.negative_limit.map(|l| view! { <p class="hint">{format!("You may take away at most {l} at once; a manager may take more.")}</p> })}
                                        <Text name="reason" label="Reason" value=String::new() error=errors.field("reason")
                                            hint="Kept in the history" />
                                        <FormError message=errors.general() />
                                        <button type="submit" class="primary">"Save adjustment"</button>
                                    </leptos::form::ActionForm>
                                </details>
                            })}
                            <Form method="GET" action="" attr:class="filters" attr:role="search" attr:aria-label="Filter the credit history">
                                <div class="field">
                                    <label for="credits-kind">"Kind"</label>
                                    <select id="credits-kind" name="credits_kind">
                                        <option value="" selected=f.kind.is_empty()>"Any kind"</option>
                                        {EntryKind::ALL.iter().map(|k| view! {
                                            <option value=k.as_str() selected=f.kind == k.as_str()>{k.label()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="credits-from">"From"</label>
                                    <input id="credits-from" name="credits_from" type="date" value=f.from.clone() />
                                </div>
                                <div class="field">
                                    <label for="credits-to">"To"</label>
                                    <input id="credits-to" name="credits_to" type="date" value=f.to.clone() />
                                </div>
                                <button type="submit">"Filter"</button>
                            </Form>
                            {let (page, pages, range_text) = (c.entries.page, c.entries.pages(), c.entries.range_text());
                            if c.entries.rows.is_empty() {
                                view! { <p>"No entries."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="data-table" data-testid="credit-history">
                                        <caption class="visually-hidden">"Credit history, newest first"</caption>
                                        <thead><tr>
                                            <th scope="col">"Date"</th><th scope="col">"What"</th><th scope="col" class="num">"Credits"</th>
                                            <th scope="col">"Why"</th><th scope="col">"By"</th>
                                        </tr></thead>
                                        <tbody>
                                            {c.entries.rows.into_iter().map(|e| view! {
                                                <tr>
                                                    <th scope="row" data-label="Date">{e.on.to_string()}</th>
                                                    <td data-label="What">{e.kind.label()}
                                                        {e.expires_on.map(|x| format!(" (expires {x})"))}</td>
                                                    <td data-label="Credits" class="num">{format!("{:+}", e.amount)}</td>
                                                    <td data-label="Why">{e.reason.clone()}</td>
                                                    <td data-label="By">{format!("{} · {}", e.by, e.recorded_at)}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <Pager of="credit entries" page pages range_text param="credits_page" />
                                }.into_any()
                            }}
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
