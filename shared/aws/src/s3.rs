//! S3: presigned PUTs and GETs, HEAD, and whole-object transfers to and from local files.

use crate::errors::port_error;
use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use std::{collections::BTreeMap, path::Path, time::Duration};
use video2mp3_domain::{ObjectInfo, ObjectStore, PortError, PresignedUpload};

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
            })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(port_error("HeadObject", err)),
        }
    }

    async fn download(&self, bucket: &str, key: &str, to: &Path) -> Result<u64, PortError> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| port_error("GetObject", e))?;
        let mut file = tokio::fs::File::create(to)
            .await
            .map_err(|e| PortError::backend("create temporary file", false, e))?;
        let mut body = out.body.into_async_read();
        let copied = tokio::io::copy(&mut body, &mut file)
            .await
            .map_err(|e| PortError::backend("GetObject body", true, e))?;
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(|e| PortError::backend("write temporary file", false, e))?;
        Ok(copied)
    }

    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        from: &Path,
        content_type: &str,
    ) -> Result<(), PortError> {
        let body = ByteStream::from_path(from)
            .await
            .map_err(|e| PortError::backend("read temporary file", false, e))?;
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| port_error("PutObject", e))?;
        Ok(())
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
