//! The parties to a membership or an invoice: who holds it, who pays it.
//! Kept apart so that memberships and invoices both name them without
//! naming each other.

use serde::{Deserialize, Serialize};

/// Who holds a membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub name: String,
    /// The staff page of the member or organization.
    pub href: String,
    pub member_number: Option<i64>,
}
