//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes,
//! 1 lane: argon2's defaults). Hashing is CPU- and memory-heavy, so it runs on
//! `HASH_THREADS` dedicated threads behind a bounded queue: a burst of logins waits for a
//! place or is told to come back (`AppError::Busy`, 503 with `Retry-After`) instead of
//! queueing without end, and at most `HASH_THREADS` working memories exist at once. Each
//! hash takes its working memory when it starts and gives it back to the system when it
//! ends, so an idle server holds none.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::AppError;
use crate::domain::legacy::{Pbkdf2Digest, WerkzeugHash, WerkzeugMethod};

const HASH_THREADS: usize = 2;
/// Hashes that may wait for a thread. Logins from one address are limited to 20 at once by
/// the throttle, so one address alone never fills it; each waiting hash costs a fraction
/// of a second of the threads' time.
const HASH_QUEUE: usize = 32;
const SALT_LEN: usize = 16;

/// The working memory is reserved with at least this many 1 KiB blocks, above glibc's
/// largest dynamic mmap threshold (32 MiB on 64-bit): such an allocation is a private
/// mapping that `free` unmaps at once. A 19 MiB allocation would instead raise the
/// threshold, come from the thread's heap and stay resident after the hash (two threads
/// kept 38 MiB for the life of the process). Only the blocks argon2 uses are touched, so
/// the rest of the reservation never becomes resident.
const RESERVED_BLOCKS: usize = 33 * 1024;

type Job = Box<dyn FnOnce() + Send>;

/// Verified instead of a real hash when the user does not exist, so that an unknown
/// username takes as long to refuse as a wrong password.
const DUMMY_PASSWORD: &str = "dummy password for timing equalisation";

#[derive(Clone)]
pub struct Passwords {
    /// Dropping the last sender ends the worker threads.
    jobs: mpsc::Sender<Job>,
    /// One permit per hash running or waiting; a job holds its permit until it is done,
    /// even when the request that wanted it has gone.
    places: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

/// Runs argon2 with working memory taken for this hash and released after it.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut memory: Vec<Block> = Vec::with_capacity(blocks.max(RESERVED_BLOCKS));
    memory.resize(blocks, Block::default());
    argon2.hash_password_into_with_memory(password, salt, out, &mut memory)
}

fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "password hashing failed");
    AppError::Internal
}

/// A new PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
fn hash_blocking(password: &str) -> Result<String, AppError> {
    let params = Params::default();
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(internal)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        &salt,
        &mut out,
    )
    .map_err(internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(internal)?,
        salt: Some(Salt::new(&salt).map_err(internal)?),
        hash: Some(Output::new(&out).map_err(internal)?),
    };
    Ok(phc.to_string())
}

/// Checks a password against a stored hash: any argon2 PHC string, with that string's own
/// parameters, or a werkzeug hash imported from the Flask original.
fn verify_blocking(password: &str, stored_hash: &str) -> bool {
    if WerkzeugHash::is_werkzeug(stored_hash) {
        return verify_werkzeug(password, stored_hash);
    }
    let check = || -> Result<bool, String> {
        let parsed = PasswordHash::new(stored_hash).map_err(|e| e.to_string())?;
        let algorithm =
            Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| e.to_string())?;
        let version = match parsed.version {
            Some(version) => Version::try_from(version).map_err(|e| e.to_string())?,
            None => Version::V0x10,
        };
        let params = Params::try_from(&parsed).map_err(|e| e.to_string())?;
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err("no salt or hash".to_owned());
        };
        let mut out = vec![0u8; expected.len()];
        compute(
            algorithm,
            version,
            params,
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
        )
        .map_err(|e| e.to_string())?;
        Ok(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
    };
    match check() {
        Ok(matches) => matches,
        Err(error) => {
            tracing::error!(%error, "a stored password hash cannot be used");
            false
        }
    }
}

/// werkzeug's `check_password_hash`: PBKDF2-HMAC or scrypt over the password's UTF-8 bytes
/// with the salt's UTF-8 bytes, compared in constant time. The parameters were bounded when
/// the hash was parsed. It runs only until an account's first login here, which replaces
/// the hash; meanwhile its cost differs from argon2's (scrypt takes 32 MiB per check), which is accepted for the move-in period.
fn verify_werkzeug(password: &str, stored_hash: &str) -> bool {
    let hash = match WerkzeugHash::parse(stored_hash) {
        Ok(hash) => hash,
        Err(problem) => {
            tracing::error!(%problem, "a stored werkzeug password hash cannot be used");
            return false;
        }
    };
    let mut out = vec![0u8; hash.expected.len()];
    match hash.method {
        WerkzeugMethod::Pbkdf2 {
            digest: Pbkdf2Digest::Sha256,
            iterations,
        } => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            password.as_bytes(),
            hash.salt.as_bytes(),
            iterations,
            &mut out,
        ),
        WerkzeugMethod::Pbkdf2 {
            digest: Pbkdf2Digest::Sha512,
            iterations,
        } => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
            password.as_bytes(),
            hash.salt.as_bytes(),
            iterations,
            &mut out,
        ),
        WerkzeugMethod::Scrypt { log_n, r, p } => {
            let computed = scrypt::Params::new(log_n, r, p, out.len())
                .map_err(|error| error.to_string())
                .and_then(|params| {
                    scrypt::scrypt(password.as_bytes(), hash.salt.as_bytes(), &params, &mut out)
                        .map_err(|error| error.to_string())
                });
            if let Err(error) = computed {
                tracing::error!(%error, "a stored werkzeug scrypt hash cannot be used");
                return false;
            }
        }
    }
    bool::from(out.as_slice().ct_eq(hash.expected.as_slice()))
}

