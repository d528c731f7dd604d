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

fn billable(events: &[Recorded]) -> bool {
    let mut waiting = false;
    for r in events {
        match r.event {
            Event::Sold {
                approval_required, ..
            } => waiting = approval_required,
            Event::Approved { .. } => waiting = false,
            Event::Rejected { .. } => return false,
            _ => {}
        }
    }
    !waiting
}

fn family_on(events: &[Recorded], day: NaiveDate) -> u32 {
    let mut count: i64 = 0;
    for r in events {
        match &r.event {
            Event::FamilyMemberAdded { on, .. } if *on <= day => count += 1,
            Event::FamilyMemberRemoved { on, .. } if *on <= day => count -= 1,
            _ => {}
        }
    }
    u32::try_from(count.max(0)).unwrap_or(0)
}

/// Every line the events imply for the periods that started on or before `up_to`.
pub fn expected(input: &BillingInput, up_to: NaiveDate) -> Vec<KeyedLine> {
    expected_in(input, up_to, &mut BTreeMap::new())
}

/// [`expected`], noting the last day (exclusive) of each period's days under
/// the dates its keys carry.
fn expected_in(
    input: &BillingInput,
    up_to: NaiveDate,
    ends: &mut BTreeMap<NaiveDate, NaiveDate>,
) -> Vec<KeyedLine> {
    let mut out = Vec::new();
    let Some((sold_type, sold_price)) = input.price(input.sold.0, input.sold.1) else {
        return out;
    };
    if !billable(input.events) {
        return out;
    }
    let sold_m = Membership {
        spec: sold_type.spec,
        events: input.events,
        overdue: Default::default(),
    };
    match sold_type.spec.purchase_type {
        PurchaseType::Benefit => return out,
        PurchaseType::Prepaid => {
            return prepaid_lines(input, sold_price, &sold_type.spec.name, up_to);
        }
        PurchaseType::Recurring => {}
    }
    let Some(interval) = sold_type.spec.billing_interval else {
        return out;
    };
    // A pause resumed before it began changes no day.
    let pauses: Vec<_> = sold_m
        .pauses()
        .into_iter()
        .filter(|s| s.until != Some(s.from))
        .collect();
    let free: Vec<(NaiveDate, NaiveDate, &str)> = input
        .events
        .iter()
        .filter_map(|r| match r.event {
            Event::FreePeriods { from, until, .. } => Some((from, until, r.reason.as_str())),
            _ => None,
        })
        .collect();
    let term_end = sold_m.term_end(up_to);
    let mut billed_periods = 0u32;
    for run in runs(input.events, Some(interval)) {
        if run.first && run.anchor <= up_to && sold_price.initiation_fee.minor != 0 {
            out.push(initiation(sold_price.initiation_fee));
        }
        let Some(schedule) = &run.schedule else {
            continue;
        };
        for slot in schedule.slots() {
            // `p`: the period the fee is for; a bridging period covers part of it.
            let (days, p) = (slot.days, slot.basis);
            let stops = [run.end, term_end];
            if days.start > up_to || stops.iter().flatten().any(|e| days.start >= *e) {
                break;
            }
            ends.insert(p.start, days.end);
            ends.insert(days.start, days.end);
            let stop = run.end.filter(|_| input.credit_unused_on_cancel);
            let cuts = cuts_of(days, &pauses, &free, input.events, [term_end, stop]);
            let mut recurring = 0i64;
            for part in cuts.windows(2) {
                let (a, b) = (part[0], part[1]);
                let over = [stop, term_end];
                if over.iter().flatten().any(|e| a >= *e) {
                    break;
                }
                let (type_id, price_id) = sold_m.type_and_price_on(input.sold, a);
                let Some((t, price)) = input.price(type_id, price_id) else {
                    continue;
                };
                let paused = pauses.iter().any(|s| s.contains(a));
                let given = free
                    .iter()
                    .find(|(from, until, _)| *from <= a && a < *until)
                    .filter(|_| !paused)
                    .map(|(_, _, reason)| *reason);
                let part = Part {
                    t,
                    price,
                    basis: p,
                    days: BillingPeriod { start: a, end: b },
                    paused,
                    free: given,
                };
                if let Some(line) = part_line(&part, input.currency) {
                    if line.line.kind == LineKind::Recurring {
                        recurring += line.line.amount.minor;
                    }
                    out.push(line);
                }
            }
            out.extend(family_line(input, sold_type.spec, &slot));
            if let Some(discount) = input.discount.filter(|d| d.applies_to(billed_periods)) {
                out.extend(discount_line(input, discount, recurring, sold_price, days));
            }
            billed_periods += 1;
        }
    }
    out
}

