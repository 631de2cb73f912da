//! Reading provider JSON leniently: optional fields, text trimmed, empty text as absent.

use serde_json::Value;

/// `value[key]` as non-empty, trimmed text.
pub(crate) fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// `value[key]` as an array (empty when absent or not an array).
pub(crate) fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}
