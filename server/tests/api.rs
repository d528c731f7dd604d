//! The REST API over HTTP: a spawned app with the demo data on port 0, a
//! fresh database per test, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

use backend::ops::demo;
use backend::testing::each_db;
use backend::{Clock, Db, Services};
use chrono::{TimeZone, Utc};
use domain::api_keys::ApiKeyForm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::{Config, app_state, router};

struct Api {
    base: String,
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

async fn spawn(db: Db) -> Api {
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
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    Api {
        base,
        services,
        http: reqwest::Client::new(),
    }
}

/// An answer: status, headers and JSON body.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
}

impl Api {
    async fn key(&self, owner: &str, scopes: &[&str]) -> String {
        let form = ApiKeyForm {
            name: "Website".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        };
        backend::api_keys::create_for_owner_email(&self.services, owner, &form)
            .await
            .unwrap()
            .secret
    }

    async fn call(
        &self,
        method: Method,
        key: Option<&str>,
        path: &str,
        body: Option<Value>,
        idem: Option<&str>,
    ) -> Answer {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self.http.request(method, url);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(idem) = idem {
            request = request.header("Idempotency-Key", idem);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("a JSON body, got {status}: {text}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, key: &str, path: &str) -> Answer {
        self.call(Method::GET, Some(key), path, None, None).await
    }

    async fn post(&self, key: &str, path: &str, body: Value, idem: Option<&str>) -> Answer {
        self.call(Method::POST, Some(key), path, Some(body), idem)
            .await
    }

    /// Every event of the feed, following `last_seq` page by page.
    async fn all_events(&self, key: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .get(key, &format!("/events?after={after}&limit=50"))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            events.extend(page.body["results"].as_array().unwrap().iter().cloned());
            after = page.body["last_seq"].as_i64().unwrap();
            if !page.body["has_more"].as_bool().unwrap() {
                return events;
            }
        }
    }
}

const ALL: &[&str] = &[
    "read_catalog",
    "read_members",
    "write_members",
    "write_memberships",
    "billing",
    "credits",
];
const LAKESIDE_OWNER: &str = "owner@lakeside.example";

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint_and_unknown_paths_answer_json() {
    each_db(|db| async move {
        let api = spawn(db).await;
        let doc = api
            .call(Method::GET, None, "/openapi.json", None, None)
            .await;
        assert_eq!(doc.status, StatusCode::OK);
        assert!(
            doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc.body["openapi"]
        );
        let paths = doc.body["paths"].as_object().unwrap();
        for path in [
            "/membership-types",
            "/membership-types/{id}",
            "/members",
            "/members/{id}",
            "/memberships",
            "/memberships/{id}",
            "/memberships/{id}/actions/{action}",
            "/invoices",
            "/invoices/{id}",
            "/invoices/{id}/payments",
            "/events",
        ] {
            assert!(paths.contains_key(path), "{path} is documented");
        }
        assert_eq!(
            doc.body["components"]["securitySchemes"]["api_key"]["scheme"],
            "bearer"
        );
        assert!(doc.body["components"]["schemas"]["ErrorBody"].is_object());
        // Every reference resolves to a schema of the document.
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        out.push(r.clone());
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc.body, &mut all);
        assert!(all.len() > 50, "{} references", all.len());
        for r in all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{r} points into the schemas"));
            assert!(
                doc.body["components"]["schemas"][name].is_object(),
                "{r} resolves"
            );
        }
        let nothing = api
            .call(Method::GET, None, "/no-such-thing", None, None)
            .await;
        assert_eq!(
            (nothing.status, nothing.code()),
            (StatusCode::NOT_FOUND, "not_found")
        );
    })
    .await;
}

