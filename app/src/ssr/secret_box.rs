//! Secrets at rest: robot URLs (their tokens), signing secrets and API credentials are
//! stored sealed with XChaCha20-Poly1305 under a key derived from `SECRET_KEY`, so a copied
//! database or backup does not hand out the group robots.
//!
//! Stored form: `enc:v1:<base64(nonce ‖ ciphertext ‖ tag)>`. A value without the prefix is
//! plaintext from before encryption; start-up seals such values in place. The associated
//! data names the table, column and row, so a sealed value copied into another row or
//! column does not open.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// HKDF salt and info: a key derived for this purpose is useless for any other use of
/// `SECRET_KEY` (session cookies, CSRF), and vice versa.
const KDF_SALT: &[u8] = b"dingding-attendance/secret-box";
const KDF_INFO: &[u8] = b"stored secrets v1";
const LINK_KDF_INFO: &[u8] = b"reminder action links v1";

/// The message for every value that does not open: a wrong key looks exactly like
/// tampering, and the usual cause is a changed `SECRET_KEY`.
pub const UNREADABLE: &str = "无法解密：SECRET_KEY 已更改？请用原来的 SECRET_KEY 运行 dingding-attendance rekey（或重新填写）";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{UNREADABLE}")]
    Unreadable,
    #[error("系统随机数不可用，无法加密保存")]
    NoRandomness,
}

impl From<SecretError> for crate::AppError {
    fn from(error: SecretError) -> Self {
        match error {
            SecretError::Unreadable => crate::AppError::conflict("secret", UNREADABLE),
            SecretError::NoRandomness => {
                tracing::error!("getrandom failed while sealing a secret");
                crate::AppError::Internal
            }
        }
    }
}

/// Seals and opens stored secrets. `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// Signs the one-click links in reminders: another key from the same `SECRET_KEY`.
    link_key: crate::domain::action_link::LinkKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    pub fn from_secret_key(secret_key: &str) -> Self {
        let key = hkdf_sha256(KDF_SALT, secret_key.as_bytes(), KDF_INFO);
        let link_key = hkdf_sha256(KDF_SALT, secret_key.as_bytes(), LINK_KDF_INFO);
        Self {
            cipher: XChaCha20Poly1305::new(&Key::from(key)),
            link_key: crate::domain::action_link::LinkKey::new(link_key),
        }
    }

    pub fn link_key(&self) -> &crate::domain::action_link::LinkKey {
        &self.link_key
    }

    /// Whether `stored` is in sealed form (it may still fail to open).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    /// `context` names where the value lives (see [`channel_aad`], [`setting_aad`]).
    pub fn seal(&self, context: &str, plaintext: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SecretError::NoRandomness)?;
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            // Only fails for inputs of gigabytes; ours are bounded to hundreds of bytes.
            .map_err(|_| SecretError::NoRandomness)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD_NO_PAD.encode(bytes)))
    }

    /// The plaintext of a stored value; plaintext from before encryption passes through.
    pub fn open(&self, context: &str, stored: &str) -> Result<String, SecretError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let bytes = STANDARD_NO_PAD
            .decode(encoded)
            .map_err(|_| SecretError::Unreadable)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Unreadable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretError::Unreadable)?;
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Unreadable)
    }

    /// An optional stored value opened (a `None` stays `None`).
    pub fn open_opt(
        &self,
        context: &str,
        stored: Option<&str>,
    ) -> Result<Option<String>, SecretError> {
        stored.map(|value| self.open(context, value)).transpose()
    }
}

/// Associated data for a channel's column (`url`, `secret`) in row `id`.
pub fn channel_aad(column: &str, id: i32) -> String {
    format!("channels.{column}#{id}")
}

/// Associated data for the setting `key`.
pub fn setting_aad(key: &str) -> String {
    format!("setting.value#{key}")
}

