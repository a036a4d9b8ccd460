//! [`ObjectStoreStorage`]: documents in any [`ObjectStore`] (S3 and S3-compatible stores,
//! in-memory, local filesystem).
//!
//! [`ObjectStoreStorage::from_url`] understands:
//! - `s3://bucket[/prefix]` (also `s3a://`): settings come from the standard `AWS_*` environment
//!   variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//!   `AWS_ENDPOINT_URL`/`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, …), overridden by the explicit options
//!   (`access_key_id`, `secret_access_key`, `region`, `endpoint`, `allow_http`, … with or
//!   without the `aws_` prefix; any key object_store's S3 builder knows). An `http://` endpoint
//!   (a local MinIO, say) turns on `allow_http` unless it was set explicitly. The prefix, when
//!   given, is prepended to every key.
//! - `memory://`: an in-memory store, for tests.
//! - `file:///absolute/dir`: object_store's local filesystem store rooted there (created if
//!   missing).

use async_trait::async_trait;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload};
use std::fmt;
use std::sync::Arc;
use url::Url;
use verifa_ports::storage::{DocumentStorage, StorageError, validate_key};

/// Why a storage URL or its options cannot be turned into a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageConfigError {
    /// The URL does not parse, or has parts the scheme does not allow.
    #[error("invalid storage URL: {0}")]
    InvalidUrl(String),
    /// The scheme is not `s3`, `s3a`, `memory` or `file`.
    #[error("unsupported storage URL scheme '{0}' (expected s3, memory or file)")]
    UnsupportedScheme(String),
    /// An `s3://` URL without a bucket name.
    #[error("the s3 URL has no bucket name")]
    MissingBucket,
    /// The key prefix in the URL path is not a valid key (see `validate_key`).
    #[error("invalid key prefix in the storage URL: {0}")]
    InvalidPrefix(String),
    /// An option the backend does not know (or a backend that takes no options).
    #[error("unknown storage option '{0}'")]
    UnknownOption(String),
    /// The backend refused the configuration.
    #[error("cannot build the document store: {0}")]
    Build(String),
}

/// A [`DocumentStorage`] over an [`ObjectStore`].
#[derive(Clone)]
pub struct ObjectStoreStorage {
    store: Arc<dyn ObjectStore>,
    backend: &'static str,
}

impl fmt::Debug for ObjectStoreStorage {
    // The store's own Debug output may include credentials; its Display names only the location.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStoreStorage")
            .field("backend", &self.backend)
            .field("store", &self.store.to_string())
            .finish()
    }
}

impl ObjectStoreStorage {
    /// Wraps an existing store; `backend` is the name reported by [`DocumentStorage::backend`].
    pub fn new(store: Arc<dyn ObjectStore>, backend: &'static str) -> Self {
        Self { store, backend }
    }

    /// Builds a store from a URL (see the module documentation) and backend options.
    ///
    /// # Errors
    /// [`StorageConfigError`] for a malformed or unsupported URL, an unknown option, or a
    /// configuration the backend refuses. No network request is made here.
    pub fn from_url(
        url: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, StorageConfigError> {
        let parsed = Url::parse(url).map_err(|e| StorageConfigError::InvalidUrl(e.to_string()))?;
        let options: Vec<(String, String)> = options.into_iter().collect();
        match parsed.scheme() {
            "s3" | "s3a" => {
                let (builder, prefix) = s3_builder(&parsed, options, aws_env())?;
                let s3 = builder
                    .build()
                    .map_err(|e| StorageConfigError::Build(e.to_string()))?;
                let store: Arc<dyn ObjectStore> = match prefix {
                    Some(prefix) => Arc::new(PrefixStore::new(s3, prefix)),
                    None => Arc::new(s3),
                };
                Ok(Self::new(store, "s3"))
            }
            "memory" => {
                reject_options(&options)?;
                Ok(Self::new(Arc::new(InMemory::new()), "memory"))
            }
            "file" => {
                reject_options(&options)?;
                let dir = file_dir(&parsed)?;
                std::fs::create_dir_all(&dir)
                    .map_err(|e| StorageConfigError::Build(format!("{}: {e}", dir.display())))?;
                let fs = LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| StorageConfigError::Build(e.to_string()))?;
                Ok(Self::new(Arc::new(fs), "file"))
            }
            other => Err(StorageConfigError::UnsupportedScheme(other.to_owned())),
        }
    }

