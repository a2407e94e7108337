//! Writes an object to S3 as it is produced: a multipart upload in parts of [`PART`] bytes (the
//! first [`FIRST_PART`]), each sent while the next is being written.
//!
//! The first part is held back and uploaded last (S3 accepts parts in any order), so the start of
//! the object can be rewritten until the end: an MP3's Xing/LAME info frame is only known after
//! the last frame. An object that fits in the first part and the one after it (11 MiB) goes up in
//! one PUT. The object appears only when the upload completes; on failure the upload is aborted
//! (and the bucket's lifecycle rule removes any that a crash leaves behind).
//!
//! Memory: the held first part, the part being written and the part being uploaded, so at most
//! three parts; the writer waits for a part's upload before handing over the next.

use crate::errors::port_error;
use aws_sdk_s3::operation::abort_multipart_upload::builders::AbortMultipartUploadFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use std::io::{self, Seek, SeekFrom, Write};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use video2mp3_domain::{ObjectWriter, PortError};

/// Size of the parts after the first. With the first part held, one part uploading and one
/// filling, the writer holds at most 5 + 6 + 6 MiB; with 8 MiB parts the converter's peak RSS
/// came within 2 MiB of its 64 MiB budget (`make bench-stream`).
pub const PART: usize = 6 << 20;
/// Size of the first part, held in memory until the end: S3's minimum for a part that is not the
/// last, so that what is held is as small as it can be.
pub const FIRST_PART: usize = 5 << 20;

struct Multipart {
    upload_id: String,
    /// The number the next part after the first gets.
    next_number: i32,
    done: Vec<CompletedPart>,
    uploading: Option<JoinHandle<Result<CompletedPart, PortError>>>,
}

/// See the module documentation.
pub struct S3Writer {
    runtime: Handle,
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    content_type: String,
    /// Bytes `0..first.len()`, not yet sent.
    first: Vec<u8>,
    /// Bytes handed to the upload after the first part.
    sent: u64,
    /// Bytes after those, not yet sent.
    current: Vec<u8>,
    pos: u64,
    multipart: Option<Multipart>,
    finished: bool,
}

