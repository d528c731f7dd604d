//! Revenue recognition: when the money billed is earned.
//!
//! A line of a type marked *deferred* is earned day by day over the days it
//! covers; every other line (and any line without a period: initiation fees,
//! credit notes) is earned on its billing date. What is billed but not yet
//! earned is *deferred*. Amounts earned by a day are computed cumulatively
//! from the line's first day and rounded once (half away from zero), so a
//! line's months always add up to the line exactly.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{BillingPeriod, prorate};
use crate::money::{Currency, Money};

/// One billed line as recognition needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BilledLine {
    pub account: String,
    pub deferred: bool,
    pub billed_on: NaiveDate,
    pub period: Option<BillingPeriod>,
    pub amount: Money,
}

impl BilledLine {
    /// What the line has earned by the end of `day`.
    pub fn earned_by(&self, day: NaiveDate) -> Money {
        let zero = Money::new(0, self.amount.currency);
        match self.period {
            Some(p) if self.deferred && p.days() > 0 => {
                if day < p.start {
                    zero
                } else if day >= p.last_day() {
                    self.amount
                } else {
                    let days = (day - p.start).num_days() + 1;
                    prorate(self.amount, Decimal::from(days) / Decimal::from(p.days()))
                }
            }
            _ if day >= self.billed_on => self.amount,
            _ => zero,
        }
    }
}

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(day: NaiveDate) -> Month {
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a month has a first day")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a month has a last day")
    }

    pub fn next(self) -> Month {
        Month::of(self.first_day() + Months::new(1))
    }

    /// "2026-11".
    pub fn parse(text: &str) -> Option<Month> {
        NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
            .ok()
            .map(Month::of)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One month of one revenue account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueRow {
    pub month: Month,
    /// The type's revenue account ("" when the type names none).
    pub account: String,
    /// Billed in the month (by billing date).
    pub billed: Money,
    /// Earned in the month.
    pub recognised: Money,
    /// Billed by the month's end and not earned by then.
    pub deferred: Money,
}

/// Each month from `from` to `to` (inclusive) for each account with anything
/// billed, earned or deferred in it.
pub fn report(lines: &[BilledLine], from: Month, to: Month, currency: Currency) -> Vec<RevenueRow> {
    let mut accounts: BTreeMap<&str, Vec<&BilledLine>> = BTreeMap::new();
    for line in lines {
        accounts
            .entry(line.account.as_str())
            .or_default()
            .push(line);
    }
    let mut out = Vec::new();
    let mut month = from;
    while month <= to {
        let (first, last) = (month.first_day(), month.last_day());
        let before = first.pred_opt().expect("a day before the month");
        for (account, lines) in &accounts {
            let (mut billed, mut recognised, mut deferred) = (0i64, 0i64, 0i64);
            for l in lines {
                if Month::of(l.billed_on) == month {
                    billed += l.amount.minor;
                }
                recognised += l.earned_by(last).minor - l.earned_by(before).minor;
                if l.billed_on <= last {
                    deferred += l.amount.minor - l.earned_by(last).minor;
                }
            }
            if billed != 0 || recognised != 0 || deferred != 0 {
                out.push(RevenueRow {
                    month,
                    account: account.to_string(),
                    billed: Money::new(billed, currency),
                    recognised: Money::new(recognised, currency),
                    deferred: Money::new(deferred, currency),
                });
            }
        }
        month = month.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::EUR)
    }

    fn month(y: i32, m: u32) -> Month {
        Month { year: y, month: m }
    }

    #[test]
    fn a_deferred_yearly_line_is_earned_day_by_day_and_its_months_add_up() {
        // €365.00 for 2026-11-15 to 2027-11-14: one euro a day.
        let line = BilledLine {
            account: "4100".into(),
            deferred: true,
            billed_on: d(2026, 11, 15),
            period: Some(BillingPeriod {
                start: d(2026, 11, 15),
                end: d(2027, 11, 15),
            }),
            amount: eur(36500),
        };
        let rows = report(&[line], month(2026, 10), month(2027, 12), Currency::EUR);
        let first = &rows[0];
        assert_eq!(first.month, month(2026, 11));
        assert_eq!(
            (first.billed, first.recognised, first.deferred),
            (eur(36500), eur(1600), eur(34900))
        );
        assert_eq!(
            (rows[1].recognised, rows[1].deferred),
            (eur(3100), eur(31800))
        );
        let last = rows.last().unwrap();
        assert_eq!(last.month, month(2027, 11));
        assert_eq!((last.recognised, last.deferred), (eur(1400), eur(0)));
        let total: i64 = rows.iter().map(|r| r.recognised.minor).sum();
        assert_eq!(total, 36500);
    }

    #[test]
    fn uneven_days_round_once_cumulatively_and_still_add_up() {
        // €100.00 over 31 days: 3.2258… a day.
        let line = BilledLine {
            account: String::new(),
            deferred: true,
            billed_on: d(2026, 1, 20),
            period: Some(BillingPeriod {
                start: d(2026, 1, 20),
                end: d(2026, 2, 20),
            }),
            amount: eur(10000),
        };
        // Earned by 31 January: 12 of 31 days = 38.709… → 38.71.
        assert_eq!(line.earned_by(d(2026, 1, 31)), eur(3871));
        let rows = report(&[line], month(2026, 1), month(2026, 2), Currency::EUR);
        assert_eq!(rows[0].recognised.minor + rows[1].recognised.minor, 10000);
        assert_eq!(rows[1].recognised, eur(6129));
    }

    #[test]
    fn lines_not_deferred_are_earned_when_billed_and_accounts_are_reported_apart() {
        let lines = [
            BilledLine {
                account: "4000".into(),
                deferred: false,
                billed_on: d(2026, 3, 10),
                period: Some(BillingPeriod {
                    start: d(2026, 3, 10),
                    end: d(2026, 4, 10),
                }),
                amount: eur(5900),
            },
            BilledLine {
                account: "4100".into(),
                deferred: true,
                billed_on: d(2026, 3, 10),
                period: None,
                amount: eur(2500),
            },
        ];
        let rows = report(&lines, month(2026, 3), month(2026, 3), Currency::EUR);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].account.as_str(), rows[0].recognised),
            ("4000", eur(5900))
        );
        assert_eq!(
            (rows[1].account.as_str(), rows[1].recognised),
            ("4100", eur(2500))
        );
        assert!(rows.iter().all(|r| r.deferred == eur(0)));
        assert_eq!(Month::parse("2026-03"), Some(month(2026, 3)));
        assert_eq!(Month::parse("March"), None);
        assert_eq!(month(2026, 12).next(), month(2027, 1));
    }
}
