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

text_enum! {
    /// Where an invoice stands as people read it: its status, told apart
    /// further where money went back (a refund of what paid it) or where it
    /// is a credit rather than a charge.
    pub enum InvoiceState {
        Draft = ("draft", "Draft"),
        Open = ("open", "Open"),
        Paid = ("paid", "Paid"),
        PartlyRefunded = ("partly_refunded", "Partly refunded"),
        Refunded = ("refunded", "Refunded"),
        Credit = ("credit", "Credit note"),
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
    /// What refunds gave back of the payments that paid it.
    pub refunded: Money,
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

/// The months a revenue report covers, as typed ("2026-11").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RevenueFilter {
    pub from: String,
    pub to: String,
}

impl RevenueFilter {
    /// The months asked for; empty fields take the last twelve months to
    /// `today`'s month. At most five years at once.
    pub fn parse(
        &self,
        today: NaiveDate,
    ) -> Result<
        (
            crate::billing::revenue::Month,
            crate::billing::revenue::Month,
        ),
        crate::Invalid,
    > {
        use crate::billing::revenue::Month;
        let mut invalid = crate::Invalid::default();
        let mut month = |field: &str, text: &str, default: Month| {
            if text.trim().is_empty() {
                return Some(default);
            }
            let m = Month::parse(text);
            if m.is_none() {
                invalid.push(field, "enter a month as YYYY-MM");
            }
            m
        };
        let to_default = Month::of(today);
        let to = month("to", &self.to, to_default);
        let from_default =
            Month::of(to.unwrap_or(to_default).first_day() - chrono::Months::new(11));
        let from = month("from", &self.from, from_default);
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                invalid.push("to", "the last month comes after the first");
            } else if to.first_day() >= from.first_day() + chrono::Months::new(60) {
                invalid.push("to", "report at most five years at once");
            }
        }
        match (from, to) {
            (Some(from), Some(to)) if invalid.is_empty() => Ok((from, to)),
            _ => Err(invalid),
        }
    }
}

/// The deferred revenue report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueReport {
    pub from: crate::billing::revenue::Month,
    pub to: crate::billing::revenue::Month,
    pub rows: Vec<crate::billing::revenue::RevenueRow>,
}

/// A billing run as the billing-runs page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingRunView {
    pub id: i64,
    pub run_date: NaiveDate,
    /// "the scheduler", "the command line", or the staff member's name.
    pub started_by: String,
    pub started_at: String,
    /// `None` while it runs (or if it was stopped before the end).
    pub finished_at: Option<String>,
    pub total: i64,
    pub done: i64,
    pub invoices: i64,
    pub failed: i64,
    /// Memberships it could not bill, with the reason.
    pub failures: Vec<(i64, String)>,
    /// Unfinished and started long ago: the process stopped during the run.
    pub interrupted: bool,
}

impl BillingRunView {
    pub fn running(&self) -> bool {
        self.finished_at.is_none() && !self.interrupted
    }

    /// Whole percent done, for people.
    pub fn percent(&self) -> i64 {
        if self.total <= 0 {
            100
        } else {
            self.done * 100 / self.total
        }
    }
}

/// The billing-runs page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingRuns {
    /// The business's today (the simulated date when one is set).
    pub today: NaiveDate,
    /// Managers and owners may start a run.
    pub can_start: bool,
    /// A page of them, newest first.
    pub runs: crate::paging::Listed<BillingRunView>,
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
    pub holder: crate::parties::Holder,
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
    /// Where the invoice stands: "Refunded" once refunds gave back all that
    /// paid it, "Partly refunded" for some; "Credit note" for a credit.
    pub fn state(&self) -> InvoiceState {
        match self.status {
            InvoiceStatus::Draft => InvoiceState::Draft,
            InvoiceStatus::Void => InvoiceState::Void,
            InvoiceStatus::Uncollectible => InvoiceState::Uncollectible,
            _ if self.total.minor < 0 => InvoiceState::Credit,
            _ if self.refunded.minor > 0 && self.refunded.minor >= self.amount_paid.minor => {
                InvoiceState::Refunded
            }
            _ if self.refunded.minor > 0 => InvoiceState::PartlyRefunded,
            InvoiceStatus::Open => InvoiceState::Open,
            InvoiceStatus::Paid => InvoiceState::Paid,
        }
    }

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

