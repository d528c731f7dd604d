//! Organizations: companies and teams, and the members they authorize.

use domain::organizations::{OrganizationForm, OrganizationView};
use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::organizations::{
    AuthorizeMember, DeleteOrganization, RemoveAuthorizedMember, SaveOrganization,
    get_organization, get_organizations,
};
use crate::components::form::{
    Area, ErrorNotice, FormError, FormErrors, Text, field_error, form_error,
};
use crate::components::layout::use_staff;
use crate::components::pager::Pager;
use crate::pages::membership_type::id_param;
use crate::pages::memberships::param;

#[component]
pub fn OrganizationsPage() -> impl IntoView {
    let staff = use_staff();
    let query = use_query_map();
    let page = Memo::new(move |_| query.with(|q| param(q, "page")));
    let orgs = Resource::new(move || page.get(), get_organizations);
    view! {
        <Title text="Organizations" />
        <h1>"Organizations"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match orgs.await {
                    Ok(list) if list.total == 0 => view! { <p>"No organizations yet."</p> }.into_any(),
                    Ok(list) => {
                        let (page, pages, range_text) = (list.page, list.pages(), list.range_text());
                        view! {
                        <table class="data-table" data-testid="organizations">
                            <caption class="visually-hidden">"Organizations"</caption>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Contact"</th><th scope="col">"Authorized members"</th></tr></thead>
                            <tbody>
                                {list.rows.into_iter().map(|o| view! {
                                    <tr>
                                        <th scope="row" data-label="Name"><A href=format!("/organizations/{}", o.id)>{o.name}</A></th>
                                        <td data-label="Contact">{o.contact_name}" " {o.email}</td>
                                        <td data-label="Authorized members">
                                            {match o.max_members { Some(max) => format!("{} of {max}", o.authorized), None => o.authorized.to_string() }}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager of="organizations" page pages range_text />
                    }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense>
            {move || Suspend::new(async move {
                let may_add = staff.await.map(|s| s.role.allows(Role::FrontDesk)).unwrap_or(false);
                may_add.then(|| view! {
                    <section class="card" aria-labelledby="new-org-heading">
                        <h2 id="new-org-heading">"New organization"</h2>
                        <OrganizationEditor id=0 initial=OrganizationForm::default() save=ServerAction::new() />
                    </section>
                })
            })}
        </Suspense>
    }
}

#[component]
fn OrganizationEditor(
    id: i64,
    initial: OrganizationForm,
    save: ServerAction<SaveOrganization>,
) -> impl IntoView {
    let errors = FormErrors::of(save.value());
    let general = errors.general();
    let err = move |field: &'static str| errors.field(field);
    let f = initial;
    view! {
        <ActionForm action=save attr:class="type-editor">
            <input type="hidden" name="id" value=id />
            <FormError message=general />
            <Text name="name" label="Organization name" value=f.name.clone() error=err("name") />
            <div class="row">
                <Text name="contact_name" label="Contact name" value=f.contact_name.clone() error=err("contact_name") />
                <Text name="email" label="Contact email" value=f.email.clone() error=err("email") />
            </div>
            <Text name="phone" label="Contact phone" value=f.phone.clone() error=err("phone") />
            <Area name="billing_address" label="Billing address" value=f.billing_address.clone() error=err("billing_address") />
            <Text name="max_members" label="Most authorized members" value=f.max_members.clone() error=err("max_members") hint="Leave empty for no limit." kind="number" />
            <button type="submit" class="primary">{if id == 0 { "Add organization" } else { "Save organization" }}</button>
        </ActionForm>
    }
}

#[component]
pub fn OrganizationPage() -> impl IntoView {
    let staff = use_staff();
    let id = id_param();
    let save = ServerAction::<SaveOrganization>::new();
    let authorize = ServerAction::<AuthorizeMember>::new();
    let remove = ServerAction::<RemoveAuthorizedMember>::new();
    let delete = ServerAction::<DeleteOrganization>::new();
    let memberships_page = crate::pages::bookings::query_param("page");
    let org = Resource::new(
        move || {
            (
                id.get(),
                save.version().get(),
                authorize.version().get(),
                remove.version().get(),
                memberships_page.get(),
            )
        },
        |(id, _, _, _, page)| get_organization(id, page),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = staff.await.map(|s| s.role).ok();
                let may_edit = role.is_some_and(|r| r.allows(Role::FrontDesk));
                let may_delete = role.is_some_and(|r| r.allows(Role::Manager));
                match org.await {
                    Ok(o) => view! { <OrganizationDetail o may_edit may_delete save authorize remove delete /> }.into_any(),
                    Err(error) => view! { <h1>"Organization"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <crate::pages::billing::AccountBillingSection kind="organization" id />
    }
}

#[component]
fn OrganizationDetail(
    o: OrganizationView,
    may_edit: bool,
    may_delete: bool,
    save: ServerAction<SaveOrganization>,
    authorize: ServerAction<AuthorizeMember>,
    remove: ServerAction<RemoveAuthorizedMember>,
    delete: ServerAction<DeleteOrganization>,
) -> impl IntoView {
    let d = o.details.clone();
    let delete_error = form_error(delete.value());
    let number_error = field_error(authorize.value(), "member_number");
    let remove_error = form_error(remove.value());
    let count = match d.max_members {
        Some(max) => format!("{} of at most {max}", o.authorized.len()),
        None => format!("{} (no limit)", o.authorized.len()),
    };
    let form = OrganizationForm {
        name: d.name.clone(),
        contact_name: d.contact_name.clone(),
        email: d.email.clone(),
        phone: d.phone.clone(),
        billing_address: d.billing_address.clone(),
        max_members: d.max_members.map(|m| m.to_string()).unwrap_or_default(),
    };
    let id = o.id;
    view! {
        <Title text=d.name.clone() />
        <p class="breadcrumb"><A href="/organizations">"Organizations"</A> " › " {d.name.clone()}</p>
        <h1>{d.name.clone()}</h1>
        {(may_edit || may_delete).then(|| view! {
            <div class="actions" role="group" aria-label="Actions">
                {may_edit.then(|| view! { <A href=format!("/organizations/{id}/sell") attr:class="button">"Sell a membership"</A> })}
                {may_delete.then(|| view! {
                    <details class="confirm">
                        <summary>"Delete"</summary>
                        <ActionForm action=delete>
                            <p>"Only an organization without running memberships can be deleted; its history is kept."</p>
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="primary">"Confirm: delete"</button>
                        </ActionForm>
                    </details>
                })}
            </div>
        })}
        <FormError message=delete_error />
        <div class="sections">
            <section class="card" aria-labelledby="contact-heading">
                <h2 id="contact-heading">"Contact"</h2>
                <dl class="facts">
                    <dt>"Contact"</dt><dd>{d.contact_name.clone()}</dd>
                    <dt>"Email"</dt><dd>{d.email.clone()}</dd>
                    <dt>"Phone"</dt><dd>{d.phone.clone()}</dd>
                    <dt>"Billing address"</dt><dd class="pre">{d.billing_address.clone()}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="authorized-heading">
                <h2 id="authorized-heading">"Authorized members"</h2>
                <p data-testid="authorized-count">{count}</p>
                <ul class="plain-list" data-testid="authorized-members">
                    {o.authorized.into_iter().map(|m| {
                        let remove_label = format!("Remove {}", m.name);
                        view! {
                        <li>
                            <A href=format!("/members/{}", m.member_id)>{m.name.clone()}</A>
                            {format!(" #{} since {}", m.member_number, m.since)}
                            {may_edit.then(|| view! {
                                <ActionForm action=remove attr:class="inline">
                                    <input type="hidden" name="id" value=id />
                                    <input type="hidden" name="member_id" value=m.member_id />
                                    <button type="submit" class="link-button dark" aria-label=remove_label.clone()>"Remove"</button>
                                </ActionForm>
                            })}
                        </li>
                        }
                    }).collect_view()}
                </ul>
                <FormError message=remove_error />
                {may_edit.then(|| view! {
                    <ActionForm action=authorize>
                        <input type="hidden" name="id" value=id />
                        <div class="field" class:has-error=move || number_error.get().is_some()>
                            <label for="member-number">"Authorize member number"</label>
                            <input id="member-number" name="member_number" inputmode="numeric" autocomplete="off"
                                aria-describedby="member-number-error" aria-invalid=move || number_error.get().is_some().to_string() />
                            <p class="field-error" id="member-number-error" role="alert">{move || number_error.get()}</p>
                        </div>
                        <button type="submit">"Authorize"</button>
                    </ActionForm>
                })}
            </section>
        </div>
        <section class="card" aria-labelledby="org-memberships-heading">
            <h2 id="org-memberships-heading">"Memberships it holds"</h2>
            <crate::pages::memberships::MembershipTable memberships=o.memberships.rows.clone() show_holder=false />
            {(o.memberships.pages() > 1).then(|| view! {
                <Pager of="memberships" page=o.memberships.page pages=o.memberships.pages() range_text=o.memberships.range_text() param="page" />
            })}
        </section>
        {may_edit.then(|| view! {
            <details class="add-price edit-member">
                <summary>"Edit organization"</summary>
                <OrganizationEditor id=id initial=form save />
            </details>
        })}
    }
}
