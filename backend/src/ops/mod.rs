//! Operations on top of everything: the demo data, the benchmarks and the
//! consistency check. They call areas and jobs as a person or the scheduler
//! would; nothing below calls them.

pub mod bench;
pub mod bench_lists;
pub mod check;
pub mod demo;
