//! Invoices: the list with its filters, and the invoice page with every line,
//! how its amount was reached, the payments and refunds, and the money actions.
//! Prints cleanly.

use domain::Money;
use domain::invoices::{
    InvoiceFilter, InvoiceListRow, InvoiceState, InvoiceStatus, InvoiceView, PaymentView,
};
use domain::payments::Method;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::api::invoices::{
    ChargeCard, CloseInvoice, CreditInvoice, RecordPayment, RefundPayment, ResendInvoice,
    get_invoice, list_invoices,
};
use crate::components::form::{Choice, ErrorNotice, FormError, FormErrors, Text, successes};
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::pages::membership_type::id_param;
use crate::pages::memberships::{error_of, param};

/// Where an invoice stands ("Open", "Paid", "Refunded", "Credit note", ...).
pub(crate) fn invoice_badge(state: InvoiceState) -> impl IntoView {
    view! { <span class=format!("badge inv-{}", state.as_str()) data-testid="invoice-status">{state.label()}</span> }
}

// ---------------------------------------------------------------------------
// The list

#[component]
pub fn InvoicesPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| InvoiceFilter {
            status: param(q, "status"),
            from: param(q, "from"),
            to: param(q, "to"),
            who: param(q, "who"),
            page: param(q, "page"),
        })
    });
    let found = Resource::new(move || filter.get(), list_invoices);
    view! {
        <Title text="Invoices" />
        <h1>"Invoices"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filter.get_untracked();
                let result = found.await;
                let error = result.as_ref().err().cloned();
                let err = move |field| error_of(&error, field);
                view! {
                    <Form method="GET" action="" attr:class="filters wide-filters" attr:role="search" attr:aria-label="Filter invoices">
                        <Choice name="status" label="Status" value=f.status.clone() error=err("status") empty="Any status"
                            choices=InvoiceFilter::status_choices() />
                        <Text name="from" label="Billed from" kind="date" value=f.from.clone() error=err("from") />
                        <Text name="to" label="Billed to" kind="date" value=f.to.clone() error=err("to") />
                        <Text name="who" label="Member or organization" value=f.who.clone() error=err("who")
                            hint="A name or a member number" />
                        <button type="submit">"Filter"</button>
                    </Form>
                    {match result {
                        Ok(list) => {
                            let (page, pages, range_text) = (list.page, list.pages(), list.range_text());
                            view! {
                                <InvoiceTable invoices=list.rows />
                                <Pager of="invoices" page pages range_text />
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

#[component]
fn InvoiceTable(invoices: Vec<InvoiceListRow>) -> impl IntoView {
    if invoices.is_empty() {
        return view! { <p data-testid="no-invoices">"No invoices."</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="invoices">
            <caption class="visually-hidden">"Invoices"</caption>
            <thead><tr>
                <th scope="col">"Invoice"</th><th scope="col">"Date"</th><th scope="col">"Due"</th>
                <th scope="col">"Billed to"</th><th scope="col">"Membership"</th><th scope="col">"Status"</th>
                <th scope="col" class="num">"Total"</th><th scope="col" class="num">"Amount due"</th>
            </tr></thead>
            <tbody>
                {invoices.into_iter().map(|r| {
                    let s = r.summary.clone();
                    let label = if r.credit_note { format!("Credit note #{}", s.number) } else { format!("#{}", s.number) };
                    view! {
                        <tr>
                            <th scope="row" data-label="Invoice"><A href=format!("/invoices/{}", s.id)>{label}</A></th>
                            <td data-label="Date">{s.billing_date.to_string()}</td>
                            <td data-label="Due">{s.due_date.to_string()}</td>
                            <td data-label="Billed to"><A href=r.account_href.clone()>{r.account_name.clone()}</A></td>
                            <td data-label="Membership">{r.membership_name.clone()}</td>
                            <td data-label="Status">{invoice_badge(s.state())}</td>
                            <td data-label="Total" class="num">{s.total.to_string()}</td>
                            <td data-label="Amount due" class="num">{s.amount_due().to_string()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

// ---------------------------------------------------------------------------
// One invoice

/// The server actions of the invoice page; the page reloads after each.
#[derive(Clone, Copy)]
struct MoneyActions {
    pay: ServerAction<RecordPayment>,
    charge: ServerAction<ChargeCard>,
    refund: ServerAction<RefundPayment>,
    credit: ServerAction<CreditInvoice>,
    close: ServerAction<CloseInvoice>,
    resend: ServerAction<ResendInvoice>,
}

#[component]
pub fn InvoicePage() -> impl IntoView {
    let id = id_param();
    let actions = MoneyActions {
        pay: ServerAction::new(),
        charge: ServerAction::new(),
        refund: ServerAction::new(),
        credit: ServerAction::new(),
        close: ServerAction::new(),
        resend: ServerAction::new(),
    };
    let changes = (
        successes!(actions.pay),
        successes!(actions.charge),
        successes!(actions.refund),
        successes!(actions.credit),
        successes!(actions.close),
    );
    let invoice = Resource::new(
        move || {
            (
                id.get(),
                changes.0.get(),
                changes.1.get(),
                changes.2.get(),
                changes.3.get(),
                changes.4.get(),
            )
        },
        |(id, ..)| get_invoice(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match invoice.await {
                    Ok(i) => view! { <Invoice i actions /> }.into_any(),
                    Err(error) => view! { <h1>"Invoice"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Invoice(i: InvoiceView, actions: MoneyActions) -> impl IntoView {
    let s = i.summary.clone();
    let is_credit_note = i.credit_note_for.is_some();
    let title = if is_credit_note {
        format!("Credit note #{}", s.number)
    } else {
        format!("Invoice #{}", s.number)
    };
    let due = i.amount_due();
    let (holder_name, membership_name) = (i.holder.name.clone(), i.membership_name.clone());
    let resent = actions.resend.value();
    let for_manager = i.clone();
    let credit_line = format!(
        "Account credit of {}: {}.",
        i.account_name, i.account_credit
    );
    view! {
        <Title text=title.clone() />
        <p class="breadcrumb no-print">
            <A href="/invoices">"Invoices"</A> " › "
            <A href=i.holder.href.clone()>{holder_name}</A> " › "
            <A href=format!("/memberships/{}", i.membership_id)>{membership_name}</A> " › " {title.clone()}
        </p>
        <article class="card invoice" aria-labelledby="invoice-heading">
            <div class="page-head">
                <h1 id="invoice-heading">{title}</h1>
                {invoice_badge(s.state())}
            </div>
            <dl class="facts">
                <dt>"From"</dt><dd>{i.business_name.clone()}</dd>
                <dt>"To"</dt><dd><A href=i.account_href.clone()>{i.account_name.clone()}</A>
                    {i.holder.member_number.filter(|_| i.account_href.starts_with("/members")).map(|n| format!(" (member #{n})"))}</dd>
                <dt>"Date"</dt><dd>{s.billing_date.to_string()}</dd>
                <dt>"Due"</dt><dd>{s.due_date.to_string()}</dd>
                {i.credit_note_for.clone().map(|o| view! {
                    <dt>"Corrects"</dt><dd><A href=format!("/invoices/{}", o.id)>{format!("Invoice #{} ({})", o.number, o.total)}</A></dd>
                })}
                {(!i.memo.is_empty()).then(|| view! { <dt>"Note"</dt><dd>{i.memo.clone()}</dd> })}
                {(i.automatic_attempts > 0).then(|| view! {
                    <dt>"Automatic charges"</dt>
                    <dd>{format!("{} failed", i.automatic_attempts)}
                        {match i.next_attempt_on { Some(d) => format!("; next try {d}"), None => "; no more tries scheduled".into() }}</dd>
                })}
            </dl>
            <table class="data-table lines" data-testid="invoice-lines">
                <caption class="visually-hidden">"Lines"</caption>
                <thead><tr>
                    <th scope="col">"Line"</th><th scope="col">"Days"</th>
                    <th scope="col">"How"</th><th scope="col" class="num">"Amount"</th>
                </tr></thead>
                <tbody>
                    {i.lines.iter().map(|l| view! {
                        <tr>
                            <th scope="row" data-label="Line">{l.description.clone()}</th>
                            <td data-label="Days">{l.period.map(|(a, b)| domain::billing::days_text(a, b)).unwrap_or_else(|| "—".into())}</td>
                            <td data-label="How">{l.explanation.clone()}</td>
                            <td data-label="Amount" class="num">{l.amount.to_string()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
                <tfoot>
                    <tr><th scope="row" colspan="3">"Total"</th><td class="num" data-testid="invoice-total">{s.total.to_string()}</td></tr>
                    <tr><th scope="row" colspan="3">"Paid"</th><td class="num" data-testid="invoice-paid">{s.amount_paid.to_string()}</td></tr>
                    <tr><th scope="row" colspan="3">"Amount due"</th>
                        <td class="num" data-testid="invoice-due">{due.to_string()}</td></tr>
                </tfoot>
            </table>
            {(i.paid_from_credit.minor > 0).then(|| view! {
                <p>{format!("{} of the payments came from account credit.", i.paid_from_credit)}</p>
            })}
            {(!i.credit_notes.is_empty()).then(|| view! {
                <p>"Credit notes: "
                    {i.credit_notes.iter().map(|n| view! {
                        <A href=format!("/invoices/{}", n.id)>{format!("#{} ({})", n.number, n.total)}</A> " "
                    }).collect_view()}
                </p>
            })}
        </article>
        <Payments payments=i.payments.clone() can_refund=i.can_manage refund=actions.refund refund_key=i.keys.refund.clone() />
        <div class="no-print">
            <p>{credit_line}</p>
            <div class="money-actions">
                {(i.can_take_payments && due.minor > 0).then(|| view! {
                    <TakePayment id=s.id due key=i.keys.pay.clone() pay=actions.pay />
                })}
                {(i.can_take_payments && due.minor > 0).then(|| view! {
                    <ChargeCardForm id=s.id due card=i.card.clone() key=i.keys.charge.clone() charge=actions.charge />
                })}
                {(i.can_manage && !is_credit_note).then(|| view! {
                    <ManagerActions i=for_manager credit=actions.credit close=actions.close />
                })}
            </div>
            {i.can_take_payments.then(|| view! {
                <ActionForm action=actions.resend attr:class="inline">
                    <input type="hidden" name="id" value=s.id />
                    <button type="submit">"Send the invoice again"</button>
                </ActionForm>
                <p role="status">{move || match resent.get() {
                    Some(Ok(())) => Some("The invoice is in the mail outbox.".to_string()),
                    Some(Err(e)) => Some(e.to_string()),
                    None => None,
                }}</p>
            })}
        </div>
    }
}

#[component]
fn Payments(
    payments: Vec<PaymentView>,
    can_refund: bool,
    refund: ServerAction<RefundPayment>,
    refund_key: String,
) -> impl IntoView {
    let errors = FormErrors::of(refund.value());
    if payments.is_empty() {
        return view! { <section class="card" aria-labelledby="payments-heading"><h2 id="payments-heading">"Payments"</h2><p>"No payments yet."</p></section> }.into_any();
    }
    view! {
        <section class="card wide" aria-labelledby="payments-heading">
            <h2 id="payments-heading">"Payments"</h2>
            <table class="data-table" data-testid="payments">
                <caption class="visually-hidden">"Payments"</caption>
                <thead><tr>
                    <th scope="col">"Date"</th><th scope="col">"How"</th><th scope="col" class="num">"Amount"</th>
                    <th scope="col" class="num">"For this invoice"</th><th scope="col">"Result"</th><th scope="col">"Refunds"</th>
                </tr></thead>
                <tbody>
                    {payments.into_iter().map(|p| {
                        let result = if p.succeeded {
                            if p.reference.is_empty() { "received".to_string() } else { format!("received, ref. {}", p.reference) }
                        } else {
                            format!("failed: {}", p.failure)
                        };
                        let refunds = p.refunds.iter().map(|r| format!("{} on {}: {}", r.amount, r.refunded_on, r.reason)).collect::<Vec<_>>().join("; ");
                        let refundable = p.refundable;
                        let key = format!("{refund_key}-{}", p.id);
                        view! {
                            <tr>
                                <td data-label="Date">{p.paid_on.to_string()}</td>
                                <td data-label="How">{p.method.label()}</td>
                                <td data-label="Amount" class="num">{p.amount.to_string()}</td>
                                <td data-label="For this invoice" class="num">{p.applied_here.to_string()}</td>
                                <td data-label="Result">{result}</td>
                                <td data-label="Refunds">{if refunds.is_empty() { "—".to_string() } else { refunds }}
                                    {(can_refund && refundable.minor > 0).then(|| view! {
                                        <details class="confirm no-print">
                                            <summary>"Refund"</summary>
                                            <ActionForm action=refund>
                                                <input type="hidden" name="id" value=p.id />
                                                <input type="hidden" name="form[key]" value=key.clone() />
                                                <Text name="amount" label=format!("Amount (at most {refundable})") value=refundable.to_plain()
                                                    error=errors.field("amount") kind="decimal" />
                                                <Text name="reason" label="Reason" value=String::new() error=errors.field("reason") />
                                                <FormError message=errors.general() />
                                                <button type="submit" class="danger">"Confirm: refund"</button>
                                            </ActionForm>
                                        </details>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn TakePayment(
    id: i64,
    due: Money,
    key: String,
    pay: ServerAction<RecordPayment>,
) -> impl IntoView {
    let errors = FormErrors::of(pay.value());
    view! {
        <section class="card" aria-labelledby="take-payment-heading">
            <h2 id="take-payment-heading">"Record a payment"</h2>
            <ActionForm action=pay>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="form[key]" value=key />
                <Text name="amount" label="Amount" value=due.to_plain() error=errors.field("amount") kind="decimal"
                    hint="More than is due is kept as account credit" />
                <Choice name="method" label="Paid by" value=String::new() error=errors.field("method") empty="Choose…"
                    choices=Method::MANUAL.iter().map(|m| (m.as_str().to_string(), m.label().to_string())).collect() />
                <Text name="reference" label="Reference" value=String::new() error=errors.field("reference")
                    hint="Needed for transfers and other payments" />
                <FormError message=errors.general() />
                <FormError message=errors.field("key") />
                <button type="submit" class="primary">"Record payment"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ChargeCardForm(
    id: i64,
    due: Money,
    card: Option<String>,
    key: String,
    charge: ServerAction<ChargeCard>,
) -> impl IntoView {
    let errors = FormErrors::of(charge.value());
    view! {
        <section class="card" aria-labelledby="charge-heading">
            <h2 id="charge-heading">"Card on file"</h2>
            {match card {
                Some(card) => view! {
                    <ActionForm action=charge>
                        <p>{card}</p>
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="key" value=key />
                        <FormError message=errors.general() />
                        <button type="submit" class="primary">{format!("Charge {due} to the card")}</button>
                    </ActionForm>
                }.into_any(),
                None => view! { <p>"No card on file. Add one on the member's or organization's page."</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ManagerActions(
    i: InvoiceView,
    credit: ServerAction<CreditInvoice>,
    close: ServerAction<CloseInvoice>,
) -> impl IntoView {
    let credit_errors = FormErrors::of(credit.value());
    let close_errors = FormErrors::of(close.value());
    let s = i.summary.clone();
    let open = s.status == InvoiceStatus::Open;
    let closings = [
        (
            InvoiceStatus::Void,
            "Void",
            "Nothing was paid and nothing is owed: the invoice no longer counts. Its charges are not billed again.",
            s.amount_paid.minor == 0,
        ),
        (
            InvoiceStatus::Uncollectible,
            "Write off",
            "What is still due will not be collected. Its charges are not billed again.",
            true,
        ),
    ];
    view! {
        <section class="card" aria-labelledby="correct-heading">
            <h2 id="correct-heading">"Correct"</h2>
            {(i.creditable.minor > 0).then(|| view! {
                <details class="confirm">
                    <summary>"Issue a credit note"</summary>
                    <ActionForm action=credit>
                        <p>"The amount goes to the account as credit; it settles what is open and can be refunded."</p>
                        <input type="hidden" name="id" value=s.id />
                        <input type="hidden" name="form[key]" value=i.keys.credit.clone() />
                        <Text name="amount" label=format!("Amount (at most {})", i.creditable) value=i.creditable.to_plain()
                            error=credit_errors.field("amount") kind="decimal" />
                        <Text name="reason" label="Reason" value=String::new() error=credit_errors.field("reason") />
                        <FormError message=credit_errors.general() />
                        <button type="submit" class="primary">"Confirm: issue the credit note"</button>
                    </ActionForm>
                </details>
            })}
            {open.then(|| closings.into_iter().filter(|c| c.3).map(|(to, verb, what, _)| view! {
                <details class="confirm">
                    <summary>{verb}</summary>
                    <ActionForm action=close>
                        <p>{what}</p>
                        <input type="hidden" name="id" value=s.id />
                        <input type="hidden" name="to" value=to.as_str() />
                        <Text name="reason" label="Reason" value=String::new() error=close_errors.field("reason") />
                        <FormError message=close_errors.general() />
                        <button type="submit" class="danger">{format!("Confirm: {}", verb.to_lowercase())}</button>
                    </ActionForm>
                </details>
            }).collect_view())}
        </section>
    }
}
