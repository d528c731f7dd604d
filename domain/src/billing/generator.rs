//! The invoice generator: events in, missing lines out, no database.
//!
//! `expected` computes every line a membership's events imply for the periods
//! that have started by a date, each under a stable key (what it charges for,
//! and which days). `generate` compares that with what was already issued,
//! key by key, and returns only the difference: the lines never billed, and a
//! correction wherever the events now imply another amount (a pause recorded
//! after its period was billed, a price moved with proration). Running it again
//! returns nothing, so billing is "generate what is missing", never "bill".
//!
//! Periods are billed in advance on their first day. Within a period, the days
//! are split where something changes (a pause starts or ends, the price or the
//! type changes, the membership ends); each part is prorated by calendar days
//! and rounded once.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::charges::{Discount, Line, LineKind};
use super::schedule::Slot;
use super::{BillingPeriod, fraction_of, prorate};
use crate::catalog::spec::TypeSpec;
use crate::catalog::{PriceVersion, PurchaseType};
use crate::lifecycle::{Event, Membership, Recorded, Span, runs};
use crate::money::{Currency, Money};

mod expected;
pub use expected::expected;
use expected::expected_in;

/// A type of the catalog as billing needs it.
#[derive(Clone, Copy, Debug)]
pub struct CatalogType<'a> {
    pub id: i64,
    pub spec: &'a TypeSpec,
    pub prices: &'a [PriceVersion],
}

/// Everything a membership's bill depends on.
#[derive(Clone, Copy, Debug)]
pub struct BillingInput<'a> {
    pub catalog: &'a [CatalogType<'a>],
    /// The type and price version it was sold with.
    pub sold: (i64, i64),
    pub events: &'a [Recorded],
    pub discount: Option<&'a Discount>,
    /// A cancellation in the middle of a period credits its unused days.
    pub credit_unused_on_cancel: bool,
    pub currency: Currency,
}

/// What a line charges for, stored with it: its kind with the first day of
/// its period and of the part of the period it covers
/// ("recurring:2026-12-01:2026-12-10"), or with a day ("discount:2026-12-01"),
/// or alone ("initiation"). Only the domain reads inside a key; others ask it
/// for its period.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LineKey(String);

impl LineKey {
    /// A part of a period: a kind of line, the period's first day, the part's.
    fn part(kind: LineKind, period: NaiveDate, part: NaiveDate) -> LineKey {
        LineKey(format!("{}:{period}:{part}", kind.as_str()))
    }

    /// A line of one day: "prepaid", "family_member" or "discount" and its day.
    fn on(name: &str, day: NaiveDate) -> LineKey {
        LineKey(format!("{name}:{day}"))
    }

    /// A key as stored with a line.
    pub fn stored(text: impl Into<String>) -> LineKey {
        LineKey(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first day of the period the line is for, when it has one
    /// ("recurring:2026-12-01:2026-12-10" → 2026-12-01; "initiation" → none).
    pub fn period(&self) -> Option<NaiveDate> {
        key_dates(&self.0).0
    }
}

impl std::fmt::Display for LineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<&str> for LineKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A line with the key that says what it charges for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedLine {
    pub key: LineKey,
    pub line: Line,
}

/// A line already on an invoice: its key and amount are all the generator needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedLine {
    pub key: LineKey,
    pub amount: Money,
}

impl<'a> BillingInput<'a> {
    fn find(&self, type_id: i64) -> Option<&CatalogType<'a>> {
        self.catalog.iter().find(|t| t.id == type_id)
    }

    fn price(&self, type_id: i64, price_id: i64) -> Option<(&CatalogType<'a>, &'a PriceVersion)> {
        let t = self.find(type_id)?;
        let prices: &'a [PriceVersion] = t.prices;
        prices.iter().find(|p| p.id == price_id).map(|p| (t, p))
    }
}

/// The lines missing from `issued` for the periods started by `up_to`: new
/// lines, and a correction for every key whose issued sum differs from what
/// the events imply now.
pub fn generate(input: &BillingInput, issued: &[IssuedLine], up_to: NaiveDate) -> Vec<KeyedLine> {
    generate_dated(input, issued, up_to)
        .into_iter()
        .map(|(line, _)| line)
        .collect()
}

/// The date a key's period starts ("recurring:2026-12-01:2026-12-10" →
/// 2026-12-01) and the day its part starts (2026-12-10), when it has them.
fn key_dates(key: &str) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let mut parts = key.split(':').skip(1);
    let mut next = || {
        parts
            .next()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let period = next();
    (period, next())
}

