//! Jobs: their ids, their states and the legal moves between them, the encoder settings a user
//! asked for, and the event published when a job ends.

use crate::failure::FailureReason;
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use time::OffsetDateTime;

/// A job id: a ULID, so ids sort by creation time and carry 80 random bits (unguessable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(ulid::Ulid);

impl JobId {
    /// A fresh id for a job created now.
    pub fn generate() -> Self {
        Self(ulid::Ulid::new())
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for JobId {
    type Err = ulid::DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Only the canonical upper-case form is accepted, so one job has exactly one spelling.
        if s.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(ulid::DecodeError::InvalidChar);
        }
        s.parse().map(Self)
    }
}

impl Serialize for JobId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for JobId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A user id: a ULID chosen when the user is created. It appears in object keys, never the email.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// A fresh id for a new user.
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for UserId {
    type Err = ulid::DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobId::from_str(s).map(|_| Self(s.to_owned()))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a job is in its life. The only legal moves are
/// `awaiting_upload → queued → converting → done | failed` (see [`JobStatus::can_move_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    AwaitingUpload,
    Queued,
    Converting,
    Done,
    Failed,
}

impl JobStatus {
    /// The name used in the API and the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingUpload => "awaiting_upload",
            Self::Queued => "queued",
            Self::Converting => "converting",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// Whether the job has ended and will not change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }

    /// The states a job may move to `self` from. A converter that crashed leaves a job in
    /// `queued` or `converting`; redelivery may take it from there again (from `converting`
    /// only once the crashed converter's [`Lease`] has expired).
    pub fn allowed_predecessors(self) -> &'static [JobStatus] {
        use JobStatus::*;
        match self {
            AwaitingUpload => &[],
            Queued => &[AwaitingUpload],
            Converting => &[Queued, Converting],
            Done => &[Converting],
            // A job can fail from any unfinished state (for example an upload that does not match).
            Failed => &[AwaitingUpload, Queued, Converting],
        }
    }

    /// Whether `self → next` is a legal move.
    pub fn can_move_to(self, next: JobStatus) -> bool {
        next.allowed_predecessors().contains(&self)
    }
}

impl FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "awaiting_upload" => Self::AwaitingUpload,
            "queued" => Self::Queued,
            "converting" => Self::Converting,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => return Err(format!("unknown job status {other:?}")),
        })
    }
}

/// What the user asked the encoder for: VBR quality 0 (best) to 9, or a constant bitrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum EncodeSettings {
    /// Variable bitrate, LAME's `-V` scale.
    Vbr { quality: u8 },
    /// Constant bitrate in kbit/s.
    Cbr { kbps: u16 },
}

impl Default for EncodeSettings {
    fn default() -> Self {
        Self::Vbr { quality: 2 }
    }
}

impl EncodeSettings {
    /// The constant bitrates offered (MPEG-1 layer III rates from 128 kbit/s up).
    pub const CBR_RATES: [u16; 6] = [128, 160, 192, 224, 256, 320];

    /// A short label such as `V2` or `192k`.
    pub fn label(self) -> String {
        match self {
            Self::Vbr { quality } => format!("V{quality}"),
            Self::Cbr { kbps } => format!("{kbps}k"),
        }
    }
}

/// What the user asked to be done to the audio besides encoding it; everything unset keeps the
/// source's as it is. Checked by [`crate::UploadRequest::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudioOptions {
    /// The first second of the source kept (sample-exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Where the part kept ends, in seconds of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Channels>,
    /// The MP3's sample rate in Hz, one of [`AudioOptions::SAMPLE_RATES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Normalise to this integrated loudness, LUFS (EBU R128).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness: Option<f64>,
    /// The audio track to convert (default: the one the file marks as default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<TrackChoice>,
    /// `strip`: no ID3 tag at all (none of the source's tags, cover art or chapters). Unset
    /// keeps them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagsChoice>,
}

/// What happens to the source's tags, cover art and chapters, when the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagsChoice {
    /// Drop them all.
    Strip,
}

impl AudioOptions {
    /// The sample rates an MP3 can carry.
    pub const SAMPLE_RATES: [u32; 9] =
        [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];
    /// The loudness `"loudness": true` asks for, LUFS (the usual target for podcasts and
    /// spoken word).
    pub const DEFAULT_LOUDNESS: f64 = -16.0;
    /// The targets accepted, LUFS.
    pub const LOUDNESS_RANGE: std::ops::RangeInclusive<f64> = -50.0..=-5.0;

