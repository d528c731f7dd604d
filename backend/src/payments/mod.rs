//! Taking money and giving it back: manual payments, charges of the card on
//! file through the gateway, account credit, refunds, credit notes, voiding,
//! and the daily collection (automatic charges, retries, past due, suspended).
//!
//! Money rows are append-only. A payment settles the invoice it was taken
//! for first, then the account's other open invoices oldest first; what is
//! left is account credit, which settles the next invoices by itself. Every
//! request carries an idempotency key (unique per business), so a double
//! click or a retried request records one payment and charges a card once.

//!
//! - `record`: money staff took by hand;
//! - `charge`: the card on file through the gateway, one capture per invoice;
//! - `refunds`: refunds, credit notes and closing an invoice;
//! - `cards`: the card on file;
//! - `dunning`: the past-due list, retries and an account's billing page;
//! - `outbox`: the mail the business sent.

mod cards;
mod charge;
mod dunning;
mod outbox;
mod record;
mod refunds;

pub use crate::engine::ledger::Account;
pub use cards::{add_card, card_label};
pub(crate) use cards::{card_label_of, keep_card, remove_card};
pub use charge::{Charged, charge_card};
pub use dunning::{account_billing, dunning_list, retry_cards};
pub use outbox::outbox;
pub use record::record_payment;
pub use refunds::{close_invoice, credit_note, refund};
