//! Billing periods and proration: pure calendar arithmetic.
//!
//! Period n of a membership is computed from its anchor date, never from the
//! previous period: `start(n) = anchor + n × interval`, clamped to the end of a
//! short month. An anchor on 31 January therefore bills on 28/29 February, then
//! 31 March, 30 April, 31 May: the 31st comes back whenever the month has one.
//! Periods are half-open `[start, end)` ranges of calendar dates.

pub mod charges;
pub mod generator;
pub mod invoicing;
pub mod revenue;
pub mod schedule;

use chrono::{Days, Months, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::catalog::BillingInterval;
use crate::money::Money;

/// How far one interval reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Days(u64),
    Months(u32),
}

impl BillingInterval {
    pub fn step(self) -> Step {
        match self {
            BillingInterval::Weekly => Step::Days(7),
            BillingInterval::TwoWeeks => Step::Days(14),
            BillingInterval::FourWeeks => Step::Days(28),
            BillingInterval::Monthly => Step::Months(1),
            BillingInterval::TwoMonths => Step::Months(2),
            BillingInterval::Quarterly => Step::Months(3),
            BillingInterval::HalfYearly => Step::Months(6),
            BillingInterval::Yearly => Step::Months(12),
        }
    }
}

/// A billing period: the dates from `start` up to, not including, `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl BillingPeriod {
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// The last day inside the period (for people: "1 Mar to 31 Mar").
    pub fn last_day(&self) -> NaiveDate {
        self.end.pred_opt().expect("a period has at least one day")
    }

    /// The days for people, first and last included: "1–4 Dec 2026",
    /// "27 Nov – 3 Dec 2026", "27 Dec 2026 – 3 Jan 2027", "5 Dec 2026".
    pub fn text(&self) -> String {
        days_text(self.start, self.last_day())
    }
}

