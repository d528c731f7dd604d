//! Machinery several areas share: the account ledger (what is owed, paid
//! and credited), invoicing (what a membership is billed and when), the
//! credit ledger and lifecycle application. It stands on the platform and the
//! store, and never calls an area.

pub mod credits;
pub mod invoicing;
pub mod ledger;
pub mod lifecycle;
