//! Members: create, edit, archive, find.
//!
//! Search runs on lower-cased copies of the names and email and on the phone's
//! digits, each indexed with the business id: a prefix search is an index
//! range `[prefix, prefix + U+10FFFF)` on both databases, never a scan.

use chrono::NaiveDate;
use domain::members::{
    MemberContext, MemberDetails, MemberForm, MemberSearch, MemberStatus, MemberSummary, MemberView,
};
use domain::paging::{self, Listed};
use domain::staff::Role;

use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::{Seek, Tx};
pub use crate::platform::db::{Window, like_prefix};
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::{Services, query};

mod merge;
pub use merge::merge_members;

/// The most rows one search returns; the page says when there may be more.
pub const SEARCH_LIMIT: i64 = 50;

/// Runs `sql` binding the business id ($1), then each of `texts`, then the
/// integers of `[...]`: for SQL that writes only the conditions asked for.
macro_rules! with_texts {
    ($tx:expr, $method:ident as $ty:ty, $sql:expr, $business_id:expr, $texts:expr, [$($tail:expr),*]) => {
        match $tx {
            Tx::Sqlite(conn) => {
                let mut q = sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe($sql.to_string())).bind($business_id);
                for text in $texts {
                    q = q.bind(text.as_str());
                }
                q$(.bind($tail))*.$method(&mut **conn).await
            }
            Tx::Postgres(conn) => {
                let mut q = sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe($sql.to_string())).bind($business_id);
                for text in $texts {
                    q = q.bind(text.as_str());
                }
                q$(.bind($tail))*.$method(&mut **conn).await
            }
        }
    };
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: i64,
    member_number: i64,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    date_of_birth: Option<NaiveDate>,
    member_type: Option<String>,
    home_location_id: Option<i64>,
    notes: String,
    marketing_consent: bool,
    status: String,
    merged_into: Option<i64>,
}

const MEMBER_COLUMNS: &str = "id, member_number, first_name, last_name, email, phone, date_of_birth, member_type, home_location_id, notes, marketing_consent, status, merged_into";

impl MemberRow {
    fn status(&self) -> Result<MemberStatus, Error> {
        MemberStatus::parse(&self.status)
            .ok_or_else(|| Error::internal(format!("unknown member status {:?}", self.status)))
    }

    fn summary(self) -> Result<MemberSummary, Error> {
        Ok(MemberSummary {
            status: self.status()?,
            id: self.id,
            member_number: self.member_number,
            name: format!("{} {}", self.first_name, self.last_name),
            email: self.email,
            phone: self.phone,
            member_type: self.member_type,
            membership: None,
        })
    }

    fn details(&self) -> MemberDetails {
        MemberDetails {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            date_of_birth: self.date_of_birth,
            member_type: self.member_type.clone(),
            home_location_id: self.home_location_id,
            notes: self.notes.clone(),
            marketing_consent: self.marketing_consent,
        }
    }
}

/// A name search: three index ranges (first name, last name, email), each
/// cut at the limit in its own order, joined by UNION, so that each part is
/// answered by its own index on both databases and none reads more than the
/// limit however common the prefix. A second word must start the first or
/// the last name (checked on the rows of each range); with one, the email
/// range is left out: "grace hop" is a name, and the emails starting
/// "grace" run through every Grace's surname in order (35,000 rows read
/// before the Hoppers at 1,000,000 members).
/// Parameters: business id, prefix, prefix end, limit, second word's LIKE
/// pattern (empty: none).
pub fn name_search_sql(second_word: bool) -> String {
    let part = |column: &str| {
        format!(
            "SELECT * FROM (SELECT {MEMBER_COLUMNS}, first_name_lc, last_name_lc FROM members
              WHERE business_id = $1 AND {column} >= $2 AND {column} < $3
                AND ($5 = '' OR first_name_lc LIKE $5 ESCAPE '\\' OR last_name_lc LIKE $5 ESCAPE '\\')
              ORDER BY {column}, id LIMIT $4) AS by_{column}"
        )
    };
    let email = if second_word {
        String::new()
    } else {
        format!(" UNION {}", part("email_lc"))
    };
    format!(
        "SELECT {MEMBER_COLUMNS} FROM ({} UNION {}{email}) AS found ORDER BY last_name_lc, first_name_lc, id LIMIT $4",
        part("first_name_lc"),
        part("last_name_lc"),
    )
}

