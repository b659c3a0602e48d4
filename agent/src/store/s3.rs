//! The S3 store (aws-sdk-s3 over rustls), path-style addressing, for MinIO and any S3-compatible
//! server.
//!
//! Configured from upstream's variables (`MINIO_ENDPOINT` as `host:port`, `MINIO_ACCESS_KEY`,
//! `MINIO_SECRET_KEY`, `MINIO_USE_SSL=true` for https) or the standard AWS ones
//! (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, profiles,
//! web identity...).

use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::compose::next_item;
use super::parts::next_part;
use super::{
    ComposeItem, ComposeReceiver, ComposeSource, Composed, MIN_PART_BYTES, Metadata, ObjectInfo, ObjectStore,
    PartReceiver, StoreError, StoreResult,
};

/// Parts of a composed write in flight at once. Copies are cheap for the agent (the server does
/// the work) but each takes a round trip and the server's copy time: issued together, a change
/// in 1 GiB of state does not wait for ~100 sequential copies.
const COMPOSE_COPIES_IN_FLIGHT: usize = 16;
/// Uploaded parts in flight at once: each holds its bytes (a few MiB) until it is sent, and
/// the agent's memory must stay low while it uploads 1 GiB of state.
const COMPOSE_UPLOADS_IN_FLIGHT: usize = 1;

/// Longest wait for a connection to the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait from sending a request (its body included: a part of 8 MiB) to the first byte
/// of the answer.
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest attempt of one request; the SDK makes three.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest pause between two chunks of a downloaded body.
const IDLE_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Metadata names as S3 returns them: lowercase, whatever case the server sent.
fn user_metadata(headers: Option<&std::collections::HashMap<String, String>>) -> Metadata {
    headers
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect()
}

/// Where and how to reach the S3 server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Full URL (`http://minio:9000`), or `None` for AWS's own endpoints.
    pub endpoint: Option<String>,
    /// Static credentials (`MINIO_*`), or `None` for the AWS provider chain.
    pub credentials: Option<(String, String)>,
    pub region: String,
}

impl S3Config {
    /// Reads the configuration; `Ok(None)` when no S3 endpoint or AWS credentials are configured.
    pub fn from_env() -> Result<Option<S3Config>, String> {
        use the0_sdk::env::non_empty;
        let region = non_empty("AWS_REGION")
            .or_else(|| non_empty("AWS_DEFAULT_REGION"))
            .or_else(|| non_empty("MINIO_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        if let Some(endpoint) = non_empty("MINIO_ENDPOINT") {
            let required = |name: &str| {
                non_empty(name).ok_or_else(|| format!("MINIO_ENDPOINT is set but {name} is not"))
            };
            let credentials = (required("MINIO_ACCESS_KEY")?, required("MINIO_SECRET_KEY")?);
            let endpoint = if endpoint.contains("://") {
                endpoint
            } else {
                let tls =
                    std::env::var("MINIO_USE_SSL").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
                format!("{}://{endpoint}", if tls { "https" } else { "http" })
            };
            return Ok(Some(S3Config {
                endpoint: Some(endpoint),
                credentials: Some(credentials),
                region,
            }));
        }
        let endpoint = non_empty("AWS_ENDPOINT_URL_S3").or_else(|| non_empty("AWS_ENDPOINT_URL"));
        if endpoint.is_none()
            && non_empty("AWS_ACCESS_KEY_ID").is_none()
            && non_empty("AWS_PROFILE").is_none()
        {
            return Ok(None);
        }
        Ok(Some(S3Config {
            endpoint,
            credentials: None,
            region,
        }))
    }
}

/// A store on an S3-compatible server.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    description: String,
}

impl S3Store {
    /// Builds the client. Nothing is sent until the first request.
    pub async fn connect(config: S3Config) -> S3Store {
        let mut builder = match &config.credentials {
            Some((access, secret)) => aws_sdk_s3::config::Builder::new()
                .behavior_version(BehaviorVersion::latest())
                .credentials_provider(Credentials::new(access, secret, None, None, "the0-agent")),
            None => {
                let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
                aws_sdk_s3::config::Builder::from(&shared)
            }
        };
        builder = builder
            .region(Region::new(config.region.clone()))
            .force_path_style(true)
            // S3-compatible servers do not all accept the newer default checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            // A frozen store (connections accepted, never answered) must not wedge the sync loop:
            // every attempt is bounded, and so are the pauses inside a streamed body
            // (`IDLE_BODY_TIMEOUT`). The stop budget bounds the final sync on top of this.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .read_timeout(FIRST_BYTE_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            );
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        S3Store {
            client: Client::from_conf(builder.build()),
            description: format!("s3 {}", config.endpoint.as_deref().unwrap_or("(AWS)")),
        }
    }

