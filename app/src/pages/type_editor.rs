//! The full membership type editor: every setting, in sections, for new and existing types.

use domain::catalog::{
    BillingInterval, CancelTiming, EndAction, ExpiryUnit, FormOptions, MembershipTypeForm,
    PurchaseType, TermKind, TypeStatus,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::catalog::{SaveMembershipType, get_membership_type, get_type_form_options};
use crate::components::form::{
    Area, Check, Checks, Choice, ErrorNotice, FormError, FormErrors, Text,
};
use crate::pages::membership_type::id_param;

#[component]
pub fn NewTypePage() -> impl IntoView {
    let options = Resource::new(|| (), |_| get_type_form_options());
    view! {
        <Title text="New membership type" />
        <p class="breadcrumb"><A href="/membership-types">"Membership types"</A> " › New"</p>
        <h1>"New membership type"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => {
                        let initial = MembershipTypeForm {
                            purchase_type: "recurring".into(),
                            billing_interval: "monthly".into(),
                            status: "draft".into(),
                            location_scope: "all".into(),
                            ..Default::default()
                        };
                        view! { <TypeEditor id=0 initial options /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn EditTypePage() -> impl IntoView {
    let id = id_param();
    // A resource per server function: on the server, a second call awaited in
    // the same future runs without the request's context.
    let detail = Resource::new(move || id.get(), get_membership_type);
    let form_options = Resource::new(|| (), |_| get_type_form_options());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (detail.await, form_options.await) {
                    (Ok(t), Ok(options)) => {
                        let name = t.spec.name.clone();
                        let title = format!("Edit {name}");
                        let form = t.to_form();
                        view! {
                        <Title text=title.clone() />
                        <p class="breadcrumb">
                            <A href="/membership-types">"Membership types"</A> " › "
                            <A href=format!("/membership-types/{}", t.id)>{name.clone()}</A> " › Edit"
                        </p>
                        <h1>{title}</h1>
                        <TypeEditor id=t.id initial=form options />
                    }.into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => view! { <h1>"Edit membership type"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TypeEditor(id: i64, initial: MembershipTypeForm, options: FormOptions) -> impl IntoView {
    let save = ServerAction::<SaveMembershipType>::new();
    let errors = FormErrors::of(save.value());
    let general = errors.general();
    let summary = errors.summary();
    let f = initial;
    let new = id == 0;
    let (purchase, set_purchase) = signal(f.purchase_type.clone());
    // Only once the page is interactive: without JavaScript the select must stay usable.
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    let not_recurring = Signal::derive(move || {
        interactive.get() && purchase.get() != PurchaseType::Recurring.as_str()
    });
    let currency = options.currency.code().to_string();
    let err = move |field: &'static str| errors.field(field);
    view! {
        <ActionForm action=save attr:class="type-editor">
            <input type="hidden" name="id" value=id />
            <FormError message=general />
            <FormError message=summary />
            <fieldset>
                <legend>"Basics"</legend>
                <Text name="name" label="Name" value=f.name.clone() error=err("name") />
                <Area name="description" label="Description" value=f.description.clone() error=err("description") hint="Shown on the public page." />
                <Text name="color" label="Badge colour" value=f.color.clone() error=err("color") hint="For example #1f5fbf." kind="color" />
                <Choice name="purchase_type" label="Purchase type" value=f.purchase_type.clone() error=err("purchase_type")
                    on_change=Callback::new(move |v: String| set_purchase.set(v))
                    choices=PurchaseType::ALL.iter().map(|p| (p.as_str().to_string(), p.label().to_string())).collect() />
                <Choice name="billing_interval" label="Billing interval" value=f.billing_interval.clone() error=err("billing_interval")
                    hint="Recurring types only." empty="— none —" disabled=not_recurring
                    choices=BillingInterval::ALL.iter().map(|i| (i.as_str().to_string(), i.label().to_string())).collect() />
                {new.then(|| view! {
                    <Choice name="status" label="Status" value=f.status.clone() error=err("status")
                        choices=[TypeStatus::Draft, TypeStatus::Active].iter().map(|s| (s.as_str().to_string(), s.label().to_string())).collect() />
                })}
            </fieldset>
            {new.then(|| view! {
                <fieldset>
                    <legend>"Pricing"</legend>
                    <Text name="fee" label=format!("Fee ({currency})") value=f.fee.clone() error=err("fee") hint="Per interval, or the prepaid price. 0 for a benefit." kind="decimal" />
                    <Text name="initiation_fee" label=format!("Initiation fee ({currency})") value=f.initiation_fee.clone() error=err("initiation_fee") hint="Charged once, at sale." kind="decimal" />
                </fieldset>
            })}
            <fieldset>
                <legend>"Term"</legend>
                <Choice name="term_kind" label="Term" value=f.term_kind.clone() error=err("term_kind")
                    choices=TermKind::ALL.iter().map(|k| (k.as_str().to_string(), k.label().to_string())).collect() />
                <div class="row">
                    <Text name="term_years" label="Years" value=f.term_years.clone() error=err("term_years") kind="number" />
                    <Text name="term_months" label="Months" value=f.term_months.clone() error=err("term_months") kind="number" />
                    <Text name="term_days" label="Days" value=f.term_days.clone() error=err("term_days") kind="number" />
                </div>
                <Area name="seasons" label="Fixed dates" value=f.seasons.clone() error=err("seasons") hint="One range a line: 2026-09-01 to 2027-05-31." />
                <Choice name="end_action" label="At the end of the term" value=f.end_action.clone() error=err("end_action")
                    choices=EndAction::ALL.iter().map(|a| (a.as_str().to_string(), a.label().to_string())).collect() />
                <Choice name="renew_into" label="Renews into" value=f.renew_into.clone() error=err("renew_into") empty="—"
                    hint="When it renews into another type."
                    choices=options.types.iter().filter(|(tid, _)| *tid != id).map(|(tid, name)| (tid.to_string(), name.clone())).collect() />
                <Text name="punch_card_credits" label="Punch card visits" value=f.punch_card_credits.clone() error=err("punch_card_credits") hint="Prepaid punch cards only." kind="number" />
            </fieldset>
            <fieldset>
                <legend>"Who and where"</legend>
                <Choice name="location_scope" label="Locations" value=f.location_scope.clone() error=err("location_scope")
                    choices=vec![("all".to_string(), "All locations".to_string()), ("selected".to_string(), "Selected locations".to_string())] />
                <Checks name="location_ids" legend="Selected locations" error=err("location_ids")
                    checked=f.location_ids.clone() choices=options.locations.iter().map(|(lid, n)| (lid.to_string(), n.clone())).collect() />
                <Checks name="member_types" legend="Member types (none ticked: all)" error=err("member_types")
                    checked=f.member_types.clone() choices=options.member_types.iter().map(|m| (m.clone(), m.clone())).collect() />
                <Check name="youth" label="Youth programme" checked=f.youth.clone() />
                <Check name="group" label="Group membership (family or team)" checked=f.group.clone() />
                <div class="row">
                    <Text name="max_family_members" label="Most family members" value=f.max_family_members.clone() error=err("max_family_members") kind="number" />
                    <Text name="additional_member_fee" label=format!("Fee per extra member ({currency})") value=f.additional_member_fee.clone() error=err("additional_member_fee") kind="decimal" />
                </div>
            </fieldset>
            <fieldset>
                <legend>"Benefits"</legend>
                <div class="row">
                    <Text name="credits_per_period" label="Credits per period" value=f.credits_per_period.clone() error=err("credits_per_period") kind="number" />
                    <Text name="carry_over_cap" label="Carry-over cap" value=f.carry_over_cap.clone() error=err("carry_over_cap") hint="Empty: none; \"all\": no cap." />
                </div>
                <div class="row">
                    <Text name="credit_expiry_after" label="Credits expire after" value=f.credit_expiry_after.clone() error=err("credit_expiry_after") kind="number" />
                    <Choice name="credit_expiry_unit" label="Unit" value=f.credit_expiry_unit.clone() error=err("credit_expiry_unit")
                        choices=ExpiryUnit::ALL.iter().map(|u| (u.as_str().to_string(), u.label().to_string())).collect() />
                </div>
                <Area name="included_services" label="Included services" value=f.included_services.clone() error=err("included_services") hint="One a line: Massage: 1 (how many per period)." />
                <Text name="member_discount_percent" label="Member discount (%)" value=f.member_discount_percent.clone() error=err("member_discount_percent") kind="decimal" />
            </fieldset>
            <fieldset>
                <legend>"Policies"</legend>
                <Check name="pause_allowed" label="Pausing allowed" checked=f.pause_allowed.clone() />
                <div class="row">
                    <Text name="pause_max_per_year" label="Pauses a year (most)" value=f.pause_max_per_year.clone() error=err("pause_max_per_year") kind="number" />
                    <Text name="pause_min_days" label="Shortest pause (days)" value=f.pause_min_days.clone() error=err("pause_min_days") kind="number" />
                    <Text name="pause_max_days" label="Longest pause (days)" value=f.pause_max_days.clone() error=err("pause_max_days") kind="number" />
                </div>
                <Text name="pause_fee" label=format!("Pause fee per period ({currency})") value=f.pause_fee.clone() error=err("pause_fee") kind="decimal" />
                <Check name="pause_extends_commitment" label="A pause moves the commitment end" checked=f.pause_extends_commitment.clone() />
                <Check name="pause_portal" label="Members may pause in the portal" checked=f.pause_portal.clone() />
                <div class="row">
                    <Text name="min_commitment_periods" label="Minimum commitment (periods)" value=f.min_commitment_periods.clone() error=err("min_commitment_periods") kind="number" />
                    <Text name="notice_days" label="Cancellation notice (days)" value=f.notice_days.clone() error=err("notice_days") kind="number" />
                </div>
                <Choice name="cancel_timing" label="A cancellation takes effect" value=f.cancel_timing.clone() error=err("cancel_timing")
                    choices=CancelTiming::ALL.iter().map(|c| (c.as_str().to_string(), c.label().to_string())).collect() />
                <Check name="cancel_portal" label="Members may cancel in the portal" checked=f.cancel_portal.clone() />
                <Check name="approval_required" label="New memberships need staff approval" checked=f.approval_required.clone() />
                <Check name="one_per_member" label="One active membership of this type per member" checked=f.one_per_member.clone() />
            </fieldset>
            <fieldset>
                <legend>"Accounting"</legend>
                <Text name="revenue_account" label="Revenue account" value=f.revenue_account.clone() error=err("revenue_account") />
                <Check name="deferred_revenue" label="Defer revenue over the period" checked=f.deferred_revenue.clone() />
            </fieldset>
            <button type="submit" class="primary" disabled=move || save.pending().get()>
                {if new { "Create type" } else { "Save changes" }}
            </button>
        </ActionForm>
    }
}
