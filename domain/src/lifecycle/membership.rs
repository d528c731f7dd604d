//! One membership as its events describe it: its anchor, term, pauses,
//! cancellation and commitment, each derived from the events and the type,
//! never from stored state.

use chrono::{Days, Months, NaiveDate};

use super::{Event, Facts, Recorded, StatusReport, status};
use crate::billing::BillingPeriod;
use crate::billing::schedule::Schedule;
use crate::catalog::BillingInterval;
use crate::catalog::spec::{EndAction, FixedLength, Term, TypeSpec};

/// A range of days `[from, until)`; `until` is `None` while open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Span {
    pub fn days(&self) -> Option<i64> {
        self.until.map(|u| (u - self.from).num_days())
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day < u)
    }

    /// Whether two spans share a day.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.until.is_none_or(|u| other.from < u) && other.until.is_none_or(|u| self.from < u)
    }
}

/// `start + k × length`, computed from the start so month ends do not drift.
pub fn add_length(start: NaiveDate, length: FixedLength, k: u32) -> NaiveDate {
    let months = (length.years * 12 + length.months) * k;
    start + Months::new(months) + Days::new(u64::from(length.days * k))
}

/// The first day after the term that starts on `start`; `None` for ongoing types.
pub fn term_end_from(term: &Term, start: NaiveDate) -> Option<NaiveDate> {
    match term {
        Term::Ongoing => None,
        Term::Fixed { length } => Some(add_length(start, *length, 1)),
        Term::Seasons { ranges } => ranges
            .iter()
            .filter(|r| r.last >= start)
            .min_by_key(|r| r.first)
            .and_then(|r| r.last.succ_opt()),
    }
}

/// One run of a membership: from its sale or a reactivation to its end.
#[derive(Clone, Debug)]
pub struct Run {
    pub anchor: NaiveDate,
    /// The end of a cancellation that stands.
    pub end: Option<NaiveDate>,
    /// The sale's run (the initiation fee belongs to it), not a reactivation.
    pub first: bool,
    /// Its billing periods, for recurring types.
    pub schedule: Option<Schedule>,
}

/// The runs the events describe, oldest first; `interval` is the one the
/// membership was sold with (`None` for types not billed by period).
pub fn runs(events: &[Recorded], interval: Option<BillingInterval>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut interval = interval;
    for r in events {
        match &r.event {
            Event::Sold { start: on, .. } | Event::Reactivated { on } => {
                let first = matches!(r.event, Event::Sold { .. });
                if let Some(last) = runs.last().and_then(|r| r.schedule.as_ref()) {
                    interval = Some(last.interval_on(*on));
                }
                runs.push(Run {
                    anchor: *on,
                    end: None,
                    first,
                    schedule: interval.map(|i| Schedule::new(*on, i)),
                });
            }
            Event::CancelScheduled { end } => {
                if let Some(run) = runs.last_mut() {
                    run.end = Some(*end);
                }
            }
            Event::CancelUndone { .. } => {
                if let Some(run) = runs.last_mut() {
                    run.end = None;
                }
            }
            Event::BillingDateChanged { on, prorate } => {
                if let Some(s) = runs.last_mut().and_then(|r| r.schedule.as_mut()) {
                    let interval = s.interval_on(*on);
                    s.change(*on, interval, *prorate);
                }
            }
            Event::CycleSwitched { on, interval, .. } => {
                if let Some(s) = runs.last_mut().and_then(|r| r.schedule.as_mut()) {
                    s.change(*on, *interval, true);
                }
            }
            _ => {}
        }
    }
    runs
}

/// A membership: the type in effect and the events so far, oldest first.
#[derive(Clone, Copy, Debug)]
pub struct Membership<'a> {
    pub spec: &'a TypeSpec,
    pub events: &'a [Recorded],
    /// Set by billing while an invoice is unpaid past its due date.
    /// Where billing says the membership stands with its unpaid invoices.
    pub overdue: crate::payments::Overdue,
}