/// A number search: the member number, the start of a phone number and
/// (four digits or more) its end, each an index lookup cut at the limit.
/// Parameters: business id, number, digits, digits' range end, limit, last
/// four digits (empty: no end search), the digits' LIKE-suffix pattern.
fn number_search_sql() -> String {
    format!(
        "SELECT {MEMBER_COLUMNS} FROM (
            SELECT {MEMBER_COLUMNS} FROM members WHERE business_id = $1 AND member_number = $2
            UNION SELECT * FROM (SELECT {MEMBER_COLUMNS} FROM members
              WHERE business_id = $1 AND phone_digits >= $3 AND phone_digits < $4
              ORDER BY phone_digits, id LIMIT $5) AS by_start
            UNION SELECT * FROM (SELECT {MEMBER_COLUMNS} FROM members
              WHERE business_id = $1 AND phone_end = $6 AND $6 <> '' AND phone_digits LIKE $7
              ORDER BY id LIMIT $5) AS by_end
         ) AS found ORDER BY member_number LIMIT $5"
    )
}

/// The upper end of a prefix range: every string that starts with `prefix` sorts below it.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

pub(crate) async fn context(
    tx: &mut Tx,
    business: &Business,
    today: NaiveDate,
) -> Result<MemberContext, Error> {
    Ok(MemberContext {
        member_types: crate::store::business::member_types(tx, business.id).await?,
        location_ids: crate::store::business::locations(tx, business.id)
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect(),
        today,
    })
}

/// Finds members by the search box's text (name, email, phone or member number).
/// Archived members are left out unless `include_archived`.
pub async fn search_members(
    services: &Services,
    actor: &Actor,
    text: &str,
    include_archived: bool,
) -> Result<Vec<MemberSummary>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let b = actor.business_id;
    let select = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE business_id = $1");
    let rows: Vec<MemberRow> = match MemberSearch::parse(text) {
        MemberSearch::All => {
            let sql = format!("{select} ORDER BY last_name_lc, first_name_lc, id LIMIT $2");
            query!(
                &mut tx,
                fetch_all as MemberRow,
                sqlx::AssertSqlSafe(sql),
                b,
                SEARCH_LIMIT * 4
            )?
        }
        MemberSearch::Number(n, digits) => {
            // A member number, the start of a phone number, or (four digits
            // or more) its end: "4512" finds +49 30 555 4512.
            let (end, suffix) = if digits.len() >= 4 {
                (domain::members::phone_end(&digits), format!("%{digits}"))
            } else {
                (String::new(), String::new())
            };
            query!(
                &mut tx,
                fetch_all as MemberRow,
                sqlx::AssertSqlSafe(number_search_sql()),
                b,
                n,
                &digits,
                prefix_end(&digits),
                SEARCH_LIMIT,
                &end,
                &suffix
            )?
        }
        MemberSearch::Email(prefix) => {
            prefix_range(&mut tx, &select, "email_lc", b, &prefix).await?
        }
        MemberSearch::Phone(digits) => {
            prefix_range(&mut tx, &select, "phone_digits", b, &digits).await?
        }
        MemberSearch::Name(words) => {
            // The first word narrows by index (first name, last name or the
            // start of the email), the second filters those ranges; any
            // further words filter the rows found.
            let first = words[0].clone();
            let second = words.get(1).map(|w| like_prefix(w)).unwrap_or_default();
            let rows = query!(
                &mut tx,
                fetch_all as MemberRow,
                sqlx::AssertSqlSafe(name_search_sql(words.len() > 1)),
                b,
                &first,
                prefix_end(&first),
                SEARCH_LIMIT * 4,
                &second
            )?;
            rows.into_iter()
                .filter(|r| {
                    let (f, l) = (r.first_name.to_lowercase(), r.last_name.to_lowercase());
                    words[1..]
                        .iter()
                        .all(|w| f.starts_with(w.as_str()) || l.starts_with(w.as_str()))
                })
                .collect()
        }
    };
    let mut found: Vec<MemberSummary> = rows
        .into_iter()
        .filter(|r| include_archived || r.status != MemberStatus::Archived.as_str())
        .take(SEARCH_LIMIT as usize)
        .map(MemberRow::summary)
        .collect::<Result<_, _>>()?;
    with_standings(services, &mut tx, b, &mut found).await?;
    tx.commit().await?;
    Ok(found)
}

