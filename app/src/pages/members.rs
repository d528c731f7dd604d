//! Members: the searchable list, the member's page and the member form.

use domain::members::{MemberForm, MemberFormOptions, MemberStatus, MemberSummary, MemberView};
use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::api::members::{
    MergeMembers, SaveMember, SetMemberStatus, get_member, get_member_form_options, list_members,
    search_members,
};
use crate::components::form::{Area, Check, Choice, ErrorNotice, FormError, FormErrors, Text};
use crate::components::layout::use_staff;
use crate::components::pager::Pager;
use crate::pages::membership_type::id_param;

/// What the members page shows.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
enum Found {
    /// Nothing searched for: a page of everyone by name.
    Everyone(domain::paging::Listed<MemberSummary>),
    /// The best matches of a search.
    Matching(Vec<MemberSummary>),
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let staff = use_staff();
    let query = use_query_map();
    let search = Memo::new(move |_| {
        query.with(|q| {
            (
                q.get("q").unwrap_or_default(),
                q.get("include_archived").unwrap_or_default(),
                q.get("page").unwrap_or_default(),
            )
        })
    });
    // Nothing typed: every member by name, a page at a time; else a search.
    let found = Resource::new(
        move || search.get(),
        |(q, archived, page)| async move {
            if q.trim().is_empty() {
                list_members(archived, page).await.map(Found::Everyone)
            } else {
                search_members(q, archived).await.map(Found::Matching)
            }
        },
    );
    view! {
        <Title text="Members" />
        <div class="page-head">
            <h1>"Members"</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    let may_add = staff.await.map(|s| s.role.allows(Role::FrontDesk)).unwrap_or(false);
                    may_add.then(|| view! { <A href="/members/new" attr:class="button">"New member"</A> })
                })}
            </Suspense>
        </div>
        <Form method="GET" action="" attr:class="filters" attr:role="search" attr:aria-label="Find members">
            <div class="field">
                <label for="member-search">"Name, email, phone or member number"</label>
                <input id="member-search" type="search" name="q" value=move || search.get().0 autocomplete="off" />
            </div>
            <div class="field checkbox">
                <input id="member-archived" type="checkbox" name="include_archived" value="on"
                    checked=move || domain::catalog::checked(&search.get().1) />
                <label for="member-archived">"Include archived"</label>
            </div>
            <button type="submit">"Search"</button>
        </Form>
        <p class="hint">"To find members by membership status, type, location or end date, use "
            <A href="/memberships">"the membership list"</A>"."</p>
        <Suspense fallback=|| view! { <p class="loading">"Searching…"</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(Found::Matching(list)) => {
                        let capped = list.len() as i64 >= 50;
                        view! {
                            <MemberTable members=list />
                            {capped.then(|| view! { <p class="hint">"Showing the first 50: type more to narrow the search."</p> })}
                        }.into_any()
                    }
                    Ok(Found::Everyone(list)) => {
                        let (page, pages, range_text) = (list.page, list.pages(), list.range_text());
                        view! {
                            <MemberTable members=list.rows />
                            <Pager of="members" page pages range_text param="page" />
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MemberTable(members: Vec<MemberSummary>) -> impl IntoView {
    if members.is_empty() {
        return view! { <p data-testid="no-members">"No members match."</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="members">
            <caption class="visually-hidden">"Members"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Number"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Phone"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {members.into_iter().map(|m| view! {
                    <tr>
                        <th scope="row" data-label="Name"><A href=format!("/members/{}", m.id)>{m.name}</A></th>
                        <td data-label="Number">{format!("#{}", m.member_number)}</td>
                        <td data-label="Email">{m.email}</td>
                        <td data-label="Phone">{m.phone}</td>
                        <td data-label="Type">{m.member_type.unwrap_or_default()}</td>
                        <td data-label="Status">{match m.membership.clone() {
                            Some(report) => view! {
                                {crate::pages::memberships::status_badge(report.status)}
                                " " <span class="hint">{report.explanation}</span>
                            }.into_any(),
                            None => view! { <span class="hint">"no membership"</span> }.into_any(),
                        }}
                        {(m.status == domain::members::MemberStatus::Archived).then(|| view! {
                            " " <span class="badge member-archived">"Archived"</span>
                        })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn NewMemberPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| get_member_form_options());
    view! {
        <Title text="New member" />
        <p class="breadcrumb"><A href="/members">"Members"</A> " › New"</p>
        <h1>"New member"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => view! { <MemberEditor id=0 initial=MemberForm::default() options save=ServerAction::new() /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn MemberPage() -> impl IntoView {
    let staff = use_staff();
    let id = id_param();
    let status = ServerAction::<SetMemberStatus>::new();
    // Saving redirects to this same page; the version makes the page read the saved details.
    let save = ServerAction::<SaveMember>::new();
    let merge = ServerAction::<MergeMembers>::new();
    let memberships_page = crate::pages::bookings::query_param("page");
    let data = Resource::new(
        move || {
            (
                id.get(),
                status.version().get(),
                save.version().get(),
                merge.version().get(),
                memberships_page.get(),
            )
        },
        |(id, _, _, _, page)| get_member(id, page),
    );
    // A resource per server function: on the server, a second call awaited in
    // the same future runs without the request's context.
    let options = Resource::new(|| (), |_| get_member_form_options());
    let status_error = crate::components::form::form_error(status.value());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = staff.await.map(|s| s.role).ok();
                let may_edit = role.is_some_and(|r| r.allows(Role::FrontDesk));
                let may_merge = role.is_some_and(|r| r.allows(Role::Manager));
                match (data.await, options.await) {
                    (Ok(m), Ok(options)) => view! { <MemberProfile m options may_edit may_merge status save merge /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <h1>"Member"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <FormError message=status_error />
        <crate::pages::billing::AccountBillingSection kind="member" id />
    }
}

#[component]
fn MemberProfile(
    m: MemberView,
    options: MemberFormOptions,
    may_edit: bool,
    may_merge: bool,
    status: ServerAction<SetMemberStatus>,
    save: ServerAction<SaveMember>,
    merge: ServerAction<MergeMembers>,
) -> impl IntoView {
    let merge_errors = FormErrors::of(merge.value());
    let merge_number_error = merge_errors.field("duplicate_number");
    let merged_into = m.merged_into;
    let d = m.details.clone();
    let name = d.full_name();
    let (next, verb) = match m.status {
        MemberStatus::Active => (MemberStatus::Archived, "Archive"),
        MemberStatus::Archived => (MemberStatus::Active, "Restore"),
    };
    let or_dash = |s: &str| {
        if s.is_empty() {
            "—".to_string()
        } else {
            s.to_string()
        }
    };
    view! {
        <Title text=name.clone() />
        <p class="breadcrumb"><A href="/members">"Members"</A> " › " {name.clone()}</p>
        <div class="page-head">
            <h1>{name.clone()} " " <span class="muted">{format!("#{}", m.member_number)}</span></h1>
            <span class=format!("badge member-{}", m.status.as_str()) data-testid="member-status">{m.status.label()}</span>
        </div>
        {merged_into.map(|(id, number)| view! {
            <p class="notice" role="note">"This record was merged into "
                <A href=format!("/members/{id}")>{format!("member #{number}")}</A>
                "; its memberships and history are there now."</p>
        })}
        {may_edit.then(|| view! {
            <div class="actions" role="group" aria-label="Actions">
                <details class="confirm">
                    <summary>{verb}</summary>
                    <ActionForm action=status>
                        <p>{if next == MemberStatus::Archived { "Hidden from everyday lists; all history is kept." } else { "Back in everyday lists." }}</p>
                        <input type="hidden" name="id" value=m.id />
                        <input type="hidden" name="status" value=next.as_str() />
                        <button type="submit" class="primary">{format!("Confirm: {}", verb.to_lowercase())}</button>
                    </ActionForm>
                </details>
                {(may_merge && merged_into.is_none()).then(|| view! {
                    <details class="confirm">
                        <summary>"Merge a duplicate"</summary>
                        <ActionForm action=merge>
                            <p>"The duplicate's memberships, family places and organization authorizations move to this member; its blank details fill in here; the duplicate is archived and points here. Nothing is deleted."</p>
                            <input type="hidden" name="id" value=m.id />
                            <div class="field" class:has-error=move || merge_number_error.get().is_some()>
                                <label for="duplicate-number">"Member number of the duplicate"</label>
                                <input id="duplicate-number" name="duplicate_number" inputmode="numeric" autocomplete="off"
                                    aria-describedby="duplicate-number-error" />
                                <p class="field-error" id="duplicate-number-error" role="alert">{move || merge_number_error.get()}</p>
                            </div>
                            <FormError message=merge_errors.general() />
                            <button type="submit" class="primary">"Confirm: merge into this member"</button>
                        </ActionForm>
                    </details>
                })}
            </div>
        })}
        <div class="sections">
            <section class="card" aria-labelledby="profile-heading">
                <h2 id="profile-heading">"Profile"</h2>
                <dl class="facts">
                    <dt>"Email"</dt><dd>{or_dash(&d.email)}</dd>
                    <dt>"Phone"</dt><dd>{or_dash(&d.phone)}</dd>
                    <dt>"Date of birth"</dt><dd>{d.date_of_birth.map(|x| x.to_string()).unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Member type"</dt><dd>{d.member_type.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Home location"</dt><dd>{m.home_location_name.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Marketing"</dt><dd>{if d.marketing_consent { "agreed" } else { "not agreed" }}</dd>
                    <dt>"Notes"</dt><dd>{or_dash(&d.notes)}</dd>
                    <dt>"Organization"</dt>
                    <dd>
                        {if m.organizations.is_empty() { Some("—") } else { None }}
                        {m.organizations.clone().into_iter().map(|(id, name)| view! {
                            <A href=format!("/organizations/{id}")>{name}</A> " "
                        }).collect_view()}
                    </dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="memberships-heading">
                <h2 id="memberships-heading">"Memberships"</h2>
                {may_edit.then(|| view! {
                    <p><A href=format!("/members/{}/sell", m.id) attr:class="button">"Sell a membership"</A></p>
                })}
                <crate::pages::memberships::MembershipTable memberships=m.memberships.rows.clone() show_holder=false />
                {(m.memberships.pages() > 1).then(|| view! {
                    <Pager of="memberships" page=m.memberships.page pages=m.memberships.pages() range_text=m.memberships.range_text() param="page" />
                })}
            </section>
        </div>
        {may_edit.then(|| view! {
            <details class="add-price edit-member">
                <summary>"Edit details"</summary>
                <MemberEditor id=m.id initial=d.to_form() options save />
            </details>
        })}
    }
}

#[component]
fn MemberEditor(
    id: i64,
    initial: MemberForm,
    options: MemberFormOptions,
    save: ServerAction<SaveMember>,
) -> impl IntoView {
    let errors = FormErrors::of(save.value());
    let general = errors.general();
    let err = move |field: &'static str| errors.field(field);
    let f = initial;
    view! {
        <ActionForm action=save attr:class="type-editor">
            <input type="hidden" name="id" value=id />
            <FormError message=general />
            <fieldset>
                <legend>"Person"</legend>
                <div class="row">
                    <Text name="first_name" label="First name" value=f.first_name.clone() error=err("first_name") />
                    <Text name="last_name" label="Last name" value=f.last_name.clone() error=err("last_name") />
                </div>
                <Text name="email" label="Email" value=f.email.clone() error=err("email") />
                <Text name="phone" label="Phone" value=f.phone.clone() error=err("phone") hint="For example +49 30 1234567." />
                <Text name="date_of_birth" label="Date of birth" value=f.date_of_birth.clone() error=err("date_of_birth") hint="YYYY-MM-DD" />
                <Choice name="member_type" label="Member type" value=f.member_type.clone() error=err("member_type") empty="—"
                    choices=options.member_types.iter().map(|m| (m.clone(), m.clone())).collect() />
                <Choice name="home_location" label="Home location" value=f.home_location.clone() error=err("home_location") empty="—"
                    choices=options.locations.iter().map(|(lid, n)| (lid.to_string(), n.clone())).collect() />
                <Area name="notes" label="Notes" value=f.notes.clone() error=err("notes") />
                <Check name="marketing_consent" label="Agrees to marketing messages" checked=f.marketing_consent.clone() />
            </fieldset>
            <button type="submit" class="primary" disabled=move || save.pending().get()>
                {if id == 0 { "Add member" } else { "Save details" }}
            </button>
        </ActionForm>
    }
}
