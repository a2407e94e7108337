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

pub mod metrics;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use video2mp3_aws::{ConfigError, DynamoTable, Env, S3Objects, SnsPublisher};
use video2mp3_domain::{
    EncodeSettings, EventPublisher, FailureReason, Job, JobEvent, JobStats, JobStatus, JobStore,
    Lease, ObjectReader, ObjectStore, ObjectWriter, PortError, SourceKey, Transition, mp3_key,
};
use video2mp3_transcode::{
    Options, ProgressSink, Quality, SeekableSource, Summary, TranscodeError,
};

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub uploads_bucket: String,
    pub mp3_bucket: String,
    pub max_audio: Duration,
    /// Uploads larger than this fail without being read.
    pub max_source_bytes: u64,
    /// How long a conversion holds its job: longer than the function's timeout, so a live
    /// converter never loses its job, short enough that a crashed one's job is taken over on
    /// the next delivery (the queue's visibility timeout is longer still).
    pub lease: Duration,
    /// How often a running conversion writes its progress to the job.
    pub progress_every: Duration,
    /// Encoder threads, from the function's memory ([`encoder_threads`]).
    pub threads: usize,
}

/// Lambda's CPU share per MB of memory: 1,769 MB is one vCPU-second per second.
const MB_PER_VCPU: f64 = 1769.0;

