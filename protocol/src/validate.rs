//! The contract's rules for every identifier and text a client sends. Each returns the
//! normalised value, or `None` when the input is ill-formed (a `400` at the edge).

use std::borrow::Cow;

/// Whether a JSON text's value is an object (its first byte past JSON's whitespace is `{`).
/// serde reads a struct from an array as well, filling its fields in order; the contract's
/// bodies and live messages, and a DPoP proof's header and claims, are objects, so each reader
/// checks this before serde sees the text.
pub fn is_json_object(text: &[u8]) -> bool {
    text.iter().find(|byte| !b" \t\n\r".contains(byte)) == Some(&b'{')
}

/// Username: 3–32 of `a-z 0-9 . _ -`.
pub fn username(value: &str) -> Option<&str> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    ((3..=32).contains(&value.len()) && value.chars().all(allowed)).then_some(value)
}

/// Password: 8–128 characters (Unicode scalar values, not bytes).
pub fn password(value: &str) -> Option<&str> {
    (8..=128).contains(&value.chars().count()).then_some(value)
}

/// Display name: 1–64 characters once cleaned ([`clean_name`]); defaults to the username.
pub fn display_name<'a>(value: Option<&'a str>, username: &'a str) -> Option<Cow<'a, str>> {
    match value {
        None => Some(Cow::Borrowed(username)),
        Some(name) => within(clean_name(name), 1, 64),
    }
}

/// An optional field that was given but breaks its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllFormed;

/// Device name: at most 64 characters once cleaned ([`clean_name`]); empty or absent means
/// "not given".
pub fn device_name(value: Option<&str>) -> Result<Option<Cow<'_, str>>, IllFormed> {
    match value.map(clean_name) {
        None => Ok(None),
        Some(name) if name.is_empty() => Ok(None),
        Some(name) => within(name, 1, 64).map(Some).ok_or(IllFormed),
    }
}

/// Whether `c` reorders or hides text around it: the bidirectional marks, embeddings,
/// overrides and isolates (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A name a client gives itself, as others are shown it: without control characters (Unicode
/// category Cc) and bidirectional controls, which could make it read as something else, and
/// trimmed of white space at both ends.
pub fn clean_name(value: &str) -> Cow<'_, str> {
    let unwanted = |c: char| c.is_control() || is_bidi_control(c);
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() || unwanted(c));
    if trimmed.chars().any(unwanted) {
        let kept: String = trimmed.chars().filter(|&c| !unwanted(c)).collect();
        Cow::Owned(kept.trim().to_owned())
    } else {
        Cow::Borrowed(trimmed)
    }
}

fn within(value: Cow<'_, str>, min: usize, max: usize) -> Option<Cow<'_, str>> {
    (min..=max)
        .contains(&value.chars().count())
        .then_some(value)
}

/// Account id: 32 lower-case hex digits, as the edge makes them (16 random bytes).
pub fn account_id(value: &str) -> bool {
    value.len() == 32
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
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
    fn only_an_object_is_a_json_object() {
        for object in ["{}", " \r\n\t{\"a\": 1}", "{not even json"] {
            assert!(is_json_object(object.as_bytes()), "{object:?}");
        }
        for other in [
            "",
            "  ",
            "[]",
            "[\"secret\", \"device\"]",
            "\"{}\"",
            "null",
            "1",
        ] {
            assert!(!is_json_object(other.as_bytes()), "{other:?}");
        }
    }

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
        assert_eq!(display_name(None, "ann").as_deref(), Some("ann"));
        assert_eq!(display_name(Some("  Ann  "), "ann").as_deref(), Some("Ann"));
        assert_eq!(display_name(Some(""), "ann"), None);
        assert_eq!(display_name(Some(&"x".repeat(65)), "ann"), None);
        assert_eq!(display_name(Some("a\u{0}b"), "ann").as_deref(), Some("ab"));
        assert_eq!(
            display_name(Some("\u{202E}\u{7}"), "ann"),
            None,
            "nothing left"
        );
    }

    #[test]
    fn names_lose_control_and_bidirectional_characters_then_white_space() {
        assert_eq!(clean_name("Work laptop"), Cow::Borrowed("Work laptop"));
        assert_eq!(clean_name(" \t Work\nlaptop \u{7} "), "Worklaptop");
        // "Chromium on Linux" made to read as something else by an override.
        assert_eq!(
            clean_name("\u{202E}xuniL no muimorhC\u{202C}"),
            "xuniL no muimorhC"
        );
        for control in [
            '\u{200E}', '\u{200F}', '\u{061C}', '\u{202A}', '\u{202D}', '\u{2066}', '\u{2069}',
        ] {
            assert_eq!(clean_name(&format!("a{control}b")), "ab", "{control:?}");
        }
        // Letters of right-to-left scripts are not controls.
        assert_eq!(clean_name("מחשב עבודה"), "מחשב עבודה");
        assert_eq!(clean_name("\u{2067} \u{2069}"), "");
    }

    #[test]
    fn device_names_are_optional_and_bounded() {
        assert_eq!(device_name(None), Ok(None));
        assert_eq!(device_name(Some("  ")), Ok(None));
        assert_eq!(
            device_name(Some("Work laptop")),
            Ok(Some("Work laptop".into()))
        );
        assert_eq!(
            device_name(Some(&"x".repeat(64))).map(|n| n.is_some()),
            Ok(true)
        );
        assert_eq!(device_name(Some(&"x".repeat(65))), Err(IllFormed));
        assert_eq!(device_name(Some("bad\nname")), Ok(Some("badname".into())));
        assert_eq!(
            device_name(Some("\u{202E}\n")),
            Ok(None),
            "nothing left: not given"
        );
        let padded = format!("{}\u{202E}", "x".repeat(64));
        assert_eq!(
            device_name(Some(&padded)).map(|n| n.is_some()),
            Ok(true),
            "limits count what is left"
        );
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
        fn accepted_values_keep_their_rules(text in "(?s).{0,80}") {
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
                prop_assert!(name.chars().count() <= 64);
                prop_assert!(!name.chars().any(|c| c.is_control() || is_bidi_control(c)));
                prop_assert_eq!(name.trim(), &*name);
            }
            if let Some(name) = display_name(Some(&text), "ann") {
                prop_assert!((1..=64).contains(&name.chars().count()));
                prop_assert_eq!(clean_name(&name), name.clone(), "cleaning twice changes nothing");
            }
        }
    }
}
