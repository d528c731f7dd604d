//! How many memberships a business has by stored status and type, kept by
//! database triggers (migration 0029) as appended changes and folded into
//! one row per status and type by `compact`: a list's total without a count
//! over every membership.

use super::*;

/// How many memberships of the business have this status and type (either
/// or both left open): the sum of the folded counts and the changes since.
pub(crate) async fn counted(
    tx: &mut Tx,
    business_id: i64,
    status: Option<Status>,
    type_id: Option<i64>,
) -> Result<i64, Error> {
    let mut conditions = String::new();
    if status.is_some() {
        conditions.push_str(" AND status = $2");
    }
    if type_id.is_some() {
        conditions.push_str(if status.is_some() {
            " AND type_id = $3"
        } else {
            " AND type_id = $2"
        });
    }
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM (
            SELECT n FROM membership_counts WHERE business_id = $1{conditions}
            UNION ALL
            SELECT n FROM membership_count_changes WHERE business_id = $1{conditions}
         ) AS c"
    );
    let sql = sqlx::AssertSqlSafe(sql);
    let status = status.map(|s| s.as_str());
    let (n,) = match (status, type_id) {
        (Some(s), Some(t)) => query!(tx, fetch_one as (i64,), sql, business_id, s, t)?,
        (Some(s), None) => query!(tx, fetch_one as (i64,), sql, business_id, s)?,
        (None, Some(t)) => query!(tx, fetch_one as (i64,), sql, business_id, t)?,
        (None, None) => query!(tx, fetch_one as (i64,), sql, business_id)?,
    };
    Ok(n)
}

/// Folds the business's appended count changes into its counts. On
/// PostgreSQL one statement moves the rows (the changes it deletes are the
/// ones it adds, whatever commits meanwhile); SQLite runs one writer at a
/// time.
pub(crate) async fn compact(db: &crate::platform::db::Db, business_id: i64) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    match &mut tx {
        Tx::Postgres(_) => {
            query!(&mut tx, execute,
                "WITH moved AS (DELETE FROM membership_count_changes WHERE business_id = $1 RETURNING status, type_id, n)
                 INSERT INTO membership_counts (business_id, status, type_id, n)
                 SELECT $1, status, type_id, SUM(n) FROM moved GROUP BY status, type_id
                 ON CONFLICT (business_id, status, type_id) DO UPDATE SET n = membership_counts.n + excluded.n",
                business_id)?;
        }
        Tx::Sqlite(_) => {
            query!(&mut tx, execute,
                "INSERT INTO membership_counts (business_id, status, type_id, n)
                 SELECT business_id, status, type_id, SUM(n) FROM membership_count_changes
                  WHERE business_id = $1 GROUP BY business_id, status, type_id
                 ON CONFLICT (business_id, status, type_id) DO UPDATE SET n = membership_counts.n + excluded.n",
                business_id)?;
            query!(
                &mut tx,
                execute,
                "DELETE FROM membership_count_changes WHERE business_id = $1",
                business_id
            )?;
        }
    }
    query!(
        &mut tx,
        execute,
        "DELETE FROM membership_counts WHERE business_id = $1 AND n = 0",
        business_id
    )?;
    tx.commit().await?;
    Ok(())
}

/// The kept counts that differ from a count of the rows: (status, type,
/// kept, counted). Empty when they agree.
pub(crate) async fn differences(
    tx: &mut Tx,
    business_id: i64,
) -> Result<Vec<(String, i64, i64, i64)>, Error> {
    let kept = query!(
        tx,
        fetch_all as (String, i64, i64),
        "SELECT status, type_id, CAST(SUM(n) AS BIGINT) FROM (
            SELECT status, type_id, n FROM membership_counts WHERE business_id = $1
            UNION ALL
            SELECT status, type_id, n FROM membership_count_changes WHERE business_id = $1
         ) AS c GROUP BY status, type_id",
        business_id
    )?;
    let counted = query!(
        tx,
        fetch_all as (String, i64, i64),
        "SELECT status, current_type_id, COUNT(*) FROM memberships WHERE business_id = $1
          GROUP BY status, current_type_id",
        business_id
    )?;
    let mut all: HashMap<(String, i64), (i64, i64)> = HashMap::new();
    for (status, type_id, n) in kept {
        all.entry((status, type_id)).or_default().0 = n;
    }
    for (status, type_id, n) in counted {
        all.entry((status, type_id)).or_default().1 = n;
    }
    let mut found: Vec<_> = all
        .into_iter()
        .filter(|(_, (kept, counted))| kept != counted)
        .map(|((status, type_id), (kept, counted))| (status, type_id, kept, counted))
        .collect();
    found.sort();
    Ok(found)
}
