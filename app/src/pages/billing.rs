//! Billing at a glance: memberships in dunning, the business's billing
//! settings, and the mail outbox. Also the billing section of member and
//! organization pages (card on file, credit, unpaid invoices).

use domain::business::BillingSettingsForm;
use domain::invoices::{BillingRunView, DunningRow, RevenueFilter};
use domain::payments::SandboxBehaviour;
use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::api::invoices::{
    AddCard, ChargeCard, RetryAllCards, SaveBillingSettings, StartBillingRun, get_account_billing,
    get_billing_runs, get_billing_settings, get_dunning, get_outbox, get_revenue_report,
};
use crate::components::form::{Check, ErrorNotice, FormError, FormErrors, Text, successes};
use crate::components::layout::use_staff;
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::pages::invoices::invoice_badge;
use crate::pages::memberships::status_badge;
use crate::pages::memberships::{error_of, param};

#[component]
pub fn BillingPage() -> impl IntoView {
    let save = ServerAction::<SaveBillingSettings>::new();
    let charge = ServerAction::<ChargeCard>::new();
    let retry = ServerAction::<RetryAllCards>::new();
    let charged = successes!(charge);
    let retried = successes!(retry);
    let dunning = Resource::new(move || (charged.get(), retried.get()), |_| get_dunning());
    let saved = successes!(save);
    let settings = Resource::new(move || saved.get(), |_| get_billing_settings());
    let query = use_query_map();
    let outbox_page = Memo::new(move |_| query.with(|q| q.get("outbox_page").unwrap_or_default()));
    let outbox = Resource::new(move || outbox_page.get(), get_outbox);
    let staff = use_staff();
    view! {
        <Title text="Billing" />
        <h1>"Billing"</h1>
        <p><A href="/billing/runs">"Billing runs"</A>" — the daily runs, their progress, and a run started by hand. "
            <A href="/billing/revenue">"Deferred revenue"</A>" — billed, earned and deferred per month and revenue account."</p>
        <section class="card wide" aria-labelledby="dunning-heading">
            <h2 id="dunning-heading">"Past due and suspended"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let manager = staff.await.map(|s| s.role.allows(Role::Manager)).unwrap_or(false);
                    match dunning.await {
                        Ok(rows) => view! { <DunningTable rows manager charge retry /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Collection settings"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let owner = staff.await.map(|s| s.role.allows(Role::Owner)).unwrap_or(false);
                    match settings.await {
                        Ok(form) => view! { <SettingsForm form owner save /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card wide outbox" aria-labelledby="outbox-heading">
            <h2 id="outbox-heading">"Mail outbox"</h2>
            <p class="hint">"Receipts, invoices, payment reminders and sign-in codes, newest first. With an SMTP server set (TESSERA_SMTP_URL) they are sent from here; each shows whether it went out."</p>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match outbox.await {
                        Ok(messages) if messages.total == 0 => view! { <p>"No messages."</p> }.into_any(),
                        Ok(messages) => {
                            let (page, pages, range_text) = (messages.page, messages.pages(), messages.range_text());
                            view! {
                            <ul class="timeline" data-testid="outbox">
                                {messages.rows.into_iter().map(|m| view! {
                                    <li>
                                        <details>
                                            <summary>{format!("{} · {} · to {}", m.created, m.subject,
                                                if m.to.is_empty() { "(no email address on file)".to_string() } else { m.to.clone() })}</summary>
                                            <p class="hint">{format!("Delivery: {}", m.delivery)}</p>
                                            <pre>{m.body.clone()}</pre>
                                            {m.invoice_id.map(|id| view! { <A href=format!("/invoices/{id}")>"The invoice"</A> })}
                                        </details>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <Pager of="messages" page pages range_text param="outbox_page" />
                        }.into_any()
                        }
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The last billing runs; while one runs, the page asks for its progress
/// every second (in the browser) and shows it as a progress bar.
#[component]
pub fn BillingRunsPage() -> impl IntoView {
    let start = ServerAction::<StartBillingRun>::new();
    let started = successes!(start);
    let tick = RwSignal::new(0u32);
    let query = use_query_map();
    let wanted = Memo::new(move |_| query.with(|q| param(q, "page")));
    let runs = Resource::new(
        move || (started.get(), tick.get(), wanted.get()),
        |(_, _, page)| get_billing_runs(page),
    );
    // Poll while a run is in progress: only in the browser, stopped on leaving.
    Effect::new(move |_| {
        let running = runs
            .get()
            .and_then(|r| r.ok())
            .is_some_and(|r| r.runs.rows.iter().any(|run| run.running()));
        if running
            && let Ok(handle) = set_timeout_with_handle(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_secs(1),
            )
        {
            on_cleanup(move || handle.clear());
        }
    });
    let errors = FormErrors::of(start.value());
    view! {
        <Title text="Billing runs" />
        <h1>"Billing runs"</h1>
        <p class="hint">"The scheduler bills every membership that is due each day. A run writes what is missing up to its date, so running it again writes nothing twice."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match runs.await {
                    Ok(page) => {
                        let busy = page.runs.rows.iter().any(|r| r.running());
                        let (number, pages, range_text) = (page.runs.page, page.runs.pages(), page.runs.range_text());
                        view! {
                            {page.can_start.then(|| view! {
                                <section class="card" aria-labelledby="start-heading">
                                    <h2 id="start-heading">"Run billing now"</h2>
                                    <ActionForm action=start>
                                        <p>{format!("Bills every membership up to {}.", page.today)}</p>
                                        <FormError message=errors.general() />
                                        <button type="submit" class="primary" disabled=busy>"Start a billing run"</button>
                                    </ActionForm>
                                </section>
                            })}
                            <section class="card wide" aria-labelledby="runs-heading">
                                <h2 id="runs-heading">"Last runs"</h2>
                                <RunsTable runs=page.runs.rows />
                                <Pager of="billing runs" page=number pages range_text />
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Billed, recognised and deferred revenue per month and revenue account.
#[component]
pub fn RevenuePage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| RevenueFilter {
            from: param(q, "from"),
            to: param(q, "to"),
        })
    });
    let report = Resource::new(move || filter.get(), get_revenue_report);
    view! {
        <Title text="Deferred revenue" />
        <h1>"Deferred revenue"</h1>
        <p class="hint">"Types marked deferred earn their lines day by day over the days each line covers; other lines are earned on their billing date. Deferred is what was billed by the month's end and not yet earned."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filter.get_untracked();
                let result = report.await;
                let error = result.as_ref().err().cloned();
                let err = move |field| error_of(&error, field);
                view! {
                    <Form method="GET" action="" attr:class="filters" attr:role="search" attr:aria-label="Months to report">
                        <Text name="from" label="From month (YYYY-MM)" value=f.from.clone() error=err("from") />
                        <Text name="to" label="To month (YYYY-MM)" value=f.to.clone() error=err("to") />
                        <button type="submit">"Show"</button>
                    </Form>
                    {match result {
                        Ok(r) if r.rows.is_empty() => view! { <p>{format!("Nothing billed or deferred from {} to {}.", r.from, r.to)}</p> }.into_any(),
                        Ok(r) => view! {
                            <table class="data-table" data-testid="revenue">
                                <caption>{format!("{} to {}", r.from, r.to)}</caption>
                                <thead><tr>
                                    <th scope="col">"Month"</th><th scope="col">"Revenue account"</th>
                                    <th scope="col" class="num">"Billed"</th><th scope="col" class="num">"Recognised"</th>
                                    <th scope="col" class="num">"Deferred at month end"</th>
                                </tr></thead>
                                <tbody>
                                    {r.rows.into_iter().map(|row| view! {
                                        <tr>
                                            <th scope="row" data-label="Month">{row.month.to_string()}</th>
                                            <td data-label="Revenue account">{if row.account.is_empty() { "(none)".to_string() } else { row.account.clone() }}</td>
                                            <td data-label="Billed" class="num">{row.billed.to_string()}</td>
                                            <td data-label="Recognised" class="num">{row.recognised.to_string()}</td>
                                            <td data-label="Deferred at month end" class="num">{row.deferred.to_string()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(AppError::Invalid { .. }) => view! { <p>"Correct the months above."</p> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn RunsTable(runs: Vec<BillingRunView>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p>"No runs yet."</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="billing-runs">
            <caption class="visually-hidden">"Billing runs, newest first"</caption>
            <thead><tr>
                <th scope="col">"Billed up to"</th><th scope="col">"Started"</th><th scope="col">"By"</th>
                <th scope="col">"Progress"</th><th scope="col" class="num">"Invoices"</th><th scope="col" class="num">"Failed"</th>
            </tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let label = format!("Run {}: {} of {} memberships", r.id, r.done, r.total);
                    let state = if r.interrupted {
                        "stopped before the end".to_string()
                    } else {
                        match &r.finished_at {
                            Some(at) => format!("finished {at}"),
                            None => format!("{}% …", r.percent()),
                        }
                    };
                    view! {
                        <tr data-testid="billing-run">
                            <th scope="row" data-label="Billed up to">{r.run_date.to_string()}</th>
                            <td data-label="Started">{r.started_at.clone()}</td>
                            <td data-label="By">{r.started_by.clone()}</td>
                            <td data-label="Progress">
                                <progress max=r.total.max(1) value=r.done aria-label=label></progress>
                                " " <span data-testid="run-state">{format!("{} of {} · {state}", r.done, r.total)}</span>
                            </td>
                            <td data-label="Invoices" class="num">{r.invoices}</td>
                            <td data-label="Failed" class="num">{r.failed}
                                {(!r.failures.is_empty()).then(|| view! {
                                    <details>
                                        <summary>"Which"</summary>
                                        <ul>
                                            {r.failures.iter().map(|(id, why)| view! {
                                                <li><A href=format!("/memberships/{id}")>{format!("Membership {id}")}</A>{format!(": {why}")}</li>
                                            }).collect_view()}
                                        </ul>
                                    </details>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn DunningTable(
    rows: Vec<DunningRow>,
    manager: bool,
    charge: ServerAction<ChargeCard>,
    retry: ServerAction<RetryAllCards>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p data-testid="no-dunning">"Nothing is overdue."</p> }.into_any();
    }
    let retry_key = rows
        .first()
        .map(|r| r.charge_key.clone())
        .unwrap_or_default();
    let with_cards = rows.iter().filter(|r| r.has_card).count();
    view! {
        {move || charge.value().get().map(|r| match r {
            Ok(_) => view! { <p role="status" data-testid="dunning-charged">"Charged: the invoice is paid."</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        {move || retry.value().get().map(|r| match r {
            Ok(r) => view! { <p role="status" data-testid="dunning-retried">{format!("{} charged, {} declined.", r.charged, r.declined)}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        {(manager && with_cards > 0).then(|| view! {
            <ActionForm action=retry attr:class="inline">
                <input type="hidden" name="key" value=retry_key />
                <button type="submit">{format!("Retry all cards ({with_cards})")}</button>
            </ActionForm>
        })}
        <table class="data-table" data-testid="dunning">
            <caption class="visually-hidden">"Memberships past due or suspended"</caption>
            <thead><tr>
                <th scope="col">"Member"</th><th scope="col">"Membership"</th><th scope="col">"Status"</th>
                <th scope="col">"Since"</th><th scope="col">"Oldest invoice"</th><th scope="col" class="num">"Due"</th>
                <th scope="col">"Card retries"</th><th scope="col">"Charge"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>
                        <th scope="row" data-label="Member"><A href=r.holder.href.clone()>{r.holder.name.clone()}</A></th>
                        <td data-label="Membership"><A href=format!("/memberships/{}", r.membership_id)>{r.membership_name.clone()}</A></td>
                        <td data-label="Status">{status_badge(r.status)}</td>
                        <td data-label="Since">{r.since.to_string()}</td>
                        <td data-label="Oldest invoice"><A href=format!("/invoices/{}", r.oldest_invoice_id)>{format!("#{}", r.oldest_invoice_number)}</A></td>
                        <td data-label="Due" class="num">{r.due.to_string()}</td>
                        <td data-label="Card retries">{format!("{} tried", r.attempts)}
                            {r.next_attempt_on.map(|d| format!("; next {d}"))}</td>
                        <td data-label="Charge">{if r.has_card {
                            view! {
                                <ActionForm action=charge attr:class="inline">
                                    <input type="hidden" name="id" value=r.oldest_invoice_id />
                                    <input type="hidden" name="key" value=r.charge_key.clone() />
                                    <button type="submit">{format!("Charge #{}", r.oldest_invoice_number)}</button>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! { <span class="muted">"no card on file"</span> }.into_any()
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn SettingsForm(
    form: BillingSettingsForm,
    owner: bool,
    save: ServerAction<SaveBillingSettings>,
) -> impl IntoView {
    if !owner {
        return view! {
            <dl class="facts">
                <dt>"Payment terms"</dt><dd>{format!("{} days after billing", form.terms_days)}</dd>
                <dt>"Card retries"</dt><dd>{format!("{} days after the due date", form.retry_days)}</dd>
                <dt>"Past due"</dt><dd>{format!("{} days after the due date", form.past_due_after)}</dd>
                <dt>"Suspended"</dt><dd>{format!("{} days after the due date", form.suspend_after)}</dd>
                <dt>"Cancelling at once"</dt><dd>{if form.credit_unused_on_cancel == "on" { "credits the unused days" } else { "credits nothing" }}</dd>
                <dt>"Front desk takes away"</dt><dd>{format!("at most {} credits at once", form.credit_adjust_limit)}</dd>
                <dt>"Payments above what is due"</dt><dd>{format!("at most {} more, kept as account credit", form.overpayment_limit)}</dd>
            </dl>
        }
        .into_any();
    }
    let errors = FormErrors::of(save.value());
    let saved = save.value();
    view! {
        <ActionForm action=save>
            <Text name="terms_days" label="Payment terms (days after billing)" value=form.terms_days.clone()
                error=errors.field("terms_days") kind="number" />
            <Text name="retry_days" label="Retry a failed card (days after the due date)" value=form.retry_days.clone()
                error=errors.field("retry_days") hint="For example 1, 3, 7" />
            <Text name="past_due_after" label="Past due after (days)" value=form.past_due_after.clone()
                error=errors.field("past_due_after") kind="number" />
            <Text name="suspend_after" label="Suspended after (days): no access or bookings" value=form.suspend_after.clone()
                error=errors.field("suspend_after") kind="number" />
            <Check name="credit_unused_on_cancel" label="Cancelling at once credits the unused days" checked=form.credit_unused_on_cancel.clone() />
            <Text name="credit_adjust_limit" label="Front desk may take away at most (credits at once)" value=form.credit_adjust_limit.clone()
                error=errors.field("credit_adjust_limit") kind="number" hint="Larger negative adjustments need a manager" />
            <Text name="overpayment_limit" label="A payment may bring at most this much more than is due" value=form.overpayment_limit.clone()
                error=errors.field("overpayment_limit") kind="number" hint="Whole amount in the business's currency; the extra is kept as account credit" />
            <FormError message=errors.general() />
            <p role="status">{move || matches!(saved.get(), Some(Ok(()))).then_some("Saved.")}</p>
            <button type="submit" class="primary">"Save settings"</button>
        </ActionForm>
    }
    .into_any()
}

/// The billing section of a member's (`kind` "member") or an organization's
/// page. It sits beside the page's own Suspense, with a resource of its own
/// made when the page is (not inside the other's rendering), so the server's
/// HTML and the hydrated page agree.
#[component]
pub fn AccountBillingSection(kind: &'static str, id: Memo<i64>) -> impl IntoView {
    let add = ServerAction::<AddCard>::new();
    let added = successes!(add);
    let billing = Resource::new(
        move || (id.get(), added.get()),
        move |(id, _)| get_account_billing(kind.to_string(), id),
    );
    let errors = FormErrors::of(add.value());
    view! {
        <section class="card" aria-labelledby="billing-heading">
            <h2 id="billing-heading">"Billing"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match billing.await {
                        Ok(b) => view! {
                            <dl class="facts">
                                <dt>"Card on file"</dt><dd data-testid="card-on-file">{b.card.clone().unwrap_or_else(|| "none".into())}</dd>
                                <dt>"Account credit"</dt><dd data-testid="account-credit">{b.credit.to_string()}</dd>
                            </dl>
                            {(!b.unpaid.is_empty()).then(|| view! {
                                <h3>"Unpaid invoices"</h3>
                                <ul>
                                    {b.unpaid.iter().map(|s| view! {
                                        <li><A href=format!("/invoices/{}", s.id)>{format!("#{}", s.number)}</A>
                                            {format!(" · due {} · {} to pay ", s.due_date, s.amount_due())}{invoice_badge(s.state())}</li>
                                    }).collect_view()}
                                </ul>
                            })}
                            {b.can_take_payments.then(|| view! {
                                <details class="confirm">
                                    <summary>{if b.card.is_some() { "Replace the card" } else { "Add a card" }}</summary>
                                    <ActionForm action=add>
                                        <input type="hidden" name="kind" value=kind />
                                        <input type="hidden" name="id" value=id.get_untracked() />
                                        <Text name="number" label="Card number" value=String::new() error=errors.field("number") kind="number" />
                                        <Text name="expiry" label="Expiry (MM/YY)" value=String::new() error=errors.field("expiry") />
                                        <p class="hint">"Sandbox test cards: "
                                            {SandboxBehaviour::TEST_CARDS.iter().map(|(n, b)| format!("{n} ({})", match b {
                                                SandboxBehaviour::Succeeds => "succeeds",
                                                SandboxBehaviour::Declines => "declined",
                                                SandboxBehaviour::InsufficientFunds => "insufficient funds",
                                                SandboxBehaviour::FailsTemporarily => "fails, then retried",
                                            })).collect::<Vec<_>>().join(", ")}</p>
                                        <FormError message=errors.general() />
                                        <button type="submit" class="primary">"Keep this card on file"</button>
                                    </ActionForm>
                                </details>
                            })}
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