/// The invoice list's filters as the query string carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvoiceFilter {
    /// A status name, "unpaid" (open with something due) or "overdue"; empty for all.
    pub status: String,
    /// Billing dates from and to (inclusive), YYYY-MM-DD.
    pub from: String,
    pub to: String,
    /// A member's or organization's name, or a member number.
    pub who: String,
    /// Which page of the list, from 1 (empty: the first).
    pub page: String,
}

/// A checked invoice filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvoiceQuery {
    pub status: Option<InvoiceStatus>,
    pub unpaid: bool,
    pub overdue: bool,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub who: String,
    /// From 1.
    pub page: i64,
}

impl InvoiceFilter {
    pub fn check(&self) -> Result<InvoiceQuery, crate::Invalid> {
        let mut invalid = crate::Invalid::default();
        let mut q = InvoiceQuery {
            who: self.who.trim().to_lowercase(),
            page: 1,
            ..Default::default()
        };
        match crate::paging::page_number(&self.page) {
            Ok(page) => q.page = page,
            Err(e) => invalid.push("page", e),
        }
        match self.status.as_str() {
            "" => {}
            "unpaid" => q.unpaid = true,
            "overdue" => q.overdue = true,
            s => match InvoiceStatus::parse(s) {
                Some(s) => q.status = Some(s),
                None => invalid.push("status", "choose a status from the list"),
            },
        }
        let date = |text: &str, field: &str, invalid: &mut crate::Invalid| {
            let t = text.trim();
            if t.is_empty() {
                return None;
            }
            let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
            if d.is_none() {
                invalid.push(field, "enter a date as YYYY-MM-DD");
            }
            d
        };
        q.from = date(&self.from, "from", &mut invalid);
        q.to = date(&self.to, "to", &mut invalid);
        if let (Some(f), Some(t)) = (q.from, q.to)
            && t < f
        {
            invalid.push("to", "the end comes on or after the start");
        }
        invalid.into_result(|| q)
    }

    /// The status choices of the filter: value and label.
    pub fn status_choices() -> Vec<(String, String)> {
        let mut out = vec![
            ("unpaid".to_string(), "Unpaid (anything due)".to_string()),
            (
                "overdue".to_string(),
                "Overdue (past the due date)".to_string(),
            ),
        ];
        out.extend(
            InvoiceStatus::ALL
                .iter()
                .filter(|s| **s != InvoiceStatus::Draft)
                .map(|s| (s.as_str().to_string(), s.label().to_string())),
        );
        out
    }
}

/// One row of the invoice list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceListRow {
    pub summary: InvoiceSummary,
    pub account_name: String,
    pub account_href: String,
    pub membership_name: String,
    pub credit_note: bool,
}

/// A message in the mail outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub kind: String,
    pub created: String,
    pub invoice_id: Option<i64>,
    /// Whether it went out by SMTP: "sent 2026-11-22 10:04", "waiting", or the
    /// last error and when it is tried again.
    pub delivery: String,
}

/// A membership that is past due or suspended, for the dunning list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DunningRow {
    pub membership_id: i64,
    pub membership_name: String,
    pub holder: crate::parties::Holder,
    pub status: crate::lifecycle::Status,
    pub since: NaiveDate,
    pub oldest_invoice_id: i64,
    pub oldest_invoice_number: i64,
    pub due: Money,
    pub attempts: i64,
    pub next_attempt_on: Option<NaiveDate>,
    /// The account has a card on file to charge now.
    pub has_card: bool,
    /// A fresh idempotency key for this row's Charge button.
    pub charge_key: String,
}

