//! JSON outputs: pretty-printed, newline-terminated, stable field order.

use serde::Serialize;

/// `value` as pretty JSON bytes.
pub fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_else(|error| {
        format!("{{\"error\": \"cannot serialize: {error}\"}}").into_bytes()
    });
    bytes.push(b'\n');
    bytes
}
