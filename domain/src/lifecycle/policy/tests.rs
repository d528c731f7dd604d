//! One table per rule: each row a request on a day, and the event it records
//! or the message of its refusal.

use super::*;
use crate::catalog::spec::{DateRange, FixedLength};
use crate::catalog::spec::{PausePolicy, Term, TypeSpec};
use crate::lifecycle::{Recorded, Status};
use crate::money::{Currency, Money};

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

fn y(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Adult Monthly: pauses of 7 to 60 days, twice a year; a 3-period commitment.
fn adult() -> TypeSpec {
    let mut spec = TypeSpec {
        name: "Adult Monthly".into(),
        ..TypeSpec::default()
    };
    spec.policies.pause = Some(PausePolicy {
        max_per_year: Some(2),
        min_days: 7,
        max_days: Some(60),
        fee_per_period: Money::zero(Currency::EUR),
        extends_commitment: false,
        portal_allowed: true,
    });
    spec.policies.min_commitment_periods = 3;
    spec
}

fn rec(event: Event) -> Recorded {
    Recorded {
        event,
        by: "a front-desk user".into(),
        reason: "r".into(),
        forced: false,
    }
}

fn sold(start: NaiveDate) -> Recorded {
    rec(Event::Sold {
        start,
        approval_required: false,
    })
}

fn ask(action: Action) -> Request {
    Request {
        action,
        reason: "asked by the member".into(),
        force: false,
    }
}

fn run(
    spec: &TypeSpec,
    events: &[Recorded],
    acting: Acting,
    request: Request,
    today: NaiveDate,
) -> Result<Event, String> {
    let m = Membership {
        spec,
        events,
        overdue: Default::default(),
    };
    decide(&m, acting, &request, today)
        .map(|d| d.event)
        .map_err(|r| r.message)
}

/// What a table row expects: the event recorded, or the refusal's message.
type Expected = Result<Event, &'static str>;

fn pause(from: NaiveDate, until: Option<NaiveDate>) -> Action {
    Action::Pause { from, until }
}

#[test]
fn pauses_follow_the_types_pause_policy() {
    let spec = adult();
    let history = [sold(d(1, 15))];
    let twice = [
        sold(d(1, 15)),
        rec(Event::Paused {
            from: d(2, 1),
            until: Some(d(2, 10)),
        }),
        rec(Event::Paused {
            from: d(5, 1),
            until: Some(d(5, 10)),
        }),
    ];
    let today = d(11, 2);
    let cases: Vec<(&str, &[Recorded], Action, Expected)> = vec![
        (
            "within policy",
            &history,
            pause(d(11, 10), Some(d(12, 10))),
            Ok(Event::Paused {
                from: d(11, 10),
                until: Some(d(12, 10)),
            }),
        ),
        (
            "over the maximum length",
            &history,
            pause(d(11, 10), Some(y(2027, 1, 20))),
            Err(
                "Pauses of Adult Monthly last at most 60 days: the latest resume date is 2027-01-09.",
            ),
        ),
        (
            "open-ended where a maximum applies",
            &history,
            pause(d(11, 10), None),
            Err(
                "Pauses of Adult Monthly last at most 60 days: give a resume date on or before 2027-01-09.",
            ),
        ),
        (
            "under the minimum length",
            &history,
            pause(d(11, 10), Some(d(11, 12))),
            Err(
                "Pauses of Adult Monthly last at least 7 days: the earliest resume date is 2026-11-17.",
            ),
        ),
        (
            "over the pauses per year",
            &twice,
            pause(d(11, 10), Some(d(11, 20))),
            Err(
                "Adult Monthly can be paused 2 times a year and this membership has been paused 2 times in 2026: the next pause can start on 2027-01-01.",
            ),
        ),
        (
            "the next year is fine",
            &twice,
            pause(y(2027, 1, 5), Some(y(2027, 1, 20))),
            Ok(Event::Paused {
                from: y(2027, 1, 5),
                until: Some(y(2027, 1, 20)),
            }),
        ),
        (
            "in the past",
            &history,
            pause(d(11, 1), Some(d(11, 20))),
            Err("A pause cannot start in the past: start it on 2026-11-02 or later."),
        ),
        (
            "resume before start",
            &history,
            pause(d(11, 10), Some(d(11, 10))),
            Err("The resume date must come after the pause starts."),
        ),
    ];
    for (name, events, action, expected) in cases {
        assert_eq!(
            run(&spec, events, Acting::FrontDesk, ask(action), today),
            expected.map_err(str::to_string),
            "{name}"
        );
    }
}

#[test]
fn a_type_without_a_pause_policy_refuses_pauses_and_a_manager_can_force_one() {
    let spec = TypeSpec {
        name: "Student".into(),
        ..TypeSpec::default()
    };
    let events = [sold(d(1, 1))];
    let request = ask(pause(d(11, 10), Some(d(11, 20))));
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, request.clone(), d(11, 2)),
        Err("Student does not allow pauses.".to_string())
    );
    let m = Membership {
        spec: &spec,
        events: &events,
        overdue: Default::default(),
    };
    let refused = decide(&m, Acting::Manager, &request, d(11, 2)).unwrap_err();
    assert!(refused.overridable);
    assert_eq!(
        refused.message,
        "Student does not allow pauses. A manager can override this with a reason."
    );
    let forced = Request {
        force: true,
        ..request.clone()
    };
    let decision = decide(&m, Acting::Manager, &forced, d(11, 2)).unwrap();
    assert!(decision.forced);
    assert_eq!(
        decide(&m, Acting::FrontDesk, &forced, d(11, 2))
            .unwrap_err()
            .message,
        "Only managers and owners can override the policy."
    );
    let no_reason = Request {
        reason: " ".into(),
        ..forced
    };
    assert_eq!(
        decide(&m, Acting::Manager, &no_reason, d(11, 2))
            .unwrap_err()
            .message,
        "Give a reason for overriding the policy."
    );
}

