//! The state the sample events in `events/` refer to: user ann@example.com with the ids they
//! name, her job awaiting conversion, and its upload in the bucket, so each file drives its
//! function for real (`make sam-invoke`, `make test-sam` and the in-process test of the events).

use crate::functions::Handler;
use crate::stack::Stack;
use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use video2mp3_aws::DynamoTable;
use video2mp3_domain::{Job, JobId, JobStore, User, UserId, UserStore, ValidUpload, hash_password};

/// The user the sample events name.
pub const USER_ID: &str = "01JDQ7Z5YB6M3T4V8W9X0A1B2C";
/// The job the sample events name.
pub const JOB_ID: &str = "01JDQ80F3H5K7M9P1R3T5V7X9Z";
pub const EMAIL: &str = "ann@example.com";
/// events/login.json's password.
pub const PASSWORD: &str = "correct horse battery staple";
pub const FILENAME: &str = "my holiday clip café.mp4";

/// The sample events, sorted, each with the binary of the function it is for (its file name
/// starts with the binary's name).
pub fn event_files(repo_root: &Path) -> Result<Vec<(PathBuf, &'static str)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root.join("events"))
        .context("reading events/")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let binary = [
                "upload-url",
                "login",
                "account",
                "jobs",
                "convert",
                "notify",
                // Before "web", which its name starts with.
                "webhook",
                "web",
            ]
            .into_iter()
            .find(|b| name.starts_with(b))
            .ok_or_else(|| anyhow!("events/{name}: no function is named by this file"))?;
            Ok((path, binary))
        })
        .collect()
}

/// Creates the user, her job and its upload (the committed sample video), and returns a token
/// for her, issued with the login function's key.
pub async fn seed(stack: &Stack) -> Result<String> {
    let table = DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&stack.sdk),
        stack.table_name()?,
    );
    let user_id: UserId = USER_ID.parse().map_err(|_| anyhow!("bad sample user id"))?;
    let job_id: JobId = JOB_ID.parse().map_err(|_| anyhow!("bad sample job id"))?;
    table
        .create_user(
            &User::new(user_id.clone(), EMAIL),
            &hash_password(PASSWORD)?,
        )
        .await
        .context("creating the sample user")?;
    let sample = std::fs::read(stack.repo_root.join("fixtures/sample.mp4"))
        .context("reading fixtures/sample.mp4")?;
    let now = time::OffsetDateTime::now_utc();
    let job = Job::awaiting_upload(
        user_id.clone(),
        job_id,
        &ValidUpload {
            filename: FILENAME.into(),
            content_type: "video/mp4".into(),
            size: sample.len() as u64,
            settings: Default::default(),
            options: Default::default(),
        },
        now,
    );
    table
        .create_job(&job)
        .await
        .context("creating the sample job")?;
    let bucket = stack.resolver.string(&json!({"Ref": "UploadsBucket"}))?;
    video2mp3_aws::s3_client(&stack.sdk)
        .put_object()
        .bucket(&bucket)
        .key(&job.source_key)
        .body(sample.into())
        .send()
        .await
        .context("uploading the sample video")?;
    token_for(stack, &user_id)
}

/// A token for `user`, as POST /login would issue it.
pub fn token_for(stack: &Stack, user: &UserId) -> Result<String> {
    let login = stack
        .functions
        .iter()
        .find(|f| f.binary == "login")
        .ok_or_else(|| anyhow!("the template has no login function"))?;
    let Handler::Login(deps) = &login.handler else {
        return Err(anyhow!("the login function has no login handler"));
    };
    Ok(deps.keys.issue(user, 0, time::OffsetDateTime::now_utc())?.0)
}

/// An HTTP sample event with `token` in place of its placeholder (or left as it is).
pub fn with_token(event: &str, token: Option<&str>) -> Result<Value> {
    let mut event: Value = serde_json::from_str(event).context("the event is not JSON")?;
    if let Some(token) = token
        && event["headers"]["authorization"].is_string()
    {
        event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    }
    Ok(event)
}

/// A 16-bit PCM WAV of a 440 Hz tone (quiet noise-free sine), `seconds` long: a large input of
/// known length for tests of big uploads, made in memory.
pub fn tone_wav(seconds: u32, rate: u32, channels: u16) -> Vec<u8> {
    let frames = seconds * rate;
    let data = frames * u32::from(channels) * 2;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for i in 0..frames {
        let phase = f64::from(i) * 440.0 * std::f64::consts::TAU / f64::from(rate);
        let sample = (phase.sin() * 8000.0) as i16;
        for _ in 0..channels {
            out.extend_from_slice(&sample.to_le_bytes());
        }
    }
    out
}
