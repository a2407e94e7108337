//! The converter: S3 `ObjectCreated` notifications arrive through SQS; each names an upload
//! `uploads/{user}/{job}/{file}`. The job moves `awaiting_upload → queued → converting →
//! done | failed`, the MP3 goes to `mp3/{user}/{job}/{name}.mp3`, and the job's end is
//! published to SNS.
//!
//! Each SQS message is handled on its own and reported separately (`ReportBatchItemFailures`):
//! a transient failure (throttling, 5xx, network) is left on the queue to be retried; anything
//! about the input itself fails the job with a reason for the user and consumes the message.
//! Messages that are not for a known job (the `s3:TestEvent`, foreign keys, deleted jobs) are
//! logged and consumed so they never loop.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use std::io::BufWriter;
use std::path::PathBuf;
use std::{sync::Arc, time::Duration, time::Instant};
use video2mp3_aws::{ConfigError, DynamoTable, Env, S3Objects, SnsPublisher};
use video2mp3_domain::{
    EncodeSettings, EventPublisher, Job, JobEvent, JobStats, JobStatus, JobStore, ObjectStore,
    PortError, SourceKey, Transition, mp3_key,
};
use video2mp3_transcode::{Options, Quality, TranscodeError};

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub uploads_bucket: String,
    pub mp3_bucket: String,
    pub max_audio: Duration,
    /// Where the source and the MP3 are spooled while converting (Lambda's /tmp).
    pub work_dir: PathBuf,
}

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub events: Arc<dyn EventPublisher>,
    pub config: Config,
}

impl Deps {
    /// Reads `TABLE_NAME`, `UPLOADS_BUCKET`, `MP3_BUCKET`, `TOPIC_ARN`, `MAX_AUDIO_SECONDS`
    /// (default 4 h) and `WORK_DIR` (default the system temporary directory).
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let config = Config {
            uploads_bucket: env.required("UPLOADS_BUCKET")?,
            mp3_bucket: env.required("MP3_BUCKET")?,
            max_audio: Duration::from_secs(env.parsed_or("MAX_AUDIO_SECONDS", 4 * 3600)?),
            work_dir: env.parsed_or("WORK_DIR", std::env::temp_dir())?,
        };
        Ok(Self {
            jobs: Arc::new(DynamoTable::new(
                aws_sdk_dynamodb::Client::new(sdk),
                env.required("TABLE_NAME")?,
            )),
            objects: Arc::new(S3Objects::new(video2mp3_aws::s3_client(sdk))),
            events: Arc::new(SnsPublisher::new(
                aws_sdk_sns::Client::new(sdk),
                env.required("TOPIC_ARN")?,
            )),
            config,
        })
    }
}

/// Why a message could not be finished now. Only transient errors are retried by SQS.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("a store call failed")]
    Store(#[from] PortError),
    #[error("local file work failed")]
    Io(#[from] std::io::Error),
    #[error("the conversion task stopped unexpectedly")]
    Task(#[from] tokio::task::JoinError),
}

impl ConvertError {
    /// Whether SQS should deliver the message again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(e) => e.is_transient() || matches!(e, PortError::ConditionFailed),
            Self::Io(_) | Self::Task(_) => true,
        }
    }
}

/// The part of an S3 event notification the converter reads. Parsed leniently on purpose: a
/// field S3 adds or leaves out must not make the message unreadable.
#[derive(Debug, Deserialize)]
struct S3Notification {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Debug, Deserialize)]
struct S3Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
}