    fn location(key: &str) -> Result<Path, StorageError> {
        validate_key(key)?;
        Path::parse(key).map_err(|e| StorageError::InvalidKey(e.to_string()))
    }
}

#[async_trait]
impl DocumentStorage for ObjectStoreStorage {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let location = Self::location(key)?;
        self.store
            .put(&location, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let location = Self::location(key)?;
        let result = self.store.get(&location).await.map_err(map_err)?;
        let bytes = result.bytes().await.map_err(map_err)?;
        Ok(bytes.to_vec())
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let location = Self::location(key)?;
        match self.store.delete(&location).await.map_err(map_err) {
            Err(StorageError::NotFound) => Ok(()),
            other => other,
        }
    }

    fn backend(&self) -> &'static str {
        self.backend
    }
}

fn map_err(err: object_store::Error) -> StorageError {
    match err {
        object_store::Error::NotFound { .. } => StorageError::NotFound,
        object_store::Error::InvalidPath { .. } => StorageError::InvalidKey(err.to_string()),
        other => {
            tracing::warn!(error = %other, "object store request failed");
            StorageError::Unavailable(other.to_string())
        }
    }
}

fn reject_options(options: &[(String, String)]) -> Result<(), StorageConfigError> {
    match options.first() {
        Some((key, _)) => Err(StorageConfigError::UnknownOption(key.clone())),
        None => Ok(()),
    }
}

fn file_dir(url: &Url) -> Result<std::path::PathBuf, StorageConfigError> {
    if url
        .host_str()
        .is_some_and(|h| !h.is_empty() && h != "localhost")
    {
        return Err(StorageConfigError::InvalidUrl(
            "a file URL must be file:///absolute/path".to_owned(),
        ));
    }
    url.to_file_path().map_err(|()| {
        StorageConfigError::InvalidUrl("a file URL must be file:///absolute/path".to_owned())
    })
}

/// The `AWS_*` environment variables, as `(lowercase name, value)`; non-UTF-8 ones are skipped.
fn aws_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("AWS_"))
        .collect()
}

