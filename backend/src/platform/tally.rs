//! Counts of the costly steps one request takes: loading the catalog and
//! running the invoice generator. A test wraps a request in [`counted`] and
//! reads how often each ran; outside such a scope counting does nothing.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static TALLY: Tally;
}

#[derive(Default)]
struct Tally {
    catalog_loads: Cell<u32>,
    generator_runs: Cell<u32>,
}

/// How often each costly step ran inside [`counted`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub catalog_loads: u32,
    pub generator_runs: u32,
}

/// Runs `work` and counts its costly steps.
pub async fn counted<F: Future>(work: F) -> (F::Output, Counts) {
    TALLY
        .scope(Tally::default(), async move {
            let out = work.await;
            let counts = TALLY.with(|t| Counts {
                catalog_loads: t.catalog_loads.get(),
                generator_runs: t.generator_runs.get(),
            });
            (out, counts)
        })
        .await
}

pub(crate) fn catalog_loaded() {
    let _ = TALLY.try_with(|t| t.catalog_loads.set(t.catalog_loads.get() + 1));
}

pub(crate) fn generator_ran() {
    let _ = TALLY.try_with(|t| t.generator_runs.set(t.generator_runs.get() + 1));
}
