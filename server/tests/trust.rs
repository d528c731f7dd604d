//! Tessera's promises under attack and under load, over HTTP: a spawned app
//! with the demo data on port 0, a fresh database per test, on SQLite and
//! (with TEST_POSTGRES_URL) PostgreSQL. Concurrent requests are real
//! concurrent HTTP requests.

use backend::ops::demo;
use backend::payments::Account;
use backend::testing::each_db;
use backend::{Actor, Clock, Db, Services, query};
use chrono::{TimeZone, Utc};
use domain::api_keys::ApiKeyForm;
use domain::members::MemberForm;
use domain::payments::CardForm;
use futures::future::join_all;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE};
use server::{Config, app_state, router};

struct App {
    origin: String,
    services: Services,
    http: reqwest::Client,
}

fn config() -> Config {
    Config {
        database_url: String::new(),
        addr: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        site_root: "target/site".into(),
        output_name: "tessera".into(),
        portal_codes_per_client: None,
        trusted_proxies: 0,
        signups_per_client: None,
    }
}

async fn spawn(db: Db) -> App {
    let state = app_state(
        &config(),
        db,
        Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()),
    );
    demo::seed_demo(&state.services)
        .await
        .expect("demo data loads");
    let services = state.services.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    App {
        origin,
        services,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// The demo owner, as the use cases see them.
async fn owner(s: &Services) -> Actor {
    let session = backend::auth::sign_in(s, demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
        .await
        .unwrap();
    backend::auth::authenticate(s, &session.token)
        .await
        .unwrap()
}

/// A new API key of the club's owner with these scopes: its secret.
async fn api_key(app: &App, name: &str, scopes: &[&str]) -> String {
    backend::api_keys::create_for_owner_email(
        &app.services,
        demo::DEMO_OWNER_EMAIL,
        &ApiKeyForm {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        },
    )
    .await
    .unwrap()
    .secret
}

/// A new member with an email, a sandbox card that succeeds and an Adult
/// Monthly membership sold today: its first invoice is open. Returns the
/// member's and the invoice's ids.
async fn member_owing(s: &Services, owner: &Actor, email: &str) -> (i64, i64) {
    let member = backend::members::create_member(
        s,
        owner,
        &MemberForm {
            first_name: "Tess".into(),
            last_name: "Target".into(),
            email: email.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    backend::payments::add_card(
        s,
        owner,
        Account::Member(member),
        &CardForm {
            number: "4242 4242 4242 4242".into(),
            expiry: "12/30".into(),
        },
    )
    .await
    .unwrap();
    let mut tx = s.db.begin_read().await.unwrap();
    let (type_id,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT id FROM membership_types WHERE business_id = $1 AND name = $2",
        owner.business_id,
        "Adult Monthly"
    )
    .unwrap();
    tx.commit().await.unwrap();
    let membership = backend::memberships::sell(
        s,
        owner,
        backend::memberships::HolderRef::Member(member),
        &domain::lifecycle::sale::SaleCommand {
            start: chrono::NaiveDate::from_ymd_opt(2026, 11, 22),
            ..domain::lifecycle::sale::SaleCommand::of_type(type_id)
        },
    )
    .await
    .unwrap();
    let mut tx = s.db.begin_read().await.unwrap();
    let (invoice,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT id FROM invoices WHERE membership_id = $1 AND status = 'open' ORDER BY id LIMIT 1",
        membership
    )
    .unwrap();
    tx.commit().await.unwrap();
    (member, invoice)
}

/// Succeeded card payments of an invoice, and the invoice's amount paid and total.
async fn captured(s: &Services, invoice: i64) -> (i64, i64, i64) {
    let mut tx = s.db.begin_read().await.unwrap();
    let (n,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM payments WHERE invoice_id = $1 AND succeeded AND method = 'card_on_file'",
        invoice
    )
    .unwrap();
    let (paid, total) = query!(
        &mut tx,
        fetch_one as (i64, i64),
        "SELECT amount_paid_minor, total_minor FROM invoices WHERE id = $1",
        invoice
    )
    .unwrap();
    tx.commit().await.unwrap();
    (n, paid, total)
}

const ATTEMPTS: usize = 20;

/// The id of Adult Monthly in the public offer of the club's Harbour Street.
async fn adult_monthly_offer(app: &App) -> String {
    let offer: serde_json::Value = app
        .http
        .get(format!(
            "{}/api/v1/public/locations/harbour-street/membership-types",
            app.origin
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    offer["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Adult Monthly")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_invoice_is_captured_once_however_many_api_charges_race() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let owner = owner(&app.services).await;
        let (_, invoice) = member_owing(&app.services, &owner, "race.api@example.com").await;
        let key = api_key(&app, "Race", &["billing"]).await;
        // Every attempt with its own Idempotency-Key, all at once.
        let answers = join_all((0..ATTEMPTS).map(|i| {
            app.http
                .post(format!("{}/api/v1/invoices/{invoice}/charge", app.origin))
                .bearer_auth(&key)
                .header("Idempotency-Key", format!("race-{i}"))
                .send()
        }))
        .await;
        let created = answers
            .iter()
            .filter(|a| a.as_ref().unwrap().status() == StatusCode::CREATED)
            .count();
        for a in &answers {
            let status = a.as_ref().unwrap().status();
            assert!(
                status == StatusCode::CREATED || status == StatusCode::CONFLICT,
                "{status}"
            );
        }
        let (n, paid, total) = captured(&app.services, invoice).await;
        assert_eq!((n, created), (1, 1), "one capture, one 201");
        assert_eq!(paid, total);
    })
    .await;
}

#[tokio::test]
async fn an_invoice_is_captured_once_however_many_staff_and_portal_charges_race() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let owner = owner(&app.services).await;
        let email = "race.portal@example.com";
        let (_, invoice) = member_owing(&app.services, &owner, email).await;

        // Staff: the card-charge button, twenty times at once.
        let staff = backend::auth::sign_in(&app.services, demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await
            .unwrap()
            .token;
        // The member: signed in to the portal.
        backend::portal::request_code(&app.services, email, "10.1.1.1", "")
            .await
            .unwrap();
        let code = {
            let mut tx = app.services.db.begin_read().await.unwrap();
            let (subject,) = query!(
                &mut tx,
                fetch_one as (String,),
                "SELECT subject FROM outbox WHERE to_address = $1 AND kind = 'portal_code' ORDER BY id DESC LIMIT 1",
                email
            )
            .unwrap();
            tx.commit().await.unwrap();
            subject.rsplit(' ').next().unwrap().to_string()
        };
        let member = backend::portal::verify_code(
            &app.services,
            &domain::portal::CodeForm {
                email: email.into(),
                code,
                business: String::new(),
            },
        )
        .await
        .unwrap()
        .token;

        let staff_calls = (0..ATTEMPTS).map(|i| {
            app.http
                .post(format!("{}/rpc/invoices/charge", app.origin))
                .header(ACCEPT, "application/json")
                .header(COOKIE, format!("tessera_staff={staff}"))
                .form(&[("id", invoice.to_string()), ("key", format!("staff-{i}"))])
                .send()
        });
        let portal_calls = (0..ATTEMPTS).map(|i| {
            app.http
                .post(format!("{}/rpc/portal/pay-invoice", app.origin))
                .header(ACCEPT, "application/json")
                .header(COOKIE, format!("tessera_member={member}"))
                .form(&[("id", invoice.to_string()), ("key", format!("portal-{i}"))])
                .send()
        });
        let (staff_answers, portal_answers) =
            futures::join!(join_all(staff_calls), join_all(portal_calls));
        let ok = staff_answers
            .iter()
            .chain(portal_answers.iter())
            .filter(|a| a.as_ref().unwrap().status() == StatusCode::OK)
            .count();
        let (n, paid, total) = captured(&app.services, invoice).await;
        assert_eq!((n, ok), (1, 1), "one capture among 40 attempts");
        assert_eq!(paid, total);

        // The daily collection finds nothing left to charge.
        backend::jobs::collect(&app.services, owner.business_id)
            .await
            .unwrap();
        assert_eq!(captured(&app.services, invoice).await.0, 1);
    })
    .await;
}

/// A staff browser: signed in by the sign-in server function, cookies kept.
async fn staff_browser(app: &App) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client
        .post(format!("{}/rpc/session/sign-in", app.origin))
        .header(ACCEPT, "application/json")
        .form(&[
            ("email", demo::DEMO_OWNER_EMAIL),
            ("password", demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    client
}

async fn simulated_today(s: &Services) -> Option<chrono::NaiveDate> {
    let mut tx = s.db.begin_read().await.unwrap();
    let (day,) = query!(
        &mut tx,
        fetch_one as (Option<chrono::NaiveDate>,),
        "SELECT simulated_today FROM businesses WHERE name = $1",
        "Harbour Athletic Club"
    )
    .unwrap();
    tx.commit().await.unwrap();
    day
}

#[tokio::test]
async fn a_cross_site_post_changes_nothing_and_redirects_stay_on_the_site() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let staff = staff_browser(&app).await;
        let before = simulated_today(&app.services).await;
        let set_clock = |site: Option<&'static str>, origin: Option<&'static str>| {
            let mut request = staff
                .post(format!("{}/rpc/clock/set", app.origin))
                .header(ACCEPT, "text/html")
                .form(&[("date", "2030-01-01")]);
            if let Some(site) = site {
                request = request.header("Sec-Fetch-Site", site);
            }
            if let Some(origin) = origin {
                request = request.header("Origin", origin);
            }
            request.send()
        };
        // A form on another site, posted with the owner's cookie.
        for (site, origin) in [
            (Some("cross-site"), Some("https://evil.example")),
            (Some("same-site"), None),
            (None, Some("https://evil.example")),
        ] {
            let answer = set_clock(site, origin).await.unwrap();
            assert_eq!(
                answer.status(),
                StatusCode::FORBIDDEN,
                "{site:?} {origin:?}"
            );
        }
        assert_eq!(simulated_today(&app.services).await, before);

        // Login CSRF: another site cannot sign a visitor in.
        let answer = reqwest::Client::new()
            .post(format!("{}/rpc/session/sign-in", app.origin))
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[
                ("email", demo::DEMO_OWNER_EMAIL),
                ("password", demo::DEMO_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);
        assert!(answer.headers().get("set-cookie").is_none());

        // The same request from the app itself goes through.
        let same_origin = app.origin.clone();
        let answer = staff
            .post(format!("{}/rpc/clock/set", app.origin))
            .header(ACCEPT, "application/json")
            .header("Sec-Fetch-Site", "same-origin")
            .header("Origin", same_origin)
            .form(&[("date", "2026-11-23")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);

        // A plain form post answers with a redirect to its Referer, never to another site.
        let answer = staff
            .post(format!("{}/rpc/clock/set", app.origin))
            .header(ACCEPT, "text/html")
            .header("Referer", "https://evil.example/phish")
            .form(&[("date", "2026-11-23")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FOUND);
        assert_eq!(answer.headers().get("location").unwrap(), "/");
    })
    .await;
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_a_fresh_nonce() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let page = |path: &'static str| {
            app.http
                .get(format!("{}{path}", app.origin))
                .header(ACCEPT, "text/html")
                .send()
        };
        let first = page("/portal/sign-in").await.unwrap();
        let headers = first.headers().clone();
        let html = first.text().await.unwrap();
        let policy = headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap()
            .to_string();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("object-src 'none'"), "{policy}");
        assert!(!policy.contains("'unsafe-inline' 'wasm"), "{policy}");
        assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
        assert!(headers.get("referrer-policy").is_some());
        // Every inline script of the page carries the nonce.
        let scripts = html.matches("<script").count();
        let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
        assert!(
            scripts > 0 && with_nonce >= scripts,
            "{scripts} scripts, {with_nonce} with the nonce"
        );
        let second = page("/portal/sign-in").await.unwrap();
        let again = second.headers().get("content-security-policy").unwrap();
        assert_ne!(again.to_str().unwrap(), policy, "a new nonce each time");

        // Other answers run nothing at all.
        let health = page("/healthz").await.unwrap();
        assert_eq!(
            health.headers().get("content-security-policy").unwrap(),
            "default-src 'none'; frame-ancestors 'none'"
        );
    })
    .await;
}