/// The S3 builder for `url`: environment first (unknown `AWS_*` names ignored), then `options`
/// (unknown names rejected), then the bucket from the URL; returns the key prefix too.
fn s3_builder(
    url: &Url,
    options: Vec<(String, String)>,
    env: Vec<(String, String)>,
) -> Result<(AmazonS3Builder, Option<Path>), StorageConfigError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(StorageConfigError::InvalidUrl(
            "credentials do not belong in the URL; pass them as options or AWS_* variables"
                .to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || url.port().is_some() {
        return Err(StorageConfigError::InvalidUrl(
            "an s3 URL is s3://bucket/prefix, without port, query or fragment".to_owned(),
        ));
    }
    let bucket = url
        .host_str()
        .filter(|b| !b.is_empty())
        .ok_or(StorageConfigError::MissingBucket)?;
    let prefix = url.path().trim_matches('/');
    let prefix = if prefix.is_empty() {
        None
    } else {
        validate_key(prefix).map_err(|e| StorageConfigError::InvalidPrefix(e.to_string()))?;
        Some(Path::parse(prefix).map_err(|e| StorageConfigError::InvalidPrefix(e.to_string()))?)
    };

    let allow_http_key = AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp);
    let mut allow_http_set = false;
    let mut builder = AmazonS3Builder::new();
    for (name, value) in env {
        if let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            allow_http_set |= key == allow_http_key;
            builder = builder.with_config(key, value);
        }
    }
    for (name, value) in options {
        let key = name
            .to_ascii_lowercase()
            .parse::<AmazonS3ConfigKey>()
            .map_err(|_| StorageConfigError::UnknownOption(name.clone()))?;
        allow_http_set |= key == allow_http_key;
        builder = builder.with_config(key, value);
    }
    if !allow_http_set
        && builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .is_some_and(|e| e.trim_start().to_ascii_lowercase().starts_with("http://"))
    {
        builder = builder.with_allow_http(true);
    }
    Ok((builder.with_bucket_name(bucket), prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    async fn exercise(s: &ObjectStoreStorage) {
        let key = "org_x/sandbox/ses_y/doc_z";
        assert_eq!(s.get(key).await, Err(StorageError::NotFound));
        s.put(key, b"first".to_vec()).await.unwrap();
        assert_eq!(s.get(key).await.unwrap(), b"first");
        s.put(key, b"second, longer".to_vec()).await.unwrap();
        assert_eq!(s.get(key).await.unwrap(), b"second, longer");
        s.delete(key).await.unwrap();
        assert_eq!(s.get(key).await, Err(StorageError::NotFound));
        s.delete(key).await.unwrap();
        for bad in ["../x", "/abs", "a//b", "a\\b", "", "a/../b"] {
            assert!(
                matches!(s.put(bad, vec![1]).await, Err(StorageError::InvalidKey(_))),
                "{bad:?}"
            );
            assert!(
                matches!(s.get(bad).await, Err(StorageError::InvalidKey(_))),
                "{bad:?}"
            );
            assert!(
                matches!(s.delete(bad).await, Err(StorageError::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn memory_url_round_trips() {
        let s = ObjectStoreStorage::from_url("memory://", Vec::new()).unwrap();
        assert_eq!(s.backend(), "memory");
        exercise(&s).await;
    }

    #[tokio::test]
    async fn file_url_round_trips_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let url = Url::from_file_path(&root).unwrap();
        let s = ObjectStoreStorage::from_url(url.as_str(), Vec::new()).unwrap();
        assert_eq!(s.backend(), "file");
        exercise(&s).await;
        s.put("org/live/ses/doc", b"on disk".to_vec())
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(root.join("org/live/ses/doc")).unwrap(),
            b"on disk"
        );
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn rejects_bad_urls_and_options() {
        let err =
            |url: &str, o: Vec<(String, String)>| ObjectStoreStorage::from_url(url, o).unwrap_err();
        assert!(matches!(
            err("not a url", vec![]),
            StorageConfigError::InvalidUrl(_)
        ));
        assert_eq!(
            err("gs://bucket", vec![]),
            StorageConfigError::UnsupportedScheme("gs".into())
        );
        assert_eq!(
            err("http://x/y", vec![]),
            StorageConfigError::UnsupportedScheme("http".into())
        );
        assert_eq!(
            err("memory://", opts(&[("region", "x")])),
            StorageConfigError::UnknownOption("region".into())
        );
        assert!(matches!(
            err("file://remote-host/x", vec![]),
            StorageConfigError::InvalidUrl(_)
        ));
        assert_eq!(
            err("s3://bucket/p", opts(&[("no_such_option", "1")])),
            StorageConfigError::UnknownOption("no_such_option".into())
        );
        assert!(matches!(
            err("s3://user:pw@bucket/p", vec![]),
            StorageConfigError::InvalidUrl(_)
        ));
        assert!(matches!(
            err("s3://bucket/p?x=1", vec![]),
            StorageConfigError::InvalidUrl(_)
        ));
        assert!(matches!(
            err("s3://bucket/a%5Cb", vec![]),
            StorageConfigError::InvalidPrefix(_)
        ));
        assert!(matches!(
            err("s3://bucket/a%2F..%2Fb", vec![]),
            StorageConfigError::InvalidPrefix(_)
        ));
        assert!(matches!(
            err("s3://bucket/a//b", vec![]),
            StorageConfigError::InvalidPrefix(_)
        ));
        assert!(matches!(
            err("s3:///prefix", vec![]),
            StorageConfigError::MissingBucket
        ));
    }

    fn s3(
        url: &str,
        options: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> (AmazonS3Builder, Option<Path>) {
        s3_builder(&Url::parse(url).unwrap(), opts(options), opts(env)).unwrap()
    }

    fn value(b: &AmazonS3Builder, key: AmazonS3ConfigKey) -> Option<String> {
        b.get_config_value(&key)
    }

    #[test]
    fn s3_bucket_and_prefix_from_url() {
        let (b, prefix) = s3("s3://docs-bucket/verifa/documents/", &[], &[]);
        assert_eq!(
            value(&b, AmazonS3ConfigKey::Bucket).as_deref(),
            Some("docs-bucket")
        );
        assert_eq!(prefix, Some(Path::from("verifa/documents")));
        let (b, prefix) = s3("s3://docs-bucket", &[], &[]);
        assert_eq!(
            value(&b, AmazonS3ConfigKey::Bucket).as_deref(),
            Some("docs-bucket")
        );
        assert_eq!(prefix, None);
        let (_, prefix) = s3("s3a://b/p", &[], &[]);
        assert_eq!(prefix, Some(Path::from("p")));
        // The URL parser resolves dot segments before the prefix is read.
        let (_, prefix) = s3("s3://b/a/../c", &[], &[]);
        assert_eq!(prefix, Some(Path::from("c")));
    }

    #[test]
    fn s3_options_override_environment() {
        let env = [
            ("AWS_ACCESS_KEY_ID", "env-key"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_SOME_UNKNOWN_VARIABLE", "ignored"),
        ];
        let (b, _) = s3("s3://b", &[], &env);
        assert_eq!(
            value(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(),
            Some("env-key")
        );
        assert_eq!(
            value(&b, AmazonS3ConfigKey::SecretAccessKey).as_deref(),
            Some("env-secret")
        );
        assert_eq!(
            value(&b, AmazonS3ConfigKey::Region).as_deref(),
            Some("eu-west-1")
        );

        let options = [("access_key_id", "opt-key"), ("AWS_REGION", "us-east-2")];
        let (b, _) = s3("s3://b", &options, &env);
        assert_eq!(
            value(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(),
            Some("opt-key")
        );
        assert_eq!(
            value(&b, AmazonS3ConfigKey::SecretAccessKey).as_deref(),
            Some("env-secret")
        );
        assert_eq!(
            value(&b, AmazonS3ConfigKey::Region).as_deref(),
            Some("us-east-2")
        );
    }

    #[test]
    fn s3_http_endpoint_allows_http_unless_set() {
        let allow = || AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp);
        let (b, _) = s3("s3://b", &[("endpoint", "http://127.0.0.1:9000")], &[]);
        assert_eq!(
            value(&b, AmazonS3ConfigKey::Endpoint).as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(value(&b, allow()).as_deref(), Some("true"));

        let (b, _) = s3("s3://b", &[], &[("AWS_ENDPOINT_URL", "http://minio:9000")]);
        assert_eq!(
            value(&b, AmazonS3ConfigKey::Endpoint).as_deref(),
            Some("http://minio:9000")
        );
        assert_eq!(value(&b, allow()).as_deref(), Some("true"));

        let (b, _) = s3(
            "s3://b",
            &[("endpoint", "http://minio:9000"), ("allow_http", "false")],
            &[],
        );
        assert_eq!(value(&b, allow()).as_deref(), Some("false"));

        let (b, _) = s3("s3://b", &[("endpoint", "https://s3.example.com")], &[]);
        assert_ne!(value(&b, allow()).as_deref(), Some("true"));
    }

    #[test]
    fn s3_store_builds_without_network() {
        let s = ObjectStoreStorage::from_url(
            "s3://b/prefix",
            opts(&[
                ("endpoint", "http://127.0.0.1:9000"),
                ("region", "us-east-1"),
                ("access_key_id", "k"),
                ("secret_access_key", "s"),
            ]),
        )
        .unwrap();
        assert_eq!(s.backend(), "s3");
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("secret_access_key") && !debug.contains("\"s\""),
            "{debug}"
        );
    }
}
