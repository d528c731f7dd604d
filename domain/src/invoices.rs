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

/// Everything the invoice page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    pub summary: InvoiceSummary,
    pub membership_id: i64,
    pub membership_name: String,
    pub holder: crate::memberships::Holder,
    pub business_name: String,
    pub lines: Vec<InvoiceLineView>,
}
