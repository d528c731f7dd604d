use super::*;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

fn by_desk(event: Event, reason: &str) -> Recorded {
    Recorded {
        event,
        by: "a front-desk user".into(),
        reason: reason.into(),
        forced: false,
    }
}

fn sold(start: NaiveDate) -> Recorded {
    by_desk(
        Event::Sold {
            start,
            approval_required: false,
        },
        "",
    )
}

#[test]
fn a_pause_booked_for_later_is_in_the_explanation_until_it_begins() {
    let facts = Facts {
        next_billing: Some(d(12, 1)),
        ..Default::default()
    };
    let mut events = vec![
        sold(d(3, 1)),
        by_desk(
            Event::Paused {
                from: d(12, 1),
                until: Some(d(12, 15)),
            },
            "travel",
        ),
    ];
    let before = status(&events, &facts, d(11, 20));
    assert_eq!(before.status, Status::Active);
    assert_eq!(
        before.explanation,
        "active since 2026-03-01; next billing 2026-12-01; pauses 2026-12-01 until 2026-12-15"
    );
    assert_eq!(status(&events, &facts, d(12, 1)).status, Status::Paused);
    // Called off before it began: no longer mentioned.
    events.push(by_desk(Event::Resumed { on: d(11, 25) }, ""));
    assert_eq!(
        status(&events, &facts, d(11, 26)).explanation,
        "active since 2026-03-01; next billing 2026-12-01"
    );
    // Open-ended, with a cancellation scheduled after it.
    events.push(by_desk(
        Event::Paused {
            from: d(12, 5),
            until: None,
        },
        "",
    ));
    events.push(by_desk(Event::CancelScheduled { end: d(12, 31) }, ""));
    assert_eq!(
        status(&events, &facts, d(11, 27)).explanation,
        "active until 2026-12-31, then cancelled by a front-desk user; pauses from 2026-12-05 until resumed"
    );
}

#[test]
fn a_membership_moves_through_sold_paused_resumed_cancelling_cancelled() {
    let facts = Facts {
        next_billing: Some(d(12, 1)),
        ..Default::default()
    };
    let mut events = vec![sold(d(3, 1))];
    let at = |events: &[Recorded], day| status(events, &facts, day);
    assert_eq!(at(&events, d(2, 20)).status, Status::Pending);
    assert_eq!(at(&events, d(2, 20)).explanation, "starts 2026-03-01");
    assert_eq!(
        at(&events, d(11, 5)).explanation,
        "active since 2026-03-01; next billing 2026-12-01"
    );

    events.push(by_desk(
        Event::Paused {
            from: d(11, 10),
            until: Some(d(12, 10)),
        },
        "injury",
    ));
    let paused = at(&events, d(11, 20));
    assert_eq!(
        (paused.status, paused.since, paused.until),
        (Status::Paused, Some(d(11, 10)), Some(d(12, 10)))
    );
    assert_eq!(
        paused.explanation,
        "paused 2026-11-10 until 2026-12-10 by a front-desk user: injury"
    );
    assert_eq!(
        at(&events, d(12, 10)).status,
        Status::Active,
        "the scheduled resume happens by itself"
    );

    events.push(by_desk(Event::Resumed { on: d(11, 25) }, "back early"));
    assert_eq!(at(&events, d(11, 24)).status, Status::Paused);
    assert_eq!(at(&events, d(11, 25)).status, Status::Active);

    events.push(by_desk(
        Event::CancelScheduled { end: d(12, 1) },
        "moving away",
    ));
    let cancelling = at(&events, d(11, 28));
    assert_eq!(
        (cancelling.status, cancelling.until),
        (Status::Cancelling, Some(d(12, 1)))
    );
    let cancelled = at(&events, d(12, 1));
    assert_eq!(cancelled.status, Status::Cancelled);
    assert_eq!(
        cancelled.explanation,
        "cancelled, ended 2026-12-01 by a front-desk user: moving away"
    );
}