/// The desk sees where each member's memberships really stand.
async fn with_standings(
    services: &Services,
    tx: &mut Tx,
    business_id: i64,
    found: &mut [MemberSummary],
) -> Result<(), Error> {
    let business = crate::store::business::load(tx, business_id).await?;
    let today = services.today(&business);
    let ids: Vec<i64> = found.iter().map(|m| m.id).collect();
    let mut standings = crate::engine::lifecycle::standings(tx, &business, &ids, today).await?;
    for m in found {
        m.membership = standings.remove(&m.id);
    }
    Ok(())
}

/// A page (`page` as typed, empty for the first) of all the business's
/// members by name (archived ones left out unless `include_archived`), with
/// how many there are: the members page when nothing is searched for.
pub async fn list_members(
    services: &Services,
    actor: &Actor,
    include_archived: bool,
    page: &str,
) -> Result<Listed<MemberSummary>, Error> {
    actor.require(Role::Viewer)?;
    let page = paging::page_number(page).map_err(|m| Error::invalid("page", m))?;
    let b = actor.business_id;
    let archived = if include_archived {
        ""
    } else {
        " AND status <> 'archived'"
    };
    let mut tx = services.db.begin_read().await?;
    let total = if include_archived {
        crate::store::memberships::members_counted(&mut tx, b, None).await?
    } else {
        crate::store::memberships::members_counted(&mut tx, b, Some("active")).await?
    };
    let rows = query!(
        &mut tx,
        fetch_all as MemberRow,
        sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE business_id = $1{archived}
              ORDER BY last_name_lc, first_name_lc, id LIMIT $2 OFFSET $3"
        )),
        b,
        paging::PER_PAGE,
        paging::offset_of(page, paging::PER_PAGE)
    )?;
    let mut found: Vec<MemberSummary> = rows
        .into_iter()
        .map(MemberRow::summary)
        .collect::<Result<_, _>>()?;
    with_standings(services, &mut tx, b, &mut found).await?;
    tx.commit().await?;
    Ok(Listed {
        rows: found,
        total,
        page,
        per_page: paging::PER_PAGE,
    })
}

/// The members whose `column` starts with `prefix`: one index range.
async fn prefix_range(
    tx: &mut Tx,
    select: &str,
    column: &str,
    business_id: i64,
    prefix: &str,
) -> Result<Vec<MemberRow>, Error> {
    let sql =
        format!("{select} AND {column} >= $2 AND {column} < $3 ORDER BY {column}, id LIMIT $4");
    Ok(query!(
        tx,
        fetch_all as MemberRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        prefix,
        prefix_end(prefix),
        SEARCH_LIMIT
    )?)
}

async fn load(tx: &mut Tx, business_id: i64, id: i64) -> Result<MemberRow, Error> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE business_id = $1 AND id = $2");
    query!(
        tx,
        fetch_optional as MemberRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        id
    )?
    .ok_or(Error::NotFound)
}

