//! werkzeug's password hash format, as the Flask original stored it:
//! `pbkdf2:sha256:<iterations>$<salt>$<hex>` or `scrypt:<n>:<r>:<p>$<salt>$<hex>`.
//!
//! Only the format is read here; `ssr::password` computes and compares. Parameters are
//! bounded: a stored hash decides how much work and memory a login costs, and a corrupted
//! or hostile one must not be able to take the server down.

use std::fmt;

/// werkzeug 3.1 uses 1,000,000 rounds; ten times that is still a hash, more is a mistake.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// scrypt needs 128·N·r bytes; werkzeug's default (N=32768, r=8) needs 32 MiB.
pub const MAX_SCRYPT_MEMORY: u64 = 64 * 1024 * 1024;

/// Parallel lanes run one after another here, each costing a full pass.
pub const MAX_SCRYPT_P: u32 = 16;

/// Our `password_hash` column's size; werkzeug's own hashes need at most about 170.
pub const MAX_STORED_LEN: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Digest {
    Sha256,
    Sha512,
}

impl Pbkdf2Digest {
    /// werkzeug stores the full digest: its length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WerkzeugMethod {
    Pbkdf2 {
        digest: Pbkdf2Digest,
        iterations: u32,
    },
    /// `N = 2^log_n`; werkzeug always asks for 64 bytes.
    Scrypt { log_n: u8, r: u32, p: u32 },
}

/// A parsed werkzeug hash: the salt is used as its UTF-8 bytes, as werkzeug does.
#[derive(Clone, PartialEq, Eq)]
pub struct WerkzeugHash {
    pub method: WerkzeugMethod,
    pub salt: String,
    pub expected: Vec<u8>,
}

/// Never prints the salt or the digest.
impl fmt::Debug for WerkzeugHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WerkzeugHash")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Why a stored value is not a usable werkzeug hash. Messages never quote the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashProblem {
    #[error("expected method$salt$hex (e.g. pbkdf2:sha256:600000$…$…)")]
    Shape,
    #[error("method {0} is not supported (only pbkdf2:sha256, pbkdf2:sha512 and scrypt)")]
    UnsupportedMethod(String),
    #[error("the method's parameters are missing or not numbers")]
    Parameters,
    #[error("the parameters are out of range ({0})")]
    OutOfRange(&'static str),
    #[error("the salt is empty")]
    EmptySalt,
    #[error("the digest is not hexadecimal of the method's length")]
    Digest,
    #[error("longer than the 255 characters a stored hash may have")]
    TooLong,
}

impl WerkzeugHash {
    /// Whether a stored hash is in werkzeug's format rather than ours (PHC strings start
    /// with `$`); decides which check runs and whether to upgrade after a login.
    pub fn is_werkzeug(stored: &str) -> bool {
        stored.starts_with("pbkdf2:") || stored.starts_with("scrypt:")
    }