#[test]
fn a_pause_cannot_start_in_the_last_period_of_a_fixed_term() {
    let mut spec = adult();
    spec.policies.min_commitment_periods = 0;
    spec.term = Term::Fixed {
        length: FixedLength {
            years: 1,
            months: 0,
            days: 0,
        },
    };
    let events = [sold(d(1, 1))];
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, ask(pause(d(12, 5), Some(d(12, 20)))), d(11, 20)),
        Err("A pause cannot start in the last period of the term, whose last day is 2026-12-31: the latest start is 2026-11-30.".to_string())
    );
    assert!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            ask(pause(d(11, 25), Some(d(12, 5)))),
            d(11, 20)
        )
        .is_ok()
    );
}

#[test]
fn cancellations_respect_the_commitment_and_the_notice() {
    let spec = adult();
    let events = [sold(d(9, 15))];
    let mut notice = adult();
    notice.policies.min_commitment_periods = 0;
    notice.policies.notice_days = 30;
    let mut immediate = adult();
    immediate.policies.cancellation.timing = CancelTiming::Immediately;
    immediate.policies.min_commitment_periods = 0;
    let cancel = |when| Action::Cancel { when };
    let cases: Vec<(&str, &TypeSpec, NaiveDate, CancelWhen, Expected)> = vec![
        (
            "inside the commitment",
            &spec,
            d(11, 2),
            CancelWhen::PeriodEnd,
            Err(
                "Adult Monthly has a minimum commitment of 3 periods: the earliest allowed last day is 2026-12-14.",
            ),
        ),
        (
            "the earliest date",
            &spec,
            d(11, 2),
            CancelWhen::Earliest,
            Ok(Event::CancelScheduled { end: d(12, 15) }),
        ),
        (
            "after the commitment, at period end",
            &spec,
            d(12, 20),
            CancelWhen::PeriodEnd,
            Ok(Event::CancelScheduled {
                end: y(2027, 1, 15),
            }),
        ),
        (
            "immediately where the type cancels at period end",
            &spec,
            d(12, 20),
            CancelWhen::Immediately,
            Err(
                "Adult Monthly is cancelled at the end of a period, not immediately: the earliest last day is 2027-01-14.",
            ),
        ),
        (
            "notice pushes the end a period on",
            &notice,
            d(11, 2),
            CancelWhen::PeriodEnd,
            Err(
                "Adult Monthly needs 30 days' notice: the earliest allowed last day is 2026-12-14.",
            ),
        ),
        (
            "notice, earliest",
            &notice,
            d(11, 20),
            CancelWhen::Earliest,
            Ok(Event::CancelScheduled {
                end: y(2027, 1, 15),
            }),
        ),
        (
            "immediately where allowed",
            &immediate,
            d(11, 20),
            CancelWhen::Immediately,
            Ok(Event::CancelScheduled { end: d(11, 20) }),
        ),
    ];
    for (name, spec, today, when, expected) in cases {
        assert_eq!(
            run(spec, &events, Acting::FrontDesk, ask(cancel(when)), today),
            expected.map_err(str::to_string),
            "{name}"
        );
    }
}

