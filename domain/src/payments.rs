//! Payments, refunds, cards on file and dunning: the rules, without storage.
//!
//! Money taken is allocated to invoices oldest first; what is left becomes
//! account credit. A refund never exceeds what a payment brought in less what
//! was refunded of it before. Every form carries an idempotency key made when
//! the form was shown, so a double click or a retried request is one payment.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::catalog::text_enum;
use crate::money::{Currency, Money};
use crate::validation::Invalid;

text_enum! {
    /// How money came in.
    pub enum Method {
        Cash = ("cash", "Cash"),
        CardPresent = ("card_present", "Card at the desk"),
        BankTransfer = ("bank_transfer", "Bank transfer"),
        External = ("external", "Other, with a reference"),
        CardOnFile = ("card_on_file", "Card on file"),
    }
}

impl Method {
    /// The methods staff record by hand, in the order a form offers them.
    pub const MANUAL: [Method; 4] = [
        Method::Cash,
        Method::CardPresent,
        Method::BankTransfer,
        Method::External,
    ];
}

/// A payment as staff type it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentForm {
    pub amount: String,
    pub method: String,
    #[serde(default)]
    pub reference: String,
    /// Made when the form was shown; the same key is the same payment.
    pub key: String,
    /// Take what is due when the payment is booked (`amount` left empty):
    /// the amount is read under the account's lock, so two such payments
    /// racing never both take it.
    #[serde(default)]
    pub amount_due: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedPayment {
    /// `None`: what is due when the payment is booked.
    pub amount: Option<Money>,
    pub method: Method,
    pub reference: String,
    pub key: String,
}

fn check_key(key: &str, invalid: &mut Invalid) {
    if key.trim().is_empty() || key.len() > 100 {
        invalid.push(
            "key",
            "this form has expired; reload the page and try again",
        );
    }
}

fn positive_amount(text: &str, currency: Currency, invalid: &mut Invalid) -> Option<Money> {
    if text.trim().is_empty() {
        invalid.push("amount", "enter the amount");
        return None;
    }
    let amount = invalid.check("amount", Money::parse(text, currency))?;
    if amount.minor <= 0 {
        invalid.push("amount", "enter an amount above zero");
        return None;
    }
    Some(amount)
}

/// Checks a payment staff record by hand or take from the card on file.
pub fn check_payment(form: &PaymentForm, currency: Currency) -> Result<CheckedPayment, Invalid> {
    let mut invalid = Invalid::default();
    let amount = if form.amount_due && form.amount.trim().is_empty() {
        None
    } else {
        Some(positive_amount(&form.amount, currency, &mut invalid))
    };
    let method = Method::parse(&form.method);
    if method.is_none() {
        invalid.push("method", "choose how the money was paid");
    }
    let reference = form.reference.trim().to_string();
    if matches!(method, Some(Method::BankTransfer | Method::External)) && reference.is_empty() {
        invalid.push(
            "reference",
            "enter the reference of the transfer or receipt, so the payment can be traced",
        );
    }
    if reference.chars().count() > 200 {
        invalid.push("reference", "keep the reference under 200 characters");
    }
    check_key(&form.key, &mut invalid);
    invalid.into_result(|| CheckedPayment {
        amount: amount.map(|a| a.expect("checked")),
        method: method.expect("checked"),
        reference,
        key: form.key.trim().to_string(),
    })
}

/// Part of a payment (or of account credit) that settles an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub invoice_id: i64,
    pub amount: Money,
}

/// Splits `amount` over invoices in the order given (each with what is still
/// due), never more than is due on one; returns the parts and what is left.
pub fn allocate(amount: Money, dues: &[(i64, Money)]) -> (Vec<Allocation>, Money) {
    let mut left = amount.minor;
    let mut parts = Vec::new();
    for (invoice_id, due) in dues {
        if left <= 0 {
            break;
        }
        let take = left.min(due.minor);
        if take > 0 {
            parts.push(Allocation {
                invoice_id: *invoice_id,
                amount: Money::new(take, amount.currency),
            });
            left -= take;
        }
    }
    (parts, Money::new(left, amount.currency))
}