/// Decodes an S3 event key: form encoding, so `+` is a space and `%XX` a byte of UTF-8.
pub fn decode_s3_key(key: &str) -> String {
    form_urlencoded::parse(format!("k={key}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Handles one SQS batch, reporting the messages to retry.
#[tracing::instrument(skip_all, fields(messages = event.records.len()))]
pub async fn handle(event: SqsEvent, deps: &Deps) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        if let Err(err) = handle_message(&body, deps).await {
            tracing::warn!(message_id = %id, error = ?err, "message will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

async fn handle_message(body: &str, deps: &Deps) -> Result<(), ConvertError> {
    let notification: S3Notification = match serde_json::from_str(body) {
        Ok(n) => n,
        Err(err) => {
            tracing::warn!(error = %err, "message is not an S3 notification; dropped");
            return Ok(());
        }
    };
    if notification.event.as_deref() == Some("s3:TestEvent") {
        tracing::info!("s3:TestEvent ignored");
        return Ok(());
    }
    for record in notification.records {
        if !record.event_name.starts_with("ObjectCreated") {
            tracing::info!(event = %record.event_name, "not an ObjectCreated event; ignored");
            continue;
        }
        if record.s3.bucket.name != deps.config.uploads_bucket {
            tracing::warn!(bucket = %record.s3.bucket.name, "event for another bucket; ignored");
            continue;
        }
        let key = decode_s3_key(&record.s3.object.key);
        convert_object(&key, deps).await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(user_id, job_id))]
async fn convert_object(key: &str, deps: &Deps) -> Result<(), ConvertError> {
    let Some(source) = SourceKey::parse(key) else {
        tracing::warn!(key, "object key is not an upload key; ignored");
        return Ok(());
    };
    let span = tracing::Span::current();
    span.record("user_id", tracing::field::display(&source.user_id));
    span.record("job_id", tracing::field::display(&source.job_id));
    let Some(mut job) = deps.jobs.job(&source.user_id, &source.job_id).await? else {
        tracing::warn!(key, "no job for this upload; ignored");
        return Ok(());
    };
    if job.source_key != key {
        tracing::warn!(key, expected = %job.source_key, "upload key differs from the job's; ignored");
        return Ok(());
    }
    if job.status.is_final() {
        tracing::info!(status = job.status.as_str(), "job already finished");
        return publish_once(&job, deps).await;
    }
    if job.status == JobStatus::AwaitingUpload {
        job = deps
            .jobs
            .transition(&job.user_id, &job.job_id, Transition::to(JobStatus::Queued))
            .await?;
    }

    let Some(object) = deps.objects.head(&deps.config.uploads_bucket, key).await? else {
        return fail(
            &job,
            "the uploaded file is no longer there; please upload it again".into(),
            deps,
        )
        .await;
    };
    if object.size != job.declared_size {
        let reason = format!(
            "the uploaded file is {} bytes but {} bytes were announced; please upload it again",
            object.size, job.declared_size
        );
        return fail(&job, reason, deps).await;
    }
    job = deps
        .jobs
        .transition(
            &job.user_id,
            &job.job_id,
            Transition::to(JobStatus::Converting),
        )
        .await?;
    tracing::info!(bytes = object.size, "converting");

    let started = Instant::now();
    let work = tempfile::tempdir_in(&deps.config.work_dir)?;
    let input = work.path().join("source");
    let output = work.path().join("out.mp3");
    deps.objects
        .download(&deps.config.uploads_bucket, key, &input)
        .await?;

    let options = Options {
        quality: match job.settings {
            EncodeSettings::Vbr { quality } => Quality::Vbr(quality),
            EncodeSettings::Cbr { kbps } => Quality::Cbr(kbps),
        },
        max_duration: deps.config.max_audio,
        fallback_title: Some(job.filename.clone()),
        ..Options::default()
    };
    let extension = job
        .filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let (input_path, output_path) = (input.clone(), output.clone());
    let span = tracing::Span::current();
    let result = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let source = std::fs::File::open(&input_path)?;
        let mut sink = BufWriter::new(std::fs::File::create(&output_path)?);
        video2mp3_transcode::transcode(Box::new(source), extension.as_deref(), &mut sink, &options)
    })
    .await?;
    let summary = match result {
        Ok(summary) => summary,
        Err(TranscodeError::Io(err)) => return Err(err.into()),
        Err(err) => {
            // The Debug form keeps details meant for us (a parser's panic text).
            tracing::info!(reason = %err, detail = ?err, "the input cannot be converted");
            return fail(&job, err.to_string(), deps).await;
        }
    };

    let out_key = mp3_key(&job.user_id, &job.job_id, &job.filename);
    deps.objects
        .upload(&deps.config.mp3_bucket, &out_key, &output, "audio/mpeg")
        .await?;
    let stats = JobStats {
        source_bytes: object.size,
        mp3_bytes: summary.mp3_bytes,
        audio_seconds: summary.duration().as_secs_f64(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    tracing::info!(
        format = %summary.format,
        codec = %summary.codec,
        audio_seconds = stats.audio_seconds,
        mp3_bytes = stats.mp3_bytes,
        elapsed_ms = stats.elapsed_ms,
        bad_packets = summary.bad_packets,
        "converted"
    );
    let done = Transition {
        output_key: Some(out_key),
        stats: Some(stats),
        ..Transition::to(JobStatus::Done)
    };
    let job = deps
        .jobs
        .transition(&job.user_id, &job.job_id, done)
        .await?;
    publish_once(&job, deps).await
}

/// Marks the job failed with `reason` and tells the user. A job that already ended is left as is.
async fn fail(job: &Job, reason: String, deps: &Deps) -> Result<(), ConvertError> {
    tracing::info!(%reason, "job failed");
    match deps
        .jobs
        .transition(&job.user_id, &job.job_id, Transition::failed(reason))
        .await
    {
        Ok(job) => publish_once(&job, deps).await,
        Err(PortError::ConditionFailed) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Publishes a finished job's event unless that was already done.
async fn publish_once(job: &Job, deps: &Deps) -> Result<(), ConvertError> {
    if job.notified {
        return Ok(());
    }
    deps.events.publish(&JobEvent::for_job(job)).await?;
    deps.jobs.mark_notified(&job.user_id, &job.job_id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_keys_are_form_decoded() {
        assert_eq!(
            decode_s3_key("uploads/u/j/my+video+caf%C3%A9.mp4"),
            "uploads/u/j/my video café.mp4"
        );
        assert_eq!(decode_s3_key("a%2Bb%20c"), "a+b c");
        assert_eq!(decode_s3_key("plain.mp4"), "plain.mp4");
    }

    #[test]
    fn test_events_and_foreign_bodies_parse_leniently() {
        let test_event: S3Notification =
            serde_json::from_str(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#)
                .unwrap();
        assert_eq!(test_event.event.as_deref(), Some("s3:TestEvent"));
        assert!(test_event.records.is_empty());
    }
}
