//! Who acted: a signed-in staff user, a member in the portal, or the system.
//! Every use case takes one of these and history records it.

use domain::lifecycle::policy::Acting;
use domain::staff::Role;

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;

/// Who is acting: a signed-in staff user of one business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub business_id: i64,
    pub staff_user_id: i64,
    pub role: Role,
}

impl Actor {
    /// The staff member's name, as history shows who did something.
    pub(crate) async fn name(&self, tx: &mut Tx) -> Result<String, Error> {
        let (name,) = query!(
            tx,
            fetch_one as (String,),
            "SELECT name FROM staff_users WHERE business_id = $1 AND id = $2",
            self.business_id,
            self.staff_user_id
        )?;
        Ok(name)
    }

    /// Refuses unless the actor's role includes `required`.
    pub fn require(&self, required: Role) -> Result<(), Error> {
        if self.role.allows(required) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

/// Who records an event.
#[derive(Clone, Copy, Debug)]
pub enum By<'a> {
    Staff(&'a Actor),
    /// A member through the portal.
    Member(i64),
    System,
}

/// The label an event records for who did it, and what they may do.
pub(crate) async fn who(
    tx: &mut Tx,
    by: By<'_>,
) -> Result<(&'static str, Option<i64>, String, Acting), Error> {
    Ok(match by {
        By::Staff(actor) => {
            let (name,) = query!(
                tx,
                fetch_one as (String,),
                "SELECT name FROM staff_users WHERE id = $1",
                actor.staff_user_id
            )?;
            let acting = if actor.role.allows(Role::Manager) {
                Acting::Manager
            } else {
                Acting::FrontDesk
            };
            let label = format!("{name} ({})", actor.role.label().to_lowercase());
            ("staff", Some(actor.staff_user_id), label, acting)
        }
        By::Member(id) => (
            "member",
            Some(id),
            "the member via the portal".to_string(),
            Acting::Member,
        ),
        By::System => ("system", None, "the system".to_string(), Acting::System),
    })
}

/// Who takes a payment.
#[derive(Clone, Copy, Debug)]
pub enum TakenBy<'a> {
    Staff(&'a Actor),
    /// The daily collection.
    System,
    /// A member paying their own invoice in the portal.
    Member {
        business_id: i64,
        member_id: i64,
    },
    /// A charge whose request died before its outcome was booked, finished
    /// by a later attempt in the name of whoever started it.
    Resumed {
        label: &'static str,
        staff_id: Option<i64>,
    },
}

impl TakenBy<'_> {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            TakenBy::Staff(_) => "staff",
            TakenBy::System => "the system",
            TakenBy::Member { .. } => "the member via the portal",
            TakenBy::Resumed { label, .. } => label,
        }
    }
    pub(crate) fn staff_id(&self) -> Option<i64> {
        match self {
            TakenBy::Staff(a) => Some(a.staff_user_id),
            TakenBy::Resumed { staff_id, .. } => *staff_id,
            TakenBy::System | TakenBy::Member { .. } => None,
        }
    }
}
