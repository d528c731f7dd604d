//! Recurring services (visits a membership includes at a service address):
//! the service types, adding an address to a membership, and the visits by
//! status and date with their scheduling.

use domain::visits::{VisitFilter, VisitStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::api::visits::{AddServiceAddress, ChangeVisit, CreateRecurringService, get_visits};
use crate::components::form::{Choice, ErrorNotice, FormError, FormErrors, Text, successes};
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::pages::memberships::{error_of, param};

#[component]
pub fn VisitsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| VisitFilter {
            status: param(q, "status"),
            from: param(q, "from"),
            to: param(q, "to"),
            page: param(q, "page"),
        })
    });
    let create = ServerAction::<CreateRecurringService>::new();
    let add = ServerAction::<AddServiceAddress>::new();
    let change = ServerAction::<ChangeVisit>::new();
    let created = successes!(create);
    let added = successes!(add);
    let data = Resource::new(
        move || {
            (
                filter.get(),
                created.get(),
                added.get(),
                change.version().get(),
            )
        },
        |(f, ..)| get_visits(f),
    );
    let create_errors = FormErrors::of(create.value());
    let add_errors = FormErrors::of(add.value());
    let change_errors = FormErrors::of(change.value());
    view! {
        <Title text="Service visits" />
        <h1>"Service visits"</h1>
        <p class="hint">"Visits a membership includes at a service address, generated a year ahead."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filter.get_untracked();
                let result = data.await;
                let error = result.as_ref().err().cloned();
                let err = move |field| error_of(&error, field);
                match result {
                    Ok(p) => {
                        let (visits_page, visits_pages, visits_range) = (p.visits.page, p.visits.pages(), p.visits.range_text());
                        let types: Vec<(String, String)> = p.types.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
                        let services: Vec<(String, String)> = p.services.iter().map(|(id, n, ..)| (id.to_string(), n.clone())).collect();
                        view! {
                            <section class="card wide" aria-labelledby="recurring-heading">
                                <h2 id="recurring-heading">"Recurring services"</h2>
                                {if p.services.is_empty() {
                                    view! { <p>"None yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul data-testid="recurring-services">
                                            {p.services.iter().map(|(_, name, per_year, types)| view! {
                                                <li>{format!("{name}: {per_year} a year, included in {types}")}</li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                {p.can_manage.then(|| view! {
                                    <details class="confirm">
                                        <summary>"New recurring service"</summary>
                                        <leptos::form::ActionForm action=create>
                                            <Text name="name" label="Name" value=String::new() error=create_errors.field("name") />
                                            <Text name="visits_per_year" label="Visits a year" value="2".to_string() error=create_errors.field("visits_per_year") kind="number" />
                                            <Text name="duration_minutes" label="Length (minutes)" value="60".to_string() error=create_errors.field("duration_minutes") kind="number" />
                                            <Choice name="type_id" label="Included in" value=String::new() error=create_errors.field("type_id") choices=types.clone() />
                                            <FormError message=create_errors.general() />
                                            <button type="submit" class="primary">"Add recurring service"</button>
                                        </leptos::form::ActionForm>
                                    </details>
                                })}
                            </section>
                            {(p.can_change && !services.is_empty()).then(|| view! {
                                <section class="card" aria-labelledby="address-heading">
                                    <h2 id="address-heading">"Add a service address"</h2>
                                    <leptos::form::ActionForm action=add>
                                        <Text name="membership_id" label="Membership number" value=String::new() error=add_errors.field("membership_id") kind="number"
                                            hint="The number in the membership's address, /memberships/…" />
                                        <Choice name="recurring_service_id" label="Recurring service" value=String::new() error=add_errors.field("recurring_service_id") choices=services.clone() />
                                        <Text name="address" label="Address" value=String::new() error=add_errors.field("address") />
                                        <Text name="first_due" label="First visit due" value=String::new() error=add_errors.field("first_due") kind="date" />
                                        <FormError message=add_errors.general() />
                                        <button type="submit" class="primary">"Add and plan the visits"</button>
                                    </leptos::form::ActionForm>
                                </section>
                            })}
                            <section class="card wide" aria-labelledby="visits-heading">
                                <h2 id="visits-heading">"Visits"</h2>
                                <Form method="GET" action="" attr:class="filters" attr:role="search" attr:aria-label="Filter visits">
                                    <Choice name="status" label="Status" value=f.status.clone() error=err("status") empty="Any status"
                                        choices=VisitStatus::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())).collect() />
                                    <Text name="from" label="Due from" kind="date" value=f.from.clone() error=err("from") />
                                    <Text name="to" label="Due to" kind="date" value=f.to.clone() error=err("to") />
                                    <button type="submit">"Filter"</button>
                                </Form>
                                <FormError message=change_errors.general() />
                                {move || change_errors.field("day").get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                                {if p.visits.rows.is_empty() && p.visits.page == 1 {
                                    view! { <p>"No visits."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="data-table" data-testid="visits">
                                            <caption class="visually-hidden">"Visits by due date"</caption>
                                            <thead><tr>
                                                <th scope="col">"Due"</th><th scope="col">"Service"</th><th scope="col">"Where"</th>
                                                <th scope="col">"For"</th><th scope="col">"Status"</th><th scope="col">"Actions"</th>
                                            </tr></thead>
                                            <tbody>
                                                {p.visits.rows.clone().into_iter().map(|v| {
                                                    let id = v.id;
                                                    let open = matches!(v.status, VisitStatus::NotScheduled | VisitStatus::Scheduled);
                                                    let due = v.due_on.to_string();
                                                    let scheduled = v.status == VisitStatus::Scheduled;
                                                    let can_change = p.can_change;
                                                    view! {
                                                        <tr>
                                                            <th scope="row" data-label="Due">{v.due_on.to_string()}</th>
                                                            <td data-label="Service">{v.service.clone()}</td>
                                                            <td data-label="Where">{v.address.clone()}</td>
                                                            <td data-label="For"><A href=format!("/memberships/{}", v.membership_id)>{v.holder.clone()}</A></td>
                                                            <td data-label="Status">{v.status.label()}
                                                                {v.scheduled_at.map(|t| format!(" for {}", t.format("%Y-%m-%d %H:%M")))}</td>
                                                            <td data-label="Actions">{(can_change && open).then(move || view! {
                                                                <leptos::form::ActionForm action=change attr:class="inline">
                                                                    <input type="hidden" name="id" value=id />
                                                                    <input type="hidden" name="to" value="scheduled" />
                                                                    <label for=format!("visit-day-{id}")>"Day"</label>
                                                                    <input id=format!("visit-day-{id}") type="date" name="form[day]" value=due />
                                                                    <label for=format!("visit-time-{id}")>"Time"</label>
                                                                    <input id=format!("visit-time-{id}") type="time" name="form[time]" value="09:00" />
                                                                    <button type="submit">"Schedule"</button>
                                                                </leptos::form::ActionForm>
                                                                {scheduled.then(|| view! {
                                                                    <leptos::form::ActionForm action=change attr:class="inline">
                                                                        <input type="hidden" name="id" value=id />
                                                                        <input type="hidden" name="to" value="completed" />
                                                                        <input type="hidden" name="form[day]" value="" />
                                                                        <button type="submit">"Completed"</button>
                                                                    </leptos::form::ActionForm>
                                                                })}
                                                                <leptos::form::ActionForm action=change attr:class="inline">
                                                                    <input type="hidden" name="id" value=id />
                                                                    <input type="hidden" name="to" value="cancelled" />
                                                                    <input type="hidden" name="form[day]" value="" />
                                                                    <button type="submit">"Cancel visit"</button>
                                                                </leptos::form::ActionForm>
                                                            })}</td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                        <Pager of="visits" page=visits_page pages=visits_pages range_text=visits_range.clone() />
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(AppError::Invalid { .. }) => view! { <p>"Correct the filters."</p> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