#[test]
fn cancelling_twice_or_an_ended_membership_is_refused() {
    let spec = adult();
    let events = [
        sold(d(1, 15)),
        rec(Event::CancelScheduled { end: d(12, 15) }),
    ];
    let cancel = ask(Action::Cancel {
        when: CancelWhen::PeriodEnd,
    });
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, cancel.clone(), d(12, 1)),
        Err("This membership is already cancelling: its last day is 2026-12-14; reactivate it to take the cancellation back.".to_string())
    );
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, cancel, d(12, 20)),
        Err("This membership has already ended (cancelled).".to_string())
    );
}

#[test]
fn reactivation_undoes_a_pending_cancellation_or_starts_a_new_run() {
    let spec = adult();
    let events = [
        sold(d(1, 15)),
        rec(Event::CancelScheduled { end: d(12, 15) }),
    ];
    let again = |on| ask(Action::Reactivate { on });
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, again(d(12, 1)), d(12, 1)),
        Ok(Event::CancelUndone { on: d(12, 1) })
    );
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            again(d(12, 22)),
            d(12, 20)
        ),
        Ok(Event::Reactivated { on: d(12, 22) })
    );
    assert_eq!(
        run(&spec, &events[..1], Acting::FrontDesk, again(d(12, 1)), d(12, 1)),
        Err("Only cancelling, cancelled or expired memberships can be reactivated; this one is active.".to_string())
    );
}

#[test]
fn resumes_end_the_pause_early_but_not_after_it() {
    let spec = adult();
    let events = [
        sold(d(1, 15)),
        rec(Event::Paused {
            from: d(11, 10),
            until: Some(d(12, 10)),
        }),
    ];
    let resume = |on| ask(Action::Resume { on });
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            resume(d(11, 20)),
            d(11, 20)
        ),
        Ok(Event::Resumed { on: d(11, 20) })
    );
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            resume(d(12, 12)),
            d(11, 20)
        ),
        Err(
            "The pause ends by itself on 2026-12-10: choose an earlier date to resume early."
                .to_string()
        )
    );
    assert_eq!(
        run(
            &spec,
            &events[..1],
            Acting::FrontDesk,
            resume(d(11, 20)),
            d(11, 20)
        ),
        Err("This membership is not paused and has no pause scheduled.".to_string())
    );
}

#[test]
fn only_managers_approve_lock_and_a_locked_membership_refuses_changes() {
    let spec = adult();
    let waiting = [rec(Event::Sold {
        start: d(12, 1),
        approval_required: true,
    })];
    assert_eq!(
        run(
            &spec,
            &waiting,
            Acting::FrontDesk,
            ask(Action::Approve),
            d(11, 2)
        ),
        Err("Only managers and owners approve or reject memberships.".to_string())
    );
    assert_eq!(
        run(
            &spec,
            &waiting,
            Acting::Manager,
            ask(Action::Approve),
            d(11, 2)
        ),
        Ok(Event::Approved { on: d(11, 2) })
    );
    let active = [sold(d(1, 15))];
    assert_eq!(
        run(&spec, &active, Acting::Manager, ask(Action::Approve), d(11, 2)),
        Err("Only memberships waiting for approval can be approved or rejected; this one is active.".to_string())
    );
    let locked = [sold(d(1, 15)), rec(Event::Locked { on: d(10, 1) })];
    assert_eq!(
        run(
            &spec,
            &locked,
            Acting::Manager,
            ask(pause(d(11, 10), Some(d(11, 20)))),
            d(11, 2)
        ),
        Err(
            "This membership is locked: a manager must unlock it before it can change.".to_string()
        )
    );
    assert_eq!(
        run(
            &spec,
            &locked,
            Acting::FrontDesk,
            ask(Action::Unlock),
            d(11, 2)
        ),
        Err("Only managers and owners lock or unlock memberships.".to_string())
    );
    assert_eq!(
        run(
            &spec,
            &locked,
            Acting::Manager,
            ask(Action::Unlock),
            d(11, 2)
        ),
        Ok(Event::Unlocked { on: d(11, 2) })
    );
}