/// A refund as a manager types it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundForm {
    pub amount: String,
    pub reason: String,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRefund {
    pub amount: Money,
    pub reason: String,
    pub key: String,
}

/// Checks a refund of a payment of `paid` of which `refunded` went back before.
pub fn check_refund(
    form: &RefundForm,
    paid: Money,
    refunded: Money,
) -> Result<CheckedRefund, Invalid> {
    let mut invalid = Invalid::default();
    let amount = positive_amount(&form.amount, paid.currency, &mut invalid);
    let left = Money::new(paid.minor - refunded.minor, paid.currency);
    if let Some(a) = amount
        && a.minor > left.minor
    {
        let message = if left.minor == 0 {
            format!("this payment of {paid} has been refunded in full already")
        } else {
            format!(
                "at most {left} can be refunded: {paid} was paid and {refunded} refunded before"
            )
        };
        invalid.push("amount", message);
    }
    let reason = form.reason.trim().to_string();
    if reason.is_empty() {
        invalid.push("reason", "say why the money goes back");
    }
    check_key(&form.key, &mut invalid);
    invalid.into_result(|| CheckedRefund {
        amount: amount.expect("checked"),
        reason,
        key: form.key.trim().to_string(),
    })
}

/// A card as staff type it to keep on file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardForm {
    pub number: String,
    /// "MM/YY" or "MM/YYYY".
    pub expiry: String,
}

/// A card on file as stored: never the number, only what identifies it and
/// the gateway's token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
}

impl Card {
    pub fn label(&self) -> String {
        format!(
            "{} ending {} (expires {:02}/{})",
            self.brand, self.last4, self.exp_month, self.exp_year
        )
    }
}

/// What the sandbox gateway does with a card: the test numbers of the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SandboxBehaviour {
    Succeeds,
    Declines,
    InsufficientFunds,
    FailsTemporarily,
}

impl SandboxBehaviour {
    pub const TEST_CARDS: [(&'static str, SandboxBehaviour); 4] = [
        ("4242 4242 4242 4242", SandboxBehaviour::Succeeds),
        ("4000 0000 0000 0002", SandboxBehaviour::Declines),
        ("4000 0000 0000 9995", SandboxBehaviour::InsufficientFunds),
        ("4000 0000 0000 0119", SandboxBehaviour::FailsTemporarily),
    ];

    pub fn token(self) -> &'static str {
        match self {
            SandboxBehaviour::Succeeds => "sandbox_ok",
            SandboxBehaviour::Declines => "sandbox_declined",
            SandboxBehaviour::InsufficientFunds => "sandbox_insufficient_funds",
            SandboxBehaviour::FailsTemporarily => "sandbox_temporary",
        }
    }

    pub fn from_token(token: &str) -> Option<SandboxBehaviour> {
        Self::TEST_CARDS
            .iter()
            .map(|(_, b)| *b)
            .find(|b| b.token() == token)
    }

    /// A test number's behaviour; any other valid number succeeds.
    pub fn of_number(digits: &str) -> SandboxBehaviour {
        Self::TEST_CARDS
            .iter()
            .find(|(n, _)| n.replace(' ', "") == digits)
            .map(|(_, b)| *b)
            .unwrap_or(SandboxBehaviour::Succeeds)
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn brand(digits: &str) -> &'static str {
    match digits.as_bytes().first() {
        Some(b'4') => "Visa",
        Some(b'5') | Some(b'2') => "Mastercard",
        Some(b'3') => "American Express",
        _ => "Card",
    }
}

/// Checks a card number and expiry; returns what is stored and the digits
/// the gateway tokenizes.
pub fn check_card(form: &CardForm, today: NaiveDate) -> Result<(Card, String), Invalid> {
    let mut invalid = Invalid::default();
    let digits: String = form
        .number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.is_empty() {
        invalid.push("number", "enter the card number");
    } else if !digits.chars().all(|c| c.is_ascii_digit())
        || !(12..=19).contains(&digits.len())
        || !luhn_valid(&digits)
    {
        invalid.push(
            "number",
            "this is not a valid card number; check the digits (sandbox test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined)",
        );
    }
    let expiry = parse_expiry(form.expiry.trim());
    match expiry {
        None => invalid.push("expiry", "enter the expiry as MM/YY, for example 04/29"),
        Some((m, y)) if (y, m) < (today.year(), today.month()) => {
            invalid.push("expiry", "this card has expired")
        }
        Some(_) => {}
    }
    invalid.into_result(|| {
        let (exp_month, exp_year) = expiry.expect("checked");
        (
            Card {
                brand: brand(&digits).to_string(),
                last4: digits[digits.len() - 4..].to_string(),
                exp_month,
                exp_year,
            },
            digits.clone(),
        )
    })
}

fn parse_expiry(text: &str) -> Option<(u32, i32)> {
    let (m, y) = text.split_once('/')?;
    let month: u32 = m.trim().parse().ok()?;
    let y = y.trim();
    let year: i32 = match y.len() {
        2 => 2000 + y.parse::<i32>().ok()?,
        4 => y.parse().ok()?,
        _ => return None,
    };
    (1..=12).contains(&month).then_some((month, year))
}

/// What a gateway answered to a charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargeOutcome {
    Succeeded {
        reference: String,
    },
    /// The bank said no; retrying the same card soon rarely helps.
    Declined {
        reason: String,
    },
    /// Something failed on the way; a retry may succeed.
    FailedTemporarily {
        reason: String,
    },
}

