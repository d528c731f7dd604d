//! Grouping a membership's missing lines into invoices: which invoice each
//! line goes on, and on which date. Pure: the backend writes what this says.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::generator::{IssuedLine, KeyedLine, LineKey};

/// A missing line and, when it changes a period already billed, the day the
/// change takes effect (see `generator::generate_dated`).
pub type Dated = (KeyedLine, Option<NaiveDate>);

/// One invoice about to be written for a membership: its billing date, its
/// lines each with its `seq` under its key (a key billed before gets the next
/// number), and the first day of a period billed before that it changes (a
/// net credit is then a credit note for the invoice that billed the period).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub billing_date: NaiveDate,
    pub lines: Vec<(KeyedLine, i64)>,
    pub changes: Option<NaiveDate>,
}

/// The invoice date of a missing line: its period's first day for a period
/// billed for the first time (so a run that catches up bills each period on
/// an invoice of its own); the run's date for the lines of a change and lines
/// without a period.
pub fn invoice_date((line, change): &Dated, run_date: NaiveDate) -> Option<NaiveDate> {
    if change.is_some() {
        return Some(run_date);
    }
    line.key.period().map(|d| d.min(run_date))
}

/// The missing lines that may be billed by `up_to`: a change waits for the
/// day it takes effect, so changes that cancel out before then never bill.
pub fn due_by(dated: Vec<Dated>, up_to: NaiveDate) -> Vec<Dated> {
    dated
        .into_iter()
        .filter(|(_, on)| on.is_none_or(|on| on <= up_to))
        .collect()
}

/// Groups a membership's missing lines into invoices: one per period billed
/// for the first time, on its first day; the lines of changes together on
/// one invoice of the run's date (the same invoice as a period starting that
/// day); the initiation fee on the first.
pub fn group(issued: &[IssuedLine], missing: Vec<Dated>, run_date: NaiveDate) -> Vec<Draft> {
    let mut seq: HashMap<&LineKey, i64> = HashMap::new();
    for line in issued {
        *seq.entry(&line.key).or_default() += 1;
    }
    let mut groups: BTreeMap<NaiveDate, Vec<KeyedLine>> = BTreeMap::new();
    let mut changes: BTreeMap<NaiveDate, NaiveDate> = BTreeMap::new();
    let mut undated = Vec::new();
    for dated in missing {
        match invoice_date(&dated, run_date) {
            Some(d) => {
                if let (Some(_), Some(period)) = (dated.1, dated.0.key.period()) {
                    changes.entry(d).or_insert(period);
                }
                groups.entry(d).or_default().push(dated.0)
            }
            None => undated.push(dated.0),
        }
    }
    if !undated.is_empty() {
        let first = groups.keys().next().copied().unwrap_or(run_date);
        let group = groups.entry(first).or_default();
        for (i, line) in undated.into_iter().enumerate() {
            group.insert(i, line);
        }
    }
    let mut next: HashMap<LineKey, i64> = HashMap::new();
    groups
        .into_iter()
        .map(|(billing_date, lines)| Draft {
            billing_date,
            changes: changes.remove(&billing_date),
            lines: lines
                .into_iter()
                .map(|l| {
                    let n = next
                        .entry(l.key.clone())
                        .or_insert_with(|| seq.get(&l.key).copied().unwrap_or(0));
                    let this = *n;
                    *n += 1;
                    (l, this)
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::charges::{Line, LineKind};
    use crate::money::{Currency, Money};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn keyed(key: &str, minor: i64) -> KeyedLine {
        KeyedLine {
            key: LineKey::stored(key),
            line: Line {
                kind: LineKind::Recurring,
                description: key.into(),
                period: None,
                amount: Money::new(minor, Currency::EUR),
                explanation: String::new(),
            },
        }
    }

    #[test]
    fn periods_go_on_their_own_invoices_and_changes_on_one_of_the_run_date() {
        let run = d(2026, 12, 10);
        let issued = [IssuedLine {
            key: LineKey::stored("recurring:2026-11-01:2026-11-01"),
            amount: Money::new(4900, Currency::EUR),
        }];
        let missing = vec![
            (
                keyed("recurring:2026-11-01:2026-11-01", -1000),
                Some(d(2026, 11, 20)),
            ),
            (keyed("recurring:2026-12-01:2026-12-01", 4900), None),
            (keyed("initiation", 2500), None),
            (
                keyed("recurring:2027-01-01:2027-01-01", 4900),
                Some(d(2026, 12, 20)),
            ),
        ];
        // The January change waits for its day.
        let due = due_by(missing, run);
        assert_eq!(due.len(), 3);
        let drafts = group(&issued, due, run);
        let dates: Vec<_> = drafts.iter().map(|i| i.billing_date).collect();
        assert_eq!(dates, vec![d(2026, 12, 1), run]);
        // The initiation fee leads the first invoice; the December period is on it.
        let first: Vec<_> = drafts[0]
            .lines
            .iter()
            .map(|(l, seq)| (l.key.as_str(), *seq))
            .collect();
        assert_eq!(
            first,
            vec![("initiation", 0), ("recurring:2026-12-01:2026-12-01", 0)]
        );
        // The November correction: the key's second line, changing November.
        assert_eq!(drafts[1].lines[0].1, 1);
        assert_eq!(drafts[1].changes, Some(d(2026, 11, 1)));
    }
}