/// Whether a stored hash should be replaced with argon2id after the next successful
/// password check: werkzeug hashes from the Flask original are.
pub fn needs_upgrade(stored_hash: &str) -> bool {
    WerkzeugHash::is_werkzeug(stored_hash)
}

impl Passwords {
    /// Starts the hashing threads and computes the dummy hash (a few tens of milliseconds).
    pub fn new() -> Result<Self, AppError> {
        Self::with_capacity(HASH_THREADS, HASH_QUEUE)
    }

    /// `threads` hashing threads and room for `waiting` more hashes in the queue.
    fn with_capacity(threads: usize, waiting: usize) -> Result<Self, AppError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|error| {
                    tracing::error!(%error, "cannot start a password hashing thread");
                    AppError::Internal
                })?;
        }
        let (reply, answer) = mpsc::channel();
        jobs.send(Box::new(move || {
            let _ = reply.send(hash_blocking(DUMMY_PASSWORD));
        }))
        .map_err(internal)?;
        let dummy_hash = answer.recv().map_err(internal)??;
        Ok(Self {
            jobs,
            places: Arc::new(Semaphore::new(threads + waiting)),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        self.run(move || hash_blocking(&password)).await?
    }

    /// Checks `password` against `stored_hash`; with no hash (unknown user) it does the
    /// same work against a dummy and answers `false`.
    pub async fn verify(
        &self,
        password: &str,
        stored_hash: Option<&str>,
    ) -> Result<bool, AppError> {
        let password = password.to_owned();
        let (hash, known) = match stored_hash {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let matches = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let place = Arc::clone(&self.places)
            .try_acquire_owned()
            .map_err(|_| AppError::Busy {
                retry_after_secs: 1,
            })?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let result = work();
                // Free before answering, so the place is back when the caller goes on.
                drop(place);
                let _ = reply.send(result);
            }))
            .map_err(|_| AppError::Internal)?;
        answer.await.map_err(|_| {
            tracing::error!("a password hashing thread stopped");
            AppError::Internal
        })
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let passwords = Passwords::new().unwrap();
        let hash = passwords.hash("correct horse").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("correct horse", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("wrong horse", Some(&hash)).await.unwrap());
        assert!(!passwords.verify(DUMMY_PASSWORD, None).await.unwrap());
        assert!(!passwords.verify("x", Some("not a hash")).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_reference_implementation() {
        let passwords = Passwords::new().unwrap();
        let ours = passwords.hash("pa55word!").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pa55word!", &parsed)
                .is_ok()
        );
        // Theirs, with other parameters than ours.
        let params = Params::new(8 * 1024, 3, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pa55word!")
            .unwrap()
            .to_string();
        assert!(passwords.verify("pa55word!", Some(&theirs)).await.unwrap());
        assert!(!passwords.verify("pa55word?", Some(&theirs)).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once_and_frees_its_places() {
        let passwords = Passwords::with_capacity(1, 1).unwrap();
        // The only thread is held by the first job; the second waits in the queue.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let first = tokio::spawn({
            let passwords = passwords.clone();
            async move {
                passwords
                    .run(move || {
                        let _ = started.send(());
                        let _ = hold.recv();
                    })
                    .await
            }
        });
        running.await.unwrap();
        let waiting = tokio::spawn({
            let passwords = passwords.clone();
            async move { passwords.hash("waits its turn").await }
        });
        // The waiting hash has taken the last place once it is queued.
        while passwords.places.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            passwords.verify("one too many", None).await,
            Err(AppError::Busy {
                retry_after_secs: 1
            })
        );
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert!(waiting.await.unwrap().unwrap().starts_with("$argon2id$"));
        // Every place is back: requests are served again.
        assert!(!passwords.verify("wrong", None).await.unwrap());
        assert_eq!(passwords.places.available_permits(), 2);
    }

    /// Made with werkzeug 3.1's `generate_password_hash("secret", method)`; small work
    /// factors keep the test fast (the format is the same at any cost).
    const WERKZEUG_PBKDF2: &str = "pbkdf2:sha256:1000$irLsU9f34dXgiVB4$daa52a3f25c9c69dd76dd5544f356bc5b3b49aadeef3ca9971a25614058ef009";
    const WERKZEUG_PBKDF2_SHA512: &str = "pbkdf2:sha512:1000$RI3La0aayXUPWpR8$fdbdf2831e717f385525bc75954c56a3be06c1bb02520dffc07a8244319df081b605f7ef014a9d56315a9ac207fe021312799348476c0dedcbc142e89efb83a1";
    const WERKZEUG_SCRYPT: &str = "scrypt:1024:8:1$EWYOuuF2t4ULljfn$e15df272ea7edf1f86d24e241c019da985d194e942ef39c6421a81937be7ac213c538f02e336264ddf49e1ba3a901ace2779fe395ed840e6767da7432700bc80";

    #[tokio::test]
    async fn werkzeug_hashes_from_the_original_verify() {
        let passwords = Passwords::new().unwrap();
        for hash in [WERKZEUG_PBKDF2, WERKZEUG_PBKDF2_SHA512, WERKZEUG_SCRYPT] {
            assert!(needs_upgrade(hash));
            assert!(
                passwords.verify("secret", Some(hash)).await.unwrap(),
                "{hash}"
            );
            assert!(
                !passwords.verify("Secret", Some(hash)).await.unwrap(),
                "{hash}"
            );
        }
        assert!(!needs_upgrade(&passwords.hash("secret").await.unwrap()));
        // A damaged hash refuses every password instead of failing the request.
        assert!(
            !passwords
                .verify("secret", Some("pbkdf2:sha256:1000$salt$00"))
                .await
                .unwrap()
        );
    }
}