/// One part of a period, for [`part_line`]: the type and price in effect in
/// it, the period its fee is for (`basis`), its days, and whether they are
/// paused or given free (with the reason).
struct Part<'a> {
    t: &'a CatalogType<'a>,
    price: &'a PriceVersion,
    basis: BillingPeriod,
    days: BillingPeriod,
    paused: bool,
    free: Option<&'a str>,
}

/// The line of one part of a period: free, paused (its pause fee, none when
/// the fee is nothing) or billed at the price in effect; prorated by days
/// when the part is not the whole period.
fn part_line(part: &Part<'_>, currency: Currency) -> Option<KeyedLine> {
    let money = |minor: i64| Money::new(minor, currency);
    let Part {
        t,
        price,
        basis: p,
        days: BillingPeriod { start: a, end: b },
        paused,
        free,
    } = *part;
    let whole = a == p.start && b == p.end;
    let fraction = fraction_of(p, a, b);
    let (kind, amount, what) = if let Some(reason) = free {
        let days = (b - a).num_days();
        return Some(KeyedLine {
            key: LineKey::part(LineKind::Recurring, p.start, a),
            line: Line {
                kind: LineKind::Recurring,
                description: format!(
                    "{} (free), {}",
                    t.spec.name,
                    BillingPeriod { start: a, end: b }.text()
                ),
                period: Some(BillingPeriod { start: a, end: b }),
                amount: money(0),
                explanation: format!("{days} days given free: {reason}"),
            },
        });
    } else if paused {
        let fee = t
            .spec
            .policies
            .pause
            .as_ref()
            .map(|pp| pp.fee_per_period)
            .unwrap_or(money(0));
        (LineKind::PauseFee, fee, "pause fee")
    } else {
        (LineKind::Recurring, price.fee, "membership fee")
    };
    let amount = if whole {
        amount
    } else {
        prorate(amount, fraction)
    };
    if amount.minor == 0 && paused {
        return None;
    }
    let days = (b - a).num_days();
    let explanation = if whole {
        format!("{} days at {amount} per period", p.days())
    } else {
        let full = if paused {
            t.spec.policies.pause.as_ref().map(|pp| pp.fee_per_period)
        } else {
            Some(price.fee)
        };
        let full = full.unwrap_or(money(0));
        if paused {
            format!(
                "{days} of {} days paused, at the {what} of {full} a period",
                p.days()
            )
        } else {
            format!(
                "{days} of {} days of {} at {full} a period",
                p.days(),
                t.spec.name
            )
        }
    };
    let served = BillingPeriod { start: a, end: b };
    Some(KeyedLine {
        key: LineKey::part(kind, p.start, a),
        line: Line {
            kind,
            description: if paused {
                format!("Pause fee ({}), {}", t.spec.name, served.text())
            } else {
                format!("{}, {}", t.spec.name, served.text())
            },
            period: Some(served),
            amount,
            explanation,
        },
    })
}

/// The lines of a prepaid membership: its price once per term, and the
/// initiation fee with the first.
fn prepaid_lines(
    input: &BillingInput,
    sold_price: &PriceVersion,
    name: &str,
    up_to: NaiveDate,
) -> Vec<KeyedLine> {
    let mut out = Vec::new();
    for run in runs(input.events, None)
        .iter()
        .filter(|r| r.anchor <= up_to)
    {
        let key = LineKey::on("prepaid", run.anchor);
        out.push(KeyedLine {
            key,
            line: Line {
                kind: LineKind::Prepaid,
                description: name.to_string(),
                period: None,
                amount: sold_price.fee,
                explanation: "paid once for the term".to_string(),
            },
        });
        if run.first && sold_price.initiation_fee.minor != 0 {
            out.push(initiation(sold_price.initiation_fee));
        }
    }
    out
}

