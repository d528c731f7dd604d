//! Member portal sign-in and what a member may see, on SQLite and (with
//! TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::business::{self, NewBusiness};
use backend::memberships::{self, HolderRef};
use backend::portal::{self, Member};
use backend::testing::each_db;
use backend::{Error, Services, members, query};
use chrono::TimeDelta;
use domain::lifecycle::sale::SellForm;
use domain::members::MemberForm;
use domain::portal::{CodeForm, EmailChangeForm, EmailCodeForm, ProfileForm};
use support::{Club, club, later, member_with_email};

/// The newest sign-in code mailed to `email`, read from the outbox as a person would.
async fn mailed_code(s: &Services, email: &str) -> Option<String> {
    mailed(s, email, "portal_code").await
}

/// The code at the end of the subject of the newest message of `kind` to `email`.
async fn mailed(s: &Services, email: &str, kind: &str) -> Option<String> {
    mailed_by(s, email, kind, None).await
}

/// The code of the newest sign-in message one business mailed to `email`.
async fn mailed_code_at(s: &Services, email: &str, business_id: i64) -> Option<String> {
    mailed_by(s, email, "portal_code", Some(business_id)).await
}

async fn mailed_by(
    s: &Services,
    email: &str,
    kind: &str,
    business_id: Option<i64>,
) -> Option<String> {
    let mut tx = s.db.begin_read().await.unwrap();
    let rows = query!(
        &mut tx,
        fetch_all as (i64, String),
        "SELECT business_id, subject FROM outbox WHERE to_address = $1 AND kind = $2 ORDER BY id DESC",
        email,
        kind
    )
    .unwrap();
    tx.commit().await.unwrap();
    rows.into_iter()
        .find(|(b, _)| business_id.is_none_or(|id| id == *b))
        .map(|(_, subject)| subject.rsplit(' ').next().unwrap().to_string())
}

async fn outbox_count(s: &Services, email: &str) -> i64 {
    outbox_count_of(s, email, "portal_code").await
}

async fn outbox_count_of(s: &Services, email: &str, kind: &str) -> i64 {
    let mut tx = s.db.begin_read().await.unwrap();
    let (n,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM outbox WHERE to_address = $1 AND kind = $2",
        email,
        kind
    )
    .unwrap();
    tx.commit().await.unwrap();
    n
}

fn form(email: &str, code: &str) -> CodeForm {
    CodeForm {
        email: email.into(),
        code: code.into(),
        business: String::new(),
    }
}

fn message(error: Error) -> String {
    match error {
        Error::Invalid(invalid) => invalid.message_for("code").unwrap_or_default().to_string(),
        other => other.to_string(),
    }
}

/// A code that is certainly not the mailed one.
fn other_than(code: &str) -> String {
    if code == "000000" {
        "111111".into()
    } else {
        "000000".into()
    }
}

#[tokio::test]
async fn a_code_signs_in_once_and_the_session_ends_on_sign_out() {
    each_db(|db| async move {
        let c = club(db).await;
        let ana = member_with_email(&c, "Ana", "ana@example.com").await;
        portal::request_code(&c.s, "  Ana@Example.com ", "10.0.0.1", "")
            .await
            .unwrap();
        let code = mailed_code(&c.s, "ana@example.com")
            .await
            .expect("a code was mailed");
        assert_eq!(code.len(), 6);
        let session = portal::verify_code(&c.s, &form("ana@example.com", &code))
            .await
            .unwrap();
        assert!(!session.must_choose, "one account: no choice to make");
        let member = portal::authenticate(&c.s, &session.token).await.unwrap();
        assert_eq!(
            member,
            Member {
                business_id: c.owner.business_id,
                member_id: ana
            }
        );
        // The same code again: used.
        let again = portal::verify_code(&c.s, &form("ana@example.com", &code))
            .await
            .unwrap_err();
        assert_eq!(
            message(again),
            "That code has already been used. Ask for a new code."
        );
        // Sessions expire after a week without use, and end on sign-out.
        let week = later(&c.s, TimeDelta::days(8));
        assert!(matches!(
            portal::authenticate(&week, &session.token).await,
            Err(Error::Unauthenticated)
        ));
        portal::sign_out(&c.s, &session.token).await.unwrap();
        assert!(matches!(
            portal::authenticate(&c.s, &session.token).await,
            Err(Error::Unauthenticated)
        ));
        // An unknown token is no session.
        assert!(matches!(
            portal::authenticate(&c.s, "not-a-token").await,
            Err(Error::Unauthenticated)
        ));
    })
    .await;
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    each_db(|db| async move {
        let c = club(db).await;
        member_with_email(&c, "Ana", "ana@example.com").await;
        portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        let code = mailed_code(&c.s, "ana@example.com").await.unwrap();
        let nine = later(&c.s, TimeDelta::minutes(9));
        let eleven = later(&c.s, TimeDelta::minutes(10));
        let error = portal::verify_code(&eleven, &form("ana@example.com", &code))
            .await
            .unwrap_err();
        assert_eq!(message(error), "That code has expired. Ask for a new code.");
        assert!(
            portal::verify_code(&nine, &form("ana@example.com", &code))
                .await
                .is_ok()
        );
    })
    .await;
}

