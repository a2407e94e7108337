//! Sending a file: one presigned PUT for a small file; for a large one, its parts, several at
//! once, each retried with backoff, at a bounded rate if asked. An upload in parts is
//! remembered (`uploads.json` beside the session, keyed by the file's path, size and
//! modification time) until it completes, so running `convert` again on the same file after a
//! lost connection or an interrupt sends only the parts S3 does not hold yet.

use crate::{Api, bar, session_path};
use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::Mutex;

/// How a file is sent.
#[derive(Debug, Clone)]
pub struct Sending {
    /// Parts sent at once.
    pub parallel: usize,
    /// Bytes a second at most, over all parts.
    pub limit_rate: Option<u64>,
}

/// Tries per part before giving up (the upload stays resumable).
const TRIES: u32 = 5;

/// An upload in parts that has not completed, by the file it sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Remembered {
    api: String,
    job_id: String,
}

fn remembered_path() -> Result<std::path::PathBuf> {
    Ok(session_path()?.with_file_name("uploads.json"))
}

fn load_remembered() -> BTreeMap<String, Remembered> {
    remembered_path()
        .ok()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Forgets the upload of the file `key` names (complete, or gone).
fn forget(key: &str) -> Result<()> {
    let mut all = load_remembered();
    all.remove(key);
    save_remembered(&all)
}

fn save_remembered(all: &BTreeMap<String, Remembered>) -> Result<()> {
    let path = remembered_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(all)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The file as the remembered uploads know it: its full path, size and modification time.
fn identity(file: &Path, size: u64) -> Result<String> {
    let path = std::fs::canonicalize(file)?;
    let modified = std::fs::metadata(file)?
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(format!("{}|{size}|{modified}", path.display()))
}

/// Sends `file` as `request` describes it; returns its job's id once the upload is complete.
pub async fn send(
    api: &Api,
    file: &Path,
    size: u64,
    request: &Value,
    sending: &Sending,
) -> Result<String> {
    let key = identity(file, size)?;
    let earlier = load_remembered()
        .get(&key)
        .filter(|r| r.api == api.base)
        .cloned();
    if let Some(earlier) = earlier {
        let (status, answer) = api
            .get_status(&format!("/uploads/{}", earlier.job_id))
            .await?;
        match status {
            200 => {
                let upload = &answer["upload"];
                let held = upload["uploaded"].as_array().map_or(0, Vec::len);
                eprintln!(
                    "resuming the upload of {}: {held} of {} parts already uploaded",
                    file.display(),
                    upload["part_count"]
                );
                send_parts(api, file, &earlier.job_id, upload.clone(), sending).await?;
                forget(&key)?;
                return Ok(earlier.job_id);
            }
            409 if answer["error"]["code"] == "upload_finished" => {
                forget(&key)?;
                return Ok(earlier.job_id);
            }
            // Aborted, expired or gone: start again.
            _ => forget(&key)?,
        }
    }
    let ticket = api.post("/uploads", request).await?;
    let job_id = ticket["job_id"].as_str().context("no job id")?.to_owned();
    if ticket["upload"].is_object() {
        let mut remembered = load_remembered();
        remembered.insert(
            key.clone(),
            Remembered {
                api: api.base.clone(),
                job_id: job_id.clone(),
            },
        );
        save_remembered(&remembered)?;
        send_parts(api, file, &job_id, ticket["upload"].clone(), sending).await?;
        forget(&key)?;
    } else {
        put_whole(file, size, &ticket, sending).await?;
    }
    Ok(job_id)
}

/// Keeps the bytes sent a second under a limit, over every part at once.
struct Limiter {
    rate: Option<u64>,
    started: Instant,
    sent: Mutex<u64>,
}

impl Limiter {
    async fn take(&self, n: u64) {
        let Some(rate) = self.rate.filter(|r| *r > 0) else {
            return;
        };
        let due = {
            let mut sent = self.sent.lock().await;
            *sent += n;
            Duration::from_secs_f64(*sent as f64 / rate as f64)
        };
        let elapsed = self.started.elapsed();
        if due > elapsed {
            tokio::time::sleep(due - elapsed).await;
        }
    }
}

/// A body reading `len` bytes of `file` from `offset`, counting them on `bar`, in `counted`
/// and on the limiter.
async fn body(
    file: &Path,
    (offset, len): (u64, u64),
    bar: ProgressBar,
    limiter: Arc<Limiter>,
    counted: Arc<AtomicU64>,
) -> Result<reqwest::Body> {
    let mut handle = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot read {}", file.display()))?;
    handle.seek(std::io::SeekFrom::Start(offset)).await?;
    let stream = futures_util::stream::unfold((handle, len), move |(mut handle, left)| {
        let bar = bar.clone();
        let limiter = limiter.clone();
        let counted = counted.clone();
        async move {
            if left == 0 {
                return None;
            }
            let mut chunk = vec![0u8; left.min(256 * 1024) as usize];
            match handle.read_exact(&mut chunk).await {
                Ok(_) => {
                    let n = chunk.len() as u64;
                    limiter.take(n).await;
                    bar.inc(n);
                    counted.fetch_add(n, Ordering::Relaxed);
                    Some((
                        Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)),
                        (handle, left - n),
                    ))
                }
                Err(err) => Some((Err(err), (handle, 0))),
            }
        }
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

/// PUTs the file to the presigned URL with the headers it was issued with, counting bytes.
async fn put_whole(file: &Path, size: u64, ticket: &Value, sending: &Sending) -> Result<()> {
    let url = ticket["upload_url"].as_str().context("no upload URL")?;
    let uploading = bar(size, "{msg:>10} [{bar:30}] {bytes}/{total_bytes}");
    uploading.set_message("uploading");
    let limiter = Arc::new(Limiter {
        rate: sending.limit_rate,
        started: Instant::now(),
        sent: Mutex::new(0),
    });
    let mut put = reqwest::Client::new()
        .put(url)
        .body(body(file, (0, size), uploading.clone(), limiter, Arc::default()).await?);
    if let Some(headers) = ticket["headers"].as_object() {
        for (name, value) in headers {
            if let Some(value) = value.as_str() {
                put = put.header(name, value);
            }
        }
    }
    let response = put.send().await.context("the upload failed")?;
    if !response.status().is_success() {
        uploading.abandon();
        bail!(
            "the upload was refused (HTTP {}): {}",
            response.status().as_u16(),
            response.text().await.unwrap_or_default()
        );
    }
    uploading.finish_and_clear();
    Ok(())
}

/// PUTs one part, trying again with backoff (1, 2, 4, 8 s) after a failure.
async fn put_part(
    http: &reqwest::Client,
    file: &Path,
    (number, url, offset, len): (u64, String, u64, u64),
    uploading: &ProgressBar,
    limiter: &Arc<Limiter>,
) -> Result<()> {
    let mut last = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
        let counted = Arc::new(AtomicU64::new(0));
        let part = body(
            file,
            (offset, len),
            uploading.clone(),
            limiter.clone(),
            counted.clone(),
        );
        let sent = http
            .put(&url)
            .header("content-length", len)
            .body(part.await?)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
            Err(err) => last = err.to_string(),
        }
        // What this try sent does not count.
        let undo = counted.load(Ordering::Relaxed);
        uploading.set_position(uploading.position().saturating_sub(undo));
    }
    bail!(
        "part {number} could not be sent after {TRIES} tries ({last}); run the same command again to resume"
    )
}

/// Sends every part `upload` (a `Parts` answer) names, asking for more until none is missing,
/// then completes the upload.
async fn send_parts(
    api: &Api,
    file: &Path,
    job_id: &str,
    mut upload: Value,
    sending: &Sending,
) -> Result<()> {
    let part_size = upload["part_size"].as_u64().context("no part_size")?;
    let size = std::fs::metadata(file)?.len();
    let held: u64 = upload["uploaded"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["size"].as_u64())
        .sum();
    let uploading = bar(
        size,
        "{msg:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta} left",
    );
    uploading.set_message("uploading");
    uploading.set_position(held);
    let limiter = Arc::new(Limiter {
        rate: sending.limit_rate,
        started: Instant::now(),
        sent: Mutex::new(0),
    });
    let http = reqwest::Client::new();
    loop {
        let parts: Vec<(u64, String, u64, u64)> = upload["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let number = p["number"].as_u64()?;
                let offset = (number - 1) * part_size;
                Some((
                    number,
                    p["url"].as_str()?.to_owned(),
                    offset,
                    part_size.min(size - offset),
                ))
            })
            .collect();
        if parts.is_empty() {
            break;
        }
        let results: Vec<Result<()>> = futures_util::stream::iter(parts)
            .map(|part| put_part(&http, file, part, &uploading, &limiter))
            .buffer_unordered(sending.parallel)
            .collect()
            .await;
        if let Some(err) = results.into_iter().find_map(Result::err) {
            uploading.abandon();
            return Err(err);
        }
        upload = api.get(&format!("/uploads/{job_id}")).await?["upload"].clone();
    }
    api.post(&format!("/uploads/{job_id}/complete"), &Value::Null)
        .await?;
    uploading.finish_and_clear();
    Ok(())
}
