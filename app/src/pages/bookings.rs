//! Services, the day's schedule, and booking for a membership. Every page
//! works before the WebAssembly arrives: filters are GET forms on the page's
//! own address, and each change is a form posting to its server function.

use domain::bookings::{BookingStatus, BookingView, PaidBy, ServiceKind, format_timetable};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::api::bookings::{
    Book, CancelBooking, CreateService, MarkBooking, SetServiceActive, get_booking_page,
    get_schedule, list_services,
};
use crate::components::form::{Check, Choice, ErrorNotice, FormError, FormErrors, Text, successes};
use crate::components::pager::Pager;
use crate::pages::membership_type::id_param;
use crate::pages::memberships::status_badge;

pub(crate) fn query_param(name: &'static str) -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get(name).unwrap_or_default()))
}

#[component]
pub fn ServicesPage() -> impl IntoView {
    let create = ServerAction::<CreateService>::new();
    let toggle = ServerAction::<SetServiceActive>::new();
    let created = successes!(create);
    let toggled = successes!(toggle);
    let list = Resource::new(move || (created.get(), toggled.get()), |_| list_services());
    let errors = FormErrors::of(create.value());
    view! {
        <Title text="Services" />
        <h1>"Services"</h1>
        <p class="hint">"Classes, appointments and rooms members book, each with its weekly timetable. "
            <A href="/schedule">"See the schedule"</A></p>
        <section class="card wide" aria-labelledby="services-heading">
            <h2 id="services-heading">"On offer"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! { <p>"No services yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="data-table" data-testid="services">
                                <caption class="visually-hidden">"Services"</caption>
                                <thead><tr>
                                    <th scope="col">"Service"</th><th scope="col">"Where"</th><th scope="col">"Places, length, price"</th>
                                    <th scope="col">"Timetable"</th><th scope="col">"Cancel"</th><th scope="col">"Status"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <th scope="row" data-label="Service">{s.spec.name.clone()}" "
                                                <span class="hint">{s.spec.kind.label()}</span></th>
                                            <td data-label="Where">{s.location.clone()}</td>
                                            <td data-label="Places, length, price">{s.spec.describe()}</td>
                                            <td data-label="Timetable">{format_timetable(&s.spec.timetable)}</td>
                                            <td data-label="Cancel">{format!("free until {} h before; late fee {}", s.spec.cancel_window_hours, s.spec.late_fee)}</td>
                                            <td data-label="Status">
                                                <leptos::form::ActionForm action=toggle>
                                                    <input type="hidden" name="id" value=s.id />
                                                    <input type="hidden" name="active" value=(!s.active).to_string() />
                                                    {if s.active { "On the schedule " } else { "Off the schedule " }}
                                                    <button type="submit">{if s.active { "Take off" } else { "Put back" }}</button>
                                                </leptos::form::ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="new-service-heading">
            <h2 id="new-service-heading">"New service"</h2>
            <leptos::form::ActionForm action=create>
                <Text name="name" label="Name" value=String::new() error=errors.field("name") />
                <Choice name="kind" label="Kind" value="class".to_string() error=errors.field("kind")
                    choices=ServiceKind::ALL.iter().map(|k| (k.as_str().to_string(), k.label().to_string())).collect() />
                <Text name="timetable" label="Timetable" value=String::new() error=errors.field("timetable")
                    hint="Days and start times, like: Mon 18:00, Wed 18:00, Sat 10:00" />
                <Text name="duration_minutes" label="Length (minutes)" value="60".to_string() error=errors.field("duration_minutes") kind="number" />
                <Text name="capacity" label="Places per slot" value="12".to_string() error=errors.field("capacity") kind="number" />
                <Text name="price_credits" label="Price in credits (empty: not with credits)" value="1".to_string() error=errors.field("price_credits") kind="number" />
                <Text name="price" label="Price in money (empty: not for money)" value=String::new() error=errors.field("price") kind="decimal" />
                <Text name="cancel_window_hours" label="Free cancellation until (hours before)" value="12".to_string() error=errors.field("cancel_window_hours") kind="number" />
                <Text name="late_fee" label="Late cancellation fee" value=String::new() error=errors.field("late_fee") kind="decimal" />
                <Check name="requires_membership" label="Only members with an active membership may book" checked="on".to_string() />
                <FormError message=errors.general() />
                <button type="submit" class="primary">"Add service"</button>
            </leptos::form::ActionForm>
        </section>
    }
}

fn booking_actions(
    b: &BookingView,
    cancel: ServerAction<CancelBooking>,
    mark: ServerAction<MarkBooking>,
) -> impl IntoView + use<> {
    let id = b.id;
    let booked = b.status == BookingStatus::Booked;
    view! {
        {booked.then(|| view! {
            <leptos::form::ActionForm action=cancel attr:class="inline">
                <input type="hidden" name="id" value=id />
                <button type="submit">"Cancel"</button>
            </leptos::form::ActionForm>
            <leptos::form::ActionForm action=mark attr:class="inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="status" value="attended" />
                <button type="submit">"Attended"</button>
            </leptos::form::ActionForm>
            <leptos::form::ActionForm action=mark attr:class="inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="status" value="no_show" />
                <button type="submit">"No-show"</button>
            </leptos::form::ActionForm>
        })}
    }
}

pub(crate) fn paid(b: &BookingView) -> String {
    match b.paid_by {
        PaidBy::Credits => format!(
            "{} credit{}",
            b.credits,
            if b.credits == 1 { "" } else { "s" }
        ),
        PaidBy::Money => b.price.map(|p| p.to_string()).unwrap_or_default(),
        other => other.label().to_string(),
    }
}

/// What a cancel or a mark answered: the effect, or why not.
fn outcome(cancel: ServerAction<CancelBooking>, mark: ServerAction<MarkBooking>) -> impl IntoView {
    view! {
        <p role="status" data-testid="booking-outcome">
            {move || match cancel.value().get() {
                Some(Ok(effect)) => effect,
                Some(Err(e)) => e.to_string(),
                None => String::new(),
            }}
            {move || match mark.value().get() {
                Some(Err(e)) => e.to_string(),
                _ => String::new(),
            }}
        </p>
    }
}

#[component]
pub fn SchedulePage() -> impl IntoView {
    let day = query_param("day");
    let location = query_param("location");
    let cancel = ServerAction::<CancelBooking>::new();
    let mark = ServerAction::<MarkBooking>::new();
    let data = Resource::new(
        move || {
            (
                day.get(),
                location.get(),
                cancel.version().get(),
                mark.version().get(),
            )
        },
        |(day, location, ..)| get_schedule(day, location),
    );
    view! {
        <Title text="Schedule" />
        <h1>"Schedule"</h1>
        {outcome(cancel, mark)}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(s) => {
                        let chosen = s.location_id;
                        view! {
                            <Form method="GET" action="" attr:class="filters" attr:role="search" attr:aria-label="Choose the day">
                                <div class="field">
                                    <label for="schedule-day">"Day"</label>
                                    <input id="schedule-day" name="day" type="date" value=s.day.to_string() />
                                </div>
                                <div class="field">
                                    <label for="schedule-location">"Location"</label>
                                    <select id="schedule-location" name="location">
                                        <option value="" selected=chosen.is_none()>"Every location"</option>
                                        {s.locations.iter().map(|(id, name)| view! {
                                            <option value=id.to_string() selected=chosen == Some(*id)>{name.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <button type="submit">"Show"</button>
                            </Form>
                            <h2>{s.day.format("%A %-d %B %Y").to_string()}</h2>
                            {(!s.visits.is_empty()).then({
                                let visits = s.visits.clone();
                                move || view! {
                                <section class="card wide" aria-labelledby="day-visits-heading">
                                    <h3 id="day-visits-heading">"Service visits"</h3>
                                    <ul data-testid="day-visits">
                                        {visits.into_iter().map(|v| view! {
                                            <li>{format!("{} {} at {} for ", v.scheduled_at.map(|t| t.format("%H:%M").to_string()).unwrap_or_default(), v.service, v.address)}
                                                <A href=format!("/memberships/{}", v.membership_id)>{v.holder.clone()}</A></li>
                                        }).collect_view()}
                                    </ul>
                                    <p><A href="/visits">"All visits"</A></p>
                                </section>
                            }})}
                            {if s.slots.is_empty() {
                                view! { <p>"Nothing on the timetable this day."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="slots" data-testid="schedule">
                                        {s.slots.into_iter().map(|slot| {
                                            let free = slot.capacity.saturating_sub(slot.booked);
                                            view! {
                                                <li class="card" data-testid="slot">
                                                    <h3>{format!("{} {}", slot.starts.format("%H:%M"), slot.service)}</h3>
                                                    <p>{slot.location.clone()}" · "
                                                        <span data-testid="places">{format!("{} of {} booked, {free} free", slot.booked, slot.capacity)}</span></p>
                                                    {(!slot.bookings.is_empty()).then(move || view! {
                                                        <ul>
                                                            {slot.bookings.into_iter().map(|b| {
                                                                let actions = s.can_change.then(|| booking_actions(&b, cancel, mark));
                                                                let what = format!(" · {} · {} ", paid(&b), b.status.label());
                                                                let href = format!("/members/{}", b.member_id);
                                                                let name = b.member.clone();
                                                                view! {
                                                                    <li>
                                                                        <A href=href>{name}</A>
                                                                        {what}
                                                                        {actions}
                                                                    </li>
                                                                }
                                                            }).collect_view()}
                                                        </ul>
                                                    })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Booking for a membership: choose a service and a day, then a time.
#[component]
pub fn BookPage() -> impl IntoView {
    let id = id_param();
    let service = query_param("service");
    let day = query_param("day");
    let page = query_param("page");
    let book = ServerAction::<Book>::new();
    let cancel = ServerAction::<CancelBooking>::new();
    let mark = ServerAction::<MarkBooking>::new();
    let booked = successes!(book);
    let data = Resource::new(
        move || {
            (
                id.get(),
                service.get(),
                day.get(),
                page.get(),
                booked.get(),
                cancel.version().get(),
                mark.version().get(),
            )
        },
        |(id, service, day, page, ..)| get_booking_page(id, service, day, page),
    );
    let errors = FormErrors::of(book.value());
    view! {
        <Title text="Book" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => {
                        let chosen = p.service_id;
                        let day = p.day;
                        view! {
                            <h1>{format!("Book for {}", p.holder)}</h1>
                            <p>
                                <A href=format!("/memberships/{}", p.membership_id)>{p.type_name.clone()}</A>" "
                                {status_badge(p.status.status)}" · "
                                <span data-testid="book-balance">{format!("{} credits", p.credit_balance)}</span>
                            </p>
                            <Form method="GET" action="" attr:class="filters" attr:role="search" attr:aria-label="Choose a service and a day">
                                <div class="field">
                                    <label for="book-service">"Service"</label>
                                    <select id="book-service" name="service">
                                        <option value="" selected=chosen.is_none()>"Choose a service"</option>
                                        {p.services.iter().map(|(sid, name, what)| view! {
                                            <option value=sid.to_string() selected=chosen == Some(*sid)>{format!("{name} ({what})")}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="book-day">"Day"</label>
                                    <input id="book-day" name="day" type="date" value=day.to_string() />
                                </div>
                                <button type="submit">"Show times"</button>
                            </Form>
                            {chosen.map(|sid| if p.slots.is_empty() {
                                view! { <p>"No times that day; try another day."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="slots" data-testid="times">
                                        {p.slots.iter().map(|(time, left)| {
                                            let time_text = time.format("%H:%M").to_string();
                                            let key = format!("{}:{}", p.form_key, time_text);
                                            let users = p.users.clone();
                                            view! {
                                                <li class="card">
                                                    <strong>{time_text.clone()}</strong>" · "{format!("{left} place{} left", if *left == 1 { "" } else { "s" })}
                                                    {(p.can_book && *left > 0).then(|| view! {
                                                        <leptos::form::ActionForm action=book>
                                                            <input type="hidden" name="form[service_id]" value=sid />
                                                            <input type="hidden" name="form[membership_id]" value=p.membership_id />
                                                            <input type="hidden" name="form[day]" value=day.to_string() />
                                                            <input type="hidden" name="form[time]" value=time_text.clone() />
                                                            <input type="hidden" name="form[key]" value=key />
                                                            {(users.len() > 1).then(|| view! {
                                                                <div class="field">
                                                                    <label for=format!("for-{time_text}")>"For"</label>
                                                                    <select id=format!("for-{time_text}") name="form[member_id]">
                                                                        {users.iter().map(|(uid, name)| view! { <option value=uid.to_string()>{name.clone()}</option> }).collect_view()}
                                                                    </select>
                                                                </div>
                                                            })}
                                                            <div class="field">
                                                                <label for=format!("pay-{time_text}")>"Pay with"</label>
                                                                <select id=format!("pay-{time_text}") name="form[pay_with]">
                                                                    <option value="">"The best available"</option>
                                                                    {PaidBy::ALL.iter().map(|w| view! { <option value=w.as_str()>{w.label()}</option> }).collect_view()}
                                                                </select>
                                                            </div>
                                                            <button type="submit" class="primary">{format!("Book {time_text}")}</button>
                                                        </leptos::form::ActionForm>
                                                    })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            })}
                            <FormError message=errors.general() />
                            {move || errors.field("time").get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                            {outcome(cancel, mark)}
                            <section class="card wide" aria-labelledby="bookings-heading">
                                <h2 id="bookings-heading">"Bookings"</h2>
                                {if p.bookings.rows.is_empty() && p.bookings.page == 1 {
                                    view! { <p>"No bookings yet."</p> }.into_any()
                                } else {
                                    let (page, pages, range) = (p.bookings.page, p.bookings.pages(), p.bookings.range_text());
                                    view! {
                                        <table class="data-table" data-testid="bookings">
                                            <caption class="visually-hidden">"This membership's bookings, newest first"</caption>
                                            <thead><tr>
                                                <th scope="col">"When"</th><th scope="col">"Service"</th><th scope="col">"Paid"</th>
                                                <th scope="col">"Status"</th><th scope="col">"Actions"</th>
                                            </tr></thead>
                                            <tbody>
                                                {p.bookings.rows.iter().map(|b| view! {
                                                    <tr>
                                                        <th scope="row" data-label="When">{b.starts.format("%Y-%m-%d %H:%M").to_string()}</th>
                                                        <td data-label="Service">{b.service.clone()}</td>
                                                        <td data-label="Paid">{paid(b)}</td>
                                                        <td data-label="Status">{b.status.label()}{b.late.then_some(" (late)")}</td>
                                                        <td data-label="Actions">{p.can_book.then(|| booking_actions(b, cancel, mark))}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                        <Pager of="bookings" page pages range_text=range param="page" />
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <h1>"Book"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
