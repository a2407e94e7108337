//! The narrow interfaces the handlers need from the outside world. `video2mp3-aws` implements
//! them over S3, DynamoDB, SNS and SES.

use crate::job::{Job, JobEvent, JobId, Lease, UserId};
use crate::lifecycle::Transition;
use async_trait::async_trait;
use std::io::{Read, Seek, Write};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::{collections::BTreeMap, time::Duration};

/// A boxed error from an adapter, kept whole so its chain can be logged.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong talking to a store.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// A conditional write found the item in another state (someone else moved it first).
    #[error("the item was not in the expected state")]
    ConditionFailed,
    /// The item already exists.
    #[error("the item already exists")]
    AlreadyExists,
    /// The object was deleted while it was being read.
    #[error("the object is no longer there")]
    ObjectGone,
    /// The object was replaced while it was being read.
    #[error("the object changed while it was being read")]
    ObjectChanged,
    /// The call failed; `transient` says whether trying again later may succeed.
    #[error("{operation} failed")]
    Backend {
        operation: &'static str,
        transient: bool,
        #[source]
        source: BoxError,
    },
}

impl PortError {
    /// Wraps an adapter error, with whether a retry may help.
    pub fn backend(operation: &'static str, transient: bool, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            operation,
            transient,
            source: source.into(),
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Backend {
                transient: true,
                ..
            }
        )
    }
}

/// A user as the rest of the system sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: UserId,
    pub email: String,
    /// Raised by every change of password; tokens issued at an older version are refused.
    pub token_version: u32,
}

impl User {
    /// A new user (token version 0).
    pub fn new(user_id: UserId, email: impl Into<String>) -> Self {
        Self {
            user_id,
            email: email.into(),
            token_version: 0,
        }
    }
}

/// What login needs: who the email belongs to, their password hash and token version.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user_id: UserId,
    pub password_hash: String,
    pub token_version: u32,
}

/// What asking to check a password for one email address (known or not, so the answers do not
/// tell which addresses have accounts) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The attempt is taken and counts as a failure until the password proves right; `count`
    /// attempts in a row now, this one included (at most the limit).
    Taken { count: u32 },
    /// The address is locked until then: the password must not be checked.
    Locked { until: time::OffsetDateTime },
}

/// Users and their credentials.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; [`PortError::AlreadyExists`] when the email is taken.
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<(), PortError>;
    /// The credentials for an email (lower-cased by the caller), if such a user exists.
    async fn credentials(&self, email: &str) -> Result<Option<UserCredentials>, PortError>;
    /// The user with this id, if they exist.
    async fn user(&self, user_id: &UserId) -> Result<Option<User>, PortError>;
    /// The user's webhook key, if they made one.
    async fn webhook_key(&self, user_id: &UserId) -> Result<Option<String>, PortError>;
    /// Sets (or replaces) the user's webhook key; [`PortError::ConditionFailed`] if there is no
    /// such user.
    async fn set_webhook_key(&self, user_id: &UserId, key: &str) -> Result<(), PortError>;
    /// Deletes the user's login and profile (their tokens stop working: every request checks
    /// that its user exists), and every other item kept about them or their address: the login
    /// and e-mail counters and unused reset tokens. Their jobs are the [`JobStore`]'s.
    async fn delete_user(&self, user: &User) -> Result<(), PortError>;
    /// Takes one login attempt for `email` atomically, before its password is checked: counted
    /// unless `email` is locked or `limit` attempts in a row are already counted (some perhaps
    /// still being checked), in which case the address is locked (until `now + lockout`, if it
    /// was not yet). So a burst of guesses gets at most `limit` passwords checked.
    async fn take_login_attempt(
        &self,
        email: &str,
        now: time::OffsetDateTime,
        limit: u32,
        lockout: Duration,
    ) -> Result<LoginAttempt, PortError>;
    /// Locks `email` until `until` and starts the count again (after the last allowed attempt
    /// failed).
    async fn lock_login(&self, email: &str, until: time::OffsetDateTime) -> Result<(), PortError>;
    /// Forgets the failed logins of `email` (after a successful one).
    async fn clear_login_failures(&self, email: &str) -> Result<(), PortError>;
}