impl S3Writer {
    /// A writer for `bucket/key`. Create inside the runtime; write from a blocking thread.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, key: &str, content_type: &str) -> Self {
        Self {
            runtime: Handle::current(),
            client,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            content_type: content_type.to_owned(),
            first: Vec::new(),
            sent: 0,
            current: Vec::new(),
            pos: 0,
            multipart: None,
            finished: false,
        }
    }

    fn len(&self) -> u64 {
        self.first.len() as u64 + self.sent + self.current.len() as u64
    }

    fn upload_part(
        &self,
        upload_id: &str,
        number: i32,
        data: Bytes,
    ) -> JoinHandle<Result<CompletedPart, PortError>> {
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(data));
        self.runtime.spawn(async move {
            let out = request
                .send()
                .await
                .map_err(|e| port_error("UploadPart", e))?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .build())
        })
    }

    /// Hands a full part (the second or later) to the upload, after the previous one is in.
    fn send_part(&mut self, data: Vec<u8>) -> Result<(), PortError> {
        if self.multipart.is_none() {
            let out = self
                .runtime
                .block_on(
                    self.client
                        .create_multipart_upload()
                        .bucket(&self.bucket)
                        .key(&self.key)
                        .content_type(&self.content_type)
                        .send(),
                )
                .map_err(|e| port_error("CreateMultipartUpload", e))?;
            let upload_id = out
                .upload_id()
                .ok_or_else(|| {
                    PortError::backend("CreateMultipartUpload", true, "no upload id returned")
                })?
                .to_owned();
            self.multipart = Some(Multipart {
                upload_id,
                next_number: 2,
                done: Vec::new(),
                uploading: None,
            });
        }
        let number = self.multipart.as_mut().map_or(0, |mp| {
            mp.next_number += 1;
            mp.next_number - 1
        });
        self.start_part(number, Bytes::from(data))
    }

    /// Starts uploading `data` as part `number`, once the part before it is in.
    fn start_part(&mut self, number: i32, data: Bytes) -> Result<(), PortError> {
        self.wait_for_part()?;
        let upload_id = self
            .multipart
            .as_ref()
            .map(|mp| mp.upload_id.clone())
            .ok_or_else(|| PortError::backend("UploadPart", false, "no multipart upload"))?;
        let task = self.upload_part(&upload_id, number, data);
        if let Some(mp) = &mut self.multipart {
            mp.uploading = Some(task);
        }
        Ok(())
    }

    /// Waits for the part being uploaded, if any.
    fn wait_for_part(&mut self) -> Result<(), PortError> {
        let Some(mp) = &mut self.multipart else {
            return Ok(());
        };
        if let Some(task) = mp.uploading.take() {
            let part = self
                .runtime
                .block_on(task)
                .map_err(|e| PortError::backend("UploadPart", true, e))??;
            mp.done.push(part);
        }
        Ok(())
    }

    fn append(&mut self, mut buf: &[u8]) -> Result<(), PortError> {
        if self.first.len() < FIRST_PART {
            let n = buf.len().min(FIRST_PART - self.first.len());
            if self.first.capacity() == 0 {
                self.first.reserve_exact(FIRST_PART);
            }
            self.first.extend_from_slice(&buf[..n]);
            buf = &buf[n..];
        }
        while !buf.is_empty() {
            if self.current.capacity() == 0 {
                self.current.reserve_exact(PART);
            }
            let n = buf.len().min(PART - self.current.len());
            self.current.extend_from_slice(&buf[..n]);
            buf = &buf[n..];
            if self.current.len() == PART {
                let part = std::mem::take(&mut self.current);
                self.send_part(part)?;
                self.sent += PART as u64;
            }
        }
        Ok(())
    }

    fn complete(&mut self) -> Result<u64, PortError> {
        let len = self.len();
        if self.multipart.is_none() {
            let mut body = std::mem::take(&mut self.first);
            body.append(&mut self.current);
            self.runtime
                .block_on(
                    self.client
                        .put_object()
                        .bucket(&self.bucket)
                        .key(&self.key)
                        .content_type(&self.content_type)
                        .body(ByteStream::from(body))
                        .send(),
                )
                .map_err(|e| port_error("PutObject", e))?;
            return Ok(len);
        }
        if !self.current.is_empty() {
            let last = std::mem::take(&mut self.current);
            self.sent += last.len() as u64;
            self.send_part(last)?;
        }
        let first = Bytes::from(std::mem::take(&mut self.first));
        self.start_part(1, first)?;
        self.wait_for_part()?;
        let Some(mp) = &mut self.multipart else {
            return Err(PortError::backend(
                "UploadPart",
                false,
                "no multipart upload",
            ));
        };
        let upload_id = mp.upload_id.clone();
        mp.done.sort_by_key(|p| p.part_number());
        let parts = CompletedMultipartUpload::builder()
            .set_parts(Some(std::mem::take(&mut mp.done)))
            .build();
        self.runtime
            .block_on(
                self.client
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .upload_id(upload_id)
                    .multipart_upload(parts)
                    .send(),
            )
            .map_err(|e| port_error("CompleteMultipartUpload", e))?;
        Ok(len)
    }

    /// Stops the multipart upload, if one was started: cancels the part uploading and returns
    /// the request that aborts the upload.
    fn cancel(&mut self) -> Option<AbortMultipartUploadFluentBuilder> {
        self.finished = true;
        let mp = self.multipart.take()?;
        if let Some(task) = mp.uploading {
            task.abort();
        }
        Some(
            self.client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(mp.upload_id),
        )
    }

    fn abort_upload(&mut self) {
        let Some(request) = self.cancel() else {
            return;
        };
        let upload_id = request.get_upload_id().clone().unwrap_or_default();
        if let Err(err) = self.runtime.block_on(request.send()) {
            tracing::warn!(error = %port_error("AbortMultipartUpload", err), %upload_id,
                "could not abort the multipart upload; the bucket's lifecycle rule will");
        }
    }
}

impl Write for S3Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let len = self.len();
        if self.pos == len {
            self.append(buf).map_err(io::Error::other)?;
        } else {
            // A rewrite: only of bytes not sent yet, and not past the end.
            let end = self.pos + buf.len() as u64;
            let first = self.first.len() as u64;
            let current_start = first + self.sent;
            if end <= first {
                let at = self.pos as usize;
                self.first[at..at + buf.len()].copy_from_slice(buf);
            } else if self.pos >= current_start && end <= len {
                let at = (self.pos - current_start) as usize;
                self.current[at..at + buf.len()].copy_from_slice(buf);
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!(
                        "cannot rewrite bytes {}..{end} of {len}: they were uploaded already",
                        self.pos
                    ),
                ));
            }
        }
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for S3Writer {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.len();
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) if p <= len => {
                self.pos = p;
                Ok(p)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek outside the object written so far",
            )),
        }
    }
}

impl ObjectWriter for S3Writer {
    fn finish(mut self: Box<Self>) -> Result<u64, PortError> {
        let result = self.complete();
        if result.is_err() {
            self.abort_upload();
        }
        self.finished = true;
        result
    }

    fn abort(mut self: Box<Self>) {
        self.abort_upload();
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Dropped without finish or abort (a panic): abort in the background.
        if let Some(request) = self.cancel() {
            self.runtime.spawn(async move {
                let _ = request.send().await;
            });
        }
    }
}
