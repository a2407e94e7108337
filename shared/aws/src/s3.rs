//! S3: presigned PUTs and GETs, HEAD, objects read in ranges ([`crate::ranged`]) and written
//! as multipart uploads ([`crate::multipart`]), clients' multipart uploads ([`crate::parts`]).

use crate::errors::port_error;
use crate::multipart::S3Writer;
use crate::ranged::{RangeGet, RangeReader};
use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use bytes::Bytes;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::{collections::BTreeMap, time::Duration};
use video2mp3_domain::{
    HeldPart, ObjectInfo, ObjectReader, ObjectStore, ObjectWriter, PortError, PresignedUpload,
};

/// [`ObjectStore`] over an S3 client.
#[derive(Debug, Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

/// A key as `x-amz-copy-source` takes it: URL-encoded, its slashes kept.
fn copy_source_key(key: &str) -> String {
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig, PortError> {
    PresigningConfig::expires_in(expires_in).map_err(|e| PortError::backend("presign", false, e))
}

/// `Content-Disposition` for a download: a plain ASCII fallback and the exact UTF-8 name (RFC 6266).
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[async_trait]
impl ObjectStore for S3Objects {
    async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, PortError> {
        let length =
            i64::try_from(content_length).map_err(|e| PortError::backend("presign", false, e))?;
        let presigned = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| port_error("presign PutObject", e))?;
        let mut headers: BTreeMap<String, String> = presigned
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect();
        // The client must send exactly these; browsers set content-length themselves.
        headers.insert("content-type".into(), content_type.to_owned());
        headers.insert("content-length".into(), content_length.to_string());
        Ok(PresignedUpload {
            url: presigned.uri().to_owned(),
            method: presigned.method().to_owned(),
            headers,
        })
    }

    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        download_name: &str,
        expires_in: Duration,
    ) -> Result<String, PortError> {
        let presigned = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .response_content_disposition(attachment(download_name))
            .response_content_type("audio/mpeg")
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| port_error("presign GetObject", e))?;
        Ok(presigned.uri().to_owned())
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, PortError> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectInfo {
                size: out
                    .content_length()
                    .and_then(|l| u64::try_from(l).ok())
                    .unwrap_or(0),
                etag: out.e_tag().map(str::to_owned),
            })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(port_error("HeadObject", err)),
        }
    }

    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
    ) -> Result<String, PortError> {
        crate::parts::create(&self.client, bucket, key, content_type).await
    }

    async fn presign_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        length: u64,
        expires_in: Duration,
    ) -> Result<String, PortError> {
        crate::parts::presign(
            &self.client,
            bucket,
            key,
            upload_id,
            number,
            length,
            expires_in,
        )
        .await
    }

    async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<Vec<HeldPart>>, PortError> {
        crate::parts::list(&self.client, bucket, key, upload_id).await
    }

    async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[HeldPart],
    ) -> Result<(), PortError> {
        crate::parts::complete(&self.client, bucket, key, upload_id, parts).await
    }

    async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), PortError> {
        crate::parts::abort(&self.client, bucket, key, upload_id).await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), PortError> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("DeleteObject", e))
    }

    async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("PutObject", e))
    }

    async fn get_bytes(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, PortError> {
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err)
                if err.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(port_error("GetObject", err)),
        };
        let size = u64::try_from(out.content_length().unwrap_or(0)).unwrap_or(0);
        if size > limit {
            return Err(PortError::backend(
                "GetObject",
                false,
                format!("{key} is {size} bytes, over {limit}"),
            ));
        }
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| PortError::backend("GetObject", true, e))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        bytes: Vec<u8>,
    ) -> Result<HeldPart, PortError> {
        let size = bytes.len() as u64;
        let out = self
            .client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(i32::try_from(number).unwrap_or(i32::MAX))
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| port_error("UploadPart", e))?;
        Ok(HeldPart {
            number,
            size,
            etag: out.e_tag().unwrap_or_default().to_owned(),
        })
    }

    async fn copy_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        source: &str,
    ) -> Result<HeldPart, PortError> {
        let size = self
            .head(bucket, source)
            .await?
            .map(|info| info.size)
            .ok_or_else(|| PortError::backend("UploadPartCopy", false, "NoSuchKey"))?;
        let out = self
            .client
            .upload_part_copy()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(i32::try_from(number).unwrap_or(i32::MAX))
            .copy_source(format!("{bucket}/{}", copy_source_key(source)))
            .send()
            .await
            .map_err(|e| port_error("UploadPartCopy", e))?;
        Ok(HeldPart {
            number,
            size,
            etag: out
                .copy_part_result()
                .and_then(|r| r.e_tag())
                .unwrap_or_default()
                .to_owned(),
        })
    }

    fn open(&self, bucket: &str, key: &str, info: &ObjectInfo) -> Box<dyn ObjectReader> {
        let source = S3Range {
            client: self.client.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: info.etag.clone(),
        };
        Box::new(S3Reader(RangeReader::new(Arc::new(source), info.size)))
    }

    fn create(&self, bucket: &str, key: &str, content_type: &str) -> Box<dyn ObjectWriter> {
        Box::new(S3Writer::new(
            self.client.clone(),
            bucket,
            key,
            content_type,
        ))
    }
}

/// Ranged GETs of one object, pinned to the version its HEAD saw.
struct S3Range {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    etag: Option<String>,
}

/// A body cut off mid-transfer is fetched again this many times (the SDK retries the request
/// itself, with backoff, but not a body that breaks while streaming).
const BODY_RETRIES: u32 = 3;

#[async_trait]
impl RangeGet for S3Range {
    async fn get(&self, range: Range<u64>) -> Result<Bytes, PortError> {
        let mut attempt = 0;
        loop {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .range(format!("bytes={}-{}", range.start, range.end - 1))
                .set_if_match(self.etag.clone())
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(err) => {
                    let status = err.raw_response().map(|r| r.status().as_u16());
                    if err.as_service_error().is_some_and(|e| e.is_no_such_key())
                        || status == Some(404)
                    {
                        return Err(PortError::ObjectGone);
                    }
                    if status == Some(412) {
                        return Err(PortError::ObjectChanged);
                    }
                    return Err(port_error("GetObject", err));
                }
            };
            match out.body.collect().await {
                Ok(data) => return Ok(data.into_bytes()),
                Err(err) if attempt < BODY_RETRIES => {
                    attempt += 1;
                    tracing::warn!(error = %err, attempt, "GetObject body broke off; fetching again");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(err) => return Err(PortError::backend("GetObject body", true, err)),
            }
        }
    }
}

/// [`ObjectReader`] over S3.
struct S3Reader(RangeReader);

impl std::io::Read for S3Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl std::io::Seek for S3Reader {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.0.seek(to)
    }
}

impl ObjectReader for S3Reader {
    fn set_fetch_plan(&mut self, ranges: Vec<Range<u64>>, unused: Vec<Range<u64>>) {
        self.0.set_fetch_plan(ranges, unused);
    }

    fn bytes_read(&self) -> Arc<AtomicU64> {
        self.0.stats().bytes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn download_names_survive_quotes_and_unicode() {
        assert_eq!(
            attachment("my \"clip\" café.mp3"),
            "attachment; filename=\"my _clip_ caf_.mp3\"; filename*=UTF-8''my%20%22clip%22%20caf%C3%A9.mp3"
        );
    }
}
