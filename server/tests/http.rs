//! The server over HTTP: a spawned app on port 0, a fresh database per test,
//! on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

use backend::ops::demo;
use backend::testing::each_db;
use backend::{Clock, Db};
use chrono::{TimeZone, Utc};
use reqwest::header::{ACCEPT, LOCATION, REFERER, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use server::{Config, app_state, router};

struct TestApp {
    base: String,
    client: reqwest::Client,
}

fn config(public_url: Option<&str>) -> Config {
    Config {
        database_url: String::new(),
        addr: "127.0.0.1:0".parse().unwrap(),
        public_url: public_url.map(str::to_string),
        site_root: "target/site".into(),
        output_name: "tessera".into(),
        portal_codes_per_client: None,
        trusted_proxies: 0,
        signups_per_client: None,
    }
}

async fn spawn_app_with(db: Db, config: Config) -> TestApp {
    let state = app_state(
        &config,
        db,
        Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()),
    );
    demo::seed_demo(&state.services)
        .await
        .expect("demo data loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A request that hangs fails the test, naming the request, instead
        // of holding CI until its limit.
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap();
    TestApp { base, client }
}

async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, config(None)).await
}

impl TestApp {
    /// A second browser on the same server, with its own cookies.
    fn another_browser(&self) -> TestApp {
        TestApp {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap(),
        }
    }

    /// Calls a server function as the browser's WebAssembly client does.
    async fn rpc(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}/rpc/{endpoint}", self.base))
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /rpc/{endpoint}: {e}"))
    }

    async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.rpc(
            "session/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    async fn page(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

async fn json(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

fn create_form<'a>(name: &'a str, fee: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("form[name]", name),
        ("form[purchase_type]", "recurring"),
        ("form[billing_interval]", "monthly"),
        ("form[fee]", fee),
        ("form[status]", "active"),
    ]
}

#[tokio::test]
async fn signing_in_sets_an_http_only_session_cookie_that_opens_the_staff_app() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        let response = app
            .sign_in(demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response
            .headers()
            .get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(cookie.starts_with("tessera_staff="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && !cookie.contains("Secure"),
            "{cookie}"
        );
        assert_eq!(response.headers().get(LOCATION).unwrap(), "/");

        let counts = json(app.rpc("dashboard/counts", &[]).await).await;
        assert_eq!(counts["members"], 25);
        assert_eq!(counts["membership_types"], 11);

        let page = app.page("/").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Harbour Athletic Club") && html.contains("Active memberships"),
            "{html}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_refusal_and_no_cookie() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        let wrong = app
            .sign_in(demo::DEMO_OWNER_EMAIL, "not the password")
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(wrong.headers().get(SET_COOKIE).is_none());
        let wrong = json(wrong).await;
        let unknown = json(
            app.sign_in("nobody@harbour.example", demo::DEMO_PASSWORD)
                .await,
        )
        .await;
        assert_eq!(wrong, unknown);
        assert_eq!(wrong["code"], "sign_in_failed");
        // Still signed out.
        assert_eq!(
            app.rpc("dashboard/counts", &[]).await.status(),
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn server_functions_require_a_session() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        for endpoint in [
            "session/current",
            "dashboard/counts",
            "membership-types/list",
        ] {
            let response = app.rpc(endpoint, &[]).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{endpoint}");
            assert_eq!(
                json(response).await["code"],
                "unauthenticated",
                "{endpoint}"
            );
        }
        let response = app
            .rpc("membership-types/create", &create_form("Sneaky", "1"))
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = app.rpc("clock/set", &[("date", "2030-01-01")]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        // A made-up session cookie is no better.
        let forged = app
            .client
            .post(format!("{}/rpc/dashboard/counts", app.base))
            .header(ACCEPT, "application/json")
            .header("cookie", "tessera_staff=00000000")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
        // Browsers asking for a staff page are sent to sign in.
        let page = app.page("/membership-types").await;
        assert_eq!(page.status(), StatusCode::FOUND);
        assert_eq!(page.headers().get(LOCATION).unwrap(), "/sign-in");
    })
    .await;
}

#[tokio::test]
async fn a_viewer_reads_types_but_cannot_create_one() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        assert_eq!(
            app.sign_in("viewer@harbour.example", demo::DEMO_PASSWORD)
                .await
                .status(),
            StatusCode::OK
        );
        let before = json(app.rpc("membership-types/list", &[]).await).await;
        assert_eq!(before.as_array().unwrap().len(), 11);
        let response = app
            .rpc(
                "membership-types/create",
                &create_form("Viewer's own", "10"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(json(response).await["code"], "forbidden");
        let after = json(app.rpc("membership-types/list", &[]).await).await;
        assert_eq!(before, after);
    })
    .await;
}