/// Encoder threads for a function of `memory_mb` (Lambda's `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`;
/// `None` off Lambda) on `cores` cores. Lambda gives CPU time in proportion to memory while the
/// function sees two cores up to 3,008 MB, so a second thread only pays once the share is well
/// above one vCPU. Measured by `make bench-lambda` (per hour of audio, 2026-12-03): at 1,024,
/// 1,769 and 2,048 MB one thread finished 7-18% sooner than two and used 8-20% less CPU; at
/// 2,560 MB (1.45 vCPU) two threads finished 18% sooner, at 3,008 MB 30%; a third thread on
/// two cores changed nothing.
pub fn encoder_threads(memory_mb: Option<u32>, cores: usize) -> usize {
    let cores = cores.max(1);
    let Some(memory) = memory_mb else {
        return cores;
    };
    let share = f64::from(memory) / MB_PER_VCPU;
    if share < 1.3 {
        1
    } else {
        (share.ceil() as usize).clamp(1, cores)
    }
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
    /// (default 4 h), `MAX_UPLOAD_BYTES` (default 2 GiB), `LEASE_SECONDS` (default 960: the
    /// 900 s function timeout and a minute), `PROGRESS_MILLIS` (default 2000) and Lambda's own
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (the encoder's threads follow it).
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let config = Config {
            uploads_bucket: env.required("UPLOADS_BUCKET")?,
            mp3_bucket: env.required("MP3_BUCKET")?,
            max_audio: Duration::from_secs(env.parsed_or("MAX_AUDIO_SECONDS", 4 * 3600)?),
            max_source_bytes: env.parsed_or("MAX_UPLOAD_BYTES", 2 << 30)?,
            lease: Duration::from_secs(env.parsed_or("LEASE_SECONDS", 960)?),
            progress_every: Duration::from_millis(env.parsed_or("PROGRESS_MILLIS", 2000)?),
            threads: encoder_threads(
                Some(env.parsed_or("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0u32)?).filter(|m| *m > 0),
                std::thread::available_parallelism().map_or(1, usize::from),
            ),
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
    if job.status.is_final() {
        tracing::info!(status = job.status.as_str(), "job already finished");
        return publish_once(&job, deps).await;
    }
    let lease = Lease {
        owner: ulid::Ulid::new().to_string(),
        expires_at: time::OffsetDateTime::now_utc() + deps.config.lease,
    };
    span.record("attempt", tracing::field::display(&lease.owner));
    let job = match claim(job, &lease, deps).await? {
        Some(job) => job,
        None => return Ok(()),
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

/// Takes the job for this attempt: `queued` (or `awaiting_upload`, whose event may overtake the
/// upload-url's bookkeeping) or `converting` under an expired lease. `None` when the job ended
/// meanwhile (its end is published if it was not); [`ConvertError::Busy`] while another attempt
/// holds a live lease.
async fn claim(mut job: Job, lease: &Lease, deps: &Deps) -> Result<Option<Job>, ConvertError> {
    if job.status == JobStatus::AwaitingUpload {
        match deps
            .jobs
            .transition(&job.user_id, &job.job_id, Transition::to(JobStatus::Queued))
            .await
        {
            Ok(queued) => job = queued,
            Err(PortError::ConditionFailed) => {}
            Err(err) => return Err(err.into()),
        }
    }
    // A lease on a job still `converting` belongs to an attempt that died or timed out.
    let previous = job
        .lease
        .as_ref()
        .filter(|_| job.status == JobStatus::Converting)
        .map(|l| l.owner.clone());
    let take = Transition::to(JobStatus::Converting).held(lease);
    match deps.jobs.transition(&job.user_id, &job.job_id, take).await {
        Ok(job) => {
            if let Some(previous) = previous {
                tracing::warn!(%previous, "took over a job whose lease expired");
            }
            Ok(Some(job))
        }
        Err(PortError::ConditionFailed) => {
            let Some(now) = deps.jobs.job(&job.user_id, &job.job_id).await? else {
                tracing::warn!("the job was deleted; ignored");
                return Ok(None);
            };
            if now.status.is_final() {
                tracing::info!(status = now.status.as_str(), "job already finished");
                publish_once(&now, deps).await?;
                return Ok(None);
            }
            let until = now.lease.map_or(now.updated_at, |l| l.expires_at);
            tracing::info!(%until, "another attempt holds the job; retry later");
            Err(ConvertError::Busy { until })
        }
        Err(err) => Err(err.into()),
    }
}

/// Converts a job this attempt holds, and records and publishes its end.
async fn convert_claimed(
    job: Job,
    key: &str,
    lease: &Lease,
    deps: &Deps,
) -> Result<(), ConvertError> {
    let Some(object) = deps.objects.head(&deps.config.uploads_bucket, key).await? else {
        return fail(
            &job,
            FailureReason::UploadMissing,
            "the uploaded file is no longer there; please upload it again".into(),
            Some(lease),
            deps,
        )
        .await;
    };
    if object.size != job.declared_size {
        let reason = format!(
            "the uploaded file is {} bytes but {} bytes were announced; please upload it again",
            object.size, job.declared_size
        );
        return fail(&job, FailureReason::SizeMismatch, reason, Some(lease), deps).await;
    }
    if object.size > deps.config.max_source_bytes {
        let reason = format!(
            "the uploaded file is {} bytes; the largest accepted is {} bytes",
            object.size, deps.config.max_source_bytes
        );
        return fail(&job, FailureReason::TooLarge, reason, Some(lease), deps).await;
    }
    tracing::info!(bytes = object.size, "converting");

    let started = Instant::now();
    let options = Options {
        quality: match job.settings {
            EncodeSettings::Vbr { quality } => Quality::Vbr(quality),
            EncodeSettings::Cbr { kbps } => Quality::Cbr(kbps),
        },
        max_duration: deps.config.max_audio,
        fallback_title: Some(job.filename.clone()),
        threads: deps.config.threads,
        ..Options::default()
    };
    let extension = job
        .filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let out_key = mp3_key(&job.user_id, &job.job_id, &job.filename);
    let reader = deps.objects.open(&deps.config.uploads_bucket, key, &object);
    let bytes_read = reader.bytes_read();
    let writer = deps
        .objects
        .create(&deps.config.mp3_bucket, &out_key, "audio/mpeg");
    let size = object.size;
    let span = tracing::Span::current();
    let (reporter, options) = report_progress(&job, lease, options, deps);
    let outcome = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        stream_convert(reader, size, writer, extension.as_deref(), &options)
    })
    .await;
    reporter.abort();
    let outcome = outcome?;
    let (summary, mp3_bytes) = match outcome {
        Outcome::Done(summary, mp3_bytes) => (summary, mp3_bytes),
        Outcome::BadInput(err) => {
            // The Debug form keeps details meant for us (a parser's panic text).
            tracing::info!(reason = %err, detail = ?err, "the input cannot be converted");
            return fail(
                &job,
                failure_reason(&err),
                err.to_string(),
                Some(lease),
                deps,
            )
            .await;
        }
        Outcome::Store(err) => match store_failure_reason(&err) {
            Some(reason) => {
                tracing::warn!(error = ?err, "storage failed for good");
                return fail(&job, FailureReason::Store, reason, Some(lease), deps).await;
            }
            None => return Err(err.into()),
        },
        Outcome::Io(err) => return Err(err.into()),
    };

    let stats = JobStats {
        source_bytes: object.size,
        bytes_read: bytes_read.load(Ordering::Relaxed),
        mp3_bytes,
        audio_seconds: summary.duration().as_secs_f64(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        peak_rss_bytes: peak_rss_bytes(),
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
    let done = Transition {
        output_key: Some(out_key),
        stats: Some(stats),
        ..Transition::to(JobStatus::Done)
    }
    .held(lease);
    match deps.jobs.transition(&job.user_id, &job.job_id, done).await {
        Ok(job) => publish_once(&job, deps).await,
        Err(PortError::ConditionFailed) => {
            // Our lease expired and another attempt took the job: its result stands (the MP3
            // key is the job's, so both wrote the same object).
            tracing::warn!("the job was taken over before this attempt finished; result dropped");
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// Hands the engine a progress sink and starts a task that writes the latest percentage to the
/// job every `progress_every` (not on every packet: one write per interval at most).
fn report_progress(
    job: &Job,
    lease: &Lease,
    mut options: Options,
    deps: &Deps,
) -> (tokio::task::JoinHandle<()>, Options) {
    let (sender, mut receiver) = tokio::sync::watch::channel(0u8);
    options.progress = Some(ProgressSink(Arc::new(move |percent| {
        let _ = sender.send(percent);
    })));
    let (jobs, user, job_id, lease) = (
        deps.jobs.clone(),
        job.user_id.clone(),
        job.job_id,
        lease.clone(),
    );
    let every = deps.config.progress_every;
    let task = tokio::spawn(async move {
        let mut written = 0u8;
        loop {
            tokio::time::sleep(every).await;
            if receiver.has_changed().is_err() {
                return;
            }
            let percent = *receiver.borrow_and_update();
            if percent <= written {
                continue;
            }
            match jobs.set_progress(&user, &job_id, &lease, percent).await {
                Ok(true) => written = percent,
                Ok(false) => return,
                Err(err) => tracing::warn!(error = ?err, "writing progress failed"),
            }
        }
    });
    (task, options)
}

/// How a conversion on the blocking thread ended.
enum Outcome {
    /// Converted and stored: the summary and the MP3's size.
    Done(Summary, u64),
    /// The input cannot be converted; the reason is for the user.
    BadInput(TranscodeError),
    /// Reading the upload or storing the MP3 failed.
    Store(PortError),
    /// Anything else of I/O (retried).
    Io(std::io::Error),
}

/// Reads the upload in ranges (for an MP4, only its audio and index, as its fetch plan says),
/// converts it, and streams the MP3 to `writer`, which is stored only if everything succeeded.
fn stream_convert(
    mut reader: Box<dyn ObjectReader>,
    size: u64,
    writer: Box<dyn ObjectWriter>,
    extension: Option<&str>,
    options: &Options,
) -> Outcome {
    if let Some(plan) = video2mp3_transcode::mp4_audio_plan(&mut reader) {
        tracing::info!(
            ranges = plan.ranges.len(),
            bytes = plan.bytes(),
            other_track_ranges = plan.other_tracks.len(),
            fragmented = plan.fragmented,
            "MP4 fetch plan"
        );
        reader.plan(plan.ranges, plan.other_tracks);
    }
    if let Err(err) = reader.seek(SeekFrom::Start(0)) {
        writer.abort();
        return Outcome::Io(err);
    }
    let mut writer = writer;
    let failure = Arc::new(Mutex::new(None));
    let reader = Watched {
        inner: reader,
        failure: failure.clone(),
    };
    let source = SeekableSource::new(reader, size);
    let result = video2mp3_transcode::transcode(Box::new(source), extension, &mut writer, options);
    // A failed read is the store's fault whatever the demuxer made of it (symphonia's probe
    // reports a failed read as an unknown format).
    let failure = failure.lock().ok().and_then(|mut f| f.take());
    match (result, failure) {
        (_, Some(port)) => {
            writer.abort();
            Outcome::Store(port)
        }
        (Ok(summary), None) => match writer.finish() {
            Ok(mp3_bytes) => Outcome::Done(summary, mp3_bytes),
            Err(err) => Outcome::Store(err),
        },
        (Err(err), None) => {
            writer.abort();
            match err {
                TranscodeError::Io(io) => {
                    match io.into_inner().map(|e| e.downcast::<PortError>()) {
                        Some(Ok(port)) => Outcome::Store(*port),
                        Some(Err(other)) => Outcome::Io(std::io::Error::other(other)),
                        None => Outcome::Io(std::io::Error::other("I/O failed")),
                    }
                }
                other => Outcome::BadInput(other),
            }
        }
    }
}

/// A reader that remembers the first storage error a read or seek met.
struct Watched {
    inner: Box<dyn ObjectReader>,
    failure: Arc<Mutex<Option<PortError>>>,
}

impl Watched {
    fn note<T>(&self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(err) = &result
            && let Some(port) = err.get_ref().and_then(|e| e.downcast_ref::<PortError>())
            && let Ok(mut slot) = self.failure.lock()
        {
            slot.get_or_insert_with(|| copy_port_error(port));
        }
        result
    }
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let result = self.inner.read(buf);
        self.note(result)
    }
}

impl Seek for Watched {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let result = self.inner.seek(to);
        self.note(result)
    }
}

/// The same error again (a `PortError` owns its cause, so it cannot be cloned).
fn copy_port_error(err: &PortError) -> PortError {
    match err {
        PortError::ConditionFailed => PortError::ConditionFailed,
        PortError::AlreadyExists => PortError::AlreadyExists,
        PortError::ObjectGone => PortError::ObjectGone,
        PortError::ObjectChanged => PortError::ObjectChanged,
        PortError::Backend {
            operation,
            transient,
            source,
        } => PortError::backend(operation, *transient, source.to_string()),
    }
}

/// The reason to give the user when a storage failure will not go away by retrying; `None` when
/// the message should be retried.
fn store_failure_reason(err: &PortError) -> Option<String> {
    match err {
        PortError::ObjectGone => Some(
            "the uploaded file was deleted while it was being converted; please upload it again"
                .into(),
        ),
        PortError::ObjectChanged => Some(
            "the uploaded file was replaced while it was being converted; please upload it again"
                .into(),
        ),
        err if err.is_transient() => None,
        _ => Some("the MP3 could not be stored; please try again later".into()),
    }
}

/// The process's peak resident set size (`VmHWM`), or 0 where /proc does not tell.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let kb = line.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?;
                kb.trim().parse::<u64>().ok()
            })
        })
        .map_or(0, |kb| kb * 1024)
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
    let mut failed = Transition::failed(reason);
    if let Some(lease) = lease {
        failed = failed.held(lease);
    }
    match deps
        .jobs
        .transition(&job.user_id, &job.job_id, failed)
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

    #[test]
    fn encoder_threads_follow_the_cpu_share_lambda_gives() {
        // Off Lambda: every core.
        assert_eq!(encoder_threads(None, 8), 8);
        // Up to about 1.3 vCPU a second thread costs CPU and time.
        assert_eq!(encoder_threads(Some(1024), 2), 1);
        assert_eq!(encoder_threads(Some(2048), 2), 1);
        assert_eq!(encoder_threads(Some(2560), 2), 2);
        assert_eq!(encoder_threads(Some(3008), 2), 2);
        // 10,240 MB is six vCPUs on six cores; never more threads than cores.
        assert_eq!(encoder_threads(Some(10240), 6), 6);
        assert_eq!(encoder_threads(Some(10240), 2), 2);
        assert_eq!(encoder_threads(Some(5307), 6), 3);
    }

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
