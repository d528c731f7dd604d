//! Public signup on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::testing::each_db;
use backend::{Error, business, catalog, query, signup};
use domain::business::LocationForm;
use domain::catalog::MembershipTypeForm;
use domain::signup::{RetryForm, SignupForm, SignupState};
use support::{Club, club};

/// A location "Harbour" (slug "harbour") and its id.
async fn location(c: &Club) -> String {
    business::create_location(
        &c.s,
        &c.owner,
        &LocationForm {
            name: "Harbour".into(),
            address: "Quay 1".into(),
        },
    )
    .await
    .unwrap();
    "harbour".into()
}

async fn adult_id(c: &Club) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (id,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT id FROM membership_types WHERE business_id = $1 AND name = $2",
        c.owner.business_id,
        "Adult Monthly"
    )
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn form(type_id: i64, email: &str, number: &str, key: &str) -> SignupForm {
    SignupForm {
        type_id: type_id.to_string(),
        first_name: "Ana".into(),
        last_name: "Costa".into(),
        email: email.into(),
        number: number.into(),
        expiry: "12/30".into(),
        key: key.into(),
        ..Default::default()
    }
}

async fn count(c: &Club, sql: &'static str, email: &str) -> i64 {
    let mut tx = c.s.db.begin_read().await.unwrap();
    let (n,) = query!(
        &mut tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(sql),
        email
    )
    .unwrap();
    tx.commit().await.unwrap();
    n
}

const MEMBERS: &str = "SELECT COUNT(*) FROM members WHERE email_lc = $1";
const INVOICES: &str =
    "SELECT COUNT(*) FROM invoices i JOIN members m ON m.id = i.member_id WHERE m.email_lc = $1";
const PAID: &str = "SELECT COUNT(*) FROM payments p JOIN members m ON m.id = p.member_id WHERE m.email_lc = $1 AND p.succeeded = TRUE";

