//! A membership's billing schedule: the anchor and interval its periods are
//! computed from, and the dates where staff moved the anchor (a new billing
//! date) or switched the interval (a new billing cycle).
//!
//! Each stretch of the schedule (a *segment*) computes its periods from its
//! own anchor, never from the previous period. Where a segment starts inside
//! a period of the one before, that period is cut short: the *bridging
//! period*. It is billed either as the part of the old period it covers
//! (prorated: every day costs what it cost before) or as one whole period
//! whatever its length (not prorated), as the staff chose.

use chrono::NaiveDate;

use super::{BillingPeriod, period, period_containing};
use crate::catalog::BillingInterval;

/// Periods of `interval` counted from `anchor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub anchor: NaiveDate,
    pub interval: BillingInterval,
    /// How the bridging period before this segment is billed.
    pub prorate_bridge: bool,
}

/// One billing period as the bill sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The days it covers: `[start, end)`.
    pub days: BillingPeriod,
    /// The period its fee is for: the days themselves, or, for a prorated
    /// bridging period, the whole period it was cut from.
    pub basis: BillingPeriod,
}

impl Slot {
    fn whole(p: BillingPeriod) -> Slot {
        Slot { days: p, basis: p }
    }

    pub fn start(&self) -> NaiveDate {
        self.days.start
    }

    pub fn end(&self) -> NaiveDate {
        self.days.end
    }

    /// Charged as a part of its basis.
    pub fn is_part(&self) -> bool {
        self.days != self.basis
    }
}

/// The segments of one run of a membership (from its sale or reactivation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    segments: Vec<Segment>,
}

impl Schedule {
    pub fn new(anchor: NaiveDate, interval: BillingInterval) -> Schedule {
        Schedule {
            segments: vec![Segment {
                anchor,
                interval,
                prorate_bridge: true,
            }],
        }
    }

    /// From `on`, periods of `interval` counted from `on`. A later change
    /// replaces the segments it reaches back over.
    pub fn change(&mut self, on: NaiveDate, interval: BillingInterval, prorate_bridge: bool) {
        let first = self.segments[0].anchor;
        if on <= first {
            self.segments = vec![Segment {
                anchor: on,
                interval,
                prorate_bridge: true,
            }];
            return;
        }
        self.segments.retain(|s| s.anchor < on);
        self.segments.push(Segment {
            anchor: on,
            interval,
            prorate_bridge,
        });
    }

    pub fn anchor(&self) -> NaiveDate {
        self.segments[0].anchor
    }

    /// The anchor that counts the periods billed on `day`: after a new
    /// billing date or a new cycle, the day it took effect.
    pub fn anchor_on(&self, day: NaiveDate) -> NaiveDate {
        self.segments[self.segment_index(day)].anchor
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The segment in effect on `day` (the first before the anchor).
    fn segment_index(&self, day: NaiveDate) -> usize {
        self.segments
            .iter()
            .rposition(|s| s.anchor <= day)
            .unwrap_or(0)
    }

    /// The interval billed on `day`.
    pub fn interval_on(&self, day: NaiveDate) -> BillingInterval {
        self.segments[self.segment_index(day)].interval
    }

    /// Period `n` of segment `k`, cut at the next segment.
    fn slot(&self, k: usize, n: u32) -> Option<Slot> {
        let seg = self.segments[k];
        let p = period(seg.anchor, seg.interval, n);
        match self.segments.get(k + 1) {
            Some(next) if p.start >= next.anchor => None,
            Some(next) if p.end > next.anchor => {
                let days = BillingPeriod {
                    start: p.start,
                    end: next.anchor,
                };
                Some(Slot {
                    days,
                    basis: if next.prorate_bridge { p } else { days },
                })
            }
            _ => Some(Slot::whole(p)),
        }
    }

    /// Every period from the anchor on, in order, without end.
    pub fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        (0..self.segments.len()).flat_map(move |k| (0u32..).map_while(move |n| self.slot(k, n)))
    }

    /// The period containing `day` (`None` before the anchor).
    pub fn slot_containing(&self, day: NaiveDate) -> Option<Slot> {
        if day < self.anchor() {
            return None;
        }
        let k = self.segment_index(day);
        let seg = self.segments[k];
        let (n, _) = period_containing(seg.anchor, seg.interval, day)?;
        self.slot(k, n)
    }

    /// The first billing date on or after `day`.
    pub fn next_start(&self, day: NaiveDate) -> NaiveDate {
        match self.slot_containing(day) {
            None => self.anchor(),
            Some(s) if s.start() == day => day,
            Some(s) => s.end(),
        }
    }

