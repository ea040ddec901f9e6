//! The S3 bucket large import files are uploaded to: presigned PUT URLs for clients (api-imports), streamed reads
//! and deletes for the import worker, creation against a local emulator (the CLI). The deployed API also writes
//! account exports there (api-auth: a multipart upload fed as the export is produced, then a presigned GET URL),
//! because a Lambda behind API Gateway cannot answer more than 6 MB.
//! Objects are keyed `imports/<user id>/<import id>` and `exports/<user id>/<export id>.ndjson`; the bucket's
//! lifecycle rules expire both prefixes (the worker also deletes each import object once imported).

use std::io::BufRead;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use tokio::task::JoinHandle;
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

/// Where account exports are written; the template's lifecycle rule and the Auth function's policy name it too.
pub const EXPORT_PREFIX: &str = "exports/";

/// The object key of export `export_id` of `user_id`: under the user's own prefix, with an id of its own so no
/// export's key can be guessed from another's.
pub fn export_key(user_id: Uuid, export_id: Uuid) -> String {
    format!("{EXPORT_PREFIX}{user_id}/{export_id}.ndjson")
}

/// The part size of a [`MultipartUpload`]: a year's export (about 28 MB) is four parts, and the two parts in memory
/// at most stay a small fraction of a 256 MB Lambda.
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// S3 refuses smaller parts except the last (`EntityTooSmall` when the upload completes).
const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
const _: () = assert!(PART_BYTES >= MIN_PART_BYTES);

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

    /// A URL that lets its holder GET `key` for `ttl_secs` seconds.
    pub async fn presign_get(&self, key: &str, ttl_secs: u64) -> Result<String, UploadError> {
        let presigning =
            PresigningConfig::expires_in(Duration::from_secs(ttl_secs)).map_err(|e| UploadError::S3(e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(s3_error)?;
        Ok(request.uri().to_owned())
    }

    /// Starts a multipart upload of `key`, an object whose size is not known in advance, to be written with
    /// [`MultipartUpload::write`] and finished with [`MultipartUpload::complete`] or [`MultipartUpload::abort`].
    /// The object is encrypted as the bucket's default says.
    pub async fn start_upload(
        &self,
        key: &str,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<MultipartUpload, UploadError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type)
            .content_disposition(content_disposition)
            // Named here so every part carries its CRC32 and S3 checks each one (the SDK would otherwise add
            // checksums the upload was not created with).
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(s3_error)?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| UploadError::S3("CreateMultipartUpload answered without an upload id".into()))?;
        Ok(MultipartUpload {
            client: self.client.clone(),
            bucket: self.name.clone(),
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
            buffer: Vec::with_capacity(PART_BYTES),
            sending: None,
            parts: Vec::new(),
            bytes: 0,
        })
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

/// An object being written to S3 in parts of [`PART_BYTES`]: one part is sent while the next one fills, so at most
/// two parts are in memory whatever the object's size. Dropped without [`complete`](Self::complete) or
/// [`abort`](Self::abort) (a Lambda that timed out), its parts stay until the bucket's lifecycle rule removes them.
#[derive(Debug)]
pub struct MultipartUpload {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    upload_id: String,
    /// The part being filled.
    buffer: Vec<u8>,
    /// The part being sent, if any.
    sending: Option<JoinHandle<Result<CompletedPart, UploadError>>>,
    /// The parts sent, in order.
    parts: Vec<CompletedPart>,
    /// Bytes handed to S3 so far.
    bytes: u64,
}

impl MultipartUpload {
    /// Appends `data`. Once a part is full it is sent, after waiting for the previous one: this is where a slow or
    /// failing S3 holds the writer back, or stops it.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), UploadError> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= PART_BYTES {
            self.send_part().await?;
        }
        Ok(())
    }

    /// Sends what is left as the last part and completes the object; returns its size in bytes. On failure the
    /// upload is aborted.
    pub async fn complete(mut self) -> Result<u64, UploadError> {
        match self.finish().await {
            Ok(()) => Ok(self.bytes),
            Err(error) => {
                self.abort().await;
                Err(error)
            }
        }
    }

    /// Stops the upload and has S3 drop the parts sent so far. A failure to abort is logged, not returned: the
    /// caller is already answering with the error that made it abort, and the lifecycle rule cleans up.
    pub async fn abort(mut self) {
        if let Some(sending) = self.sending.take() {
            // A part still in flight could land after the abort and be kept: let it arrive (or fail) first.
            let _ = sending.await;
        }
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .send()
            .await;
        if let Err(error) = aborted {
            tracing::warn!(
                key = %self.key,
                error = %aws_sdk_s3::error::DisplayErrorContext(error),
                "could not abort a multipart upload; the lifecycle rule will remove it"
            );
        }
    }

    async fn finish(&mut self) -> Result<(), UploadError> {
        // The last part may be small, even empty when nothing was written (an upload needs at least one part).
        if !self.buffer.is_empty() || (self.parts.is_empty() && self.sending.is_none()) {
            self.send_part().await?;
        }
        self.wait_for_part().await?;
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    /// Starts sending the buffer as the next part, once the previous part has arrived.
    async fn send_part(&mut self) -> Result<(), UploadError> {
        self.wait_for_part().await?;
        let body = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_BYTES));
        self.bytes += body.len() as u64;
        // S3 numbers parts from 1; every earlier part has arrived, so the count is exact.
        let number = self.parts.len() as i32 + 1;
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(body));
        self.sending = Some(tokio::spawn(async move {
            let sent = request.send().await.map_err(s3_error)?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(sent.e_tag().map(str::to_owned))
                .set_checksum_crc32(sent.checksum_crc32().map(str::to_owned))
                .build())
        }));
        Ok(())
    }

    /// Waits for the part in flight, if any, and records it.
    async fn wait_for_part(&mut self) -> Result<(), UploadError> {
        if let Some(sending) = self.sending.take() {
            let part = sending
                .await
                .map_err(|e| UploadError::S3(format!("sending a part stopped: {e}")))??;
            self.parts.push(part);
        }
        Ok(())
    }
}
