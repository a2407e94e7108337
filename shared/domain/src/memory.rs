//! In-memory twins of the ports, for fast tests of the rules that use them. They apply the same
//! rules as the AWS adapters (the job's moves through [`Transition::permits`], the e-mail claim
//! and the login count in epoch seconds, as the table keeps them), and the contract suite
//! (`crate::contract`) runs against both kinds to prove it. Each adapter carries [`Faults`] to
//! fail its calls as a busy or refusing service would.
//!
//! Built for this crate's tests and with the `testing` feature; never in a function.

use crate::clock::{Clock, SystemClock};
use crate::job::{Job, JobEvent, JobId, JobStatus, Lease, UserId};
use crate::lifecycle::Transition;
use crate::ports::{
    AccountStore, Deletion, EmailClaim, EventPublisher, HeldPart, JobPage, JobStore, LoginAttempt,
    Mailer, ObjectInfo, ObjectReader, ObjectStore, ObjectWriter, PendingSignup, PortError,
    PresignedUpload, User, UserCredentials, UserStore,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use time::OffsetDateTime;

/// Locks a mutex, carrying on past a poisoned one (a test that panicked holding it).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Faults to inject into an adapter's calls, by operation name (`GetItem`, `UpdateItem`,
/// `HeadObject`, `GetObject`, `PutObject`, `Publish`, `SendEmail`...), and a count of every call.
#[derive(Debug, Default)]
pub struct Faults {
    /// Every operation fails its first this many calls with a transient error.
    first: AtomicUsize,
    /// Operations that always fail with a permanent error (a permission the caller lacks).
    refused: Mutex<Vec<&'static str>>,
    calls: Mutex<BTreeMap<&'static str, usize>>,
    injected: AtomicUsize,
}

impl Faults {
    /// Makes the first `n` calls of every operation fail as throttling does.
    pub fn fail_first(&self, n: usize) {
        self.first.store(n, Ordering::SeqCst);
    }

    /// Makes every call of `operation` fail for good (access denied).
    pub fn refuse(&self, operation: &'static str) {
        lock(&self.refused).push(operation);
    }

    /// How many times each operation was called.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        lock(&self.calls).clone()
    }

    /// How many faults were injected.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }

    /// Counts a call of `operation`, failing it if a fault is due.
    pub fn check(&self, operation: &'static str) -> Result<(), PortError> {
        let n = {
            let mut calls = lock(&self.calls);
            let n = calls.entry(operation).or_default();
            *n += 1;
            *n
        };
        if lock(&self.refused).contains(&operation) {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(PortError::backend(
                operation,
                false,
                "access denied (injected)",
            ));
        }
        if n <= self.first.load(Ordering::SeqCst) {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(PortError::backend(operation, true, "throttled (injected)"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct StoredJob {
    job: Job,
    /// Until when (epoch seconds) an e-mail claim holds.
    email_claim_until: Option<i64>,
    /// Until when (epoch seconds) a claim to publish the job's end holds.
    publish_claim_until: Option<i64>,
    /// The parts of a fanned-out conversion made so far.
    parts_in: std::collections::BTreeSet<u32>,
    /// Until when (epoch seconds) a claim to join them holds.
    join_claim_until: Option<i64>,
}

#[derive(Debug, Default)]
struct LoginState {
    failures: u32,
    locked_until: Option<i64>,
}

#[derive(Debug, Default)]
struct Tables {
    /// Jobs by user id, then job id (ids sort by creation time).
    jobs: HashMap<String, BTreeMap<JobId, StoredJob>>,
    /// Credentials by e-mail.
    credentials: HashMap<String, UserCredentials>,
    /// Profiles by user id.
    users: HashMap<String, User>,
    /// Webhook keys by user id (on the profile, in the table).
    webhook_keys: HashMap<String, String>,
    logins: HashMap<String, LoginState>,
    /// Sign-ups waiting, by token hash, with when they expire (epoch seconds).
    signups: HashMap<String, (PendingSignup, i64)>,
    /// Reset tokens by (user id, token hash): the version they were issued at, and expiry.
    resets: HashMap<(String, String), (u32, i64)>,
    /// E-mails counted per address: how many, and when the window ends (epoch seconds).
    mails: HashMap<String, (u32, i64)>,
}

/// A clock that runs with the system's but can be moved ahead, as if time had passed.
#[derive(Debug, Default)]
pub struct ManualClock {
    ahead: Mutex<time::Duration>,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock `by` ahead.
    pub fn advance(&self, by: Duration) {
        *lock(&self.ahead) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *lock(&self.ahead)
    }
}

/// [`JobStore`] and [`UserStore`] in memory. Moves are judged at its clock's time, as DynamoDB
/// judges them at its own.
pub struct MemoryStore {
    tables: Mutex<Tables>,
    clock: Arc<dyn Clock>,
    pub faults: Faults,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }
}

impl MemoryStore {
    /// A store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store whose time is `clock`'s.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            tables: Mutex::default(),
            clock,
            faults: Faults::default(),
        }
    }

    fn stored<T>(
        &self,
        user: &UserId,
        job: &JobId,
        f: impl FnOnce(&mut StoredJob) -> T,
    ) -> Option<T> {
        let mut tables = lock(&self.tables);
        tables
            .jobs
            .get_mut(user.as_str())
            .and_then(|jobs| jobs.get_mut(job))
            .map(f)
    }

    /// Claims a job's e-mail or publish for `hold` from `now`: `slot` gives whether it is done
    /// and its claim's expiry (epoch seconds), as the table keeps them.
    fn claim(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: Duration,
        slot: impl FnOnce(&mut StoredJob) -> (bool, &mut Option<i64>),
    ) -> Result<EmailClaim, PortError> {
        self.faults.check("UpdateItem")?;
        let now_s = now.unix_timestamp();
        Ok(self
            .stored(user, job, |s| match slot(s) {
                (true, _) => EmailClaim::AlreadySent,
                (false, until) if until.is_some_and(|u| u >= now_s) => EmailClaim::Busy,
                (false, until) => {
                    *until = Some((now + hold).unix_timestamp());
                    EmailClaim::Claimed
                }
            })
            .unwrap_or(EmailClaim::NoJob))
    }

    /// Gives back the claim in `slot` if it is the one made at `now` for `hold`.
    fn release(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: Duration,
        slot: impl FnOnce(&mut StoredJob) -> &mut Option<i64>,
    ) -> Result<(), PortError> {
        self.faults.check("UpdateItem")?;
        let mine = Some((now + hold).unix_timestamp());
        self.stored(user, job, |s| {
            let until = slot(s);
            if *until == mine {
                *until = None;
            }
        });
        Ok(())
    }
}

/// A job as the table keeps it: its lease to the whole second.
fn as_stored(job: &Job) -> Job {
    Job {
        lease: job.lease.as_ref().map(Lease::to_whole_second),
        ..job.clone()
    }
}

#[async_trait]
impl JobStore for MemoryStore {
    async fn create_job(&self, job: &Job) -> Result<(), PortError> {
        self.faults.check("PutItem")?;
        let mut tables = lock(&self.tables);
        let jobs = tables
            .jobs
            .entry(job.user_id.as_str().to_owned())
            .or_default();
        if jobs.contains_key(&job.job_id) {
            return Err(PortError::AlreadyExists);
        }
        jobs.insert(
            job.job_id,
            StoredJob {
                job: as_stored(job),
                email_claim_until: None,
                publish_claim_until: None,
                parts_in: Default::default(),
                join_claim_until: None,
            },
        );
        Ok(())
    }

    async fn job(&self, user: &UserId, job: &JobId) -> Result<Option<Job>, PortError> {
        self.faults.check("GetItem")?;
        Ok(self.stored(user, job, |s| s.job.clone()))
    }

    async fn delete_job(
        &self,
        user: &UserId,
        job: &JobId,
        deletion: Deletion,
    ) -> Result<(), PortError> {
        self.faults.check("DeleteItem")?;
        let mut tables = lock(&self.tables);
        let jobs = tables
            .jobs
            .get_mut(user.as_str())
            .ok_or(PortError::ConditionFailed)?;
        let stored = jobs.get(job).ok_or(PortError::ConditionFailed)?;
        if deletion == Deletion::UnlessConverting && stored.job.status == JobStatus::Converting {
            return Err(PortError::ConditionFailed);
        }
        jobs.remove(job);
        Ok(())
    }

    async fn jobs(
        &self,
        user: &UserId,
        limit: u32,
        after: Option<&JobId>,
    ) -> Result<JobPage, PortError> {
        self.faults.check("Query")?;
        let tables = lock(&self.tables);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let jobs: Vec<Job> = tables
            .jobs
            .get(user.as_str())
            .into_iter()
            .flat_map(|jobs| jobs.values().rev())
            .filter(|s| after.is_none_or(|after| s.job.job_id < *after))
            .take(limit)
            .map(|s| s.job.clone())
            .collect();
        // As DynamoDB does: a full page says there may be more.
        let next = (jobs.len() == limit)
            .then(|| jobs.last().map(|j| j.job_id))
            .flatten();
        Ok(JobPage { jobs, next })
    }

    async fn transition(
        &self,
        user: &UserId,
        job: &JobId,
        t: Transition,
    ) -> Result<Job, PortError> {
        self.faults.check("UpdateItem")?;
        let precondition = t.precondition()?;
        let now = self.clock.now();
        self.stored(user, job, |stored| {
            if !precondition.holds(&stored.job, now) {
                return Err(PortError::ConditionFailed);
            }
            t.apply(&mut stored.job, now);
            Ok(stored.job.clone())
        })
        .unwrap_or(Err(PortError::ConditionFailed))
    }

    async fn mark_notified(&self, user: &UserId, job: &JobId) -> Result<bool, PortError> {
        self.faults.check("UpdateItem")?;
        Ok(self
            .stored(user, job, |s| {
                s.publish_claim_until = None;
                !std::mem::replace(&mut s.job.notified, true)
            })
            .unwrap_or(false))
    }

    async fn claim_publish(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: Duration,
    ) -> Result<EmailClaim, PortError> {
        self.claim(user, job, now, hold, |s| {
            (s.job.notified, &mut s.publish_claim_until)
        })
    }

    async fn release_publish_claim(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: Duration,
    ) -> Result<(), PortError> {
        self.release(user, job, now, hold, |s| &mut s.publish_claim_until)
    }

    async fn set_progress(
        &self,
        user: &UserId,
        job: &JobId,
        lease: &Lease,
        percent: u8,
    ) -> Result<bool, PortError> {
        self.faults.check("UpdateItem")?;
        Ok(self
            .stored(user, job, |s| {
                let held = s.job.status == crate::JobStatus::Converting
                    && s.job.lease.as_ref().is_some_and(|l| l.owner == lease.owner);
                if held {
                    s.job.progress = Some(percent);
                }
                held
            })
            .unwrap_or(false))
    }

    async fn set_tracks(
        &self,
        user: &UserId,
        job: &JobId,
        lease: &Lease,
        tracks: &[crate::SourceTrack],
    ) -> Result<bool, PortError> {
        self.faults.check("UpdateItem")?;
        Ok(self
            .stored(user, job, |s| {
                let held = s.job.status == crate::JobStatus::Converting
                    && s.job.lease.as_ref().is_some_and(|l| l.owner == lease.owner);
                if held {
                    s.job.tracks = tracks.to_vec();
                }
                held
            })
            .unwrap_or(false))
    }

    async fn claim_email(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: Duration,
    ) -> Result<EmailClaim, PortError> {
        self.claim(user, job, now, hold, |s| {
            (s.job.emailed, &mut s.email_claim_until)
        })
    }

    async fn record_webhook_attempt(
        &self,
        user: &UserId,
        job: &JobId,
        attempt: &crate::webhook::WebhookAttempt,
    ) -> Result<bool, PortError> {
        self.faults.check("UpdateItem")?;
        Ok(self
            .stored(user, job, |s| {
                let attempts = &mut s.job.webhook_attempts;
                if attempts.len() >= crate::webhook::MAX_ATTEMPTS as usize
                    || attempts.iter().any(|a| a.delivered)
                {
                    return false;
                }
                attempts.push(attempt.clone());
                true
            })
            .unwrap_or(false))
    }

    async fn record_part(
        &self,
        user: &UserId,
        job: &JobId,
        index: u32,
    ) -> Result<Option<u32>, PortError> {
        self.faults.check("UpdateItem")?;
        Ok(self
            .stored(user, job, |s| {
                (s.job.status == crate::JobStatus::Converting).then(|| {
                    s.parts_in.insert(index);
                    u32::try_from(s.parts_in.len()).unwrap_or(u32::MAX)
                })
            })
            .flatten())
    }

    async fn claim_join(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: Duration,
    ) -> Result<EmailClaim, PortError> {
        self.claim(user, job, now, hold, |s| {
            (
                s.job.status != crate::JobStatus::Converting,
                &mut s.join_claim_until,
            )
        })
    }

    async fn mark_emailed(&self, user: &UserId, job: &JobId) -> Result<(), PortError> {
        self.faults.check("UpdateItem")?;
        self.stored(user, job, |s| {
            s.job.emailed = true;
            s.email_claim_until = None;
        })
        .ok_or(PortError::ConditionFailed)
    }

    async fn release_email_claim(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: Duration,
    ) -> Result<(), PortError> {
        self.release(user, job, now, hold, |s| &mut s.email_claim_until)
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<(), PortError> {
        self.faults.check("TransactWriteItems")?;
        let mut tables = lock(&self.tables);
        if tables.credentials.contains_key(&user.email)
            || tables.users.contains_key(user.user_id.as_str())
        {
            return Err(PortError::AlreadyExists);
        }
        tables.credentials.insert(
            user.email.clone(),
            UserCredentials {
                user_id: user.user_id.clone(),
                password_hash: password_hash.to_owned(),
                token_version: user.token_version,
            },
        );
        tables
            .users
            .insert(user.user_id.as_str().to_owned(), user.clone());
        Ok(())
    }

    async fn credentials(&self, email: &str) -> Result<Option<UserCredentials>, PortError> {
        self.faults.check("GetItem")?;
        Ok(lock(&self.tables).credentials.get(email).cloned())
    }

    async fn user(&self, user_id: &UserId) -> Result<Option<User>, PortError> {
        self.faults.check("GetItem")?;
        Ok(lock(&self.tables).users.get(user_id.as_str()).cloned())
    }

    async fn webhook_key(&self, user_id: &UserId) -> Result<Option<String>, PortError> {
        self.faults.check("GetItem")?;
        Ok(lock(&self.tables)
            .webhook_keys
            .get(user_id.as_str())
            .cloned())
    }

    async fn set_webhook_key(&self, user_id: &UserId, key: &str) -> Result<(), PortError> {
        self.faults.check("UpdateItem")?;
        let mut tables = lock(&self.tables);
        if !tables.users.contains_key(user_id.as_str()) {
            return Err(PortError::ConditionFailed);
        }
        tables
            .webhook_keys
            .insert(user_id.as_str().to_owned(), key.to_owned());
        Ok(())
    }

    async fn delete_user(&self, user: &User) -> Result<(), PortError> {
        self.faults.check("TransactWriteItems")?;
        let mut tables = lock(&self.tables);
        tables.webhook_keys.remove(user.user_id.as_str());
        tables.credentials.remove(&user.email);
        tables.users.remove(user.user_id.as_str());
        tables.logins.remove(&user.email);
        tables.mails.remove(&user.email);
        tables
            .resets
            .retain(|(id, _), _| id != user.user_id.as_str());
        Ok(())
    }

    async fn take_login_attempt(
        &self,
        email: &str,
        now: OffsetDateTime,
        limit: u32,
        lockout: Duration,
    ) -> Result<LoginAttempt, PortError> {
        self.faults.check("UpdateItem")?;
        let mut tables = lock(&self.tables);
        let state = tables.logins.entry(email.to_owned()).or_default();
        let now_s = now.unix_timestamp();
        let locked = state.locked_until.filter(|until| *until > now_s);
        if locked.is_none() && state.failures < limit {
            state.failures += 1;
            return Ok(LoginAttempt::Taken {
                count: state.failures,
            });
        }
        if let Some(until) = locked {
            return Ok(LoginAttempt::Locked {
                until: OffsetDateTime::from_unix_timestamp(until).unwrap_or(now),
            });
        }
        let until = now + lockout;
        state.locked_until = Some(until.unix_timestamp());
        state.failures = 0;
        Ok(LoginAttempt::Locked { until })
    }

    async fn lock_login(&self, email: &str, until: OffsetDateTime) -> Result<(), PortError> {
        self.faults.check("UpdateItem")?;
        let mut tables = lock(&self.tables);
        let state = tables.logins.entry(email.to_owned()).or_default();
        state.locked_until = Some(until.unix_timestamp());
        state.failures = 0;
        Ok(())
    }

    async fn clear_login_failures(&self, email: &str) -> Result<(), PortError> {
        self.faults.check("DeleteItem")?;
        lock(&self.tables).logins.remove(email);
        Ok(())
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn put_signup(
        &self,
        token_hash: &str,
        signup: &PendingSignup,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        self.faults.check("PutItem")?;
        lock(&self.tables).signups.insert(
            token_hash.to_owned(),
            (signup.clone(), expires_at.unix_timestamp()),
        );
        Ok(())
    }

    async fn take_signup(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<PendingSignup>, PortError> {
        self.faults.check("DeleteItem")?;
        let mut tables = lock(&self.tables);
        match tables.signups.get(token_hash) {
            Some((_, expires)) if *expires > now.unix_timestamp() => {
                Ok(tables.signups.remove(token_hash).map(|(s, _)| s))
            }
            _ => Ok(None),
        }
    }

    async fn put_reset(
        &self,
        user: &UserId,
        token_hash: &str,
        version: u32,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        self.faults.check("PutItem")?;
        lock(&self.tables).resets.insert(
            (user.as_str().to_owned(), token_hash.to_owned()),
            (version, expires_at.unix_timestamp()),
        );
        Ok(())
    }

    async fn take_reset(
        &self,
        user: &UserId,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<u32>, PortError> {
        self.faults.check("DeleteItem")?;
        let mut tables = lock(&self.tables);
        let key = (user.as_str().to_owned(), token_hash.to_owned());
        match tables.resets.get(&key) {
            Some((_, expires)) if *expires > now.unix_timestamp() => {
                Ok(tables.resets.remove(&key).map(|(v, _)| v))
            }
            _ => Ok(None),
        }
    }

    async fn set_password(
        &self,
        user: &User,
        password_hash: &str,
        version: u32,
    ) -> Result<u32, PortError> {
        self.faults.check("TransactWriteItems")?;
        let mut tables = lock(&self.tables);
        let tables = &mut *tables;
        let (Some(profile), Some(credentials)) = (
            tables.users.get_mut(user.user_id.as_str()),
            tables.credentials.get_mut(&user.email),
        ) else {
            return Err(PortError::ConditionFailed);
        };
        if profile.token_version != version || credentials.token_version != version {
            return Err(PortError::ConditionFailed);
        }
        profile.token_version = version + 1;
        credentials.token_version = version + 1;
        credentials.password_hash = password_hash.to_owned();
        Ok(version + 1)
    }

    async fn take_mail_slot(
        &self,
        email: &str,
        now: OffsetDateTime,
        limit: u32,
        window: Duration,
    ) -> Result<bool, PortError> {
        self.faults.check("UpdateItem")?;
        let mut tables = lock(&self.tables);
        let now_s = now.unix_timestamp();
        let slot = tables.mails.entry(email.to_owned()).or_insert((0, 0));
        if slot.1 <= now_s {
            *slot = (
                1,
                now_s + i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
            );
            return Ok(true);
        }
        if slot.0 < limit {
            slot.0 += 1;
            return Ok(true);
        }
        Ok(false)
    }
}

/// [`EventPublisher`] that keeps what it was given.
#[derive(Debug, Default)]
pub struct MemoryEvents {
    published: Mutex<Vec<JobEvent>>,
    pub faults: Faults,
}

impl MemoryEvents {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event published, in order.
    pub fn published(&self) -> Vec<JobEvent> {
        lock(&self.published).clone()
    }
}

#[async_trait]
impl EventPublisher for MemoryEvents {
    async fn publish(&self, event: &JobEvent) -> Result<(), PortError> {
        self.faults.check("Publish")?;
        lock(&self.published).push(event.clone());
        Ok(())
    }
}

/// An e-mail as [`MemoryMailer`] received it.
/// [`MessageQueue`] in memory: keeps what was sent, for the test to deliver.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<String>>,
    faults: Faults,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// The faults injected into this queue's calls.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Takes the messages sent so far, oldest first.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.sent))
    }
}

#[async_trait]
impl crate::ports::MessageQueue for MemoryQueue {
    async fn send(&self, bodies: &[String]) -> Result<(), PortError> {
        self.faults.check("SendMessageBatch")?;
        lock(&self.sent).extend(bodies.iter().cloned());
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// [`Mailer`] that keeps what it was asked to send.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<SentMail>>,
    pub faults: Faults,
}

impl MemoryMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every e-mail sent, in order.
    pub fn sent(&self) -> Vec<SentMail> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), PortError> {
        self.faults.check("SendEmail")?;
        lock(&self.sent).push(SentMail {
            to: to.into(),
            subject: subject.into(),
            body: body.into(),
        });
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct StoredObject {
    bytes: Arc<Vec<u8>>,
    etag: String,
}

#[derive(Debug, Default)]
struct Buckets {
    objects: HashMap<(String, String), StoredObject>,
    /// How many times each key was written (as a versioned bucket would count them).
    writes: HashMap<(String, String), usize>,
    next_etag: u64,
    /// Multipart uploads in progress by id.
    uploads: HashMap<String, PendingUpload>,
}

/// A multipart upload in progress: where it goes (bucket, key), and its parts by number.
#[derive(Debug, Default)]
struct PendingUpload {
    at: (String, String),
    parts: BTreeMap<u32, Vec<u8>>,
}

#[derive(Debug, Default)]
struct ObjectsInner {
    buckets: Mutex<Buckets>,
    faults: Faults,
}

impl ObjectsInner {
    fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let mut buckets = lock(&self.buckets);
        buckets.next_etag += 1;
        let etag = format!("\"{}\"", buckets.next_etag);
        let at = (bucket.to_owned(), key.to_owned());
        *buckets.writes.entry(at.clone()).or_default() += 1;
        buckets.objects.insert(
            at,
            StoredObject {
                bytes: Arc::new(bytes),
                etag,
            },
        );
    }
}

/// [`ObjectStore`] in memory. Reads check that the object is still the one opened (gone:
/// [`PortError::ObjectGone`], replaced: [`PortError::ObjectChanged`]), as ranged GETs with
/// `If-Match` do.
#[derive(Debug, Clone, Default)]
pub struct MemoryObjects {
    inner: Arc<ObjectsInner>,
}

impl MemoryObjects {
    pub fn new() -> Self {
        Self::default()
    }

    /// The faults injected into this store's calls.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Stores an object, as a client's upload does.
    pub fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        self.inner.put(bucket, key, bytes);
    }

    /// Stores part `number` of a multipart upload, as a client's PUT to its URL does; `false`
    /// if there is no such upload.
    pub fn put_part(&self, upload_id: &str, number: u32, bytes: Vec<u8>) -> bool {
        let mut buckets = lock(&self.inner.buckets);
        match buckets.uploads.get_mut(upload_id) {
            Some(upload) => {
                upload.parts.insert(number, bytes);
                true
            }
            None => false,
        }
    }

    /// The multipart uploads in progress.
    pub fn uploads_in_progress(&self) -> usize {
        lock(&self.inner.buckets).uploads.len()
    }

    /// Deletes an object, as someone else might while it is read.
    pub fn remove(&self, bucket: &str, key: &str) {
        lock(&self.inner.buckets)
            .objects
            .remove(&(bucket.to_owned(), key.to_owned()));
    }

    /// An object's bytes.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        lock(&self.inner.buckets)
            .objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|o| o.bytes.as_ref().clone())
    }

    /// How many times `key` was written.
    pub fn writes(&self, bucket: &str, key: &str) -> usize {
        lock(&self.inner.buckets)
            .writes
            .get(&(bucket.to_owned(), key.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// The keys in `bucket`, sorted.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let mut keys: Vec<String> = lock(&self.inner.buckets)
            .objects
            .keys()
            .filter(|(b, _)| b == bucket)
            .map(|(_, k)| k.clone())
            .collect();
        keys.sort();
        keys
    }
}

#[async_trait]
impl ObjectStore for MemoryObjects {
    async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        _expires_in: Duration,
    ) -> Result<PresignedUpload, PortError> {
        self.inner.faults.check("PresignPut")?;
        Ok(PresignedUpload {
            url: format!("memory://{bucket}/{key}"),
            method: "PUT".into(),
            headers: BTreeMap::from([
                ("content-type".into(), content_type.into()),
                ("content-length".into(), content_length.to_string()),
            ]),
        })
    }

    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        _download_name: &str,
        _expires_in: Duration,
    ) -> Result<String, PortError> {
        self.inner.faults.check("PresignGet")?;
        Ok(format!("memory://{bucket}/{key}"))
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, PortError> {
        self.inner.faults.check("HeadObject")?;
        Ok(lock(&self.inner.buckets)
            .objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|o| ObjectInfo {
                size: o.bytes.len() as u64,
                etag: Some(o.etag.clone()),
            }))
    }

    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        _content_type: &str,
    ) -> Result<String, PortError> {
        self.inner.faults.check("CreateMultipartUpload")?;
        let mut buckets = lock(&self.inner.buckets);
        buckets.next_etag += 1;
        let id = format!("upload-{}", buckets.next_etag);
        buckets.uploads.insert(
            id.clone(),
            PendingUpload {
                at: (bucket.to_owned(), key.to_owned()),
                parts: BTreeMap::new(),
            },
        );
        Ok(id)
    }

    async fn presign_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        length: u64,
        _expires_in: Duration,
    ) -> Result<String, PortError> {
        self.inner.faults.check("PresignPart")?;
        Ok(format!(
            "memory://{bucket}/{key}?uploadId={upload_id}&partNumber={number}&length={length}"
        ))
    }

    async fn list_parts(
        &self,
        _bucket: &str,
        _key: &str,
        upload_id: &str,
    ) -> Result<Option<Vec<HeldPart>>, PortError> {
        self.inner.faults.check("ListParts")?;
        Ok(lock(&self.inner.buckets)
            .uploads
            .get(upload_id)
            .map(|upload| {
                upload
                    .parts
                    .iter()
                    .map(|(n, bytes)| HeldPart {
                        number: *n,
                        size: bytes.len() as u64,
                        etag: format!("\"part-{n}-{}\"", bytes.len()),
                    })
                    .collect()
            }))
    }

    async fn complete_multipart(
        &self,
        _bucket: &str,
        _key: &str,
        upload_id: &str,
        parts: &[HeldPart],
    ) -> Result<(), PortError> {
        self.inner.faults.check("CompleteMultipartUpload")?;
        let taken = lock(&self.inner.buckets).uploads.remove(upload_id);
        let Some(PendingUpload {
            at: (bucket, key),
            parts: held,
        }) = taken
        else {
            return Err(PortError::backend(
                "CompleteMultipartUpload",
                false,
                "NoSuchUpload",
            ));
        };
        let mut whole = Vec::new();
        for part in parts {
            let bytes = held.get(&part.number).ok_or_else(|| {
                PortError::backend("CompleteMultipartUpload", false, "InvalidPart")
            })?;
            whole.extend_from_slice(bytes);
        }
        self.inner.put(&bucket, &key, whole);
        Ok(())
    }

    async fn abort_multipart(
        &self,
        _bucket: &str,
        _key: &str,
        upload_id: &str,
    ) -> Result<(), PortError> {
        self.inner.faults.check("AbortMultipartUpload")?;
        lock(&self.inner.buckets).uploads.remove(upload_id);
        Ok(())
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), PortError> {
        self.inner.faults.check("DeleteObject")?;
        self.remove(bucket, key);
        Ok(())
    }

    async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), PortError> {
        self.inner.faults.check("PutObject")?;
        self.inner.put(bucket, key, bytes);
        Ok(())
    }

    async fn get_bytes(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, PortError> {
        self.inner.faults.check("GetObject")?;
        match self.get(bucket, key) {
            Some(bytes) if bytes.len() as u64 > limit => Err(PortError::backend(
                "GetObject",
                false,
                format!("{key} is {} bytes, over {limit}", bytes.len()),
            )),
            found => Ok(found),
        }
    }

    async fn upload_part(
        &self,
        _bucket: &str,
        _key: &str,
        upload_id: &str,
        number: u32,
        bytes: Vec<u8>,
    ) -> Result<HeldPart, PortError> {
        self.inner.faults.check("UploadPart")?;
        let size = bytes.len() as u64;
        if !self.put_part(upload_id, number, bytes) {
            return Err(PortError::backend("UploadPart", false, "NoSuchUpload"));
        }
        Ok(HeldPart {
            number,
            size,
            etag: format!("\"part-{number}-{size}\""),
        })
    }

    async fn copy_part(
        &self,
        bucket: &str,
        _key: &str,
        upload_id: &str,
        number: u32,
        source: &str,
    ) -> Result<HeldPart, PortError> {
        self.inner.faults.check("UploadPartCopy")?;
        let bytes = self
            .get(bucket, source)
            .ok_or_else(|| PortError::backend("UploadPartCopy", false, "NoSuchKey"))?;
        let size = bytes.len() as u64;
        if !self.put_part(upload_id, number, bytes) {
            return Err(PortError::backend("UploadPartCopy", false, "NoSuchUpload"));
        }
        Ok(HeldPart {
            number,
            size,
            etag: format!("\"part-{number}-{size}\""),
        })
    }

    fn open(&self, bucket: &str, key: &str, info: &ObjectInfo) -> Box<dyn ObjectReader> {
        Box::new(MemoryReader {
            store: self.inner.clone(),
            at: (bucket.to_owned(), key.to_owned()),
            etag: info.etag.clone(),
            size: info.size,
            position: 0,
            read: Arc::default(),
        })
    }

    fn create(&self, bucket: &str, key: &str, _content_type: &str) -> Box<dyn ObjectWriter> {
        Box::new(MemoryWriter {
            store: self.inner.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            buffer: Cursor::new(Vec::new()),
        })
    }
}