/// HKDF-SHA256 (RFC 5869) for one 32-byte output block.
fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut extract = <Hmac<Sha256> as Mac>::new_from_slice(salt).unwrap_or_else(|_| any_key());
    extract.update(ikm);
    let prk = extract.finalize().into_bytes();
    let mut expand = <Hmac<Sha256> as Mac>::new_from_slice(&prk).unwrap_or_else(|_| any_key());
    expand.update(info);
    expand.update(&[1]);
    expand.finalize().into_bytes().into()
}

#[allow(clippy::panic)] // HMAC takes keys of any length
fn any_key() -> Hmac<Sha256> {
    panic!("HMAC accepts keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789";

    #[test]
    fn hkdf_matches_rfc5869_test_case_1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0x00u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let okm = hkdf_sha256(&salt, &ikm, &info);
        // The first 32 of the RFC's 42 output bytes (the first block).
        let expected = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf";
        let hex: String = okm.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn sealed_value_round_trips_and_hides_the_plaintext() {
        let secrets = SecretBox::from_secret_key("key-one-0123456789");
        let sealed = secrets.seal("channels.url#1", URL).expect("seal");
        assert!(SecretBox::is_sealed(&sealed));
        assert!(!sealed.contains("abcdef0123456789"), "{sealed}");
        assert_eq!(secrets.open("channels.url#1", &sealed).expect("open"), URL);
        // A fresh nonce each time: equal secrets do not look equal at rest.
        assert_ne!(sealed, secrets.seal("channels.url#1", URL).expect("seal"));
    }

    #[test]
    fn wrong_key_is_a_clear_error() {
        let sealed = SecretBox::from_secret_key("old-key-0123456789")
            .seal("setting.value#api_token", "token")
            .expect("seal");
        let error = SecretBox::from_secret_key("new-key-0123456789")
            .open("setting.value#api_token", &sealed)
            .unwrap_err();
        assert_eq!(error, SecretError::Unreadable);
        assert!(error.to_string().contains("SECRET_KEY"));
        assert!(error.to_string().contains("rekey"));
    }

    #[test]
    fn tampered_or_truncated_values_do_not_open() {
        let secrets = SecretBox::from_secret_key("key-0123456789");
        let sealed = secrets.seal("channels.secret#3", "SEC123").expect("seal");
        let encoded = sealed.strip_prefix(PREFIX).expect("prefix");
        let mut bytes = STANDARD_NO_PAD.decode(encoded).expect("base64");
        for index in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[index] ^= 1;
            let tampered = format!("{PREFIX}{}", STANDARD_NO_PAD.encode(&bytes));
            assert_eq!(
                secrets.open("channels.secret#3", &tampered),
                Err(SecretError::Unreadable),
                "byte {index}"
            );
            bytes[index] ^= 1;
        }
        for broken in [
            "enc:v1:",
            "enc:v1:!!!",
            &sealed[..sealed.len() - 4],
            "enc:v1:AAAA",
        ] {
            assert_eq!(
                secrets.open("channels.secret#3", broken),
                Err(SecretError::Unreadable),
                "{broken}"
            );
        }
    }

    #[test]
    fn a_value_moved_to_another_row_or_column_does_not_open() {
        let secrets = SecretBox::from_secret_key("key-0123456789");
        let sealed = secrets.seal(&channel_aad("url", 1), URL).expect("seal");
        for other in [
            channel_aad("url", 2),
            channel_aad("secret", 1),
            setting_aad("working_url"),
        ] {
            assert_eq!(
                secrets.open(&other, &sealed),
                Err(SecretError::Unreadable),
                "{other}"
            );
        }
    }

    #[test]
    fn plaintext_from_before_encryption_passes_through() {
        let secrets = SecretBox::from_secret_key("key-0123456789");
        assert!(!SecretBox::is_sealed(URL));
        assert_eq!(secrets.open("channels.url#1", URL).expect("open"), URL);
        assert_eq!(secrets.open_opt("x", None).expect("none"), None);
    }

    #[test]
    fn debug_hides_the_key() {
        let secrets = SecretBox::from_secret_key("very-secret-key");
        assert_eq!(format!("{secrets:?}"), "SecretBox(***)");
    }
}