#[tokio::test]
async fn five_wrong_codes_lock_the_code() {
    each_db(|db| async move {
        let c = club(db).await;
        member_with_email(&c, "Ana", "ana@example.com").await;
        portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        let code = mailed_code(&c.s, "ana@example.com").await.unwrap();
        let wrong = other_than(&code);
        let mut answers = Vec::new();
        for _ in 0..5 {
            let e = portal::verify_code(&c.s, &form("ana@example.com", &wrong))
                .await
                .unwrap_err();
            answers.push(message(e));
        }
        assert_eq!(answers[0], "That code is not right. You have 4 more tries.");
        assert_eq!(answers[3], "That code is not right. You have 1 more try.");
        assert_eq!(answers[4], "Too many wrong codes. Ask for a new code.");
        let right = portal::verify_code(&c.s, &form("ana@example.com", &code))
            .await
            .unwrap_err();
        assert_eq!(message(right), "Too many wrong codes. Ask for a new code.");
        // A new code works again.
        portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        let fresh = mailed_code(&c.s, "ana@example.com").await.unwrap();
        assert!(
            portal::verify_code(&c.s, &form("ana@example.com", &fresh))
                .await
                .is_ok()
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_and_known_emails_get_the_same_answers() {
    each_db(|db| async move {
        let c = club(db).await;
        member_with_email(&c, "Ana", "ana@example.com").await;
        let known = portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "").await;
        let unknown = portal::request_code(&c.s, "nobody@example.com", "10.0.0.2", "").await;
        assert!(known.is_ok() && unknown.is_ok());
        assert_eq!(outbox_count(&c.s, "ana@example.com").await, 1);
        assert_eq!(
            outbox_count(&c.s, "nobody@example.com").await,
            0,
            "no mail to an unknown address"
        );
        let a = portal::verify_code(&c.s, &form("ana@example.com", "999999")).await;
        let b = portal::verify_code(&c.s, &form("nobody@example.com", "999999")).await;
        // (The mailed code could be 999999 by chance: one in a million.)
        if mailed_code(&c.s, "ana@example.com").await.as_deref() != Some("999999") {
            assert_eq!(message(a.unwrap_err()), message(b.unwrap_err()));
        }
        // Rate limits count unknown emails the same way.
        for _ in 0..2 {
            portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "")
                .await
                .unwrap();
            portal::request_code(&c.s, "nobody@example.com", "10.0.0.2", "")
                .await
                .unwrap();
        }
        let a = portal::request_code(&c.s, "ana@example.com", "10.0.0.3", "")
            .await
            .unwrap_err();
        let b = portal::request_code(&c.s, "nobody@example.com", "10.0.0.3", "")
            .await
            .unwrap_err();
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(
            a.to_string(),
            "Too many codes were asked for. Please wait 15 minutes and try again."
        );
    })
    .await;
}

#[tokio::test]
async fn requests_are_limited_per_email_and_per_client_address() {
    each_db(|db| async move {
        let c = club(db).await;
        for n in 0..3 {
            portal::request_code(&c.s, "ana@example.com", &format!("10.0.1.{n}"), "")
                .await
                .unwrap();
        }
        assert!(matches!(
            portal::request_code(&c.s, "ana@example.com", "10.0.1.9", "").await,
            Err(Error::TooMany(_))
        ));
        // One address asking for many emails.
        for n in 0..10 {
            portal::request_code(&c.s, &format!("m{n}@example.com"), "10.0.2.1", "")
                .await
                .unwrap();
        }
        assert!(matches!(
            portal::request_code(&c.s, "m99@example.com", "10.0.2.1", "").await,
            Err(Error::TooMany(_))
        ));
        // After the window, both may ask again.
        let soon = later(&c.s, TimeDelta::minutes(16));
        portal::request_code(&soon, "ana@example.com", "10.0.1.9", "")
            .await
            .unwrap();
        portal::request_code(&soon, "m99@example.com", "10.0.2.1", "")
            .await
            .unwrap();
        // Bad input is answered, not counted.
        let bad = portal::request_code(&c.s, "not an email", "10.0.3.1", "")
            .await
            .unwrap_err();
        assert!(matches!(bad, Error::Invalid(_)));
    })
    .await;
}

#[tokio::test]
async fn an_email_of_two_businesses_signs_in_to_each_with_its_own_code_and_sees_only_its_own() {
    each_db(|db| async move {
        let c = club(db).await;
        // Ana is a member here (with the club's Adult Monthly membership) ...
        let ana = member_with_email(&c, "Ana", "ana@example.com").await;
        let adult = {
            let mut tx = c.s.db.begin_read().await.unwrap();
            let (id,) = query!(
                &mut tx,
                fetch_one as (i64,),
                "SELECT id FROM membership_types WHERE business_id = $1",
                c.owner.business_id
            )
            .unwrap();
            tx.commit().await.unwrap();
            id
        };
        let hers = support::sell_form(
            &c.s,
            &c.owner,
            HolderRef::Member(ana),
            &SellForm {
                type_id: adult.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // ... and at a second business.
        let (other_business, other_owner) = business::create_owner(
            &c.s,
            &NewBusiness {
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
        let other = backend::Actor::staff(other_business, other_owner, domain::staff::Role::Owner);
        let ana_there = members::create_member(
            &c.s,
            &other,
            &MemberForm {
                first_name: "Ana".into(),
                last_name: "Elsewhere".into(),
                email: "ANA@example.com".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        assert_eq!(
            outbox_count(&c.s, "ana@example.com").await,
            2,
            "each business mails its own code"
        );
        let there_code = mailed_code_at(&c.s, "ana@example.com", other_business)
            .await
            .unwrap();
        let club_code = mailed_code_at(&c.s, "ana@example.com", c.owner.business_id)
            .await
            .unwrap();
        assert_ne!(there_code, club_code);
        // The other business's code (which its staff can read in its outbox
        // when no mail server is set up) signs in there and nowhere else.
        let session = portal::verify_code(&c.s, &form("ana@example.com", &there_code))
            .await
            .unwrap();
        assert!(!session.must_choose, "one account at that business");
        let me = portal::authenticate(&c.s, &session.token).await.unwrap();
        assert_eq!(
            me,
            Member {
                business_id: other_business,
                member_id: ana_there
            }
        );
        let listed = portal::session(&c.s, &session.token).await.unwrap();
        let names: Vec<_> = listed
            .accounts
            .iter()
            .map(|a| a.business_name.as_str())
            .collect();
        assert_eq!(
            names,
            vec!["Another Gym"],
            "the club's account is not listed"
        );
        // Neither Ana's club account nor anyone else's is reachable from it.
        for member_id in [ana, c.member] {
            assert!(matches!(
                portal::choose(&c.s, &session.token, member_id).await,
                Err(Error::NotFound)
            ));
        }
        let home = portal::home(&c.s, me).await.unwrap();
        assert_eq!(home.business_name, "Another Gym");
        assert!(home.memberships.is_empty());
        assert_eq!(home.other_accounts, 0);

        // The club's code signs in at the club, where she sees only her own.
        let later_on = later(&c.s, TimeDelta::seconds(30));
        portal::request_code(&later_on, "ana@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        let club_code = mailed_code_at(&c.s, "ana@example.com", c.owner.business_id)
            .await
            .unwrap();
        let session = portal::verify_code(&later_on, &form("ana@example.com", &club_code))
            .await
            .unwrap();
        let me = portal::authenticate(&later_on, &session.token)
            .await
            .unwrap();
        assert_eq!(me.member_id, ana);
        let home = portal::home(&c.s, me).await.unwrap();
        assert_eq!(home.business_name, "Club");
        let ids: Vec<_> = home.memberships.iter().map(|m| m.id).collect();
        assert_eq!(ids, vec![hers], "only her own membership, not Ada's");
        let m = &home.memberships[0];
        assert_eq!(m.status.status, domain::lifecycle::Status::Active);
        assert_eq!(m.next_billing, Some(support::d(2026, 12, 22)));
        assert_eq!(m.next_amount.map(|a| a.minor), Some(4900));
        assert!(matches!(
            portal::choose(&later_on, &session.token, ana_there).await,
            Err(Error::NotFound)
        ));

        // Each business's portal has its own address: signing in there mails
        // only that business and lands on its account without a choice.
        let here = portal::portal_business(&c.s, "another-gym").await.unwrap();
        assert_eq!(here.name, "Another Gym");
        assert!(matches!(
            portal::portal_business(&c.s, "no-such-gym").await,
            Err(Error::NotFound)
        ));
        let later_on = later(&c.s, TimeDelta::minutes(1));
        portal::request_code(&later_on, "ana@example.com", "10.0.0.1", "club")
            .await
            .unwrap();
        assert_eq!(
            outbox_count(&c.s, "ana@example.com").await,
            5,
            "one more, from Club only"
        );
        let code = mailed_code(&c.s, "ana@example.com").await.unwrap();
        let at_club = portal::verify_code(
            &later_on,
            &CodeForm {
                business: "club".into(),
                ..form("ana@example.com", &code)
            },
        )
        .await
        .unwrap();
        assert!(!at_club.must_choose);
        let me = portal::authenticate(&later_on, &at_club.token)
            .await
            .unwrap();
        assert_eq!(
            me,
            Member {
                business_id: c.owner.business_id,
                member_id: ana
            }
        );
    })
    .await;
}

/// A type members may pause and cancel in the portal, with three months' commitment.
async fn portal_type(c: &Club) -> i64 {
    backend::catalog::create_membership_type(
        &c.s,
        &c.owner,
        &domain::catalog::MembershipTypeForm {
            name: "Flex Monthly".into(),
            purchase_type: "recurring".into(),
            billing_interval: "monthly".into(),
            fee: "30".into(),
            status: "active".into(),
            pause_allowed: "on".into(),
            pause_portal: "on".into(),
            pause_max_days: "60".into(),
            min_commitment_periods: "3".into(),
            cancel_portal: "on".into(),
            credits_per_period: "4".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

/// Ana, a member with an email, and her Flex Monthly membership from 22 Nov 2026.
async fn flex_for_ana(c: &Club) -> i64 {
    let flex = portal_type(c).await;
    let ana = member_with_email(c, "Ana", "ana@example.com").await;
    support::sell_form(
        &c.s,
        &c.owner,
        HolderRef::Member(ana),
        &SellForm {
            type_id: flex.to_string(),
            start: "2026-11-22".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn signed_in(c: &Club, email: &str) -> Member {
    portal::request_code(&c.s, email, "10.0.0.1", "")
        .await
        .unwrap();
    let code = mailed_code(&c.s, email).await.unwrap();
    let session = portal::verify_code(&c.s, &form(email, &code))
        .await
        .unwrap();
    portal::authenticate(&c.s, &session.token).await.unwrap()
}

fn action(kind: &str, from: &str, until: &str) -> domain::memberships::ActionForm {
    domain::memberships::ActionForm {
        action: kind.into(),
        from: from.into(),
        until: until.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_member_pauses_within_policy_and_is_refused_a_cancellation_inside_the_commitment() {
    each_db(|db| async move {
        let c = club(db).await;
        let id = flex_for_ana(&c).await;
        backend::jobs::day_work(&c.s, c.owner.business_id)
            .await
            .unwrap();
        let me = signed_in(&c, "ana@example.com").await;
        let page = portal::membership(&c.s, me, id, 1).await.unwrap();
        use domain::memberships::ActionKind;
        assert_eq!(page.actions, vec![ActionKind::Pause, ActionKind::Cancel]);
        assert_eq!(page.membership.credits, 4, "the first period's credits");
        // A pause longer than the policy allows is refused with the latest date.
        let long =
            portal::preview_action(&c.s, me, id, &action("pause", "2026-12-01", "2027-03-01"))
                .await
                .unwrap_err();
        assert!(long.to_string().contains("at most 60 days"), "{long}");
        // Within policy: previewed, then recorded by the member.
        let preview =
            portal::preview_action(&c.s, me, id, &action("pause", "2026-12-01", "2026-12-15"))
                .await
                .unwrap();
        assert!(preview.effect.contains("2026-12-01"), "{}", preview.effect);
        let done = portal::act(&c.s, me, id, &action("pause", "2026-12-01", "2026-12-15"))
            .await
            .unwrap();
        assert_eq!(done.effect, preview.effect);
        // Cancelling inside the three months' commitment: refused with the earliest date.
        let cancel = portal::preview_action(&c.s, me, id, &action("cancel", "", ""))
            .await
            .unwrap_err();
        let text = cancel.to_string();
        assert!(text.contains("earliest"), "{text}");
        // Staff-only actions are not the member's to ask for, whatever the form says.
        let approve = portal::act(&c.s, me, id, &action("free_periods", "", ""))
            .await
            .unwrap_err();
        assert!(matches!(approve, Error::Invalid(_)));
        // The timeline says who did it.
        let staff_view = memberships::membership(&c.s, &c.owner, id).await.unwrap();
        assert!(
            staff_view
                .timeline
                .iter()
                .any(|t| t.by == "the member via the portal"),
            "{:?}",
            staff_view.timeline
        );
    })
    .await;
}

#[tokio::test]
async fn a_member_reads_only_their_own_memberships_invoices_bookings_and_credits() {
    each_db(|db| async move {
        let c = club(db).await;
        let ana = member_with_email(&c, "Ana", "ana@example.com").await;
        let flex = portal_type(&c).await;
        let hers = support::sell_form(
            &c.s,
            &c.owner,
            HolderRef::Member(ana),
            &SellForm {
                type_id: flex.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // Ada (the club's member) has her own membership, invoice and credits.
        let adas_invoice = {
            let mut tx = c.s.db.begin_read().await.unwrap();
            let (id,) = query!(
                &mut tx,
                fetch_one as (i64,),
                "SELECT id FROM invoices WHERE membership_id = $1",
                c.membership
            )
            .unwrap();
            tx.commit().await.unwrap();
            id
        };
        let me = signed_in(&c, "ana@example.com").await;
        assert!(matches!(
            portal::membership(&c.s, me, c.membership, 1).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            portal::invoice(&c.s, me, adas_invoice).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            portal::preview_action(
                &c.s,
                me,
                c.membership,
                &action("pause", "2026-12-01", "2026-12-15")
            )
            .await,
            Err(Error::NotFound)
        ));
        // Her own invoice is hers to read.
        let mine = portal::invoices(&c.s, me, "").await.unwrap();
        assert_eq!((mine.rows.len(), mine.total), (1, 1));
        let invoice = portal::invoice(&c.s, me, mine.rows[0].id).await.unwrap();
        assert_eq!(invoice.summary.total.minor, 3000);
        assert!(!invoice.can_take_payments && !invoice.can_manage);
        // A booking of Ada's is not found for her, and cannot be cancelled by her.
        let service = backend::bookings::create_service(
            &c.s,
            &c.owner,
            &domain::bookings::ServiceForm {
                name: "Yoga".into(),
                kind: "class".into(),
                duration_minutes: "60".into(),
                capacity: "10".into(),
                price: "15".into(),
                price_credits: "1".into(),
                cancel_window_hours: "12".into(),
                requires_membership: "on".into(),
                timetable: "Wed 18:00, Thu 18:00".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let ada_booking = backend::bookings::book(
            &c.s,
            &c.owner,
            &domain::bookings::BookingForm {
                service_id: service.to_string(),
                membership_id: c.membership.to_string(),
                day: "2026-11-25".into(),
                time: "18:00".into(),
                pay_with: "money".into(),
                key: "ada-1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            portal::booking(&c.s, me, ada_booking).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            portal::cancel_booking(&c.s, me, ada_booking).await,
            Err(Error::NotFound)
        ));
        // She books with her own credits and cancels in time: the credit comes back.
        let booked = portal::book(
            &c.s,
            me,
            &domain::bookings::BookingForm {
                service_id: service.to_string(),
                membership_id: hers.to_string(),
                day: "2026-11-25".into(),
                time: "18:00".into(),
                member_id: c.member.to_string(), // ignored: a member books for themselves
                key: "ana-1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let b = portal::booking(&c.s, me, booked).await.unwrap();
        assert_eq!((b.member_id, b.credits), (ana, 1));
        assert_eq!(
            portal::membership(&c.s, me, hers, 1)
                .await
                .unwrap()
                .membership
                .credits,
            3
        );
        // Booking with Ada's membership is refused as not found.
        let theirs = portal::book(
            &c.s,
            me,
            &domain::bookings::BookingForm {
                service_id: service.to_string(),
                membership_id: c.membership.to_string(),
                day: "2026-11-26".into(),
                time: "18:00".into(),
                key: "ana-2".into(),
                ..Default::default()
            },
        )
        .await;
        assert!(matches!(theirs, Err(Error::NotFound)));
        portal::cancel_booking(&c.s, me, booked).await.unwrap();
        let page = portal::membership(&c.s, me, hers, 1).await.unwrap();
        assert_eq!(page.membership.credits, 4);
        assert_eq!(
            page.credits[0].amount, 1,
            "the reversal is the newest entry"
        );
        let listed = portal::bookings(&c.s, me, "cancelled", "").await.unwrap();
        assert_eq!(
            listed.rows.iter().map(|b| b.id).collect::<Vec<_>>(),
            vec![booked]
        );
        assert!(
            portal::bookings(&c.s, me, "booked", "")
                .await
                .unwrap()
                .rows
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_member_pays_only_their_own_invoices_with_their_own_card() {
    each_db(|db| async move {
        let c = club(db).await;
        let ana = member_with_email(&c, "Ana", "ana@example.com").await;
        let flex = portal_type(&c).await;
        support::sell_form(
            &c.s,
            &c.owner,
            HolderRef::Member(ana),
            &SellForm {
                type_id: flex.to_string(),
                start: "2026-11-22".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let adas_invoice = {
            let mut tx = c.s.db.begin_read().await.unwrap();
            let (id,) = query!(
                &mut tx,
                fetch_one as (i64,),
                "SELECT id FROM invoices WHERE membership_id = $1",
                c.membership
            )
            .unwrap();
            tx.commit().await.unwrap();
            id
        };
        let me = signed_in(&c, "ana@example.com").await;
        let mine = portal::invoices(&c.s, me, "").await.unwrap().rows[0].id;
        // No card yet: nothing to remove, nothing to charge.
        assert!(matches!(
            portal::remove_card(&c.s, me).await,
            Err(Error::Conflict(_))
        ));
        assert_eq!(portal::card(&c.s, me).await.unwrap(), None);
        // A bad number is refused and nothing is kept.
        let bad = portal::keep_card(
            &c.s,
            me,
            &domain::payments::CardForm {
                number: "1234".into(),
                expiry: "12/30".into(),
            },
        )
        .await;
        assert!(matches!(bad, Err(Error::Invalid(_))));
        assert_eq!(portal::card(&c.s, me).await.unwrap(), None);
        let label = portal::keep_card(
            &c.s,
            me,
            &domain::payments::CardForm {
                number: "4242 4242 4242 4242".into(),
                expiry: "12/30".into(),
            },
        )
        .await
        .unwrap();
        assert!(label.contains("4242"), "{label}");
        // Someone else's invoice is not found, and nothing is charged.
        assert!(matches!(
            portal::pay_invoice(&c.s, me, adas_invoice, "k-ada").await,
            Err(Error::NotFound)
        ));
        // Her own is paid once, however often the same form is sent.
        portal::pay_invoice(&c.s, me, mine, "k-1").await.unwrap();
        portal::pay_invoice(&c.s, me, mine, "k-1").await.unwrap();
        let paid = portal::invoice(&c.s, me, mine).await.unwrap();
        assert_eq!(paid.amount_due().minor, 0);
        assert_eq!(paid.payments.iter().filter(|p| p.succeeded).count(), 1);
        let adas = memberships::membership(&c.s, &c.owner, c.membership)
            .await
            .unwrap();
        assert!(
            adas.invoices.iter().all(|i| i.amount_paid.minor == 0),
            "Ada's invoices untouched"
        );
        // Removed, the card is gone.
        portal::remove_card(&c.s, me).await.unwrap();
        assert_eq!(portal::card(&c.s, me).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_member_edits_their_profile_and_confirms_a_new_email_with_a_code_sent_there() {
    each_db(|db| async move {
        let c = club(db).await;
        let ana = member_with_email(&c, "Ana", "ana@example.com").await;
        portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "").await.unwrap();
        let code = mailed_code(&c.s, "ana@example.com").await.unwrap();
        let session = portal::verify_code(&c.s, &form("ana@example.com", &code)).await.unwrap();
        let me = portal::authenticate(&c.s, &session.token).await.unwrap();
        let p = portal::profile(&c.s, me).await.unwrap();
        assert_eq!((p.first_name.as_str(), p.email.as_str()), ("Ana", "ana@example.com"));
        assert_eq!(p.pending_email, None);

        // Name, phone and consent, checked by the staff form's rules.
        let refused = portal::update_profile(
            &c.s,
            me,
            &ProfileForm { first_name: " ".into(), last_name: "Tester".into(), ..Default::default() },
        )
        .await;
        assert!(
            matches!(&refused, Err(Error::Invalid(i)) if i.message_for("first_name").is_some()),
            "{refused:?}"
        );
        let saved = portal::update_profile(
            &c.s,
            me,
            &ProfileForm {
                first_name: "Anna".into(),
                last_name: "Tester".into(),
                phone: "+49 30 1234567".into(),
                marketing_consent: "on".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!((saved.first_name.as_str(), saved.phone.as_str()), ("Anna", "+49 30 1234567"));
        assert!(saved.marketing_consent);
        let staff_view = members::member(&c.s, &c.owner, ana).await.unwrap();
        assert_eq!(staff_view.details.full_name(), "Anna Tester");
        assert!(staff_view.details.marketing_consent);

        // The same address is refused; a new one waits for the code sent to it.
        let same = portal::request_email_change(&c.s, me, &EmailChangeForm { email: "ANA@example.com".into() }).await;
        assert!(matches!(&same, Err(Error::Invalid(i)) if i.message_for("email") == Some("this is already your email address")));
        portal::request_email_change(&c.s, me, &EmailChangeForm { email: " Ana.New@Example.com ".into() })
            .await
            .unwrap();
        let p = portal::profile(&c.s, me).await.unwrap();
        assert_eq!(p.email, "ana@example.com", "nothing changes before the code comes back");
        assert_eq!(p.pending_email.as_deref(), Some("ana.new@example.com"));
        assert_eq!(mailed(&c.s, "ana@example.com", "portal_email_code").await, None, "the code goes to the new address only");
        let code = mailed(&c.s, "ana.new@example.com", "portal_email_code").await.unwrap();
        let wrong = portal::confirm_email_change(&c.s, me, &EmailCodeForm { code: other_than(&code) }).await;
        assert_eq!(message(wrong.unwrap_err()), "That code is not right. You have 4 more tries.");
        let expired = portal::confirm_email_change(&later(&c.s, TimeDelta::minutes(11)), me, &EmailCodeForm { code: code.clone() }).await;
        assert_eq!(message(expired.unwrap_err()), "That code has expired. Ask for a new code.");
        let changed = portal::confirm_email_change(&c.s, me, &EmailCodeForm { code: code.clone() }).await.unwrap();
        assert_eq!(changed.email, "ana.new@example.com");
        assert_eq!(changed.pending_email, None);
        let again = portal::confirm_email_change(&c.s, me, &EmailCodeForm { code }).await;
        assert_eq!(message(again.unwrap_err()), "That code has already been used. Ask for a new code.");

        // The member stays signed in under the new address; the old one is told,
        // and the change is in the audit trail.
        assert_eq!(portal::authenticate(&c.s, &session.token).await.unwrap(), me);
        assert_eq!(portal::session(&c.s, &session.token).await.unwrap().email, "ana.new@example.com");
        assert_eq!(outbox_count_of(&c.s, "ana@example.com", "portal_email_changed").await, 1);
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (actor, details) = query!(
            &mut tx,
            fetch_one as (String, String),
            "SELECT actor, details FROM audit_events WHERE action = $1 AND subject_id = $2",
            "member.email_changed",
            ana
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(actor, "member");
        assert!(details.contains("ana.new@example.com"), "{details}");

        // Asking for codes is limited like sign-in codes.
        for n in 0..2 {
            portal::request_email_change(&c.s, me, &EmailChangeForm { email: format!("ana{n}@example.com") })
                .await
                .unwrap();
        }
        let limited = portal::request_email_change(&c.s, me, &EmailChangeForm { email: "ana9@example.com".into() }).await;
        assert!(matches!(limited, Err(Error::TooMany(_))), "{limited:?}");
    })
    .await;
}

#[tokio::test]
async fn codes_are_masked_in_the_staff_outbox_once_mail_really_goes_out() {
    each_db(|db| async move {
        let c = club(db).await;
        member_with_email(&c, "Ana", "ana@example.com").await;
        portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        let code = mailed_code(&c.s, "ana@example.com").await.unwrap();
        let shown = |s: Services| {
            let owner = c.owner;
            async move {
                backend::payments::outbox(&s, &owner, "")
                    .await
                    .unwrap()
                    .rows
                    .into_iter()
                    .find(|m| m.kind == "portal_code")
                    .unwrap()
            }
        };
        // Without a mail server the outbox is how the code reaches anyone (the demo).
        let readable = shown(c.s.clone()).await;
        assert!(readable.subject.ends_with(&code), "{}", readable.subject);
        // With one, staff see the message but not the code.
        let masked = shown(Services {
            mail_goes_out: true,
            ..c.s.clone()
        })
        .await;
        assert_eq!(masked.subject, "Your sign-in code: ••••••");
        assert!(masked.body.contains("••• •••"), "{}", masked.body);
        assert!(
            !masked
                .body
                .contains(&format!("{} {}", &code[..3], &code[3..]))
        );
        assert!(
            masked.body.contains("10 minutes"),
            "other numbers stay: {}",
            masked.body
        );
        // The code itself still signs in.
        portal::verify_code(&c.s, &form("ana@example.com", &code))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_portal_pause_and_one_memberships_billing_load_the_catalog_once_and_run_the_generator_once()
 {
    use backend::platform::tally::{Counts, counted};
    each_db(|db| async move {
        let c = club(db).await;
        let id = flex_for_ana(&c).await;
        let me = signed_in(&c, "ana@example.com").await;
        let once = Counts {
            catalog_loads: 1,
            generator_runs: 1,
        };
        // The member's pause: decided, recorded and billed in one request.
        let (done, counts) = counted(portal::act(
            &c.s,
            me,
            id,
            &action("pause", "2026-12-01", "2026-12-15"),
        ))
        .await;
        assert!(done.unwrap().effect.contains("2026-12-01"));
        assert_eq!(counts, once, "the portal pause");
        // One membership billed up to a later day.
        let business = {
            let mut tx = c.s.db.begin_read().await.unwrap();
            let b = business::load(&mut tx, c.owner.business_id).await.unwrap();
            tx.commit().await.unwrap();
            b
        };
        let (written, counts) = counted(backend::engine::invoicing::bill_membership(
            &c.s,
            &business,
            id,
            support::d(2027, 1, 22),
        ))
        .await;
        assert!(
            written.unwrap() > 0,
            "the periods after the pause are billed"
        );
        assert_eq!(counts, once, "one membership's billing");
    })
    .await;
}
