use serde::{Deserialize, Serialize};

/// What a staff user may do. Each role includes everything the roles below it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Day-to-day desk work: members, sales, check-ins.
    FrontDesk,
    /// Catalog, approvals, refunds, reports.
    Manager,
    /// Everything, including staff, API keys and the simulated clock.
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Manager, Role::FrontDesk, Role::Viewer];

    /// Whether this role may do what `required` may do.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::FrontDesk => "front_desk",
            Role::Manager => "manager",
            Role::Owner => "owner",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::FrontDesk => "Front desk",
            Role::Manager => "Manager",
            Role::Owner => "Owner",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_includes_the_roles_below_it() {
        assert!(Role::Owner.allows(Role::Manager));
        assert!(Role::Manager.allows(Role::FrontDesk));
        assert!(Role::FrontDesk.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::FrontDesk));
        assert!(!Role::Manager.allows(Role::Owner));
    }

    #[test]
    fn roles_round_trip_through_their_stored_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}

/// What the staff app shows in its frame: who is signed in, where, and which day it is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StaffOverview {
    pub business_name: String,
    pub currency: crate::Currency,
    pub time_zone: String,
    pub user_name: String,
    pub role: Role,
    /// The business's date (simulated or real).
    pub today: chrono::NaiveDate,
    /// Set while the business runs on a simulated date.
    pub simulated: bool,
}

/// The dashboard's figures, counted in the database.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DashboardCounts {
    /// Members who are not archived.
    pub members: i64,
    pub active_memberships: i64,
    pub membership_types: i64,
    pub active_membership_types: i64,
}
