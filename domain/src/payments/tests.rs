use super::*;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("EUR").unwrap())
}
fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn a_payment_settles_invoices_oldest_first_and_the_rest_is_credit() {
    let dues = [(1, eur(4900)), (2, eur(4900)), (3, eur(2500))];
    let (parts, left) = allocate(eur(6000), &dues);
    assert_eq!(
        parts,
        [
            Allocation {
                invoice_id: 1,
                amount: eur(4900)
            },
            Allocation {
                invoice_id: 2,
                amount: eur(1100)
            }
        ]
    );
    assert_eq!(left, eur(0));
    let (parts, left) = allocate(eur(20000), &dues);
    assert_eq!(parts.iter().map(|p| p.amount.minor).sum::<i64>(), 12300);
    assert_eq!(left, eur(7700));
    let (parts, left) = allocate(eur(500), &[]);
    assert!(parts.is_empty());
    assert_eq!(left, eur(500));
}

#[test]
fn a_manual_payment_needs_an_amount_a_method_and_a_traceable_reference() {
    let eur_c = Currency::from_code("EUR").unwrap();
    let ok = check_payment(
        &PaymentForm {
            amount: "49.00".into(),
            method: "cash".into(),
            reference: String::new(),
            key: "k1".into(),
            ..Default::default()
        },
        eur_c,
    )
    .unwrap();
    assert_eq!((ok.amount, ok.method), (Some(eur(4900)), Method::Cash));
    // "What is due" leaves the amount to the booking; a typed amount still counts.
    let due = |amount: &str| {
        check_payment(
            &PaymentForm {
                amount: amount.into(),
                method: "cash".into(),
                key: "k2".into(),
                amount_due: true,
                ..Default::default()
            },
            eur_c,
        )
    };
    assert_eq!(due("").unwrap().amount, None);
    assert_eq!(due("12").unwrap().amount, Some(eur(1200)));
    assert!(due("92233720368547758.07").is_err(), "amounts are bounded");
    let bad = check_payment(
        &PaymentForm {
            amount: "-3".into(),
            method: "bank_transfer".into(),
            reference: " ".into(),
            key: String::new(),
            ..Default::default()
        },
        eur_c,
    )
    .unwrap_err();
    assert_eq!(
        bad.message_for("amount"),
        Some("enter an amount above zero")
    );
    assert!(bad.message_for("reference").unwrap().contains("reference"));
    assert!(bad.message_for("key").unwrap().contains("reload"));
    let bad = check_payment(
        &PaymentForm {
            amount: "10".into(),
            method: "cheque".into(),
            key: "k".into(),
            ..Default::default()
        },
        eur_c,
    )
    .unwrap_err();
    assert_eq!(
        bad.message_for("method"),
        Some("choose how the money was paid")
    );
}

#[test]
fn a_refund_never_exceeds_what_is_left_of_the_payment() {
    let form = |amount: &str| RefundForm {
        amount: amount.into(),
        reason: "moved away".into(),
        key: "r1".into(),
    };
    assert_eq!(
        check_refund(&form("20"), eur(4900), eur(2900))
            .unwrap()
            .amount,
        eur(2000)
    );
    let e = check_refund(&form("20.01"), eur(4900), eur(2900)).unwrap_err();
    assert_eq!(
        e.message_for("amount"),
        Some("at most €20.00 can be refunded: €49.00 was paid and €29.00 refunded before")
    );
    let e = check_refund(&form("1"), eur(4900), eur(4900)).unwrap_err();
    assert_eq!(
        e.message_for("amount"),
        Some("this payment of €49.00 has been refunded in full already")
    );
    let e = check_refund(
        &RefundForm {
            amount: "1".into(),
            reason: " ".into(),
            key: "k".into(),
        },
        eur(4900),
        eur(0),
    )
    .unwrap_err();
    assert_eq!(e.message_for("reason"), Some("say why the money goes back"));
}

#[test]
fn cards_are_checked_by_luhn_and_expiry_and_only_the_last_digits_kept() {
    let today = d(2026, 11, 22);
    let (card, digits) = check_card(
        &CardForm {
            number: "4242 4242 4242 4242".into(),
            expiry: "04/29".into(),
        },
        today,
    )
    .unwrap();
    assert_eq!(
        card.label(),
        "Visa ending 4242 (expires 04/2029)".to_string()
    );
    assert_eq!(
        SandboxBehaviour::of_number(&digits),
        SandboxBehaviour::Succeeds
    );
    assert_eq!(
        SandboxBehaviour::of_number("4000000000000002"),
        SandboxBehaviour::Declines
    );
    let e = check_card(
        &CardForm {
            number: "4242 4242 4242 4241".into(),
            expiry: "10/26".into(),
        },
        today,
    )
    .unwrap_err();
    assert!(
        e.message_for("number")
            .unwrap()
            .starts_with("this is not a valid card number")
    );
    assert_eq!(e.message_for("expiry"), Some("this card has expired"));
    assert!(
        check_card(
            &CardForm {
                number: "4000 0000 0000 0002".into(),
                expiry: "11/2026".into()
            },
            today
        )
        .is_ok()
    );
    for (number, b) in SandboxBehaviour::TEST_CARDS {
        assert!(luhn_valid(&number.replace(' ', "")), "{number}");
        assert_eq!(SandboxBehaviour::from_token(b.token()), Some(b));
    }
}

#[test]
fn dunning_retries_on_schedule_then_past_due_then_suspended() {
    let dunning = Dunning::default();
    let due = d(2026, 12, 22);
    assert_eq!(dunning.next_attempt(due, 1), Some(d(2026, 12, 23)));
    assert_eq!(dunning.next_attempt(due, 3), Some(d(2026, 12, 29)));
    assert_eq!(dunning.next_attempt(due, 4), None);
    assert_eq!(
        dunning.overdue(Some(due), d(2026, 12, 24)),
        Overdue::default()
    );
    assert_eq!(
        dunning.overdue(Some(due), d(2026, 12, 25)),
        Overdue {
            past_due_since: Some(d(2026, 12, 25)),
            suspended_since: None
        }
    );
    assert_eq!(
        dunning.overdue(Some(due), d(2027, 1, 5)).suspended_since,
        Some(d(2027, 1, 5))
    );
    assert_eq!(dunning.overdue(None, d(2027, 1, 5)), Overdue::default());
    assert_eq!(Dunning::parse_retry_days("1, 3,7"), Ok(vec![1, 3, 7]));
    assert!(Dunning::parse_retry_days("3, 1").is_err());
    assert!(Dunning::parse_retry_days("0").is_err());
    assert_eq!(Dunning::parse_retry_days(""), Ok(vec![]));
}
