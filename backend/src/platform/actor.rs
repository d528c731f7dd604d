//! Who acts: one `Actor` for a staff user, an API key (which acts as its own
//! staff user, with the key's role), a member in the portal and the
//! business's scheduled work. Every use case takes one; history records it
//! as an [`Author`].

use domain::lifecycle::policy::Acting;
use domain::staff::Role;

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;

/// Who is acting, in which business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub business_id: i64,
    pub who: Who,
}

/// The kinds of actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// A signed-in staff user, or an API key's own staff user.
    Staff { staff_user_id: i64, role: Role },
    /// A member through the portal.
    Member { member_id: i64 },
    /// The daily work and the scheduler.
    System,
}

/// Who acted, as a row records it: a label people read and the staff user,
/// when one acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    pub label: String,
    pub staff_user_id: Option<i64>,
}

impl Author {
    /// The scheduled work's entries.
    pub(crate) fn system() -> Author {
        Author {
            label: "the system".into(),
            staff_user_id: None,
        }
    }
}

impl Actor {
    pub fn staff(business_id: i64, staff_user_id: i64, role: Role) -> Actor {
        Actor {
            business_id,
            who: Who::Staff {
                staff_user_id,
                role,
            },
        }
    }

    pub fn member(business_id: i64, member_id: i64) -> Actor {
        Actor {
            business_id,
            who: Who::Member { member_id },
        }
    }

    pub fn system(business_id: i64) -> Actor {
        Actor {
            business_id,
            who: Who::System,
        }
    }

    /// The same staff user acting with another role (a role's view of a
    /// page; tests of what each role may do). Others are returned as they are.
    pub fn with_role(self, role: Role) -> Actor {
        match self.who {
            Who::Staff { staff_user_id, .. } => Actor::staff(self.business_id, staff_user_id, role),
            _ => self,
        }
    }

    /// The staff user acting, if staff (or an API key) acts.
    pub fn staff_user_id(&self) -> Option<i64> {
        match self.who {
            Who::Staff { staff_user_id, .. } => Some(staff_user_id),
            _ => None,
        }
    }

    /// The actor, if staff (or an API key) acts.
    pub(crate) fn as_staff(&self) -> Option<&Actor> {
        matches!(self.who, Who::Staff { .. }).then_some(self)
    }

    /// The staff role, if staff (or an API key) acts.
    pub fn role(&self) -> Option<Role> {
        match self.who {
            Who::Staff { role, .. } => Some(role),
            _ => None,
        }
    }

    /// Whether the actor's role includes `required`; only staff have roles.
    pub fn allows(&self, required: Role) -> bool {
        self.role().is_some_and(|role| role.allows(required))
    }

    /// Refuses unless the actor's role includes `required`.
    pub fn require(&self, required: Role) -> Result<(), Error> {
        if self.allows(required) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// What the lifecycle policy lets this actor do.
    pub(crate) fn acting(&self) -> Acting {
        match self.who {
            Who::Staff { role, .. } if role.allows(Role::Manager) => Acting::Manager,
            Who::Staff { .. } => Acting::FrontDesk,
            Who::Member { .. } => Acting::Member,
            Who::System => Acting::System,
        }
    }

    /// The kind and id the audit trail and membership events store.
    pub(crate) fn kind_and_id(&self) -> (&'static str, Option<i64>) {
        match self.who {
            Who::Staff { staff_user_id, .. } => ("staff", Some(staff_user_id)),
            Who::Member { member_id } => ("member", Some(member_id)),
            Who::System => ("system", None),
        }
    }

    /// The staff user's name (history's "who did it"); "the system" or "the
    /// member" otherwise.
    pub(crate) async fn name(&self, tx: &mut Tx) -> Result<String, Error> {
        match self.who {
            Who::Staff { staff_user_id, .. } => {
                let (name,) = query!(
                    tx,
                    fetch_one as (String,),
                    "SELECT name FROM staff_users WHERE business_id = $1 AND id = $2",
                    self.business_id,
                    staff_user_id
                )?;
                Ok(name)
            }
            Who::Member { .. } => Ok("the member".into()),
            Who::System => Ok("the system".into()),
        }
    }

    /// How timelines and ledgers name the actor: "Dana Desk (front desk)",
    /// "the member via the portal", "the system".
    pub(crate) async fn author(&self, tx: &mut Tx) -> Result<Author, Error> {
        let label = match self.who {
            Who::Staff { role, .. } => {
                let name = self.name(tx).await?;
                format!("{name} ({})", role.label().to_lowercase())
            }
            Who::Member { .. } => "the member via the portal".into(),
            Who::System => "the system".into(),
        };
        Ok(Author {
            label,
            staff_user_id: self.staff_user_id(),
        })
    }

    /// How a payment records who took it: "staff", "the member via the
    /// portal", "the system".
    pub(crate) fn payment_author(&self) -> Author {
        let label = match self.who {
            Who::Staff { .. } => "staff",
            Who::Member { .. } => "the member via the portal",
            Who::System => "the system",
        };
        Author {
            label: label.into(),
            staff_user_id: self.staff_user_id(),
        }
    }
}
