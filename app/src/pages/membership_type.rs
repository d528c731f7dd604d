//! One membership type: every setting, its price history, and the actions on it.

use domain::catalog::{MembershipTypeDetail, PurchaseType, Term, TypeSpec, TypeStatus};
use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::catalog::{
    AddPriceVersion, ChangeTypeStatus, DeleteMembershipType, DuplicateMembershipType,
    get_membership_type,
};
use crate::components::form::{ErrorNotice, Field, FormError, field_error, form_error};
use crate::components::layout::use_staff;

/// The id in the address, or 0 (which no type has) when it is not a number.
pub fn id_param() -> Memo<i64> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(0)))
}

#[component]
pub fn MembershipTypePage() -> impl IntoView {
    let staff = use_staff();
    let id = id_param();
    let status = ServerAction::<ChangeTypeStatus>::new();
    let price = ServerAction::<AddPriceVersion>::new();
    let detail = Resource::new(
        move || (id.get(), status.version().get(), price.version().get()),
        |(id, _, _)| get_membership_type(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let may_edit = staff.await.map(|s| s.role.allows(Role::Manager)).unwrap_or(false);
                match detail.await {
                    Ok(t) => view! { <TypeView t may_edit status price /> }.into_any(),
                    Err(error) => view! { <Title text="Membership type" /><h1>"Membership type"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TypeView(
    t: MembershipTypeDetail,
    may_edit: bool,
    status: ServerAction<ChangeTypeStatus>,
    price: ServerAction<AddPriceVersion>,
) -> impl IntoView {
    let status_error = form_error(status.value());
    let s = t.spec.clone();
    let swatch = format!("background:{}", s.color);
    view! {
        <Title text=s.name.clone() />
        <p class="breadcrumb"><A href="/membership-types">"Membership types"</A> " › " {s.name.clone()}</p>
        <div class="page-head">
            <h1><span class="swatch large" style=swatch aria-hidden="true"></span>{s.name.clone()}</h1>
            <span class=format!("badge status-{}", t.status.as_str()) data-testid="type-status">{t.status.label()}</span>
        </div>
        {(!s.description.is_empty()).then(|| view! { <p class="lead">{s.description.clone()}</p> })}
        {may_edit.then(|| view! { <TypeActions t=t.clone() status /> })}
        <FormError message=status_error />
        <div class="sections">
            {view! { <Basics s=s.clone() memberships=t.memberships /> }.into_any()}
            {view! { <Prices t=t.clone() may_edit price /> }.into_any()}
            {view! { <Scope s=s.clone() location_names=t.location_names.clone() /> }.into_any()}
            {view! { <Benefits s=s.clone() /> }.into_any()}
            {view! { <Policies s=s.clone() renew_into=t.renew_into_name.clone() /> }.into_any()}
        </div>
    }
}

#[component]
fn TypeActions(t: MembershipTypeDetail, status: ServerAction<ChangeTypeStatus>) -> impl IntoView {
    let duplicate = ServerAction::<DuplicateMembershipType>::new();
    let delete = ServerAction::<DeleteMembershipType>::new();
    let delete_error = form_error(delete.value());
    let transitions: Vec<(TypeStatus, &'static str, &'static str)> = match t.status {
        TypeStatus::Draft => vec![
            (TypeStatus::Active, "Activate", "It goes on sale at once."),
            (TypeStatus::Retired, "Retire", "It will not be sold."),
        ],
        TypeStatus::Active => vec![(
            TypeStatus::Retired,
            "Retire",
            "New sales stop; existing memberships continue.",
        )],
        TypeStatus::Retired => vec![(TypeStatus::Active, "Reactivate", "It goes on sale again.")],
    };
    let id = t.id;
    view! {
        <div class="actions" role="group" aria-label="Actions">
            <A href=format!("/membership-types/{id}/edit") attr:class="button">"Edit"</A>
            <ActionForm action=duplicate attr:class="inline">
                <input type="hidden" name="id" value=id />
                <button type="submit">"Duplicate"</button>
            </ActionForm>
            {transitions.into_iter().map(|(to, verb, consequence)| view! {
                // A confirmation that needs no script: the button sits inside a disclosure.
                <details class="confirm">
                    <summary>{verb}</summary>
                    <ActionForm action=status>
                        <p>{consequence}</p>
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="status" value=to.as_str() />
                        <button type="submit" class="primary">{format!("Confirm: {}", verb.to_lowercase())}</button>
                    </ActionForm>
                </details>
            }).collect_view()}
            {(t.status == TypeStatus::Draft && t.memberships == 0).then(|| view! {
                <details class="confirm">
                    <summary>"Delete"</summary>
                    <ActionForm action=delete>
                        <p>"The draft is removed for good."</p>
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class="danger">"Confirm: delete"</button>
                    </ActionForm>
                </details>
            })}
        </div>
        <FormError message=delete_error />
    }
}

#[component]
fn Fact(label: &'static str, #[prop(into)] value: String) -> impl IntoView {
    view! { <dt>{label}</dt><dd>{value}</dd> }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[component]
fn Basics(s: TypeSpec, memberships: i64) -> impl IntoView {
    let term = match &s.term {
        Term::Ongoing => "ongoing (until cancelled)".to_string(),
        other => other.describe(),
    };
    view! {
        <section class="card" aria-labelledby="basics-heading">
            <h2 id="basics-heading">"Basics"</h2>
            <dl class="facts">
                <Fact label="Purchase type" value=s.purchase_type.label() />
                {s.billing_interval.map(|i| view! { <Fact label="Billing interval" value=i.label() /> })}
                <Fact label="Term" value=term />
                {(s.term != Term::Ongoing).then(|| view! { <Fact label="At the end" value=s.end_action.label() /> })}
                {s.punch_card_credits.map(|n| view! { <Fact label="Punch card" value=format!("{n} visits") /> })}
                <Fact label="Memberships" value=memberships.to_string() />
            </dl>
        </section>
    }
}

#[component]
fn Prices(
    t: MembershipTypeDetail,
    may_edit: bool,
    price: ServerAction<AddPriceVersion>,
) -> impl IntoView {
    let value = price.value();
    let fee_error = field_error(value, "fee");
    let init_error = field_error(value, "initiation_fee");
    let from_error = field_error(value, "effective_from");
    let current = t.current_price_id;
    let benefit = t.spec.purchase_type == PurchaseType::Benefit;
    view! {
        <section class="card" aria-labelledby="prices-heading">
            <h2 id="prices-heading">"Prices"</h2>
            <table class="data-table compact" data-testid="price-versions">
                <caption class="visually-hidden">"Price versions, oldest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"From"</th>
                        <th scope="col">"Fee"</th>
                        <th scope="col">"Initiation fee"</th>
                        <th scope="col">"Memberships"</th>
                    </tr>
                </thead>
                <tbody>
                    {t.prices.iter().map(|p| view! {
                        <tr class:current=p.id == current>
                            <th scope="row" data-label="From">
                                {p.effective_from.to_string()}
                                {(p.id == current).then(|| view! { " " <span class="badge">"current"</span> })}
                            </th>
                            <td data-label="Fee">{p.fee.to_string()}</td>
                            <td data-label="Initiation fee">{p.initiation_fee.to_string()}</td>
                            <td data-label="Memberships">{p.memberships}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="hint">"Memberships keep the price they were sold at until staff move them."</p>
            {(may_edit && !benefit).then(|| view! {
                <details class="add-price">
                    <summary>"Change the price from a date"</summary>
                    <ActionForm action=price>
                        <input type="hidden" name="id" value=t.id />
                        <Field id="price-fee" label="New fee" error=fee_error>
                            <input id="price-fee" name="fee" inputmode="decimal" required aria-describedby="price-fee-error" />
                        </Field>
                        <Field id="price-initiation" label="Initiation fee" hint="Leave empty for none." error=init_error>
                            <input id="price-initiation" name="initiation_fee" inputmode="decimal" aria-describedby="price-initiation-hint price-initiation-error" />
                        </Field>
                        <Field id="price-from" label="Effective from" error=from_error>
                            <input id="price-from" name="effective_from" type="date" required aria-describedby="price-from-error" />
                        </Field>
                        <button type="submit" class="primary">"Add price version"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}

#[component]
fn Scope(s: TypeSpec, location_names: Vec<String>) -> impl IntoView {
    let locations = if s.all_locations {
        "all locations".to_string()
    } else {
        location_names.join(", ")
    };
    let member_types = if s.member_types.is_empty() {
        "all member types".to_string()
    } else {
        s.member_types.join(", ")
    };
    let group = match &s.group {
        None => "no (one person)".to_string(),
        Some(g) if g.additional_member_fee.minor > 0 => {
            format!(
                "up to {} family members, {} each per period",
                g.max_family_members, g.additional_member_fee
            )
        }
        Some(g) => format!("up to {} family members, included", g.max_family_members),
    };
    view! {
        <section class="card" aria-labelledby="scope-heading">
            <h2 id="scope-heading">"Who and where"</h2>
            <dl class="facts">
                <Fact label="Locations" value=locations />
                <Fact label="Member types" value=member_types />
                <Fact label="Youth programme" value=yes_no(s.youth) />
                <Fact label="Group membership" value=group />
            </dl>
        </section>
    }
}

#[component]
fn Benefits(s: TypeSpec) -> impl IntoView {
    let b = s.benefits;
    let carry = match b.carry_over_cap {
        None => "all unused credits".to_string(),
        Some(0) => "none".to_string(),
        Some(n) => format!("up to {n}"),
    };
    let expiry = b
        .credit_expiry
        .map(|e| format!("after {} {}", e.after, e.unit.label()))
        .unwrap_or_else(|| "never".into());
    let services = if b.included_services.is_empty() {
        "none".to_string()
    } else {
        b.included_services
            .iter()
            .map(|x| format!("{} × {} per period", x.per_period, x.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <section class="card" aria-labelledby="benefits-heading">
            <h2 id="benefits-heading">"Benefits"</h2>
            <dl class="facts">
                <Fact label="Credits per period" value=b.credits_per_period.to_string() />
                {(b.credits_per_period > 0).then(|| view! {
                    <Fact label="Carry over" value=carry.clone() />
                    <Fact label="Credits expire" value=expiry.clone() />
                })}
                <Fact label="Included services" value=services />
                <Fact label="Member discount" value=format!("{}%", b.member_discount_percent) />
            </dl>
        </section>
    }
}

#[component]
fn Policies(s: TypeSpec, renew_into: Option<String>) -> impl IntoView {
    let p = s.policies;
    let pause = match &p.pause {
        None => "not allowed".to_string(),
        Some(pause) => {
            let mut parts = vec![format!(
                "{} to {} days",
                pause.min_days,
                pause
                    .max_days
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "any number of".into())
            )];
            if let Some(n) = pause.max_per_year {
                parts.push(format!("at most {n} a year"));
            }
            parts.push(if pause.fee_per_period.minor > 0 {
                format!("{} per period while paused", pause.fee_per_period)
            } else {
                "free".into()
            });
            if pause.extends_commitment {
                parts.push("the commitment end moves by the pause".into());
            }
            parts.push(if pause.portal_allowed {
                "members may pause in the portal".into()
            } else {
                "staff only".into()
            });
            parts.join("; ")
        }
    };
    let cancellation = format!(
        "{}; {}",
        p.cancellation.timing.label(),
        if p.cancellation.portal_allowed {
            "members may cancel in the portal"
        } else {
            "staff only"
        }
    );
    let commitment = if p.min_commitment_periods > 0 {
        format!("{} periods", p.min_commitment_periods)
    } else {
        "none".into()
    };
    let notice = if p.notice_days > 0 {
        format!("{} days before the next billing date", p.notice_days)
    } else {
        "none".into()
    };
    let account = if s.revenue_account.is_empty() {
        "—".to_string()
    } else {
        s.revenue_account.clone()
    };
    view! {
        <section class="card" aria-labelledby="policies-heading">
            <h2 id="policies-heading">"Policies"</h2>
            <dl class="facts">
                <Fact label="Pause" value=pause />
                <Fact label="Minimum commitment" value=commitment />
                <Fact label="Cancellation notice" value=notice />
                <Fact label="Cancellation" value=cancellation />
                <Fact label="Approval required" value=yes_no(p.approval_required) />
                <Fact label="One per member" value=yes_no(p.one_per_member) />
                {renew_into.map(|name| view! { <Fact label="Renews into" value=name /> })}
                <Fact label="Revenue account" value=account />
                <Fact label="Deferred revenue" value=yes_no(s.deferred_revenue) />
            </dl>
        </section>
    }
}
