//! Credits, rule by rule with literal dates.

use chrono::NaiveDate;

use super::*;
use crate::catalog::BillingInterval;
use crate::catalog::spec::{CreditExpiry, PausePolicy};
use crate::lifecycle::{Event, Recorded};
use crate::money::{Currency, Money};

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, m, day).unwrap()
}

fn lot(id: i64, remaining: i64, expires_on: Option<NaiveDate>) -> Lot {
    Lot {
        id,
        kind: EntryKind::Adjust,
        remaining,
        expires_on,
        period_start: None,
    }
}

fn grant(id: i64, remaining: i64, period_start: NaiveDate) -> Lot {
    Lot {
        id,
        kind: EntryKind::Grant,
        remaining,
        expires_on: None,
        period_start: Some(period_start),
    }
}

fn rec(event: Event) -> Recorded {
    Recorded {
        event,
        by: String::new(),
        reason: String::new(),
        forced: false,
    }
}

fn monthly(credits: u32) -> TypeSpec {
    let mut spec = TypeSpec {
        name: "Climbing Monthly".into(),
        billing_interval: Some(BillingInterval::Monthly),
        ..TypeSpec::default()
    };
    spec.benefits.credits_per_period = credits;
    spec.benefits.carry_over_cap = Some(3);
    spec.policies.pause = Some(PausePolicy {
        max_per_year: None,
        min_days: 0,
        max_days: None,
        fee_per_period: Money::zero(Currency::EUR),
        extends_commitment: false,
        portal_allowed: true,
    });
    spec
}

#[test]
fn credits_are_spent_oldest_expiry_first_and_never_below_zero() {
    let today = d(3, 10);
    let lots = [
        lot(1, 4, None),
        lot(2, 2, Some(d(4, 1))),
        lot(3, 5, Some(d(3, 20))),
        lot(4, 9, Some(d(3, 10))), // expired today: not spendable
    ];
    assert_eq!(spend(&lots, 6, today), Ok(vec![(3, 5), (2, 1)]));
    assert_eq!(spend(&lots, 11, today), Ok(vec![(3, 5), (2, 2), (1, 4)]));
    let short = spend(&lots, 12, today).unwrap_err();
    assert_eq!(
        short,
        Short {
            balance: 11,
            asked: 12
        }
    );
    assert_eq!(
        short.to_string(),
        "only 11 credits left: 12 cannot be taken"
    );
    assert_eq!(
        Short {
            balance: 1,
            asked: 2
        }
        .to_string(),
        "only 1 credit left: 2 cannot be taken"
    );
}

#[test]
fn at_period_end_the_cap_is_carried_and_the_rest_expires() {
    let lots = [
        grant(7, 2, d(2, 1)), // carried into February
        grant(8, 6, d(2, 1)), // February's grant
        grant(5, 9, d(1, 1)), // January's: already handled
        lot(9, 4, None),      // an adjustment: not periodic
    ];
    let end = period_end(&lots, d(2, 1), Some(3));
    assert_eq!(end.carried, [(7, 2), (8, 1)]);
    assert_eq!(end.expired, [(8, 5)]);
    assert_eq!(end.carried_total(), 3);
    let all = period_end(&lots, d(2, 1), None);
    assert_eq!((all.carried_total(), all.expired.len()), (8, 0));
    let none = period_end(&lots, d(2, 1), Some(0));
    assert_eq!(
        (none.carried_total(), none.expired),
        (0, vec![(7, 2), (8, 6)])
    );
}

#[test]
fn lots_expire_on_their_date() {
    let lots = [
        lot(1, 3, Some(d(3, 1))),
        lot(2, 0, Some(d(2, 1))),
        lot(3, 5, Some(d(3, 2))),
    ];
    assert_eq!(expired(&lots, d(3, 1)), [(1, 3)]);
    assert_eq!(expired(&lots, d(3, 5)), [(1, 3), (3, 5)]);
}

#[test]
fn a_grant_each_active_period_none_while_paused_or_after_the_end() {
    let spec = monthly(8);
    let events = [
        rec(Event::Sold {
            start: d(1, 15),
            approval_required: false,
        }),
        rec(Event::Paused {
            from: d(2, 10),
            until: Some(d(3, 20)),
        }),
        rec(Event::CancelScheduled { end: d(5, 15) }),
    ];
    let m = Membership {
        spec: &spec,
        events: &events,
        overdue: Default::default(),
    };
    let due = grants_due(&m, d(12, 31));
    let days: Vec<NaiveDate> = due.iter().map(|g| g.on).collect();
    // 15 February and 15 March fall in the pause; the membership ends 15 May.
    assert_eq!(days, [d(1, 15), d(4, 15)]);
    assert_eq!(due[0].key, "grant:2027-01-15");
    assert_eq!(due[0].credits, 8);
    assert_eq!(due[0].period, Some((d(1, 15), d(2, 15))));
    assert_eq!(due[0].expires_on, None);
    assert!(
        grants_due(&m, d(1, 14)).is_empty(),
        "nothing before the start"
    );
}

#[test]
fn a_credit_expiry_dates_each_grant_and_a_punch_card_grants_once() {
    let mut spec = monthly(4);
    spec.benefits.credit_expiry = Some(CreditExpiry {
        after: 2,
        unit: ExpiryUnit::Periods,
    });
    let events = [rec(Event::Sold {
        start: d(1, 31),
        approval_required: false,
    })];
    let m = Membership {
        spec: &spec,
        events: &events,
        overdue: Default::default(),
    };
    let due = grants_due(&m, d(2, 28));
    assert_eq!(
        due[0].expires_on,
        Some(d(3, 31)),
        "two periods from 31 January"
    );
    assert_eq!(due[1].on, d(2, 28));

    let mut card = TypeSpec {
        name: "10-Visit Pass".into(),
        purchase_type: PurchaseType::Prepaid,
        punch_card_credits: Some(10),
        ..TypeSpec::default()
    };
    card.benefits.credit_expiry = Some(CreditExpiry {
        after: 90,
        unit: ExpiryUnit::Days,
    });
    let m = Membership {
        spec: &card,
        events: &events,
        overdue: Default::default(),
    };
    let due = grants_due(&m, d(12, 1));
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].credits, due[0].expires_on), (10, Some(d(5, 1))));
}

#[test]
fn adjustments_need_a_whole_number_and_a_reason() {
    let ok = AdjustForm {
        amount: "-2".into(),
        reason: "double booked by mistake".into(),
        key: "k".into(),
    }
    .command()
    .unwrap();
    assert_eq!(ok.amount, -2);
    let err = AdjustForm {
        amount: "1.5".into(),
        reason: " ".into(),
        key: "k".into(),
    }
    .command()
    .unwrap_err();
    assert_eq!(
        err.message_for("amount"),
        Some("enter a whole number of credits, negative to take some away")
    );
    assert_eq!(
        err.message_for("reason"),
        Some("say why: the reason is kept in the history")
    );
    let zero = AdjustForm {
        amount: "0".into(),
        reason: "r".into(),
        key: "k".into(),
    }
    .command()
    .unwrap_err();
    assert_eq!(
        zero.message_for("amount"),
        Some("an adjustment of 0 changes nothing")
    );
    // The smallest i64 has no absolute value in i64: refused, not a panic.
    let huge = AdjustForm {
        amount: i64::MIN.to_string(),
        reason: "r".into(),
        key: "k".into(),
    }
    .command()
    .unwrap_err();
    assert_eq!(
        huge.message_for("amount"),
        Some("adjust by at most 10,000 credits at once")
    );
}