/// Where the days of a period change hands: its first and last days, and
/// every pause, free period, change of type, price or cycle, renewal, term end
/// and (when unused days are credited) cancellation inside it; in order.
fn cuts_of(
    days: BillingPeriod,
    pauses: &[Span],
    free: &[(NaiveDate, NaiveDate, &str)],
    events: &[Recorded],
    stops: [Option<NaiveDate>; 2],
) -> Vec<NaiveDate> {
    let mut cuts = vec![days.start, days.end];
    let mut cut = |d: NaiveDate| {
        if days.start < d && d < days.end {
            cuts.push(d);
        }
    };
    for span in pauses {
        cut(span.from);
        if let Some(u) = span.until {
            cut(u);
        }
    }
    for (from, until, _) in free {
        cut(*from);
        cut(*until);
    }
    for r in events {
        match &r.event {
            Event::TypeChanged { on, .. } | Event::PriceChanged { on, .. } => cut(*on),
            Event::CycleSwitched { on, .. } => cut(*on),
            Event::RenewedInto { from, .. } => cut(*from),
            _ => {}
        }
    }
    for stop in stops.into_iter().flatten() {
        cut(stop);
    }
    cuts.sort();
    cuts.dedup();
    cuts
}

/// The fee for the family members of a group membership in a slot's days.
fn family_line(input: &BillingInput, spec: &TypeSpec, slot: &Slot) -> Option<KeyedLine> {
    let money = |minor: i64| Money::new(minor, input.currency);
    let (days, p) = (slot.days, slot.basis);
    let family = family_on(input.events, days.start);
    let group = spec.group.as_ref()?;
    if family == 0 || group.additional_member_fee.minor == 0 {
        return None;
    }
    {
        let fee = group.additional_member_fee;
        let all = money(fee.minor * i64::from(family));
        let (amount, explanation) = if slot.is_part() {
            let fraction = fraction_of(p, days.start, days.end);
            (
                prorate(all, fraction),
                format!("{family} × {fee}, {} of {} days", days.days(), p.days()),
            )
        } else {
            (all, format!("{family} × {fee}"))
        };
        Some(KeyedLine {
            key: LineKey::on("family_member", days.start),
            line: Line {
                kind: LineKind::FamilyMember,
                description: format!("Family members ({family})"),
                period: Some(days),
                amount,
                explanation,
            },
        })
    }
}

/// A membership's discount on a period's membership fee (`recurring`).
fn discount_line(
    input: &BillingInput,
    discount: &Discount,
    recurring: i64,
    sold_price: &PriceVersion,
    days: BillingPeriod,
) -> Option<KeyedLine> {
    let money = |minor: i64| Money::new(minor, input.currency);
    let base = money(recurring);
    let (off, explanation) = match discount {
        Discount::Percent { percent, .. } => (
            prorate(base, *percent / Decimal::ONE_HUNDRED),
            format!("{}% of {base}", percent.normalize()),
        ),
        Discount::Fixed { amount, .. } => (
            money(amount.minor.min(recurring)),
            format!("{amount} off the membership fee"),
        ),
        Discount::Manual { amount, reason } => (
            money(
                amount
                    .minor
                    .min(recurring + sold_price.initiation_fee.minor),
            ),
            format!("once: {reason}"),
        ),
    };
    (off.minor != 0).then(|| KeyedLine {
        key: LineKey::on("discount", days.start),
        line: Line {
            kind: LineKind::Discount,
            description: format!("Discount ({})", discount.describe()),
            period: Some(days),
            amount: money(-off.minor),
            explanation,
        },
    })
}

fn initiation(fee: Money) -> KeyedLine {
    KeyedLine {
        key: LineKey::stored("initiation"),
        line: Line {
            kind: LineKind::Initiation,
            description: "Initiation fee".to_string(),
            period: None,
            amount: fee,
            explanation: "once, on the first invoice".to_string(),
        },
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
