//! Next and previous links under a paged staff list, with what it shows of
//! how many: the links keep the list's filters and change only `page`.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// The pager of a list page (`domain::paging::Listed`).
#[component]
pub fn Pager(
    /// What the list is of, for screen readers ("memberships").
    of: &'static str,
    page: i64,
    pages: i64,
    range_text: String,
    /// The query parameter that carries the page number.
    #[prop(default = "form[page]")]
    param: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    let href = move |n: i64| {
        let mut q = query.get_untracked();
        q.replace(param, n.to_string());
        q.to_query_string()
    };
    view! {
        <nav class="pager" aria-label=format!("Pages of {of}") data-testid="pager">
            <p data-testid="pager-range">{format!("Showing {range_text}")}</p>
            {(page > 1).then(|| view! { <A href=href(page - 1) attr:rel="prev">"← Previous"</A> })}
            <span>{format!("Page {page} of {pages}")}</span>
            {(page < pages).then(|| view! { <A href=href(page + 1) attr:rel="next">"Next →"</A> })}
        </nav>
    }
}
