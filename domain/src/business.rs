//! The business's own settings: its locations.

use serde::{Deserialize, Serialize};

use crate::validation::Invalid;

/// A site of the business, as the settings page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationView {
    pub id: i64,
    pub name: String,
    pub address: String,
    /// The public page is `/join/{slug}`.
    pub slug: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocationForm {
    pub name: String,
    pub address: String,
}

/// A validated location: a name of 1 to 80 characters and an address of at most 200.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLocation {
    pub name: String,
    pub address: String,
}

impl LocationForm {
    pub fn validate(&self) -> Result<NewLocation, Invalid> {
        let mut invalid = Invalid::default();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter the location's name");
        } else if name.chars().count() > 80 {
            invalid.push("name", "use at most 80 characters");
        }
        let address = self.address.trim().to_string();
        if address.chars().count() > 200 {
            invalid.push("address", "use at most 200 characters");
        }
        invalid.into_result(|| NewLocation { name, address })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_needs_a_name_and_a_short_address() {
        let ok = LocationForm {
            name: " Riverside ".into(),
            address: "3 Riverside Walk".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.name, "Riverside");
        let err = LocationForm {
            name: "".into(),
            address: "x".repeat(201),
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.message_for("name"), Some("enter the location's name"));
        assert_eq!(
            err.message_for("address"),
            Some("use at most 200 characters")
        );
    }
}
