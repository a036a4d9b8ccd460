//! [`LocalFsStorage`]: documents as files under a root directory.
//!
//! `put` writes a temporary file next to the target (its name ends in `~`, a character no valid
//! key contains, so it can never clash with a document), fsyncs it, renames it over the target
//! and fsyncs the directory: a reader sees the old or the new document, never a partial one, and
//! a crash leaves at worst a stray temporary file. Files are created with mode `0600` and
//! directories with `0700` on unix. Blocking file IO runs on tokio's blocking pool.

use async_trait::async_trait;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use verifa_ports::storage::{DocumentStorage, StorageError, validate_key};

/// Stores each document at `root/<key>`.
#[derive(Debug, Clone)]
pub struct LocalFsStorage {
    root: PathBuf,
}

impl LocalFsStorage {
    /// Storage rooted at `root`; the directory is created on the first write.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/<key>` for a valid key, built segment by segment.
    fn path_for(&self, key: &str) -> Result<PathBuf, StorageError> {
        validate_key(key)?;
        let mut path = self.root.clone();
        path.extend(key.split('/'));
        Ok(path)
    }
}

#[async_trait]
impl DocumentStorage for LocalFsStorage {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let path = self.path_for(key)?;
        blocking(move || write_atomic(&path, &bytes)).await
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let path = self.path_for(key)?;
        blocking(move || fs::read(&path)).await
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path_for(key)?;
        match blocking(move || fs::remove_file(&path)).await {
            Err(StorageError::NotFound) => Ok(()),
            other => other,
        }
    }

    fn backend(&self) -> &'static str {
        "local_fs"
    }
}

/// Runs blocking file IO off the async workers and maps its error.
async fn blocking<T, F>(f: F) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: FnOnce() -> io::Result<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(map_io),
        Err(join) => Err(StorageError::Unavailable(format!(
            "storage task failed: {join}"
        ))),
    }
}

/// An absent file, or a path that is a directory or runs through a file, is `NotFound`.
fn map_io(err: io::Error) -> StorageError {
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::IsADirectory | io::ErrorKind::NotADirectory => {
            StorageError::NotFound
        }
        _ => {
            tracing::warn!(error = %err, "local document storage failed");
            StorageError::Unavailable(err.to_string())
        }
    }
}

/// Distinguishes temporary files of concurrent writes within this process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no file name"));
    };
    create_dirs(dir)?;
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".{}-{n}.tmp~", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

fn write_synced(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes the rename durable (unix); a no-op elsewhere.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> (tempfile::TempDir, LocalFsStorage) {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalFsStorage::new(dir.path().join("docs"));
        (dir, storage)
    }

    #[tokio::test]
    async fn round_trip_overwrite_delete() {
        let (_dir, s) = storage();
        let key = "org_x/sandbox/ses_y/doc_z";
        assert_eq!(s.get(key).await, Err(StorageError::NotFound));
        s.put(key, b"first".to_vec()).await.unwrap();
        assert_eq!(s.get(key).await.unwrap(), b"first");
        s.put(key, b"second, longer".to_vec()).await.unwrap();
        assert_eq!(s.get(key).await.unwrap(), b"second, longer");
        s.put(key, Vec::new()).await.unwrap();
        assert_eq!(s.get(key).await.unwrap(), b"");
        s.delete(key).await.unwrap();
        assert_eq!(s.get(key).await, Err(StorageError::NotFound));
        // Deleting again is fine.
        s.delete(key).await.unwrap();
        assert_eq!(s.backend(), "local_fs");
    }

    #[tokio::test]
    async fn writes_under_root_without_leftovers() {
        let (_dir, s) = storage();
        s.put("org_x/live/ses_1/doc_1", vec![1, 2, 3])
            .await
            .unwrap();
        s.put("org_x/live/ses_1/doc_1", vec![4, 5]).await.unwrap();
        let dir = s.root().join("org_x/live/ses_1");
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["doc_1".to_owned()]);
        assert_eq!(fs::read(dir.join("doc_1")).unwrap(), vec![4, 5]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, s) = storage();
        s.put("org_x/live/ses_1/doc_1", vec![1]).await.unwrap();
        let mode = fs::metadata(s.root().join("org_x/live/ses_1/doc_1"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(s.root().join("org_x/live/ses_1"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o077, 0);
    }

    #[tokio::test]
    async fn directories_and_paths_through_files_are_not_found() {
        let (_dir, s) = storage();
        s.put("org_x/live/ses_1/doc_1", vec![1]).await.unwrap();
        assert_eq!(s.get("org_x/live").await, Err(StorageError::NotFound));
        assert_eq!(
            s.get("org_x/live/ses_1/doc_1/more").await,
            Err(StorageError::NotFound)
        );
    }

    #[tokio::test]
    async fn rejects_traversal_keys_without_touching_disk() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalFsStorage::new(dir.path().join("inner"));
        for key in ["../x", "/abs", "a//b", "a\\b", "", "a/../../x", "a/"] {
            let invalid =
                |r: Result<(), StorageError>| matches!(r, Err(StorageError::InvalidKey(_)));
            assert!(invalid(s.put(key, b"evil".to_vec()).await), "put {key:?}");
            assert!(
                matches!(s.get(key).await, Err(StorageError::InvalidKey(_))),
                "get {key:?}"
            );
            assert!(invalid(s.delete(key).await), "delete {key:?}");
        }
        assert!(!dir.path().join("x").exists());
        assert!(!dir.path().join("inner").exists());
    }

    #[tokio::test]
    async fn concurrent_writers_leave_one_whole_value() {
        let (_dir, s) = storage();
        let s = std::sync::Arc::new(s);
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let s = s.clone();
            tasks.push(tokio::spawn(
                async move { s.put("org/k", vec![i; 4096]).await },
            ));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let got = s.get("org/k").await.unwrap();
        assert_eq!(got.len(), 4096);
        assert!(got.iter().all(|b| *b == got[0]));
    }
}
