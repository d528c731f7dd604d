//! Fresh databases for tests: one SQLite file per test, and, when
//! `TEST_POSTGRES_URL` is set, one PostgreSQL database per test, created from
//! that server and dropped afterwards.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, Executor, PgConnection};

use crate::platform::db::Db;

/// A database made for one test. Keep it alive for the test's length.
pub struct TestDb {
    pub db: Db,
    /// Where it is: a second pool on it is a second server.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Db::connect(&url).await.expect("SQLite opens");
        db.migrate().await.expect("SQLite migrations apply");
        TestDb {
            db,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A new PostgreSQL database on the server of `TEST_POSTGRES_URL`, or `None` when it is not set.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "tessera_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("TEST_POSTGRES_URL is reachable");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("a test database can be created");
        admin.close().await.ok();
        let url = replace_database(&admin_url, &name);
        let db = Db::connect(&url).await.expect("the test database opens");
        db.migrate().await.expect("PostgreSQL migrations apply");
        Some(TestDb {
            db,
            url,
            _dir: None,
            pg: Some((admin_url, name)),
        })
    }

    /// Another pool on the same database, as a second server has.
    pub async fn connect_again(&self) -> Db {
        Db::connect(&self.url)
            .await
            .expect("the test database opens again")
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.db.close().await;
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut admin) = PgConnection::connect(admin_url).await
        {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
            admin.close().await.ok();
        }
    }
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Runs one test body on SQLite, then on PostgreSQL when `TEST_POSTGRES_URL` is set
/// (saying so on stderr when it is not).
pub async fn each_db<F, Fut>(body: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite = TestDb::sqlite().await;
    body(sqlite.db.clone()).await;
    sqlite.finish().await;
    match TestDb::postgres().await {
        Some(pg) => {
            body(pg.db.clone()).await;
            pg.finish().await;
        }
        None => eprintln!("PostgreSQL part skipped: TEST_POSTGRES_URL is not set"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u@h:5432", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u@h/db?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
    }
}