#[test]
fn the_portal_follows_the_portal_flags() {
    let mut spec = adult();
    spec.policies.min_commitment_periods = 0;
    let events = [sold(d(1, 15))];
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::Member,
            ask(Action::Cancel {
                when: CancelWhen::PeriodEnd
            }),
            d(11, 2)
        ),
        Err("Adult Monthly is cancelled with the staff, not in the portal.".to_string())
    );
    assert!(
        run(
            &spec,
            &events,
            Acting::Member,
            ask(pause(d(11, 10), Some(d(11, 20)))),
            d(11, 2)
        )
        .is_ok()
    );
}

#[test]
fn renewals_extend_a_fixed_term_and_expired_ones_are_reactivated_instead() {
    let spec = TypeSpec {
        name: "Youth Climbing Team".into(),
        term: Term::Seasons {
            ranges: vec![
                DateRange {
                    first: d(9, 1),
                    last: y(2027, 5, 31),
                },
                DateRange {
                    first: y(2027, 9, 1),
                    last: y(2028, 5, 31),
                },
            ],
        },
        ..TypeSpec::default()
    };
    let events = [sold(d(9, 1))];
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            ask(Action::Renew),
            y(2027, 5, 1)
        ),
        Ok(Event::Renewed {
            on: y(2027, 5, 1),
            until: y(2028, 6, 1)
        })
    );
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            ask(Action::Renew),
            y(2027, 6, 2)
        ),
        Err(
            "This membership expired on 2027-06-01: reactivate it to start a new term.".to_string()
        )
    );
    let ongoing = adult();
    assert_eq!(
        run(
            &ongoing,
            &events,
            Acting::FrontDesk,
            ask(Action::Renew),
            d(10, 1)
        ),
        Err("Only fixed-term memberships are renewed; this one runs until cancelled.".to_string())
    );
}

#[test]
fn type_and_price_changes_take_effect_now_or_at_the_next_period() {
    let spec = adult();
    let events = [sold(d(1, 15))];
    let change = |when| {
        ask(Action::ChangeType {
            type_id: 9,
            type_name: "Premium".into(),
            price_id: 90,
            when,
        })
    };
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            change(ChangeWhen::Now),
            d(11, 2)
        ),
        Ok(Event::TypeChanged {
            on: d(11, 2),
            type_id: 9,
            type_name: "Premium".into(),
            price_id: 90
        })
    );
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            change(ChangeWhen::NextPeriod),
            d(11, 2)
        ),
        Ok(Event::TypeChanged {
            on: d(11, 15),
            type_id: 9,
            type_name: "Premium".into(),
            price_id: 90
        })
    );
    // Prices are changed by managers only.
    let price = ask(Action::ChangePrice {
        price_id: 91,
        fee: Money::new(6500, Currency::EUR),
        when: ChangeWhen::NextPeriod,
    });
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, price.clone(), d(11, 2)),
        Err("Only managers and owners change a membership's price.".into())
    );
    assert!(matches!(
        run(&spec, &events, Acting::Manager, price, d(11, 2)),
        Ok(Event::PriceChanged { on, .. }) if on == d(11, 15)
    ));
}

#[test]
fn a_reason_is_required_where_the_timeline_needs_one() {
    let spec = adult();
    let events = [sold(d(1, 15))];
    let request = Request {
        action: pause(d(11, 10), Some(d(11, 20))),
        reason: String::new(),
        force: false,
    };
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, request.clone(), d(11, 2)),
        Err("Give a reason: it is kept on the membership's timeline.".to_string())
    );
    // A member's own pause in the portal may come without one.
    assert!(run(&spec, &events, Acting::Member, request, d(11, 2)).is_ok());
}

