//! Rows and SQL, one file per group of tables. Each function reads or writes
//! inside a transaction it is given; none decides a rule or opens a
//! transaction of its own. Nothing above this tier writes SQL text for these
//! tables.

pub mod bookings;
pub mod business;
pub mod catalog;
pub mod invoices;
pub mod memberships;
