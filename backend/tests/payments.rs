//! Payments, refunds, credit notes and dunning on SQLite and (with
//! TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::Actor;
use backend::ops::check;
use backend::payments::{self, Account, Charged};
use backend::testing::each_db;
use backend::{Error, billing, business, memberships, query};
use domain::invoices::{CreditNoteForm, InvoiceState, InvoiceStatus, ReasonForm};
use domain::lifecycle::Status;
use domain::payments::{CardForm, PaymentForm, RefundForm};
use domain::staff::Role;
use support::{Club, club, d, good_card, invoice_id};

/// (number, total, paid, status) of the membership's invoices.
async fn invoices(c: &Club) -> Vec<(i64, i64, i64, String)> {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let rows = query!(&mut tx, fetch_all as (i64, i64, i64, String),
        "SELECT number, total_minor, amount_paid_minor, status FROM invoices WHERE membership_id = $1 ORDER BY number",
        c.membership).unwrap();
    tx.commit().await.unwrap();
    rows
}

async fn count(c: &Club, sql: &'static str) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (n,) = query!(&mut tx, fetch_one as (i64,), sql).unwrap();
    tx.commit().await.unwrap();
    n
}

async fn credit(c: &Club) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (n,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM account_entries WHERE member_id = $1",
        c.member
    )
    .unwrap();
    tx.commit().await.unwrap();
    n
}

fn pay(amount: &str, method: &str, reference: &str, key: &str) -> PaymentForm {
    PaymentForm {
        amount: amount.into(),
        method: method.into(),
        reference: reference.into(),
        key: key.into(),
        amount_due: false,
    }
}

async fn status(c: &Club) -> Status {
    memberships::membership(&c.s, &c.owner, c.membership)
        .await
        .unwrap()
        .status
        .status
}

async fn timeline(c: &Club) -> Vec<String> {
    memberships::membership(&c.s, &c.owner, c.membership)
        .await
        .unwrap()
        .timeline
        .into_iter()
        .map(|e| e.what)
        .collect()
}

#[tokio::test]
async fn payments_settle_oldest_first_overpayment_becomes_credit_and_a_repeated_key_records_once() {
    each_db(|db| async move {
        let c = club(db).await;
        let business_id = c.owner.business_id;
        billing::run_billing(&c.s, business_id, d(2026, 11, 22))
            .await
            .unwrap();
        let first = invoice_id(&c, 1).await;
        let p1 = payments::record_payment(&c.s, &c.owner, first, &pay("50", "cash", "", "k1"))
            .await
            .unwrap();
        let again = payments::record_payment(&c.s, &c.owner, first, &pay("50", "cash", "", "k1"))
            .await
            .unwrap();
        assert_eq!(p1, again);
        assert_eq!(count(&c, "SELECT COUNT(*) FROM payments").await, 1);
        assert_eq!(invoices(&c).await, [(1, 7400, 5000, "open".into())]);

        // A transfer without its reference is refused with a reason.
        let Err(Error::Invalid(e)) =
            payments::record_payment(&c.s, &c.owner, first, &pay("44", "bank_transfer", "", "k2"))
                .await
        else {
            panic!("a transfer needs a reference")
        };
        assert!(e.message_for("reference").is_some());

        payments::record_payment(
            &c.s,
            &c.owner,
            first,
            &pay("44", "bank_transfer", "TR-1", "k2"),
        )
        .await
        .unwrap();
        assert_eq!(invoices(&c).await, [(1, 7400, 7400, "paid".into())]);
        assert_eq!(credit(&c).await, 2000);

        // The next invoice is settled from the credit by itself.
        billing::run_billing(&c.s, business_id, d(2026, 12, 22))
            .await
            .unwrap();
        assert_eq!(
            invoices(&c).await,
            [
                (1, 7400, 7400, "paid".into()),
                (2, 4900, 2000, "open".into())
            ]
        );
        assert_eq!(credit(&c).await, 0);
        let view = billing::invoice(&c.s, &c.owner, invoice_id(&c, 2).await)
            .await
            .unwrap();
        assert_eq!(view.paid_from_credit.minor, 2000);
        assert_eq!(view.amount_due().minor, 2900);
        let view = billing::invoice(&c.s, &c.owner, first).await.unwrap();
        let applied: Vec<i64> = view.payments.iter().map(|p| p.applied_here.minor).collect();
        assert_eq!(applied, [5000, 2400]);
        assert_ne!(view.keys.pay, view.keys.refund);
    })
    .await;
}