    /// Whether nothing was asked (the job keeps no record of options then).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The MP3's channels, when the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    Mono,
    Stereo,
}

impl Channels {
    pub fn count(self) -> usize {
        match self {
            Self::Mono => 1,
            Self::Stereo => 2,
        }
    }
}

/// Figures recorded on a finished job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobStats {
    /// Size of the upload.
    pub source_bytes: u64,
    /// Bytes of the upload fetched to convert it (a video's audio is a small part of it).
    #[serde(default)]
    pub bytes_read: u64,
    pub mp3_bytes: u64,
    pub audio_seconds: f64,
    pub elapsed_ms: u64,
    /// The converter process's peak resident memory (its high-water mark so far, which on a
    /// warm Lambda instance includes earlier jobs).
    #[serde(default)]
    pub peak_rss_bytes: u64,
    /// The source's audio tracks; the one converted is marked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<SourceTrack>,
    /// How many parts the conversion was fanned out in, each made by a worker of its own
    /// (absent: one converter made it all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
}

/// One audio track of the source, as a job's details list it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceTrack {
    /// Counting the file's audio tracks from 0 (what `track` takes).
    pub index: u32,
    pub codec: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Whether this is the track converted.
    pub converted: bool,
}

/// The audio track asked for: its index among the file's audio tracks, or its language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TrackChoice {
    Index(u32),
    Language(String),
}

/// A conversion job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub job_id: JobId,
    pub user_id: UserId,
    /// The file name as sanitised at upload time.
    pub filename: String,
    pub content_type: String,
    /// The size the client declared; the uploaded object must match it.
    pub declared_size: u64,
    pub settings: EncodeSettings,
    /// Cut, channels, sample rate.
    pub options: AudioOptions,
    pub status: JobStatus,
    /// Why the job failed, in words for the user.
    pub error: Option<String>,
    /// Why the job failed, as a code for programs.
    pub error_code: Option<FailureReason>,
    pub source_key: String,
    pub output_key: Option<String>,
    pub stats: Option<JobStats>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Set once the job's end has been published, so a redelivery does not publish twice.
    pub notified: bool,
    /// While `converting`: which converter holds the job, and until when.
    pub lease: Option<Lease>,
    /// Set once the user has been emailed about the job's end.
    pub emailed: bool,
    /// Percent of the audio converted, written by the converter every few seconds.
    pub progress: Option<u8>,
    /// The S3 multipart upload the file comes in, for uploads larger than one part.
    pub upload_id: Option<String>,
    /// Where the job's end is POSTed, checked when the job was made (and again at delivery).
    pub callback_url: Option<String>,
    /// Each try at POSTing the job's end, oldest first (at most [`crate::webhook::MAX_ATTEMPTS`]).
    pub webhook_attempts: Vec<crate::webhook::WebhookAttempt>,
    /// The file's audio tracks, written by the converter as soon as it has probed the file
    /// (empty before).
    pub tracks: Vec<SourceTrack>,
}

impl Job {
    /// A new job for `upload`, created at `now`, waiting for the file at its upload key.
    pub fn awaiting_upload(
        user_id: UserId,
        job_id: JobId,
        upload: &crate::ValidUpload,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            source_key: crate::upload_key(&user_id, &job_id, &upload.filename),
            job_id,
            user_id,
            filename: upload.filename.clone(),
            content_type: upload.content_type.clone(),
            declared_size: upload.size,
            settings: upload.settings,
            options: upload.options.clone(),
            status: JobStatus::AwaitingUpload,
            error: None,
            error_code: None,
            output_key: None,
            stats: None,
            created_at: now,
            updated_at: now,
            notified: false,
            lease: None,
            emailed: false,
            progress: None,
            upload_id: None,
            callback_url: None,
            webhook_attempts: Vec::new(),
            tracks: Vec::new(),
        }
    }
}

/// A converter's hold on a job in `converting`. A converter that crashes or times out leaves
/// it behind; once `expires_at` has passed, a redelivery of the upload's event may take the job
/// over, while a live lease makes a duplicate delivery wait its turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it: one id per conversion attempt.
    pub owner: String,
    pub expires_at: OffsetDateTime,
}

