//! The invoice page: every line with the days it covers and how its amount
//! was reached. Prints cleanly.

use domain::invoices::InvoiceView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::invoices::get_invoice;
use crate::components::form::ErrorNotice;
use crate::pages::membership_type::id_param;

#[component]
pub fn InvoicePage() -> impl IntoView {
    let id = id_param();
    let invoice = Resource::new(move || id.get(), get_invoice);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match invoice.await {
                    Ok(i) => view! { <Invoice i /> }.into_any(),
                    Err(error) => view! { <h1>"Invoice"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Invoice(i: InvoiceView) -> impl IntoView {
    let s = i.summary.clone();
    let title = format!("Invoice #{}", s.number);
    let due = s.total.minor - s.amount_paid.minor;
    let (holder_name, membership_name) = (i.holder.name.clone(), i.membership_name.clone());
    view! {
        <Title text=title.clone() />
        <p class="breadcrumb no-print">
            <A href=i.holder.href.clone()>{holder_name}</A> " › "
            <A href=format!("/memberships/{}", i.membership_id)>{membership_name}</A> " › " {title.clone()}
        </p>
        <article class="card invoice" aria-labelledby="invoice-heading">
            <div class="page-head">
                <h1 id="invoice-heading">{title}</h1>
                <span class="badge" data-testid="invoice-status">{s.status.label()}</span>
            </div>
            <dl class="facts">
                <dt>"From"</dt><dd>{i.business_name.clone()}</dd>
                <dt>"To"</dt><dd>{i.holder.name.clone()}{i.holder.member_number.map(|n| format!(" (member #{n})"))}</dd>
                <dt>"Date"</dt><dd>{s.billing_date.to_string()}</dd>
                <dt>"Due"</dt><dd>{s.due_date.to_string()}</dd>
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
                            <td data-label="Days">{l.period.map(|(a, b)| format!("{a} to {b}")).unwrap_or_else(|| "—".into())}</td>
                            <td data-label="How">{l.explanation.clone()}</td>
                            <td data-label="Amount" class="num">{l.amount.to_string()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
                <tfoot>
                    <tr><th scope="row" colspan="3">"Total"</th><td class="num" data-testid="invoice-total">{s.total.to_string()}</td></tr>
                    <tr><th scope="row" colspan="3">"Paid"</th><td class="num">{s.amount_paid.to_string()}</td></tr>
                    <tr><th scope="row" colspan="3">"Amount due"</th>
                        <td class="num">{domain::Money::new(due, s.total.currency).to_string()}</td></tr>
                </tfoot>
            </table>
        </article>
    }
}
