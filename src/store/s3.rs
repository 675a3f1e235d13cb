//! A lake in S3 or an S3-compatible store. Credentials and region come from the standard
//! AWS chain (environment, profile, web identity/IRSA, instance metadata).
//!
//! Atomicity comes from S3 itself: PutObject and CompleteMultipartUpload make an object
//! visible whole. A failed multipart upload is aborted so no parts linger.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Result};
use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier, ServerSideEncryption,
};
use aws_sdk_s3::Client;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use super::{join_key, Payload, Store};
use crate::aws::Endpoint;
use crate::config::{ChecksumMode, DatalakeConfig};

/// Aborts a multipart upload that is dropped before it completed or failed, in a cleanup
/// task the process waits for before it exits (src/shutdown.rs).
struct AbortOnDrop {
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(upload_id) = self.upload_id.take() else {
            return;
        };
        let request = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id);
        crate::shutdown::spawn_cleanup(async move {
            let _ = request.send().await;
        });
    }
}

pub struct S3Store {
    client: Client,
    bucket: String,
    root: String,
    part_size: u64,
    part_concurrency: usize,
    sse_kms_key_id: Option<String>,
    spool_dir: PathBuf,
    endpoint: Endpoint,
}

impl S3Store {
    pub async fn new(cfg: &DatalakeConfig, bucket: &str, root: &str) -> Result<S3Store> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &cfg.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let shared = loader.load().await;
        let region = shared
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let endpoint = Endpoint::new(
            "S3",
            "s3",
            cfg.endpoint.as_deref(),
            &region,
            "the network and datalake.endpoint",
            cfg.max_attempts,
            cfg,
        );
        let mut builder = aws_sdk_s3::config::Builder::from(&shared)
            .retry_config(RetryConfig::standard().with_max_attempts(cfg.max_attempts))
            .timeout_config(endpoint.timeouts());
        if shared.region().is_none() {
            builder = builder.region(Region::new(region));
        }
        if let Some(endpoint) = &cfg.endpoint {
            // S3-compatible stores (MinIO, Ceph, moto) need path-style addressing.
            builder = builder.endpoint_url(endpoint).force_path_style(true);
        }
        if cfg.checksums == ChecksumMode::WhenRequired {
            builder = builder
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        Ok(S3Store {
            client: Client::from_conf(builder.build()),
            bucket: bucket.to_string(),
            root: root.to_string(),
            part_size: cfg.part_size_mb * 1024 * 1024,
            part_concurrency: cfg.upload_concurrency,
            sse_kms_key_id: cfg.sse_kms_key_id.clone(),
            spool_dir: cfg.spool_dir.clone().unwrap_or_else(std::env::temp_dir),
            endpoint,
        })
    }

