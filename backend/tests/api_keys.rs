//! API keys, idempotent writes and the events feed, on SQLite and (with
//! TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::api_keys::{self, Replay};
use backend::platform::events;
use backend::testing::each_db;
use backend::{Clock, Error, Services};
use chrono::TimeDelta;
use domain::api_keys::{ApiKeyForm, Scope};
use domain::staff::Role;

fn later(s: &Services, by: TimeDelta) -> Services {
    Services {
        clock: Clock::fixed(s.clock.now() + by),
        ..s.clone()
    }
}

#[tokio::test]
async fn an_idempotency_key_runs_once_replays_refuses_other_requests_and_expires() {
    each_db(|db| async move {
        let c = support::club(db).await;
        let (s, b) = (&c.s, c.owner.business_id);
        assert_eq!(
            api_keys::begin_idempotent(s, b, "k1", "fp-a")
                .await
                .unwrap(),
            Replay::Run
        );
        // Still running: a repeat waits; another request with the key is refused.
        assert_eq!(
            api_keys::begin_idempotent(s, b, "k1", "fp-a")
                .await
                .unwrap(),
            Replay::InProgress
        );
        assert_eq!(
            api_keys::begin_idempotent(s, b, "k1", "fp-b")
                .await
                .unwrap(),
            Replay::OtherRequest
        );
        api_keys::finish_idempotent(s, b, "k1", 201, "{\"id\":\"7\"}")
            .await
            .unwrap();
        assert_eq!(
            api_keys::begin_idempotent(s, b, "k1", "fp-a")
                .await
                .unwrap(),
            Replay::Answer {
                status: 201,
                body: "{\"id\":\"7\"}".into()
            }
        );
        // Kept 48 hours, then the key is free again.
        let two_days = later(s, TimeDelta::hours(49));
        assert_eq!(
            api_keys::begin_idempotent(&two_days, b, "k1", "fp-b")
                .await
                .unwrap(),
            Replay::Run
        );

        // A failure of ours frees the key; a first try that died is run again after two minutes.
        assert_eq!(
            api_keys::begin_idempotent(s, b, "k2", "fp").await.unwrap(),
            Replay::Run
        );
        api_keys::abandon_idempotent(s, b, "k2").await.unwrap();
        assert_eq!(
            api_keys::begin_idempotent(s, b, "k2", "fp").await.unwrap(),
            Replay::Run
        );
        let soon = later(s, TimeDelta::minutes(1));
        assert_eq!(
            api_keys::begin_idempotent(&soon, b, "k2", "fp")
                .await
                .unwrap(),
            Replay::InProgress
        );
        let stale = later(s, TimeDelta::minutes(3));
        assert_eq!(
            api_keys::begin_idempotent(&stale, b, "k2", "fp")
                .await
                .unwrap(),
            Replay::Run
        );
    })
    .await;
}

#[tokio::test]
async fn owners_make_keys_that_authenticate_until_revoked() {
    each_db(|db| async move {
        let c = support::club(db).await;
        let s = &c.s;
        let form = |scopes: &[&str]| ApiKeyForm {
            name: "Door".into(),
            scopes: scopes.iter().map(|x| x.to_string()).collect(),
        };
        let manager = c.owner.with_role(Role::Manager);
        assert!(matches!(
            api_keys::create(s, &manager, &form(&["billing"])).await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            api_keys::create(s, &c.owner, &form(&[])).await,
            Err(Error::Invalid(_))
        ));
        assert!(
            api_keys::list(s, &c.owner).await.unwrap().is_empty(),
            "nothing made by refused forms"
        );

        let made = api_keys::create(s, &c.owner, &form(&["billing"]))
            .await
            .unwrap();
        assert!(made.secret.starts_with("tsk_"));
        assert!(!made.key.prefix.is_empty() && made.secret.starts_with(&made.key.prefix));
        let client = api_keys::authenticate(s, &made.secret).await.unwrap();
        assert_eq!(
            (client.actor.business_id, client.scopes.clone()),
            (c.owner.business_id, vec![Scope::Billing])
        );
        assert!(client.require(Scope::Billing).is_ok());
        assert!(matches!(
            client.require(Scope::Credits),
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            api_keys::authenticate(s, "tsk_wrong").await,
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(
            api_keys::authenticate(s, "not-a-key").await,
            Err(Error::Unauthenticated)
        ));
        // Only the hash is stored.
        let listed = api_keys::list(s, &c.owner).await.unwrap();
        assert!(listed[0].last_used_at.is_some());
        let revoked = api_keys::revoke(s, &c.owner, made.key.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(matches!(
            api_keys::authenticate(s, &made.secret).await,
            Err(Error::Unauthenticated)
        ));
        assert!(
            api_keys::revoke(s, &c.owner, made.key.id)
                .await
                .unwrap()
                .revoked_at
                .is_some(),
            "twice is harmless"
        );
    })
    .await;
}

#[tokio::test]
async fn the_feed_numbers_events_per_business_in_order_and_leaves_out_internal_ones() {
    each_db(|db| async move {
        let c = support::club(db).await;
        let s = &c.s;
        let before = events::after(s, &c.owner, 0, 500).await.unwrap();
        let start = before.last_seq;
        assert!(
            before
                .events
                .iter()
                .all(|e| !e.kind.starts_with("staff.") && !e.kind.starts_with("api_key."))
        );
        let mut tx = s.db.begin_write().await.unwrap();
        for n in 0..3 {
            events::emit(
                &mut tx,
                c.owner.business_id,
                "test.thing",
                "thing",
                Some(n),
                &serde_json::json!(n),
                s.clock.now(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        // An API key's making is audited but is not a business event.
        api_keys::create(
            s,
            &c.owner,
            &ApiKeyForm {
                name: "x".into(),
                scopes: vec!["billing".into()],
            },
        )
        .await
        .unwrap();
        let page = events::after(s, &c.owner, start, 2).await.unwrap();
        assert_eq!(
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![start + 1, start + 2]
        );
        assert!(page.has_more);
        assert_eq!(
            page.events[0].data,
            serde_json::json!({ "value": 0 }),
            "data is always an object"
        );
        let rest = events::after(s, &c.owner, page.last_seq, 500)
            .await
            .unwrap();
        assert_eq!(
            (rest.events.len(), rest.has_more, rest.last_seq),
            (1, false, start + 3)
        );
        let none = events::after(s, &c.owner, rest.last_seq, 500)
            .await
            .unwrap();
        assert_eq!((none.events.len(), none.last_seq), (0, start + 3));
    })
    .await;
}
