//! Secrets handed to people: bearer sessions and one-time links (random, stored only as a
//! SHA-256 hash) and long-lived unsubscribe tokens (an HMAC over an id, nothing stored). No token
//! carries readable data: see docs/privacy.md.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn keyed(secret: &str, purpose: &str, message: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(message);
    mac
}

fn mac(secret: &str, purpose: &str, message: &str) -> Vec<u8> {
    keyed(secret, purpose, message.as_bytes())
        .finalize()
        .into_bytes()
        .to_vec()
}

/// Bytes of the MAC an opaque token keeps: 128 bits are beyond guessing, and the link stays short.
const OPAQUE_MAC_BYTES: usize = 16;

/// `base64(id ‖ hmac(purpose, id))`: an opaque, reusable token naming an id (never readable data
/// such as an address), tied to its purpose so one kind can't pass for another.
pub fn seal(secret: &str, purpose: &str, id: &[u8]) -> String {
    let tag = keyed(secret, purpose, id).finalize().into_bytes();
    let mut bytes = id.to_vec();
    bytes.extend_from_slice(&tag[..OPAQUE_MAC_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The id a `seal`ed token names, if it is intact, `id_len` long and made for this purpose.
pub fn unseal(secret: &str, purpose: &str, token: &str, id_len: usize) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    if bytes.len() != id_len + OPAQUE_MAC_BYTES {
        return None;
    }
    let (id, tag) = bytes.split_at(id_len);
    keyed(secret, purpose, id).verify_truncated_left(tag).ok()?;
    Some(id.to_vec())
}

/// `base64(message).base64(hmac)`: reusable, tied to its purpose so one kind can't pass for
/// another. The message is readable: only for the legacy unsubscribe tokens (docs/privacy.md).
pub fn sign(secret: &str, purpose: &str, message: &str) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(message),
        URL_SAFE_NO_PAD.encode(mac(secret, purpose, message))
    )
}

/// The signed message, if the token is intact and was made for this purpose.
pub fn verify(secret: &str, purpose: &str, token: &str) -> Option<String> {
    let (msg, sig) = token.split_once('.')?;
    let message = String::from_utf8(URL_SAFE_NO_PAD.decode(msg).ok()?).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(purpose.as_bytes());
    m.update(b"\0");
    m.update(message.as_bytes());
    m.verify_slice(&sig).ok()?;
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_only_for_their_purpose() {
        let t = sign("secret", "unsubscribe", "42");
        assert_eq!(verify("secret", "unsubscribe", &t).as_deref(), Some("42"));
        assert_eq!(verify("secret", "other", &t), None);
        assert_eq!(verify("other-secret", "unsubscribe", &t), None);
        assert_eq!(verify("secret", "unsubscribe", &t.replace('.', ".x")), None);
    }

    #[test]
    fn sealed_tokens_verify_only_for_their_purpose_and_hide_nothing_readable() {
        let t = seal("secret", "unsubscribe-v2", b"S12345678");
        assert!(!t.contains('.'));
        assert_eq!(
            unseal("secret", "unsubscribe-v2", &t, 9).as_deref(),
            Some(&b"S12345678"[..])
        );
        assert_eq!(unseal("secret", "other", &t, 9), None);
        assert_eq!(unseal("other-secret", "unsubscribe-v2", &t, 9), None);
        assert_eq!(unseal("secret", "unsubscribe-v2", &t, 8), None);
        let mut flipped = URL_SAFE_NO_PAD.decode(&t).unwrap();
        flipped[1] ^= 1;
        let flipped = URL_SAFE_NO_PAD.encode(flipped);
        assert_eq!(unseal("secret", "unsubscribe-v2", &flipped, 9), None);
    }

    #[test]
    fn random_tokens_differ_and_hash_stably() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 32);
    }
}
