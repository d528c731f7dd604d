//! Rows of the business group: the business and its settings, locations,
//! member types and staff users.

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::platform::secrets::{check_new_password, hash_password};
use crate::{Services, query};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::Currency;
use domain::staff::Role;

#[derive(Clone, Debug)]
pub struct Business {
    pub id: i64,
    pub name: String,
    /// Its portal's address: /portal/sign-in/{slug}.
    pub slug: String,
    pub time_zone: Tz,
    pub currency: Currency,
    pub simulated_today: Option<NaiveDate>,
    /// Due dates, retries, past due and suspension.
    pub dunning: domain::payments::Dunning,
    /// Whether cancelling immediately credits the unused part of the period.
    pub credit_unused_on_cancel: bool,
    /// The most credits the front desk may take away at once.
    pub credit_adjust_limit: i64,
    /// Whole units of the currency a payment may bring beyond what is due.
    pub overpayment_limit: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct BusinessRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) slug: Option<String>,
    pub(crate) time_zone: String,
    pub(crate) currency: String,
    pub(crate) simulated_today: Option<NaiveDate>,
    pub(crate) terms_days: i64,
    pub(crate) retry_days: String,
    pub(crate) past_due_after_days: i64,
    pub(crate) suspend_after_days: i64,
    pub(crate) credit_unused_on_cancel: bool,
    pub(crate) credit_adjust_limit: i64,
    pub(crate) overpayment_limit: i64,
}

impl TryFrom<BusinessRow> for Business {
    type Error = Error;
    fn try_from(row: BusinessRow) -> Result<Self, Error> {
        Ok(Business {
            id: row.id,
            time_zone: row
                .time_zone
                .parse()
                .map_err(|_| Error::internal(format!("bad time zone {:?}", row.time_zone)))?,
            currency: Currency::from_code(&row.currency)
                .map_err(|e| Error::internal(e.to_string()))?,
            dunning: domain::payments::Dunning {
                terms_days: days(row.terms_days)?,
                retry_days: domain::payments::Dunning::parse_retry_days(&row.retry_days).map_err(
                    |e| Error::internal(format!("retry days of business {}: {e}", row.id)),
                )?,
                past_due_after: days(row.past_due_after_days)?,
                suspend_after: days(row.suspend_after_days)?,
            },
            credit_unused_on_cancel: row.credit_unused_on_cancel,
            credit_adjust_limit: row.credit_adjust_limit,
            overpayment_limit: row.overpayment_limit,
            name: row.name,
            slug: row.slug.unwrap_or_default(),
            simulated_today: row.simulated_today,
        })
    }
}

pub(crate) fn days(n: i64) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::internal(format!("{n} is not a number of days")))
}

pub async fn load(tx: &mut Tx, business_id: i64) -> Result<Business, Error> {
    query!(
        tx,
        fetch_optional as BusinessRow,
        "SELECT id, name, slug, time_zone, currency, simulated_today, terms_days, retry_days, past_due_after_days,
                suspend_after_days, credit_unused_on_cancel, credit_adjust_limit, overpayment_limit
           FROM businesses WHERE id = $1",
        business_id
    )?
    .ok_or(Error::NotFound)?
    .try_into()
}

impl Business {
    /// The business's date at `now` (the clock's time of the request).
    pub fn today_at(&self, now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        self.simulated_today
            .unwrap_or_else(|| now.with_timezone(&self.time_zone).date_naive())
    }
}

impl Services {
    /// The business's date: simulated when an owner set one, else today in its time zone.
    pub fn today(&self, business: &Business) -> NaiveDate {
        self.clock
            .today(business.time_zone, business.simulated_today)
    }
}

/// A site of the business.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Location {
    pub id: i64,
    pub name: String,
    pub slug: Option<String>,
}

pub async fn locations(tx: &mut Tx, business_id: i64) -> Result<Vec<Location>, Error> {
    Ok(query!(
        tx,
        fetch_all as Location,
        "SELECT id, name, slug FROM locations WHERE business_id = $1 ORDER BY name, id",
        business_id
    )?)
}

/// The business's own list of member types (adult, youth, ...), in its order.
pub async fn member_types(tx: &mut Tx, business_id: i64) -> Result<Vec<String>, Error> {
    Ok(query!(
        tx,
        fetch_all as (String,),
        "SELECT name FROM member_types WHERE business_id = $1 ORDER BY position, id",
        business_id
    )?
    .into_iter()
    .map(|(name,)| name)
    .collect())
}

/// Inserts a staff user (used by bootstrap, seeding and staff management).
pub async fn insert_staff_user(
    tx: &mut Tx,
    business_id: i64,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() < 3 {
        return Err(Error::invalid("email", "enter an email address"));
    }
    if name.trim().is_empty() {
        return Err(Error::invalid("name", "enter a name"));
    }
    check_new_password(password)?;
    let hash = hash_password(password)?;
    let result = query!(
        tx,
        fetch_one as (i64,),
        "INSERT INTO staff_users (business_id, email, name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        business_id,
        &email,
        name.trim(),
        role.as_str(),
        hash.as_str(),
        false,
        now
    );
    match result {
        Ok((id,)) => Ok(id),
        Err(e) => {
            let e = Error::from(e);
            if e.violates_unique("staff_users", &["email"]) {
                Err(Error::invalid(
                    "email",
                    "a staff user with this email already exists",
                ))
            } else {
                Err(e)
            }
        }
    }
}
