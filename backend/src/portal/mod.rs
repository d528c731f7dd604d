//! The member portal's use cases: sign-in by one-time code, portal sessions,
//! and what a signed-in member may read and do.
//!
//! A code is stored for every request, known email or not, and only a known
//! email gets a message, so neither the answers nor the rate limits tell
//! whether an email belongs to a member. Codes and session tokens are kept as
//! SHA-256 hashes. Everything a member reads is found through their own
//! member id: a membership, booking or invoice of someone else is "not found".

//!
//! - `sign_in`: codes asked for and checked;
//! - `session`: portal sessions and the account a session is on;
//! - `profile`: the member's details and a confirmed email change;
//! - `memberships`: the home page, a membership and the member's own actions;
//! - `account`: invoices, the card on file and paying;
//! - `bookings`: classes booked and cancelled.

mod account;
mod bookings;
mod memberships;
mod profile;
mod session;
mod sign_in;

pub use account::{card, invoice, invoices, keep_card, pay_invoice, remove_card};
pub use bookings::{book, booking, booking_page, bookings, cancel_booking};
pub use memberships::{act, home, membership, preview_action};
pub use profile::{confirm_email_change, profile, request_email_change, update_profile};
pub use session::{Member, NewSession, authenticate, choose, session, sign_out};
pub use sign_in::{portal_business, request_code, verify_code};
