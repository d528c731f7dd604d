//! What the desk and the portal are told before they act (#20): where a
//! member's memberships stand in the search, what a booking will cost, why
//! booking or pausing is closed, what cancelling means, and retrying cards
//! from the past-due list. SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::memberships::{self, HolderRef};
use backend::payments::{self, Account};
use backend::testing::each_db;
use backend::{bookings, credits, members, portal};
use domain::bookings::BookingForm;
use domain::catalog::MembershipTypeForm;
use domain::credits::AdjustCommand;
use domain::lifecycle::Status;
use domain::lifecycle::sale::SellForm;
use domain::members::MemberForm;
use domain::memberships::{ActionForm, ActionKind};
use domain::staff::Role;
use support::{club, d, good_card, on_day, yoga};

#[tokio::test]
async fn the_desk_search_shows_where_memberships_stand_and_finds_a_phone_by_its_last_digits() {
    each_db(|db| async move {
        let c = club(db).await;
        let grace = members::create_member(
            &c.s,
            &c.owner,
            &MemberForm {
                first_name: "Grace".into(),
                last_name: "Hopper".into(),
                phone: "+49 30 555 4512".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        // Ada's first invoice (due 2026-11-22) is unpaid three days later.
        let s = on_day(&c, d(2026, 11, 25));
        let found = members::search_members(&s, &c.owner, "Ada", false)
            .await
            .unwrap();
        let standing = found[0].membership.clone().expect("Ada has a membership");
        assert_eq!(standing.status, Status::PastDue, "{standing:?}");
        // The end of a phone number finds its member, who holds nothing.
        let found = members::search_members(&s, &c.owner, "4512", false)
            .await
            .unwrap();
        assert_eq!(found.iter().map(|m| m.id).collect::<Vec<_>>(), [grace]);
        assert_eq!(found[0].membership, None);
        // Three digits are a member number or a phone's start, never its end.
        let found = members::search_members(&s, &c.owner, "512", false)
            .await
            .unwrap();
        assert!(found.is_empty(), "{found:?}");
    })
    .await;
}

#[tokio::test]
async fn the_booking_page_says_what_a_booking_costs_what_cancelling_means_and_when_booking_is_closed()
 {
    each_db(|db| async move {
        let c = club(db).await;
        let yoga = yoga(&c, "10").await;
        let day = Some(d(2026, 11, 25));
        let page = bookings::booking_page(&c.s, &c.owner, c.membership, Some(yoga), day, 1)
            .await
            .unwrap();
        assert_eq!(page.closed, None);
        assert_eq!(
            page.cost.as_deref(),
            Some("Costs €15.00: it is added to your next invoice.")
        );
        assert_eq!(page.price.map(|p| p.minor), Some(1500));
        credits::adjust(
            &c.s,
            &c.owner,
            c.membership,
            &AdjustCommand {
                amount: 2,
                reason: "welcome".into(),
                key: "k".into(),
            },
        )
        .await
        .unwrap();
        let page = bookings::booking_page(&c.s, &c.owner, c.membership, Some(yoga), day, 1)
            .await
            .unwrap();
        assert_eq!(page.cost.as_deref(), Some("Paid with 1 credit (you have 2)."));
        assert_eq!(page.price, None);
        // A booking says what cancelling it means.
        bookings::book(
            &c.s,
            &c.owner,
            &BookingForm {
                service_id: yoga.to_string(),
                membership_id: c.membership.to_string(),
                day: "2026-11-25".into(),
                time: "18:00".into(),
                key: "b1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let page = bookings::booking_page(&c.s, &c.owner, c.membership, Some(yoga), day, 1)
            .await
            .unwrap();
        assert_eq!(
            page.bookings.rows[0].cancel_terms,
            "Cancel by Wed 25 Nov, 06:00 and your 1 credit comes back; later, the credit is kept and a €5.00 late fee is charged."
        );
        // Paused: booking is closed, and the page says so before any step.
        support::act_form(
            &c.s,
            &c.owner,
            c.membership,
            &ActionForm {
                action: "pause".into(),
                from: "2026-11-22".into(),
                until: "2026-12-10".into(),
                reason: "travel".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let page = bookings::booking_page(&c.s, &c.owner, c.membership, None, None, 1)
            .await
            .unwrap();
        let closed = page.closed.expect("a paused membership cannot book");
        assert!(closed.starts_with("A paused membership cannot book"), "{closed}");
    })
    .await;
}

#[tokio::test]
async fn a_type_without_pauses_says_so_before_any_preview_in_the_portal_and_the_staff_app() {
    each_db(|db| async move {
        let c = club(db).await;
        let drop_in = backend::catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Drop-in Monthly".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "29".into(),
                status: "active".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let id = support::sell_form(
            &c.s,
            &c.owner,
            HolderRef::Member(c.member),
            &SellForm {
                type_id: drop_in.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let member = portal::Member {
            business_id: c.owner.business_id,
            member_id: c.member,
        };
        let page = portal::membership(&c.s, member, id, 1).await.unwrap();
        assert!(!page.actions.contains(&ActionKind::Pause));
        assert_eq!(
            page.unavailable,
            [
                (
                    ActionKind::Pause,
                    "Drop-in Monthly does not allow pauses.".to_string()
                ),
                (
                    ActionKind::Cancel,
                    "Drop-in Monthly is cancelled with the staff, not here: ask at the desk."
                        .to_string()
                )
            ]
        );
        // The club's own type pauses, with the staff only.
        let page = portal::membership(&c.s, member, c.membership, 1)
            .await
            .unwrap();
        assert!(!page.actions.contains(&ActionKind::Pause));
        assert!(
            page.unavailable.contains(&(
                ActionKind::Pause,
                "Adult Monthly is paused with the staff, not here: ask at the desk.".to_string()
            )),
            "{:?}",
            page.unavailable
        );
        let staff = memberships::membership(&c.s, &c.owner, id).await.unwrap();
        assert_eq!(
            staff.pause_refused.as_deref(),
            Some("Drop-in Monthly does not allow pauses.")
        );
        let staff = memberships::membership(&c.s, &c.owner, c.membership)
            .await
            .unwrap();
        assert_eq!(staff.pause_refused, None);
    })
    .await;
}

#[tokio::test]
async fn a_manager_retries_every_card_of_the_past_due_list_once_per_click() {
    each_db(|db| async move {
        let c = club(db).await;
        let account = Account::Member(c.member);
        let s = on_day(&c, d(2026, 11, 25));
        let rows = payments::dunning_list(&s, &c.owner).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].has_card, "no card yet: no Charge button");
        good_card(&c, account).await;
        let rows = payments::dunning_list(&s, &c.owner).await.unwrap();
        assert!(rows[0].has_card);
        assert!(!rows[0].charge_key.is_empty());
        let desk = c.owner.with_role(Role::FrontDesk);
        assert!(matches!(
            payments::retry_cards(&s, &desk, "r1").await,
            Err(backend::Error::Forbidden)
        ));
        // A form without its key is refused and charges nothing.
        let Err(backend::Error::Invalid(e)) = payments::retry_cards(&s, &c.owner, " ").await else {
            panic!("a retry without a key")
        };
        assert!(e.message_for("key").is_some());
        assert!(payments::dunning_list(&s, &c.owner).await.unwrap()[0].has_card);
        let report = payments::retry_cards(&s, &c.owner, "r1").await.unwrap();
        assert_eq!((report.charged, report.declined), (1, 0));
        // The same click again: nothing is left to charge.
        let again = payments::retry_cards(&s, &c.owner, "r1").await.unwrap();
        assert_eq!((again.charged, again.declined), (0, 0));
        assert!(
            payments::dunning_list(&s, &c.owner)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
