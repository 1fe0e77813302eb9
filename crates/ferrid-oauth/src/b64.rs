//! base64url without padding (RFC 7515 §2), the encoding of every JOSE member.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out)
}

pub fn decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}
