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

pub mod config;
mod event;
pub mod fanout;
pub mod metrics;
mod peak_rss;
mod progress;
mod streaming;

pub use config::{Config, encoder_threads};
pub use event::decode_s3_key;
pub use fanout::{FanoutConfig, MIN_PART, SegmentMessage, part_key};
pub use peak_rss::peak_rss_bytes;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use streaming::{Mp4Read, Opened, Outcome, store_failure_reason, stream_convert};
use video2mp3_aws::{ConfigError, DynamoTable, Env, S3Objects, SnsPublisher, SqsQueue};
use video2mp3_domain::{
    Claim, Clock, EncodeSettings, Ended, EventPublisher, FailureReason, Job, JobLife, JobStats,
    JobStore, Lease, MessageQueue, ObjectInfo, ObjectStore, PortError, SourceKey, SourceTrack,
    SystemClock, mp3_key,
};
use video2mp3_transcode::{Options, Quality, Summary, TrackChoice, TranscodeError};

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub events: Arc<dyn EventPublisher>,
    /// The time leases are taken at.
    pub clock: Arc<dyn Clock>,
    /// The segments queue a long job's parts are sent to (with `config.fanout`).
    pub segments: Option<Arc<dyn MessageQueue>>,
    pub config: Config,
}

impl Deps {
    /// The clients from `sdk`, the table from `TABLE_NAME`, the topic from `TOPIC_ARN`, and
    /// [`Config::from_env`]; the segments queue from `SEGMENTS_QUEUE_URL` when fanning out.
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let config = Config::from_env(env)?;
        Ok(Self {
            segments: match &config.fanout {
                Some(_) => Some(Arc::new(SqsQueue::new(
                    aws_sdk_sqs::Client::new(sdk),
                    env.required("SEGMENTS_QUEUE_URL")?,
                ))),
                None => None,
            },
            jobs: Arc::new(DynamoTable::new(
                aws_sdk_dynamodb::Client::new(sdk),
                env.required("TABLE_NAME")?,
            )),
            objects: Arc::new(S3Objects::new(video2mp3_aws::s3_client(sdk))),
            events: Arc::new(SnsPublisher::new(
                aws_sdk_sns::Client::new(sdk),
                env.required("TOPIC_ARN")?,
            )),
            clock: Arc::new(SystemClock),
            config,
        })
    }

    fn life(&self) -> JobLife {
        JobLife::new(self.jobs.clone(), self.events.clone(), self.clock.clone())
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
    /// Another converter holds the job's lease (a duplicate delivery while it works).
    #[error("another conversion of this job is running (its lease runs until {until})")]
    Busy { until: time::OffsetDateTime },
}

impl ConvertError {
    /// Whether SQS should deliver the message again: for a failure that may pass (throttling,
    /// a 5xx, a timeout, a job another converter is working on). A permanent one fails the job.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(e) => e.is_transient() || matches!(e, PortError::ConditionFailed),
            Self::Io(_) | Self::Task(_) | Self::Busy { .. } => true,
        }
    }
}

/// What the user is told when the service itself failed for good (not their file).
const INTERNAL_FAILURE: &str =
    "the conversion stopped on an internal error; please upload the file again";

