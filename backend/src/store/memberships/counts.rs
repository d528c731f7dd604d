//! How many memberships a business has by stored status and type, and how
//! many members by status, kept by database triggers (migrations 0029 and
//! 0030) as appended changes and folded into one row per key by `compact`:
//! a list's total without a count over every row.

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

/// How many members of the business have this status (any, when `None`):
/// the sum of the folded counts and the changes since.
pub(crate) async fn members_counted(
    tx: &mut Tx,
    business_id: i64,
    status: Option<&str>,
) -> Result<i64, Error> {
    let (n,) = match status {
        Some(status) => query!(
            tx,
            fetch_one as (i64,),
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM (
                SELECT n FROM member_counts WHERE business_id = $1 AND status = $2
                UNION ALL
                SELECT n FROM member_count_changes WHERE business_id = $1 AND status = $2
             ) AS c",
            business_id,
            status
        )?,
        None => query!(
            tx,
            fetch_one as (i64,),
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM (
                SELECT n FROM member_counts WHERE business_id = $1
                UNION ALL
                SELECT n FROM member_count_changes WHERE business_id = $1
             ) AS c",
            business_id
        )?,
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
            query!(&mut tx, execute,
                "WITH moved AS (DELETE FROM member_count_changes WHERE business_id = $1 RETURNING status, n)
                 INSERT INTO member_counts (business_id, status, n)
                 SELECT $1, status, SUM(n) FROM moved GROUP BY status
                 ON CONFLICT (business_id, status) DO UPDATE SET n = member_counts.n + excluded.n",
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
            query!(
                &mut tx,
                execute,
                "INSERT INTO member_counts (business_id, status, n)
                 SELECT business_id, status, SUM(n) FROM member_count_changes
                  WHERE business_id = $1 GROUP BY business_id, status
                 ON CONFLICT (business_id, status) DO UPDATE SET n = member_counts.n + excluded.n",
                business_id
            )?;
            query!(
                &mut tx,
                execute,
                "DELETE FROM member_count_changes WHERE business_id = $1",
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
    query!(
        &mut tx,
        execute,
        "DELETE FROM member_counts WHERE business_id = $1 AND n = 0",
        business_id
    )?;
    tx.commit().await?;
    Ok(())
}

/// Each kept count that differs from a count of the rows, for people.
/// Empty when they agree.
pub(crate) async fn differences(tx: &mut Tx, business_id: i64) -> Result<Vec<String>, Error> {
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
    let mut found: Vec<String> = disagreeing(kept, counted)
        .into_iter()
        .map(|((status, type_id), kept, counted)| {
            format!("the kept count of {status} memberships of type {type_id} is {kept}, but {counted} are stored")
        })
        .collect();
    let kept = query!(
        tx,
        fetch_all as (String, i64, i64),
        "SELECT status, CAST(0 AS BIGINT), CAST(SUM(n) AS BIGINT) FROM (
            SELECT status, n FROM member_counts WHERE business_id = $1
            UNION ALL
            SELECT status, n FROM member_count_changes WHERE business_id = $1
         ) AS c GROUP BY status",
        business_id
    )?;
    let counted = query!(
        tx,
        fetch_all as (String, i64, i64),
        "SELECT status, CAST(0 AS BIGINT), COUNT(*) FROM members WHERE business_id = $1 GROUP BY status",
        business_id
    )?;
    found.extend(
        disagreeing(kept, counted)
            .into_iter()
            .map(|((status, _), kept, counted)| {
                format!("the kept count of {status} members is {kept}, but {counted} are stored")
            }),
    );
    Ok(found)
}

/// The keys whose kept and counted numbers differ (a key missing on one
/// side counts 0 there), in key order.
fn disagreeing(
    kept: Vec<(String, i64, i64)>,
    counted: Vec<(String, i64, i64)>,
) -> Vec<((String, i64), i64, i64)> {
    let mut all: HashMap<(String, i64), (i64, i64)> = HashMap::new();
    for (status, key, n) in kept {
        all.entry((status, key)).or_default().0 = n;
    }
    for (status, key, n) in counted {
        all.entry((status, key)).or_default().1 = n;
    }
    let mut found: Vec<_> = all
        .into_iter()
        .filter(|(_, (kept, counted))| kept != counted)
        .map(|(key, (kept, counted))| (key, kept, counted))
        .collect();
    found.sort();
    found
}