#[tokio::test]
async fn keys_authenticate_their_business_and_scopes_limit_them() {
    each_db(|db| async move {
        let api = spawn(db).await;
        let none = api
            .call(Method::GET, None, "/membership-types", None, None)
            .await;
        assert_eq!(
            (none.status, none.code()),
            (StatusCode::UNAUTHORIZED, "unauthenticated")
        );
        assert!(none.headers.get("www-authenticate").is_some());
        let wrong = api.get("tsk_0000", "/membership-types").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

        let catalog = api.key(demo::DEMO_OWNER_EMAIL, &["read_catalog"]).await;
        // A known path with a method it does not take: 405 in the error shape.
        let wrong_method = api
            .call(
                Method::DELETE,
                Some(&catalog),
                "/membership-types",
                None,
                None,
            )
            .await;
        assert_eq!(
            (wrong_method.status, wrong_method.code()),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            "{}",
            wrong_method.body
        );
        let types = api.get(&catalog, "/membership-types").await;
        assert_eq!(types.status, StatusCode::OK, "{}", types.body);
        let results = types.body["results"].as_array().unwrap();
        let adult = results
            .iter()
            .find(|t| t["name"] == "Adult Monthly")
            .expect("the demo's adult plan");
        assert_eq!(
            adult["price"]["fee"],
            json!({ "amount_minor": 5900, "currency": "EUR", "display": "€59.00" })
        );
        assert_eq!(adult["policies"]["pause"]["max_days"], 60);
        assert_eq!(adult["policies"]["min_commitment_periods"], 3);
        assert!(adult["id"].is_string());
        // Active types come first; retired ones only when asked for.
        assert!(results.iter().all(|t| t["status"] != "retired"));
        let paged = api.get(&catalog, "/membership-types?page_size=2").await;
        assert_eq!(paged.body["results"].as_array().unwrap().len(), 2);
        assert_eq!(
            paged.body["count"].as_u64().unwrap() as usize,
            results.len()
        );
        let second = api
            .call(
                Method::GET,
                Some(&catalog),
                paged.body["next"].as_str().unwrap(),
                None,
                None,
            )
            .await;
        assert_eq!(
            second.body["results"][0]["id"], results[2]["id"],
            "the same order, page by page"
        );
        let recurring = api
            .get(&catalog, "/membership-types?purchase_type=recurring")
            .await;
        assert!(
            recurring.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["purchase_type"] == "recurring")
        );
        let bad = api.get(&catalog, "/membership-types?status=happy").await;
        assert_eq!(
            (bad.status, bad.code(), bad.field()),
            (StatusCode::BAD_REQUEST, "validation_failed", "status")
        );
        let one = api
            .get(
                &catalog,
                &format!("/membership-types/{}", adult["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(one.body["name"], "Adult Monthly");
        for missing in [
            "/membership-types/999999",
            "/membership-types/abc",
            "/membership-types/-1",
        ] {
            assert_eq!(
                api.get(&catalog, missing).await.status,
                StatusCode::NOT_FOUND,
                "{missing}"
            );
        }
        // The scope is missing: 403, and nothing is written.
        let members = api.get(&catalog, "/members").await;
        assert_eq!(
            (members.status, members.code()),
            (StatusCode::FORBIDDEN, "forbidden")
        );
        let create = api
            .post(
                &catalog,
                "/members",
                json!({ "first_name": "A", "last_name": "B" }),
                None,
            )
            .await;
        assert_eq!(create.status, StatusCode::FORBIDDEN);

        // Another business's key never sees this business's types.
        let lakeside = api.key(LAKESIDE_OWNER, &["read_catalog"]).await;
        let theirs = api
            .get(
                &lakeside,
                &format!("/membership-types/{}", adult["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);

        // A revoked key stops working at once.
        let owner =
            backend::auth::sign_in(&api.services, demo::DEMO_OWNER_EMAIL, demo::DEMO_PASSWORD)
                .await
                .unwrap();
        let actor = backend::auth::authenticate(&api.services, &owner.token)
            .await
            .unwrap();
        let keys = backend::api_keys::list(&api.services, &actor)
            .await
            .unwrap();
        assert!(
            keys[0].last_used_at.is_some(),
            "the key's last use is noted"
        );
        backend::api_keys::revoke(&api.services, &actor, keys[0].id)
            .await
            .unwrap();
        assert_eq!(
            api.get(&catalog, "/membership-types").await.status,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn members_are_created_once_per_idempotency_key_updated_in_part_and_listed_in_pages() {
    each_db(|db| async move {
        let api = spawn(db).await;
        let key = api.key(demo::DEMO_OWNER_EMAIL, ALL).await;
        let ada = json!({ "first_name": "Ada", "last_name": "Quill", "email": "ada.quill@example.com", "member_type": "Adult" });
        let created = api.post(&key, "/members", ada.clone(), Some("ada-1")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap().to_string();
        assert_eq!(created.body["email"], "ada.quill@example.com");
        let again = api.post(&key, "/members", ada.clone(), Some("ada-1")).await;
        assert_eq!((again.status, again.body["id"].as_str()), (StatusCode::CREATED, Some(id.as_str())));
        assert_eq!(again.headers["idempotent-replayed"], "true");
        let other = api.post(&key, "/members", json!({ "first_name": "Bea", "last_name": "Quill" }), Some("ada-1")).await;
        assert_eq!((other.status, other.code()), (StatusCode::CONFLICT, "idempotency_key_reused"));
        let found = api.get(&key, "/members?email=ADA.QUILL@example.com").await;
        assert_eq!(found.body["count"], 1, "one Ada, however often the request was sent");

        // Bad input: named fields, nothing written.
        let blank = api.post(&key, "/members", json!({ "last_name": "Quill" }), None).await;
        assert_eq!((blank.status, blank.field()), (StatusCode::BAD_REQUEST, "first_name"));
        let typo = api.post(&key, "/members", json!({ "first_name": "A", "last_name": "B", "emial": "x" }), None).await;
        assert_eq!(typo.status, StatusCode::BAD_REQUEST);
        assert!(typo.body["error"]["message"].as_str().unwrap().contains("emial"), "{}", typo.body);
        let wrong_type = api.post(&key, "/members", json!({ "first_name": 5, "last_name": "B" }), None).await;
        assert_eq!((wrong_type.status, wrong_type.field()), (StatusCode::BAD_REQUEST, "first_name"));
        let not_json = api.call(Method::POST, Some(&key), "/members", None, None).await;
        assert_eq!(not_json.status, StatusCode::BAD_REQUEST);

        // PATCH changes what is sent and keeps the rest; null clears.
        let patched = api.call(Method::PATCH, Some(&key), &format!("/members/{id}"),
            Some(json!({ "phone": "+353 1 555 0100", "member_type": null })), None).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        assert_eq!((patched.body["first_name"].as_str(), patched.body["phone"].as_str()), (Some("Ada"), Some("+353 1 555 0100")));
        assert_eq!(patched.body["member_type"], Value::Null);
        let read = api.get(&key, &format!("/members/{id}")).await;
        assert_eq!(read.body["phone"], "+353 1 555 0100");

        // Pages: absolute links that keep the filters; cursor and page agree.
        let first = api.get(&key, "/members?status=active&page_size=10").await;
        let count = first.body["count"].as_i64().unwrap();
        assert!(count > 20, "the demo's members and Ada: {count}");
        assert_eq!(first.body["results"].as_array().unwrap().len(), 10);
        assert_eq!(first.body["previous"], Value::Null);
        let next = first.body["next"].as_str().unwrap();
        assert!(next.starts_with("http://127.0.0.1:") && next.contains("status=active"), "{next}");
        let second = api.call(Method::GET, Some(&key), next, None, None).await;
        let by_page = api.get(&key, "/members?status=active&page_size=10&page=2").await;
        assert_eq!(second.body["results"], by_page.body["results"]);
        assert_ne!(second.body["results"][0]["id"], first.body["results"][0]["id"]);
        // The links seek by id (`a…`, `b…`): back from the second page is the first.
        assert!(next.contains("cursor=a"), "{next}");
        let previous = second.body["previous"].as_str().unwrap();
        assert!(previous.contains("cursor=b"), "{previous}");
        let back = api.call(Method::GET, Some(&key), previous, None, None).await;
        assert_eq!(back.body["results"], first.body["results"]);
        assert_eq!(back.body["count"], first.body["count"]);
        let bad = api.get(&key, "/members?page_size=1000").await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "page_size"));
        let bad = api.get(&key, "/members?cursor=nonsense").await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "cursor"));

        // Another business: its key cannot read or change this member.
        let lakeside = api.key(LAKESIDE_OWNER, ALL).await;
        assert_eq!(api.get(&lakeside, &format!("/members/{id}")).await.status, StatusCode::NOT_FOUND);
        let theirs = api.call(Method::PATCH, Some(&lakeside), &format!("/members/{id}"), Some(json!({ "phone": "1" })), None).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert_eq!(api.get(&key, &format!("/members/{id}")).await.body["phone"], "+353 1 555 0100");
    })
    .await;
}

#[tokio::test]
async fn an_integrator_sells_and_pauses_a_membership_records_a_payment_and_follows_the_events() {
    each_db(|db| async move {
        let api = spawn(db).await;
        let key = api.key(demo::DEMO_OWNER_EMAIL, ALL).await;
        let types = api.get(&key, "/membership-types?status=active").await;
        let adult = types.body["results"].as_array().unwrap().iter()
            .find(|t| t["name"] == "Adult Monthly").unwrap()["id"].as_str().unwrap().to_string();
        let member = api.post(&key, "/members", json!({ "first_name": "Noor", "last_name": "Haddad", "email": "noor@example.com" }), None).await;
        let member_id = member.body["id"].as_str().unwrap().to_string();

        // Preview first: nothing saved.
        let sale = json!({ "member_id": member_id, "type_id": adult });
        let preview = api.post(&key, "/memberships?preview=true", sale.clone(), None).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
        assert_eq!(preview.body["total"]["amount_minor"], 5900 + 2500, "first month and the initiation fee");
        assert_eq!(api.get(&key, &format!("/members/{member_id}")).await.body["membership_ids"], json!([]));
        let bad_sale = api.post(&key, "/memberships", json!({ "member_id": member_id, "type_id": "nope" }), None).await;
        assert_eq!((bad_sale.status, bad_sale.field()), (StatusCode::BAD_REQUEST, "type_id"));
        for (sale, field) in [
            (json!({ "member_id": member_id, "type_id": adult, "payer": "uncle" }), "payer"),
            (json!({ "member_id": member_id, "type_id": adult, "discount_kind": "huge" }), "discount_kind"),
            (json!({ "member_id": member_id, "type_id": adult, "discount_kind": "percent", "discount_value": "10", "discount_periods": 0 }), "discount_periods"),
            (json!({ "member_id": member_id, "type_id": adult, "location_ids": ["x"] }), "location_ids"),
        ] {
            let refused = api.post(&key, "/memberships?preview=true", sale, None).await;
            assert_eq!((refused.status, refused.field()), (StatusCode::BAD_REQUEST, field), "{}", refused.body);
        }

        let sold = api.post(&key, "/memberships", sale.clone(), Some("sale-noor")).await;
        assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.body);
        let membership = sold.body["id"].as_str().unwrap().to_string();
        assert_eq!(sold.body["status"]["status"], "active");
        assert_eq!(sold.body["holder"], json!({ "kind": "member", "id": member_id, "name": "Noor Haddad", "member_number": member.body["member_number"] }));
        let twice = api.post(&key, "/memberships", sale.clone(), Some("sale-noor")).await;
        assert_eq!(twice.body["id"].as_str(), Some(membership.as_str()));
        assert_eq!(api.get(&key, &format!("/members/{member_id}")).await.body["membership_ids"], json!([membership]));

        // Actions: a preview, a policy refusal (422) with the policy's words, the action.
        let actions = format!("/memberships/{membership}/actions");
        let pause = json!({ "from": "2026-12-01", "until": "2026-12-15", "reason": "travelling" });
        let previewed = api.post(&key, &format!("{actions}/pause?preview=true"), pause.clone(), None).await;
        assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.body);
        assert_eq!((previewed.body["preview"].as_bool(), &previewed.body["membership"]), (Some(true), &Value::Null));
        let no_reason = api.post(&key, &format!("{actions}/pause"), json!({ "from": "2026-12-01", "until": "2026-12-15" }), None).await;
        assert_eq!((no_reason.status, no_reason.field()), (StatusCode::BAD_REQUEST, "reason"), "{}", no_reason.body);
        let too_long = api.post(&key, &format!("{actions}/pause"), json!({ "from": "2026-12-01", "until": "2027-03-01", "reason": "a long trip" }), None).await;
        assert_eq!((too_long.status, too_long.code()), (StatusCode::UNPROCESSABLE_ENTITY, "policy_refused"), "{}", too_long.body);
        assert!(too_long.body["error"]["message"].as_str().unwrap().contains("60"), "{}", too_long.body);
        assert!(!too_long.body["error"]["message"].as_str().unwrap().contains("force"), "a key that may not override is not told to: {}", too_long.body);
        // Overriding takes its own scope, and a reason.
        let forced = json!({ "from": "2026-12-01", "until": "2027-03-01", "reason": "doctor's orders", "force": true });
        let no_scope = api.post(&key, &format!("{actions}/pause?preview=true"), forced.clone(), None).await;
        assert_eq!((no_scope.status, no_scope.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", no_scope.body);
        let overrider = api.key(demo::DEMO_OWNER_EMAIL, &["write_memberships", "override_policy"]).await;
        let told = api.post(&overrider, &format!("{actions}/pause?preview=true"), json!({ "from": "2026-12-01", "until": "2027-03-01", "reason": "a long trip" }), None).await;
        assert_eq!(told.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", told.body);
        assert!(told.body["error"]["message"].as_str().unwrap().contains("\"force\": true"), "{}", told.body);
        let unexplained = api.post(&overrider, &format!("{actions}/pause?preview=true"), json!({ "from": "2026-12-01", "until": "2027-03-01", "force": true }), None).await;
        assert_eq!((unexplained.status, unexplained.field()), (StatusCode::BAD_REQUEST, "reason"), "{}", unexplained.body);
        let overridden = api.post(&overrider, &format!("{actions}/pause?preview=true"), forced, None).await;
        assert_eq!(overridden.status, StatusCode::OK, "{}", overridden.body);
        let paused = api.post(&key, &format!("{actions}/pause"), pause.clone(), Some("pause-noor")).await;
        assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
        assert_eq!(paused.body["membership"]["status"]["status"], "active", "the pause starts on 1 December");
        assert!(paused.body["effect"].as_str().unwrap().contains("2026-12-01"), "{}", paused.body);
        let unknown = api.post(&key, &format!("{actions}/teleport"), json!({}), None).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let bad_date = api.post(&key, &format!("{actions}/pause"), json!({ "from": "1 December" }), None).await;
        assert_eq!((bad_date.status, bad_date.field()), (StatusCode::BAD_REQUEST, "from"));
        // The JSON becomes the same typed command as the staff form: what is
        // missing or out of range is named by its field, nothing is saved.
        for (action, body, field) in [
            ("change_type", json!({}), "type_id"),
            ("change_price", json!({ "price_id": "ten" }), "price_id"),
            ("add_free_period", json!({ "periods": 13, "reason": "sorry" }), "periods"),
            ("change_billing_date", json!({ "reason": "payday" }), "on"),
            ("cancel", json!({ "when": "tomorrow", "reason": "moving" }), "when"),
        ] {
            let refused = api.post(&key, &format!("{actions}/{action}"), body, None).await;
            assert_eq!((refused.status, refused.field()), (StatusCode::BAD_REQUEST, field), "{action}: {}", refused.body);
        }
        let lakeside = api.key(LAKESIDE_OWNER, ALL).await;
        assert_eq!(api.post(&lakeside, &format!("{actions}/pause?preview=true"), pause.clone(), None).await.status, StatusCode::NOT_FOUND);
        let read_only = api.key(demo::DEMO_OWNER_EMAIL, &["read_members"]).await;
        assert_eq!(api.post(&read_only, &format!("{actions}/pause"), pause, None).await.status, StatusCode::FORBIDDEN);
        let read = api.get(&read_only, &format!("/memberships/{membership}")).await;
        assert!(!read.body["status"]["explanation"].as_str().unwrap().is_empty());

        // The first invoice, paid once however often the payment is sent.
        // (The pause is credited on 1 December, the day it begins: nothing
        // is billed for it before.)
        let all = api.get(&key, &format!("/invoices?membership={membership}")).await;
        assert_eq!(all.body["count"], 1, "{}", all.body);
        let invoices = api.get(&key, &format!("/invoices?membership={membership}&status=open")).await;
        assert_eq!(invoices.body["count"], 1, "{}", invoices.body);
        let invoice = invoices.body["results"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(invoices.body["results"][0]["total"]["amount_minor"], 8400);
        assert_eq!(invoices.body["results"][0]["state"], "open");
        let payment = json!({ "method": "bank_transfer", "reference": "SEPA 42" });
        let paid = api.post(&key, &format!("/invoices/{invoice}/payments"), payment.clone(), Some("pay-noor")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        assert_eq!(paid.body["invoice"]["status"], "paid");
        let repeat = api.post(&key, &format!("/invoices/{invoice}/payments"), payment.clone(), Some("pay-noor")).await;
        assert_eq!(repeat.body["payment_id"], paid.body["payment_id"]);
        let read = api.get(&key, &format!("/invoices/{invoice}")).await;
        assert_eq!(read.body["payments"].as_array().unwrap().len(), 1);
        assert_eq!(read.body["amount_due"]["amount_minor"], 0);
        assert_eq!((read.body["state"].as_str(), read.body["refunded"]["amount_minor"].as_i64()), (Some("paid"), Some(0)));
        let bad = api.post(&key, &format!("/invoices/{invoice}/payments"), json!({ "method": "gold", "amount": "1.00" }), None).await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "method"));
        let bad = api.get(&key, "/invoices?billing_date_from=yesterday").await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "billing_date_from"));

        // The feed: numbered 1, 2, 3... with this story in order, each once.
        let events = api.all_events(&key).await;
        let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
        let ours: Vec<&str> = events.iter()
            .filter(|e| {
                let about = (e["subject"].as_str().unwrap(), e["subject_id"].as_str().unwrap_or(""));
                about == ("member", member_id.as_str()) || about == ("membership", membership.as_str()) || about == ("invoice", invoice.as_str())
            })
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        for kind in ["member.created", "membership.sold", "membership.paused", "invoice.paid"] {
            assert_eq!(ours.iter().filter(|k| **k == kind).count(), 1, "{kind} once in {ours:?}");
        }
        assert!(events.iter().all(|e| e["data"].is_object()));
        let last = seqs.last().unwrap();
        let nothing = api.get(&key, &format!("/events?after={last}")).await;
        assert_eq!((nothing.body["results"].as_array().unwrap().len(), nothing.body["last_seq"].as_i64()), (0, Some(*last)));
        let bad = api.get(&key, "/events?after=-1").await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "after"));
        // Another business's feed is its own.
        let theirs = api.all_events(&lakeside).await;
        assert!(theirs.iter().all(|e| !(e["subject"] == "membership" && e["subject_id"] == json!(membership))));
        // A state conflict is 409: a cancelled membership cannot be paused.
        let cancelled = api.post(&key, &format!("{actions}/cancel"), json!({ "when": "immediately", "reason": "moving away" }), None).await;
        let state_conflict = if cancelled.status == StatusCode::OK {
            api.post(&key, &format!("{actions}/pause"), json!({ "from": "2027-01-10", "until": "2027-01-20", "reason": "again" }), None).await
        } else {
            assert_eq!(cancelled.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", cancelled.body);
            api.post(&key, &format!("{actions}/approve"), json!({}), None).await
        };
        assert_eq!((state_conflict.status, state_conflict.code()), (StatusCode::CONFLICT, "conflict"), "{}", state_conflict.body);
    })
    .await;
}

#[tokio::test]
async fn credits_are_read_and_adjusted_and_a_class_is_booked_with_them_and_cancelled_in_time() {
    each_db(|db| async move {
        let api = spawn(db).await;
        let key = api.key(demo::DEMO_OWNER_EMAIL, ALL).await;
        let types = api.get(&key, "/membership-types?purchase_type=prepaid").await;
        let pass = types.body["results"].as_array().unwrap().iter()
            .find(|t| t["name"] == "10-Visit Pass").unwrap()["id"].as_str().unwrap().to_string();
        let member = api.post(&key, "/members", json!({ "first_name": "Ines", "last_name": "Varga" }), None).await;
        let member_id = member.body["id"].as_str().unwrap().to_string();
        let sold = api.post(&key, "/memberships", json!({ "member_id": member_id, "type_id": pass }), None).await;
        assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.body);
        let membership = sold.body["id"].as_str().unwrap().to_string();
        // The scheduler's next minute grants the card's credits.
        backend::jobs::run_daily(&api.services).await.unwrap();
        let credits = format!("/memberships/{membership}/credits");
        let read = api.get(&key, &credits).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        assert_eq!(read.body["balance"], 10, "the card's ten visits");
        assert_eq!(read.body["results"][0]["kind"], "grant");

        // Adjustments: refused below zero with the balance named, needs a description, then applied once.
        let overdraw = api.post(&key, &format!("{credits}/adjustments"), json!({ "amount": -11, "description": "test" }), None).await;
        assert_eq!((overdraw.status, overdraw.code(), overdraw.field()), (StatusCode::CONFLICT, "insufficient_credits", "amount"), "{}", overdraw.body);
        assert!(overdraw.body["error"]["message"].as_str().unwrap().contains("10"), "{}", overdraw.body);
        let undescribed = api.post(&key, &format!("{credits}/adjustments"), json!({ "amount": 2, "description": " " }), None).await;
        assert_eq!((undescribed.status, undescribed.field()), (StatusCode::BAD_REQUEST, "description"), "{}", undescribed.body);
        let zero = api.post(&key, &format!("{credits}/adjustments"), json!({ "amount": 0, "description": "nothing" }), None).await;
        assert_eq!((zero.status, zero.field()), (StatusCode::BAD_REQUEST, "amount"), "{}", zero.body);
        let goodwill = json!({ "amount": 2, "description": "goodwill after the sauna was closed" });
        let added = api.post(&key, &format!("{credits}/adjustments"), goodwill.clone(), Some("goodwill-ines")).await;
        assert_eq!((added.status, added.body["balance"].as_i64()), (StatusCode::CREATED, Some(12)), "{}", added.body);
        let again = api.post(&key, &format!("{credits}/adjustments"), goodwill, Some("goodwill-ines")).await;
        assert_eq!(again.body["balance"], 12, "the repeat adjusts nothing");
        assert_eq!(api.get(&key, &credits).await.body["balance"], 12);
        let adjusts = api.get(&key, &format!("{credits}?kind=adjust")).await;
        assert_eq!(adjusts.body["count"], 1);
        assert_eq!(adjusts.body["results"][0]["reason"], "goodwill after the sauna was closed");

        // Services and a class's availability on Monday 23 November.
        let services = api.get(&key, "/services").await;
        assert_eq!(services.status, StatusCode::OK, "{}", services.body);
        let yoga = services.body["results"].as_array().unwrap().iter().find(|s| s["name"] == "Yoga").unwrap();
        assert_eq!((yoga["price_credits"].as_u64(), yoga["kind"].as_str()), (Some(1), Some("class")));
        let yoga_id = yoga["id"].as_str().unwrap().to_string();
        // Paged in SQL: two at a time, the second page follows the first.
        let all_names: Vec<String> = services.body["results"].as_array().unwrap().iter()
            .map(|s| s["name"].as_str().unwrap().to_string()).collect();
        let first_two = api.get(&key, "/services?page_size=2").await;
        assert_eq!(first_two.body["count"].as_u64(), Some(all_names.len() as u64));
        let next_two = api.get(&key, "/services?page_size=2&page=2").await;
        let paged: Vec<String> = [&first_two, &next_two].iter()
            .flat_map(|a| a.body["results"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect::<Vec<_>>())
            .collect();
        assert_eq!(paged, all_names.iter().take(4).cloned().collect::<Vec<_>>(), "pages of two in the full list's order");
        let slots = api.get(&key, &format!("/services/{yoga_id}/availability?day=2026-11-23")).await;
        assert_eq!(slots.status, StatusCode::OK, "{}", slots.body);
        let slot = &slots.body["slots"][0];
        assert_eq!(slot["starts"], "2026-11-23T18:00:00");
        let places = slot["places_left"].as_u64().unwrap();
        let bad_day = api.get(&key, &format!("/services/{yoga_id}/availability?day=Monday")).await;
        assert_eq!((bad_day.status, bad_day.field()), (StatusCode::BAD_REQUEST, "day"));

        // Book with credits, then cancel inside the window: the credit comes back.
        let booking = json!({ "service_id": yoga_id, "membership_id": membership, "day": "2026-11-23", "time": "18:00", "pay_with": "credits" });
        let booked = api.post(&key, "/bookings", booking.clone(), Some("yoga-ines")).await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
        assert_eq!((booked.body["paid_by"].as_str(), booked.body["credits"].as_i64()), (Some("credits"), Some(1)));
        let booking_id = booked.body["id"].as_str().unwrap().to_string();
        assert_eq!(api.post(&key, "/bookings", booking.clone(), Some("yoga-ines")).await.body["id"].as_str(), Some(booking_id.as_str()));
        assert_eq!(api.get(&key, &credits).await.body["balance"], 11);
        let after = api.get(&key, &format!("/services/{yoga_id}/availability?day=2026-11-23")).await;
        assert_eq!(after.body["slots"][0]["places_left"].as_u64(), Some(places - 1));
        let twice = api.post(&key, "/bookings", booking.clone(), None).await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "the same member in the same class: {}", twice.body);
        let no_slot = api.post(&key, "/bookings", json!({ "service_id": yoga_id, "membership_id": membership, "day": "2026-11-23", "time": "07:00" }), None).await;
        assert_eq!(no_slot.status.as_u16() / 100, 4, "{}", no_slot.body);
        let listed = api.get(&key, &format!("/bookings?membership={membership}&status=booked")).await;
        assert_eq!(listed.body["count"], 1, "{}", listed.body);
        let cancelled = api.post(&key, &format!("/bookings/{booking_id}/cancel"), json!({}), None).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
        assert_eq!(cancelled.body["booking"]["status"], "cancelled");
        assert_eq!(api.get(&key, &credits).await.body["balance"], 12, "the credit came back");
        let cancel_again = api.post(&key, &format!("/bookings/{booking_id}/cancel"), json!({}), None).await;
        assert_eq!(cancel_again.status, StatusCode::CONFLICT, "{}", cancel_again.body);

        // Scopes and other businesses.
        let catalog_only = api.key(demo::DEMO_OWNER_EMAIL, &["read_catalog"]).await;
        assert_eq!(api.get(&catalog_only, &credits).await.status, StatusCode::FORBIDDEN);
        assert_eq!(api.get(&catalog_only, "/bookings").await.status, StatusCode::FORBIDDEN);
        let lakeside = api.key(LAKESIDE_OWNER, ALL).await;
        assert_eq!(api.get(&lakeside, &credits).await.status, StatusCode::NOT_FOUND);
        assert_eq!(api.get(&lakeside, &format!("/bookings/{booking_id}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(api.post(&lakeside, &format!("/bookings/{booking_id}/cancel"), json!({}), None).await.status, StatusCode::NOT_FOUND);
        let theirs = api.post(&lakeside, &format!("{credits}/adjustments"), json!({ "amount": 5, "description": "x" }), None).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert_eq!(api.get(&key, &credits).await.body["balance"], 12);
    })
    .await;
}

#[tokio::test]
async fn organizations_family_members_and_membership_lists() {
    each_db(|db| async move {
        let api = spawn(db).await;
        let key = api.key(demo::DEMO_OWNER_EMAIL, ALL).await;
        // Organizations: create, patch, authorize a member, list and remove.
        let org = api.post(&key, "/organizations", json!({ "name": "Quayside Labs", "email": "office@quayside.example", "max_members": 1 }), Some("org-1")).await;
        assert_eq!(org.status, StatusCode::CREATED, "{}", org.body);
        let org_id = org.body["id"].as_str().unwrap().to_string();
        let nameless = api.post(&key, "/organizations", json!({ "email": "x@example.com" }), None).await;
        assert_eq!((nameless.status, nameless.field()), (StatusCode::BAD_REQUEST, "name"));
        let patched = api.call(Method::PATCH, Some(&key), &format!("/organizations/{org_id}"), Some(json!({ "phone": "+49 30 1234" })), None).await;
        assert_eq!((patched.body["name"].as_str(), patched.body["phone"].as_str()), (Some("Quayside Labs"), Some("+49 30 1234")));
        let a = api.post(&key, "/members", json!({ "first_name": "Ada", "last_name": "Byrne" }), None).await.body["id"].as_str().unwrap().to_string();
        let b = api.post(&key, "/members", json!({ "first_name": "Bo", "last_name": "Byrne" }), None).await.body["id"].as_str().unwrap().to_string();
        let authorized = api.post(&key, &format!("/organizations/{org_id}/members"), json!({ "member_id": a }), None).await;
        assert_eq!(authorized.status, StatusCode::CREATED, "{}", authorized.body);
        let full = api.post(&key, &format!("/organizations/{org_id}/members"), json!({ "member_id": b }), None).await;
        assert_eq!((full.status, full.field()), (StatusCode::BAD_REQUEST, "member_id"), "one member at most: {}", full.body);
        let nobody = api.post(&key, &format!("/organizations/{org_id}/members"), json!({ "member_id": "999999" }), None).await;
        assert_eq!((nobody.status, nobody.field()), (StatusCode::BAD_REQUEST, "member_id"));
        let listed = api.get(&key, &format!("/organizations/{org_id}/members")).await;
        assert_eq!((listed.body["count"].as_i64(), listed.body["results"][0]["member_id"].as_str()), (Some(1), Some(a.as_str())));
        let removed = api.call(Method::DELETE, Some(&key), &format!("/organizations/{org_id}/members/{a}"), None, None).await;
        assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
        assert_eq!(api.get(&key, &format!("/organizations/{org_id}/members")).await.body["count"], 0);
        let orgs = api.get(&key, "/organizations").await;
        assert!(orgs.body["results"].as_array().unwrap().iter().any(|o| o["name"] == "Northwind Design"));
        // Paged in SQL: one per page, in name order, every one reached once.
        let mut names = Vec::new();
        let mut page = api.get(&key, "/organizations?page_size=1").await;
        loop {
            assert_eq!(page.body["count"], orgs.body["count"], "{}", page.body);
            let results = page.body["results"].as_array().unwrap();
            assert_eq!(results.len(), 1, "{}", page.body);
            names.push(results[0]["name"].as_str().unwrap().to_string());
            match page.body["next"].as_str().map(str::to_string) {
                Some(next) => page = api.call(Method::GET, Some(&key), &next, None, None).await,
                None => break,
            }
        }
        assert_eq!(names.len() as i64, orgs.body["count"].as_i64().unwrap());
        let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "each once: {names:?}");
        let lakeside = api.key(LAKESIDE_OWNER, ALL).await;
        assert_eq!(api.get(&lakeside, &format!("/organizations/{org_id}")).await.status, StatusCode::NOT_FOUND);

        // A family membership: add and remove a family member.
        let types = api.get(&key, "/membership-types").await;
        let family_type = types.body["results"].as_array().unwrap().iter()
            .find(|t| t["name"] == "Family Quarterly").unwrap()["id"].as_str().unwrap().to_string();
        let sold = api.post(&key, "/memberships", json!({ "member_id": a, "type_id": family_type }), None).await;
        assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.body);
        let family = format!("/memberships/{}/family-members", sold.body["id"].as_str().unwrap());
        let added = api.post(&key, &family, json!({ "member_id": b }), None).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        assert_eq!((added.body["results"][0]["member_id"].as_str(), added.body["max"].as_u64()), (Some(b.as_str()), Some(4)));
        let twice = api.post(&key, &family, json!({ "member_id": b }), None).await;
        assert_eq!(twice.status.as_u16() / 100, 4, "{}", twice.body);
        // Bo now holds it too: the member filter finds it.
        let bos = api.get(&key, &format!("/memberships?member={b}")).await;
        assert_eq!(bos.body["count"], 1, "{}", bos.body);
        let gone = api.call(Method::DELETE, Some(&key), &format!("{family}/{b}"), None, None).await;
        assert_eq!((gone.status, gone.body["results"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{}", gone.body);

        // Membership lists: filters, pages, bad filters.
        let paused = api.get(&key, "/memberships?status=paused").await;
        assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
        assert!(paused.body["count"].as_i64().unwrap() >= 1, "the demo has a paused membership");
        assert!(paused.body["results"].as_array().unwrap().iter().all(|m| m["status"]["status"] == "paused"));
        let all = api.get(&key, "/memberships?page_size=5").await;
        assert!(all.body["count"].as_i64().unwrap() > 5);
        assert_eq!(all.body["results"].as_array().unwrap().len(), 5);
        // Id cursors: forward through every page, then back again, each
        // membership once and in id order both ways.
        let count = all.body["count"].as_i64().unwrap() as usize;
        let ids = |page: &Value| -> Vec<i64> {
            page["results"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().parse().unwrap()).collect()
        };
        let mut forward = ids(&all.body);
        let mut page = all.body.clone();
        while let Some(next) = page["next"].as_str().map(str::to_string) {
            assert!(next.contains("cursor=a"), "{next}");
            page = api.call(Method::GET, Some(&key), &next, None, None).await.body;
            assert_eq!(page["count"].as_i64().unwrap() as usize, count);
            forward.extend(ids(&page));
        }
        assert_eq!(forward.len(), count);
        assert!(forward.windows(2).all(|w| w[0] < w[1]), "{forward:?}");
        let mut backward = ids(&page);
        while let Some(previous) = page["previous"].as_str().map(str::to_string) {
            page = api.call(Method::GET, Some(&key), &previous, None, None).await.body;
            let mut before = ids(&page);
            assert_eq!(before.len(), 5, "a page before is full");
            before.extend(backward);
            backward = before;
        }
        assert_eq!(backward, forward);
        let bad = api.get(&key, "/memberships?cursor=zz").await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "cursor"));
        let offset_only = api.get(&key, "/organizations?cursor=a1").await;
        assert_eq!((offset_only.status, offset_only.field()), (StatusCode::BAD_REQUEST, "cursor"));
        let of_type = api.get(&key, &format!("/memberships?type={family_type}&active_between=2026-11-01,2026-11-30")).await;
        assert!(of_type.body["results"].as_array().unwrap().iter().all(|m| m["type_name"] == "Family Quarterly"), "{}", of_type.body);
        let bad = api.get(&key, "/memberships?active_between=2026-11-01").await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "active_between"));
        let bad = api.get(&key, "/memberships?status=sleepy").await;
        assert_eq!((bad.status, bad.field()), (StatusCode::BAD_REQUEST, "status"), "{}", bad.body);
        assert_eq!(api.get(&lakeside, &format!("/memberships?member={a}")).await.body["count"], 0);
    })
    .await;
}

#[tokio::test]
async fn public_signup_then_card_charges_refunds_and_credit_notes() {
    each_db(|db| async move {
        let api = spawn(db).await;
        let offer = api.call(Method::GET, None, "/public/locations/harbour-street/membership-types", None, None).await;
        assert_eq!(offer.status, StatusCode::OK, "{}", offer.body);
        assert_eq!(offer.body["business_name"], "Harbour Athletic Club");
        let adult = offer.body["results"].as_array().unwrap().iter()
            .find(|t| t["name"] == "Adult Monthly").unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(api.call(Method::GET, None, "/public/locations/nowhere/membership-types", None, None).await.status, StatusCode::NOT_FOUND);

        let visitor = json!({ "type_id": adult, "first_name": "Rafa", "last_name": "Lind", "email": "rafa.lind@example.com",
                              "card_number": "4242 4242 4242 4242", "card_expiry": "12/30" });
        let signup = "/public/locations/harbour-street/signups";
        let joined = api.call(Method::POST, None, signup, Some(visitor.clone()), Some("join-rafa")).await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
        assert_eq!(joined.body["state"], "active");
        let again = api.call(Method::POST, None, signup, Some(visitor.clone()), Some("join-rafa")).await;
        assert_eq!(again.body["token"], joined.body["token"], "the same signup, nothing made twice");
        let status = api.call(Method::GET, None, &format!("/public/signups/{}", joined.body["token"].as_str().unwrap()), None, None).await;
        assert_eq!(status.body["state"], "active");
        assert_eq!(api.call(Method::GET, None, "/public/signups/nonsense", None, None).await.status, StatusCode::NOT_FOUND);
        let known = api.call(Method::POST, None, signup, Some(visitor.clone()), Some("join-rafa-2")).await;
        assert_eq!((known.status, known.code()), (StatusCode::CONFLICT, "sign_in_required"), "{}", known.body);
        let bad_card = api.call(Method::POST, None, signup, Some(json!({ "type_id": adult, "first_name": "X", "last_name": "Y",
            "email": "x.y@example.com", "card_number": "1234", "card_expiry": "12/30" })), None).await;
        assert_eq!((bad_card.status, bad_card.field()), (StatusCode::BAD_REQUEST, "card_number"), "{}", bad_card.body);
        let declined = api.call(Method::POST, None, signup, Some(json!({ "type_id": adult, "first_name": "Dee", "last_name": "Klein",
            "email": "dee.klein@example.com", "card_number": "4000 0000 0000 0002", "card_expiry": "12/30" })), None).await;
        assert_eq!((declined.status, declined.body["state"].as_str()), (StatusCode::CREATED, Some("payment_failed")), "{}", declined.body);

        // The new member has a card on file: a second membership's invoice is charged to it.
        let key = api.key(demo::DEMO_OWNER_EMAIL, ALL).await;
        let rafa = api.get(&key, "/members?email=rafa.lind@example.com").await.body["results"][0]["id"].as_str().unwrap().to_string();
        let types = api.get(&key, "/membership-types").await;
        let spa = types.body["results"].as_array().unwrap().iter().find(|t| t["name"] == "Spa Monthly").unwrap()["id"].as_str().unwrap().to_string();
        let sold = api.post(&key, "/memberships", json!({ "member_id": rafa, "type_id": spa }), None).await;
        let membership = sold.body["id"].as_str().unwrap().to_string();
        let open = api.get(&key, &format!("/invoices?membership={membership}&status=open")).await;
        let invoice = open.body["results"][0]["id"].as_str().unwrap().to_string();
        let charged = api.post(&key, &format!("/invoices/{invoice}/charge"), json!({}), Some("charge-spa")).await;
        assert_eq!(charged.status, StatusCode::CREATED, "{}", charged.body);
        assert_eq!(charged.body["invoice"]["status"], "paid");
        let replay = api.post(&key, &format!("/invoices/{invoice}/charge"), json!({}), Some("charge-spa")).await;
        assert_eq!(replay.body["payment_id"], charged.body["payment_id"]);
        let nothing_due = api.post(&key, &format!("/invoices/{invoice}/charge"), json!({}), None).await;
        assert_eq!(nothing_due.status, StatusCode::CONFLICT, "{}", nothing_due.body);

        // Refund part of the payment, then a credit note for the rest.
        let payment = charged.body["payment_id"].as_str().unwrap().to_string();
        let no_reason = api.post(&key, &format!("/payments/{payment}/refunds"), json!({ "amount": "10.00", "reason": "" }), None).await;
        assert_eq!((no_reason.status, no_reason.field()), (StatusCode::BAD_REQUEST, "reason"), "{}", no_reason.body);
        let refunded = api.post(&key, &format!("/payments/{payment}/refunds"), json!({ "amount": "10.00", "reason": "sauna closed a week" }), Some("refund-1")).await;
        assert_eq!(refunded.status, StatusCode::CREATED, "{}", refunded.body);
        let read = api.get(&key, &format!("/invoices/{invoice}")).await;
        let refundable = read.body["payments"][0]["refundable"]["amount_minor"].as_i64().unwrap();
        assert_eq!(refundable, read.body["total"]["amount_minor"].as_i64().unwrap() - 1000);
        let too_much = api.post(&key, &format!("/payments/{payment}/refunds"), json!({ "amount": "9999.00", "reason": "oops" }), None).await;
        assert_eq!(too_much.status.as_u16() / 100, 4, "{}", too_much.body);
        let note = api.post(&key, &format!("/invoices/{invoice}/credit-notes"), json!({ "amount": "5.00", "reason": "goodwill" }), Some("note-1")).await;
        assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
        assert_eq!(note.body["total"]["amount_minor"], -500);
        assert_eq!(note.body["credit_note_for"].as_str(), Some(invoice.as_str()));
        let lakeside = api.key(LAKESIDE_OWNER, ALL).await;
        assert_eq!(api.post(&lakeside, &format!("/payments/{payment}/refunds"), json!({ "amount": "1.00", "reason": "x" }), None).await.status, StatusCode::NOT_FOUND);
        assert_eq!(api.post(&lakeside, &format!("/invoices/{invoice}/charge"), json!({}), None).await.status, StatusCode::NOT_FOUND);
        let billing_only = api.key(demo::DEMO_OWNER_EMAIL, &["read_members"]).await;
        assert_eq!(api.post(&billing_only, &format!("/invoices/{invoice}/credit-notes"), json!({ "reason": "x" }), None).await.status, StatusCode::FORBIDDEN);
    })
    .await;
}

/// Every operation of the OpenAPI document, driven by the document itself:
/// no key is 401; a key without the operation's scope is 403; another
/// business's ids are 404; a write's unreadable body is 400 naming the field;
/// a write repeated with its `Idempotency-Key` is replayed and the same key
/// with another body is 409.
#[tokio::test]
async fn every_operation_authenticates_checks_its_scope_hides_other_businesses_and_replays_writes()
{
    each_db(|db| async move {
        let api = spawn(db).await;
        let doc = api
            .call(Method::GET, None, "/openapi.json", None, None)
            .await
            .body;
        let harbour = api.key(demo::DEMO_OWNER_EMAIL, ALL).await;
        let lakeside = api.key(LAKESIDE_OWNER, ALL).await;
        let mut without = std::collections::HashMap::new();
        for scope in ALL {
            let others: Vec<&str> = ALL.iter().copied().filter(|s| s != scope).collect();
            without.insert(*scope, api.key(demo::DEMO_OWNER_EMAIL, &others).await);
        }
        // Bodies a use case accepts, so that only the id can be at fault.
        let valid = |path: &str| -> Option<Value> {
            Some(match path {
                "/members/{id}" | "/organizations/{id}" => json!({ "phone": "+49 30 1" }),
                "/organizations/{id}/members" | "/memberships/{id}/family-members" => {
                    json!({ "member_id": "1" })
                }
                "/memberships/{id}/actions/{action}" => {
                    json!({ "from": "2026-12-01", "until": "2026-12-10", "reason": "x" })
                }
                "/memberships/{id}/credits/adjustments" => {
                    json!({ "amount": 1, "description": "x" })
                }
                "/invoices/{id}/payments" => json!({ "method": "cash", "amount": "1.00" }),
                "/invoices/{id}/credit-notes" | "/payments/{id}/refunds" => {
                    json!({ "amount": "1.00", "reason": "x" })
                }
                _ => return None,
            })
        };
        // Harbour was made first: id 1 of everything is Harbour's.
        let fill = |path: &str| {
            path.replace("{action}", "pause")
                .replace(['{', '}'], "")
                .replace("member_id", "1")
                .replace("/id", "/1")
        };
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let concrete = fill(path);
                let scope = op["security"][0]["api_key"][0].as_str();
                let Some(scope) = scope else {
                    assert!(path.starts_with("/public/"), "{path} needs a key");
                    continue;
                };
                operations += 1;
                let is_write = method != Method::GET;
                let body = is_write.then(|| json!({ "x_unknown": 1 }));
                let none = api
                    .call(method.clone(), None, &concrete, body.clone(), None)
                    .await;
                assert_eq!(
                    none.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without a key"
                );
                let scoped = api
                    .call(
                        method.clone(),
                        Some(&without[scope]),
                        &concrete,
                        body.clone(),
                        None,
                    )
                    .await;
                assert_eq!(
                    scoped.status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} without {scope}: {}",
                    scoped.body
                );
                if path.contains('{') {
                    let theirs = api
                        .call(
                            method.clone(),
                            Some(&lakeside),
                            &concrete,
                            valid(path),
                            None,
                        )
                        .await;
                    assert_eq!(
                        theirs.status,
                        StatusCode::NOT_FOUND,
                        "{method} {path} of another business: {}",
                        theirs.body
                    );
                }
                if !is_write {
                    continue;
                }
                let has_body = op["requestBody"].is_object();
                if has_body {
                    let unreadable = api
                        .call(
                            method.clone(),
                            Some(&harbour),
                            &concrete,
                            body.clone(),
                            None,
                        )
                        .await;
                    assert_eq!(
                        (unreadable.status, unreadable.code()),
                        (StatusCode::BAD_REQUEST, "validation_failed"),
                        "{method} {path}: {}",
                        unreadable.body
                    );
                    assert!(
                        unreadable.body["error"]["message"]
                            .as_str()
                            .unwrap()
                            .contains("x_unknown"),
                        "{method} {path}: {}",
                        unreadable.body
                    );
                }
                let key = format!("every-{operations}");
                let first = api
                    .call(
                        method.clone(),
                        Some(&harbour),
                        &concrete,
                        body.clone(),
                        Some(&key),
                    )
                    .await;
                let again = api
                    .call(
                        method.clone(),
                        Some(&harbour),
                        &concrete,
                        body.clone(),
                        Some(&key),
                    )
                    .await;
                assert_eq!(
                    (again.status, &again.body),
                    (first.status, &first.body),
                    "{method} {path} replayed"
                );
                assert_eq!(
                    again.headers["idempotent-replayed"], "true",
                    "{method} {path}"
                );
                let other = api
                    .call(
                        method.clone(),
                        Some(&harbour),
                        &concrete,
                        Some(json!({ "y_unknown": 2 })),
                        Some(&key),
                    )
                    .await;
                assert_eq!(
                    (other.status, other.code()),
                    (StatusCode::CONFLICT, "idempotency_key_reused"),
                    "{method} {path}"
                );
            }
        }
        assert!(operations >= 30, "{operations} operations with a key");
    })
    .await;
}
