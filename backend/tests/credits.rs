//! The credits ledger on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::business;
use backend::credits;
use backend::memberships::HolderRef;
use backend::query;
use backend::testing::each_db;
use domain::catalog::MembershipTypeForm;
use domain::credits::{AdjustCommand, EntryFilter};
use domain::lifecycle::sale::SellForm;
use domain::staff::Role;
use support::{Club, club, d};

fn adjust(amount: &str, reason: &str, key: &str) -> AdjustCommand {
    AdjustCommand {
        amount: amount.parse().unwrap(),
        reason: reason.into(),
        key: key.into(),
    }
}

/// The ledger adds up: the balance row equals the sum of the entries and
/// each lot's remainder equals its entries.
async fn ledger_adds_up(c: &Club, membership: i64) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (sum,) = query!(&mut tx, fetch_one as (i64,),
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_entries WHERE membership_id = $1",
        membership).unwrap();
    let (balance,) = query!(&mut tx, fetch_one as (i64,),
        "SELECT CAST(COALESCE(MAX(balance), 0) AS BIGINT) FROM credit_balances WHERE membership_id = $1",
        membership).unwrap();
    let lots = query!(&mut tx, fetch_all as (i64, i64),
        "SELECT l.remaining, CAST((SELECT SUM(e.amount) FROM credit_entries e WHERE e.id = l.entry_id OR e.lot_id = l.entry_id) AS BIGINT)
           FROM credit_lots l WHERE l.membership_id = $1",
        membership).unwrap();
    tx.commit().await.unwrap();
    assert_eq!(sum, balance, "the balance is the sum of the entries");
    for (remaining, entries) in lots {
        assert_eq!(remaining, entries, "a lot's remainder is its entries");
    }
    balance
}