    fn full_key(&self, key: &str) -> String {
        join_key(&self.root, key)
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.full_key(key))
    }

    /// One limit per attempt of an upload of `size` bytes: a slow link still gets through.
    fn upload_override(&self, size: u64) -> (aws_sdk_s3::config::Builder, Duration) {
        let limit = self.endpoint.upload_timeout(size);
        (
            aws_sdk_s3::config::Builder::new().timeout_config(self.endpoint.timeouts_for(limit)),
            limit,
        )
    }

    async fn put_single(&self, key: &str, body: ByteStream, size: u64) -> Result<()> {
        let (timeouts, limit) = self.upload_override(size);
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .body(body);
        if let Some(kms) = &self.sse_kms_key_id {
            req = req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms);
        }
        req.customize()
            .config_override(timeouts)
            .send()
            .await
            .map_err(|e| anyhow!(self.explain_within("upload", &self.url(key), &e, limit)))?;
        Ok(())
    }

    async fn put_multipart(&self, key: &str, path: &Path, size: u64) -> Result<()> {
        let full_key = self.full_key(key);
        let mut create = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&full_key);
        if let Some(kms) = &self.sse_kms_key_id {
            create = create
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms);
        }
        // Nothing partial may stay behind, not even invisible parts that cost money: on an
        // error, and when the upload is cancelled (a stopping command drops it). The create
        // runs in a task of its own that holds the abort guard as soon as S3 answers: were
        // the request's own future dropped in flight, the upload would be created with no
        // one left knowing its id.
        let (client, bucket, guard_key) =
            (self.client.clone(), self.bucket.clone(), full_key.clone());
        let created = tokio::spawn(async move {
            let upload = create.send().await?;
            Ok::<_, SdkError<_, _>>(upload.upload_id().map(|id| AbortOnDrop {
                client,
                bucket,
                key: guard_key,
                upload_id: Some(id.to_string()),
            }))
        });
        let mut guard = created
            .await
            .map_err(|e| anyhow!("starting the upload of {}: {e}", self.url(key)))?
            .map_err(|e| anyhow!(self.explain("start upload", &self.url(key), &e)))?
            .ok_or_else(|| anyhow!("S3 returned no upload id for {}", self.url(key)))?;
        let upload_id = guard.upload_id.clone().expect("set above");
        match self
            .upload_parts(key, &full_key, &upload_id, path, size)
            .await
        {
            Ok(()) => {
                guard.upload_id = None;
                Ok(())
            }
            Err(e) => {
                guard.upload_id = None;
                let _ = self
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&full_key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
                Err(e)
            }
        }
    }

    async fn upload_parts(
        &self,
        key: &str,
        full_key: &str,
        upload_id: &str,
        path: &Path,
        size: u64,
    ) -> Result<()> {
        let count = size.div_ceil(self.part_size);
        let mut parts: Vec<CompletedPart> = futures::stream::iter(0..count)
            .map(|i| async move {
                let offset = i * self.part_size;
                let length = self.part_size.min(size - offset);
                // Each part streams from its slice of the spool file: memory stays flat.
                let body = ByteStream::read_from()
                    .path(path)
                    .offset(offset)
                    .length(Length::Exact(length))
                    .build()
                    .await
                    .map_err(|e| anyhow!("cannot read spool file {}: {e}", path.display()))?;
                let number = i as i32 + 1;
                let (timeouts, limit) = self.upload_override(length);
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(full_key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .body(body)
                    .customize()
                    .config_override(timeouts)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow!(self.explain_within("upload part of", &self.url(key), &e, limit))
                    })?;
                Ok::<_, anyhow::Error>(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(out.e_tag().map(str::to_string))
                        .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                        .build(),
                )
            })
            .buffer_unordered(self.part_concurrency)
            .try_collect()
            .await?;
        parts.sort_by_key(|p| p.part_number());
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(full_key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| anyhow!(self.explain("complete upload of", &self.url(key), &e)))?;
        Ok(())
    }
}