    /// The S3 client, for tools that need more than [`ObjectStore`] (the orchestrator's GC).
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn info(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectInfo>> {
        match self.client.head_object().bucket(bucket).key(key).send().await {
            Ok(head) => Ok(Some(ObjectInfo {
                size: head.content_length().unwrap_or(0).max(0) as u64,
                metadata: user_metadata(head.metadata()),
                etag: head.e_tag().unwrap_or_default().to_owned(),
            })),
            // A HEAD response has no body, so no error code: the SDK maps its 404 to NotFound.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) || is_missing(&e) => Ok(None),
            Err(e) => Err(failure("head", bucket, key, e)),
        }
    }

    /// Starts a multipart upload of `key` with its content type and metadata; returns its id.
    async fn start_multipart(
        &self,
        operation: &'static str,
        bucket: &str,
        key: &str,
        content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<String> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .set_metadata(Some(metadata.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| failure(operation, bucket, key, e))?;
        Ok(created.upload_id().unwrap_or_default().to_owned())
    }

    /// Uploads `first` and the rest of `parts` as a multipart upload; aborts it on any failure.
    async fn multipart(
        &self,
        bucket: &str,
        key: &str,
        first: Bytes,
        parts: &mut PartReceiver,
        content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<u64> {
        let upload_id = self
            .start_multipart("start upload", bucket, key, content_type, metadata)
            .await?;
        let uploaded = async {
            let mut completed = Vec::new();
            let mut size = first.len() as u64;
            completed.push(self.upload_part(bucket, key, &upload_id, 1, first).await?);
            loop {
                let part = next_part(parts)
                    .await
                    .map_err(|e| StoreError::new("upload", bucket, key, e))?;
                if !part.bytes.is_empty() {
                    size += part.bytes.len() as u64;
                    let number = completed.len() as i32 + 1;
                    completed.push(
                        self.upload_part(bucket, key, &upload_id, number, part.bytes)
                            .await?,
                    );
                }
                if part.last {
                    break;
                }
            }
            self.complete(bucket, key, &upload_id, completed).await?;
            Ok(size)
        }
        .await;
        if uploaded.is_err() {
            self.abort(bucket, key, &upload_id).await;
        }
        uploaded
    }

    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: i32,
        bytes: Bytes,
    ) -> StoreResult<CompletedPart> {
        let uploaded = self
            .client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| failure("upload part", bucket, key, e))?;
        Ok(CompletedPart::builder()
            .part_number(number)
            .e_tag(uploaded.e_tag().unwrap_or_default())
            .build())
    }

    /// Completes a multipart upload; returns the new object's ETag.
    async fn complete(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> StoreResult<String> {
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| failure("complete upload", bucket, key, e))?;
        Ok(completed.e_tag().unwrap_or_default().to_owned())
    }

    /// Best effort: an upload left behind is invisible and S3 lifecycle rules or the GC remove it.
    async fn abort(&self, bucket: &str, key: &str, upload_id: &str) {
        let _ = self
            .client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
    }
}

/// Whether an error means "no such object" (or no such bucket: a first run).
fn is_missing<E: ProvideErrorMetadata, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> bool {
    matches!(error.code(), Some("NoSuchKey" | "NoSuchBucket"))
}

fn failure<E: std::error::Error + 'static>(
    operation: &'static str,
    bucket: &str,
    key: &str,
    error: E,
) -> StoreError {
    StoreError::new(operation, bucket, key, describe_error(&error))
}

/// The error and its sources on one line (the SDK's top-level message alone is often just
/// "dispatch failure" or "service error").
fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl S3Store {
    /// Writes a whole object with `metadata` in one request.
    async fn put_with(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<()> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .set_metadata((!metadata.is_empty()).then(|| metadata.clone().into_iter().collect()))
            .body(ByteStream::from(body))
            .send()
            .await
            .map(drop)
            .map_err(|e| failure("put", bucket, key, e))
    }
}