/// Handles one SQS batch, reporting the messages to retry: only those whose failure may pass.
#[tracing::instrument(skip_all, fields(messages = event.records.len()))]
pub async fn handle(event: SqsEvent, deps: &Deps) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let receives = record
            .attributes
            .get("ApproximateReceiveCount")
            .cloned()
            .unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %id, receives = %receives);
        let result = tracing::Instrument::instrument(handle_message(&body, deps), span).await;
        if let Err(err) = result {
            tracing::warn!(message_id = %id, error = ?err, "message will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

async fn handle_message(body: &str, deps: &Deps) -> Result<(), ConvertError> {
    // A part of a fanned-out job (from the segments queue, or redriven to the convert queue).
    if let Ok(segment) = serde_json::from_str::<SegmentMessage>(body) {
        return fanout::make_part(&segment, deps).await;
    }
    match event::parse(body, &deps.config.uploads_bucket) {
        event::Message::Foreign(err) => {
            tracing::warn!(error = %err, "message is not an S3 notification; dropped");
        }
        event::Message::TestEvent => tracing::info!("s3:TestEvent ignored"),
        event::Message::Created(keys) => {
            for key in keys {
                convert_object(&key, deps).await?;
            }
        }
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(user_id, job_id, attempt))]
async fn convert_object(key: &str, deps: &Deps) -> Result<(), ConvertError> {
    let Some(source) = SourceKey::parse(key) else {
        tracing::warn!(key, "object key is not an upload key; ignored");
        return Ok(());
    };
    let span = tracing::Span::current();
    span.record("user_id", tracing::field::display(&source.user_id));
    span.record("job_id", tracing::field::display(&source.job_id));
    let Some(job) = deps.jobs.job(&source.user_id, &source.job_id).await? else {
        tracing::warn!(key, "no job for this upload; ignored");
        return Ok(());
    };
    if job.source_key != key {
        tracing::warn!(key, expected = %job.source_key, "upload key differs from the job's; ignored");
        return Ok(());
    }
    let lease = JobLife::new_lease(deps.clock.now(), deps.config.lease);
    span.record("attempt", tracing::field::display(&lease.owner));
    let job = match deps.life().claim(job, &lease).await? {
        Claim::Held { job, took_over } => {
            if let Some(previous) = took_over {
                tracing::warn!(%previous, "took over a job whose lease expired");
            }
            job
        }
        Claim::Ended { status } => {
            tracing::info!(status = status.as_str(), "job already finished");
            return Ok(());
        }
        Claim::Gone => {
            tracing::warn!("the job was deleted; ignored");
            return Ok(());
        }
        Claim::Busy { until } => {
            tracing::info!(%until, "another attempt holds the job; retry later");
            return Err(ConvertError::Busy { until });
        }
    };
    match convert_claimed(job.clone(), key, &lease, deps).await {
        Err(err) if !err.is_transient() => {
            // The service failed for good (a refused store call, say): the job fails with a
            // plain reason rather than the message going round until the dead-letter queue.
            tracing::error!(error = ?err, "permanent failure");
            fail(
                &job,
                FailureReason::Internal,
                INTERNAL_FAILURE.into(),
                Some(&lease),
                deps,
            )
            .await
        }
        other => other,
    }
}

/// Converts a job this attempt holds, and records and publishes its end.
async fn convert_claimed(
    job: Job,
    key: &str,
    lease: &Lease,
    deps: &Deps,
) -> Result<(), ConvertError> {
    let object = match check_upload(&job, key, deps).await? {
        Ok(object) => object,
        Err((reason, text)) => return fail(&job, reason, text, Some(lease), deps).await,
    };
    let out_key = mp3_key(&job.user_id, &job.job_id, &job.filename);
    match fanout::plan(&job, key, &object, &out_key, lease, deps).await? {
        fanout::Planned::FannedOut => Ok(()),
        fanout::Planned::Whole(opened) => {
            convert_whole(job, key, &object, lease, deps, opened).await
        }
    }
}

/// Converts the whole upload in this process, and records and publishes the job's end.
pub(crate) async fn convert_whole(
    job: Job,
    key: &str,
    object: &ObjectInfo,
    lease: &Lease,
    deps: &Deps,
    opened: Option<Opened>,
) -> Result<(), ConvertError> {
    tracing::info!(bytes = object.size, "converting");
    let started = Instant::now();
    let out_key = mp3_key(&job.user_id, &job.job_id, &job.filename);
    let (summary, mp3_bytes, bytes_read) =
        match run_conversion(&job, key, object, &out_key, lease, deps, opened).await? {
            Ok(converted) => converted,
            Err((reason, text)) => return fail(&job, reason, text, Some(lease), deps).await,
        };
    let stats = JobStats {
        source_bytes: object.size,
        bytes_read,
        mp3_bytes,
        audio_seconds: summary.duration().as_secs_f64(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        peak_rss_bytes: peak_rss_bytes(),
        tracks: source_tracks(&summary.tracks, summary.track),
        parts: None,
    };
    tracing::info!(
        format = %summary.format,
        codec = %summary.codec,
        source_bytes = stats.source_bytes,
        bytes_read = stats.bytes_read,
        audio_seconds = stats.audio_seconds,
        mp3_bytes = stats.mp3_bytes,
        elapsed_ms = stats.elapsed_ms,
        peak_rss_bytes = stats.peak_rss_bytes,
        bad_packets = summary.bad_packets,
        "converted"
    );
    metrics::emit(&metrics::conversion(&stats, metrics::now_ms()));
    match deps.life().finish(&job, lease, out_key, stats).await? {
        Ended::Recorded => {}
        // Our lease expired and another attempt took the job: its result stands (the MP3 key
        // is the job's, so both wrote the same object).
        Ended::Refused => {
            tracing::warn!("the job was taken over before this attempt finished; result dropped");
        }
    }
    Ok(())
}

/// The source's audio tracks as a job lists them, `converted` marking the one converted.
pub(crate) fn source_tracks(
    tracks: &[video2mp3_transcode::AudioTrack],
    converted: usize,
) -> Vec<SourceTrack> {
    tracks
        .iter()
        .map(|t| SourceTrack {
            index: u32::try_from(t.index).unwrap_or(u32::MAX),
            codec: t.codec.clone(),
            channels: t.channels.and_then(|c| u32::try_from(c).ok()),
            sample_rate: t.sample_rate,
            language: t.language.clone(),
            converted: t.index == converted,
        })
        .collect()
}

/// Why a job fails, and the sentence its user reads.
pub(crate) type Refusal = (FailureReason, String);

/// The upload as a HEAD sees it, if it is there, the size announced and within the limit.
async fn check_upload(
    job: &Job,
    key: &str,
    deps: &Deps,
) -> Result<Result<ObjectInfo, Refusal>, ConvertError> {
    let Some(object) = deps.objects.head(&deps.config.uploads_bucket, key).await? else {
        return Ok(Err((
            FailureReason::UploadMissing,
            "the uploaded file is no longer there; please upload it again".into(),
        )));
    };
    if object.size != job.declared_size {
        return Ok(Err((
            FailureReason::SizeMismatch,
            format!(
                "the uploaded file is {} bytes but {} bytes were announced; please upload it again",
                object.size, job.declared_size
            ),
        )));
    }
    if object.size > deps.config.max_source_bytes {
        return Ok(Err((
            FailureReason::TooLarge,
            format!(
                "the uploaded file is {} bytes; the largest accepted is {} bytes",
                object.size, deps.config.max_source_bytes
            ),
        )));
    }
    Ok(Ok(object))
}

/// Streams the upload through the engine into `out_key` on a blocking thread, reporting
/// progress meanwhile. The summary, the MP3's size and the bytes read; or why the job fails
/// (bad input, storage failed for good); or an error to retry.
async fn run_conversion(
    job: &Job,
    key: &str,
    object: &ObjectInfo,
    out_key: &str,
    lease: &Lease,
    deps: &Deps,
    opened: Option<Opened>,
) -> Result<Result<(Summary, u64, u64), Refusal>, ConvertError> {
    let options = engine_options(job, &deps.config);
    let extension = extension(job);
    let Opened { reader, mp4 } = opened.unwrap_or_else(|| Opened {
        reader: deps.objects.open(&deps.config.uploads_bucket, key, object),
        mp4: Mp4Read::NotYet,
    });
    let bytes_read = reader.bytes_read();
    let writer = deps
        .objects
        .create(&deps.config.mp3_bucket, out_key, "audio/mpeg");
    let size = object.size;
    let span = tracing::Span::current();
    let (reporters, options) =
        progress::report_progress(deps.life(), job, lease, deps.config.progress_every, options);
    let outcome = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        stream_convert(reader, size, writer, extension.as_deref(), &options, mp4)
    })
    .await;
    reporters.progress.abort();
    // The engine's sinks are gone: this ends at once, with the tracks written if it found any.
    let _ = reporters.tracks.await;
    match outcome? {
        Outcome::Done(summary, mp3_bytes) => Ok(Ok((
            *summary,
            mp3_bytes,
            bytes_read.load(Ordering::Relaxed),
        ))),
        Outcome::BadInput(err) => {
            // The Debug form keeps details meant for us (a parser's panic text).
            tracing::info!(reason = %err, detail = ?err, "the input cannot be converted");
            Ok(Err((failure_reason(&err), err.to_string())))
        }
        Outcome::Store(err) => match store_failure_reason(&err) {
            Some(reason) => {
                tracing::warn!(error = ?err, "storage failed for good");
                Ok(Err((FailureReason::Store, reason)))
            }
            None => Err(err.into()),
        },
        Outcome::Io(err) => Err(err.into()),
    }
}

/// The engine's options for `job`.
pub(crate) fn engine_options(job: &Job, config: &Config) -> Options {
    Options {
        quality: match job.settings {
            EncodeSettings::Vbr { quality } => Quality::Vbr(quality),
            EncodeSettings::Cbr { kbps } => Quality::Cbr(kbps),
        },
        max_duration: config.max_audio,
        fallback_title: Some(job.filename.clone()),
        threads: config.threads,
        start: job.options.start.unwrap_or(0.0),
        end: job.options.end,
        channels: job.options.channels.map(|c| c.count()),
        sample_rate: job.options.sample_rate,
        loudness: job.options.loudness,
        track: job.options.track.as_ref().map(|t| match t {
            video2mp3_domain::TrackChoice::Index(i) => {
                TrackChoice::Index(usize::try_from(*i).unwrap_or(usize::MAX))
            }
            video2mp3_domain::TrackChoice::Language(l) => TrackChoice::Language(l.clone()),
        }),
        strip_tags: job.options.tags == Some(video2mp3_domain::TagsChoice::Strip),
        ..Options::default()
    }
}

/// The upload's file name extension, a hint for the engine.
pub(crate) fn extension(job: &Job) -> Option<String> {
    job.filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
}

/// The failure an input error stands for.
fn failure_reason(err: &TranscodeError) -> FailureReason {
    match err {
        TranscodeError::UnrecognisedFormat => FailureReason::UnrecognisedFormat,
        TranscodeError::UnsupportedFormat(_) => FailureReason::UnsupportedFormat,
        TranscodeError::NoAudioTrack => FailureReason::NoAudioTrack,
        TranscodeError::UnsupportedCodec(_) => FailureReason::UnsupportedCodec,
        TranscodeError::EmptyAudio => FailureReason::EmptyAudio,
        TranscodeError::Truncated { .. } => FailureReason::Truncated,
        TranscodeError::Corrupt { .. } => FailureReason::Corrupt,
        TranscodeError::TooLong { .. } => FailureReason::TooLong,
        TranscodeError::TooManyChannels { .. } => FailureReason::TooManyChannels,
        TranscodeError::StartPastTheEnd { .. } => FailureReason::StartPastEnd,
        TranscodeError::NoSuchTrack { .. } => FailureReason::NoSuchTrack,
        // The API checks the settings in words first; one it let through is the encoder's to refuse.
        TranscodeError::Options(_) => FailureReason::Encoder,
        TranscodeError::DecoderCrashed(_) => FailureReason::DecoderCrashed,
        TranscodeError::Encoder(_) => FailureReason::Encoder,
        TranscodeError::Io(_) => FailureReason::Io,
    }
}

/// Marks the job failed with `reason` and tells the user. A job that already ended, or that
/// another attempt took over, is left as is.
async fn fail(
    job: &Job,
    failure: FailureReason,
    reason: String,
    lease: Option<&Lease>,
    deps: &Deps,
) -> Result<(), ConvertError> {
    tracing::info!(%reason, code = failure.code(), "job failed");
    metrics::emit(&metrics::failure(failure, metrics::now_ms()));
    deps.life().fail(job, failure, reason, lease).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_input_error_keeps_the_metric_name_it_had() {
        // The names are the `Reason` dimension of the Failures metric: dashboards use them.
        let cases = [
            (TranscodeError::UnrecognisedFormat, "unrecognised_format"),
            (
                TranscodeError::UnsupportedFormat("AVI"),
                "unsupported_format",
            ),
            (TranscodeError::NoAudioTrack, "no_audio_track"),
            (
                TranscodeError::UnsupportedCodec("AC-4".into()),
                "unsupported_codec",
            ),
            (TranscodeError::EmptyAudio, "empty_audio"),
            (
                TranscodeError::Truncated {
                    size: 1,
                    expected: 2,
                },
                "truncated",
            ),
            (
                TranscodeError::Corrupt {
                    at: 1.0,
                    detail: "x".into(),
                },
                "corrupt",
            ),
            (
                TranscodeError::TooLong {
                    limit: Duration::from_secs(60),
                },
                "too_long",
            ),
            (
                TranscodeError::TooManyChannels { found: 9, limit: 8 },
                "too_many_channels",
            ),
            (
                TranscodeError::StartPastTheEnd {
                    start: 90.0,
                    duration: 60.0,
                },
                "start_past_end",
            ),
            (TranscodeError::Options("x".into()), "encoder"),
            (
                TranscodeError::NoSuchTrack {
                    asked: "2".into(),
                    tracks: "0: aac".into(),
                },
                "no_such_track",
            ),
            (
                TranscodeError::DecoderCrashed("x".into()),
                "decoder_crashed",
            ),
            (TranscodeError::Encoder("x".into()), "encoder"),
            (TranscodeError::Io(std::io::Error::other("x")), "io"),
        ];
        for (err, code) in cases {
            assert_eq!(failure_reason(&err).code(), code, "{err:?}");
        }
        for (reason, code) in [
            (FailureReason::UploadMissing, "upload_missing"),
            (FailureReason::SizeMismatch, "size_mismatch"),
            (FailureReason::TooLarge, "too_large"),
            (FailureReason::Store, "store"),
            (FailureReason::Internal, "internal"),
        ] {
            assert_eq!(reason.code(), code);
        }
    }
}