#[tokio::test]
async fn refunds_never_exceed_the_payment_take_back_unused_credit_and_need_a_manager() {
    each_db(|db| async move {
        let c = club(db).await;
        billing::run_billing(&c.s, c.owner.business_id, d(2026, 11, 22))
            .await
            .unwrap();
        let first = invoice_id(&c, 1).await;
        let p = payments::record_payment(&c.s, &c.owner, first, &pay("100", "cash", "", "k1"))
            .await
            .unwrap();
        assert_eq!(credit(&c).await, 2600);
        let desk = c.owner.with_role(Role::FrontDesk);
        let refund = |amount: &str, key: &str| RefundForm {
            amount: amount.into(),
            reason: "paid too much".into(),
            key: key.into(),
        };
        assert!(matches!(
            payments::refund(&c.s, &desk, p, &refund("26", "r1")).await,
            Err(Error::Forbidden)
        ));
        let Err(Error::Invalid(e)) =
            payments::refund(&c.s, &c.owner, p, &refund("100.01", "r1")).await
        else {
            panic!("a refund above the payment is refused")
        };
        assert_eq!(
            e.message_for("amount"),
            Some("at most €100.00 can be refunded: €100.00 was paid and €0.00 refunded before")
        );
        let r1 = payments::refund(&c.s, &c.owner, p, &refund("26", "r1"))
            .await
            .unwrap();
        assert_eq!(
            payments::refund(&c.s, &c.owner, p, &refund("26", "r1"))
                .await
                .unwrap(),
            r1
        );
        // The overpaid part went back: no credit is left to settle anything.
        assert_eq!(credit(&c).await, 0);
        assert_eq!(count(&c, "SELECT COUNT(*) FROM refunds").await, 1);
        // Only the overpaid credit went back: the invoice still reads Paid.
        let state = |c: &Club| {
            let s = c.s.clone();
            let owner = c.owner;
            async move {
                let view = billing::invoice(&s, &owner, first).await.unwrap();
                let listed = billing::list_invoices(&s, &owner, &Default::default())
                    .await
                    .unwrap()
                    .rows
                    .into_iter()
                    .find(|r| r.summary.id == first)
                    .unwrap();
                assert_eq!(view.summary.state(), listed.summary.state());
                (view.summary.state(), view.summary.refunded.minor)
            }
        };
        assert_eq!(state(&c).await, (InvoiceState::Paid, 0));
        payments::refund(&c.s, &c.owner, p, &refund("30", "r2"))
            .await
            .unwrap();
        assert_eq!(state(&c).await, (InvoiceState::PartlyRefunded, 3000));
        payments::refund(&c.s, &c.owner, p, &refund("44", "r2b"))
            .await
            .unwrap();
        assert_eq!(state(&c).await, (InvoiceState::Refunded, 7400));
        let Err(Error::Invalid(e)) =
            payments::refund(&c.s, &c.owner, p, &refund("0.01", "r3")).await
        else {
            panic!("nothing is left to refund")
        };
        assert!(
            e.message_for("amount")
                .unwrap()
                .contains("refunded in full")
        );
        let view = billing::invoice(&c.s, &c.owner, first).await.unwrap();
        assert_eq!(view.payments[0].refunds.len(), 3);
        assert_eq!(view.payments[0].refundable.minor, 0);
    })
    .await;
}