    /// The periods that start on or after `day`.
    pub fn slots_from(&self, day: NaiveDate) -> impl Iterator<Item = Slot> + '_ {
        let from = self.next_start(day);
        let k = self.segment_index(from);
        let seg = self.segments[k];
        let n = period_containing(seg.anchor, seg.interval, from).map_or(0, |(n, _)| n);
        (k..self.segments.len()).flat_map(move |j| {
            let first = if j == k { n } else { 0 };
            (first..).map_while(move |m| self.slot(j, m))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BillingInterval::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn p(a: NaiveDate, b: NaiveDate) -> BillingPeriod {
        BillingPeriod { start: a, end: b }
    }

    #[test]
    fn without_changes_the_slots_are_the_anchors_periods() {
        let s = Schedule::new(d(2027, 1, 31), Monthly);
        let starts: Vec<_> = s.slots().take(4).map(|s| s.start()).collect();
        assert_eq!(
            starts,
            [
                d(2027, 1, 31),
                d(2027, 2, 28),
                d(2027, 3, 31),
                d(2027, 4, 30)
            ]
        );
        assert!(s.slots().take(12).all(|s| !s.is_part()));
    }

    #[test]
    fn a_billing_date_moved_forward_cuts_a_bridging_period() {
        // Billed on the 1st; from 15 March on the 15th.
        for (prorate, basis) in [
            (true, p(d(2027, 3, 1), d(2027, 4, 1))),
            (false, p(d(2027, 3, 1), d(2027, 3, 15))),
        ] {
            let mut s = Schedule::new(d(2027, 1, 1), Monthly);
            s.change(d(2027, 3, 15), Monthly, prorate);
            let slots: Vec<_> = s.slots().take(5).collect();
            assert_eq!(slots[1], Slot::whole(p(d(2027, 2, 1), d(2027, 3, 1))));
            assert_eq!(slots[2].days, p(d(2027, 3, 1), d(2027, 3, 15)));
            assert_eq!(slots[2].basis, basis);
            assert_eq!(slots[2].is_part(), prorate);
            assert_eq!(slots[3], Slot::whole(p(d(2027, 3, 15), d(2027, 4, 15))));
            assert_eq!(slots[4].start(), d(2027, 4, 15));
        }
    }

    #[test]
    fn a_billing_date_moved_back_makes_a_short_period_and_the_anchor_keeps_its_day() {
        let mut s = Schedule::new(d(2027, 1, 20), Monthly);
        s.change(d(2027, 3, 5), Monthly, true);
        let slots: Vec<_> = s.slots().take(4).collect();
        assert_eq!(slots[1].days, p(d(2027, 2, 20), d(2027, 3, 5)));
        assert_eq!(slots[1].basis, p(d(2027, 2, 20), d(2027, 3, 20)));
        assert_eq!(slots[2].days, p(d(2027, 3, 5), d(2027, 4, 5)));
        assert_eq!(s.slot_containing(d(2027, 3, 1)), Some(slots[1]));
        assert_eq!(s.next_start(d(2027, 3, 1)), d(2027, 3, 5));
        assert_eq!(s.next_start(d(2027, 3, 5)), d(2027, 3, 5));
        assert_eq!(s.next_start(d(2027, 3, 6)), d(2027, 4, 5));
        assert_eq!(s.next_start(d(2026, 12, 1)), d(2027, 1, 20));
    }

    #[test]
    fn a_cycle_switch_starts_the_new_interval_on_its_date() {
        let mut s = Schedule::new(d(2027, 1, 10), Monthly);
        s.change(d(2027, 4, 25), Yearly, true);
        let slots: Vec<_> = s.slots().take(6).collect();
        assert_eq!(slots[3].days, p(d(2027, 4, 10), d(2027, 4, 25)));
        assert_eq!(slots[3].basis, p(d(2027, 4, 10), d(2027, 5, 10)));
        assert_eq!(slots[4].days, p(d(2027, 4, 25), d(2028, 4, 25)));
        assert_eq!(slots[5].days, p(d(2028, 4, 25), d(2029, 4, 25)));
        assert_eq!(s.interval_on(d(2027, 4, 24)), Monthly);
        assert_eq!(s.interval_on(d(2027, 4, 25)), Yearly);
        // And back: yearly → monthly on a period boundary needs no bridge.
        s.change(d(2028, 4, 25), Monthly, true);
        let after: Vec<_> = s.slots_from(d(2028, 1, 1)).take(2).collect();
        assert_eq!(after[0], Slot::whole(p(d(2028, 4, 25), d(2028, 5, 25))));
        assert_eq!(after[1].start(), d(2028, 5, 25));
    }

    #[test]
    fn slots_from_a_day_start_at_the_next_billing_date() {
        let mut s = Schedule::new(d(2027, 1, 1), Monthly);
        s.change(d(2027, 2, 10), Monthly, true);
        let starts: Vec<_> = s
            .slots_from(d(2027, 1, 15))
            .take(3)
            .map(|s| s.start())
            .collect();
        assert_eq!(starts, [d(2027, 2, 1), d(2027, 2, 10), d(2027, 3, 10)]);
        let starts: Vec<_> = s
            .slots_from(d(2027, 1, 1))
            .take(2)
            .map(|s| s.start())
            .collect();
        assert_eq!(starts, [d(2027, 1, 1), d(2027, 2, 1)]);
    }

    #[test]
    fn a_change_reaching_back_over_another_replaces_it() {
        let mut s = Schedule::new(d(2027, 1, 1), Monthly);
        s.change(d(2027, 3, 20), Monthly, true);
        s.change(d(2027, 3, 10), Monthly, false);
        assert_eq!(s.segments().len(), 2);
        assert_eq!(s.segments()[1].anchor, d(2027, 3, 10));
        // A change before the start moves the start.
        s.change(d(2026, 12, 15), Weekly, true);
        assert_eq!(s.segments().len(), 1);
        assert_eq!(s.anchor(), d(2026, 12, 15));
    }
}