/// What retrying every card of the past-due list did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryReport {
    pub charged: usize,
    pub declined: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_of_what_paid_an_invoice_shows_as_refunded_or_partly_refunded() {
        let eur = |minor| Money::new(minor, crate::money::Currency::EUR);
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let s = |status, total, paid, refunded| InvoiceSummary {
            id: 1,
            number: 1,
            billing_date: day,
            due_date: day,
            status,
            total: eur(total),
            amount_paid: eur(paid),
            refunded: eur(refunded),
        };
        use InvoiceStatus::*;
        assert_eq!(s(Paid, 4900, 4900, 0).state(), InvoiceState::Paid);
        assert_eq!(s(Paid, 4900, 4900, 4900).state(), InvoiceState::Refunded);
        assert_eq!(
            s(Paid, 4900, 4900, 1000).state(),
            InvoiceState::PartlyRefunded
        );
        assert_eq!(s(Paid, 4900, 4900, 1000).state().label(), "Partly refunded");
        assert_eq!(s(Open, 4900, 2000, 2000).state(), InvoiceState::Refunded);
        assert_eq!(s(Open, 4900, 0, 0).state(), InvoiceState::Open);
        assert_eq!(s(Paid, -2450, 0, 0).state(), InvoiceState::Credit);
        assert_eq!(s(Void, 4900, 0, 0).state(), InvoiceState::Void);
        assert_eq!(s(Paid, -2450, 0, 0).amount_due(), eur(0));
    }

    #[test]
    fn the_revenue_report_covers_the_last_twelve_months_or_the_months_asked_for() {
        use crate::billing::revenue::Month;
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let m = |year, month| Month { year, month };
        assert_eq!(
            RevenueFilter::default().parse(today),
            Ok((m(2026, 1), m(2026, 12)))
        );
        let asked = RevenueFilter {
            from: "2025-07".into(),
            to: "2025-09".into(),
        };
        assert_eq!(asked.parse(today), Ok((m(2025, 7), m(2025, 9))));
        let e = RevenueFilter {
            from: "July".into(),
            to: "2020-01".into(),
        }
        .parse(today)
        .unwrap_err();
        assert_eq!(e.message_for("from"), Some("enter a month as YYYY-MM"));
        let e = RevenueFilter {
            from: "2026-05".into(),
            to: "2026-01".into(),
        }
        .parse(today)
        .unwrap_err();
        assert_eq!(
            e.message_for("to"),
            Some("the last month comes after the first")
        );
        let e = RevenueFilter {
            from: "2020-01".into(),
            to: "2026-01".into(),
        }
        .parse(today)
        .unwrap_err();
        assert_eq!(
            e.message_for("to"),
            Some("report at most five years at once")
        );
    }

    #[test]
    fn the_invoice_filter_reads_statuses_and_dates_and_says_what_is_wrong() {
        let q = InvoiceFilter {
            status: "overdue".into(),
            from: "2026-11-01".into(),
            who: " Ada ".into(),
            ..Default::default()
        }
        .check()
        .unwrap();
        assert!(q.overdue);
        assert_eq!(q.who, "ada");
        assert_eq!(q.from, NaiveDate::from_ymd_opt(2026, 11, 1));
        let e = InvoiceFilter {
            status: "lost".into(),
            from: "2026-12-01".into(),
            to: "2026-11-01".into(),
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert!(e.message_for("status").is_some());
        assert_eq!(
            e.message_for("to"),
            Some("the end comes on or after the start")
        );
        let e = InvoiceFilter {
            from: "1 Dec".into(),
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(e.message_for("from"), Some("enter a date as YYYY-MM-DD"));
    }
}

/// What a member's or organization's page shows of its billing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBilling {
    /// The card on file, as "Visa ending 4242 (expires 04/2029)".
    pub card: Option<String>,
    pub credit: Money,
    /// Invoices with something still due, oldest first.
    pub unpaid: Vec<InvoiceSummary>,
    pub can_take_payments: bool,
}
