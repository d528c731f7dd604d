//! The platform: what every other tier stands on. The database and its
//! transactions, the one clock, errors, who acted, the audit trail and the
//! events feed, mail and the card gateway. Nothing here knows a use case.

pub mod actor;
pub mod audit;
pub mod clock;
pub mod db;
pub mod error;
pub mod events;
pub mod gateway;
pub mod mail;
pub mod secrets;
pub mod tally;