/// A day for people: "5 Dec 2026".
pub fn day_text(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

/// Days from `first` to `last`, both included, for people.
pub fn days_text(first: NaiveDate, last: NaiveDate) -> String {
    use chrono::Datelike;
    if last <= first {
        day_text(first)
    } else if first.year() != last.year() {
        format!("{} – {}", day_text(first), day_text(last))
    } else if first.month() != last.month() {
        format!("{} – {}", first.format("%-d %b"), day_text(last))
    } else {
        format!("{}–{}", first.day(), day_text(last))
    }
}

/// The start of period `n` (0 is the anchor itself), clamped to the month's end.
pub fn period_start(anchor: NaiveDate, interval: BillingInterval, n: u32) -> NaiveDate {
    match interval.step() {
        Step::Days(days) => anchor + Days::new(days * u64::from(n)),
        // chrono clamps to the last day of a shorter month.
        Step::Months(months) => anchor + Months::new(months * n),
    }
}

/// Period `n` from the anchor.
pub fn period(anchor: NaiveDate, interval: BillingInterval, n: u32) -> BillingPeriod {
    BillingPeriod {
        start: period_start(anchor, interval, n),
        end: period_start(anchor, interval, n + 1),
    }
}

/// The number and the period that contain `date` (`None` before the anchor).
pub fn period_containing(
    anchor: NaiveDate,
    interval: BillingInterval,
    date: NaiveDate,
) -> Option<(u32, BillingPeriod)> {
    if date < anchor {
        return None;
    }
    // Start from a lower bound (no month is longer than 31 days) and walk forward.
    let longest_days = match interval.step() {
        Step::Days(d) => d as i64,
        Step::Months(m) => i64::from(m) * 31,
    };
    let mut n = u32::try_from((date - anchor).num_days() / longest_days).unwrap_or(u32::MAX);
    loop {
        let p = period(anchor, interval, n);
        if date < p.start {
            n -= 1;
        } else if date >= p.end {
            n += 1;
        } else {
            return Some((n, p));
        }
    }
}

/// The first billing date on or after `date`.
pub fn next_billing_date(
    anchor: NaiveDate,
    interval: BillingInterval,
    date: NaiveDate,
) -> NaiveDate {
    match period_containing(anchor, interval, date) {
        None => anchor,
        Some((_, p)) if p.start == date => date,
        Some((_, p)) => p.end,
    }
}

/// The share of `period` that `[from, to)` covers, clipped to the period, as a
/// fraction of its calendar days.
pub fn fraction_of(period: BillingPeriod, from: NaiveDate, to: NaiveDate) -> Decimal {
    let start = from.max(period.start);
    let end = to.min(period.end);
    if end <= start {
        return Decimal::ZERO;
    }
    Decimal::from((end - start).num_days()) / Decimal::from(period.days())
}

/// `amount × fraction`, rounded once to the currency's minor unit, half away from zero.
pub fn prorate(amount: Money, fraction: Decimal) -> Money {
    let minor = (Decimal::from(amount.minor) * fraction)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .expect("a prorated amount is never larger than the amount");
    Money::new(minor, amount.currency)
}

/// Splits an amount by weights; every part is rounded, and the last part takes
/// the remainder so that the parts always sum to the amount exactly.
pub fn split(amount: Money, weights: &[Decimal]) -> Vec<Money> {
    let total: Decimal = weights.iter().copied().sum();
    if weights.is_empty() || total.is_zero() {
        return Vec::new();
    }
    let mut parts = Vec::with_capacity(weights.len());
    let mut given = 0i64;
    for (i, weight) in weights.iter().enumerate() {
        let minor = if i + 1 == weights.len() {
            amount.minor - given
        } else {
            prorate(amount, *weight / total).minor
        };
        given += minor;
        parts.push(Money::new(minor, amount.currency));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use BillingInterval::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_31st_anchor_bills_on_the_last_day_of_february_then_the_31st_again() {
        let anchor = d(2027, 1, 31);
        let starts: Vec<_> = (0..5).map(|n| period_start(anchor, Monthly, n)).collect();
        assert_eq!(
            starts,
            [
                d(2027, 1, 31),
                d(2027, 2, 28),
                d(2027, 3, 31),
                d(2027, 4, 30),
                d(2027, 5, 31)
            ]
        );
        assert_eq!(
            period_start(d(2028, 1, 31), Monthly, 1),
            d(2028, 2, 29),
            "leap year"
        );
    }

    #[test]
    fn periods_are_half_open_and_follow_each_other_without_gaps() {
        let p = period(d(2026, 11, 15), Monthly, 0);
        assert_eq!(
            p,
            BillingPeriod {
                start: d(2026, 11, 15),
                end: d(2026, 12, 15)
            }
        );
        assert_eq!(p.days(), 30);
        assert_eq!(p.last_day(), d(2026, 12, 14));
        assert!(p.contains(d(2026, 12, 14)) && !p.contains(d(2026, 12, 15)));
    }

    #[test]
    fn day_based_intervals_step_by_days() {
        assert_eq!(
            period(d(2026, 12, 28), Weekly, 1),
            BillingPeriod {
                start: d(2027, 1, 4),
                end: d(2027, 1, 11)
            }
        );
        assert_eq!(period_start(d(2026, 1, 1), TwoWeeks, 2), d(2026, 1, 29));
        assert_eq!(period_start(d(2026, 1, 1), FourWeeks, 13), d(2026, 12, 31));
        assert_eq!(period_start(d(2026, 2, 28), Yearly, 2), d(2028, 2, 28));
        assert_eq!(period_start(d(2028, 2, 29), Yearly, 1), d(2029, 2, 28));
        assert_eq!(
            period_start(d(2028, 2, 29), Yearly, 4),
            d(2032, 2, 29),
            "from the anchor, not the previous period"
        );
        assert_eq!(period_start(d(2026, 8, 31), Quarterly, 2), d(2027, 2, 28));
        assert_eq!(period_start(d(2026, 8, 31), HalfYearly, 1), d(2027, 2, 28));
        assert_eq!(period_start(d(2026, 12, 31), TwoMonths, 1), d(2027, 2, 28));
    }

    #[test]
    fn the_period_containing_a_date_is_found_from_the_anchor() {
        let anchor = d(2027, 1, 31);
        assert_eq!(period_containing(anchor, Monthly, d(2027, 1, 30)), None);
        assert_eq!(
            period_containing(anchor, Monthly, d(2027, 3, 30)).unwrap(),
            (
                1,
                BillingPeriod {
                    start: d(2027, 2, 28),
                    end: d(2027, 3, 31)
                }
            )
        );
        assert_eq!(
            period_containing(anchor, Monthly, d(2027, 3, 31))
                .unwrap()
                .0,
            2
        );
        assert_eq!(
            next_billing_date(anchor, Monthly, d(2027, 3, 1)),
            d(2027, 3, 31)
        );
        assert_eq!(
            next_billing_date(anchor, Monthly, d(2027, 3, 31)),
            d(2027, 3, 31)
        );
        assert_eq!(next_billing_date(anchor, Monthly, d(2026, 12, 1)), anchor);
    }

    #[test]
    fn proration_counts_calendar_days_and_rounds_half_away_from_zero() {
        let p = period(d(2026, 11, 1), Monthly, 0); // 30 days
        let fee = Money::new(5900, Currency::EUR);
        let f = fraction_of(p, d(2026, 11, 16), d(2026, 12, 1));
        assert_eq!(f, Decimal::from(15) / Decimal::from(30));
        assert_eq!(prorate(fee, f), Money::new(2950, Currency::EUR));
        // 1/3 of 1.00 is 0.333…, 2/3 is 0.666…: rounded 33 and 67.
        assert_eq!(
            prorate(
                Money::new(100, Currency::EUR),
                Decimal::ONE / Decimal::from(3)
            )
            .minor,
            33
        );
        assert_eq!(
            prorate(
                Money::new(100, Currency::EUR),
                Decimal::TWO / Decimal::from(3)
            )
            .minor,
            67
        );
        assert_eq!(
            prorate(Money::new(5, Currency::EUR), Decimal::new(5, 1)).minor,
            3,
            "2.5 rounds away from zero"
        );
        assert_eq!(
            prorate(Money::new(-5, Currency::EUR), Decimal::new(5, 1)).minor,
            -3
        );
        assert_eq!(
            fraction_of(p, d(2026, 10, 1), d(2026, 10, 20)),
            Decimal::ZERO,
            "outside the period"
        );
        assert_eq!(
            fraction_of(p, d(2026, 10, 1), d(2027, 1, 1)),
            Decimal::ONE,
            "clipped to the period"
        );
    }

    #[test]
    fn a_split_always_sums_to_the_amount() {
        let parts = split(
            Money::new(100, Currency::EUR),
            &[Decimal::ONE, Decimal::ONE, Decimal::ONE],
        );
        assert_eq!(
            parts.iter().map(|m| m.minor).collect::<Vec<_>>(),
            [33, 33, 34]
        );
        assert!(split(Money::new(100, Currency::EUR), &[]).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn every_date_after_the_anchor_is_in_exactly_one_period(
            anchor_days in 0i64..3000, offset in 0i64..2000, interval_index in 0usize..8
        ) {
            let interval = BillingInterval::ALL[interval_index];
            let anchor = d(2020, 1, 1) + chrono::Duration::days(anchor_days);
            let date = anchor + chrono::Duration::days(offset);
            let (n, p) = period_containing(anchor, interval, date).unwrap();
            proptest::prop_assert!(p.contains(date));
            proptest::prop_assert_eq!(p, period(anchor, interval, n));
            proptest::prop_assert_eq!(period(anchor, interval, n).end, period(anchor, interval, n + 1).start);
            proptest::prop_assert!(p.days() >= 7);
        }

        #[test]
        fn splits_are_exact(minor in -1_000_000_000i64..1_000_000_000, weights in proptest::collection::vec(1u32..1000, 1..8)) {
            let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
            let parts = split(Money::new(minor, Currency::EUR), &weights);
            proptest::prop_assert_eq!(parts.iter().map(|m| m.minor).sum::<i64>(), minor);
        }
    }
}
