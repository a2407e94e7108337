//! Multipart uploads by clients: S3 starts the upload, each part gets a PUT URL presigned for
//! its exact length, the parts S3 holds are listed for a client that resumes, and the server
//! completes the upload from that list (the client sends no ETags to trust).

use crate::errors::port_error;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use std::time::Duration;
use video2mp3_domain::{HeldPart, PortError};

fn no_such_upload<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("NoSuchUpload")
}

pub(crate) async fn create(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    content_type: &str,
) -> Result<String, PortError> {
    let out = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .send()
        .await
        .map_err(|e| port_error("CreateMultipartUpload", e))?;
    out.upload_id().map(str::to_owned).ok_or_else(|| {
        PortError::backend(
            "CreateMultipartUpload",
            false,
            "the answer has no upload id",
        )
    })
}

pub(crate) async fn presign(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    number: u32,
    length: u64,
    expires_in: Duration,
) -> Result<String, PortError> {
    let bad = |e: Box<dyn std::error::Error + Send + Sync>| PortError::backend("presign", false, e);
    let presigned = client
        .upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .part_number(i32::try_from(number).map_err(|e| bad(e.into()))?)
        .content_length(i64::try_from(length).map_err(|e| bad(e.into()))?)
        .presigned(PresigningConfig::expires_in(expires_in).map_err(|e| bad(e.into()))?)
        .await
        .map_err(|e| port_error("presign UploadPart", e))?;
    Ok(presigned.uri().to_owned())
}

pub(crate) async fn list(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Option<Vec<HeldPart>>, PortError> {
    let mut held = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .list_parts()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .set_part_number_marker(marker.take())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(err) if no_such_upload(&err) => return Ok(None),
            Err(err) => return Err(port_error("ListParts", err)),
        };
        for part in out.parts() {
            held.push(HeldPart {
                number: part
                    .part_number()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                size: part.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                etag: part.e_tag().unwrap_or_default().to_owned(),
            });
        }
        match (out.is_truncated(), out.next_part_number_marker()) {
            (Some(true), Some(next)) => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    held.sort_by_key(|p| p.number);
    Ok(Some(held))
}

pub(crate) async fn complete(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[HeldPart],
) -> Result<(), PortError> {
    let completed = CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|p| {
                    CompletedPart::builder()
                        .part_number(i32::try_from(p.number).unwrap_or(i32::MAX))
                        .e_tag(&p.etag)
                        .build()
                })
                .collect(),
        ))
        .build();
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(completed)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| port_error("CompleteMultipartUpload", e))
}

pub(crate) async fn abort(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<(), PortError> {
    match client
        .abort_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if no_such_upload(&err) => Ok(()),
        Err(err) => Err(port_error("AbortMultipartUpload", err)),
    }
}
