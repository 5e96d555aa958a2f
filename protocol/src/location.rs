//! Where a request came from, as the edge sees it, and the warnings a phone shows when the PC
//! it is about to sign in is somewhere else: the sign of a QR code relayed by a phisher.

use crate::Warning;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// The ISP or AS organisation name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

/// Compares the PC's location (from QR creation) with the phone's (at scan). A warning needs
/// both sides known: an unknown value proves nothing either way.
pub fn warnings(pc: &Location, phone: &Location) -> Vec<Warning> {
    let differs = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => !a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    };
    let mut warnings = Vec::new();
    if differs(&pc.country, &phone.country) {
        warnings.push(Warning::DifferentCountry);
    }
    if differs(&pc.network, &phone.network) {
        warnings.push(Warning::DifferentNetwork);
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(country: Option<&str>, network: Option<&str>) -> Location {
        Location {
            country: country.map(str::to_owned),
            city: Some("Anywhere".into()),
            network: network.map(str::to_owned),
        }
    }

    #[test]
    fn same_place_and_network_warns_of_nothing() {
        let here = at(Some("DE"), Some("Deutsche Telekom AG"));
        assert!(warnings(&here, &here.clone()).is_empty());
    }

    #[test]
    fn comparison_ignores_case_and_surrounding_space() {
        let pc = at(Some("de"), Some("Deutsche Telekom AG "));
        let phone = at(Some("DE"), Some("deutsche telekom ag"));
        assert!(warnings(&pc, &phone).is_empty());
    }

    #[test]
    fn another_country_warns() {
        let pc = at(Some("NG"), Some("Telekom"));
        let phone = at(Some("DE"), Some("Telekom"));
        assert_eq!(warnings(&pc, &phone), vec![Warning::DifferentCountry]);
    }

    #[test]
    fn another_network_warns() {
        let pc = at(Some("DE"), Some("Hetzner Online GmbH"));
        let phone = at(Some("DE"), Some("Vodafone GmbH"));
        assert_eq!(warnings(&pc, &phone), vec![Warning::DifferentNetwork]);
    }

    #[test]
    fn both_differences_warn_in_a_stable_order() {
        let pc = at(Some("US"), Some("Amazon.com"));
        let phone = at(Some("DE"), Some("Vodafone GmbH"));
        assert_eq!(
            warnings(&pc, &phone),
            vec![Warning::DifferentCountry, Warning::DifferentNetwork]
        );
    }

    #[test]
    fn unknown_values_never_warn() {
        let known = at(Some("DE"), Some("Telekom"));
        let unknown = at(None, None);
        assert!(warnings(&known, &unknown).is_empty());
        assert!(warnings(&unknown, &known).is_empty());
    }
}