/// [`generate`], each line with the day it takes effect when it changes a
/// period already billed (`None` for the lines of a period billed for the
/// first time, which go on that period's own invoice).
///
/// The day a change takes effect is read from the period's parts: the
/// earliest day on which a part now starts and did not before, or did and
/// no longer does (a pause from the 5th to the 20th: the 5th; that pause
/// ended early on the 8th: the 8th); a part that now ends earlier, on that
/// end (a cancellation on the 20th crediting the unused days: the 20th);
/// otherwise (a price moved for the whole period) the period's first day.
/// Billing writes a change on that day at the earliest, so changes that
/// cancel out before then are never billed.
pub fn generate_dated(
    input: &BillingInput,
    issued: &[IssuedLine],
    up_to: NaiveDate,
) -> Vec<(KeyedLine, Option<NaiveDate>)> {
    let mut billed: BTreeMap<&str, i64> = BTreeMap::new();
    for line in issued {
        *billed.entry(line.key.as_str()).or_default() += line.amount.minor;
    }
    let mut ends = BTreeMap::new();
    let expected = expected_in(input, up_to, &mut ends);
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for e in &expected {
        seen.push(e.key.as_str());
        match billed.get(e.key.as_str()) {
            None => out.push(e.clone()),
            Some(sum) if *sum == e.line.amount.minor => {}
            Some(sum) => out.push(correction(
                e.key.as_str(),
                &e.line,
                Money::new(e.line.amount.minor - sum, input.currency),
                Money::new(*sum, input.currency),
            )),
        }
    }
    // A key billed before and not implied now is taken back, unless it is for
    // a period after `up_to` (billing for an earlier day, as when a simulated
    // clock moves back, must not undo later periods).
    let later = |key: &str| key_dates(key).0.is_some_and(|d| d > up_to);
    for (key, sum) in billed.iter().map(|(k, s)| (*k, *s)) {
        if sum != 0 && !seen.contains(&key) && !later(key) {
            let nothing = Line {
                kind: LineKind::Correction,
                description: key_text(key),
                period: None,
                amount: Money::new(0, input.currency),
                explanation: String::new(),
            };
            out.push(correction(
                key,
                &nothing,
                Money::new(-sum, input.currency),
                Money::new(sum, input.currency),
            ));
        }
    }
    // The parts each period was billed with, and those it has now.
    let mut was: BTreeMap<NaiveDate, Vec<NaiveDate>> = BTreeMap::new();
    for (key, sum) in &billed {
        if let (Some(period), part) = key_dates(key) {
            let parts = was.entry(period).or_default();
            if let Some(part) = part.filter(|_| *sum != 0) {
                parts.push(part);
            }
        }
    }
    let mut now: BTreeMap<NaiveDate, Vec<NaiveDate>> = BTreeMap::new();
    for e in &expected {
        if let (Some(period), Some(part)) = key_dates(e.key.as_str()) {
            now.entry(period).or_default().push(part);
        }
    }
    let mut effect: BTreeMap<NaiveDate, NaiveDate> = BTreeMap::new();
    for line in &out {
        let (Some(period), _) = key_dates(line.key.as_str()) else {
            continue;
        };
        let Some(before) = was.get(&period) else {
            continue;
        };
        let after = now.get(&period).map(Vec::as_slice).unwrap_or_default();
        let moved = before
            .iter()
            .filter(|d| !after.contains(d))
            .chain(after.iter().filter(|d| !before.contains(d)))
            .min()
            .copied();
        let shortened = line
            .line
            .period
            .filter(|p| {
                line.line.kind == LineKind::Correction
                    && ends.get(&period).is_some_and(|e| p.end < *e)
            })
            .map(|p| p.end);
        let on = [moved, shortened]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(period);
        effect
            .entry(period)
            .and_modify(|d| *d = (*d).min(on))
            .or_insert(on);
    }
    out.into_iter()
        .map(|line| {
            let on = match key_dates(line.key.as_str()) {
                (Some(period), _) => effect.get(&period).copied(),
                // A correction of a line without a period (the initiation fee).
                (None, _) if line.line.kind == LineKind::Correction => Some(up_to),
                (None, _) => None,
            };
            (line, on)
        })
        .collect()
}

/// What a billed line was for, read from its key, for a line taken back:
/// "Pause fee from 5 Dec 2026".
fn key_text(key: &str) -> String {
    let kind = key
        .split(':')
        .next()
        .and_then(LineKind::parse)
        .map_or("Charge", LineKind::label);
    match key_dates(key) {
        (_, Some(part)) | (Some(part), None) => {
            format!("{kind} from {}", super::day_text(part))
        }
        (None, None) => kind.to_string(),
    }
}

fn correction(key: &str, now: &Line, difference: Money, billed: Money) -> KeyedLine {
    let now_amount = Money::new(billed.minor + difference.minor, billed.currency);
    let explanation = if now_amount.minor == 0 {
        format!("{billed} was billed for it; after the change nothing is owed, so it is taken back")
    } else {
        format!(
            "{billed} was billed for it; after the change it is {now_amount} ({})",
            now.explanation
        )
    };
    KeyedLine {
        key: LineKey::stored(key),
        line: Line {
            kind: LineKind::Correction,
            description: format!("Correction: {}", now.description),
            period: now.period,
            amount: difference,
            explanation,
        },
    }
}

#[cfg(test)]
mod tests;
