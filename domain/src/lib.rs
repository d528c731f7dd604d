//! Tessera's domain: the membership and billing rules and the types shared by
//! the browser and the server. Nothing here performs I/O or reads a clock:
//! every rule that depends on the date takes `today` as an argument.

pub mod api_keys;
pub mod billing;
pub mod bookings;
pub mod business;
pub mod catalog;
pub mod credits;
pub mod invoices;
pub mod lifecycle;
pub mod members;
pub mod memberships;
pub mod money;
pub mod organizations;
pub mod paging;
pub mod parties;
pub mod payments;
pub mod portal;
pub mod signup;
pub mod staff;
pub mod validation;
pub mod visits;

pub use money::{Currency, Money, MoneyParseError};
pub use validation::{CONTROL_CHARACTERS, FieldError, Invalid, has_control_characters};