    pub fn parse(stored: &str) -> Result<Self, HashProblem> {
        if stored.len() > MAX_STORED_LEN {
            return Err(HashProblem::TooLong);
        }
        let mut parts = stored.splitn(3, '$');
        let (Some(method), Some(salt), Some(digest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(HashProblem::Shape);
        };
        let method = parse_method(method)?;
        if salt.is_empty() {
            return Err(HashProblem::EmptySalt);
        }
        let expected = decode_hex(digest).ok_or(HashProblem::Digest)?;
        let expected_len = match method {
            WerkzeugMethod::Pbkdf2 { digest, .. } => digest.output_len(),
            WerkzeugMethod::Scrypt { .. } => 64,
        };
        if expected.len() != expected_len {
            return Err(HashProblem::Digest);
        }
        Ok(Self {
            method,
            salt: salt.to_owned(),
            expected,
        })
    }
}

fn parse_method(method: &str) -> Result<WerkzeugMethod, HashProblem> {
    let fields: Vec<&str> = method.split(':').collect();
    let number = |raw: &str| raw.parse::<u32>().map_err(|_| HashProblem::Parameters);
    match fields.as_slice() {
        ["pbkdf2", digest, iterations] => {
            let digest = match *digest {
                "sha256" => Pbkdf2Digest::Sha256,
                "sha512" => Pbkdf2Digest::Sha512,
                other => {
                    return Err(HashProblem::UnsupportedMethod(format!("pbkdf2:{other}")));
                }
            };
            let iterations = number(iterations)?;
            if !(1..=MAX_PBKDF2_ITERATIONS).contains(&iterations) {
                return Err(HashProblem::OutOfRange("iterations"));
            }
            Ok(WerkzeugMethod::Pbkdf2 { digest, iterations })
        }
        ["scrypt", n, r, p] => {
            let (n, r, p) = (number(n)?, number(r)?, number(p)?);
            if n < 2 || !n.is_power_of_two() {
                return Err(HashProblem::OutOfRange("n must be a power of two"));
            }
            if r == 0 || p == 0 || p > MAX_SCRYPT_P {
                return Err(HashProblem::OutOfRange("r or p"));
            }
            if 128 * u64::from(n) * u64::from(r) > MAX_SCRYPT_MEMORY {
                return Err(HashProblem::OutOfRange("n·r needs too much memory"));
            }
            // Lossless: n is a power of two below 2^32.
            let log_n = n.trailing_zeros() as u8;
            // scrypt's own rule: N < 2^(16·r).
            if u32::from(log_n) >= r.saturating_mul(16) {
                return Err(HashProblem::OutOfRange("n is too large for r"));
            }
            Ok(WerkzeugMethod::Scrypt { log_n, r, p })
        }
        ["pbkdf2" | "scrypt", ..] => Err(HashProblem::Parameters),
        [name, ..] => Err(HashProblem::UnsupportedMethod(
            // Only the method's name: it carries no secret, but the rest might be garbage.
            name.chars().take(20).collect(),
        )),
        [] => Err(HashProblem::Shape),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with werkzeug 3.1: `generate_password_hash("secret", "pbkdf2:sha256")`.
    const PBKDF2: &str = "pbkdf2:sha256:1000000$tPG8BW1tcW2Wv5d9$e536d498baa5feb5b4533f8193b247992330408f4fce64298b2d7b74bff5b8d8";
    /// `generate_password_hash("secret", "scrypt")`.
    const SCRYPT: &str = "scrypt:32768:8:1$OTdy63jAMOpMqeE8$b98dbfa38b2f6eaaab263b0e505fab09ed767b891bfabd1778e8079a85336e19928bcffe23863aa0c5e45e08dd6b607be1302b38cdf776432305a242d113b04f";

    #[test]
    fn werkzeug_hashes_parse() {
        let pbkdf2 = WerkzeugHash::parse(PBKDF2).expect("pbkdf2");
        assert_eq!(
            pbkdf2.method,
            WerkzeugMethod::Pbkdf2 {
                digest: Pbkdf2Digest::Sha256,
                iterations: 1_000_000
            }
        );
        assert_eq!(pbkdf2.salt, "tPG8BW1tcW2Wv5d9");
        assert_eq!(pbkdf2.expected.len(), 32);
        assert_eq!(pbkdf2.expected[0], 0xe5);
        let scrypt = WerkzeugHash::parse(SCRYPT).expect("scrypt");
        assert_eq!(
            scrypt.method,
            WerkzeugMethod::Scrypt {
                log_n: 15,
                r: 8,
                p: 1
            }
        );
        assert_eq!(scrypt.expected.len(), 64);
        assert!(WerkzeugHash::is_werkzeug(PBKDF2) && WerkzeugHash::is_werkzeug(SCRYPT));
        assert!(!WerkzeugHash::is_werkzeug(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
        ));
    }

    #[test]
    fn broken_and_unsupported_hashes_are_refused_without_quoting_them() {
        let too_long = format!("pbkdf2:sha256:1000${}$00", "s".repeat(300));
        let cases = [
            ("", HashProblem::Shape),
            ("pbkdf2:sha256:1000$salt", HashProblem::Shape),
            (
                "sha256$salt$abcd",
                HashProblem::UnsupportedMethod("sha256".into()),
            ),
            (
                "pbkdf2:sha1:1000$salt$abcd",
                HashProblem::UnsupportedMethod("pbkdf2:sha1".into()),
            ),
            ("pbkdf2:sha256$salt$abcd", HashProblem::Parameters),
            ("pbkdf2:sha256:many$salt$abcd", HashProblem::Parameters),
            (
                "pbkdf2:sha256:0$salt$abcd",
                HashProblem::OutOfRange("iterations"),
            ),
            ("pbkdf2:sha256:1000$$abcd", HashProblem::EmptySalt),
            ("pbkdf2:sha256:1000$salt$abcd", HashProblem::Digest),
            ("pbkdf2:sha256:1000$salt$zz", HashProblem::Digest),
            ("scrypt:32768:8$salt$abcd", HashProblem::Parameters),
            (
                "scrypt:1000:8:1$salt$abcd",
                HashProblem::OutOfRange("n must be a power of two"),
            ),
            (
                "scrypt:1048576:8:1$salt$abcd",
                HashProblem::OutOfRange("n·r needs too much memory"),
            ),
            (
                "scrypt:32768:8:99$salt$abcd",
                HashProblem::OutOfRange("r or p"),
            ),
            (too_long.as_str(), HashProblem::TooLong),
        ];
        for (stored, expected) in cases {
            let problem = WerkzeugHash::parse(stored).unwrap_err();
            assert_eq!(problem, expected, "{stored}");
            // The message names the problem, never the stored hash itself.
            assert!(
                stored.is_empty() || !problem.to_string().contains(stored),
                "{problem}"
            );
        }
    }

    #[test]
    fn debug_output_hides_salt_and_digest() {
        let debug = format!("{:?}", WerkzeugHash::parse(PBKDF2).expect("valid"));
        assert!(!debug.contains("tPG8BW1tcW2Wv5d9"), "{debug}");
        assert!(!debug.contains("229"), "{debug}");
    }
}