#[test]
fn a_type_with_a_renewal_type_renews_into_it_at_the_end_of_its_term() {
    let spec = TypeSpec {
        name: "Intro Quarter".into(),
        term: Term::Fixed {
            length: FixedLength {
                years: 0,
                months: 3,
                days: 0,
            },
        },
        ..TypeSpec::default()
    };
    let events = [sold(d(9, 1))];
    let into = || {
        ask(Action::RenewInto(RenewTarget {
            type_id: 4,
            type_name: "Adult Monthly".into(),
            price_id: 40,
            term: Term::Ongoing,
        }))
    };
    let renewed = Event::RenewedInto {
        on: d(12, 2),
        from: d(12, 1),
        until: None,
        type_id: 4,
        type_name: "Adult Monthly".into(),
        price_id: 40,
    };
    // The scheduler renews from the term's end even a day late; people reactivate.
    assert_eq!(
        run(&spec, &events, Acting::System, into(), d(12, 2)),
        Ok(renewed.clone())
    );
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, into(), d(12, 2)),
        Err(
            "This membership expired on 2026-12-01: reactivate it to start a new term.".to_string()
        )
    );
    let after = [sold(d(9, 1)), rec(renewed)];
    let m = Membership {
        spec: &spec,
        events: &after,
        overdue: Default::default(),
    };
    assert_eq!(m.type_and_price_on((1, 10), d(11, 30)), (1, 10));
    assert_eq!(m.type_and_price_on((1, 10), d(12, 1)), (4, 40));
    assert_eq!(
        m.term_end(d(12, 2)),
        None,
        "an ongoing type runs until cancelled"
    );
    assert_eq!(m.status(d(12, 2)).status, Status::Active);
}

#[test]
fn managers_give_free_periods_from_the_next_billing_date_after_those_given_before() {
    let mut spec = adult();
    spec.billing_interval = Some(crate::catalog::BillingInterval::Monthly);
    let mut events = vec![sold(d(1, 31))];
    let free = |periods| ask(Action::AddFreePeriods { periods });
    assert_eq!(
        run(&spec, &events, Acting::FrontDesk, free(1), d(3, 10)),
        Err("Only managers and owners give free periods.".into())
    );
    assert_eq!(
        run(&spec, &events, Acting::Manager, free(0), d(3, 10)),
        Err("Give 1 to 12 free periods.".into())
    );
    // The next period starts 2026-03-31 (the anchor's month end); two free
    // periods run to 2026-05-31.
    let given = run(&spec, &events, Acting::Manager, free(2), d(3, 10)).unwrap();
    assert_eq!(
        given,
        Event::FreePeriods {
            from: d(3, 31),
            until: d(5, 31),
            periods: 2
        }
    );
    events.push(rec(given));
    // More free periods follow the ones already given.
    assert_eq!(
        run(&spec, &events, Acting::Manager, free(1), d(3, 12)),
        Ok(Event::FreePeriods {
            from: d(5, 31),
            until: d(6, 30),
            periods: 1
        })
    );
    assert!(matches!(
        run(&spec, &events, Acting::Manager, Request { reason: String::new(), ..free(1) }, d(3, 12)),
        Err(m) if m.starts_with("Give a reason")
    ));
}