struct MemoryReader {
    store: Arc<ObjectsInner>,
    at: (String, String),
    etag: Option<String>,
    size: u64,
    position: u64,
    read: Arc<AtomicU64>,
}

impl MemoryReader {
    /// The object as opened, or why it cannot be read.
    fn object(&self) -> std::io::Result<Arc<Vec<u8>>> {
        self.store
            .faults
            .check("GetObject")
            .map_err(std::io::Error::other)?;
        let buckets = lock(&self.store.buckets);
        match buckets.objects.get(&self.at) {
            None => Err(std::io::Error::other(PortError::ObjectGone)),
            Some(o) if self.etag.as_ref().is_some_and(|e| *e != o.etag) => {
                Err(std::io::Error::other(PortError::ObjectChanged))
            }
            Some(o) => Ok(o.bytes.clone()),
        }
    }
}

impl Read for MemoryReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let bytes = self.object()?;
        let start = usize::try_from(self.position).unwrap_or(usize::MAX);
        let available = bytes.get(start..).unwrap_or_default();
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.position += n as u64;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for MemoryReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.position)
    }
}

impl ObjectReader for MemoryReader {
    fn set_fetch_plan(&mut self, _ranges: Vec<Range<u64>>, _unused: Vec<Range<u64>>) {}

    fn bytes_read(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }
}

struct MemoryWriter {
    store: Arc<ObjectsInner>,
    bucket: String,
    key: String,
    buffer: Cursor<Vec<u8>>,
}

impl Write for MemoryWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for MemoryWriter {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.buffer.seek(to)
    }
}

impl ObjectWriter for MemoryWriter {
    fn finish(self: Box<Self>) -> Result<u64, PortError> {
        self.store.faults.check("PutObject")?;
        let bytes = self.buffer.into_inner();
        let size = bytes.len() as u64;
        self.store.put(&self.bucket, &self.key, bytes);
        Ok(size)
    }

    fn abort(self: Box<Self>) {}
}
