//! The S3 bucket large import files are uploaded to: presigned PUT URLs for clients (api-imports), streamed reads
//! and deletes for the import worker, creation against a local emulator (the CLI).
//! Objects are keyed `imports/<user id>/<import id>`; the bucket's lifecycle rule expires them (the worker also
//! deletes each object once imported).

use std::io::BufRead;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use uuid::Uuid;

/// Environment variable naming the bucket.
pub const BUCKET_ENV: &str = "IMPORTS_BUCKET";

/// The bucket used against a local emulator when `IMPORTS_BUCKET` is not set (`glucolens serve`, `infra/run.sh`).
pub const LOCAL_BUCKET: &str = "glucolens-imports-local";

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{BUCKET_ENV} is not set")]
    NotConfigured,
    #[error("S3: {0}")]
    S3(String),
}

/// An S3 call's error with its whole cause chain (the SDK's own `Display` says only "service error").
fn s3_error(error: impl std::error::Error + 'static) -> UploadError {
    UploadError::S3(aws_sdk_s3::error::DisplayErrorContext(error).to_string())
}

#[derive(Debug, Clone)]
pub struct UploadBucket {
    client: aws_sdk_s3::Client,
    name: String,
    /// Against a local emulator the bucket is created when missing (deployed buckets belong to the template).
    emulator: bool,
}

/// The object key of import `import_id` of `user_id`.
pub fn object_key(user_id: Uuid, import_id: Uuid) -> String {
    format!("imports/{user_id}/{import_id}")
}

impl UploadBucket {
    /// The bucket named by `IMPORTS_BUCKET`, with the SDK configured from the environment. Against a local emulator
    /// (`AWS_ENDPOINT_URL`) the name defaults to [`LOCAL_BUCKET`] and the bucket is created if missing.
    pub async fn from_env() -> Result<Self, UploadError> {
        let sdk = aws_config::load_from_env().await;
        let name = match std::env::var(BUCKET_ENV) {
            Ok(name) => name,
            Err(_) if sdk.endpoint_url().is_some() => LOCAL_BUCKET.to_owned(),
            Err(_) => return Err(UploadError::NotConfigured),
        };
        let bucket = Self::new(&sdk, name);
        bucket.ensure_exists().await?;
        Ok(bucket)
    }

    /// Path-style addressing when an emulator (`AWS_ENDPOINT_URL`, moto) stands in for S3: it has no per-bucket
    /// host names.
    pub fn new(sdk: &aws_config::SdkConfig, name: String) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(config),
            name,
            emulator: sdk.endpoint_url().is_some(),
        }
    }

    /// Local emulator only: creates the bucket if it is missing (first use, or the emulator restarted empty).
    /// Returns whether it had to. A deployed bucket is never created here.
    pub async fn ensure_exists(&self) -> Result<bool, UploadError> {
        if !self.emulator || self.client.head_bucket().bucket(&self.name).send().await.is_ok() {
            return Ok(false);
        }
        let created = self.client.create_bucket().bucket(&self.name).send().await;
        match created {
            Ok(_) => Ok(true),
            // Created meanwhile by another process: fine.
            Err(e) if self.client.head_bucket().bucket(&self.name).send().await.is_ok() => {
                tracing::debug!(error = %aws_sdk_s3::error::DisplayErrorContext(e), "create_bucket");
                Ok(false)
            }
            Err(e) => Err(s3_error(e)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// A URL that lets its holder PUT `key` for `ttl_secs` seconds.
    pub async fn presign_put(&self, key: &str, ttl_secs: u64) -> Result<String, UploadError> {
        let presigning =
            PresigningConfig::expires_in(Duration::from_secs(ttl_secs)).map_err(|e| UploadError::S3(e.to_string()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(s3_error)?;
        Ok(request.uri().to_owned())
    }

    /// The object `key` as a blocking reader streaming from S3 (for the import service's parser thread): never
    /// held whole in memory or on disk.
    pub async fn open(&self, key: &str) -> Result<impl BufRead + Send + 'static, UploadError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
            .map_err(s3_error)?;
        let stream = object.body.into_async_read();
        Ok(std::io::BufReader::with_capacity(
            256 * 1024,
            tokio_util::io::SyncIoBridge::new(stream),
        ))
    }

    /// Deletes `key` (after its import finished).
    pub async fn delete(&self, key: &str) -> Result<(), UploadError> {
        self.client
            .delete_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }
}