impl Membership<'_> {
    fn each(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().map(|r| &r.event)
    }

    /// The first day of the current run: the sale's start, or the latest reactivation.
    pub fn anchor(&self) -> Option<NaiveDate> {
        self.each()
            .filter_map(|e| match e {
                Event::Sold { start, .. } => Some(*start),
                Event::Reactivated { on } => Some(*on),
                _ => None,
            })
            .last()
    }

    /// The first day after the fixed term, renewals included. Types that renew
    /// into themselves renew by themselves: each term is counted from the anchor.
    pub fn term_end(&self, today: NaiveDate) -> Option<NaiveDate> {
        let mut end = None;
        let mut anchor = None;
        for event in self.each() {
            match event {
                Event::Sold { start: on, .. } | Event::Reactivated { on } => {
                    anchor = Some(*on);
                    end = term_end_from(&self.spec.term, *on);
                }
                Event::Renewed { until, .. } => end = Some(*until),
                Event::RenewedInto { until, .. } => end = *until,
                _ => {}
            }
        }
        let (mut end, anchor) = (end?, anchor?);
        if self.spec.end_action == EndAction::RenewSame && end <= today {
            match &self.spec.term {
                Term::Fixed { length } if !length.is_zero() => {
                    let mut k = 1;
                    while end <= today {
                        end = end.max(add_length(anchor, *length, k));
                        k += 1;
                    }
                }
                Term::Seasons { .. } => {
                    while end <= today {
                        match term_end_from(&self.spec.term, end) {
                            Some(next) if next > end => end = next,
                            _ => break,
                        }
                    }
                }
                _ => {}
            }
        }
        Some(end)
    }

    /// The pauses as they stand after resumes, oldest first.
    pub fn pauses(&self) -> Vec<Span> {
        let mut pauses: Vec<Span> = Vec::new();
        for event in self.each() {
            match event {
                Event::Paused { from, until } => pauses.push(Span {
                    from: *from,
                    until: *until,
                }),
                Event::Resumed { on } => {
                    if let Some(open) = pauses
                        .iter_mut()
                        .rev()
                        .find(|p| p.until.is_none_or(|u| u > *on))
                    {
                        open.until = Some((*on).max(open.from));
                    }
                }
                _ => {}
            }
        }
        pauses
    }

    /// The end date of a cancellation that stands (scheduled or taken effect).
    pub fn cancel_end(&self) -> Option<NaiveDate> {
        let mut end = None;
        for event in self.each() {
            match event {
                Event::CancelScheduled { end: e } => end = Some(*e),
                Event::CancelUndone { .. } | Event::Reactivated { .. } => end = None,
                _ => {}
            }
        }
        end
    }

    pub fn locked(&self) -> bool {
        self.each().fold(false, |locked, e| match e {
            Event::Locked { .. } => true,
            Event::Unlocked { .. } => false,
            _ => locked,
        })
    }

    /// The interval the membership was sold with: the type's, unless the
    /// billing cycle was switched since.
    fn sold_interval(&self) -> Option<BillingInterval> {
        self.each()
            .find_map(|e| match e {
                Event::CycleSwitched { from_interval, .. } => Some(*from_interval),
                _ => None,
            })
            .or(self.spec.billing_interval)
    }

    /// The billing schedule of the current run, for recurring types.
    pub fn schedule(&self) -> Option<Schedule> {
        self.spec.billing_interval?;
        runs(self.events, self.sold_interval()).pop()?.schedule
    }

    /// The anchor billing counts periods from on `day`: the run's first day,
    /// or where a new billing date or cycle took effect since.
    pub fn billing_anchor(&self, day: NaiveDate) -> Option<NaiveDate> {
        match self.schedule() {
            Some(s) => Some(s.anchor_on(day)),
            None => self.anchor(),
        }
    }

    /// The billing period containing `day`, for recurring types.
    pub fn period_on(&self, day: NaiveDate) -> Option<BillingPeriod> {
        self.schedule()?.slot_containing(day).map(|s| s.days)
    }

    /// The day the minimum commitment is met, moved by the pauses when the
    /// pause policy says so; `None` without a commitment.
    pub fn commitment_end(&self) -> Option<NaiveDate> {
        let periods = self.spec.policies.min_commitment_periods;
        if periods == 0 {
            return None;
        }
        let schedule = self.schedule()?;
        let mut end = schedule.slots().nth(periods as usize)?.start();
        let extends = self
            .spec
            .policies
            .pause
            .as_ref()
            .is_some_and(|p| p.extends_commitment);
        if extends {
            // Only a pause that starts while the commitment runs moves its end.
            let mut pauses = self.pauses();
            pauses.sort_by_key(|p| p.from);
            for pause in pauses {
                if let Some(days) = pause.days().filter(|_| pause.from < end) {
                    end = end + Days::new(days.max(0) as u64);
                }
            }
        }
        Some(end)
    }

    /// The next billing date after `today` while the membership runs.
    pub fn next_billing(&self, today: NaiveDate) -> Option<NaiveDate> {
        let schedule = self.schedule()?;
        let next = schedule.next_start(today.succ_opt()?.max(schedule.anchor()));
        let ends = [self.cancel_end(), self.term_end(today)];
        (!ends.iter().flatten().any(|end| next >= *end)).then_some(next)
    }

    pub fn facts(&self, today: NaiveDate) -> Facts {
        Facts {
            term_end: self.term_end(today),
            overdue: self.overdue,
            next_billing: self.next_billing(today),
        }
    }

    pub fn status(&self, today: NaiveDate) -> StatusReport {
        status(self.events, &self.facts(today), today)
    }

    /// The type and price version in effect on `day`, starting from those sold.
    pub fn type_and_price_on(&self, sold: (i64, i64), day: NaiveDate) -> (i64, i64) {
        self.each()
            .fold(sold, |(type_id, price_id), event| match event {
                Event::TypeChanged {
                    on,
                    type_id: t,
                    price_id: p,
                    ..
                } if *on <= day => (*t, *p),
                Event::PriceChanged {
                    on, price_id: p, ..
                } if *on <= day => (type_id, *p),
                Event::CycleSwitched {
                    on,
                    type_id: t,
                    price_id: p,
                    ..
                } if *on <= day => (*t, *p),
                Event::RenewedInto {
                    from,
                    type_id: t,
                    price_id: p,
                    ..
                } if *from <= day => (*t, *p),
                _ => (type_id, price_id),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BillingInterval;
    use crate::catalog::spec::{DateRange, PausePolicy};
    use crate::lifecycle::Status;
    use crate::money::Money;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rec(event: Event) -> Recorded {
        Recorded {
            event,
            by: "a front-desk user".into(),
            reason: String::new(),
            forced: false,
        }
    }

    fn sold(start: NaiveDate) -> Recorded {
        rec(Event::Sold {
            start,
            approval_required: false,
        })
    }

    #[test]
    fn a_fixed_term_ends_after_its_length_and_expires_unless_it_renews_itself() {
        let spec = TypeSpec {
            term: Term::Fixed {
                length: FixedLength {
                    years: 1,
                    months: 0,
                    days: 0,
                },
            },
            ..TypeSpec::default()
        };
        let events = [sold(d(2025, 1, 31))];
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(m.term_end(d(2026, 3, 1)), Some(d(2026, 1, 31)));
        assert_eq!(m.status(d(2026, 3, 1)).status, Status::Expired);
        let renewing = TypeSpec {
            end_action: EndAction::RenewSame,
            ..spec.clone()
        };
        let m = Membership {
            spec: &renewing,
            ..m
        };
        assert_eq!(m.term_end(d(2026, 3, 1)), Some(d(2027, 1, 31)));
        assert_eq!(m.status(d(2026, 3, 1)).status, Status::Active);
    }

    #[test]
    fn a_season_ends_the_day_after_its_last_day_and_a_manual_renewal_extends_it() {
        let spec = TypeSpec {
            term: Term::Seasons {
                ranges: vec![
                    DateRange {
                        first: d(2026, 9, 1),
                        last: d(2027, 5, 31),
                    },
                    DateRange {
                        first: d(2027, 9, 1),
                        last: d(2028, 5, 31),
                    },
                ],
            },
            ..TypeSpec::default()
        };
        let mut events = vec![sold(d(2026, 10, 3))];
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(m.term_end(d(2026, 10, 3)), Some(d(2027, 6, 1)));
        events.push(rec(Event::Renewed {
            on: d(2027, 5, 1),
            until: d(2028, 6, 1),
        }));
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(m.term_end(d(2027, 7, 1)), Some(d(2028, 6, 1)));
    }

    #[test]
    fn the_commitment_end_moves_by_the_pauses_when_the_policy_says_so() {
        let mut spec = TypeSpec::default();
        spec.policies.min_commitment_periods = 3;
        spec.policies.pause = Some(PausePolicy {
            max_per_year: None,
            min_days: 0,
            max_days: None,
            fee_per_period: Money::zero(crate::money::Currency::EUR),
            extends_commitment: true,
            portal_allowed: false,
        });
        let events = [
            sold(d(2026, 1, 15)),
            rec(Event::Paused {
                from: d(2026, 2, 1),
                until: Some(d(2026, 3, 1)),
            }),
            rec(Event::Resumed { on: d(2026, 2, 20) }),
        ];
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(
            m.pauses(),
            [Span {
                from: d(2026, 2, 1),
                until: Some(d(2026, 2, 20))
            }]
        );
        // Three monthly periods end 2026-04-15; the pause lasted 19 days.
        assert_eq!(m.commitment_end(), Some(d(2026, 5, 4)));
        // A pause after the commitment has ended does not move it.
        let mut later = events.to_vec();
        later.push(rec(Event::Paused {
            from: d(2026, 6, 1),
            until: Some(d(2026, 7, 1)),
        }));
        let m = Membership {
            events: &later,
            ..m
        };
        assert_eq!(m.commitment_end(), Some(d(2026, 5, 4)));
    }

    #[test]
    fn the_next_billing_date_stops_at_a_cancellation() {
        let spec = TypeSpec {
            billing_interval: Some(BillingInterval::Monthly),
            ..TypeSpec::default()
        };
        let mut events = vec![sold(d(2026, 3, 1))];
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(m.next_billing(d(2026, 11, 1)), Some(d(2026, 12, 1)));
        assert_eq!(m.next_billing(d(2026, 2, 1)), Some(d(2026, 3, 1)));
        events.push(rec(Event::CancelScheduled {
            end: d(2026, 12, 1),
        }));
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(m.next_billing(d(2026, 11, 1)), None);
    }

    #[test]
    fn a_type_change_takes_effect_on_its_date() {
        let spec = TypeSpec::default();
        let events = [
            sold(d(2026, 1, 1)),
            rec(Event::TypeChanged {
                on: d(2026, 6, 1),
                type_id: 7,
                type_name: "Premium".into(),
                price_id: 70,
            }),
            rec(Event::PriceChanged {
                on: d(2026, 9, 1),
                price_id: 71,
                fee: Money::zero(crate::money::Currency::EUR),
            }),
        ];
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(m.type_and_price_on((1, 10), d(2026, 5, 31)), (1, 10));
        assert_eq!(m.type_and_price_on((1, 10), d(2026, 6, 1)), (7, 70));
        assert_eq!(m.type_and_price_on((1, 10), d(2026, 9, 1)), (7, 71));
    }
}