impl Lease {
    /// Whether the lease has run out at `now`: the (whole) second it names is over. Leases are
    /// kept to the second, as the table stores them.
    pub fn expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.unix_timestamp() < now.unix_timestamp()
    }

    /// The lease as stored: its expiry cut to the whole second.
    pub fn to_whole_second(&self) -> Self {
        Self {
            owner: self.owner.clone(),
            expires_at: self
                .expires_at
                .replace_nanosecond(0)
                .unwrap_or(self.expires_at),
        }
    }
}

/// The message published on the topic when a job ends; `notify` reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEvent {
    pub job_id: JobId,
    pub user_id: UserId,
    pub status: JobStatus,
    pub filename: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<FailureReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<JobStats>,
}

impl JobEvent {
    /// The event for a job that has ended.
    pub fn for_job(job: &Job) -> Self {
        Self {
            job_id: job.job_id,
            user_id: job.user_id.clone(),
            status: job.status,
            filename: job.filename.clone(),
            output_key: job.output_key.clone(),
            error: job.error.clone(),
            error_code: job.error_code,
            stats: job.stats.clone(),
        }
    }
}

/// How many of a user's `jobs` still take one of their places (`MaxActiveJobsPerUser`) at
/// `now`: queued or converting, or awaiting an upload whose URL (valid for `url_ttl` from the
/// job's creation) may still be used. An abandoned upload stops counting when its URL expires.
pub fn active_jobs(jobs: &[Job], now: OffsetDateTime, url_ttl: std::time::Duration) -> usize {
    jobs.iter()
        .filter(|job| match job.status {
            JobStatus::Queued | JobStatus::Converting => true,
            JobStatus::AwaitingUpload => job.created_at + url_ttl > now,
            JobStatus::Done | JobStatus::Failed => false,
        })
        .count()
}

/// A job awaiting its upload, created at the epoch, for this crate's tests.
#[cfg(test)]
pub(crate) fn sample_job() -> Job {
    let upload = crate::ValidUpload {
        filename: "a.mp4".into(),
        content_type: "video/mp4".into(),
        size: 10,
        settings: EncodeSettings::default(),
        options: Default::default(),
    };
    Job::awaiting_upload(
        UserId::generate(),
        JobId::generate(),
        &upload,
        OffsetDateTime::UNIX_EPOCH,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_jobs_count_queued_converting_and_uploads_whose_url_still_works() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(100);
        let ttl = std::time::Duration::from_secs(900);
        let job = |status, minutes_ago: i64| {
            let mut job = sample_job();
            job.status = status;
            job.created_at = now - time::Duration::minutes(minutes_ago);
            job
        };
        let jobs = [
            job(JobStatus::Queued, 600),
            job(JobStatus::Converting, 60),
            job(JobStatus::AwaitingUpload, 5),
            // Its URL ran out ten minutes ago: abandoned.
            job(JobStatus::AwaitingUpload, 25),
            job(JobStatus::Done, 1),
            job(JobStatus::Failed, 1),
        ];
        assert_eq!(active_jobs(&jobs, now, ttl), 3);
        assert_eq!(active_jobs(&[], now, ttl), 0);
    }

    #[test]
    fn state_machine_allows_only_forward_moves() {
        use JobStatus::*;
        assert!(AwaitingUpload.can_move_to(Queued));
        assert!(Queued.can_move_to(Converting));
        assert!(Converting.can_move_to(Done));
        assert!(Converting.can_move_to(Failed));
        assert!(AwaitingUpload.can_move_to(Failed));
        assert!(!Done.can_move_to(Converting));
        assert!(!Failed.can_move_to(Done));
        assert!(!Done.can_move_to(Failed));
        assert!(!AwaitingUpload.can_move_to(Done));
        assert!(!Queued.can_move_to(Done));
    }

    #[test]
    fn job_ids_round_trip_and_reject_other_spellings() {
        let id = JobId::generate();
        assert_eq!(id.to_string().parse::<JobId>().ok(), Some(id));
        assert!(id.to_string().to_lowercase().parse::<JobId>().is_err());
        assert!("../etc/passwd".parse::<JobId>().is_err());
        assert!("".parse::<JobId>().is_err());
    }

    #[test]
    fn status_names_round_trip() {
        for s in [
            JobStatus::AwaitingUpload,
            JobStatus::Queued,
            JobStatus::Converting,
            JobStatus::Done,
            JobStatus::Failed,
        ] {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::json!(s.as_str()))
            );
        }
    }
}