#[tokio::test]
async fn a_visitor_signs_up_once_however_often_the_form_is_sent() {
    each_db(|db| async move {
        let c = club(db).await;
        let slug = location(&c).await;
        let adult = adult_id(&c).await;
        let options = signup::options(&c.s, &slug, adult).await.unwrap();
        assert_eq!(options.offer.name, "Adult Monthly");
        // The preview shows the first invoice and saves nothing.
        let asked = form(
            adult,
            "ana@example.com",
            "4242 4242 4242 4242",
            &options.key,
        );
        let preview = signup::preview(&c.s, &slug, &asked).await.unwrap();
        assert_eq!(
            preview.preview.total.minor,
            4900 + 2500,
            "first month and the joining fee"
        );
        assert_eq!(count(&c, MEMBERS, "ana@example.com").await, 0);
        // Sent twice (a double click, a refresh): one member, one invoice, one payment.
        let token = signup::start(&c.s, &slug, &asked, "10.0.0.1")
            .await
            .unwrap();
        let again = signup::start(&c.s, &slug, &asked, "10.0.0.1")
            .await
            .unwrap();
        assert_eq!(token, again);
        assert_eq!(count(&c, MEMBERS, "ana@example.com").await, 1);
        assert_eq!(count(&c, INVOICES, "ana@example.com").await, 1);
        assert_eq!(count(&c, PAID, "ana@example.com").await, 1);
        let status = signup::status(&c.s, &token).await.unwrap();
        assert_eq!(status.state, SignupState::Active);
        assert_eq!(status.first_invoice_total.map(|m| m.minor), Some(7400));
        assert_eq!(status.amount_due.map(|m| m.minor), Some(0));
        // A confirmation waits in the outbox; the card is on file.
        assert!(
            count(
                &c,
                "SELECT COUNT(*) FROM outbox WHERE to_address = $1 AND kind = 'signup'",
                "ana@example.com"
            )
            .await
                == 1
        );
        // The same email again, with a new form. The preview answers as it
        // would for anyone (it tells no one who is a member) ...
        let again = form(adult, "ANA@example.com", "4242 4242 4242 4242", "other");
        let unknown = form(adult, "nobody@example.com", "4242 4242 4242 4242", "other");
        let known_preview = signup::preview(&c.s, &slug, &again).await.unwrap();
        let unknown_preview = signup::preview(&c.s, &slug, &unknown).await.unwrap();
        assert_eq!(known_preview, unknown_preview);
        // ... and the signup makes and charges nothing: the email gets a
        // sign-in code, which is where "you are a member already" is said.
        let codes = count(
            &c,
            "SELECT COUNT(*) FROM outbox WHERE to_address = $1 AND kind = 'portal_code'",
            "ana@example.com",
        )
        .await;
        assert!(matches!(
            signup::start(&c.s, &slug, &again, "10.0.0.1").await,
            Err(Error::SignInInstead)
        ));
        assert_eq!(count(&c, MEMBERS, "ana@example.com").await, 1);
        assert_eq!(count(&c, PAID, "ana@example.com").await, 1);
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM outbox WHERE to_address = $1 AND kind = 'portal_code'",
                "ana@example.com"
            )
            .await,
            codes + 1
        );
        assert!(matches!(
            signup::status(&c.s, "no-such-token").await,
            Err(Error::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn a_declined_card_leaves_the_signup_waiting_and_another_card_completes_it() {
    each_db(|db| async move {
        let c = club(db).await;
        let slug = location(&c).await;
        let adult = adult_id(&c).await;
        let token = signup::start(
            &c.s,
            &slug,
            &form(adult, "bo@example.com", "4000 0000 0000 0002", "k1"),
            "10.0.0.1",
        )
        .await
        .unwrap();
        let status = signup::status(&c.s, &token).await.unwrap();
        assert_eq!(
            status.state,
            SignupState::PaymentFailed {
                reason: "the card was declined".into()
            }
        );
        assert_eq!(status.amount_due.map(|m| m.minor), Some(7400));
        // A bad number is answered before anything is charged.
        let bad = signup::retry(
            &c.s,
            &token,
            &RetryForm {
                number: "1234".into(),
                expiry: "12/30".into(),
                key: "r0".into(),
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(bad, Error::Invalid(_)));
        let retry = RetryForm {
            number: "4242 4242 4242 4242".into(),
            expiry: "12/30".into(),
            key: "r1".into(),
        };
        signup::retry(&c.s, &token, &retry).await.unwrap();
        signup::retry(&c.s, &token, &retry).await.unwrap();
        let status = signup::status(&c.s, &token).await.unwrap();
        assert_eq!(status.state, SignupState::Active);
        assert_eq!(count(&c, PAID, "bo@example.com").await, 1, "charged once");
        assert_eq!(count(&c, MEMBERS, "bo@example.com").await, 1);
    })
    .await;
}

#[tokio::test]
async fn bad_details_types_not_on_offer_and_approval_are_answered() {
    each_db(|db| async move {
        let c = club(db).await;
        let slug = location(&c).await;
        let adult = adult_id(&c).await;
        // Nothing is made for a bad card number or missing names.
        let bad_card = signup::start(
            &c.s,
            &slug,
            &form(adult, "cy@example.com", "1234", "k1"),
            "10.0.0.1",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(bad_card, Error::Invalid(ref i) if i.message_for("number").is_some()),
            "{bad_card:?}"
        );
        let no_name = signup::start(
            &c.s,
            &slug,
            &SignupForm {
                first_name: String::new(),
                ..form(adult, "cy@example.com", "4242 4242 4242 4242", "k2")
            },
            "10.0.0.1",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(no_name, Error::Invalid(ref i) if i.message_for("first_name").is_some()),
            "{no_name:?}"
        );
        assert_eq!(count(&c, MEMBERS, "cy@example.com").await, 0);
        // Unknown places and types, drafts and benefits are not found.
        assert!(matches!(
            signup::options(&c.s, "nowhere", adult).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            signup::options(&c.s, &slug, 999_999).await,
            Err(Error::NotFound)
        ));
        let draft = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Secret Plan".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "10".into(),
                status: "draft".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        assert!(matches!(
            signup::start(
                &c.s,
                &slug,
                &form(draft, "cy@example.com", "4242 4242 4242 4242", "k3"),
                "10.0.0.1"
            )
            .await,
            Err(Error::NotFound)
        ));
        // A type that needs approval: paid, then waiting.
        let vetted = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Vetted Monthly".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "20".into(),
                status: "active".into(),
                approval_required: "on".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let token = signup::start(
            &c.s,
            &slug,
            &form(vetted, "cy@example.com", "4242 4242 4242 4242", "k4"),
            "10.0.0.1",
        )
        .await
        .unwrap();
        assert_eq!(
            signup::status(&c.s, &token).await.unwrap().state,
            SignupState::PendingApproval
        );
    })
    .await;
}

#[tokio::test]
async fn one_address_makes_at_most_the_limit_of_signups_an_hour_and_a_replay_is_not_counted() {
    each_db(|db| async move {
        let mut c = club(db).await;
        c.s.signups_per_client = 3;
        let slug = location(&c).await;
        let adult = adult_id(&c).await;
        let card = "4242 4242 4242 4242";
        for i in 0..3 {
            let f = form(adult, &format!("p{i}@example.com"), card, &format!("k{i}"));
            signup::start(&c.s, &slug, &f, "203.0.113.7").await.unwrap();
        }
        // The same form again (a refresh) answers its signup: not a new one.
        let replay = form(adult, "p0@example.com", card, "k0");
        signup::start(&c.s, &slug, &replay, "203.0.113.7")
            .await
            .unwrap();
        let fourth = form(adult, "p3@example.com", card, "k3");
        let refused = signup::start(&c.s, &slug, &fourth, "203.0.113.7")
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, Error::TooMany(m) if m.contains("Too many signups")),
            "{refused:?}"
        );
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM members WHERE email = $1",
                "p3@example.com"
            )
            .await,
            0,
            "nothing was made"
        );
        // Another address may sign up; the first may again an hour later.
        signup::start(&c.s, &slug, &fourth, "198.51.100.2")
            .await
            .unwrap();
        let later = backend::Services {
            clock: backend::Clock::fixed(c.s.clock.now() + chrono::TimeDelta::minutes(61)),
            ..c.s.clone()
        };
        let fifth = form(adult, "p4@example.com", card, "k4");
        signup::start(&later, &slug, &fifth, "203.0.113.7")
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_type_for_students_is_joined_as_a_student_and_the_member_is_one() {
    each_db(|db| async move {
        let c = club(db).await;
        let slug = location(&c).await;
        let student = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Student Monthly".into(),
                purchase_type: "recurring".into(),
                billing_interval: "monthly".into(),
                fee: "29".into(),
                status: "active".into(),
                member_types: vec!["Student".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let options = signup::options(&c.s, &slug, student).await.unwrap();
        assert_eq!(options.member_types, ["Student"]);
        assert!(
            options
                .offer
                .benefits
                .contains(&"for Student members".to_string())
        );
        let card = "4242 4242 4242 4242";
        // Without saying who joins: refused on the field, before anything is made.
        let unsaid = form(student, "sam@example.com", card, "s1");
        let Err(Error::Invalid(e)) = signup::preview(&c.s, &slug, &unsaid).await else {
            panic!("the preview asks who joins")
        };
        assert_eq!(
            e.message_for("member_type"),
            Some("this membership is for Student members: choose which you are")
        );
        let Err(Error::Invalid(_)) = signup::start(&c.s, &slug, &unsaid, "10.0.0.1").await else {
            panic!("the signup asks who joins")
        };
        let as_adult = SignupForm {
            member_type: "Adult".into(),
            ..unsaid.clone()
        };
        assert!(
            signup::start(&c.s, &slug, &as_adult, "10.0.0.1")
                .await
                .is_err()
        );
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM members WHERE email = $1",
                "sam@example.com"
            )
            .await,
            0
        );
        let as_student = SignupForm {
            member_type: "student".into(),
            ..unsaid
        };
        signup::preview(&c.s, &slug, &as_student).await.unwrap();
        signup::start(&c.s, &slug, &as_student, "10.0.0.1")
            .await
            .unwrap();
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (member_type,) = query!(
            &mut tx,
            fetch_one as (Option<String>,),
            "SELECT member_type FROM members WHERE email = $1",
            "sam@example.com"
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(member_type.as_deref(), Some("Student"));
    })
    .await;
}

#[tokio::test]
async fn a_draft_keeps_the_details_but_no_card_for_a_day() {
    each_db(|db| async move {
        let c = club(db).await;
        let typed = SignupForm {
            first_name: "Dee".into(),
            last_name: "Raft".into(),
            email: "dee.raft@example.com".into(),
            number: "4242 4242 4242 4242".into(),
            expiry: "12/30".into(),
            key: "k".into(),
            ..Default::default()
        };
        let token = signup::save_draft(&c.s, &typed).await.unwrap();
        let kept = signup::draft(&c.s, &token).await.unwrap();
        assert_eq!(
            (kept.first_name.as_str(), kept.email.as_str()),
            ("Dee", "dee.raft@example.com")
        );
        assert_eq!(
            (
                kept.number.as_str(),
                kept.expiry.as_str(),
                kept.key.as_str()
            ),
            ("", "", ""),
            "no card is kept"
        );
        // Too much text is refused and nothing is kept.
        let long = SignupForm {
            first_name: "x".repeat(5000),
            ..typed.clone()
        };
        assert!(matches!(
            signup::save_draft(&c.s, &long).await,
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            signup::draft(&c.s, "made-up").await,
            Err(Error::NotFound)
        ));
        // A day later it is gone.
        let later = support::later(
            &c.s,
            chrono::TimeDelta::hours(24) + chrono::TimeDelta::seconds(1),
        );
        assert!(matches!(
            signup::draft(&later, &token).await,
            Err(Error::NotFound)
        ));
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (drafts,) = query!(
            &mut tx,
            fetch_one as (i64,),
            "SELECT COUNT(*) FROM signup_drafts"
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(drafts, 1, "the long one was not kept");
    })
    .await;
}