#[tokio::test]
async fn a_declined_card_is_retried_then_past_due_then_suspended_and_paying_restores_at_once() {
    each_db(|db| async move {
        let c = club(db).await;
        let account = Account::Member(c.member);
        let label = payments::add_card(
            &c.s,
            &c.owner,
            account,
            &CardForm {
                number: "4000 0000 0000 0002".into(),
                expiry: "12/30".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(label, "Visa ending 0002 (expires 12/2030)");
        let at = |day| backend::jobs::set_simulated_date(&c.s, &c.owner, Some(day));
        at(d(2026, 11, 22)).await.unwrap();
        assert_eq!(invoices(&c).await, [(1, 7400, 0, "open".into())]);
        let tl = timeline(&c).await;
        assert!(
            tl.iter().any(|e| e
                == "Charge for invoice #1 failed on 2026-11-22: the card was declined; next try 2026-11-23"),
            "{tl:?}"
        );
        assert_eq!(status(&c).await, Status::Active);
        at(d(2026, 11, 25)).await.unwrap();
        assert_eq!(status(&c).await, Status::PastDue);
        // Tries on the 22nd, the late try of the 23rd, and the 25th's (due + 1, 3 days);
        // repeating the day tries nothing more.
        at(d(2026, 11, 25)).await.unwrap();
        at(d(2026, 11, 25)).await.unwrap();
        assert_eq!(
            count(&c, "SELECT COUNT(*) FROM payments WHERE succeeded = FALSE").await,
            3
        );
        at(d(2026, 12, 6)).await.unwrap();
        assert_eq!(status(&c).await, Status::Suspended);
        let tl = timeline(&c).await;
        assert!(tl.iter().any(|e| e.starts_with("Past due from 2026-11-25")), "{tl:?}");
        assert!(tl.iter().any(|e| e.starts_with("Suspended from 2026-12-06")), "{tl:?}");
        assert!(count(&c, "SELECT COUNT(*) FROM outbox WHERE kind = 'dunning'").await >= 2);

        // A good card: staff charge it; the same key twice charges once.
        good_card(&c, account).await;
        let first = invoice_id(&c, 1).await;
        let charged = payments::charge_card(&c.s, &c.owner, first, None, "c1")
            .await
            .unwrap();
        let Charged::Succeeded(p) = charged else {
            panic!("{charged:?}")
        };
        assert_eq!(
            payments::charge_card(&c.s, &c.owner, first, None, "c1")
                .await
                .unwrap(),
            Charged::Replayed(p)
        );
        assert_eq!(invoices(&c).await, [(1, 7400, 7400, "paid".into())]);
        assert_eq!(status(&c).await, Status::Active);
        let tl = timeline(&c).await;
        assert!(tl.iter().any(|e| e == "Restored on 2026-12-06: the balance is paid"), "{tl:?}");
        assert_eq!(count(&c, "SELECT COUNT(*) FROM outbox WHERE kind = 'receipt'").await, 1);

        // From now on the card on file pays each invoice on its date.
        at(d(2026, 12, 22)).await.unwrap();
        assert_eq!(
            invoices(&c).await,
            [(1, 7400, 7400, "paid".into()), (2, 4900, 4900, "paid".into())]
        );
    })
    .await;
}

#[tokio::test]
async fn void_only_without_payments_and_credit_notes_up_to_the_total_become_account_credit() {
    each_db(|db| async move {
        let c = club(db).await;
        let business_id = c.owner.business_id;
        billing::run_billing(&c.s, business_id, d(2026, 11, 22))
            .await
            .unwrap();
        let first = invoice_id(&c, 1).await;
        let reason = ReasonForm {
            reason: "sold by mistake".into(),
        };
        payments::close_invoice(&c.s, &c.owner, first, InvoiceStatus::Void, &reason)
            .await
            .unwrap();
        // A voided charge is not billed again.
        assert_eq!(
            billing::run_billing(&c.s, business_id, d(2026, 11, 30))
                .await
                .unwrap()
                .invoices,
            0
        );
        billing::run_billing(&c.s, business_id, d(2026, 12, 22))
            .await
            .unwrap();
        let second = invoice_id(&c, 2).await;
        payments::record_payment(&c.s, &c.owner, second, &pay("49", "cash", "", "k1"))
            .await
            .unwrap();
        assert!(matches!(
            payments::close_invoice(&c.s, &c.owner, second, InvoiceStatus::Void, &reason).await,
            Err(Error::Conflict(_))
        ));
        let note = |amount: &str, key: &str| CreditNoteForm {
            amount: amount.into(),
            reason: "closed for a week".into(),
            key: key.into(),
        };
        let Err(Error::Invalid(e)) =
            payments::credit_note(&c.s, &c.owner, second, &note("49.01", "n1")).await
        else {
            panic!("a credit above the total is refused")
        };
        assert_eq!(
            e.message_for("amount"),
            Some("at most €49.00 can be credited on invoice #2")
        );
        let n1 = payments::credit_note(&c.s, &c.owner, second, &note("11.43", "n1"))
            .await
            .unwrap();
        assert_eq!(
            payments::credit_note(&c.s, &c.owner, second, &note("11.43", "n1"))
                .await
                .unwrap(),
            n1
        );
        assert_eq!(credit(&c).await, 1143);
        // The credit note is not something the generator corrects away.
        billing::run_billing(&c.s, business_id, d(2027, 1, 22))
            .await
            .unwrap();
        assert_eq!(
            invoices(&c).await,
            [
                (1, 7400, 0, "void".into()),
                (2, 4900, 4900, "paid".into()),
                (3, -1143, 0, "paid".into()),
                (4, 4900, 1143, "open".into())
            ]
        );
        let view = billing::invoice(&c.s, &c.owner, second).await.unwrap();
        assert_eq!(view.credit_notes.len(), 1);
        assert_eq!(view.creditable.minor, 4900 - 1143);

        // The checker finds every number adding up, then what was tampered with.
        let report = check::check(&c.s).await.unwrap();
        assert_eq!(report.violations, [], "{report:?}");
        assert_eq!((report.memberships, report.invoices), (1, 4));
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "UPDATE invoices SET total_minor = total_minor + 1 WHERE number = 4"
        )
        .unwrap();
        query!(
            &mut tx,
            execute,
            "DELETE FROM invoice_lines WHERE line_key LIKE 'recurring:2026-12-22%'"
        )
        .unwrap();
        query!(
            &mut tx,
            execute,
            "UPDATE payments SET amount_minor = amount_minor + 100"
        )
        .unwrap();
        tx.commit().await.unwrap();
        let found: Vec<String> = check::check(&c.s)
            .await
            .unwrap()
            .violations
            .into_iter()
            .map(|v| v.message)
            .collect();
        for expected in [
            "invoice #4: total 4901 but its lines sum to 4900",
            "membership",
            "payment",
        ] {
            assert!(
                found.iter().any(|m| m.starts_with(expected)),
                "{expected} in {found:?}"
            );
        }
        assert!(
            found.iter().any(|m| m.contains("recurring:2026-12-22")),
            "{found:?}"
        );

        // Account credit so large its sum overflows (written before amounts
        // were bounded): the checker says so and does not stop.
        let mut tx = c.s.db.begin_write().await.unwrap();
        for _ in 0..2 {
            query!(
                &mut tx,
                execute,
                "INSERT INTO account_entries (business_id, member_id, kind, amount_minor, created_at)
                 VALUES ($1, $2, 'overpayment', $3, $4)",
                c.owner.business_id,
                c.member,
                i64::MAX,
                c.s.clock.now()
            )
            .unwrap();
        }
        tx.commit().await.unwrap();
        let report = check::check(&c.s).await.expect("check reports, never aborts");
        assert!(
            report
                .violations
                .iter()
                .any(|v| v.message.contains("is beyond any amount that can be typed")),
            "{report:?}"
        );
        assert!(
            report
                .violations
                .iter()
                .any(|v| v.message.starts_with("invoice #4: total 4901")),
            "what was found before the overflow is still reported"
        );
    })
    .await;
}

/// Every money table's row count, to see that a refused request wrote nothing.
async fn money_rows(c: &Club) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM payments",
        "SELECT COUNT(*) FROM payment_allocations",
        "SELECT COUNT(*) FROM account_entries",
        "SELECT COUNT(*) FROM refunds",
        "SELECT COUNT(*) FROM invoices",
        "SELECT COUNT(*) FROM cards",
        "SELECT COUNT(*) FROM outbox",
    ] {
        counts.push(count(c, sql).await);
    }
    counts
}