/// A sign-up waiting for its address to be confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignup {
    /// Lower-cased, as [`UserStore`] keys it.
    pub email: String,
    pub password_hash: String,
}

/// What accounts need beyond logging in: one-time tokens (kept only as their hashes), changes
/// of password, and a count of the e-mails sent to each address.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Keeps `signup` under `token_hash` until `expires_at`.
    async fn put_signup(
        &self,
        token_hash: &str,
        signup: &PendingSignup,
        expires_at: time::OffsetDateTime,
    ) -> Result<(), PortError>;
    /// Takes the sign-up kept under `token_hash` away, if it is there and not expired at `now`:
    /// a token works once.
    async fn take_signup(
        &self,
        token_hash: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<PendingSignup>, PortError>;
    /// Keeps a password reset token of `user`'s, issued at their token version `version`, until
    /// `expires_at`.
    async fn put_reset(
        &self,
        user: &UserId,
        token_hash: &str,
        version: u32,
        expires_at: time::OffsetDateTime,
    ) -> Result<(), PortError>;
    /// Takes the reset token away, if it is there and not expired at `now`; returns the token
    /// version it was issued at.
    async fn take_reset(
        &self,
        user: &UserId,
        token_hash: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<u32>, PortError>;
    /// Sets `user`'s password, only if their token version is still `version`
    /// ([`PortError::ConditionFailed`] otherwise), and raises the version: every token issued
    /// before stops working. Returns the new version.
    async fn set_password(
        &self,
        user: &User,
        password_hash: &str,
        version: u32,
    ) -> Result<u32, PortError>;
    /// Counts one e-mail to `email` in the current window of length `window` (a new window
    /// starts at the first e-mail after the last one ended); `false`, counting nothing, when
    /// `limit` were sent in it already.
    async fn take_mail_slot(
        &self,
        email: &str,
        now: time::OffsetDateTime,
        limit: u32,
        window: Duration,
    ) -> Result<bool, PortError>;
}

/// Which jobs [`JobStore::delete_job`] may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Any job but one converting now (its converter would write an MP3 for no job).
    UnlessConverting,
    /// Any job (the whole account is going).
    Any,
}

/// One page of a user's jobs, newest first.
#[derive(Debug, Clone)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<JobId>,
}

