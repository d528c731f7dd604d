//! API keys of the integration API: what a key may do (its scopes), the form
//! an owner fills in to make one, and what the staff app shows of keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::text_enum;
use crate::validation::Invalid;

text_enum! {
    /// What an API key may do. Every endpoint names the one scope it needs.
    pub enum Scope {
        ReadCatalog = ("read_catalog", "Read the catalog"),
        ReadMembers = ("read_members", "Read members and memberships"),
        WriteMembers = ("write_members", "Create and change members"),
        WriteMemberships = ("write_memberships", "Sell and change memberships"),
        Billing = ("billing", "Invoices and payments"),
        Credits = ("credits", "Credits and bookings"),
        OverridePolicy = ("override_policy", "Override policy refusals"),
    }
}

impl Scope {
    /// What the scope allows, in one sentence for the key form.
    pub fn explanation(self) -> &'static str {
        match self {
            Scope::ReadCatalog => "List and read membership types.",
            Scope::ReadMembers => "List and read members, memberships and the events feed.",
            Scope::WriteMembers => "Create members and change their details.",
            Scope::WriteMemberships => "Sell memberships and pause, resume or cancel them.",
            Scope::Billing => "Read invoices and record payments.",
            Scope::Credits => "Read and adjust credits, book services.",
            Scope::OverridePolicy => {
                "Carry out a membership action the business's policy refuses (force, with a reason), as a manager can in the staff app. Only for a manager's or owner's key."
            }
        }
    }
}

/// Scopes as stored: their names, comma-separated, in `Scope::ALL` order.
pub fn scopes_to_text(scopes: &[Scope]) -> String {
    Scope::ALL
        .iter()
        .filter(|s| scopes.contains(s))
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Scopes from their stored text; unknown names are skipped.
pub fn scopes_from_text(text: &str) -> Vec<Scope> {
    let named: Vec<Scope> = text
        .split(',')
        .filter_map(|s| Scope::parse(s.trim()))
        .collect();
    Scope::ALL
        .iter()
        .copied()
        .filter(|s| named.contains(s))
        .collect()
}

pub const NAME_MAX_CHARS: usize = 80;

/// The owner's form for a new key: a name saying what uses it, and scopes
/// (the names of the checked boxes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyForm {
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// A checked key form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl ApiKeyForm {
    pub fn validate(&self) -> Result<NewApiKey, Invalid> {
        let mut invalid = Invalid::default();
        let name = self.name.trim();
        if name.is_empty() {
            invalid.push(
                "name",
                "enter a name that says what uses the key, such as \"Website\"",
            );
        } else if name.chars().count() > NAME_MAX_CHARS {
            invalid.push(
                "name",
                format!("keep the name under {NAME_MAX_CHARS} characters"),
            );
        }
        let mut scopes = Vec::new();
        for text in &self.scopes {
            match Scope::parse(text.trim()) {
                Some(scope) => scopes.push(scope),
                None => invalid.push("scopes", format!("{text:?} is not a scope")),
            }
        }
        if self.scopes.is_empty() {
            invalid.push("scopes", "choose at least one thing the key may do");
        }
        if !invalid.is_empty() {
            return Err(invalid);
        }
        Ok(NewApiKey {
            name: name.to_string(),
            scopes: scopes_from_text(&scopes_to_text(&scopes)),
        })
    }
}

/// A key as the keys page lists it (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// The key's first characters, to tell keys apart: `tsk_3f9a…`.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, scopes: &[&str]) -> ApiKeyForm {
        ApiKeyForm {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_key_needs_a_name_and_known_scopes() {
        let invalid = form(" ", &[]).validate().unwrap_err();
        assert!(invalid.message_for("name").is_some());
        assert_eq!(
            invalid.message_for("scopes"),
            Some("choose at least one thing the key may do")
        );
        let invalid = form("Website", &["billing", "admin"])
            .validate()
            .unwrap_err();
        assert_eq!(
            invalid.message_for("scopes"),
            Some("\"admin\" is not a scope")
        );
        let long = "x".repeat(NAME_MAX_CHARS + 1);
        assert!(form(&long, &["billing"]).validate().is_err());
    }

    #[test]
    fn scopes_are_kept_once_in_a_fixed_order() {
        let key = form(" Website ", &["billing", "read_catalog", "billing"])
            .validate()
            .unwrap();
        assert_eq!(key.name, "Website");
        assert_eq!(key.scopes, vec![Scope::ReadCatalog, Scope::Billing]);
        assert_eq!(scopes_to_text(&key.scopes), "read_catalog,billing");
        assert_eq!(
            scopes_from_text("billing, nonsense,read_catalog"),
            vec![Scope::ReadCatalog, Scope::Billing]
        );
    }
}

/// The API reference page: every endpoint of the OpenAPI document, grouped by tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiReference {
    pub title: String,
    pub version: String,
    pub description: String,
    pub endpoints: Vec<ApiEndpoint>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiEndpoint {
    pub method: String,
    /// Under `/api/v1`.
    pub path: String,
    pub tag: String,
    pub summary: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub parameters: Vec<ApiParameter>,
    /// The request body's schema name, if it takes one.
    pub body: Option<String>,
    /// (status, what it answers: a schema name or a description)
    pub responses: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiParameter {
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    pub required: bool,
    pub description: String,
}
