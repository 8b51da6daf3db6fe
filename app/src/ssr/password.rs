//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes,
//! 1 lane: argon2's defaults). Hashing is CPU- and memory-heavy, so it runs on
//! `HASH_THREADS` dedicated threads: a burst of logins queues instead of multiplying memory
//! use. Dedicated threads matter for memory, not only CPU: the allocator keeps each
//! thread's freed 19 MiB block for reuse, so hashing on the shared blocking pool (dozens of
//! threads) left hundreds of MiB resident after a burst of logins.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::AppError;

const HASH_THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

/// Verified instead of a real hash when the user does not exist, so that an unknown
/// username takes as long to refuse as a wrong password.
const DUMMY_PASSWORD: &str = "dummy password for timing equalisation";

#[derive(Clone)]
pub struct Passwords {
    /// Dropping the last sender ends the worker threads.
    jobs: mpsc::Sender<Job>,
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| {
            tracing::error!(%error, "password hashing failed");
            AppError::Internal
        })
}

fn verify_blocking(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(error) => {
            tracing::error!(%error, "a stored password hash cannot be parsed");
            false
        }
    }
}

impl Passwords {
    /// Computes the dummy hash once (a few tens of milliseconds).
    pub fn new() -> Result<Self, AppError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..HASH_THREADS {
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
        Ok(Self {
            jobs,
            dummy_hash: hash_blocking(DUMMY_PASSWORD)?.into(),
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
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = reply.send(work());
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
}