#[test]
fn an_open_pause_lasts_until_resumed() {
    let events = vec![
        sold(d(1, 1)),
        by_desk(
            Event::Paused {
                from: d(5, 1),
                until: None,
            },
            "travel",
        ),
    ];
    let r = status(&events, &Facts::default(), d(9, 1));
    assert_eq!(r.status, Status::Paused);
    assert_eq!(
        r.explanation,
        "paused 2026-05-01 until resumed by a front-desk user: travel"
    );
}

#[test]
fn a_fixed_term_expires_at_its_end() {
    let facts = Facts {
        term_end: Some(d(7, 1)),
        ..Default::default()
    };
    assert_eq!(
        status(&[sold(d(1, 1))], &facts, d(6, 30)).status,
        Status::Active
    );
    let r = status(&[sold(d(1, 1))], &facts, d(7, 1));
    assert_eq!(
        (r.status, r.explanation.as_str()),
        (Status::Expired, "fixed term ended 2026-07-01")
    );
}

#[test]
fn a_membership_needing_approval_waits_then_starts_or_is_rejected() {
    let mut events = vec![by_desk(
        Event::Sold {
            start: d(3, 1),
            approval_required: true,
        },
        "",
    )];
    assert_eq!(
        status(&events, &Facts::default(), d(4, 1)).status,
        Status::NotApproved
    );
    let mut rejected = events.clone();
    rejected.push(Recorded {
        event: Event::Rejected { on: d(2, 25) },
        by: "a manager".into(),
        reason: "no company letter".into(),
        forced: false,
    });
    assert_eq!(
        status(&rejected, &Facts::default(), d(4, 1)).explanation,
        "rejected 2026-02-25 by a manager: no company letter"
    );
    events.push(Recorded {
        event: Event::Approved { on: d(2, 25) },
        by: "a manager".into(),
        reason: String::new(),
        forced: false,
    });
    assert_eq!(
        status(&events, &Facts::default(), d(2, 26)).explanation,
        "starts 2026-03-01 (approved 2026-02-25)"
    );
    assert_eq!(
        status(&events, &Facts::default(), d(3, 1)).status,
        Status::Active
    );
}

#[test]
fn unpaid_invoices_make_it_past_due() {
    let facts = Facts {
        overdue: crate::payments::Overdue {
            past_due_since: Some(d(11, 15)),
            suspended_since: None,
        },
        ..Default::default()
    };
    let r = status(&[sold(d(1, 1))], &facts, d(11, 20));
    assert_eq!((r.status, r.since), (Status::PastDue, Some(d(11, 15))));
    let facts = Facts {
        overdue: crate::payments::Overdue {
            past_due_since: Some(d(11, 15)),
            suspended_since: Some(d(11, 26)),
        },
        ..Default::default()
    };
    let r = status(&[sold(d(1, 1))], &facts, d(11, 26));
    assert_eq!((r.status, r.since), (Status::Suspended, Some(d(11, 26))));
    assert!(r.explanation.contains("no access or bookings"));
}

#[test]
fn cancelling_can_be_undone_and_a_cancelled_membership_reactivated() {
    let mut events = vec![
        sold(d(1, 1)),
        by_desk(Event::CancelScheduled { end: d(6, 1) }, ""),
    ];
    events.push(by_desk(
        Event::CancelUndone { on: d(5, 20) },
        "changed their mind",
    ));
    assert_eq!(
        status(&events, &Facts::default(), d(7, 1)).status,
        Status::Active
    );
    events.push(by_desk(Event::CancelScheduled { end: d(8, 1) }, ""));
    assert_eq!(
        status(&events, &Facts::default(), d(9, 1)).status,
        Status::Cancelled
    );
    events.push(by_desk(Event::Reactivated { on: d(9, 15) }, "came back"));
    assert_eq!(
        status(&events, &Facts::default(), d(9, 10)).status,
        Status::Pending,
        "until the reactivation date"
    );
    let r = status(&events, &Facts::default(), d(9, 20));
    assert_eq!((r.status, r.since), (Status::Active, Some(d(9, 15))));
}