#[tokio::test]
async fn a_manager_creates_a_type_and_bad_input_is_answered_field_by_field() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        app.sign_in("manager@harbour.example", demo::DEMO_PASSWORD)
            .await;
        let response = app
            .rpc(
                "membership-types/create",
                &create_form("Swim Monthly", "45,5"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let created = json(response).await;
        assert_eq!(created["prices"][0]["fee"]["minor"], 4550);
        assert_eq!(created["prices"][0]["fee"]["currency"], "EUR");

        let response = app
            .rpc("membership-types/create", &create_form("", "12.345"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error = json(response).await;
        assert_eq!(error["code"], "invalid");
        let errors = error["invalid"]["errors"].as_array().unwrap();
        let fields: Vec<_> = errors
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["name", "fee"]);

        // A missing field is a bad request, not a server error.
        let response = app
            .rpc("membership-types/create", &[("name", "No fee")])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);

        let list = json(app.rpc("membership-types/list", &[]).await).await;
        assert_eq!(list.as_array().unwrap().len(), 12);
    })
    .await;
}

#[tokio::test]
async fn without_javascript_a_form_post_redirects_back_and_the_page_shows_the_field_error() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        app.sign_in(demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await;
        let referer = format!("{}/membership-types", app.base);
        let response = app
            .client
            .post(format!("{}/rpc/membership-types/create", app.base))
            .header(ACCEPT, "text/html")
            .header(REFERER, &referer)
            .form(&create_form("Plain form", "abc"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response
            .headers()
            .get(LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            location.starts_with(&referer) && location.contains("__err"),
            "{location}"
        );
        let html = app
            .page(location.trim_start_matches(&app.base))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("use digits and at most one decimal separator"),
            "the fee error is rendered on the server"
        );

        // A valid plain post creates the type and returns to the list.
        let response = app
            .client
            .post(format!("{}/rpc/membership-types/create", app.base))
            .header(ACCEPT, "text/html")
            .header(REFERER, &referer)
            .form(&create_form("Plain form", "10"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let html = app.page("/membership-types").await.text().await.unwrap();
        assert!(html.contains("Plain form"));
    })
    .await;
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        let cookie = app
            .sign_in(demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await
            .headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .to_string();
        let token = cookie.split(';').next().unwrap().to_string();
        let response = app.rpc("session/sign-out", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()[SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        // The old token is dead even if a client kept it.
        let replay = app
            .client
            .post(format!("{}/rpc/dashboard/counts", app.base))
            .header(ACCEPT, "application/json")
            .header("cookie", token)
            .send()
            .await
            .unwrap();
        assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn only_an_owner_sets_the_simulated_date_and_pages_show_the_banner() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        app.sign_in("manager@harbour.example", demo::DEMO_PASSWORD)
            .await;
        assert_eq!(
            app.rpc("clock/set", &[("date", "2027-01-31")])
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        app.sign_in(demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await;
        let response = app.rpc("clock/set", &[("date", "31/01/2027")]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            json(response).await["invalid"]["errors"][0]["field"],
            "date"
        );
        assert_eq!(
            app.rpc("clock/set", &[("date", "2027-01-31")])
                .await
                .status(),
            StatusCode::OK
        );
        let html = app.page("/").await.text().await.unwrap();
        assert!(html.contains("simulated-clock-banner") && html.contains("2027-01-31"));
        assert_eq!(
            json(app.rpc("session/current", &[]).await).await["today"],
            "2027-01-31"
        );
        assert_eq!(
            app.rpc("clock/set", &[("date", "")]).await.status(),
            StatusCode::OK
        );
        assert!(
            !app.page("/")
                .await
                .text()
                .await
                .unwrap()
                .contains("simulated-clock-banner")
        );
    })
    .await;
}

#[tokio::test]
async fn a_server_is_ready_only_when_its_database_has_every_migration() {
    each_db(|db| async move {
        let app = spawn_app(db.clone()).await;
        let ready = || async {
            let response = app
                .client
                .get(format!("{}/readyz", app.base))
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET /readyz: {e}"));
            (response.status(), response.text().await.unwrap())
        };
        assert_eq!(ready().await, (StatusCode::OK, "ready".to_string()));
        // The database as it was before the newest migration was rolled out.
        let forget = "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)";
        match &db {
            Db::Sqlite(pool) => sqlx::query(forget).execute(pool).await.map(|_| ()),
            Db::Postgres(pool) => sqlx::query(forget).execute(pool).await.map(|_| ()),
        }
        .unwrap();
        assert_eq!(
            ready().await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "1 migration(s) pending".to_string()
            )
        );
        // The process and its database are still alive.
        let health = app
            .client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn health_portal_and_unknown_pages_answer() {
    each_db(|db| async move {
        let app = spawn_app_with(db, config(Some("https://club.example"))).await;
        let health = app
            .client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        assert_eq!(health.text().await.unwrap(), "ok");
        let portal = app.page("/portal/sign-in").await;
        assert_eq!(portal.status(), StatusCode::OK);
        assert!(portal.text().await.unwrap().contains("Member portal"));
        assert_eq!(
            app.page("/no-such-page").await.status(),
            StatusCode::NOT_FOUND
        );
        // Served over https, the session cookie is Secure.
        let response = app
            .sign_in(demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await;
        assert!(
            response.headers()[SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("; Secure")
        );
    })
    .await;
}

#[tokio::test]
async fn the_full_editor_saves_every_section_from_a_plain_form_post() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        app.sign_in("manager@harbour.example", demo::DEMO_PASSWORD)
            .await;
        let options = json(app.rpc("membership-types/form-options", &[]).await).await;
        let riverside = options["locations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l[1] == "Riverside")
            .unwrap()[0]
            .to_string();
        let referer = format!("{}/membership-types/new", app.base);
        // What a browser without JavaScript sends: unticked boxes are absent, so indices have gaps.
        let form = vec![
            ("id", "0".to_string()),
            ("form[name]", "Bouldering Monthly".into()),
            ("form[purchase_type]", "recurring".into()),
            ("form[billing_interval]", "monthly".into()),
            ("form[status]", "draft".into()),
            ("form[fee]", "42".into()),
            ("form[initiation_fee]", "10".into()),
            ("form[term_kind]", "ongoing".into()),
            ("form[location_scope]", "selected".into()),
            ("form[location_ids][1]", riverside.clone()),
            ("form[member_types][0]", "Adult".into()),
            ("form[member_types][2]", "Student".into()),
            ("form[pause_allowed]", "on".into()),
            ("form[pause_min_days]", "7".into()),
            ("form[pause_max_days]", "30".into()),
            ("form[min_commitment_periods]", "3".into()),
            ("form[cancel_timing]", "at_period_end".into()),
        ];
        let response = app
            .client
            .post(format!("{}/rpc/membership-types/save", app.base))
            .header(ACCEPT, "text/html")
            .header(REFERER, &referer)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(
            location.starts_with("/membership-types/"),
            "goes to the new type's page: {location}"
        );
        let id: i64 = location
            .trim_start_matches("/membership-types/")
            .parse()
            .unwrap();
        let detail = json(
            app.rpc("membership-types/get", &[("id", &id.to_string())])
                .await,
        )
        .await;
        assert_eq!(detail["spec"]["location_ids"][0].to_string(), riverside);
        assert_eq!(
            detail["spec"]["member_types"],
            serde_json::json!(["Adult", "Student"])
        );
        assert_eq!(detail["spec"]["policies"]["pause"]["max_days"], 30);
        assert_eq!(detail["spec"]["policies"]["min_commitment_periods"], 3);
        assert_eq!(detail["prices"][0]["initiation_fee"]["minor"], 1000);
        let page = app.page(&location).await.text().await.unwrap();
        assert!(
            page.contains("Bouldering Monthly")
                && page.contains("Riverside")
                && page.contains("7 to 30 days"),
            "{page}"
        );

        // A front-desk user cannot save, with or without JavaScript.
        app.sign_in("desk@harbour.example", demo::DEMO_PASSWORD)
            .await;
        let mut edit = form.clone();
        edit[0] = ("id", id.to_string());
        let response = app
            .rpc(
                "membership-types/save",
                &edit
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect::<Vec<_>>(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn a_location_public_page_shows_its_active_types_without_sign_in() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        let page = app.page("/join/riverside").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Join us at Riverside")
                && html.contains("Youth Climbing Team")
                && html.contains("Adult Monthly")
        );
        assert!(!html.contains("Summer Swim"), "drafts are not offered");
        assert!(
            !html.contains("Staff Perk"),
            "benefits are granted, not sold"
        );
        let harbour = app.page("/join/harbour-street").await.text().await.unwrap();
        assert!(
            !harbour.contains("Youth Climbing Team"),
            "the team trains at Riverside only"
        );
        assert!(harbour.contains("One-time joining fee") && harbour.contains("€25.00"));
        let missing = app.page("/join/atlantis").await.text().await.unwrap();
        assert!(missing.contains("Location not found"));
    })
    .await;
}

#[tokio::test]
async fn front_desk_adds_and_finds_members_and_viewers_cannot_add() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        app.sign_in("desk@harbour.example", demo::DEMO_PASSWORD)
            .await;
        let form = [
            ("id", "0"),
            ("form[first_name]", "Nora"),
            ("form[last_name]", "Quist"),
            ("form[email]", "Nora.Quist@Example.com"),
            ("form[phone]", "+49 40 7654321"),
            ("form[member_type]", "Adult"),
            ("form[marketing_consent]", "on"),
        ];
        let response = app.rpc("members/save", &form).await;
        assert_eq!(response.status(), StatusCode::OK);
        let saved = json(response).await;
        assert_eq!(saved["member_number"], 1026, "after the 25 demo members");
        assert_eq!(saved["details"]["email"], "nora.quist@example.com");

        for q in ["nora", "quist", "nora.q", "+49 40 765", "1026"] {
            let found = json(app.rpc("members/search", &[("q", q)]).await).await;
            assert_eq!(found[0]["name"], "Nora Quist", "{q}");
        }
        let bad = app
            .rpc(
                "members/save",
                &[
                    ("id", "0"),
                    ("form[first_name]", "X"),
                    ("form[email]", "not-an-email"),
                ],
            )
            .await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let fields: Vec<String> = json(bad).await["invalid"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(fields, ["last_name", "email"]);

        app.sign_in("viewer@harbour.example", demo::DEMO_PASSWORD)
            .await;
        assert_eq!(
            app.rpc("members/save", &form).await.status(),
            StatusCode::FORBIDDEN
        );
        let page = app
            .page(&format!("/members/{}", saved["id"]))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Nora Quist") && page.contains("#1026"));
        assert!(!page.contains("Edit details"), "a viewer gets no edit form");
    })
    .await;
}

#[tokio::test]
async fn memberships_are_previewed_sold_and_changed_over_rpc_and_rendered_on_the_server() {
    each_db(|db| async move {
        let app = spawn_app(db).await;
        app.sign_in("desk@harbour.example", demo::DEMO_PASSWORD)
            .await;
        // Finn Schneider (#1006) holds no membership in the demo.
        let finn = json(app.rpc("members/search", &[("q", "1006")]).await).await[0]["id"]
            .as_i64()
            .unwrap()
            .to_string();
        let types = json(app.rpc("memberships/sell-options", &[("holder", "member"), ("id", &finn)]).await).await;
        let adult = types["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["label"].as_str().unwrap().starts_with("Adult Monthly"))
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string();
        let sale = [
            ("holder", "member"),
            ("id", finn.as_str()),
            ("form[type_id]", adult.as_str()),
            ("form[start]", "2026-11-22"),
        ];
        let preview = json(app.rpc("memberships/preview-sale", &sale).await).await;
        assert_eq!(preview["preview"]["total"]["minor"], 8400, "€59 and the €25 initiation fee");
        let response = app.rpc("memberships/sell", &sale).await;
        assert_eq!(response.status(), StatusCode::OK);
        let id = json(response).await.as_i64().unwrap();

        // The preview of a refused pause, rendered by the server from the address.
        let refused = app
            .page(&format!("/memberships/{id}?form%5Baction%5D=pause&form%5Buntil%5D=2027-03-01&form%5Breason%5D=trip"))
            .await
            .text()
            .await
            .unwrap();
        assert!(refused.contains("Pauses of Adult Monthly last at most 60 days: the latest resume date is 2027-01-21."));

        let pause = [
            ("id", id.to_string()),
            ("form[action]", "pause".into()),
            ("form[from]", "2026-11-22".into()),
            ("form[until]", "2026-12-10".into()),
            ("form[reason]", "injury".into()),
        ];
        let pause: Vec<(&str, &str)> = pause.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(app.rpc("memberships/act", &pause).await.status(), StatusCode::OK);
        let page = app.page(&format!("/memberships/{id}")).await.text().await.unwrap();
        assert!(page.contains("paused 2026-11-22 until 2026-12-10 by Dana Desk (front desk): injury"));
        let list = app.page("/memberships?form%5Bstatus%5D=paused").await.text().await.unwrap();
        assert!(list.contains("Finn Schneider"));
        let member = app.page(&format!("/members/{finn}")).await.text().await.unwrap();
        assert!(member.contains("Adult Monthly") && !member.contains("Something went wrong"));

        app.sign_in("viewer@harbour.example", demo::DEMO_PASSWORD)
            .await;
        assert_eq!(app.rpc("memberships/act", &pause).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.rpc("memberships/sell", &sale).await.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn a_member_signs_in_to_the_portal_with_a_mailed_code_and_cannot_reach_the_staff_app() {
    each_db(|db| async move {
        let staff = spawn_app(db).await;
        let member = staff.another_browser();
        // Without a portal session the portal sends people to sign in.
        let page = member.page("/portal").await;
        assert_eq!(page.status(), StatusCode::FOUND);
        assert_eq!(page.headers().get(LOCATION).unwrap(), "/portal/sign-in");
        let asked = member
            .rpc(
                "portal/request-code",
                &[("email", "Ben.Carter@example.com")],
            )
            .await;
        assert_eq!(asked.status(), StatusCode::OK);
        // The code is in the club's mail outbox (what SMTP would send).
        staff
            .sign_in(demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
            .await;
        let outbox = json(staff.rpc("billing/outbox", &[]).await).await;
        let mail = outbox["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["to"] == "ben.carter@example.com" && m["kind"] == "portal_code")
            .unwrap_or_else(|| panic!("no code in {outbox}"));
        let code = mail["subject"]
            .as_str()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string();
        // A wrong code is a 400 with the field's message, never a session.
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let refused = member
            .rpc(
                "portal/verify-code",
                &[
                    ("form[email]", "ben.carter@example.com"),
                    ("form[code]", wrong),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(refused.headers().get(SET_COOKIE).is_none());
        let body = json(refused).await.to_string();
        assert!(body.contains("You have 4 more tries"), "{body}");
        let verified = member
            .rpc(
                "portal/verify-code",
                &[
                    ("form[email]", "ben.carter@example.com"),
                    ("form[code]", &code),
                ],
            )
            .await;
        assert_eq!(verified.status(), StatusCode::OK);
        let cookie = verified
            .headers()
            .get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.starts_with("tessera_member=")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert_eq!(verified.headers().get(LOCATION).unwrap(), "/portal");
        let home = json(member.rpc("portal/home", &[]).await).await;
        assert_eq!(home["member_name"], "Ben Carter");
        let held: Vec<(String, String)> = home["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["type_name"].as_str().unwrap().into(),
                    m["reach"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert!(
            held.contains(&("Adult Monthly".into(), "Holder".into())),
            "{held:?}"
        );
        assert!(
            held.contains(&("Company Coworking Yearly".into(), "Organization".into())),
            "{held:?}"
        );
        let html = member.page("/portal").await.text().await.unwrap();
        assert!(
            html.contains("Hello, Ben") && html.contains("Adult Monthly"),
            "{html}"
        );
        // Every portal page asks for the session, which sets the cookie again:
        // it lasts a week from the member's last visit, like the session.
        let session = member.rpc("portal/session", &[]).await;
        assert_eq!(session.status(), StatusCode::OK);
        let refreshed: Vec<String> = session
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|c| c.starts_with("tessera_member="))
            .map(str::to_string)
            .collect();
        assert!(
            refreshed.iter().any(|c| c.contains("Max-Age=604800")),
            "{refreshed:?}"
        );
        // The portal session opens no staff door, and the staff session no portal door.
        assert_eq!(
            member.rpc("dashboard/counts", &[]).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            member.rpc("billing/outbox", &[]).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            staff.rpc("portal/home", &[]).await.status(),
            StatusCode::UNAUTHORIZED
        );
        // Signing out ends it.
        member.rpc("portal/sign-out", &[]).await;
        assert_eq!(
            member.rpc("portal/home", &[]).await.status(),
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn the_webassembly_scripts_and_json_are_gzipped_and_pages_stream_uncompressed() {
    // A site folder of its own with a WebAssembly file and a script in pkg/.
    let site = std::env::temp_dir().join(format!("tessera-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let wasm: Vec<u8> = (0..64 * 1024).map(|i| (i % 7) as u8).collect();
    std::fs::write(site.join("pkg/tessera_bg.wasm"), &wasm).unwrap();
    std::fs::write(
        site.join("pkg/tessera.js"),
        "export function run() {}\n".repeat(200),
    )
    .unwrap();
    let site_root = site.display().to_string();
    each_db(|db| {
        let site_root = site_root.clone();
        async move {
            let app = spawn_app_with(
                db,
                Config {
                    site_root,
                    ..config(None)
                },
            )
            .await;
            let get = |path: &str, gzip: bool| {
                let mut request = app.client.get(format!("{}{path}", app.base));
                if gzip {
                    request = request.header(reqwest::header::ACCEPT_ENCODING, "gzip");
                }
                request.send()
            };
            let encoding = |r: &Response| {
                r.headers()
                    .get(reqwest::header::CONTENT_ENCODING)
                    .map(|v| v.to_str().unwrap().to_string())
            };
            let wasm_gz = get("/pkg/tessera_bg.wasm", true).await.unwrap();
            assert_eq!(wasm_gz.status(), StatusCode::OK);
            assert_eq!(
                wasm_gz.headers()[reqwest::header::CONTENT_TYPE],
                "application/wasm"
            );
            assert_eq!(encoding(&wasm_gz).as_deref(), Some("gzip"));
            let gz_len = wasm_gz.bytes().await.unwrap().len();
            assert!(gz_len < 64 * 1024 / 10, "gzipped to {gz_len} bytes");
            let js = get("/pkg/tessera.js", true).await.unwrap();
            assert_eq!(encoding(&js).as_deref(), Some("gzip"));
            // A client that does not ask for gzip gets the bytes as they are.
            let plain = get("/pkg/tessera_bg.wasm", false).await.unwrap();
            assert_eq!(encoding(&plain), None);
            assert_eq!(plain.bytes().await.unwrap().len(), 64 * 1024);
            // Pages stream as they render: not compressed.
            let page = get("/portal/sign-in", true).await.unwrap();
            assert_eq!(page.status(), StatusCode::OK);
            assert_eq!(encoding(&page), None);
            assert!(page.text().await.unwrap().contains("Member portal"));
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&site);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_code_limit() {
    each_db(|db| async move {
        let app = spawn_app_with(
            db,
            Config {
                trusted_proxies: 1,
                ..config(None)
            },
        )
        .await;
        let ask = |email: String, forwarded: &'static str| {
            app.client
                .post(format!("{}/rpc/portal/request-code", app.base))
                .header(ACCEPT, "application/json")
                .header("x-forwarded-for", forwarded)
                .form(&[("email", email)])
                .send()
        };
        // The proxy appended 203.0.113.9; what the client claimed before it is not believed.
        for i in 0..10 {
            let r = ask(format!("visitor{i}@example.com"), "10.9.9.9, 203.0.113.9")
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "request {i}");
        }
        let eleventh = ask("visitor10@example.com".into(), "10.9.9.8, 203.0.113.9")
            .await
            .unwrap();
        assert_eq!(eleventh.status(), StatusCode::TOO_MANY_REQUESTS);
        // Another client behind the same proxy is not held back.
        let other = ask("visitor11@example.com".into(), "203.0.113.10")
            .await
            .unwrap();
        assert_eq!(other.status(), StatusCode::OK);
    })
    .await;
}
