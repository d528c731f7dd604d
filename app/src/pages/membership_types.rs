use domain::catalog::{BillingInterval, MembershipTypeSummary, PurchaseType, TypeStatus};
use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::api::catalog::{
    CreateMembershipType, MoveMembershipType, get_membership_types, get_type_form_options,
};
use crate::components::form::{ErrorNotice, Field, FormError, field_error, form_error};
use crate::components::layout::use_staff;

/// The catalog filters as they appear in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Filters {
    status: String,
    purchase_type: String,
    location: String,
    search: String,
    include_retired: String,
}

#[component]
pub fn MembershipTypesPage() -> impl IntoView {
    let staff = use_staff();
    let create = ServerAction::<CreateMembershipType>::new();
    let moved = ServerAction::<MoveMembershipType>::new();
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| Filters {
            status: q.get("status").unwrap_or_default(),
            purchase_type: q.get("purchase_type").unwrap_or_default(),
            location: q.get("location").unwrap_or_default(),
            search: q.get("search").unwrap_or_default(),
            include_retired: q.get("include_retired").unwrap_or_default(),
        })
    });
    let types = Resource::new(
        move || (filters.get(), create.version().get(), moved.version().get()),
        |(f, _, _)| {
            get_membership_types(
                f.status,
                f.purchase_type,
                f.location,
                f.search,
                f.include_retired,
            )
        },
    );
    let options = Resource::new(|| (), |_| get_type_form_options());
    view! {
        <Title text="Membership types" />
        <div class="page-head">
            <h1>"Membership types"</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    let may_edit = staff.await.map(|s| s.role.allows(Role::Manager)).unwrap_or(false);
                    may_edit.then(|| view! { <A href="/membership-types/new" attr:class="button">"New type with all settings"</A> })
                })}
            </Suspense>
        </div>
        <Suspense>
            {move || Suspend::new(async move {
                let locations = options.await.map(|o| o.locations).unwrap_or_default();
                view! { <FilterForm filters=filters.get_untracked() locations /> }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="loading">"Loading types…"</p> }>
            {move || Suspend::new(async move {
                let may_edit = staff.await.map(|s| s.role.allows(Role::Manager)).unwrap_or(false);
                match types.await {
                    Ok(list) => view! { <TypeTable types=list may_edit moved /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense>
            {move || Suspend::new(async move {
                let may_create = staff.await.map(|s| s.role.allows(Role::Manager)).unwrap_or(false);
                may_create.then(|| view! { <NewTypeForm create /> })
            })}
        </Suspense>
    }
}

/// A GET form: works without JavaScript and keeps the filters in the address.
#[component]
fn FilterForm(filters: Filters, locations: Vec<(i64, String)>) -> impl IntoView {
    let selected = |current: &str, value: &str| current == value;
    view! {
        <Form method="GET" action="" attr:class="filters" attr:aria-label="Filter membership types">
            <div class="field">
                <label for="filter-search">"Search"</label>
                <input id="filter-search" type="search" name="search" value=filters.search.clone() placeholder="Name" />
            </div>
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" name="status">
                    <option value="" selected=filters.status.is_empty()>"Draft and active"</option>
                    {TypeStatus::ALL.iter().map(|st| view! {
                        <option value=st.as_str() selected=selected(&filters.status, st.as_str())>{st.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-purchase">"Purchase type"</label>
                <select id="filter-purchase" name="purchase_type">
                    <option value="" selected=filters.purchase_type.is_empty()>"Any"</option>
                    {PurchaseType::ALL.iter().map(|p| view! {
                        <option value=p.as_str() selected=selected(&filters.purchase_type, p.as_str())>{p.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-location">"Location"</label>
                <select id="filter-location" name="location">
                    <option value="" selected=filters.location.is_empty()>"Any"</option>
                    {locations.into_iter().map(|(id, name)| {
                        let id = id.to_string();
                        let is = filters.location == id;
                        view! { <option value=id selected=is>{name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field checkbox">
                <input id="filter-retired" type="checkbox" name="include_retired" value="on" checked=domain::catalog::checked(&filters.include_retired) />
                <label for="filter-retired">"Include retired"</label>
            </div>
            <button type="submit">"Filter"</button>
        </Form>
    }
}

#[component]
fn TypeTable(
    types: Vec<MembershipTypeSummary>,
    may_edit: bool,
    moved: ServerAction<MoveMembershipType>,
) -> impl IntoView {
    if types.is_empty() {
        return view! { <p data-testid="no-types">"No membership types match."</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="membership-types">
            <caption class="visually-hidden">"Membership types, active first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Purchase"</th>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Term"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Memberships"</th>
                    {may_edit.then(|| view! { <th scope="col">"Order"</th> })}
                </tr>
            </thead>
            <tbody>
                {types.into_iter().map(|t| {
                    let price = t.price_label();
                    let href = format!("/membership-types/{}", t.id);
                    let swatch = format!("background:{}", t.color);
                    let name = t.name.clone();
                    view! {
                        <tr>
                            <th scope="row" data-label="Name">
                                <span class="swatch" style=swatch aria-hidden="true"></span>
                                <A href=href>{t.name}</A>
                            </th>
                            <td data-label="Purchase">{t.purchase_type.label()}</td>
                            <td data-label="Price">{price}</td>
                            <td data-label="Term">{t.term.describe()}</td>
                            <td data-label="Status"><span class=format!("badge status-{}", t.status.as_str())>{t.status.label()}</span></td>
                            <td data-label="Memberships">{t.memberships}</td>
                            {may_edit.then(|| view! {
                                <td data-label="Order" class="order-buttons">
                                    <MoveButton moved id=t.id direction="up" label=format!("Move {name} up") symbol="▲" />
                                    <MoveButton moved id=t.id direction="down" label=format!("Move {name} down") symbol="▼" />
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn MoveButton(
    moved: ServerAction<MoveMembershipType>,
    id: i64,
    direction: &'static str,
    label: String,
    symbol: &'static str,
) -> impl IntoView {
    view! {
        <ActionForm action=moved attr:class="inline">
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="direction" value=direction />
            <button type="submit" class="icon-button" aria-label=label.clone() title=label>{symbol}</button>
        </ActionForm>
    }
}

#[component]
fn NewTypeForm(create: ServerAction<CreateMembershipType>) -> impl IntoView {
    let value = create.value();
    let name_error = field_error(value, "name");
    let purchase_error = field_error(value, "purchase_type");
    let interval_error = field_error(value, "billing_interval");
    let fee_error = field_error(value, "fee");
    let status_error = field_error(value, "status");
    let general_error = Signal::derive(move || {
        value.with(|v| match v {
            // Problems with settings this short form does not show (a prepaid
            // type's term, say) are listed here, pointing to the full editor.
            Some(Err(crate::AppError::Invalid { invalid })) => {
                let shown = ["name", "purchase_type", "billing_interval", "fee", "status"];
                let others: Vec<String> = invalid
                    .errors
                    .iter()
                    .filter(|e| !shown.contains(&e.field.as_str()))
                    .map(|e| e.message.clone())
                    .collect();
                (!others.is_empty()).then(|| {
                    format!(
                        "{}. Use \"New type with all settings\" for these.",
                        others.join("; ")
                    )
                })
            }
            _ => form_error(value).get(),
        })
    });
    let created = Signal::derive(move || {
        value.with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|t| t.spec.name.clone())
        })
    });
    let (purchase, set_purchase) = signal(PurchaseType::Recurring.as_str().to_string());
    let recurring = move || purchase.get() == PurchaseType::Recurring.as_str();
    let invalid = |error: Signal<Option<String>>| move || error.get().is_some().to_string();
    view! {
        <section class="card" aria-labelledby="new-type-heading">
            <h2 id="new-type-heading">"New membership type"</h2>
            <ActionForm action=create>
                <FormError message=general_error />
                <Show when=move || created.get().is_some()>
                    <p class="notice" role="status">"Created " {move || created.get()} "."</p>
                </Show>
                <Field id="name" label="Name" error=name_error>
                    <input id="name" name="form[name]" type="text" required maxlength="100" autocomplete="off"
                        aria-describedby="name-error" aria-invalid=invalid(name_error) />
                </Field>
                <Field id="purchase_type" label="Purchase type" error=purchase_error>
                    <select id="purchase_type" name="form[purchase_type]" aria-describedby="purchase_type-error"
                        aria-invalid=invalid(purchase_error)
                        on:change=move |ev| set_purchase.set(event_target_value(&ev))>
                        {PurchaseType::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.label()}</option> }).collect_view()}
                    </select>
                </Field>
                <Field id="billing_interval" label="Billing interval" hint="Only for recurring types." error=interval_error>
                    <select id="billing_interval" name="form[billing_interval]" aria-describedby="billing_interval-hint billing_interval-error"
                        aria-invalid=invalid(interval_error) disabled=move || !recurring()>
                        <option value="">"— none —"</option>
                        {BillingInterval::ALL.iter().map(|i| view! {
                            <option value=i.as_str() selected=*i == BillingInterval::Monthly>{i.label()}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field id="fee" label="Fee" hint="In the business's currency, for example 59 or 59.90." error=fee_error>
                    <input id="fee" name="form[fee]" type="text" inputmode="decimal" required autocomplete="off"
                        aria-describedby="fee-hint fee-error" aria-invalid=invalid(fee_error) />
                </Field>
                <Field id="status" label="Status" error=status_error>
                    <select id="status" name="form[status]" aria-describedby="status-error" aria-invalid=invalid(status_error)>
                        {[TypeStatus::Draft, TypeStatus::Active].into_iter().map(|s| view! {
                            <option value=s.as_str()>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create type"</button>
            </ActionForm>
        </section>
    }
}
