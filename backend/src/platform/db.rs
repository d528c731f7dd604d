//! One set of repository functions for both databases.
//!
//! `Db` holds either pool; `Tx` holds a transaction on either. The `query!`
//! macro runs the same SQL text (with `$1`-style placeholders, which both
//! SQLite and PostgreSQL accept) on whichever database is there, so a
//! repository function is written once and every bind keeps its Rust type.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::platform::error::Error;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either database. Dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Runs one statement on a `&mut Tx`:
/// - `query!(tx, fetch_all as Row, "SELECT ...", a, b)` (also `fetch_one`, `fetch_optional`);
/// - `query!(tx, execute, "UPDATE ...", a, b)` returns the number of rows affected.
#[macro_export]
macro_rules! query {
    ($tx:expr, execute, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::platform::db::Tx::Sqlite(conn) => sqlx::query($sql)$(.bind($arg))*.execute(&mut **conn).await.map(|r| r.rows_affected()),
            $crate::platform::db::Tx::Postgres(conn) => sqlx::query($sql)$(.bind($arg))*.execute(&mut **conn).await.map(|r| r.rows_affected()),
        }
    };
    ($tx:expr, $method:ident as $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::platform::db::Tx::Sqlite(conn) => sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*.$method(&mut **conn).await,
            $crate::platform::db::Tx::Postgres(conn) => sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*.$method(&mut **conn).await,
        }
    };
}

/// The most values one multi-row statement binds (SQLite allows 32,766).
pub const MAX_BINDS: usize = 30_000;

/// Inserts many rows with multi-row `INSERT ... VALUES (...), (...)`
/// statements of at most `MAX_BINDS` values each:
/// `insert_rows!(tx, "INSERT INTO t (a, b) ", rows, 2, |b, row| { b.push_bind(row.a); b.push_bind(&row.b); })`.
/// Returns the number of rows written.
#[macro_export]
macro_rules! insert_rows {
    ($tx:expr, $head:expr, $rows:expr, $per_row:expr, |$b:ident, $row:ident| $body:block) => {{
        let mut written: u64 = 0;
        for chunk in $rows.chunks(($crate::platform::db::MAX_BINDS / $per_row).max(1)) {
            written += match &mut *$tx {
                $crate::platform::db::Tx::Sqlite(conn) => {
                    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new($head);
                    qb.push_values(chunk, |mut $b, $row| $body);
                    qb.build().execute(&mut **conn).await?.rows_affected()
                }
                $crate::platform::db::Tx::Postgres(conn) => {
                    let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new($head);
                    qb.push_values(chunk, |mut $b, $row| $body);
                    qb.build().execute(&mut **conn).await?.rows_affected()
                }
            };
        }
        written
    }};
}

impl Db {
    /// Connects by URL: `sqlite://path/to/file.db` (created if missing) or `postgres://...`.
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL` (a committed payment
    /// survives a power cut), a busy timeout, and foreign keys on.
    pub async fn connect(url: &str) -> Result<Db, Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(Error::internal(format!(
                "DATABASE_URL must start with sqlite: or postgres://, not {url:?}"
            )))
        }
    }

    /// Applies the embedded migrations of this database's kind.
    pub async fn migrate(&self) -> Result<(), Error> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`): a deferred transaction that reads first would
    /// fail with "database is locked" when another writer got in between.
    pub async fn begin_write(&self) -> Result<Tx, Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction that only reads: one consistent snapshot.
    pub async fn begin_read(&self) -> Result<Tx, Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Db {
    /// How many of the migrations this build carries the database has not
    /// applied (for `/readyz`): a server that runs before a migration is
    /// rolled out, or after a failed one, reads a schema it does not know.
    pub async fn pending_migrations(&self) -> Result<usize, Error> {
        let migrator = match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let mut tx = self.begin_read().await?;
        let (exists,) = query!(
            &mut tx,
            fetch_one as (bool,),
            match self {
                Db::Sqlite(_) =>
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                Db::Postgres(_) => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
            }
        )?;
        let applied: std::collections::HashSet<i64> = if exists {
            query!(
                &mut tx,
                fetch_all as (i64,),
                "SELECT version FROM _sqlx_migrations WHERE success"
            )?
            .into_iter()
            .map(|(v,)| v)
            .collect()
        } else {
            Default::default()
        };
        tx.commit().await?;
        Ok(migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .count())
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), Error> {
        let mut tx = self.begin_read().await?;
        query!(&mut tx, fetch_one as (i64,), "SELECT CAST(1 AS BIGINT)")?;
        tx.commit().await
    }
}

/// Makes write transactions that name the same key run one after the other,
/// so a limit counted and then written ("at most N codes per email") holds
/// under concurrency. On PostgreSQL it is a transaction-level advisory lock
/// on the key's hash, released at commit or rollback (a read-then-write at
/// READ COMMITTED would let concurrent requests all see the count below the
/// limit); SQLite's write transactions (`BEGIN IMMEDIATE`) already run one
/// at a time.
pub async fn serialize_on(tx: &mut Tx, key: &str) -> Result<(), Error> {
    use sha2::{Digest, Sha256};
    if let Tx::Postgres(conn) = tx {
        let digest = Sha256::digest(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(i64::from_be_bytes(first))
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

/// Which rows of a list in id order: `limit` rows from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}

/// Where a page of a list in id order starts: an offset (a page number), or
/// just after or just before a row's id (a cursor: constant time at any
/// depth, and right while rows are added).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seek {
    Offset(i64),
    After(i64),
    Before(i64),
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_prefix(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