#[test]
fn staff_move_the_billing_date_by_at_most_one_period() {
    use crate::catalog::BillingInterval::Monthly;
    let mut spec = adult();
    spec.billing_interval = Some(Monthly);
    let events = vec![sold(d(1, 1))];
    let moved = |on, prorate| ask(Action::ChangeBillingDate { on, prorate });
    let today = d(3, 10);
    let table: Vec<(Acting, Request, Expected)> = vec![
        (
            Acting::FrontDesk,
            moved(d(3, 20), true),
            Ok(Event::BillingDateChanged {
                on: d(3, 20),
                prorate: true,
            }),
        ),
        (
            Acting::Manager,
            moved(d(4, 15), false),
            Ok(Event::BillingDateChanged {
                on: d(4, 15),
                prorate: false,
            }),
        ),
        (
            Acting::Member,
            moved(d(3, 20), true),
            Err("Billing dates and cycles are changed by the staff: ask at the front desk."),
        ),
        (
            Acting::FrontDesk,
            moved(d(3, 10), true),
            Err("The new billing date must be after today: choose 2026-03-11 or later."),
        ),
        (
            Acting::FrontDesk,
            moved(d(4, 1), true),
            Err("2026-04-01 is already a billing date."),
        ),
        (
            Acting::FrontDesk,
            moved(d(5, 1), true),
            Err("Move the billing date by at most one period: choose a date before 2026-05-01."),
        ),
    ];
    for (acting, request, expected) in table {
        let on = request.action.clone();
        assert_eq!(
            run(&spec, &events, acting, request, today),
            expected.map_err(String::from),
            "{on:?} by {acting:?}"
        );
    }
    // The preview says what the bridging period is.
    let m = Membership {
        spec: &spec,
        events: &events,
        overdue: Default::default(),
    };
    let decision = decide(&m, Acting::FrontDesk, &moved(d(3, 20), true), today).unwrap();
    assert_eq!(
        decision.effect,
        "From 2026-03-20 the membership is billed on that day of each period. The bridging period from 2026-03-01 to 2026-03-19 (19 days) is prorated by its days."
    );
    // After the move, the next billing date is the new one.
    let mut after = events.clone();
    after.push(rec(decision.event));
    let m = Membership {
        spec: &spec,
        events: &after,
        overdue: Default::default(),
    };
    assert_eq!(m.next_billing(today), Some(d(3, 20)));
    assert_eq!(m.next_billing(d(3, 20)), Some(d(4, 20)));
}

#[test]
fn a_cycle_switch_needs_another_interval_and_credits_the_rest_of_the_period() {
    use crate::catalog::BillingInterval::{Monthly, Yearly};
    let mut spec = adult();
    spec.billing_interval = Some(Monthly);
    let events = vec![sold(d(1, 10))];
    let switch = |on, interval| {
        ask(Action::SwitchCycle {
            on,
            type_id: 7,
            type_name: "Adult Yearly".into(),
            price_id: 70,
            fee: Money::new(59000, Currency::EUR),
            interval,
        })
    };
    let today = d(4, 20);
    let m = Membership {
        spec: &spec,
        events: &events,
        overdue: Default::default(),
    };
    let decision = decide(&m, Acting::FrontDesk, &switch(today, Yearly), today).unwrap();
    assert_eq!(
        decision.event,
        Event::CycleSwitched {
            on: today,
            from_interval: Monthly,
            interval: Yearly,
            type_id: 7,
            type_name: "Adult Yearly".into(),
            price_id: 70
        }
    );
    assert_eq!(
        decision.effect,
        "From 2026-04-20 the membership is Adult Yearly, billed €590.00 yearly from 2026-04-20. The unused days of the current period, 2026-04-20 to 2026-05-09, are credited."
    );
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            switch(today, Monthly),
            today
        ),
        Err("Adult Yearly is billed monthly like this membership: change the type instead.".into())
    );
    assert_eq!(
        run(
            &spec,
            &events,
            Acting::FrontDesk,
            switch(d(4, 19), Yearly),
            today
        ),
        Err("A new cycle cannot start in the past: start it on 2026-04-20 or later.".into())
    );
    // Afterwards the yearly cycle runs from the switch, even though the
    // membership's spec (as loaded) is the yearly type's.
    let mut after = events.clone();
    after.push(rec(decision.event));
    let mut yearly = spec.clone();
    yearly.billing_interval = Some(Yearly);
    let m = Membership {
        spec: &yearly,
        events: &after,
        overdue: Default::default(),
    };
    assert_eq!(m.next_billing(today), Some(y(2027, 4, 20)));
    assert_eq!(
        m.period_on(d(4, 15)).map(|p| (p.start, p.end)),
        Some((d(4, 10), d(4, 20))),
        "the monthly period before the switch is cut at it"
    );
}