/// Jobs, keyed by their user: every read names the user, so no one reads another's job.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a new job; [`PortError::AlreadyExists`] if the id is taken.
    async fn create_job(&self, job: &Job) -> Result<(), PortError>;
    /// The job, if it exists and belongs to `user`.
    async fn job(&self, user: &UserId, job: &JobId) -> Result<Option<Job>, PortError>;
    /// Up to `limit` of the user's jobs, newest first, after the job `after`.
    async fn jobs(
        &self,
        user: &UserId,
        limit: u32,
        after: Option<&JobId>,
    ) -> Result<JobPage, PortError>;
    /// Applies `t` (as [`Transition::apply`] says) only if [`Transition::permits`] the move
    /// for the job as stored, judged at the store's own clock; [`PortError::ConditionFailed`]
    /// otherwise (or when there is no such job). Returns the job as it now is.
    async fn transition(&self, user: &UserId, job: &JobId, t: Transition)
    -> Result<Job, PortError>;
    /// Deletes the job if `deletion` allows it as stored ([`PortError::ConditionFailed`] if not,
    /// or if there is no such job).
    async fn delete_job(
        &self,
        user: &UserId,
        job: &JobId,
        deletion: Deletion,
    ) -> Result<(), PortError>;
    /// Claims the right to publish the job's end, for `hold` from `now` (so a converter that
    /// dies while publishing does not block it for ever): the same answers as
    /// [`JobStore::claim_email`], `AlreadySent` once it is published.
    async fn claim_publish(
        &self,
        user: &UserId,
        job: &JobId,
        now: time::OffsetDateTime,
        hold: Duration,
    ) -> Result<EmailClaim, PortError>;
    /// Gives back a publish claim made at `now` for `hold` whose publish failed.
    async fn release_publish_claim(
        &self,
        user: &UserId,
        job: &JobId,
        now: time::OffsetDateTime,
        hold: Duration,
    ) -> Result<(), PortError>;
    /// Records that the job's end was published (ending any publish claim); `false` if it
    /// already was.
    async fn mark_notified(&self, user: &UserId, job: &JobId) -> Result<bool, PortError>;
    /// Records how far the conversion holding `lease` has got; ignored (`Ok(false)`) when the
    /// job is no longer converting under that lease.
    async fn set_progress(
        &self,
        user: &UserId,
        job: &JobId,
        lease: &Lease,
        percent: u8,
    ) -> Result<bool, PortError>;
    /// Records the file's audio tracks, as the conversion holding `lease` found them; ignored
    /// (`Ok(false)`) when the job is no longer converting under that lease.
    async fn set_tracks(
        &self,
        user: &UserId,
        job: &JobId,
        lease: &Lease,
        tracks: &[crate::SourceTrack],
    ) -> Result<bool, PortError>;
    /// Claims the right to email the user about the job's end, for `hold` from `now` (so a
    /// notifier that dies while sending does not block the email for ever).
    async fn claim_email(
        &self,
        user: &UserId,
        job: &JobId,
        now: time::OffsetDateTime,
        hold: Duration,
    ) -> Result<EmailClaim, PortError>;
    /// Appends a try at POSTing the job's end to its callback URL, unless the job is gone,
    /// already delivered or has [`crate::webhook::MAX_ATTEMPTS`] tries (`Ok(false)` then).
    async fn record_webhook_attempt(
        &self,
        user: &UserId,
        job: &JobId,
        attempt: &crate::webhook::WebhookAttempt,
    ) -> Result<bool, PortError>;
    /// Records that the email was sent.
    async fn mark_emailed(&self, user: &UserId, job: &JobId) -> Result<(), PortError>;
    /// Records that part `index` of the job's fanned-out conversion is made (again, for a
    /// duplicate delivery: counted once). Returns how many distinct parts are in, or `None` when
    /// there is no such job or it is no longer converting.
    async fn record_part(
        &self,
        user: &UserId,
        job: &JobId,
        index: u32,
    ) -> Result<Option<u32>, PortError>;
    /// Claims, for `hold` from `now`, the join of a fanned-out job's parts: one claimer at a
    /// time ([`EmailClaim::Claimed`]); [`EmailClaim::AlreadySent`] when the job is no longer
    /// converting (it was joined, or failed); a claim whose holder died runs out.
    async fn claim_join(
        &self,
        user: &UserId,
        job: &JobId,
        now: time::OffsetDateTime,
        hold: Duration,
    ) -> Result<EmailClaim, PortError>;
    /// Gives back a claim made at `now` for `hold` whose email could not be sent, so the next
    /// try need not wait for it to run out; a claim someone else holds by then is left alone.
    async fn release_email_claim(
        &self,
        user: &UserId,
        job: &JobId,
        now: time::OffsetDateTime,
        hold: Duration,
    ) -> Result<(), PortError>;
}

/// The answer to [`JobStore::claim_email`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailClaim {
    /// The caller sends the email, then calls [`JobStore::mark_emailed`].
    Claimed,
    /// The email was sent already.
    AlreadySent,
    /// Someone else is sending it now; try again later.
    Busy,
    /// There is no such job.
    NoJob,
}

/// A presigned request and the headers the client must send with it.
#[derive(Debug, Clone)]
pub struct PresignedUpload {
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
}

/// A part of a multipart upload that the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPart {
    pub number: u32,
    pub size: u64,
    pub etag: String,
}

/// What a HEAD of an object tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    /// The object's version tag; reads are made against it, so a replaced object is noticed.
    pub etag: Option<String>,
}

