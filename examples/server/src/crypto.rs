//! Secrets at rest: ChaCha20-Poly1305 with the server key (`WA_SECRET_KEY`, 64 hex
//! characters) when one is configured; otherwise stored as is, with a warning at start.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Encrypts and decrypts stored secrets.
#[derive(Clone)]
pub struct SecretBox(Option<ChaCha20Poly1305>);

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SecretBox")
            .field(&if self.0.is_some() {
                "encrypting"
            } else {
                "plain"
            })
            .finish()
    }
}

impl SecretBox {
    /// From an optional 64-hex-character key.
    ///
    /// # Errors
    /// When the key is not 64 hex characters.
    pub fn new(hex_key: Option<&str>) -> Result<Self, String> {
        match hex_key.map(str::trim).filter(|k| !k.is_empty()) {
            None => Ok(SecretBox(None)),
            Some(k) => {
                let bytes = hex::decode(k)
                    .map_err(|_| "WA_SECRET_KEY must be 64 hex characters".to_owned())?;
                if bytes.len() != 32 {
                    return Err("WA_SECRET_KEY must be 64 hex characters (32 bytes)".to_owned());
                }
                Ok(SecretBox(Some(ChaCha20Poly1305::new(Key::from_slice(
                    &bytes,
                )))))
            }
        }
    }

    /// Whether secrets are encrypted.
    pub fn is_encrypting(&self) -> bool {
        self.0.is_some()
    }

    /// Seals `plain` (`enc:v1:<base64 nonce‖ciphertext>`, or `plain:<text>` without a key).
    pub fn seal(&self, plain: &str) -> String {
        match &self.0 {
            None => format!("plain:{plain}"),
            Some(cipher) => {
                let mut nonce = [0u8; 12];
                getrandom::fill(&mut nonce).expect("the OS random generator is available");
                let ct = cipher
                    .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
                    .expect("ChaCha20-Poly1305 encryption cannot fail");
                let mut out = nonce.to_vec();
                out.extend_from_slice(&ct);
                format!("enc:v1:{}", B64.encode(out))
            }
        }
    }

    /// Opens a sealed value.
    ///
    /// # Errors
    /// When it was sealed with another key, or without a key being configured now.
    pub fn open(&self, sealed: &str) -> Result<String, String> {
        if let Some(p) = sealed.strip_prefix("plain:") {
            return Ok(p.to_owned());
        }
        let b64 = sealed
            .strip_prefix("enc:v1:")
            .ok_or("unknown secret format")?;
        let cipher = self
            .0
            .as_ref()
            .ok_or("this secret is encrypted: set WA_SECRET_KEY")?;
        let raw = B64.decode(b64).map_err(|_| "corrupt secret")?;
        if raw.len() < 12 {
            return Err("corrupt secret".to_owned());
        }
        let plain = cipher
            .decrypt(Nonce::from_slice(&raw[..12]), &raw[12..])
            .map_err(|_| "the secret does not open with WA_SECRET_KEY")?;
        String::from_utf8(plain).map_err(|_| "corrupt secret".to_owned())
    }
}

/// A new API key: `sk_live_` + 48 hex characters (24 random bytes).
pub fn new_api_key() -> String {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).expect("the OS random generator is available");
    format!("sk_live_{}", hex::encode(b))
}

/// SHA-256 of an API key, hex: the only form keys are stored in.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Constant-time equality of two hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let key = "11".repeat(32);
        let b = SecretBox::new(Some(&key)).unwrap();
        let sealed = b.seal("EAAG-token");
        assert!(sealed.starts_with("enc:v1:") && !sealed.contains("EAAG"));
        assert_eq!(b.open(&sealed).unwrap(), "EAAG-token");
        assert!(
            SecretBox::new(Some(&"22".repeat(32)))
                .unwrap()
                .open(&sealed)
                .is_err()
        );
        assert!(SecretBox::new(None).unwrap().open(&sealed).is_err());
        assert_eq!(SecretBox::new(None).unwrap().seal("x"), "plain:x");
        assert!(SecretBox::new(Some("abc")).is_err());
        let k = new_api_key();
        assert!(k.starts_with("sk_live_") && k.len() == 56);
        assert!(hashes_equal(&key_hash(&k), &key_hash(&k)));
    }
}
