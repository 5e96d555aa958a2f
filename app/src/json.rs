//! JSON for the pages: the browser parses it (`JSON.parse`), and the wire types are read from
//! the parsed value through their one serde definition in `qrgate-protocol`.
//!
//! Why not `serde_json` or `serde-wasm-bindgen` for reading: both build an error message for
//! every value they reject, and those messages link Rust's float and `Debug` formatting into the
//! page (about 13 KB, an eighth of the PC page's byte budget). The pages never show such a
//! message, a malformed answer is simply no answer, so this reader's one error carries nothing
//! and overrides every serde constructor that would format one.

use js_sys::{Array, JSON, Object, Reflect};
use serde::de::{self, DeserializeOwned, Expected, IntoDeserializer, Unexpected, Visitor};
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// JSON text as `T`, or `None` if it is not JSON or not a `T`.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = JSON::parse(text).ok()?;
    T::deserialize(Value(value)).ok()
}

/// `value` as JSON text.
pub fn to_json<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// A value that could not be read; which, and why, is of no use to the page.
#[derive(Debug)]
pub struct Malformed;

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed")
    }
}

impl std::error::Error for Malformed {}

impl de::Error for Malformed {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Malformed
    }
    fn invalid_type(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        Malformed
    }
    fn invalid_value(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        Malformed
    }
    fn invalid_length(_: usize, _: &dyn Expected) -> Self {
        Malformed
    }
    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        Malformed
    }
    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        Malformed
    }
    fn missing_field(_: &'static str) -> Self {
        Malformed
    }
    fn duplicate_field(_: &'static str) -> Self {
        Malformed
    }
}

/// A value `JSON.parse` made: null, a boolean, a number, a string, an array or an object.
struct Value(JsValue);

impl<'de> de::Deserializer<'de> for Value {
    type Error = Malformed;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Malformed> {
        let value = self.0;
        if value.is_null() || value.is_undefined() {
            visitor.visit_unit()
        } else if let Some(flag) = value.as_bool() {
            visitor.visit_bool(flag)
        } else if let Some(number) = value.as_f64() {
            // Times and counts: whole numbers within what a double holds exactly.
            if number.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&number) {
                visitor.visit_u64(number as u64)
            } else {
                visitor.visit_f64(number)
            }
        } else if let Some(text) = value.as_string() {
            visitor.visit_string(text)
        } else if Array::is_array(&value) {
            let items = value.unchecked_into::<Array>().to_vec();
            visitor.visit_seq(de::value::SeqDeserializer::new(
                items.into_iter().map(Value),
            ))
        } else if value.is_object() {
            let object: Object = value.unchecked_into();
            let entries = Object::keys(&object)
                .to_vec()
                .into_iter()
                .filter_map(|key| {
                    let field = Reflect::get(&object, &key).ok()?;
                    Some((key.as_string()?, Value(field)))
                });
            visitor.visit_map(de::value::MapDeserializer::new(entries))
        } else {
            Err(Malformed)
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Malformed> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    /// The wire types' enums are unit variants written as strings.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Malformed> {
        let variant = self.0.as_string().ok_or(Malformed)?;
        visitor.visit_enum(variant.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Malformed> for Value {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}