/// The next chunk of a streamed body, or an error if the server pauses longer than
/// [`IDLE_BODY_TIMEOUT`] (a frozen server keeps the connection open and sends nothing).
async fn next_chunk(
    body: &mut ByteStream,
    operation: &'static str,
    bucket: &str,
    key: &str,
) -> StoreResult<Option<Bytes>> {
    match tokio::time::timeout(IDLE_BODY_TIMEOUT, body.next()).await {
        Ok(Some(chunk)) => chunk.map(Some).map_err(|e| failure(operation, bucket, key, e)),
        Ok(None) => Ok(None),
        Err(_) => Err(StoreError::new(
            operation,
            bucket,
            key,
            format!(
                "the server sent nothing for {} s in the middle of the object",
                IDLE_BODY_TIMEOUT.as_secs()
            ),
        )),
    }
}

impl S3Store {
    /// The multipart upload of a composed write; `pending` holds the items already received.
    #[allow(clippy::too_many_arguments)]
    async fn compose_multipart(
        &self,
        bucket: &str,
        key: &str,
        source: Option<&ComposeSource>,
        pending: Vec<ComposeItem>,
        items: &mut ComposeReceiver,
        content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<Composed> {
        let upload_id = self
            .start_multipart("start upload", bucket, key, content_type, metadata)
            .await?;
        let composed = self
            .compose_parts(bucket, key, source, &upload_id, pending, items)
            .await;
        if composed.is_err() {
            self.abort(bucket, key, &upload_id).await;
        }
        composed
    }

    /// Sends every part (a bounded number at once) and completes the upload.
    async fn compose_parts(
        &self,
        bucket: &str,
        key: &str,
        source: Option<&ComposeSource>,
        upload_id: &str,
        pending: Vec<ComposeItem>,
        items: &mut ComposeReceiver,
    ) -> StoreResult<Composed> {
        use std::sync::Arc;
        use tokio::sync::Semaphore;
        let copy_slots = Arc::new(Semaphore::new(COMPOSE_COPIES_IN_FLIGHT));
        let upload_slots = Arc::new(Semaphore::new(COMPOSE_UPLOADS_IN_FLIGHT));
        let mut running = tokio::task::JoinSet::new();
        let mut composed = Composed::default();
        let mut pending = pending.into_iter();
        let mut number = 0i32;
        let mut parts = Vec::new();
        loop {
            let item = match pending.next() {
                Some(item) => item,
                None => next_item(items)
                    .await
                    .map_err(|e| StoreError::new("upload", bucket, key, e))?,
            };
            // A part that already failed ends the upload without waiting for the producer.
            while let Some(done) = running.try_join_next() {
                parts.push(done.map_err(|e| StoreError::new("upload", bucket, key, e))??);
            }
            let job = match item {
                ComposeItem::End => break,
                ComposeItem::Upload(bytes) if bytes.is_empty() => continue,
                ComposeItem::Upload(bytes) => {
                    composed.uploaded += bytes.len() as u64;
                    composed.size += bytes.len() as u64;
                    PartJob::Upload(bytes)
                }
                ComposeItem::Copy { start, end } => {
                    let source = source.ok_or_else(|| {
                        StoreError::new("upload", bucket, key, "a copied part without a source object")
                    })?;
                    composed.copied += end - start;
                    composed.size += end - start;
                    PartJob::Copy {
                        source: format!("{bucket}/{}", source.key),
                        range: format!("bytes={start}-{}", end.saturating_sub(1)),
                        etag: source.etag.clone(),
                    }
                }
            };
            number += 1;
            let slots = match job {
                PartJob::Upload(_) => &upload_slots,
                PartJob::Copy { .. } => &copy_slots,
            };
            let slot = Arc::clone(slots)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let (client, bucket, key, upload_id) = (
                self.client.clone(),
                bucket.to_owned(),
                key.to_owned(),
                upload_id.to_owned(),
            );
            running.spawn(async move {
                let part = job.send(&client, &bucket, &key, &upload_id, number).await;
                drop(slot);
                part
            });
        }
        while let Some(done) = running.join_next().await {
            parts.push(done.map_err(|e| StoreError::new("upload", bucket, key, e))??);
        }
        parts.sort_by_key(|p| p.part_number());
        composed.etag = self.complete(bucket, key, upload_id, parts).await?;
        Ok(composed)
    }
}

/// One part of a composed upload, sent on its own task.
enum PartJob {
    Upload(Bytes),
    Copy {
        /// `bucket/key`.
        source: String,
        /// `bytes=a-b`, inclusive.
        range: String,
        etag: String,
    },
}

impl PartJob {
    async fn send(
        self,
        client: &Client,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: i32,
    ) -> StoreResult<CompletedPart> {
        let etag = match self {
            PartJob::Upload(bytes) => client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map_err(|e| failure("upload part", bucket, key, e))?
                .e_tag()
                .unwrap_or_default()
                .to_owned(),
            PartJob::Copy { source, range, etag } => client
                .upload_part_copy()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .copy_source(source)
                .copy_source_range(range)
                .copy_source_if_match(etag)
                .send()
                .await
                .map_err(|e| failure("copy part", bucket, key, e))?
                .copy_part_result()
                .and_then(|r| r.e_tag())
                .unwrap_or_default()
                .to_owned(),
        };
        Ok(CompletedPart::builder().part_number(number).e_tag(etag).build())
    }
}

impl ObjectStore for S3Store {
    async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        start: u64,
        end: u64,
        etag: &str,
    ) -> StoreResult<Vec<u8>> {
        if end <= start {
            return Ok(Vec::new());
        }
        let object = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(format!("bytes={start}-{}", end - 1))
            .if_match(etag)
            .send()
            .await
            .map_err(|e| failure("get range", bucket, key, e))?;
        let mut bytes = Vec::with_capacity((end - start) as usize);
        let mut body = object.body;
        while let Some(chunk) = next_chunk(&mut body, "get range", bucket, key).await? {
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() as u64 != end - start {
            return Err(StoreError::new(
                "get range",
                bucket,
                key,
                format!("asked for {} bytes, got {}", end - start, bytes.len()),
            ));
        }
        Ok(bytes)
    }

    async fn compose(
        &self,
        bucket: &str,
        key: &str,
        source: Option<&ComposeSource>,
        mut items: ComposeReceiver,
        content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<Composed> {
        let first = next_item(&mut items)
            .await
            .map_err(|e| StoreError::new("upload", bucket, key, e))?;
        if let ComposeItem::Upload(bytes) = &first {
            let second = next_item(&mut items)
                .await
                .map_err(|e| StoreError::new("upload", bucket, key, e))?;
            if second == ComposeItem::End {
                // Small enough for one request.
                let size = bytes.len() as u64;
                self.put_with(bucket, key, bytes.to_vec(), content_type, metadata)
                    .await?;
                let etag = self.info(bucket, key).await?.map(|i| i.etag).unwrap_or_default();
                return Ok(Composed {
                    size,
                    etag,
                    uploaded: size,
                    copied: 0,
                });
            }
            return self
                .compose_multipart(
                    bucket,
                    key,
                    source,
                    vec![first, second],
                    &mut items,
                    content_type,
                    metadata,
                )
                .await;
        }
        self.compose_multipart(
            bucket,
            key,
            source,
            vec![first],
            &mut items,
            content_type,
            metadata,
        )
        .await
    }
    async fn download(&self, bucket: &str, key: &str, dest: &Path) -> StoreResult<Option<Metadata>> {
        let object = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(object) => object,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(failure("download", bucket, key, e)),
        };
        let metadata = user_metadata(object.metadata());
        let io_error = |e: std::io::Error| StoreError::new("download", bucket, key, e);
        let mut file = tokio::fs::File::create(dest).await.map_err(io_error)?;
        let mut body = object.body;
        while let Some(chunk) = next_chunk(&mut body, "download", bucket, key).await? {
            file.write_all(&chunk).await.map_err(io_error)?;
        }
        file.flush().await.map_err(io_error)?;
        Ok(Some(metadata))
    }

    async fn get(&self, bucket: &str, key: &str, limit: u64) -> StoreResult<Option<Vec<u8>>> {
        let object = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(object) => object,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(failure("get", bucket, key, e)),
        };
        let declared = object.content_length().unwrap_or(0).max(0) as u64;
        if declared > limit {
            return Err(StoreError::new(
                "get",
                bucket,
                key,
                format!("object is {declared} bytes, more than the {limit} allowed"),
            ));
        }
        let mut bytes = Vec::with_capacity(declared as usize);
        let mut body = object.body;
        while let Some(chunk) = next_chunk(&mut body, "get", bucket, key).await? {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(StoreError::new(
                    "get",
                    bucket,
                    key,
                    format!("object is more than the {limit} bytes allowed"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) -> StoreResult<()> {
        self.put_with(bucket, key, body, content_type, &Metadata::new())
            .await
    }

    async fn put_parts(
        &self,
        bucket: &str,
        key: &str,
        mut parts: PartReceiver,
        content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<u64> {
        let first = next_part(&mut parts)
            .await
            .map_err(|e| StoreError::new("upload", bucket, key, e))?;
        if first.last {
            // Small enough for one request.
            let size = first.bytes.len() as u64;
            self.put_with(bucket, key, first.bytes.to_vec(), content_type, metadata)
                .await?;
            return Ok(size);
        }
        self.multipart(bucket, key, first.bytes, &mut parts, content_type, metadata)
            .await
    }

    /// S3 has no append: a small object is rewritten whole; from [`MIN_PART_BYTES`] on, a
    /// multipart upload copies the existing object server-side as part 1 and adds `bytes` as
    /// part 2, so a large daily log is never downloaded. Either way the new content and its
    /// metadata appear in one step.
    async fn append(&self, bucket: &str, key: &str, bytes: Vec<u8>, metadata: &Metadata) -> StoreResult<()> {
        const CONTENT_TYPE: &str = "application/x-ndjson";
        let existing = self.info(bucket, key).await?.map(|info| info.size);
        match existing {
            None => return self.put_with(bucket, key, bytes, CONTENT_TYPE, metadata).await,
            Some(size) if size < MIN_PART_BYTES as u64 => {
                let mut content = self
                    .get(bucket, key, MIN_PART_BYTES as u64)
                    .await?
                    .unwrap_or_default();
                content.extend_from_slice(&bytes);
                return self.put_with(bucket, key, content, CONTENT_TYPE, metadata).await;
            }
            Some(_) => {}
        }
        let upload_id = self
            .start_multipart("start append", bucket, key, CONTENT_TYPE, metadata)
            .await?;
        let appended = async {
            let copied = self
                .client
                .upload_part_copy()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(1)
                .copy_source(format!("{bucket}/{key}"))
                .send()
                .await
                .map_err(|e| failure("append (copy)", bucket, key, e))?;
            let existing = CompletedPart::builder()
                .part_number(1)
                .e_tag(
                    copied
                        .copy_part_result()
                        .and_then(|r| r.e_tag())
                        .unwrap_or_default(),
                )
                .build();
            let added = self
                .upload_part(bucket, key, &upload_id, 2, Bytes::from(bytes))
                .await?;
            self.complete(bucket, key, &upload_id, vec![existing, added])
                .await
                .map(drop)
        }
        .await;
        if appended.is_err() {
            self.abort(bucket, key, &upload_id).await;
        }
        appended
    }

    async fn head(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectInfo>> {
        self.info(bucket, key).await
    }

    async fn copy(&self, bucket: &str, from: &str, to: &str) -> StoreResult<()> {
        self.client
            .copy_object()
            .bucket(bucket)
            .key(to)
            .copy_source(format!("{bucket}/{from}"))
            .send()
            .await
            .map(drop)
            .map_err(|e| failure("copy", bucket, from, e))
    }

    async fn ensure_bucket(&self, bucket: &str) -> StoreResult<()> {
        if self.client.head_bucket().bucket(bucket).send().await.is_ok() {
            return Ok(());
        }
        match self.client.create_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()) =>
            {
                Ok(())
            }
            Err(e) => Err(failure("create bucket", bucket, "", e)),
        }
    }

    async fn abort_incomplete_uploads(
        &self,
        bucket: &str,
        key: &str,
        before: SystemTime,
    ) -> StoreResult<usize> {
        let mut aborted = 0;
        let (mut key_marker, mut upload_marker) = (None::<String>, None::<String>);
        loop {
            let listed = match self
                .client
                .list_multipart_uploads()
                .bucket(bucket)
                .prefix(key)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_marker.take())
                .send()
                .await
            {
                Ok(listed) => listed,
                Err(e) if is_missing(&e) => return Ok(0),
                Err(e) => return Err(failure("list uploads", bucket, key, e)),
            };
            for upload in listed.uploads() {
                let started = upload
                    .initiated()
                    .and_then(|t| SystemTime::try_from(*t).ok())
                    .unwrap_or(before);
                if let (Some(upload_key), Some(id)) = (upload.key(), upload.upload_id())
                    && upload_key == key
                    && started < before
                {
                    self.client
                        .abort_multipart_upload()
                        .bucket(bucket)
                        .key(key)
                        .upload_id(id)
                        .send()
                        .await
                        .map_err(|e| failure("abort upload", bucket, key, e))?;
                    aborted += 1;
                }
            }
            if !listed.is_truncated().unwrap_or(false) {
                return Ok(aborted);
            }
            key_marker = listed.next_key_marker().map(str::to_owned);
            upload_marker = listed.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                return Ok(aborted);
            }
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