/// A seekable reader over a stored object, fetched in ranges as it is read. For a blocking
/// thread: its reads wait for the network. Errors from the store come out as `io::Error`s
/// whose inner error is a [`PortError`].
pub trait ObjectReader: Read + Seek + Send + Sync {
    /// The byte ranges the caller will read; only they are fetched ahead. Other reads are still
    /// served, by small fetches, except within `unused`: bytes the caller reads but drops
    /// unlooked-at (a video's frames, read by a demuxer that hands out every track), which are
    /// served as zeros without fetching.
    fn set_fetch_plan(&mut self, ranges: Vec<Range<u64>>, unused: Vec<Range<u64>>);
    /// Bytes fetched from the store so far; keeps counting after the reader is handed on.
    fn bytes_read(&self) -> Arc<AtomicU64>;
}

/// A stored object being written front to back, with the first part held back so its start
/// can still be rewritten (an MP3's info frame is known only at the end). For a blocking thread.
pub trait ObjectWriter: Write + Seek + Send {
    /// Stores what was written as the object, which appears only now, whole. Returns its size.
    fn finish(self: Box<Self>) -> Result<u64, PortError>;
    /// Gives up: nothing is stored, and parts already sent are discarded.
    fn abort(self: Box<Self>);
}

/// Object storage: presigning, and reading and writing objects as streams.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// A PUT URL signed for exactly this content type and length.
    async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, PortError>;
    /// A GET URL that serves the object as an attachment named `download_name`.
    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        download_name: &str,
        expires_in: Duration,
    ) -> Result<String, PortError>;
    /// The object's size and version, or `None` if there is no such object.
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, PortError>;
    /// Starts a multipart upload of `key`; returns its id.
    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
    ) -> Result<String, PortError>;
    /// A PUT URL for part `number` of the upload, signed for exactly `length` bytes.
    async fn presign_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        length: u64,
        expires_in: Duration,
    ) -> Result<String, PortError>;
    /// The parts the upload holds, by number; `None` if there is no such upload (completed,
    /// aborted or expired).
    async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<Vec<HeldPart>>, PortError>;
    /// Joins `parts` (in order) into the object, which appears now.
    async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[HeldPart],
    ) -> Result<(), PortError>;
    /// Gives the upload up, with its parts; one already gone is not an error.
    async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), PortError>;
    /// Deletes the object; deleting one that is not there is not an error.
    async fn delete(&self, bucket: &str, key: &str) -> Result<(), PortError>;
    /// Stores `bytes` as the object, whole (for small objects: a part of a fanned-out job).
    async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), PortError>;
    /// The object's bytes, or `None` if there is no such object; an object over `limit` bytes
    /// is refused (a permanent error), not read.
    async fn get_bytes(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, PortError>;
    /// Stores `bytes` as part `number` of the upload.
    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        bytes: Vec<u8>,
    ) -> Result<HeldPart, PortError>;
    /// Copies object `source` (in the same bucket) as part `number` of the upload, within the
    /// store, without reading it here.
    async fn copy_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        source: &str,
    ) -> Result<HeldPart, PortError>;
    /// A reader over the object as `info` describes it. Call inside the async runtime; read on
    /// a blocking thread.
    fn open(&self, bucket: &str, key: &str, info: &ObjectInfo) -> Box<dyn ObjectReader>;
    /// A writer that stores `key` when finished. Call inside the async runtime; write on a
    /// blocking thread.
    fn create(&self, bucket: &str, key: &str, content_type: &str) -> Box<dyn ObjectWriter>;
}

/// A queue messages are sent to for a function to take (SQS).
#[async_trait]
pub trait MessageQueue: Send + Sync {
    /// Sends each body as one message; all of them, or an error (some may have been sent:
    /// their takers must bear duplicates).
    async fn send(&self, bodies: &[String]) -> Result<(), PortError>;
}

/// Publishes job events (SNS).
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: &JobEvent) -> Result<(), PortError>;
}

/// Sends plain-text email (SES).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), PortError>;
}
