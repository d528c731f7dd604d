//! Memberships: the filtered list, the sell page with its preview, and the
//! membership page with its status, upcoming charges, actions and timeline.
//!
//! Previews are GET forms: the page reads the form from its address and shows
//! what would happen (or why it is refused), with a confirm button that posts
//! exactly what was previewed. This works before hydration too.

use domain::lifecycle::Status;
use domain::lifecycle::policy::{CancelWhen, ChangeWhen};
use domain::lifecycle::sale::{DiscountKind, Payer, SellForm, Source};
use domain::memberships::{
    ActionForm as ActionFields, ActionKind, MembershipFilter, MembershipPage as Page,
    MembershipSummary, SaleSummary, SellOptions,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::memberships::{
    ActOnMembership, AddFamilyMember, RemoveFamilyMember, SellMembership, get_filter_choices,
    get_membership, get_sell_options, list_memberships, preview_membership_action, preview_sale,
};
use crate::components::form::{Area, Checks, Choice, ErrorNotice, FormError, FormErrors, Text};
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::pages::membership_type::id_param;

/// The value of `form[name]` in the address.
pub(crate) fn param(q: &ParamsMap, name: &str) -> String {
    q.get(&format!("form[{name}]")).unwrap_or_default()
}

/// What billing will write for a change, as the invoice will show it.
#[component]
fn BillingPreview(
    lines: Vec<domain::billing::charges::Line>,
    up_to: chrono::NaiveDate,
) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p data-testid="billing-preview">{format!("Billing: nothing changes up to {up_to}.")}</p> }.into_any();
    }
    let total: i64 = lines.iter().map(|l| l.amount.minor).sum();
    let currency = lines[0].amount.currency;
    view! {
        <table class="data-table lines" data-testid="billing-preview">
            <caption>{format!("Billing for this change, up to {up_to}")}</caption>
            <thead><tr><th scope="col">"Line"</th><th scope="col">"How"</th><th scope="col" class="num">"Amount"</th></tr></thead>
            <tbody>
                {lines.into_iter().map(|l| view! {
                    <tr>
                        <th scope="row" data-label="Line">{l.description.clone()}</th>
                        <td data-label="How">{l.explanation.clone()}</td>
                        <td data-label="Amount" class="num">{l.amount.to_string()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
            <tfoot><tr><th scope="row" colspan="2">"Total"</th>
                <td class="num" data-testid="billing-preview-total">{domain::Money::new(total, currency).to_string()}</td></tr></tfoot>
        </table>
    }
    .into_any()
}

/// A field's error from a failed preview.
pub(crate) fn error_of(error: &Option<AppError>, field: &'static str) -> Signal<Option<String>> {
    let message = error.as_ref().and_then(|e| e.field(field));
    Signal::derive(move || message.clone())
}

pub(crate) fn status_badge(status: Status) -> impl IntoView {
    view! { <span class=format!("badge ms-{}", status.as_str())>{status.label()}</span> }
}

// ---------------------------------------------------------------------------
// The list

#[component]
pub fn MembershipsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| MembershipFilter {
            status: param(q, "status"),
            type_id: param(q, "type_id"),
            location_id: param(q, "location_id"),
            active_from: param(q, "active_from"),
            active_to: param(q, "active_to"),
            ending_from: param(q, "ending_from"),
            ending_to: param(q, "ending_to"),
            ending_within: param(q, "ending_within"),
            page: param(q, "page"),
        })
    });
    let found = Resource::new(move || filter.get(), list_memberships);
    let choices = Resource::new(|| (), |_| get_filter_choices());
    view! {
        <Title text="Memberships" />
        <h1>"Memberships"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filter.get_untracked();
                let result = found.await;
                let error = result.as_ref().err().cloned();
                let (types, locations) = choices.await.unwrap_or_default();
                let err = move |field| error_of(&error, field);
                view! {
                    <Form method="GET" action="" attr:class="filters wide-filters" attr:role="search" attr:aria-label="Filter memberships">
                        <Choice name="status" label="Status" value=f.status.clone() error=err("status") empty="Any status"
                            choices=Status::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())).collect() />
                        <Choice name="type_id" label="Type" value=f.type_id.clone() error=err("type_id") empty="Any type"
                            choices=types.iter().map(|c| (c.value.clone(), c.label.clone())).collect() />
                        <Choice name="location_id" label="Location" value=f.location_id.clone() error=err("location_id") empty="Any location"
                            choices=locations.iter().map(|c| (c.value.clone(), c.label.clone())).collect() />
                        <Text name="active_from" label="Active from" kind="date" value=f.active_from.clone() error=err("active_from") />
                        <Text name="active_to" label="Active to" kind="date" value=f.active_to.clone() error=err("active_to") />
                        <Text name="ending_from" label="Ending from" kind="date" value=f.ending_from.clone() error=err("ending_from") />
                        <Text name="ending_to" label="Ending to" kind="date" value=f.ending_to.clone() error=err("ending_to") />
                        <Text name="ending_within" label="Ending within (days)" kind="number" value=f.ending_within.clone() error=err("ending_within") />
                        <button type="submit">"Filter"</button>
                    </Form>
                    {match result {
                        Ok(list) => {
                            let (page, pages, range_text) = (list.page, list.pages(), list.range_text());
                            view! {
                                <MembershipTable memberships=list.rows show_holder=true />
                                <Pager of="memberships" page pages range_text />
                            }.into_any()
                        }
                        Err(AppError::Invalid { .. }) => view! { <p>"Correct the filters above."</p> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// Memberships with their computed status and its reason.
#[component]
pub fn MembershipTable(memberships: Vec<MembershipSummary>, show_holder: bool) -> impl IntoView {
    if memberships.is_empty() {
        return view! { <p data-testid="no-memberships">"No memberships."</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="memberships">
            <caption class="visually-hidden">"Memberships"</caption>
            <thead>
                <tr>
                    <th scope="col">"Membership"</th>
                    {show_holder.then(|| view! { <th scope="col">"Held by"</th> })}
                    <th scope="col">"Status"</th>
                    <th scope="col">"Why"</th>
                </tr>
            </thead>
            <tbody>
                {memberships.into_iter().map(|m| view! {
                    <tr>
                        <th scope="row" data-label="Membership">
                            <span class="swatch" style=format!("background:{}", m.type_color) aria-hidden="true"></span>
                            <A href=format!("/memberships/{}", m.id)>{m.type_name.clone()}</A>
                            {m.locked.then(|| view! { " " <span class="badge">"Locked"</span> })}
                        </th>
                        {show_holder.then(|| view! {
                            <td data-label="Held by">
                                <A href=m.holder.href.clone()>{m.holder.name.clone()}</A>
                                {m.holder.member_number.map(|n| format!(" #{n}"))}
                            </td>
                        })}
                        <td data-label="Status">{status_badge(m.status.status)}</td>
                        <td data-label="Why">{m.status.explanation.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

// ---------------------------------------------------------------------------
// Selling

#[component]
pub fn SellToMemberPage() -> impl IntoView {
    view! { <SellPage holder="member" /> }
}

#[component]
pub fn SellToOrganizationPage() -> impl IntoView {
    view! { <SellPage holder="organization" /> }
}

fn sell_form_from(q: &ParamsMap, locations: usize) -> SellForm {
    SellForm {
        type_id: param(q, "type_id"),
        price_id: param(q, "price_id"),
        start: param(q, "start"),
        location_ids: (0..locations)
            .map(|i| param(q, &format!("location_ids][{i}")))
            .filter(|v| !v.is_empty())
            .collect(),
        payer: param(q, "payer"),
        discount_kind: param(q, "discount_kind"),
        discount_value: param(q, "discount_value"),
        discount_periods: param(q, "discount_periods"),
        discount_reason: param(q, "discount_reason"),
        source: param(q, "source"),
        notes: param(q, "notes"),
    }
}

#[component]
fn SellPage(holder: &'static str) -> impl IntoView {
    let id = id_param();
    let query = use_query_map();
    let options = Resource::new(
        move || id.get(),
        move |id| get_sell_options(holder.to_string(), id),
    );
    // The locations count only bounds the checkbox indices read from the address.
    let asked = Memo::new(move |_| query.with(|q| sell_form_from(q, 64)));
    let preview = Resource::new(
        move || (id.get(), asked.get()),
        move |(id, form)| async move {
            if form.type_id.is_empty() {
                None
            } else {
                Some(preview_sale(holder.to_string(), id, form).await)
            }
        },
    );
    let sell = ServerAction::<SellMembership>::new();
    view! {
        <Title text="Sell a membership" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let options = match options.await {
                    Ok(o) => o,
                    Err(error) => return view! { <h1>"Sell a membership"</h1><ErrorNotice error /> }.into_any(),
                };
                let previewed = preview.await;
                let form = asked.get_untracked();
                let holder_id = id.get_untracked();
                view! { <SellBody holder holder_id options form previewed sell /> }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn SellBody(
    holder: &'static str,
    holder_id: i64,
    options: SellOptions,
    form: SellForm,
    previewed: Option<Result<SaleSummary, AppError>>,
    sell: ServerAction<SellMembership>,
) -> impl IntoView {
    let error = previewed.as_ref().and_then(|r| r.as_ref().err().cloned());
    let general = error
        .clone()
        .filter(|e| !matches!(e, AppError::Invalid { .. }))
        .map(|e| e.to_string());
    let shown = if form.type_id.is_empty() {
        options.form.clone()
    } else {
        form.clone()
    };
    let holder_name = options.holder.name.clone();
    let payers: Vec<(String, String)> = if options.organization.is_some() && holder == "member" {
        Payer::ALL
            .iter()
            .map(|p| (p.as_str().to_string(), p.label().to_string()))
            .collect()
    } else {
        Vec::new()
    };
    let err = move |field| error_of(&error, field);
    view! {
        <p class="breadcrumb"><A href=options.holder.href.clone()>{options.holder.name.clone()}</A> " › Sell a membership"</p>
        <h1>"Sell a membership to " {holder_name}</h1>
        // The preview (with its Confirm button by the total) comes first, so
        // what is confirmed is on screen with the button.
        {match previewed {
            Some(Ok(summary)) => view! { <SalePreviewCard holder holder_id form=form.clone() summary sell /> }.into_any(),
            _ => ().into_any(),
        }}
        <Form method="GET" action="" attr:class="type-editor" attr:aria-label="Sale">
            <FormError message=Signal::derive(move || general.clone()) />
            <fieldset>
                <legend>"Membership"</legend>
                <Choice name="type_id" label="Membership type" value=shown.type_id.clone() error=err("type_id") empty="Choose a type…"
                    choices=options.types.iter().map(|c| (c.value.clone(), c.label.clone())).collect() />
                {if shown.type_id.is_empty() {
                    view! { <p class="hint" data-testid="prices-after-type">"Its price versions are offered once a type is chosen and previewed."</p> }.into_any()
                } else {
                    view! {
                        <Choice name="price_id" label="Price version" value=shown.price_id.clone() error=err("price_id")
                            empty="The price in effect on the start date"
                            choices=options.prices.iter().filter(|(t, _)| *t == shown.type_id).map(|(_, c)| (c.value.clone(), c.label.clone())).collect() />
                    }.into_any()
                }}
                <Text name="start" label="Start date" kind="date" value=shown.start.clone() error=err("start")
                    hint="Today or later. Recurring memberships bill on this day of each period." />
                <Checks name="location_ids" legend="Applies at (none ticked: every location the type is offered at)"
                    checked=shown.location_ids.clone() error=err("location_ids")
                    choices=options.locations.iter().map(|c| (c.value.clone(), c.label.clone())).collect() />
                {(!payers.is_empty()).then(|| view! {
                    <Choice name="payer" label="Who pays" value=shown.payer.clone() error=err("payer") choices=payers.clone()
                        hint="The member's organization can pay, or the member personally." />
                })}
            </fieldset>
            <fieldset>
                <legend>"Discount"</legend>
                <Choice name="discount_kind" label="Discount" value=shown.discount_kind.clone() error=err("discount_kind")
                    choices=DiscountKind::ALL.iter().map(|k| (k.as_str().to_string(), k.label().to_string())).collect() />
                <Text name="discount_value" label=format!("Percent or amount ({})", options.currency) kind="decimal"
                    value=shown.discount_value.clone() error=err("discount_value") />
                <Text name="discount_periods" label="For how many periods" kind="number" value=shown.discount_periods.clone()
                    error=err("discount_periods") hint="Empty: forever. A one-off amount applies to the first invoice only." />
                <Text name="discount_reason" label="Reason for a one-off amount" value=shown.discount_reason.clone() error=err("discount_reason") />
            </fieldset>
            <fieldset>
                <legend>"Sale"</legend>
                <Choice name="source" label="Source" value=shown.source.clone() error=err("source")
                    choices=Source::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())).collect() />
                <Area name="notes" label="Notes" value=shown.notes.clone() error=err("notes") />
            </fieldset>
            <button type="submit">"Preview"</button>
        </Form>
    }
}

/// Hidden fields that post exactly what was previewed.
#[component]
fn HiddenSale(form: SellForm) -> impl IntoView {
    let hidden = |name: &str, value: String| view! { <input type="hidden" name=format!("form[{name}]") value=value /> };
    view! {
        {hidden("type_id", form.type_id)}
        {hidden("price_id", form.price_id)}
        {hidden("start", form.start)}
        {form.location_ids.into_iter().enumerate().map(|(i, v)| hidden(&format!("location_ids][{i}"), v)).collect_view()}
        {hidden("payer", form.payer)}
        {hidden("discount_kind", form.discount_kind)}
        {hidden("discount_value", form.discount_value)}
        {hidden("discount_periods", form.discount_periods)}
        {hidden("discount_reason", form.discount_reason)}
        {hidden("source", form.source)}
        {hidden("notes", form.notes)}
    }
}

#[component]
fn SalePreviewCard(
    holder: &'static str,
    holder_id: i64,
    form: SellForm,
    summary: SaleSummary,
    sell: ServerAction<SellMembership>,
) -> impl IntoView {
    let p = summary.preview;
    let errors = FormErrors::of(sell.value());
    let date =
        |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
    view! {
        <section class="card preview" aria-labelledby="preview-heading" data-testid="sale-preview">
            <h2 id="preview-heading">"Preview: " {summary.type_name.clone()}</h2>
            <p>{status_badge(p.status)} " " {p.explanation.clone()}</p>
            {if p.lines.is_empty() {
                view! { <p>"Nothing is billed for this membership."</p> }.into_any()
            } else {
                view! {
                    <table class="data-table lines">
                        <caption>"First invoice"</caption>
                        <thead><tr><th scope="col">"Line"</th><th scope="col">"How"</th><th scope="col" class="num">"Amount"</th></tr></thead>
                        <tbody>
                            {p.lines.iter().map(|l| view! {
                                <tr>
                                    <th scope="row" data-label="Line">{l.description.clone()}</th>
                                    <td data-label="How">{l.explanation.clone()}</td>
                                    <td data-label="Amount" class="num">{l.amount.to_string()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                        <tfoot><tr><th scope="row" colspan="2">"Total"</th><td class="num" data-testid="preview-total">{p.total.to_string()}</td></tr></tfoot>
                    </table>
                }.into_any()
            }}
            <leptos::form::ActionForm action=sell>
                <input type="hidden" name="holder" value=holder />
                <input type="hidden" name="id" value=holder_id />
                <HiddenSale form />
                <FormError message=errors.general() />
                <FormError message=errors.summary() />
                <button type="submit" class="primary" disabled=move || sell.pending().get()>"Confirm sale"</button>
                " " <span class="hint">"or change the form below and preview again"</span>
            </leptos::form::ActionForm>
            <dl class="facts">
                <dt>"First billing"</dt><dd data-testid="first-billing">{date(p.first_billing)}</dd>
                <dt>"Next billing"</dt><dd data-testid="next-billing">{date(p.next_billing)}</dd>
                <dt>"Last day of the commitment"</dt><dd>{date(p.commitment_last_day)}</dd>
                <dt>"Last day of the term"</dt><dd>{date(p.term_last_day)}</dd>
            </dl>
        </section>
    }
}

// ---------------------------------------------------------------------------
// The membership page

fn action_from(q: &ParamsMap) -> ActionFields {
    ActionFields {
        action: param(q, "action"),
        from: param(q, "from"),
        until: param(q, "until"),
        on: param(q, "on"),
        when: param(q, "when"),
        type_id: param(q, "type_id"),
        price_id: param(q, "price_id"),
        periods: param(q, "periods"),
        prorate: param(q, "prorate"),
        reason: param(q, "reason"),
        force: param(q, "force"),
        version: param(q, "version"),
    }
}

#[component]
pub fn MembershipPage() -> impl IntoView {
    let id = id_param();
    let query = use_query_map();
    let act = ServerAction::<ActOnMembership>::new();
    let add = ServerAction::<AddFamilyMember>::new();
    let remove = ServerAction::<RemoveFamilyMember>::new();
    let asked = Memo::new(move |_| query.with(action_from));
    let data = Resource::new(
        move || {
            (
                id.get(),
                act.version().get(),
                add.version().get(),
                remove.version().get(),
            )
        },
        |(id, ..)| get_membership(id),
    );
    let preview = Resource::new(
        move || (id.get(), asked.get(), act.version().get()),
        |(id, form, _)| async move {
            if form.action.is_empty() {
                None
            } else {
                Some(preview_membership_action(id, form).await)
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        // The preview has its own Suspense, so that asking for one
                        // does not rebuild (and close) the action forms.
                        let id = page.id;
                        let previewed = view! {
                            <Suspense>
                                {move || Suspend::new(async move {
                                    let form = asked.get_untracked();
                                    let kind = ActionKind::parse(&form.action);
                                    match preview.await {
                                        None => ().into_any(),
                                        Some(result) => view! { <ActionPreviewCard id form kind result act /> }.into_any(),
                                    }
                                })}
                            </Suspense>
                        };
                        view! { <MembershipBody page previewed=previewed.into_any() add remove /> }.into_any()
                    }
                    Err(error) => view! { <h1>"Membership"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <crate::pages::credits::CreditsSection id />
    }
}

#[component]
fn MembershipBody(
    page: Page,
    previewed: AnyView,
    add: ServerAction<AddFamilyMember>,
    remove: ServerAction<RemoveFamilyMember>,
) -> impl IntoView {
    let date =
        |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
    let title = format!("{} — {}", page.type_name, page.holder.name);
    let holder_name = page.holder.name.clone();
    view! {
        <Title text=title />
        <p class="breadcrumb">
            <A href="/memberships">"Memberships"</A> " › "
            <A href=page.holder.href.clone()>{holder_name}</A> " › " {page.type_name.clone()}
        </p>
        <div class="page-head">
            <h1>
                <span class="swatch" style=format!("background:{}", page.type_color) aria-hidden="true"></span>
                {page.type_name.clone()} " " <span class="muted">"for " {page.holder.name.clone()}</span>
            </h1>
            {page.locked.then(|| view! { <span class="badge" data-testid="locked">"Locked"</span> })}
        </div>
        <p class="status-line" data-testid="membership-status">
            {status_badge(page.status.status)} " " <span data-testid="status-why">{page.status.explanation.clone()}</span>
        </p>
        {previewed}
        <div class="sections">
            <section class="card" aria-labelledby="terms-heading">
                <h2 id="terms-heading">"Terms"</h2>
                <dl class="facts">
                    <dt>"Price"</dt><dd>{format!("{} {}", page.fee, page.interval)}</dd>
                    <dt>"Periods counted from"</dt><dd data-testid="anchor">{page.anchor.to_string()}</dd>
                    <dt>"Next billing"</dt><dd data-testid="next-billing">{date(page.next_billing)}</dd>
                    <dt>"Last day of the commitment"</dt><dd>{date(page.commitment_last_day)}</dd>
                    <dt>"Last day of the term"</dt><dd>{date(page.term_last_day)}</dd>
                    <dt>"Last day"</dt><dd data-testid="last-day">{date(page.last_day)}</dd>
                    <dt>"Paid by"</dt><dd>{page.payer.clone()}</dd>
                    <dt>"Discount"</dt><dd>{page.discount.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Applies at"</dt><dd>{if page.locations.is_empty() { "—".to_string() } else { page.locations.join(", ") }}</dd>
                    <dt>"Source"</dt><dd>{page.source.clone()}</dd>
                    <dt>"Notes"</dt><dd>{if page.notes.is_empty() { "—".to_string() } else { page.notes.clone() }}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="upcoming-heading">
                <h2 id="upcoming-heading">"Upcoming charges"</h2>
                {if page.upcoming.is_empty() {
                    view! { <p>"Nothing is due."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain-list" data-testid="upcoming">
                            {page.upcoming.iter().map(|u| view! {
                                <li>
                                    <strong>{u.date.to_string()}</strong> ": " {u.total.to_string()}
                                    <ul>
                                        {u.lines.iter().map(|l| view! { <li>{format!("{} — {} ({})", l.description, l.amount, l.explanation)}</li> }).collect_view()}
                                    </ul>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
        <section class="card" aria-labelledby="invoices-heading">
            <h2 id="invoices-heading">"Invoices"</h2>
            {if page.invoices.is_empty() {
                view! { <p>"No invoices yet."</p> }.into_any()
            } else {
                view! {
                    <table class="data-table" data-testid="invoices">
                        <caption class="visually-hidden">"Invoices"</caption>
                        <thead><tr>
                            <th scope="col">"Number"</th><th scope="col">"Date"</th>
                            <th scope="col">"Status"</th><th scope="col" class="num">"Total"</th>
                        </tr></thead>
                        <tbody>
                            {page.invoices.iter().map(|i| view! {
                                <tr>
                                    <th scope="row" data-label="Number"><A href=format!("/invoices/{}", i.id)>{format!("#{}", i.number)}</A></th>
                                    <td data-label="Date">{i.billing_date.to_string()}</td>
                                    <td data-label="Status">{i.state().label()}</td>
                                    <td data-label="Total" class="num">{i.total.to_string()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {page.family_max.map(|max| view! { <Family page=page.clone() max add remove /> })}
        {page.can_change.then(|| view! { <Actions page=page.clone() /> })}
        <section class="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <ol class="timeline" data-testid="timeline">
                {page.timeline.iter().map(|e| view! {
                    <li>
                        <strong>{e.what.clone()}</strong>
                        {e.forced.then(|| view! { " " <span class="badge warn">"policy overridden"</span> })}
                        <div class="muted">{format!("recorded {} by {}", e.recorded_at, e.by)}</div>
                        {(!e.reason.is_empty()).then(|| view! { <div>"Reason: " {e.reason.clone()}</div> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

/// The family members of a group membership, with add and remove.
#[component]
fn Family(
    page: Page,
    max: u32,
    add: ServerAction<AddFamilyMember>,
    remove: ServerAction<RemoveFamilyMember>,
) -> impl IntoView {
    let add_errors = FormErrors::of(add.value());
    let remove_errors = FormErrors::of(remove.value());
    let number_error = add_errors.field("member_number");
    let count = page.family.len();
    let (id, version, can_change) = (page.id, page.version, page.can_change);
    view! {
        <section class="card" aria-labelledby="family-heading" data-testid="family">
            <h2 id="family-heading">"Family members"</h2>
            <p class="hint">{format!("{count} of {max} besides the holder.")}</p>
            {if page.family.is_empty() {
                view! { <p>"No family members yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list">
                        {page.family.into_iter().map(|f| {
                            let label = format!("Remove {}", f.name);
                            view! {
                            <li>
                                <A href=format!("/members/{}", f.member_id)>{f.name}</A>
                                {format!(" #{} since {}", f.member_number, f.added_on)}
                                {can_change.then(|| view! {
                                    <leptos::form::ActionForm action=remove attr:class="inline">
                                        <input type="hidden" name="id" value=id />
                                        <input type="hidden" name="member_id" value=f.member_id />
                                        <input type="hidden" name="version" value=version />
                                        <button type="submit" class="link-button">{label}</button>
                                    </leptos::form::ActionForm>
                                })}
                            </li>
                        }}).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError message=remove_errors.general() />
            {can_change.then(|| view! {
                <leptos::form::ActionForm action=add attr:class="inline-form">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="version" value=version />
                    <div class="field" class:has-error=move || number_error.get().is_some()>
                        <label for="family-number">"Member number to add"</label>
                        <input id="family-number" name="member_number" type="text" inputmode="numeric" autocomplete="off"
                            aria-describedby="family-number-error" />
                        <p class="field-error" id="family-number-error" role="alert">{move || number_error.get()}</p>
                    </div>
                    <FormError message=add_errors.general() />
                    <button type="submit">"Add family member"</button>
                </leptos::form::ActionForm>
            })}
        </section>
    }
}

/// Which actions make sense for the membership as it is now.
fn offered(page: &Page) -> Vec<ActionKind> {
    use ActionKind::*;
    let s = page.status.status;
    let ended = matches!(s, Status::Cancelled | Status::Expired | Status::Rejected);
    let mut out = Vec::new();
    if page.locked {
        if page.can_manage {
            out.push(Unlock);
        }
        return out;
    }
    if s == Status::NotApproved && page.can_manage {
        out.extend([Approve, Reject]);
    }
    if !ended && s != Status::NotApproved && s != Status::Paused {
        out.push(Pause);
    }
    if s == Status::Paused {
        out.push(Resume);
    }
    if !ended && s != Status::Cancelling {
        out.push(Cancel);
    }
    if matches!(s, Status::Cancelling | Status::Cancelled | Status::Expired) {
        out.push(Reactivate);
    }
    if page.term_last_day.is_some() && !ended && s != Status::Cancelling {
        out.push(Renew);
    }
    if !ended && s != Status::NotApproved {
        if !page.other_types.is_empty() {
            out.push(ChangeType);
        }
        if page.price_versions.len() > 1 && page.can_manage {
            out.push(ChangePrice);
        }
    }
    if page.can_manage && !ended && page.next_billing.is_some() {
        out.push(FreePeriods);
    }
    if !ended && s != Status::NotApproved && page.next_billing.is_some() {
        out.push(ChangeBillingDate);
        if !page.cycle_types.is_empty() {
            out.push(SwitchCycle);
        }
    }
    if page.can_manage {
        out.push(Lock);
    }
    out
}

/// One labelled control of an action's form; ids carry the action's name so
/// that several forms on the page never share one.
fn action_input(
    kind: ActionKind,
    name: &'static str,
    label: &'static str,
    input_type: &'static str,
    value: String,
    hint: Option<&'static str>,
) -> impl IntoView {
    let id = format!("{}-{}", kind.as_str(), name.replace('_', "-"));
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input id=id name=format!("form[{name}]") type=input_type value=value autocomplete="off"
                aria-describedby=hint.map(|_| hint_id.clone()) />
        </div>
    }
}

fn action_select(
    kind: ActionKind,
    name: &'static str,
    label: &'static str,
    choices: Vec<(String, String)>,
    selected: &str,
) -> impl IntoView {
    let id = format!("{}-{}", kind.as_str(), name.replace('_', "-"));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=format!("form[{name}]")>
                {choices.into_iter().map(|(v, l)| {
                    let is = v == selected;
                    view! { <option value=v selected=is>{l}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn Actions(page: Page) -> impl IntoView {
    let today = page.today.to_string();
    let whens = |all: &[ChangeWhen]| {
        all.iter()
            .map(|w| (w.as_str().to_string(), w.label().to_string()))
            .collect::<Vec<_>>()
    };
    view! {
        <section class="card" aria-labelledby="actions-heading">
            <h2 id="actions-heading">"Actions"</h2>
            <p class="hint">"Each action shows its effect first; nothing changes until you confirm."</p>
            <div class="actions stacked" role="group" aria-label="Membership actions">
                {offered(&page).into_iter().map(|kind| {
                    if let (ActionKind::Pause, Some(why), false) = (kind, page.pause_refused.clone(), page.can_manage) {
                        return view! {
                            <div class="unavailable" data-testid="action-pause">
                                <button type="button" disabled aria-describedby="pause-refused">{kind.label()}</button>
                                <span class="hint" id="pause-refused">{format!("{why} Only a manager can override it.")}</span>
                            </div>
                        }.into_any();
                    }
                    let refused_note = (kind == ActionKind::Pause).then(|| page.pause_refused.clone()).flatten().map(|why| view! {
                        <p class="hint" data-testid="pause-refused">{format!("{why} Tick the override below to pause anyway.")}</p>
                    });
                    let fields = match kind {
                        ActionKind::Pause => view! {
                            {action_input(kind, "from", "Pause from", "date", today.clone(), None)}
                            {action_input(kind, "until", "Resume on (optional)", "date", String::new(),
                                Some("Empty: paused until someone resumes it."))}
                        }.into_any(),
                        ActionKind::Resume => action_input(kind, "on", "Resume on", "date", today.clone(), None).into_any(),
                        ActionKind::Reactivate => action_input(kind, "on", "Start again on (after the end)", "date", today.clone(),
                            Some("Before the end date, reactivating simply takes the cancellation back.")).into_any(),
                        ActionKind::Cancel => action_select(kind, "when", "Ends",
                            CancelWhen::ALL.iter().map(|w| (w.as_str().to_string(), w.label().to_string())).collect(),
                            CancelWhen::PeriodEnd.as_str()).into_any(),
                        ActionKind::ChangeType => view! {
                            {action_select(kind, "type_id", "New type",
                                page.other_types.iter().map(|c| (c.value.clone(), c.label.clone())).collect(), "")}
                            {action_select(kind, "when", "Takes effect", whens(ChangeWhen::ALL), ChangeWhen::NextPeriod.as_str())}
                        }.into_any(),
                        ActionKind::ChangePrice => view! {
                            {action_select(kind, "price_id", "Price version",
                                page.price_versions.iter().map(|c| (c.value.clone(), c.label.clone())).collect(), "")}
                            {action_select(kind, "when", "Takes effect", whens(ChangeWhen::ALL), ChangeWhen::NextPeriod.as_str())}
                        }.into_any(),
                        ActionKind::FreePeriods => action_input(kind, "periods", "Free periods", "number", "1".to_string(),
                            Some("From the next billing date; nothing is charged for them.")).into_any(),
                        ActionKind::ChangeBillingDate => view! {
                            {action_input(kind, "on", "New billing date", "date", String::new(),
                                Some("From this date the membership is billed on its day; at most one period away."))}
                            {action_select(kind, "prorate", "Bridging period",
                                vec![("yes".to_string(), "Prorated by its days".to_string()),
                                     ("no".to_string(), "Billed as one whole period".to_string())], "yes")}
                        }.into_any(),
                        ActionKind::SwitchCycle => view! {
                            {action_select(kind, "type_id", "New type and cycle",
                                page.cycle_types.iter().map(|c| (c.value.clone(), c.label.clone())).collect(), "")}
                            {action_input(kind, "on", "New cycle starts on", "date", today.clone(),
                                Some("The unused part of the current period is credited."))}
                        }.into_any(),
                        _ => ().into_any(),
                    };
                    view! {
                        <details class="confirm" data-testid=format!("action-{}", kind.as_str())>
                            <summary>{kind.label()}</summary>
                            <Form method="GET" action="" attr:aria-label=kind.label()>
                                {refused_note}
                                <input type="hidden" name="form[action]" value=kind.as_str() />
                                <input type="hidden" name="form[version]" value=page.version.to_string() />
                                {fields}
                                {action_input(kind, "reason", "Reason", "text", String::new(), None)}
                                {page.can_manage.then(|| view! {
                                    <div class="field checkbox">
                                        <input id=format!("{}-force", kind.as_str()) type="checkbox" name="form[force]" value="on" />
                                        <label for=format!("{}-force", kind.as_str())>"Override the type's policy (recorded with the reason)"</label>
                                    </div>
                                })}
                                <button type="submit">{format!("Preview: {}", kind.label().to_lowercase())}</button>
                            </Form>
                        </details>
                    }.into_any()
                }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn ActionPreviewCard(
    id: i64,
    form: ActionFields,
    kind: Option<ActionKind>,
    result: Result<domain::memberships::ActionPreview, AppError>,
    act: ServerAction<ActOnMembership>,
) -> impl IntoView {
    let label = kind.map(|k| k.label()).unwrap_or("Action");
    let errors = FormErrors::of(act.value());
    match result {
        Err(error) => view! {
            <section class="card refused" role="alert" data-testid="action-refused">
                <h2>{format!("{label}: not possible")}</h2>
                <p>{match &error {
                    AppError::Invalid { invalid } => invalid.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" "),
                    other => other.to_string(),
                }}</p>
                <p><A href=format!("/memberships/{id}")>"Back to the membership"</A></p>
            </section>
        }
        .into_any(),
        Ok(p) => {
            let hidden = |name: &'static str, value: String| view! { <input type="hidden" name=format!("form[{name}]") value=value /> };
            view! {
                <section class="card preview" aria-labelledby="action-preview-heading" data-testid="action-preview">
                    <h2 id="action-preview-heading">{format!("Preview: {}", label.to_lowercase())}</h2>
                    <p data-testid="action-effect">{p.effect.clone()}</p>
                    <p>"Afterwards: " {status_badge(p.status_after.status)} " " {p.status_after.explanation.clone()}</p>
                    {p.forced.then(|| view! { <p class="badge warn">"This overrides the type's policy; the reason is recorded."</p> })}
                    <BillingPreview lines=p.billing.clone() up_to=p.billing_up_to />
                    <leptos::form::ActionForm action=act>
                        <input type="hidden" name="id" value=id />
                        {hidden("action", form.action.clone())}
                        {hidden("from", form.from.clone())}
                        {hidden("until", form.until.clone())}
                        {hidden("on", form.on.clone())}
                        {hidden("when", form.when.clone())}
                        {hidden("type_id", form.type_id.clone())}
                        {hidden("price_id", form.price_id.clone())}
                        {hidden("periods", form.periods.clone())}
                        {hidden("prorate", form.prorate.clone())}
                        {hidden("reason", form.reason.clone())}
                        {hidden("force", form.force.clone())}
                        {hidden("version", form.version.clone())}
                        <FormError message=errors.general() />
                        <button type="submit" class="primary" disabled=move || act.pending().get()>{format!("Confirm: {}", label.to_lowercase())}</button>
                        " " <A href=format!("/memberships/{id}")>"Back without changes"</A>
                    </leptos::form::ActionForm>
                </section>
            }
            .into_any()
        }
    }
}