#[async_trait]
impl Store for S3Store {
    fn describe(&self) -> String {
        if self.root.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.root)
        }
    }

    async fn put(&self, key: &str, payload: Payload) -> Result<()> {
        match payload {
            Payload::Bytes(bytes) => {
                let size = bytes.len() as u64;
                self.put_single(key, ByteStream::from(bytes), size).await
            }
            Payload::File(path) => {
                let size = tokio::fs::metadata(&path).await?.len();
                let result = if size <= self.part_size {
                    let body = ByteStream::from_path(&path)
                        .await
                        .map_err(|e| anyhow!("cannot read spool file {}: {e}", path.display()))?;
                    self.put_single(key, body, size).await
                } else {
                    self.put_multipart(key, &path, size).await
                };
                let _ = tokio::fs::remove_file(&path).await;
                result
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        match self.get_versioned(key).await? {
            Some((data, _)) => Ok(data),
            None => Err(anyhow!("cannot read {}: it does not exist", self.url(key))),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let full_prefix = self.full_key(prefix);
        let strip = if self.root.is_empty() {
            0
        } else {
            self.root.len() + 1
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full_prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| anyhow!(self.explain("list", &self.url(prefix), &e)))?;
            for object in page.contents() {
                if let Some(k) = object.key() {
                    keys.push(k[strip.min(k.len())..].to_string());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(self.full_key(k)).build())
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| anyhow!(self.explain("delete", &Store::describe(self), &e)))?;
            if let Some(err) = out.errors().first() {
                return Err(anyhow!(
                    "cannot delete s3://{}/{}: {} {}",
                    self.bucket,
                    err.key().unwrap_or_default(),
                    err.code().unwrap_or_default(),
                    err.message().unwrap_or_default()
                ));
            }
        }
        Ok(())
    }

    async fn download(&self, key: &str, path: &std::path::Path) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        let mut out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| anyhow!(self.explain("read", &self.url(key), &e)))?;
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| anyhow!("cannot create {}: {e}", path.display()))?;
        loop {
            // Each chunk within the answer limit: a stalled download fails, a long one not.
            let chunk = tokio::time::timeout(self.endpoint.answer, out.body.try_next())
                .await
                .map_err(|_| self.no_data(key))?
                .map_err(|e| anyhow!("cannot read {}: {e}", self.url(key)))?;
            match chunk {
                Some(bytes) => file
                    .write_all(&bytes)
                    .await
                    .map_err(|e| anyhow!("writing {}: {e}", path.display()))?,
                None => break,
            }
        }
        file.flush()
            .await
            .map_err(|e| anyhow!("writing {}: {e}", path.display()))
    }

    async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, String)>> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(anyhow!(self.explain("read", &self.url(key), &e))),
        };
        let tag = out
            .e_tag()
            .ok_or_else(|| anyhow!("S3 returned no ETag for {}", self.url(key)))?
            .to_string();
        // The body streams after the answer's head, outside the attempt's limit.
        let data = tokio::time::timeout(self.endpoint.answer, out.body.collect())
            .await
            .map_err(|_| self.no_data(key))?
            .map_err(|e| anyhow!("cannot read {}: {e}", self.url(key)))?
            .into_bytes();
        Ok(Some((data, tag)))
    }

    async fn put_if(
        &self,
        key: &str,
        bytes: Bytes,
        expected: Option<&str>,
    ) -> Result<Option<String>> {
        // S3 conditional writes: If-None-Match: * creates only, If-Match replaces only that
        // version. 412 means the condition failed; 409 that a concurrent conditional write
        // won the race.
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .body(ByteStream::from(bytes));
        req = match expected {
            None => req.if_none_match("*"),
            Some(tag) => req.if_match(tag),
        };
        if let Some(kms) = &self.sse_kms_key_id {
            req = req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms);
        }
        match req.send().await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            Err(SdkError::ServiceError(e)) if matches!(e.raw().status().as_u16(), 409 | 412) => {
                Ok(None)
            }
            // A missing object under If-Match: another writer removed it; also a lost race.
            Err(SdkError::ServiceError(e))
                if expected.is_some() && e.raw().status().as_u16() == 404 =>
            {
                Ok(None)
            }
            Err(e) => Err(anyhow!(self.explain("write", &self.url(key), &e))),
        }
    }

    fn spool_dir(&self) -> Result<tempfile::TempDir> {
        super::spool_in(&self.spool_dir)
    }
}

impl S3Store {
    /// A body that stopped arriving.
    fn no_data(&self, key: &str) -> anyhow::Error {
        anyhow!(
            "cannot read {}: S3 at {} sent no data for {} s (check the network)",
            self.url(key),
            self.endpoint.url,
            self.endpoint.answer.as_secs()
        )
    }

    /// One line for an S3 failure: the operation, the object, and what to check.
    fn explain<E>(&self, op: &str, what: &str, err: &SdkError<E, HttpResponse>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.explain_within(op, what, err, self.endpoint.answer)
    }

    /// [`S3Store::explain`] of an attempt limited to `limit`.
    fn explain_within<E>(
        &self,
        op: &str,
        what: &str,
        err: &SdkError<E, HttpResponse>,
        limit: Duration,
    ) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let Some(why) = self.endpoint.network_failure(err, limit) {
            return format!(
                "cannot reach S3 at {} to {op} {what}: {why}",
                self.endpoint.url
            );
        }
        let bucket = &self.bucket;
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                match e.code() {
                    Some("NoSuchBucket") => format!(
                        "cannot {op} {what}: bucket {bucket} does not exist (create it or fix datalake.url)"
                    ),
                    Some("AccessDenied") | Some("InvalidAccessKeyId") | Some("SignatureDoesNotMatch") => format!(
                        "cannot {op} {what}: {} {} (check the AWS credentials and the IAM policy)",
                        e.code().unwrap_or_default(),
                        e.message().unwrap_or_default()
                    ),
                    Some(code) => format!(
                        "cannot {op} {what}: {code} {}",
                        e.message().unwrap_or_default()
                    ),
                    None => format!(
                        "cannot {op} {what}: HTTP {}",
                        service.raw().status().as_u16()
                    ),
                }
            }
            other => format!(
                "cannot {op} {what}: {}",
                aws_sdk_s3::error::DisplayErrorContext(other)
            ),
        }
    }
}