/// A member's number and details (the portal's profile reads them).
pub(crate) async fn details_of(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<(i64, MemberDetails), Error> {
    let row = load(tx, business_id, id).await?;
    Ok((row.member_number, row.details()))
}

/// Saves validated details over a member's (with the lower-cased search columns).
pub(crate) async fn write_details(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
    d: &MemberDetails,
) -> Result<(), Error> {
    query!(tx, execute,
        "UPDATE members SET first_name = $1, last_name = $2, email = $3, phone = $4, date_of_birth = $5, member_type = $6,
                home_location_id = $7, notes = $8, marketing_consent = $9, first_name_lc = $10, last_name_lc = $11,
                email_lc = $12, phone_digits = $13, phone_end = $14
          WHERE id = $15 AND business_id = $16",
        &d.first_name, &d.last_name, &d.email, &d.phone, d.date_of_birth, d.member_type.as_deref(), d.home_location_id, &d.notes,
        d.marketing_consent, d.first_name.to_lowercase(), d.last_name.to_lowercase(), &d.email, d.phone_digits(), d.phone_end(),
        id, business_id)?;
    Ok(())
}

/// The member's page as it stands inside `tx`.
async fn current_view(
    tx: &mut Tx,
    services: &Services,
    business: &crate::store::business::Business,
    id: i64,
) -> Result<MemberView, Error> {
    let row = load(tx, business.id, id).await?;
    view(tx, business, row, services.today(business), 1).await
}

/// The member's page, with page `memberships_page` of their memberships.
async fn view(
    tx: &mut Tx,
    business: &crate::store::business::Business,
    row: MemberRow,
    today: NaiveDate,
    memberships_page: i64,
) -> Result<MemberView, Error> {
    let business_id = business.id;
    let home_location_name = match row.home_location_id {
        Some(id) => query!(
            tx,
            fetch_optional as (String,),
            "SELECT name FROM locations WHERE id = $1 AND business_id = $2",
            id,
            business_id
        )?
        .map(|(n,)| n),
        None => None,
    };
    let memberships = crate::engine::lifecycle::held_by(
        tx,
        business,
        crate::store::memberships::HolderRef::Member(row.id),
        today,
        memberships_page,
    )
    .await?;
    let merged_into = match row.merged_into {
        Some(id) => query!(
            tx,
            fetch_optional as (i64, i64),
            "SELECT id, member_number FROM members WHERE business_id = $1 AND id = $2",
            business_id,
            id
        )?,
        None => None,
    };
    let organizations = query!(tx, fetch_all as (i64, String),
        "SELECT o.id, o.name FROM organization_members om JOIN organizations o ON o.id = om.organization_id
          WHERE om.business_id = $1 AND om.member_id = $2 AND om.removed_at IS NULL AND o.deleted_at IS NULL ORDER BY o.name",
        business_id, row.id)?;
    Ok(MemberView {
        organizations,
        merged_into,
        id: row.id,
        member_number: row.member_number,
        status: row.status()?,
        details: row.details(),
        home_location_name,
        memberships,
    })
}

pub async fn member(services: &Services, actor: &Actor, id: i64) -> Result<MemberView, Error> {
    member_page(services, actor, id, 1).await
}

/// A member, with page `memberships_page` (from 1) of their memberships.
pub async fn member_page(
    services: &Services,
    actor: &Actor,
    id: i64,
    memberships_page: i64,
) -> Result<MemberView, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let row = load(&mut tx, business.id, id).await?;
    let view = view(
        &mut tx,
        &business,
        row,
        services.today(&business),
        memberships_page,
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// Inserts a validated member with the business's next member number.
pub async fn insert_member(
    tx: &mut Tx,
    business_id: i64,
    d: &MemberDetails,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(i64, i64), Error> {
    let (number,) = query!(
        tx,
        fetch_one as (i64,),
        "UPDATE businesses SET next_member_number = next_member_number + 1 WHERE id = $1 RETURNING next_member_number - 1",
        business_id
    )?;
    let (id,) = query!(tx, fetch_one as (i64,),
        "INSERT INTO members (business_id, member_number, first_name, last_name, email, phone, date_of_birth, member_type,
                              home_location_id, notes, marketing_consent, status, first_name_lc, last_name_lc, email_lc, phone_digits, phone_end, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
        business_id, number, &d.first_name, &d.last_name, &d.email, &d.phone, d.date_of_birth, d.member_type.as_deref(),
        d.home_location_id, &d.notes, d.marketing_consent, MemberStatus::Active.as_str(), d.first_name.to_lowercase(),
        d.last_name.to_lowercase(), &d.email, d.phone_digits(), d.phone_end(), now)?;
    Ok((id, number))
}

/// Adds a member. Front desk and above.
pub async fn create_member(
    services: &Services,
    actor: &Actor,
    form: &MemberForm,
) -> Result<MemberView, Error> {
    actor.require(Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let details = form.validate(&context(&mut tx, &business, services.today(&business)).await?)?;
    let (id, number) = insert_member(&mut tx, business.id, &details, now).await?;
    let audit_details = serde_json::json!({ "member_number": number, "name": details.full_name() });
    audit::record(
        &mut tx,
        actor,
        "member.created",
        "member",
        Some(id),
        &audit_details.to_string(),
        now,
    )
    .await?;
    let view = current_view(&mut tx, services, &business, id).await?;
    tx.commit().await?;
    Ok(view)
}

/// Saves a member's details; the audit event keeps the details before and after.
pub async fn update_member(
    services: &Services,
    actor: &Actor,
    id: i64,
    form: &MemberForm,
) -> Result<MemberView, Error> {
    actor.require(Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let before = load(&mut tx, business.id, id).await?;
    let d = form.validate(&context(&mut tx, &business, services.today(&business)).await?)?;
    write_details(&mut tx, business.id, id, &d).await?;
    let audit_details = serde_json::json!({ "before": before.details(), "after": d });
    audit::record(
        &mut tx,
        actor,
        "member.updated",
        "member",
        Some(id),
        &audit_details.to_string(),
        now,
    )
    .await?;
    let view = current_view(&mut tx, services, &business, id).await?;
    tx.commit().await?;
    Ok(view)
}

/// Archives a member (hidden from everyday lists, history kept) or brings them back.
pub async fn set_member_status(
    services: &Services,
    actor: &Actor,
    id: i64,
    status: MemberStatus,
) -> Result<MemberView, Error> {
    actor.require(Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let before = load(&mut tx, actor.business_id, id).await?;
    if before.status == status.as_str() {
        return Err(Error::Conflict(format!(
            "the member is already {}",
            status.label().to_lowercase()
        )));
    }
    query!(
        &mut tx,
        execute,
        "UPDATE members SET status = $1 WHERE id = $2 AND business_id = $3",
        status.as_str(),
        id,
        actor.business_id
    )?;
    let action = match status {
        MemberStatus::Archived => "member.archived",
        MemberStatus::Active => "member.restored",
    };
    audit::record(&mut tx, actor, action, "member", Some(id), "{}", now).await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let view = current_view(&mut tx, services, &business, id).await?;
    tx.commit().await?;
    Ok(view)
}

pub async fn form_options(
    services: &Services,
    actor: &Actor,
) -> Result<domain::members::MemberFormOptions, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let member_types = crate::store::business::member_types(&mut tx, actor.business_id).await?;
    let locations = crate::store::business::locations(&mut tx, actor.business_id)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    tx.commit().await?;
    Ok(domain::members::MemberFormOptions {
        member_types,
        locations,
    })
}

/// The API's member list filters: all optional, combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberListFilter {
    /// `active` or `archived`.
    pub status: Option<MemberStatus>,
    /// Exactly this email (any case).
    pub email: Option<String>,
    /// The start of a first name, last name or email.
    pub search: Option<String>,
}

/// Up to `limit` of the business's members matching `filter` in id order
/// from `seek` (before an id: descending, the nearest first), and how many
/// match in all: the API's list.
pub async fn page_of_members(
    services: &Services,
    actor: &Actor,
    filter: &MemberListFilter,
    seek: Seek,
    limit: i64,
) -> Result<(Vec<MemberSummary>, i64), Error> {
    actor.require(Role::Viewer)?;
    let status = filter.status.map(|s| s.as_str()).unwrap_or_default();
    let email = filter
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    let search = filter
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .map(|s| like_prefix(&s))
        .unwrap_or_default();
    // Only the conditions asked for are written (each database then plans on
    // the index that fits); the values are bound, $2 onwards.
    let mut conditions = String::from("business_id = $1");
    let mut texts: Vec<String> = Vec::new();
    if !status.is_empty() {
        texts.push(status.to_string());
        conditions.push_str(&format!(" AND status = ${}", texts.len() + 1));
    }
    if !email.is_empty() {
        texts.push(email);
        conditions.push_str(&format!(" AND email_lc = ${}", texts.len() + 1));
    }
    let searched = !search.is_empty();
    if searched {
        texts.push(search);
        let n = texts.len() + 1;
        conditions.push_str(&format!(
            " AND (first_name_lc LIKE ${n} ESCAPE '\\' OR last_name_lc LIKE ${n} ESCAPE '\\' OR email_lc LIKE ${n} ESCAPE '\\')"
        ));
    }
    let mut tx = services.db.begin_read().await?;
    // By status alone, the total is the kept count (`store::memberships::counts`).
    let count = if texts.len() == usize::from(!status.is_empty()) {
        crate::store::memberships::members_counted(
            &mut tx,
            actor.business_id,
            Some(status).filter(|s| !s.is_empty()),
        )
        .await?
    } else {
        let sql = format!("SELECT COUNT(*) FROM members WHERE {conditions}");
        let (count,) = with_texts!(
            &mut tx,
            fetch_one as (i64,),
            &sql,
            actor.business_id,
            &texts,
            []
        )?;
        count
    };
    // A cursor's id is an integer: written into the SQL, not bound.
    let (offset, from, order) = match seek {
        Seek::Offset(offset) => (offset, String::new(), "id"),
        Seek::After(id) => (0, format!(" AND id > {id}"), "id"),
        Seek::Before(id) => (0, format!(" AND id < {id}"), "id DESC"),
    };
    let n = texts.len() + 2;
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members WHERE {conditions}{from} ORDER BY {order} LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let rows = with_texts!(
        &mut tx,
        fetch_all as MemberRow,
        &sql,
        actor.business_id,
        &texts,
        [limit, offset]
    )?;
    tx.commit().await?;
    let members = rows
        .into_iter()
        .map(MemberRow::summary)
        .collect::<Result<_, _>>()?;
    Ok((members, count))
}