#[tokio::test]
async fn concurrent_redemptions_never_overdraw_the_balance() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = c.owner.business_id;
        let balance = credits::adjust(
            &c.s,
            &c.owner,
            c.membership,
            &adjust("3000", "a bulk grant", "k1"),
        )
        .await
        .unwrap();
        assert_eq!(balance, 3000);
        // 8 tasks × 500 redemptions of one credit each, 4000 asked for 3000.
        let mut tasks = Vec::new();
        for t in 0..8 {
            let s = c.s.clone();
            let membership = c.membership;
            tasks.push(tokio::spawn(async move {
                let mut accepted = 0;
                let mut refused = 0;
                for i in 0..500 {
                    match credits::redeem_one(&s, id, membership, &format!("t{t}:{i}")).await {
                        Ok(()) => accepted += 1,
                        Err(backend::Error::Short { message: m, .. }) => {
                            assert!(m.starts_with("only 0 credits left"), "{m}");
                            refused += 1;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                (accepted, refused)
            }));
        }
        let mut accepted = 0;
        let mut refused = 0;
        for t in tasks {
            let (a, r) = t.await.unwrap();
            accepted += a;
            refused += r;
        }
        assert_eq!((accepted, refused), (3000, 1000));
        assert_eq!(ledger_adds_up(&c, c.membership).await, 0);
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (redeemed,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT COUNT(*) FROM credit_entries WHERE membership_id = $1 AND kind = 'redeem'",
            c.membership
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(redeemed, 3000, "one entry per accepted redemption");
    })
    .await;
}

#[tokio::test]
async fn adjustments_need_a_reason_stay_within_the_limit_and_count_once() {
    each_db(|db| async move {
        let c = club(db).await;
        let desk = c.owner.with_role(Role::FrontDesk);
        let viewer = c.owner.with_role(Role::Viewer);
        credits::adjust(
            &c.s,
            &desk,
            c.membership,
            &adjust("10", "welcome gift", "a"),
        )
        .await
        .unwrap();
        // The same form twice: one adjustment.
        let again = credits::adjust(
            &c.s,
            &desk,
            c.membership,
            &adjust("10", "welcome gift", "a"),
        )
        .await
        .unwrap();
        assert_eq!(again, 10);
        let Err(backend::Error::Invalid(e)) =
            credits::adjust(&c.s, &desk, c.membership, &adjust("-3", "  ", "b")).await
        else {
            panic!("a reason is required")
        };
        assert!(e.message_for("reason").is_some());
        let Err(backend::Error::Conflict(m)) = credits::adjust(
            &c.s,
            &desk,
            c.membership,
            &adjust("-6", "booked twice", "c"),
        )
        .await
        else {
            panic!("front desk is limited")
        };
        assert_eq!(
            m,
            "Taking away more than 5 credits at once needs a manager."
        );
        assert!(matches!(
            credits::adjust(&c.s, &viewer, c.membership, &adjust("1", "x", "d")).await,
            Err(backend::Error::Forbidden)
        ));
        // A manager may; never below zero, with the balance in the message.
        let Err(backend::Error::Short { field, message }) =
            credits::adjust(&c.s, &c.owner, c.membership, &adjust("-11", "fix", "e")).await
        else {
            panic!("never below zero")
        };
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("amount", "only 10 credits left: 11 cannot be taken")
        );
        assert_eq!(
            credits::adjust(
                &c.s,
                &c.owner,
                c.membership,
                &adjust("-7", "double booking", "f")
            )
            .await
            .unwrap(),
            3
        );
        let view = credits::view(&c.s, &viewer, c.membership, &EntryFilter::default())
            .await
            .unwrap();
        assert_eq!(view.balance, 3);
        let amounts: Vec<i64> = view.entries.rows.iter().map(|e| e.amount).collect();
        assert_eq!(amounts, [-7, 10], "newest first");
        assert_eq!(view.entries.rows[0].reason, "double booking");
        assert!(view.entries.rows[0].by.starts_with("Olivia Owner"));
        assert_eq!(
            view.negative_limit,
            Some(5),
            "the viewer sees the front desk's limit"
        );
        let grants = credits::view(
            &c.s,
            &c.owner,
            c.membership,
            &EntryFilter {
                kind: "adjust".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(grants.entries.rows.len(), 2);
        ledger_adds_up(&c, c.membership).await;
    })
    .await;
}

#[tokio::test]
async fn each_period_grants_credits_carries_up_to_the_cap_and_the_rest_expires() {
    each_db(|db| async move {
        let c = club(db).await;
        // Unpaid invoices would suspend the membership (and suspended
        // memberships earn no credits): this club gives long to pay.
        business::update_billing_settings(
            &c.s,
            &c.owner,
            &domain::business::BillingSettingsForm {
                terms_days: "90".into(),
                retry_days: "1".into(),
                past_due_after: "90".into(),
                suspend_after: "120".into(),
                credit_unused_on_cancel: "on".into(),
                credit_adjust_limit: "5".into(),
                overpayment_limit: "500".into(),
            },
        )
        .await
        .unwrap();
        let climbing = backend::catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Climbing Monthly".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "39".into(),
                status: "active".into(),
                credits_per_period: "8".into(),
                carry_over_cap: "3".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let membership = support::sell_form(
            &c.s,
            &c.owner,
            HolderRef::Member(c.member),
            &SellForm {
                type_id: climbing.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // The sale grants the first period's credits at once.
        assert_eq!(
            ledger_adds_up(&c, membership).await,
            8,
            "granted with the sale"
        );
        let at = |day| backend::jobs::set_simulated_date(&c.s, &c.owner, Some(day));
        at(d(2026, 11, 22)).await.unwrap();
        backend::jobs::credits_work(&c.s, c.owner.business_id)
            .await
            .unwrap();
        assert_eq!(ledger_adds_up(&c, membership).await, 8);
        // Two used in the first period; on 22 December 3 of the 6 left carry over.
        credits::adjust(
            &c.s,
            &c.owner,
            membership,
            &adjust("-2", "two classes booked by phone", "u"),
        )
        .await
        .unwrap();
        at(d(2026, 12, 22)).await.unwrap();
        backend::jobs::credits_work(&c.s, c.owner.business_id)
            .await
            .unwrap();
        // Running it again writes nothing.
        assert_eq!(
            backend::jobs::credits_work(&c.s, c.owner.business_id)
                .await
                .unwrap(),
            0
        );
        assert_eq!(ledger_adds_up(&c, membership).await, 3 + 8);
        let view = credits::view(&c.s, &c.owner, membership, &EntryFilter::default())
            .await
            .unwrap();
        let kinds: Vec<(&str, i64)> = view
            .entries
            .rows
            .iter()
            .map(|e| (e.kind.as_str(), e.amount))
            .collect();
        assert_eq!(
            kinds,
            [
                ("grant", 8),
                ("carry_over", -3),
                ("carry_over", 3),
                ("expire", -3),
                ("adjust", -2),
                ("grant", 8)
            ]
        );
        // Spent oldest first: the carried credits go before the new grant's.
        credits::adjust(
            &c.s,
            &c.owner,
            membership,
            &adjust("-4", "four classes", "v"),
        )
        .await
        .unwrap();
        at(d(2027, 1, 22)).await.unwrap();
        backend::jobs::credits_work(&c.s, c.owner.business_id)
            .await
            .unwrap();
        // December left 7 (all from its grant): 3 carry, 4 expire; January grants 8.
        assert_eq!(ledger_adds_up(&c, membership).await, 3 + 8);
    })
    .await;
}

#[tokio::test]
async fn the_redemption_benchmark_redeems_every_credit_it_grants() {
    each_db(|db| async move {
        let c = club(db).await;
        let r = backend::ops::bench::bench_redemptions(&c.s, 2, 5).await.unwrap();
        assert_eq!(r.accepted, 10);
        assert!(r.ratio() > 0.0 && r.ratio_to_minimal() > 0.0);
        // Both the ledger and the bare loop spent every credit of their
        // membership, and what they wrote adds up (balances, lots, entries).
        let mut tx = c.s.db.begin_read().await.unwrap();
        let rows = query!(
            &mut tx,
            fetch_all as (i64, i64, i64, i64),
            "SELECT b.membership_id, b.balance,
                    CAST((SELECT COALESCE(SUM(amount), 0) FROM credit_entries e WHERE e.membership_id = b.membership_id) AS BIGINT),
                    CAST((SELECT COALESCE(SUM(remaining), 0) FROM credit_lots l WHERE l.membership_id = b.membership_id) AS BIGINT)
               FROM credit_balances b JOIN memberships m ON m.id = b.membership_id
               JOIN businesses s ON s.id = m.business_id
              WHERE s.name LIKE 'Benchmark credits %' ORDER BY b.membership_id"
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        for (_, balance, sum, remaining) in rows {
            assert_eq!((balance, sum, remaining), (0, 0, 0));
        }
        let report = backend::ops::check::check(&c.s).await.unwrap();
        assert!(report.violations.is_empty(), "{:?}", report.violations);
    })
    .await;
}

#[tokio::test]
async fn the_credit_history_pages_through_every_entry_newest_first() {
    each_db(|db| async move {
        let c = club(db).await;
        for i in 0..105 {
            credits::adjust(
                &c.s,
                &c.owner,
                c.membership,
                &adjust("1", &format!("visit {i}"), &format!("k{i}")),
            )
            .await
            .unwrap();
        }
        let page = |page: &str| {
            let c = &c;
            let filter = EntryFilter {
                kind: "adjust".into(),
                page: page.into(),
                ..Default::default()
            };
            async move {
                credits::view(&c.s, &c.owner, c.membership, &filter)
                    .await
                    .unwrap()
                    .entries
            }
        };
        let first = page("").await;
        assert_eq!((first.total, first.rows.len()), (105, 100));
        assert_eq!(first.rows[0].reason, "visit 104", "the newest first");
        let second = page("2").await;
        let reasons: Vec<&str> = second.rows.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["visit 4", "visit 3", "visit 2", "visit 1", "visit 0"]
        );
        assert!(page("3").await.rows.is_empty());
        ledger_adds_up(&c, c.membership).await;
    })
    .await;
}