#[tokio::test]
async fn refused_requests_say_why_and_write_nothing_and_only_owners_change_settings() {
    each_db(|db| async move {
        let c = club(db).await;
        let first = invoice_id(&c, 1).await;
        let before = money_rows(&c).await;
        let desk = c.owner.with_role(Role::FrontDesk);
        let Err(Error::Invalid(e)) =
            payments::record_payment(&c.s, &c.owner, first, &pay("0", "", "", "")).await
        else {
            panic!("an empty payment is refused")
        };
        assert_eq!(e.message_for("amount"), Some("enter an amount above zero"));
        assert_eq!(
            e.message_for("method"),
            Some("choose how the money was paid")
        );
        assert!(e.message_for("key").unwrap().contains("reload the page"));
        let Err(Error::Invalid(e)) = payments::add_card(
            &c.s,
            &c.owner,
            Account::Member(c.member),
            &CardForm {
                number: "1234".into(),
                expiry: "13/99".into(),
            },
        )
        .await
        else {
            panic!("a bad card is refused")
        };
        assert!(e.message_for("number").is_some() && e.message_for("expiry").is_some());
        assert!(matches!(
            payments::charge_card(&c.s, &c.owner, first, None, "c1").await,
            Err(Error::Conflict(m)) if m.contains("no card on file")
        ));
        let Err(Error::Invalid(e)) = payments::close_invoice(
            &c.s,
            &c.owner,
            first,
            InvoiceStatus::Void,
            &ReasonForm::default(),
        )
        .await
        else {
            panic!("a void needs a reason")
        };
        assert!(e.message_for("reason").is_some());
        assert!(matches!(
            payments::close_invoice(
                &c.s,
                &desk,
                first,
                InvoiceStatus::Void,
                &ReasonForm { reason: "x".into() }
            )
            .await,
            Err(Error::Forbidden)
        ));
        let Err(Error::Invalid(e)) = payments::credit_note(
            &c.s,
            &c.owner,
            first,
            &CreditNoteForm {
                amount: "abc".into(),
                ..Default::default()
            },
        )
        .await
        else {
            panic!("a credit note needs an amount, a reason and a key")
        };
        assert!(e.message_for("amount").is_some() && e.message_for("reason").is_some());
        assert_eq!(money_rows(&c).await, before, "nothing was written");

        // Billing settings: owners only, validated, then in force.
        let settings = domain::business::BillingSettingsForm {
            terms_days: "14".into(),
            retry_days: "2, 5".into(),
            past_due_after: "7".into(),
            suspend_after: "30".into(),
            credit_unused_on_cancel: String::new(),
            credit_adjust_limit: "5".into(),
            overpayment_limit: "500".into(),
        };
        let manager = c.owner.with_role(Role::Manager);
        assert!(matches!(
            business::update_billing_settings(&c.s, &manager, &settings).await,
            Err(Error::Forbidden)
        ));
        let bad = domain::business::BillingSettingsForm {
            suspend_after: "3".into(),
            ..settings.clone()
        };
        assert!(matches!(
            business::update_billing_settings(&c.s, &c.owner, &bad).await,
            Err(Error::Invalid(_))
        ));
        business::update_billing_settings(&c.s, &c.owner, &settings)
            .await
            .unwrap();
        let read = business::billing_settings(&c.s, &desk).await.unwrap();
        assert_eq!(read.retry_days, "2, 5");
        assert_eq!(read.credit_unused_on_cancel, "");

        // Resending puts the invoice in the outbox again.
        let mails = count(&c, "SELECT COUNT(*) FROM outbox WHERE kind = 'invoice'").await;
        billing::resend_invoice(&c.s, &desk, first).await.unwrap();
        assert_eq!(
            count(&c, "SELECT COUNT(*) FROM outbox WHERE kind = 'invoice'").await,
            mails + 1
        );
    })
    .await;
}

