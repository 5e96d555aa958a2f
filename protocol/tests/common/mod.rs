//! What the tests of `openapi.yaml` and `asyncapi.yaml` both read out of a document.

use serde_json::Value;
use std::collections::BTreeSet;

/// An object's keys.
pub fn object_keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

/// A list of strings, as a set (an object schema's `required`, an `enum`).
pub fn string_set(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}
