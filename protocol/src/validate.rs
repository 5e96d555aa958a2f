//! The contract's rules for every identifier and text a client sends. Each returns the
//! normalised value, or `None` when the input is ill-formed (a `400` at the edge).

/// Username: 3–32 of `a-z 0-9 . _ -`.
pub fn username(value: &str) -> Option<&str> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    ((3..=32).contains(&value.len()) && value.chars().all(allowed)).then_some(value)
}

/// Password: 8–128 characters (Unicode scalar values, not bytes).
pub fn password(value: &str) -> Option<&str> {
    (8..=128).contains(&value.chars().count()).then_some(value)
}

/// Display name: 1–64 characters after trimming; defaults to the username.
pub fn display_name<'a>(value: Option<&'a str>, username: &'a str) -> Option<&'a str> {
    match value {
        None => Some(username),
        Some(name) => printable(name.trim(), 1, 64),
    }
}

/// An optional field that was given but breaks its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllFormed;

/// Device name: at most 64 characters after trimming; empty or absent means "not given".
pub fn device_name(value: Option<&str>) -> Result<Option<&str>, IllFormed> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) => printable(name, 1, 64).map(Some).ok_or(IllFormed),
    }
}

fn printable(value: &str, min: usize, max: usize) -> Option<&str> {
    let count = value.chars().count();
    ((min..=max).contains(&count) && !value.chars().any(char::is_control)).then_some(value)
}

/// QR id: 16–64 of `A-Z a-z 0-9 _ -`.
pub fn qr_id(value: &str) -> Option<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    ((16..=64).contains(&value.len()) && value.chars().all(allowed)).then_some(value)
}

/// Device id: a UUID in its hyphenated 8-4-4-4-12 hex form, any letter case; normalised to
/// lower case so that one device is one key whatever case its client sends. (The `uuid` crate
/// also reads the simple, braced and URN forms; the contract names only this one.)
pub fn device_id(value: &str) -> Option<String> {
    const HYPHENATED_LEN: usize = 36;
    let uuid = uuid::Uuid::try_parse(value)
        .ok()
        .filter(|_| value.len() == HYPHENATED_LEN)?;
    Some(uuid.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ann", "a.b_c-d", "x23456789012345678901234567890ab"] {
            assert_eq!(username(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "ab",
            "Ann",
            "ann smith",
            "ann@x",
            "x234567890123456789012345678901ab",
            "ünï",
        ] {
            assert_eq!(username(bad), None, "{bad}");
        }
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(password("1234567").is_none());
        assert!(password("12345678").is_some());
        assert!(password(&"é".repeat(128)).is_some());
        assert!(password(&"é".repeat(129)).is_none());
    }

    #[test]
    fn display_names_default_to_the_username() {
        assert_eq!(display_name(None, "ann"), Some("ann"));
        assert_eq!(display_name(Some("  Ann  "), "ann"), Some("Ann"));
        assert_eq!(display_name(Some(""), "ann"), None);
        assert_eq!(display_name(Some(&"x".repeat(65)), "ann"), None);
        assert_eq!(display_name(Some("a\u{0}b"), "ann"), None);
    }

    #[test]
    fn device_names_are_optional_and_bounded() {
        assert_eq!(device_name(None), Ok(None));
        assert_eq!(device_name(Some("  ")), Ok(None));
        assert_eq!(device_name(Some("Work laptop")), Ok(Some("Work laptop")));
        assert_eq!(
            device_name(Some(&"x".repeat(64))).map(|n| n.is_some()),
            Ok(true)
        );
        assert_eq!(device_name(Some(&"x".repeat(65))), Err(IllFormed));
        assert_eq!(device_name(Some("bad\nname")), Err(IllFormed));
    }

    #[test]
    fn qr_ids() {
        assert!(qr_id("abcdefghijklmnop").is_some());
        assert!(qr_id(&"A_-9".repeat(16)).is_some());
        assert!(qr_id("abcdefghijklmno").is_none());
        assert!(qr_id(&"a".repeat(65)).is_none());
        assert!(qr_id("abcdefghijklmnop%2e").is_none());
        assert!(qr_id("abcdefgh.ijklmnop").is_none());
    }

    #[test]
    fn device_ids_are_uuids_in_any_case() {
        assert_eq!(
            device_id("0F8FAD5B-D9CB-469F-A165-70867728950E").as_deref(),
            Some("0f8fad5b-d9cb-469f-a165-70867728950e")
        );
        for bad in [
            "",
            "not-a-uuid",
            "0f8fad5b-d9cb-469f-a165-70867728950",
            "0f8fad5bd9cb469fa16570867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950g",
            "0f8fad5b-d9cb-469f-a165-70867728950e-",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
            "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950e ",
            "0f8fad5b+d9cb-469f-a165-70867728950e",
        ] {
            assert_eq!(device_id(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn accepted_values_keep_their_rules(text in "\\PC{0,80}") {
            if let Some(name) = username(&text) {
                prop_assert!((3..=32).contains(&name.len()));
                prop_assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
            }
            if let Some(id) = qr_id(&text) {
                prop_assert!((16..=64).contains(&id.len()));
            }
            if let Some(id) = device_id(&text) {
                prop_assert_eq!(id.len(), 36);
                prop_assert_eq!(device_id(&id), Some(id.clone()), "normalising twice changes nothing");
            }
            if let Ok(Some(name)) = device_name(Some(&text)) {
                prop_assert!(name.chars().count() <= 64 && !name.chars().any(char::is_control));
            }
        }
    }
}