#[tokio::test]
async fn control_characters_are_refused_at_the_door_with_the_field_named() {
    each_db(|db| async move {
        let app = spawn(db).await;
        // Unauthenticated doors: staff sign-in and the portal's code request.
        for (endpoint, form) in [
            ("session/sign-in", vec![("email", "a\u{0}@x.example"), ("password", "x")]),
            ("portal/request-code", vec![("email", "nul\u{0}@example.com"), ("business", "")]),
        ] {
            let answer = app
                .http
                .post(format!("{}/rpc/{endpoint}", app.origin))
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{endpoint}");
            let body: serde_json::Value = answer.json().await.unwrap();
            assert_eq!(body["code"], "invalid", "{endpoint}: {body}");
            assert_eq!(body["invalid"]["errors"][0]["field"], "email", "{body}");
        }
        // A staff form field by its name, and a search in the query string.
        let staff = staff_browser(&app).await;
        let answer = staff
            .post(format!("{}/rpc/members/create", app.origin))
            .header(ACCEPT, "application/json")
            .form(&[("form[first_name]", "Ann"), ("form[last_name]", "Lee"), ("form[notes]", "a\u{1b}[31m")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["invalid"]["errors"][0]["field"], "notes", "{body}");
        let answer = staff
            .get(format!("{}/members?search=%00", app.origin))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        // The REST API names the JSON field in its own error shape.
        let key = api_key(&app, "Nul", &["write_members"]).await;
        let answer = app
            .http
            .post(format!("{}/api/v1/members", app.origin))
            .bearer_auth(&key)
            .json(&serde_json::json!({"first_name": "Nul\u{0}", "last_name": "Byte"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["field"], "first_name", "{body}");
        // Line breaks and tabs are text, not control: a note may have lines.
        let answer = app
            .http
            .post(format!("{}/api/v1/members", app.origin))
            .bearer_auth(&key)
            .json(&serde_json::json!({"first_name": "Lines", "last_name": "Ok", "notes": "one\ntwo\tthree"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::CREATED);
    })
    .await;
}

/// Text that would be markup if it were written into the page unescaped.
const HOSTILE: &[&str] = &[
    "</title><script>alert('title')</script>",
    "</textarea><script>alert('textarea')</script>",
    "<img src=x onerror=alert('img')>",
    "\"><svg onload=alert('attr')>",
];

#[tokio::test]
async fn hostile_text_is_rendered_as_text_in_titles_and_text_areas() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let owner = owner(&app.services).await;
        for (i, text) in HOSTILE.iter().enumerate() {
            let member = backend::members::create_member(
                &app.services,
                &owner,
                &MemberForm {
                    first_name: text.to_string(),
                    last_name: format!("Hostile{i}"),
                    notes: text.to_string(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
            let staff = staff_browser(&app).await;
            let html = staff
                .get(format!("{}/members/{member}", app.origin))
                .header(ACCEPT, "text/html")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                html.contains(&format!("Hostile{i}")),
                "the page shows the member"
            );
            for marker in ["<script>alert(", "<img src=x", "<svg onload"] {
                assert!(
                    !html.contains(marker),
                    "{text:?} left markup {marker:?} in the page"
                );
            }
            assert!(html.contains("&lt;"), "the text is escaped");
        }
    })
    .await;
}

async fn count(s: &Services, sql: &'static str, text: &str) -> i64 {
    let mut tx = s.db.begin_read().await.unwrap();
    let (n,) = query!(&mut tx, fetch_one as (i64,), sql, text).unwrap();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn limits_hold_under_concurrent_requests() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let rpc = |endpoint: &'static str, form: Vec<(&'static str, String)>| {
            app.http
                .post(format!("{}/rpc/{endpoint}", app.origin))
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
        };
        // Three codes per email every 15 minutes, however many ask at once.
        let email = "ben.carter@example.com";
        join_all((0..10).map(|_| {
            rpc(
                "portal/request-code",
                vec![("email", email.into()), ("business", String::new())],
            )
        }))
        .await;
        let stored = count(
            &app.services,
            "SELECT COUNT(*) FROM portal_codes WHERE email = $1",
            email,
        )
        .await;
        assert_eq!(stored, 3, "codes stored for one email");

        // Five wrong guesses at one code, however many come at once.
        let answers = join_all((0..20).map(|i| {
            rpc(
                "portal/verify-code",
                vec![
                    ("form[email]", email.into()),
                    ("form[code]", format!("{:06}", 100_000 + i)),
                    ("form[business]", String::new()),
                ],
            )
        }))
        .await;
        assert!(
            answers
                .iter()
                .all(|a| a.as_ref().unwrap().status() == StatusCode::BAD_REQUEST)
        );
        let counted = count(
            &app.services,
            "SELECT CAST(MAX(wrong_attempts) AS BIGINT) FROM portal_codes WHERE email = $1",
            email,
        )
        .await;
        assert_eq!(counted, 5, "wrong guesses counted against the code");

        // Ten codes per client address (all these come from 127.0.0.1).
        join_all((0..20).map(|i| {
            rpc(
                "portal/request-code",
                vec![
                    ("email", format!("guess{i}@example.com")),
                    ("business", String::new()),
                ],
            )
        }))
        .await;
        let from_client = count(
            &app.services,
            "SELECT COUNT(*) FROM portal_codes WHERE client = $1",
            "127.0.0.1",
        )
        .await;
        assert_eq!(
            from_client, 10,
            "codes asked for from one address (3 of them Ben's)"
        );

        // Ten public signups per client address an hour.
        let adult = adult_monthly_offer(&app).await;
        let answers = join_all((0..20).map(|i| {
            app.http
                .post(format!(
                    "{}/api/v1/public/locations/harbour-street/signups",
                    app.origin
                ))
                .header("Idempotency-Key", format!("join-{i}"))
                .json(&serde_json::json!({
                    "type_id": adult, "first_name": "Many", "last_name": format!("Joiner{i}"),
                    "email": format!("joiner{i}@example.com"),
                    "card_number": "4242 4242 4242 4242", "card_expiry": "12/30",
                }))
                .send()
        }))
        .await;
        let created = answers
            .iter()
            .filter(|a| a.as_ref().unwrap().status() == StatusCode::CREATED)
            .count();
        let refused = answers
            .iter()
            .filter(|a| a.as_ref().unwrap().status() == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((created, refused), (10, 10), "signups accepted and refused");
    })
    .await;
}

#[tokio::test]
async fn money_typed_in_is_bounded_and_what_is_due_is_taken_once() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let owner = owner(&app.services).await;
        let (_, invoice) = member_owing(&app.services, &owner, "bounded@example.com").await;
        let key = api_key(&app, "Money", &["billing"]).await;
        let pay = |body: serde_json::Value, idem: String| {
            app.http
                .post(format!("{}/api/v1/invoices/{invoice}/payments", app.origin))
                .bearer_auth(&key)
                .header("Idempotency-Key", idem)
                .json(&body)
                .send()
        };
        // An amount no one types: refused, nothing made.
        let huge = pay(
            serde_json::json!({"amount": "92233720368547758.07", "method": "cash"}),
            "huge".into(),
        )
        .await
        .unwrap();
        assert_eq!(huge.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = huge.json().await.unwrap();
        assert_eq!(body["error"]["field"], "amount", "{body}");
        // Beyond the business's overpayment limit (500): refused by policy.
        let over = pay(
            serde_json::json!({"amount": "10000", "method": "cash"}),
            "over".into(),
        )
        .await
        .unwrap();
        assert_eq!(over.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = over.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains("account credit"),
            "{body}"
        );
        assert_eq!(captured(&app.services, invoice).await.1, 0, "nothing was paid");

        // "What is due", twenty times at once with different keys: taken once.
        let answers = join_all((0..ATTEMPTS).map(|i| {
            pay(serde_json::json!({"method": "cash"}), format!("due-{i}"))
        }))
        .await;
        let created = answers
            .iter()
            .filter(|a| a.as_ref().unwrap().status() == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1, "one payment of what was due");
        let (_, paid, total) = captured(&app.services, invoice).await;
        assert_eq!(paid, total);
        let mut tx = app.services.db.begin_read().await.unwrap();
        let (payments, credit) = query!(
            &mut tx,
            fetch_one as (i64, i64),
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM payments WHERE invoice_id = $1",
            invoice
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!((payments, credit), (1, total), "no second payment became credit");
    })
    .await;
}

#[tokio::test]
async fn idempotency_keys_belong_to_the_api_key_that_sent_them() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let scopes = ["write_members", "read_members"];
        let (one, two) = (
            api_key(&app, "Shop", &scopes).await,
            api_key(&app, "Website", &scopes).await,
        );
        let create = |key: String, last: &'static str| {
            app.http
                .post(format!("{}/api/v1/members", app.origin))
                .bearer_auth(key)
                .header("Idempotency-Key", "order-1001")
                .json(&serde_json::json!({"first_name": "Key", "last_name": last}))
                .send()
        };
        let first = create(one.clone(), "One").await.unwrap();
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: serde_json::Value = first.json().await.unwrap();
        // The second key's request with the same Idempotency-Key is its own.
        let second = create(two.clone(), "Two").await.unwrap();
        assert_eq!(second.status(), StatusCode::CREATED);
        assert!(second.headers().get("idempotent-replayed").is_none());
        let second: serde_json::Value = second.json().await.unwrap();
        assert_ne!(first["id"], second["id"]);
        assert_eq!(second["last_name"], "Two");
        // Each key replays its own answer.
        let again = create(two, "Two").await.unwrap();
        assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
        let again: serde_json::Value = again.json().await.unwrap();
        assert_eq!(again["id"], second["id"]);
        let again: serde_json::Value = create(one, "One").await.unwrap().json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
    })
    .await;
}

