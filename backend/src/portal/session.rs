//! Portal sessions: the signed-in member, the accounts an email reaches at
//! the business that mailed its code, choosing one, signing out.

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::platform::secrets::token_hash;
use crate::{Services, query};
use chrono::{DateTime, Utc};
use domain::portal::{PortalAccount, PortalSession, SESSION_IDLE};

/// A signed-in member: the account their portal session is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub business_id: i64,
    pub member_id: i64,
}

/// A started portal session: the token goes into the cookie, never into a log.
pub struct NewSession {
    pub token: String,
    /// The email has several accounts: the member picks one next.
    pub must_choose: bool,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"(hidden)")
            .field("must_choose", &self.must_choose)
            .finish()
    }
}

/// The accounts an email signs in to: active members of any business, or of
/// one (`Some(business_id)`).
pub(crate) async fn accounts(
    tx: &mut Tx,
    email: &str,
    business_id: Option<i64>,
) -> Result<Vec<PortalAccount>, Error> {
    let rows = query!(
        tx,
        fetch_all as (i64, i64, String, String, String, String, i64),
        "SELECT m.id, b.id, b.name, b.slug, m.first_name, m.last_name, m.member_number
           FROM members m JOIN businesses b ON b.id = m.business_id
          WHERE m.email_lc = $1 AND m.status = $2
          ORDER BY b.name, m.member_number",
        email,
        "active"
    )?;
    Ok(rows
        .into_iter()
        .filter(|row| business_id.is_none_or(|b| b == row.1))
        .map(
            |(member_id, _, business_name, business_slug, first, last, number)| PortalAccount {
                member_id,
                business_name,
                business_slug,
                member_name: format!("{first} {last}"),
                member_number: number,
            },
        )
        .collect())
}

/// The accounts a sign-in at `business` (a slug; empty on the shared page) is about.
pub(crate) fn at_business(accounts: Vec<PortalAccount>, business: &str) -> Vec<PortalAccount> {
    if business.is_empty() {
        accounts
    } else {
        accounts
            .into_iter()
            .filter(|a| a.business_slug == business)
            .collect()
    }
}

pub(crate) async fn business_of(tx: &mut Tx, member_id: i64) -> Result<i64, Error> {
    Ok(query!(
        tx,
        fetch_one as (i64,),
        "SELECT business_id FROM members WHERE id = $1",
        member_id
    )?
    .0)
}

pub(crate) async fn signed_in_audit(
    tx: &mut Tx,
    business_id: i64,
    member_id: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    crate::platform::audit::record(
        tx,
        &crate::platform::actor::Actor::system(business_id),
        "member.portal_signed_in",
        "member",
        Some(member_id),
        "{}",
        now,
    )
    .await
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) member_id: Option<i64>,
    pub(crate) scope_business_id: Option<i64>,
    pub(crate) last_seen_at: DateTime<Utc>,
}

/// A live session behind a token: its id, email, the business its code came
/// from (the only one whose accounts it reaches) and the account it is on.
pub(crate) struct Live {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) scope: i64,
    pub(crate) account: Option<Member>,
}

pub(crate) async fn live(services: &Services, token: &str) -> Result<Live, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let row = query!(
        &mut tx,
        fetch_optional as SessionRow,
        "SELECT id, email, member_id, scope_business_id, last_seen_at FROM portal_sessions
          WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2",
        token_hash(token),
        now
    )?
    .ok_or(Error::Unauthenticated)?;
    let scope = row.scope_business_id.ok_or(Error::Unauthenticated)?;
    // The account counts only while the member is active and still has this email.
    let account = match row.member_id {
        Some(member_id) => query!(
            &mut tx,
            fetch_optional as (i64,),
            "SELECT business_id FROM members WHERE id = $1 AND email_lc = $2 AND status = $3 AND business_id = $4",
            member_id,
            &row.email,
            "active",
            scope
        )?
        .map(|(business_id,)| Member {
            business_id,
            member_id,
        }),
        None => None,
    };
    tx.commit().await?;
    // Refresh at most once a minute: a write per request would serialise every page on SQLite.
    if now - row.last_seen_at > chrono::TimeDelta::minutes(1) {
        let mut tx = services.db.begin_write().await?;
        query!(
            &mut tx,
            execute,
            "UPDATE portal_sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3",
            now,
            now + SESSION_IDLE,
            row.id
        )?;
        tx.commit().await?;
    }
    Ok(Live {
        id: row.id,
        email: row.email,
        scope,
        account,
    })
}

/// The member signed in with this token, or `Unauthenticated` (no session,
/// or no account chosen yet).
pub async fn authenticate(services: &Services, token: &str) -> Result<Member, Error> {
    live(services, token)
        .await?
        .account
        .ok_or(Error::Unauthenticated)
}

/// The session's email and chosen account, for the portal's frame.
pub async fn session(services: &Services, token: &str) -> Result<PortalSession, Error> {
    let live = live(services, token).await?;
    let mut tx = services.db.begin_read().await?;
    let all = accounts(&mut tx, &live.email, Some(live.scope)).await?;
    tx.commit().await?;
    Ok(PortalSession {
        account: live
            .account
            .and_then(|a| all.iter().find(|x| x.member_id == a.member_id).cloned()),
        accounts: all,
        email: live.email,
    })
}

/// Puts the session on one of its email's accounts at the business its code came from.
pub async fn choose(services: &Services, token: &str, member_id: i64) -> Result<(), Error> {
    let live = live(services, token).await?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    if !accounts(&mut tx, &live.email, Some(live.scope))
        .await?
        .iter()
        .any(|a| a.member_id == member_id)
    {
        return Err(Error::NotFound);
    }
    let business_id = business_of(&mut tx, member_id).await?;
    query!(
        &mut tx,
        execute,
        "UPDATE portal_sessions SET business_id = $1, member_id = $2 WHERE id = $3",
        business_id,
        member_id,
        live.id
    )?;
    signed_in_audit(&mut tx, business_id, member_id, now).await?;
    tx.commit().await
}

/// Ends the session behind a token. Unknown tokens are ignored.
pub async fn sign_out(services: &Services, token: &str) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    query!(
        &mut tx,
        execute,
        "UPDATE portal_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        now,
        token_hash(token)
    )?;
    tx.commit().await
}
