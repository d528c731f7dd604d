//! Booking rules, one table each.

use super::*;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn yoga() -> ServiceSpec {
    ServiceForm {
        name: "Yoga".into(),
        kind: "class".into(),
        duration_minutes: "60".into(),
        capacity: "12".into(),
        price: "15".into(),
        price_credits: "1".into(),
        cancel_window_hours: "12".into(),
        late_fee: "5".into(),
        requires_membership: "on".into(),
        timetable: "Wed 18:00, mon 18:00, Sat 10:00".into(),
        ..Default::default()
    }
    .validate(Currency::EUR, &[])
    .unwrap()
}

#[test]
fn a_service_checks_its_fields_and_reads_its_timetable() {
    let y = yoga();
    assert_eq!(
        format_timetable(&y.timetable),
        "Mon 18:00, Wed 18:00, Sat 10:00"
    );
    assert_eq!(y.describe(), "12 places · 60 min · 1 credit or €15.00");
    let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(); // a Wednesday
    assert_eq!(
        y.slots_on(day),
        [NaiveTime::from_hms_opt(18, 0, 0).unwrap()]
    );
    let err = ServiceForm {
        name: "".into(),
        kind: "party".into(),
        duration_minutes: "2".into(),
        capacity: "0".into(),
        location_id: "9".into(),
        timetable: "Monday at six".into(),
        price: "-3".into(),
        ..Default::default()
    }
    .validate(Currency::EUR, &[1, 2])
    .unwrap_err();
    for (field, message) in [
        ("name", "enter the service's name"),
        ("kind", "choose a kind from the list"),
        ("duration_minutes", "enter minutes from 5 to 1440"),
        ("capacity", "enter a number of places from 1 to 1000"),
        ("location_id", "choose one of the business's locations"),
        ("price", "enter an amount like 12.50"),
        (
            "timetable",
            "write each time as a day and a time, like \"Mon 18:00\" (not \"Monday at six\")",
        ),
    ] {
        assert_eq!(err.message_for(field), Some(message), "{field}");
    }
    assert_eq!(
        parse_timetable("Fri 25:00"),
        Err("\"25:00\" is not a time like 18:00".into())
    );
}

#[test]
fn only_active_memberships_book() {
    let report = |status, explanation: &str| StatusReport {
        status,
        since: None,
        until: None,
        explanation: explanation.into(),
    };
    assert!(may_book(&report(Status::Active, "")).is_ok());
    assert!(may_book(&report(Status::Cancelling, "")).is_ok());
    assert_eq!(
        may_book(&report(
            Status::Paused,
            "paused 2026-12-01 until 2026-12-20"
        )),
        Err("A paused membership cannot book: paused 2026-12-01 until 2026-12-20".into())
    );
    for s in [
        Status::PastDue,
        Status::Suspended,
        Status::Cancelled,
        Status::NotApproved,
    ] {
        assert!(may_book(&report(s, "")).is_err(), "{s:?}");
    }
}

#[test]
fn payment_prefers_the_allowance_then_credits_then_money() {
    let y = yoga();
    let means = |allowance_left, credit_balance| Means {
        allowance_left,
        credit_balance,
        has_membership: true,
    };
    assert_eq!(choose_payment(&y, means(1, 5), None), Ok(PaidBy::Allowance));
    assert_eq!(choose_payment(&y, means(0, 5), None), Ok(PaidBy::Credits));
    assert_eq!(choose_payment(&y, means(0, 0), None), Ok(PaidBy::Money));
    assert_eq!(
        choose_payment(&y, means(0, 0), Some(PaidBy::Credits)),
        Err("Yoga costs 1 credit; only 0 left.".into())
    );
    let credits_only = ServiceSpec {
        price: None,
        ..y.clone()
    };
    assert_eq!(
        choose_payment(&credits_only, means(0, 0), None),
        Err("Yoga costs 1 credit; only 0 left.".into())
    );
    let free = ServiceSpec {
        price: None,
        price_credits: None,
        ..y
    };
    assert_eq!(choose_payment(&free, means(0, 0), None), Ok(PaidBy::Free));
}

#[test]
fn the_member_discount_rounds_once_and_the_window_decides_refunds() {
    assert_eq!(member_price(eur(1500), Decimal::new(10, 0)), eur(1350));
    assert_eq!(member_price(eur(999), Decimal::new(15, 0)), eur(849)); // 149.85 → 150 off
    let at = |d: u32, h: u32| {
        NaiveDate::from_ymd_opt(2026, 12, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    };
    // A class at 18:00 on the 3rd with a 12-hour window.
    assert!(
        cancelled_in_window(at(3, 18), at(3, 6), 12),
        "exactly 12 hours before"
    );
    assert!(!cancelled_in_window(at(3, 18), at(3, 7), 12));
    assert!(cancelled_in_window(at(3, 18), at(2, 9), 12));
}

#[test]
fn a_booking_form_needs_a_service_a_membership_a_day_and_a_time() {
    let ok = BookingForm {
        service_id: "3".into(),
        membership_id: "7".into(),
        day: "2026-12-02".into(),
        time: "18:00".into(),
        pay_with: "credits".into(),
        member_id: String::new(),
        key: "k".into(),
    }
    .parse()
    .unwrap();
    assert_eq!(ok.pay_with, Some(PaidBy::Credits));
    let err = BookingForm::default().parse().unwrap_err();
    assert!(err.message_for("service_id").is_some() && err.message_for("time").is_some());
}
