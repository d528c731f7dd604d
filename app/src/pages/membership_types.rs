use domain::catalog::{BillingInterval, MembershipTypeSummary, PurchaseType, TypeStatus};
use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::catalog::{CreateMembershipType, get_membership_types};
use crate::components::form::{ErrorNotice, Field, FormError, field_error, form_error};
use crate::components::layout::use_staff;

#[component]
pub fn MembershipTypesPage() -> impl IntoView {
    let staff = use_staff();
    let create = ServerAction::<CreateMembershipType>::new();
    let types = Resource::new(
        move || create.version().get(),
        |_| {
            get_membership_types(
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            )
        },
    );
    view! {
        <Title text="Membership types" />
        <h1>"Membership types"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading types…"</p> }>
            {move || Suspend::new(async move {
                match types.await {
                    Ok(list) => view! { <TypeTable types=list /> }.into_any(),
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

#[component]
fn TypeTable(types: Vec<MembershipTypeSummary>) -> impl IntoView {
    if types.is_empty() {
        return view! { <p data-testid="no-types">"No membership types yet. Create the first one below."</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="membership-types">
            <caption class="visually-hidden">"Membership types, active first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Purchase"</th>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Memberships"</th>
                </tr>
            </thead>
            <tbody>
                {types.into_iter().map(|t| {
                    let price = t.price_label();
                    view! {
                        <tr>
                            <th scope="row" data-label="Name">{t.name}</th>
                            <td data-label="Purchase">{t.purchase_type.label()}</td>
                            <td data-label="Price">{price}</td>
                            <td data-label="Status"><span class=format!("badge status-{}", t.status.as_str())>{t.status.label()}</span></td>
                            <td data-label="Memberships">{t.memberships}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
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