#[tokio::test]
async fn a_charge_whose_request_died_is_finished_by_the_next_attempt_and_captured_once() {
    each_db(|db| async move {
        let c = club(db).await;
        let account = Account::Member(c.member);
        good_card(&c, account).await;
        let first = invoice_id(&c, 1).await;
        // A request claimed the charge and died before the gateway's answer was booked.
        let mut tx = c.s.db.begin_write().await.unwrap();
        query!(
            &mut tx,
            execute,
            "INSERT INTO charge_intents (business_id, invoice_id, amount_minor, token, request_key, recorded_by,
                                         state, claimed_until, created_at)
             SELECT business_id, id, total_minor, 'sandbox_ok', 'died', 'staff', 'claimed', $2, $2
               FROM invoices WHERE id = $1",
            first,
            c.s.clock.now() + chrono::TimeDelta::minutes(5)
        )
        .unwrap();
        tx.commit().await.unwrap();
        // While its claim lasts, another charge waits.
        assert!(matches!(
            payments::charge_card(&c.s, &c.owner, first, None, "next").await,
            Err(Error::Conflict(_))
        ));
        // After it, the next attempt finishes it (the gateway asked once more
        // with the intent's key) and finds nothing left to charge.
        let later = support::later(&c.s, chrono::TimeDelta::minutes(6));
        assert!(matches!(
            payments::charge_card(&later, &c.owner, first, None, "next").await,
            Err(Error::Conflict(_))
        ));
        assert_eq!(invoices(&c).await, [(1, 7400, 7400, "paid".into())]);
        assert_eq!(
            count(&c, "SELECT COUNT(*) FROM payments WHERE succeeded").await,
            1,
            "captured once"
        );
        assert_eq!(
            count(&c, "SELECT COUNT(*) FROM charge_intents WHERE state = 'claimed'").await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn the_card_of_another_businesss_account_or_a_missing_one_is_not_found() {
    each_db(|db| async move {
        let c = club(db).await;
        good_card(&c, Account::Member(c.member)).await;
        assert!(
            payments::card_label(&c.s, &c.owner, Account::Member(c.member))
                .await
                .unwrap()
                .is_some()
        );
        let (other, other_owner) = business::create_owner(
            &c.s,
            &business::NewBusiness {
                name: "Another Gym",
                time_zone: "Europe/Berlin",
                currency: "EUR",
            },
            "owner@another.example",
            "Otto Other",
            "a long enough password",
        )
        .await
        .unwrap();
        let elsewhere = Actor::staff(other, other_owner, Role::Owner);
        for (actor, account) in [
            (&elsewhere, Account::Member(c.member)),
            (&c.owner, Account::Member(999_999)),
            (&c.owner, Account::Organization(999_999)),
        ] {
            assert!(matches!(
                payments::card_label(&c.s, actor, account).await,
                Err(Error::NotFound)
            ));
            assert!(matches!(
                payments::account_billing(&c.s, actor, account).await,
                Err(Error::NotFound)
            ));
        }
    })
    .await;
}
