//! Imported files kept under `UPLOAD_DIR/imports/<owner>/` for reference: each owner keeps
//! at most `MAX_FILES_PER_OWNER` files and `MAX_BYTES_PER_OWNER` bytes (oldest go first),
//! and nothing is kept longer than `UPLOAD_RETENTION_DAYS`. Keeping is best effort: a
//! failure is logged, never undoes the import.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const MAX_FILES_PER_OWNER: usize = 20;
pub const MAX_BYTES_PER_OWNER: u64 = 64 * 1024 * 1024;

/// The folder of one owner's files: `user-<id>`, or `api-token` for the installation token.
pub fn owner_dir(upload_dir: &Path, user_id: Option<i32>) -> PathBuf {
    let owner = user_id.map_or_else(|| "api-token".to_owned(), |id| format!("user-{id}"));
    upload_dir.join("imports").join(owner)
}

/// Writes `bytes` as `name` in the owner's folder, then trims the folder to its caps.
pub async fn keep(folder: PathBuf, name: String, bytes: Vec<u8>) {
    let result = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(&name), &bytes)?;
        trim_to_caps(&folder, MAX_FILES_PER_OWNER, MAX_BYTES_PER_OWNER)
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "could not keep the imported file"),
        Err(error) => tracing::warn!(%error, "keeping the imported file failed"),
    }
}

/// Files in `folder`, newest first: (path, size, modified).
fn files_newest_first(folder: &Path) -> std::io::Result<Vec<(PathBuf, u64, SystemTime)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        if metadata.is_file() {
            let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            files.push((entry.path(), metadata.len(), modified));
        }
    }
    files.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| b.0.cmp(&a.0)));
    Ok(files)
}

/// Deletes the oldest files until at most `max_files` remain within `max_bytes`.
pub fn trim_to_caps(folder: &Path, max_files: usize, max_bytes: u64) -> std::io::Result<()> {
    let mut total = 0u64;
    for (index, (path, size, _)) in files_newest_first(folder)?.into_iter().enumerate() {
        total = total.saturating_add(size);
        if index >= max_files || total > max_bytes {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

/// Deletes kept files older than `retention` (by modification time) in every owner's
/// folder; answers how many went.
pub fn prune_expired(
    upload_dir: &Path,
    retention: Duration,
    now: SystemTime,
) -> std::io::Result<u64> {
    let imports = upload_dir.join("imports");
    if !imports.is_dir() {
        return Ok(0);
    }
    let cutoff = now.checked_sub(retention).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    let mut folders = vec![imports.clone()];
    for entry in std::fs::read_dir(&imports)? {
        let path = entry?.path();
        if path.is_dir() {
            folders.push(path);
        }
    }
    for folder in folders {
        for (path, _, modified) in files_newest_first(&folder)? {
            if modified < cutoff {
                std::fs::remove_file(path)?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_aged(folder: &Path, name: &str, size: usize, age_secs: u64) {
        let path = folder.join(name);
        std::fs::write(&path, vec![b'x'; size]).unwrap();
        let modified = SystemTime::now() - Duration::from_secs(age_secs);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
    }

    fn names(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_owner_keeps_the_newest_files_within_both_caps() {
        let dir = tempfile_dir();
        for (i, age) in [50, 40, 30, 20, 10].iter().enumerate() {
            write_aged(&dir, &format!("f{i}"), 10, *age);
        }
        trim_to_caps(&dir, 3, 1000).unwrap();
        assert_eq!(names(&dir), ["f2", "f3", "f4"]);
        trim_to_caps(&dir, 10, 25).unwrap();
        assert_eq!(names(&dir), ["f3", "f4"]);
    }

    #[test]
    fn files_past_retention_are_deleted_in_every_owner_folder() {
        let root = tempfile_dir();
        let alice = owner_dir(&root, Some(7));
        let api = owner_dir(&root, None);
        std::fs::create_dir_all(&alice).unwrap();
        std::fs::create_dir_all(&api).unwrap();
        let day = 24 * 3600;
        write_aged(&alice, "old", 1, 31 * day);
        write_aged(&alice, "new", 1, 29 * day);
        write_aged(&api, "old", 1, 40 * day);
        let removed =
            prune_expired(&root, Duration::from_secs(30 * day), SystemTime::now()).unwrap();
        assert_eq!(removed, 2);
        assert_eq!(names(&alice), ["new"]);
        assert!(names(&api).is_empty());
        assert_eq!(
            prune_expired(&root.join("none"), Duration::ZERO, SystemTime::now()).unwrap(),
            0
        );
    }

    fn tempfile_dir() -> PathBuf {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "dda-uploads-{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
