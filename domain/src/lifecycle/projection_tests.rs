use super::*;
use crate::catalog::spec::{EndAction, FixedLength, Term, TypeSpec};
use crate::lifecycle::{Event, Recorded};

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

/// Walks every day from `first` to `last` and checks that the projection
/// changes only on the day the previous one said it may: a row advanced on
/// its `changes_on` is never stale in between.
fn never_late(
    spec: &TypeSpec,
    events: &[Recorded],
    unpaid: &[Unpaid],
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(NaiveDate, Status)> {
    let m = Membership {
        spec,
        events,
        overdue: Default::default(),
    };
    let dunning = Dunning::default();
    let mut stored = project(&m, (1, 1), &dunning, unpaid, first);
    let mut statuses = vec![(first, stored.status)];
    let mut day = first;
    while day < last {
        day = day.succ_opt().unwrap();
        let now = project(&m, (1, 1), &dunning, unpaid, day);
        if stored.changes_on.is_none_or(|c| day < c) {
            assert_eq!(
                now, stored,
                "on {day} the projection changed though it said it would not"
            );
        } else {
            if now.status != stored.status {
                statuses.push((day, now.status));
            }
            stored = now;
        }
    }
    statuses
}

#[test]
fn a_recurring_membership_with_a_pause_and_a_cancellation_changes_only_on_the_days_it_names() {
    let spec = TypeSpec::default();
    let events = [
        sold(d(2026, 3, 15)),
        rec(Event::Paused {
            from: d(2026, 6, 1),
            until: Some(d(2026, 7, 1)),
        }),
        rec(Event::CancelScheduled {
            end: d(2026, 10, 15),
        }),
    ];
    let statuses = never_late(&spec, &events, &[], d(2026, 3, 1), d(2027, 1, 1));
    assert_eq!(
        statuses,
        [
            (d(2026, 3, 1), Status::Pending),
            (d(2026, 3, 15), Status::Cancelling),
            (d(2026, 6, 1), Status::Paused),
            (d(2026, 7, 1), Status::Cancelling),
            (d(2026, 10, 15), Status::Cancelled),
        ]
    );
}

#[test]
fn an_unpaid_invoice_turns_past_due_then_suspended_on_the_dunning_days() {
    let spec = TypeSpec::default();
    let events = [sold(d(2026, 1, 1))];
    let unpaid = [Unpaid {
        due: d(2026, 2, 8),
        minor: 4_500,
    }];
    let dunning = Dunning::default();
    let statuses = never_late(&spec, &events, &unpaid, d(2026, 1, 20), d(2026, 4, 1));
    let past = d(2026, 2, 8) + Days::new(dunning.past_due_after.into());
    let suspended = d(2026, 2, 8) + Days::new(dunning.suspend_after.into());
    assert_eq!(
        statuses,
        [
            (d(2026, 1, 20), Status::Active),
            (past, Status::PastDue),
            (suspended, Status::Suspended),
        ]
    );
    let m = Membership {
        spec: &spec,
        events: &events,
        overdue: Default::default(),
    };
    let on_due = project(&m, (1, 1), &dunning, &unpaid, d(2026, 2, 8));
    assert_eq!(
        (on_due.overdue_minor, on_due.changes_on),
        (0, Some(d(2026, 2, 9)))
    );
    let after = project(&m, (1, 1), &dunning, &unpaid, d(2026, 2, 9));
    assert_eq!(after.overdue_minor, 4_500);
    assert_eq!(after.reason, Reason::Running);
    assert_eq!(after.next_billing, Some(d(2026, 3, 1)));
}

#[test]
fn a_fixed_term_expires_and_one_that_renews_itself_keeps_running() {
    let year = TypeSpec {
        term: Term::Fixed {
            length: FixedLength {
                years: 1,
                months: 0,
                days: 0,
            },
        },
        billing_interval: None,
        ..TypeSpec::default()
    };
    let events = [sold(d(2025, 6, 1))];
    assert_eq!(
        never_late(&year, &events, &[], d(2026, 1, 1), d(2026, 12, 31)),
        [
            (d(2026, 1, 1), Status::Active),
            (d(2026, 6, 1), Status::Expired)
        ]
    );
    let renewing = TypeSpec {
        end_action: EndAction::RenewSame,
        ..year.clone()
    };
    assert_eq!(
        never_late(&renewing, &events, &[], d(2026, 1, 1), d(2028, 1, 1)),
        [(d(2026, 1, 1), Status::Active)]
    );
}

#[test]
fn the_reason_tells_an_open_pause_from_one_with_an_end() {
    let spec = TypeSpec::default();
    let open = [
        sold(d(2026, 1, 1)),
        rec(Event::Paused {
            from: d(2026, 2, 1),
            until: None,
        }),
    ];
    let m = Membership {
        spec: &spec,
        events: &open,
        overdue: Default::default(),
    };
    let p = project(&m, (7, 9), &Dunning::default(), &[], d(2026, 2, 10));
    assert_eq!((p.status, p.reason), (Status::Paused, Reason::PausedOpen));
    assert_eq!((p.type_id, p.price_id), (7, 9));
    assert_eq!(Reason::parse(p.reason.as_str()), Some(Reason::PausedOpen));
}