/// The business's collection settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dunning {
    /// Days after the due date an invoice is payable without being late.
    pub terms_days: u32,
    /// Days after the due date on which a failed automatic charge is retried.
    pub retry_days: Vec<u32>,
    /// Days after the due date the membership becomes past due.
    pub past_due_after: u32,
    /// Days after the due date the membership is suspended (no access, no bookings).
    pub suspend_after: u32,
}

impl Default for Dunning {
    fn default() -> Self {
        Dunning {
            terms_days: 0,
            retry_days: vec![1, 3, 7],
            past_due_after: 3,
            suspend_after: 14,
        }
    }
}

/// Where a membership stands with its oldest unpaid invoice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overdue {
    pub past_due_since: Option<NaiveDate>,
    pub suspended_since: Option<NaiveDate>,
}

impl Dunning {
    /// Parses "1, 3, 7" (days after the due date, increasing).
    pub fn parse_retry_days(text: &str) -> Result<Vec<u32>, String> {
        let mut days = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let d: u32 = part
                .parse()
                .map_err(|_| format!("{part:?} is not a number of days"))?;
            if d == 0 || d > 90 {
                return Err("each retry is 1 to 90 days after the due date".into());
            }
            if days.last().is_some_and(|l| *l >= d) {
                return Err("list the retry days in increasing order, such as 1, 3, 7".into());
            }
            days.push(d);
        }
        if days.len() > 8 {
            return Err("at most 8 retries".into());
        }
        Ok(days)
    }

    pub fn due_date(&self, billing_date: NaiveDate) -> NaiveDate {
        billing_date + chrono::Days::new(self.terms_days.into())
    }

    /// When to try the card again after `attempts` failed tries, or `None`
    /// when the schedule is used up.
    pub fn next_attempt(&self, due: NaiveDate, attempts: u32) -> Option<NaiveDate> {
        let index = attempts.checked_sub(1)? as usize;
        self.retry_days
            .get(index)
            .map(|d| due + chrono::Days::new((*d).into()))
    }

    /// The standing on `today` of a membership whose oldest unpaid invoice
    /// was due on `oldest_due`.
    pub fn overdue(&self, oldest_due: Option<NaiveDate>, today: NaiveDate) -> Overdue {
        let Some(due) = oldest_due else {
            return Overdue::default();
        };
        let past = due + chrono::Days::new(self.past_due_after.into());
        let suspended = due + chrono::Days::new(self.suspend_after.into());
        Overdue {
            past_due_since: (past <= today).then_some(past),
            suspended_since: (suspended <= today).then_some(suspended),
        }
    }

    pub fn describe(&self) -> String {
        let retries = if self.retry_days.is_empty() {
            "no retries".to_string()
        } else {
            format!(
                "retries {} days after the due date",
                self.retry_days
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "due {} days after billing; {retries}; past due after {} days, suspended after {}",
            self.terms_days, self.past_due_after, self.suspend_after
        )
    }
}

#[cfg(test)]
mod tests;