#[tokio::test]
async fn another_businesss_ids_and_missing_ids_are_not_found_in_the_staff_app() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let staff = staff_browser(&app).await;
        // The yoga studio's rows, seen from the club's owner.
        let mut tx = app.services.db.begin_read().await.unwrap();
        let studio = |table: &'static str| {
            format!(
                "SELECT CAST(MIN(t.id) AS BIGINT) FROM {table} t JOIN businesses b ON b.id = t.business_id WHERE b.name = $1"
            )
        };
        let mut ids = std::collections::HashMap::new();
        for table in ["members", "memberships", "invoices", "membership_types"] {
            let (id,) = query!(
                &mut tx,
                fetch_one as (i64,),
                sqlx::AssertSqlSafe(studio(table)),
                "Lakeside Yoga Studio"
            )
            .unwrap();
            ids.insert(table, id.to_string());
        }
        tx.commit().await.unwrap();
        let calls: Vec<(&str, Vec<(&str, String)>)> = vec![
            ("accounts/billing", vec![("kind", "member".into()), ("id", ids["members"].clone())]),
            ("accounts/billing", vec![("kind", "member".into()), ("id", "999999".into())]),
            ("accounts/billing", vec![("kind", "organization".into()), ("id", "999999".into())]),
            ("members/get", vec![("id", ids["members"].clone())]),
            ("memberships/get", vec![("id", ids["memberships"].clone())]),
            ("invoices/get", vec![("id", ids["invoices"].clone())]),
            ("membership-types/get", vec![("id", ids["membership_types"].clone())]),
            ("credits/get", vec![("id", ids["memberships"].clone()), ("filter[kind]", String::new()),
                ("filter[from]", String::new()), ("filter[to]", String::new())]),
            ("memberships/sell-options", vec![("holder", "member".into()), ("id", ids["members"].clone())]),
        ];
        for (endpoint, form) in calls {
            let answer = staff
                .post(format!("{}/rpc/{endpoint}", app.origin))
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{endpoint} {form:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_visitors_details_are_posted_and_never_put_in_an_address() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let adult = adult_monthly_offer(&app).await;
        // The join page's details form posts; it is no GET form.
        let page = app
            .http
            .get(format!("{}/join/harbour-street/{adult}", app.origin))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("/rpc/signup/details"),
            "the details form posts to the server"
        );
        assert!(
            !page.to_lowercase().contains("method=\"get\""),
            "no GET form on the page"
        );
        // Posted without JavaScript: the answer sends the visitor on with a token only.
        let answer = app
            .http
            .post(format!("{}/rpc/signup/details", app.origin))
            .header(ACCEPT, "text/html")
            .form(&[
                ("location", "harbour-street".to_string()),
                ("type_id", adult.clone()),
                ("form[first_name]", "Priv".into()),
                ("form[last_name]", "Acy".into()),
                ("form[email]", "priv.acy@example.com".into()),
                ("form[phone]", "+49 170 1234567".into()),
                ("form[start]", "2026-11-22".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FOUND);
        let location = answer
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            location.starts_with(&format!("/join/harbour-street/{adult}?draft=")),
            "{location}"
        );
        for private in ["priv", "Acy", "1234567", "%40"] {
            assert!(!location.contains(private), "{location} holds {private}");
        }
        // The preview page reads the details back from the draft.
        let preview = app
            .http
            .get(format!("{}{location}", app.origin))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            preview.contains("priv.acy@example.com"),
            "the preview has the details"
        );
        assert!(
            preview.contains("Your first invoice"),
            "the preview is shown"
        );
        // A made-up draft shows nothing of anyone.
        let none = app
            .http
            .post(format!("{}/rpc/signup/draft", app.origin))
            .header(ACCEPT, "application/json")
            .form(&[("token", "made-up")])
            .send()
            .await
            .unwrap();
        assert_eq!(none.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn password_guessing_is_throttled_and_the_owner_is_told() {
    each_db(|db| async move {
        let app = spawn(db).await;
        let attempt = |email: &'static str, password: String| {
            app.http
                .post(format!("{}/rpc/session/sign-in", app.origin))
                .header(ACCEPT, "application/json")
                .form(&[("email", email.to_string()), ("password", password)])
                .send()
        };
        // Thirty guesses at once at the manager's password.
        let answers =
            join_all((0..30).map(|i| attempt("manager@harbour.example", format!("guess {i}"))))
                .await;
        let statuses: Vec<StatusCode> = answers
            .iter()
            .map(|a| a.as_ref().unwrap().status())
            .collect();
        let tried = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!(tried + refused, 30, "{statuses:?}");
        assert!(
            tried < 10,
            "{tried} guesses were checked; the tenth locks the account"
        );
        // Locked: even the right password waits out the 15 minutes.
        let right = attempt("manager@harbour.example", demo::DEMO_PASSWORD.into())
            .await
            .unwrap();
        assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
        let body: serde_json::Value = right.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("owner has been told"),
            "{body}"
        );
        // The owner was told once; an unknown email is answered the same way.
        let told = count(
            &app.services,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'sign_in_locked' AND to_address = $1",
            demo::DEMO_OWNER_EMAIL,
        )
        .await;
        assert_eq!(told, 1);
        // Other accounts are not locked by it.
        let owner = attempt("owner@harbour.example", demo::DEMO_PASSWORD.into())
            .await
            .unwrap();
        assert_eq!(owner.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_details_post_with_a_location_that_is_no_address_name_is_not_found() {
    each_db(|db| async move {
        let app = spawn(db).await;
        for location in ["", "evil.example/phish", "//evil.example", "a b"] {
            let answer = app
                .http
                .post(format!("{}/rpc/signup/details", app.origin))
                .header(ACCEPT, "application/json")
                .form(&[
                    ("location", location),
                    ("type_id", "1"),
                    ("form[first_name]", "Priv"),
                    ("form[email]", "priv@example.com"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{location:?}");
            assert!(answer.headers().get("location").is_none());
        }
        let kept = count(
            &app.services,
            "SELECT COUNT(*) FROM signup_drafts WHERE details <> $1",
            "",
        )
        .await;
        assert_eq!(kept, 0, "nothing was kept");
    })
    .await;
}
