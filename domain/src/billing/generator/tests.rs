//! The generator, table by table with literal dates and exact amounts, and a
//! property test over random lifecycles.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::catalog::BillingInterval;
use crate::catalog::spec::PausePolicy;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn spec(interval: BillingInterval) -> TypeSpec {
    let mut s = TypeSpec {
        name: "Adult".into(),
        billing_interval: Some(interval),
        ..TypeSpec::default()
    };
    s.policies.pause = Some(PausePolicy {
        max_per_year: None,
        min_days: 0,
        max_days: None,
        fee_per_period: eur(0),
        extends_commitment: false,
        portal_allowed: true,
    });
    s
}

fn prices() -> Vec<PriceVersion> {
    vec![
        PriceVersion {
            id: 10,
            fee: eur(3000),
            initiation_fee: eur(2500),
            effective_from: d(2024, 1, 1),
            memberships: 0,
        },
        PriceVersion {
            id: 11,
            fee: eur(3100),
            initiation_fee: eur(2500),
            effective_from: d(2026, 1, 1),
            memberships: 0,
        },
    ]
}

fn rec(event: Event) -> Recorded {
    Recorded {
        event,
        by: String::new(),
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

struct Fixture {
    spec: TypeSpec,
    prices: Vec<PriceVersion>,
    /// Type 2: the same club billed yearly, €300.00 (price version 20).
    yearly: TypeSpec,
    yearly_prices: Vec<PriceVersion>,
}

impl Fixture {
    fn new(interval: BillingInterval) -> Fixture {
        let mut yearly = spec(BillingInterval::Yearly);
        yearly.name = "Adult Yearly".into();
        Fixture {
            spec: spec(interval),
            prices: prices(),
            yearly,
            yearly_prices: vec![PriceVersion {
                id: 20,
                fee: eur(30000),
                initiation_fee: eur(0),
                effective_from: d(2024, 1, 1),
                memberships: 0,
            }],
        }
    }

    fn lines(&self, events: &[Recorded], up_to: NaiveDate) -> Vec<(String, i64)> {
        self.with(events, None, true, |input| {
            expected(input, up_to)
                .into_iter()
                .map(|l| (l.key.to_string(), l.line.amount.minor))
                .collect()
        })
    }

    fn with<T>(
        &self,
        events: &[Recorded],
        discount: Option<&Discount>,
        credit: bool,
        f: impl FnOnce(&BillingInput) -> T,
    ) -> T {
        let catalog = [
            CatalogType {
                id: 1,
                spec: &self.spec,
                prices: &self.prices,
            },
            CatalogType {
                id: 2,
                spec: &self.yearly,
                prices: &self.yearly_prices,
            },
        ];
        let input = BillingInput {
            catalog: &catalog,
            sold: (1, 10),
            events,
            discount,
            credit_unused_on_cancel: credit,
            currency: Currency::EUR,
        };
        f(&input)
    }
}

fn keys(lines: &[(String, i64)]) -> Vec<&str> {
    lines.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn a_month_end_anchor_bills_the_last_day_of_short_months_across_a_leap_year() {
    let f = Fixture::new(BillingInterval::Monthly);
    let lines = f.lines(&[sold(d(2028, 1, 31))], d(2028, 5, 31));
    assert_eq!(
        keys(&lines),
        [
            "initiation",
            "recurring:2028-01-31:2028-01-31",
            "recurring:2028-02-29:2028-02-29",
            "recurring:2028-03-31:2028-03-31",
            "recurring:2028-04-30:2028-04-30",
            "recurring:2028-05-31:2028-05-31"
        ]
    );
    assert!(lines.iter().skip(1).all(|(_, a)| *a == 3000));
}

#[test]
fn every_interval_bills_each_period_once_over_two_years() {
    use BillingInterval::*;
    for (interval, periods) in [
        (Weekly, 105),
        (TwoWeeks, 53),
        (FourWeeks, 27),
        (Monthly, 25),
        (TwoMonths, 13),
        (Quarterly, 9),
        (HalfYearly, 5),
        (Yearly, 3),
    ] {
        let f = Fixture::new(interval);
        let lines = f.lines(&[sold(d(2025, 1, 1))], d(2027, 1, 1));
        let recurring = lines
            .iter()
            .filter(|(k, _)| k.starts_with("recurring"))
            .count();
        assert_eq!(recurring, periods, "{interval:?}");
    }
}

#[test]
fn a_free_month_is_billed_at_nothing_with_its_reason_and_billing_goes_on_after_it() {
    let f = Fixture::new(BillingInterval::Monthly);
    let mut free = rec(Event::FreePeriods {
        from: d(2025, 4, 1),
        until: d(2025, 5, 1),
        periods: 1,
    });
    free.reason = "sauna closed for renovation".into();
    let events = [sold(d(2025, 3, 1)), free];
    let lines = f.lines(&events, d(2025, 5, 1));
    assert_eq!(
        lines,
        [
            ("initiation".to_string(), 2500),
            ("recurring:2025-03-01:2025-03-01".to_string(), 3000),
            ("recurring:2025-04-01:2025-04-01".to_string(), 0),
            ("recurring:2025-05-01:2025-05-01".to_string(), 3000),
        ]
    );
    let explained = f.with(&events, None, true, |input| {
        expected(input, d(2025, 4, 1))
            .into_iter()
            .find(|l| l.key == "recurring:2025-04-01:2025-04-01")
            .map(|l| (l.line.description, l.line.explanation))
    });
    assert_eq!(
        explained,
        Some((
            "Adult (free), 1–30 Apr 2025".to_string(),
            "30 days given free: sauna closed for renovation".to_string()
        ))
    );
}

#[test]
fn a_pause_across_a_period_boundary_bills_only_the_unpaused_days() {
    let f = Fixture::new(BillingInterval::Monthly);
    let events = [
        sold(d(2025, 3, 1)),
        rec(Event::Paused {
            from: d(2025, 4, 21),
            until: Some(d(2025, 5, 11)),
        }),
    ];
    let lines = f.lines(&events, d(2025, 5, 31));
    assert_eq!(
        lines,
        [
            ("initiation".to_string(), 2500),
            ("recurring:2025-03-01:2025-03-01".to_string(), 3000),
            // 20 of 30 April days: 3000 × 20/30 = 2000.
            ("recurring:2025-04-01:2025-04-01".to_string(), 2000),
            // 21 of 31 May days from the 11th: 3000 × 21/31 = 2032.26 → 2032.
            ("recurring:2025-05-01:2025-05-11".to_string(), 2032),
        ]
    );
}

#[test]
fn a_price_change_with_proration_splits_the_period_on_the_day() {
    let f = Fixture::new(BillingInterval::Monthly);
    let events = [
        sold(d(2025, 12, 1)),
        rec(Event::PriceChanged {
            on: d(2026, 1, 16),
            price_id: 11,
            fee: eur(3100),
        }),
    ];
    let lines = f.lines(&events, d(2026, 2, 1));
    assert_eq!(
        &lines[2..],
        [
            // 15 of 31 days at 30.00 = 1451.61 → 1452; 16 of 31 at 31.00 = 1600.
            ("recurring:2026-01-01:2026-01-01".to_string(), 1452),
            ("recurring:2026-01-01:2026-01-16".to_string(), 1600),
            ("recurring:2026-02-01:2026-02-01".to_string(), 3100),
        ]
    );
}

#[test]
fn a_discount_for_three_periods_and_an_immediate_cancellation_with_credit() {
    let f = Fixture::new(BillingInterval::Monthly);
    let discount = Discount::Percent {
        percent: Decimal::new(10, 0),
        periods: Some(3),
    };
    let events = [sold(d(2025, 1, 1))];
    let discounts: Vec<i64> = f.with(&events, Some(&discount), true, |input| {
        expected(input, d(2025, 6, 1))
            .into_iter()
            .filter(|l| l.line.kind == LineKind::Discount)
            .map(|l| l.line.amount.minor)
            .collect()
    });
    assert_eq!(discounts, [-300, -300, -300]);

    // Billed on 1 March, cancelled on 11 March: the correction credits 21 days.
    let billed: Vec<IssuedLine> = f.with(&events, None, true, |input| {
        expected(input, d(2025, 3, 1))
            .into_iter()
            .map(|l| IssuedLine {
                key: l.key,
                amount: l.line.amount,
            })
            .collect()
    });
    let cancelled = [
        sold(d(2025, 1, 1)),
        rec(Event::CancelScheduled {
            end: d(2025, 3, 11),
        }),
    ];
    let fix = f.with(&cancelled, None, true, |input| {
        generate(input, &billed, d(2025, 4, 1))
    });
    assert_eq!(fix.len(), 1);
    assert_eq!(fix[0].line.kind, LineKind::Correction);
    // March kept 10 of 31 days: 3000 × 10/31 = 967.74 → 968; the credit is 968 − 3000.
    assert_eq!(fix[0].line.amount.minor, 968 - 3000);
    assert!(
        f.with(&cancelled, None, false, |input| generate(
            input,
            &billed,
            d(2025, 4, 1)
        ))
        .is_empty(),
        "without the credit setting the period stays billed in full"
    );
}

fn moved(on: NaiveDate, prorate: bool) -> Recorded {
    rec(Event::BillingDateChanged { on, prorate })
}

fn switched(on: NaiveDate, from: BillingInterval, to: BillingInterval) -> Recorded {
    let (type_id, price_id) = if to == BillingInterval::Yearly {
        (2, 20)
    } else {
        (1, 10)
    };
    rec(Event::CycleSwitched {
        on,
        from_interval: from,
        interval: to,
        type_id,
        type_name: String::new(),
        price_id,
    })
}

/// The recurring lines (key, amount) after the initiation fee.
fn recurring(f: &Fixture, events: &[Recorded], up_to: NaiveDate) -> Vec<(String, i64)> {
    f.lines(events, up_to)
        .into_iter()
        .filter(|(k, _)| k != "initiation")
        .collect()
}

fn line(key: &str, amount: i64) -> (String, i64) {
    (key.to_string(), amount)
}

#[test]
fn a_billing_date_moved_forward_bills_a_bridging_period_prorated_or_whole() {
    // Billed on the 1st; moved to the 15th from 15 March.
    let f = Fixture::new(BillingInterval::Monthly);
    for (prorate, bridge) in [(true, 1355), (false, 3000)] {
        let events = [sold(d(2025, 1, 1)), moved(d(2025, 3, 15), prorate)];
        assert_eq!(
            recurring(&f, &events, d(2025, 4, 15)),
            [
                line("recurring:2025-01-01:2025-01-01", 3000),
                line("recurring:2025-02-01:2025-02-01", 3000),
                // 14 of 31 days × 30.00 = 13.548… → 13.55; or one whole period.
                line("recurring:2025-03-01:2025-03-01", bridge),
                line("recurring:2025-03-15:2025-03-15", 3000),
                line("recurring:2025-04-15:2025-04-15", 3000),
            ],
            "prorate: {prorate}"
        );
    }
}

#[test]
fn a_billing_date_moved_back_credits_the_days_of_the_period_already_billed() {
    // Billed on the 20th; on 25 February staff move it to the 5th from 5 March.
    let f = Fixture::new(BillingInterval::Monthly);
    let before = [sold(d(2025, 1, 20))];
    let issued: Vec<IssuedLine> = f.with(&before, None, true, |input| {
        generate(input, &[], d(2025, 2, 25))
            .into_iter()
            .map(|l| IssuedLine {
                key: l.key,
                amount: l.line.amount,
            })
            .collect()
    });
    let after = [sold(d(2025, 1, 20)), moved(d(2025, 3, 5), true)];
    let fix = f.with(&after, None, true, |input| {
        generate(input, &issued, d(2025, 3, 5))
    });
    let got: Vec<(String, i64, LineKind)> = fix
        .into_iter()
        .map(|l| (l.key.to_string(), l.line.amount.minor, l.line.kind))
        .collect();
    assert_eq!(
        got,
        [
            // Kept 13 of 28 days: 3000 × 13/28 = 1392.86 → 1393; credit 1393 − 3000.
            (
                "recurring:2025-02-20:2025-02-20".to_string(),
                -1607,
                LineKind::Correction
            ),
            (
                "recurring:2025-03-05:2025-03-05".to_string(),
                3000,
                LineKind::Recurring
            ),
        ]
    );
}

#[test]
fn a_billing_date_move_on_the_first_middle_and_last_day_of_a_period() {
    // Periods of January 2025 from the 1st; the new date falls on the first
    // day of the next period (no bridge), the middle, or its last day.
    let f = Fixture::new(BillingInterval::Monthly);
    for (on, bridge) in [
        (d(2025, 2, 2), 107),   // 1 of 28 days: 107.14… → 107
        (d(2025, 2, 15), 1500), // 14 of 28
        (d(2025, 2, 28), 2893), // 27 of 28: 2892.86… → 2893
    ] {
        let events = [sold(d(2025, 1, 1)), moved(on, true)];
        let lines = recurring(&f, &events, on);
        let feb = lines
            .iter()
            .find(|(k, _)| k == "recurring:2025-02-01:2025-02-01")
            .map(|(_, a)| *a);
        assert_eq!(feb, Some(bridge), "moved to {on}");
        assert_eq!(lines.last().map(|(_, a)| *a), Some(3000));
    }
}

#[test]
fn a_cycle_switch_monthly_to_yearly_and_back_credits_the_unused_days() {
    use BillingInterval::{Monthly, Yearly};
    let f = Fixture::new(Monthly);
    let events = [
        sold(d(2025, 1, 10)),
        switched(d(2025, 4, 25), Monthly, Yearly),
        switched(d(2026, 6, 25), Yearly, Monthly),
    ];
    let lines = recurring(&f, &events, d(2026, 7, 25));
    assert_eq!(
        &lines[3..],
        [
            // 15 of 30 days of the monthly period: 1500.
            line("recurring:2025-04-10:2025-04-10", 1500),
            line("recurring:2025-04-25:2025-04-25", 30000),
            // 61 of 365 days of the yearly period: 5013.70… → 5014.
            line("recurring:2026-04-25:2026-04-25", 5014),
            line("recurring:2026-06-25:2026-06-25", 3000),
            line("recurring:2026-07-25:2026-07-25", 3000),
        ]
    );
    // Switched on the first, a middle and the last day of a period.
    for (on, kept) in [
        (d(2025, 4, 10), None),
        (d(2025, 4, 20), Some(1000)),
        (d(2025, 5, 9), Some(2900)),
    ] {
        let events = [sold(d(2025, 1, 10)), switched(on, Monthly, Yearly)];
        let lines = recurring(&f, &events, on);
        let april = lines
            .iter()
            .find(|(k, _)| k == "recurring:2025-04-10:2025-04-10")
            .map(|(_, a)| *a);
        match kept {
            None => assert_eq!(april, Some(30000), "a new yearly cycle on the boundary"),
            Some(kept) => {
                assert_eq!(april, Some(kept), "switched on {on}");
                assert_eq!(lines.last(), Some(&(format!("recurring:{on}:{on}"), 30000)));
            }
        }
    }
}

#[test]
fn billing_up_to_an_earlier_day_never_takes_back_later_periods() {
    let f = Fixture::new(BillingInterval::Monthly);
    let events = [sold(d(2025, 1, 15))];
    f.with(&events, None, true, |input| {
        let issued: Vec<IssuedLine> = generate(input, &[], d(2025, 6, 30))
            .into_iter()
            .map(|l| IssuedLine {
                key: l.key,
                amount: l.line.amount,
            })
            .collect();
        // A clock moved back to March: nothing to add, nothing to take back.
        assert!(generate(input, &issued, d(2025, 3, 20)).is_empty());
    });
}

#[test]
fn running_it_twice_yields_nothing_new() {
    let f = Fixture::new(BillingInterval::Monthly);
    let events = [sold(d(2025, 1, 15))];
    f.with(&events, None, true, |input| {
        let first = generate(input, &[], d(2025, 6, 30));
        let issued: Vec<IssuedLine> = first
            .iter()
            .map(|l| IssuedLine {
                key: l.key.clone(),
                amount: l.line.amount,
            })
            .collect();
        assert!(generate(input, &issued, d(2025, 6, 30)).is_empty());
    });
}

/// A random but valid lifecycle: a sale, then pauses, price changes, a
/// cancellation and a reactivation at random days.
fn lifecycle() -> impl Strategy<Value = Vec<Recorded>> {
    (
        0u32..60,
        proptest::collection::vec((0u32..1000, 1u32..90), 0..4),
        proptest::option::of(0u32..1000),
        proptest::option::of((0u32..1000, 1u32..200)),
        proptest::option::of((0u32..1000, 1u32..90)),
        proptest::option::of((0u32..1000, any::<bool>())),
        proptest::option::of(0u32..1000),
    )
        .prop_map(
            |(start, pauses, price_change, cancel, free, move_to, switch)| {
                let base = d(2025, 1, 1);
                let day = |n: u32| base + chrono::Days::new(u64::from(n));
                let start = day(start);
                let mut events = vec![sold(start)];
                let mut last_end = start;
                let mut spans: Vec<(u32, u32)> = pauses;
                spans.sort();
                for (from, len) in spans {
                    let from = day(from).max(last_end);
                    let until = from + chrono::Days::new(u64::from(len));
                    events.push(rec(Event::Paused {
                        from,
                        until: Some(until),
                    }));
                    last_end = until;
                }
                if let Some(on) = price_change {
                    events.push(rec(Event::PriceChanged {
                        on: day(on).max(start),
                        price_id: 11,
                        fee: eur(3100),
                    }));
                }
                if let Some((from, len)) = free {
                    let from = day(from).max(start);
                    events.push(rec(Event::FreePeriods {
                        from,
                        until: from + chrono::Days::new(u64::from(len)),
                        periods: 1,
                    }));
                }
                if let Some((on, prorate)) = move_to {
                    events.push(moved(day(on).max(start), prorate));
                }
                if let Some(on) = switch {
                    events.push(switched(
                        day(on).max(start),
                        BillingInterval::Monthly,
                        BillingInterval::Yearly,
                    ));
                }
                if let Some((end, gap)) = cancel {
                    let end = day(end).max(start);
                    events.push(rec(Event::CancelScheduled { end }));
                    events.push(rec(Event::Reactivated {
                        on: end + chrono::Days::new(u64::from(gap)),
                    }));
                }
                events
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn day_by_day_billing_equals_billing_once_and_bills_no_key_twice(events in lifecycle()) {
        let f = Fixture::new(BillingInterval::Monthly);
        let end = d(2028, 1, 1);
        f.with(&events, None, true, |input| {
            let once = generate(input, &[], end);
            let mut issued: Vec<IssuedLine> = Vec::new();
            let mut day = d(2025, 1, 1);
            while day <= end {
                for l in generate(input, &issued, day) {
                    issued.push(IssuedLine { key: l.key, amount: l.line.amount });
                }
                day = day + chrono::Days::new(1);
            }
            let once_lines: Vec<(String, i64)> =
                once.iter().map(|l| (l.key.to_string(), l.line.amount.minor)).collect();
            let daily: Vec<(String, i64)> =
                issued.iter().map(|l| (l.key.to_string(), l.amount.minor)).collect();
            prop_assert_eq!(&once_lines, &daily);
            let mut keys: Vec<&str> = once_lines.iter().map(|(k, _)| k.as_str()).collect();
            let count = keys.len();
            keys.sort();
            keys.dedup();
            prop_assert_eq!(keys.len(), count, "a key billed twice");
            prop_assert!(once.iter().all(|l| l.line.kind != LineKind::Correction));
            prop_assert!(generate(input, &issued, end).is_empty());
            Ok(())
        })?;
    }

    #[test]
    fn events_learned_late_are_corrected_to_the_same_total(events in lifecycle()) {
        // Billing only knew the sale; then the rest of the events arrived.
        let f = Fixture::new(BillingInterval::Monthly);
        let end = d(2028, 1, 1);
        let first = &events[..1];
        let early: Vec<IssuedLine> = f.with(first, None, true, |input| {
            generate(input, &[], end)
                .into_iter()
                .map(|l| IssuedLine { key: l.key, amount: l.line.amount })
                .collect()
        });
        let total = |lines: &[IssuedLine]| lines.iter().map(|l| l.amount.minor).sum::<i64>();
        f.with(&events, None, true, |input| {
            let mut all = early.clone();
            for l in generate(input, &early, end) {
                all.push(IssuedLine { key: l.key, amount: l.line.amount });
            }
            let implied: i64 = expected(input, end).iter().map(|l| l.line.amount.minor).sum();
            prop_assert_eq!(total(&all), implied);
            prop_assert!(generate(input, &all, end).is_empty());
            Ok(())
        })?;
    }
}

#[test]
fn a_price_change_and_an_immediate_cancellation_on_the_first_middle_and_last_day() {
    // The period of March 2025 (31 days) at €30.00, from an anchor on the 1st.
    let f = Fixture::new(BillingInterval::Monthly);
    let march = "recurring:2025-03-01:2025-03-01";
    for (day, kept_at_old, from_day_at_new) in [
        // On the first day the whole period is at the new price.
        (1, None, Some(3100)),
        // 15 of 31 days at 30.00 = 14.516… → 14.52; 16 at 31.00 = 16.00.
        (16, Some(1452), Some(1600)),
        // 30 of 31 days at 30.00 = 29.032… → 29.03; 1 at 31.00 = 1.00.
        (31, Some(2903), Some(100)),
    ] {
        let on = d(2025, 3, day);
        let events = [
            sold(d(2025, 1, 1)),
            rec(Event::PriceChanged {
                on,
                price_id: 11,
                fee: eur(3100),
            }),
        ];
        let lines = recurring(&f, &events, d(2025, 3, 31));
        let at = |key: &str| lines.iter().find(|(k, _)| k == key).map(|(_, a)| *a);
        match kept_at_old {
            Some(kept) => {
                assert_eq!(at(march), Some(kept), "changed on {on}");
                assert_eq!(at(&format!("recurring:2025-03-01:{on}")), from_day_at_new);
            }
            None => assert_eq!(at(march), from_day_at_new, "changed on {on}"),
        }
    }
    for (day, kept) in [(1, 0), (16, 1452), (31, 2903)] {
        let events = [
            sold(d(2025, 1, 1)),
            rec(Event::CancelScheduled {
                end: d(2025, 3, day),
            }),
        ];
        let lines = recurring(&f, &events, d(2025, 4, 30));
        let march_line = lines.iter().find(|(k, _)| k == march).map(|(_, a)| *a);
        if kept == 0 {
            assert_eq!(march_line, None, "ended before March began");
        } else {
            assert_eq!(march_line, Some(kept), "cancelled on day {day}");
        }
        assert!(
            lines
                .iter()
                .all(|(k, _)| !k.starts_with("recurring:2025-04")),
            "nothing after the end"
        );
    }
}

/// The issued state after billing `events` up to `up_to`.
fn billed(input: &BillingInput, up_to: NaiveDate) -> Vec<IssuedLine> {
    generate(input, &[], up_to)
        .into_iter()
        .map(|l| IssuedLine {
            key: l.key,
            amount: l.line.amount,
        })
        .collect()
}

/// The day each missing line takes effect (`None`: a period billed first).
fn effects(
    f: &Fixture,
    before: &[Recorded],
    after: &[Recorded],
    up_to: NaiveDate,
) -> Vec<(String, i64, Option<NaiveDate>)> {
    let issued = f.with(before, None, true, |input| billed(input, up_to));
    f.with(after, None, true, |input| {
        generate_dated(input, &issued, up_to)
            .into_iter()
            .map(|(l, on)| (l.key.to_string(), l.line.amount.minor, on))
            .collect()
    })
}

#[test]
fn a_change_takes_effect_on_its_day_and_a_new_period_is_billed_on_its_own() {
    let f = Fixture::new(BillingInterval::Monthly);
    let sale = sold(d(2026, 12, 1));
    // December billed; a price change on the 10th, recorded on the 1st.
    let price = rec(Event::PriceChanged {
        on: d(2026, 12, 10),
        price_id: 11,
        fee: eur(3100),
    });
    let got = effects(
        &f,
        std::slice::from_ref(&sale),
        &[sale.clone(), price.clone()],
        d(2026, 12, 1),
    );
    assert_eq!(got.len(), 2, "the shortened part and the new one: {got:?}");
    assert!(
        got.iter().all(|(_, _, on)| *on == Some(d(2026, 12, 10))),
        "{got:?}"
    );
    // A pause from the 5th to the 20th: from the 5th. Ended early on the 8th: the 8th.
    let pause = rec(Event::Paused {
        from: d(2026, 12, 5),
        until: Some(d(2026, 12, 20)),
    });
    let got = effects(
        &f,
        std::slice::from_ref(&sale),
        &[sale.clone(), pause.clone()],
        d(2026, 12, 1),
    );
    assert!(!got.is_empty());
    assert!(
        got.iter().all(|(_, _, on)| *on == Some(d(2026, 12, 5))),
        "{got:?}"
    );
    let resumed = rec(Event::Resumed { on: d(2026, 12, 8) });
    let got = effects(
        &f,
        &[sale.clone(), pause.clone()],
        &[sale.clone(), pause.clone(), resumed],
        d(2026, 12, 8),
    );
    assert!(!got.is_empty());
    assert!(
        got.iter().all(|(_, _, on)| *on == Some(d(2026, 12, 8))),
        "{got:?}"
    );
    // The next period, never billed: no change date.
    let got = effects(
        &f,
        std::slice::from_ref(&sale),
        std::slice::from_ref(&sale),
        d(2027, 1, 1),
    );
    assert!(got.is_empty());
    let issued = f.with(std::slice::from_ref(&sale), None, true, |input| {
        billed(input, d(2026, 12, 1))
    });
    let next = f.with(std::slice::from_ref(&sale), None, true, |input| {
        generate_dated(input, &issued, d(2027, 1, 1))
    });
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].1, None);
    // A cancellation on the 20th crediting the unused days: the 20th.
    let cancel = rec(Event::CancelScheduled {
        end: d(2026, 12, 20),
    });
    let got = effects(
        &f,
        std::slice::from_ref(&sale),
        &[sale.clone(), cancel],
        d(2026, 12, 1),
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].2, Some(d(2026, 12, 20)));
    // A price moved for the whole period: its first day.
    let whole = rec(Event::PriceChanged {
        on: d(2026, 12, 1),
        price_id: 11,
        fee: eur(3100),
    });
    let got = effects(
        &f,
        std::slice::from_ref(&sale),
        &[sale.clone(), whole],
        d(2026, 12, 1),
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].2, Some(d(2026, 12, 1)));
}

#[test]
fn after_a_cycle_switch_the_anchor_is_the_day_the_new_cycle_began() {
    use BillingInterval::{Monthly, Yearly};
    let f = Fixture::new(Monthly);
    let events = [
        sold(d(2025, 1, 10)),
        switched(d(2025, 4, 25), Monthly, Yearly),
    ];
    let m = Membership {
        spec: &f.spec,
        events: &events,
        overdue: Default::default(),
    };
    assert_eq!(m.billing_anchor(d(2025, 4, 24)), Some(d(2025, 1, 10)));
    assert_eq!(m.billing_anchor(d(2025, 4, 25)), Some(d(2025, 4, 25)));
    assert_eq!(m.billing_anchor(d(2026, 1, 1)), Some(d(2025, 4, 25)));
    assert_eq!(
        m.anchor(),
        Some(d(2025, 1, 10)),
        "the run still began on the sale"
    );
}

#[test]
fn lines_speak_in_days_and_names_never_in_decimals_or_keys() {
    let f = Fixture::new(BillingInterval::Monthly);
    let mut f = f;
    f.spec.policies.pause.as_mut().unwrap().fee_per_period = eur(500);
    let sale = sold(d(2026, 12, 1));
    let pause = rec(Event::Paused {
        from: d(2026, 12, 1),
        until: Some(d(2026, 12, 5)),
    });
    let events = [sale.clone(), pause.clone()];
    let lines = f.with(&events, None, true, |input| expected(input, d(2026, 12, 1)));
    let texts: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l.line.description.as_str(), l.line.explanation.as_str()))
        .collect();
    assert_eq!(
        texts[1..],
        [
            (
                "Pause fee (Adult), 1–4 Dec 2026",
                "4 of 31 days paused, at the pause fee of €5.00 a period"
            ),
            (
                "Adult, 5–31 Dec 2026",
                "27 of 31 days of Adult at €30.00 a period"
            ),
        ]
    );
    // The pause taken back after it was billed: the correction names what it
    // takes back, never the line's key.
    let issued = f.with(&events, None, true, |input| billed(input, d(2026, 12, 1)));
    let undone = f.with(std::slice::from_ref(&sale), None, true, |input| {
        generate(input, &issued, d(2026, 12, 1))
    });
    for l in &undone {
        assert!(!l.line.description.contains("pause_fee:"), "{l:?}");
        assert!(!l.line.explanation.contains("0.9"), "{l:?}");
    }
    assert!(
        undone
            .iter()
            .any(|l| l.line.description == "Correction: Pause fee from 1 Dec 2026"),
        "{undone:?}"
    );
    assert_eq!(
        super::super::days_text(d(2026, 11, 27), d(2026, 12, 3)),
        "27 Nov – 3 Dec 2026"
    );
    assert_eq!(
        super::super::days_text(d(2026, 12, 27), d(2027, 1, 3)),
        "27 Dec 2026 – 3 Jan 2027"
    );
    assert_eq!(
        super::super::days_text(d(2026, 12, 5), d(2026, 12, 5)),
        "5 Dec 2026"
    );
}
