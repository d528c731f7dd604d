//! What staff see of invoices.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::billing::charges::LineKind;
use crate::catalog::text_enum;
use crate::money::Money;

text_enum! {
    pub enum InvoiceStatus {
        Draft = ("draft", "Draft"),
        Open = ("open", "Open"),
        Paid = ("paid", "Paid"),
        Void = ("void", "Void"),
        Uncollectible = ("uncollectible", "Uncollectible"),
    }
}

/// One invoice in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    pub id: i64,
    pub number: i64,
    pub billing_date: NaiveDate,
    pub due_date: NaiveDate,
    pub status: InvoiceStatus,
    pub total: Money,
    pub amount_paid: Money,
}

/// One line of an invoice, with how its amount was reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLineView {
    pub kind: LineKind,
    pub description: String,
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub amount: Money,
    pub explanation: String,
}

/// What a billing run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    pub memberships: usize,
    pub invoices: usize,
    /// Memberships the run could not bill, with the reason; the run went on.
    pub failed: Vec<(i64, String)>,
}

/// A payment (or a failed charge) as the invoice page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    pub id: i64,
    pub paid_on: NaiveDate,
    pub method: crate::payments::Method,
    pub amount: Money,
    /// The part of the payment that went to this invoice.
    pub applied_here: Money,
    pub succeeded: bool,
    pub reference: String,
    pub failure: String,
    pub recorded_by: String,
    pub refunds: Vec<RefundView>,
    /// What may still be refunded of the payment.
    pub refundable: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    pub refunded_on: NaiveDate,
    pub amount: Money,
    pub reason: String,
}

/// A credit note and the invoice it corrects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLink {
    pub id: i64,
    pub number: i64,
    pub total: Money,
}

/// Fresh idempotency keys for the forms of one page view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormKeys {
    pub pay: String,
    pub charge: String,
    pub refund: String,
    pub credit: String,
}

/// Everything the invoice page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    pub summary: InvoiceSummary,
    pub membership_id: i64,
    pub membership_name: String,
    pub holder: crate::memberships::Holder,
    /// Who is billed: the member, or the organization that pays.
    pub account_name: String,
    pub account_href: String,
    pub business_name: String,
    pub lines: Vec<InvoiceLineView>,
    pub memo: String,
    pub payments: Vec<PaymentView>,
    /// What account credit settled of this invoice.
    pub paid_from_credit: Money,
    pub credit_note_for: Option<InvoiceLink>,
    pub credit_notes: Vec<InvoiceLink>,
    /// What may still be credited (total less earlier credit notes).
    pub creditable: Money,
    /// The account's credit balance now.
    pub account_credit: Money,
    /// The card on file of the account, as "Visa ending 4242 (expires 04/2029)".
    pub card: Option<String>,
    pub automatic_attempts: i64,
    pub next_attempt_on: Option<NaiveDate>,
    pub can_take_payments: bool,
    pub can_manage: bool,
    pub keys: FormKeys,
}

impl InvoiceView {
    pub fn amount_due(&self) -> Money {
        self.summary.amount_due()
    }
}

impl InvoiceSummary {
    /// What is still to be paid; nothing on void, written-off or credit invoices.
    pub fn amount_due(&self) -> Money {
        let due = match self.status {
            InvoiceStatus::Open => (self.total.minor - self.amount_paid.minor).max(0),
            _ => 0,
        };
        Money::new(due, self.total.currency)
    }
}

/// A reason typed for voiding an invoice or writing it off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonForm {
    pub reason: String,
}

/// A credit note as a manager types it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteForm {
    pub amount: String,
    pub reason: String,
    pub key: String,
}
