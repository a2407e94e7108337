//! A job's life, in one place: the rule for which moves a job may make ([`Transition`] and its
//! [`Precondition`]), and the steps the functions take over the ports ([`JobLife`]: claim,
//! progress, finish, fail, publish once; [`email_once`]).
//!
//! The rule is written once, here. The in-memory store checks it with
//! [`Precondition::holds`]; the DynamoDB adapter turns the same [`Precondition`] into its
//! condition expression; one contract suite (`contract`) runs against both and proves that they
//! agree with [`Transition::permits`] for every state, lease and move.
//!
//! Lease times are kept to the whole second (the table stores epoch seconds), so a lease has
//! expired once the second it names is over.

use crate::clock::Clock;
use crate::failure::FailureReason;
use crate::job::{Job, JobEvent, JobStats, JobStatus, Lease};
use crate::ports::{EmailClaim, EventPublisher, JobStore, PortError};
use crate::{JobId, UserId};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// A conditional move of a job to a new state, with what the move records.
///
/// `lease` is the mover's hold on the job. Moving to `converting` takes it, and is allowed from
/// `queued`, or from `converting` when the lease there has expired or is already the mover's.
/// Moving on from `converting` (to `done` or `failed`) with a lease is allowed only to the lease's
/// owner, so a converter whose job was taken over cannot overwrite the new one's result; the
/// lease is then cleared. See [`Transition::precondition`].
#[derive(Debug, Clone)]
pub struct Transition {
    pub to: JobStatus,
    pub error: Option<String>,
    pub error_code: Option<FailureReason>,
    pub output_key: Option<String>,
    pub stats: Option<JobStats>,
    pub lease: Option<Lease>,
}

/// What must hold of a stored job for a [`Transition`] to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    /// The job exists and is in one of these states (none: no job may make the move).
    pub from: &'static [JobStatus],
    /// What the job's lease must be, when the job is `converting`.
    pub lease: LeaseCheck,
}

/// The lease part of a [`Precondition`]; it applies only to a job in `converting`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseCheck {
    /// Any lease, or none.
    Any,
    /// Taking the job: its lease is absent, expired, or `owner`'s already.
    Takeable { owner: String },
    /// Moving on as its holder: its lease is `owner`'s.
    HeldBy { owner: String },
}

impl Transition {
    /// A bare move to `to`.
    pub fn to(to: JobStatus) -> Self {
        Self {
            to,
            error: None,
            error_code: None,
            output_key: None,
            stats: None,
            lease: None,
        }
    }

    /// The same move made as the holder of `lease`.
    pub fn held(self, lease: &Lease) -> Self {
        Self {
            lease: Some(lease.clone()),
            ..self
        }
    }

    /// The move to `failed` because of `code`, told to the user as `reason`.
    pub fn failed(code: FailureReason, reason: impl Into<String>) -> Self {
        Self {
            error: Some(reason.into()),
            error_code: Some(code),
            ..Self::to(JobStatus::Failed)
        }
    }

    /// The move to `done` with the MP3's key and the figures of the conversion.
    pub fn done(output_key: String, stats: JobStats) -> Self {
        Self {
            output_key: Some(output_key),
            stats: Some(stats),
            ..Self::to(JobStatus::Done)
        }
    }

    /// What the stored job must satisfy for this move. An error (permanent) for a move that is
    /// malformed whatever the job: taking a job to `converting` without a lease.
    pub fn precondition(&self) -> Result<Precondition, PortError> {
        let from = self.to.allowed_predecessors();
        let lease = match (self.to, &self.lease) {
            (JobStatus::Converting, Some(lease)) => LeaseCheck::Takeable {
                owner: lease.owner.clone(),
            },
            (JobStatus::Converting, None) => {
                return Err(PortError::backend(
                    "transition",
                    false,
                    "moving a job to converting needs a lease",
                ));
            }
            (_, Some(lease)) => LeaseCheck::HeldBy {
                owner: lease.owner.clone(),
            },
            (_, None) => LeaseCheck::Any,
        };
        Ok(Precondition { from, lease })
    }

    /// Whether the rule lets this move apply to `job` (as stored) at `now`.
    pub fn permits(&self, job: &Job, now: OffsetDateTime) -> bool {
        self.precondition().is_ok_and(|p| p.holds(job, now))
    }

    /// The job after the move, made at `now`: the new state and what the move records; a lease
    /// taken (to the whole second) when moving to `converting`, cleared otherwise.
    pub fn apply(self, job: &mut Job, now: OffsetDateTime) {
        job.status = self.to;
        job.updated_at = now;
        if self.error.is_some() {
            job.error = self.error;
        }
        if self.error_code.is_some() {
            job.error_code = self.error_code;
        }
        if self.output_key.is_some() {
            job.output_key = self.output_key;
        }
        if self.stats.is_some() {
            job.stats = self.stats;
        }
        job.lease = match (self.to, self.lease) {
            (JobStatus::Converting, Some(lease)) => Some(lease.to_whole_second()),
            _ => None,
        };
    }
}

impl Precondition {
    /// Whether `job` satisfies it at `now`.
    pub fn holds(&self, job: &Job, now: OffsetDateTime) -> bool {
        if !self.from.contains(&job.status) {
            return false;
        }
        if job.status != JobStatus::Converting {
            return true;
        }
        let held_by = |owner: &str| job.lease.as_ref().is_some_and(|l| l.owner == owner);
        match &self.lease {
            LeaseCheck::Any => true,
            LeaseCheck::Takeable { owner } => {
                job.lease.as_ref().is_none_or(|l| l.expired_at(now)) || held_by(owner)
            }
            LeaseCheck::HeldBy { owner } => held_by(owner),
        }
    }
}

/// How [`JobLife::claim`] ended.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per delivery, moved straight out"
)]
pub enum Claim {
    /// The attempt holds the job (now `converting`); `took_over` names the attempt whose expired
    /// lease it replaced.
    Held { job: Job, took_over: Option<String> },
    /// The job had already ended (its end is published now if it was not).
    Ended { status: JobStatus },
    /// The job is gone.
    Gone,
    /// Another attempt holds a live lease until `until`: try again later.
    Busy { until: OffsetDateTime },
}

/// How recording a job's end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Recorded and published.
    Recorded,
    /// The job had ended already, or another attempt took it over: left as it is.
    Refused,
}

/// How long a claim to publish a job's end holds: long enough for one SNS call and its
/// retries; after it, a duplicate delivery publishes if the claimer died.
pub const PUBLISH_HOLD: Duration = Duration::from_secs(30);

/// The steps of a job's life over the ports: what the converter does with a job, whoever runs
/// it (the Lambda function, the in-memory tests).
#[derive(Clone)]
pub struct JobLife {
    pub jobs: Arc<dyn JobStore>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
}

/// How [`JobLife::publish_once`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Published now, or before.
    Done,
    /// Another delivery is publishing it now (until then at the latest).
    Busy { until: OffsetDateTime },
}

impl JobLife {
    pub fn new(
        jobs: Arc<dyn JobStore>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            jobs,
            events,
            clock,
        }
    }

    /// A lease for a new conversion attempt, held for `hold` from `now`.
    pub fn new_lease(now: OffsetDateTime, hold: Duration) -> Lease {
        Lease {
            owner: ulid::Ulid::new().to_string(),
            expires_at: now + hold,
        }
    }

    /// Takes `job` (as just read) for the attempt holding `lease`: from `queued` (or
    /// `awaiting_upload`, whose upload event may overtake the upload's bookkeeping), or from
    /// `converting` under an expired lease. A job that has ended is published if nobody has
    /// (its converter died between the two, or its publish failed).
    pub async fn claim(&self, mut job: Job, lease: &Lease) -> Result<Claim, PortError> {
        if job.status.is_final() {
            return self.ended(&job).await;
        }
        if job.status == JobStatus::AwaitingUpload {
            match self
                .jobs
                .transition(&job.user_id, &job.job_id, Transition::to(JobStatus::Queued))
                .await
            {
                Ok(queued) => job = queued,
                Err(PortError::ConditionFailed) => {}
                Err(err) => return Err(err),
            }
        }
        // A lease on a job still `converting` belongs to an attempt that died or timed out.
        let previous = job
            .lease
            .as_ref()
            .filter(|_| job.status == JobStatus::Converting)
            .map(|l| l.owner.clone());
        let take = Transition::to(JobStatus::Converting).held(lease);
        match self.jobs.transition(&job.user_id, &job.job_id, take).await {
            Ok(job) => Ok(Claim::Held {
                job,
                took_over: previous,
            }),
            Err(PortError::ConditionFailed) => {
                let Some(stored) = self.jobs.job(&job.user_id, &job.job_id).await? else {
                    return Ok(Claim::Gone);
                };
                if stored.status.is_final() {
                    return self.ended(&stored).await;
                }
                let until = stored.lease.map_or(stored.updated_at, |l| l.expires_at);
                Ok(Claim::Busy { until })
            }
            Err(err) => Err(err),
        }
    }

    /// Records how far the conversion held under `lease` has got; `false` once the job is no
    /// longer converting under that lease (it was taken over, or it ended): stop reporting.
    pub async fn record_progress(
        &self,
        job: &Job,
        lease: &Lease,
        percent: u8,
    ) -> Result<bool, PortError> {
        self.jobs
            .set_progress(&job.user_id, &job.job_id, lease, percent)
            .await
    }

    /// Records the file's audio tracks, found by the conversion held under `lease`; `false`
    /// once the job is no longer converting under that lease.
    pub async fn record_tracks(
        &self,
        job: &Job,
        lease: &Lease,
        tracks: &[crate::SourceTrack],
    ) -> Result<bool, PortError> {
        self.jobs
            .set_tracks(&job.user_id, &job.job_id, lease, tracks)
            .await
    }

    /// Records the conversion held under `lease` as done, and publishes it.
    pub async fn finish(
        &self,
        job: &Job,
        lease: &Lease,
        output_key: String,
        stats: JobStats,
    ) -> Result<Ended, PortError> {
        self.end(job, Transition::done(output_key, stats).held(lease))
            .await
    }

    /// Records the job as failed because of `reason` (told to the user as `text`), and
    /// publishes it. With `lease`, only while that lease holds the job.
    pub async fn fail(
        &self,
        job: &Job,
        reason: FailureReason,
        text: String,
        lease: Option<&Lease>,
    ) -> Result<Ended, PortError> {
        let mut failed = Transition::failed(reason, text);
        if let Some(lease) = lease {
            failed = failed.held(lease);
        }
        self.end(job, failed).await
    }

    async fn end(&self, job: &Job, t: Transition) -> Result<Ended, PortError> {
        match self.jobs.transition(&job.user_id, &job.job_id, t).await {
            Ok(job) => {
                self.publish_once(&job).await?;
                Ok(Ended::Recorded)
            }
            Err(PortError::ConditionFailed) => Ok(Ended::Refused),
            Err(err) => Err(err),
        }
    }

    /// A later delivery's answer for a job that has ended: published unless it was, or
    /// another delivery is publishing it right now (then try again later).
    async fn ended(&self, job: &Job) -> Result<Claim, PortError> {
        match self.publish_once(job).await? {
            Published::Done => Ok(Claim::Ended { status: job.status }),
            Published::Busy { until } => Ok(Claim::Busy { until }),
        }
    }

    /// Publishes a finished job's event unless that was already done, under a claim held for
    /// [`PUBLISH_HOLD`]: two deliveries racing publish once; a publish that fails gives the
    /// claim back; a claimer that dies lets it run out. (A crash between the publish and its
    /// record publishes again on the next delivery: at least once.)
    pub async fn publish_once(&self, job: &Job) -> Result<Published, PortError> {
        if job.notified {
            return Ok(Published::Done);
        }
        let (user, id) = (&job.user_id, &job.job_id);
        let now = self.clock.now();
        match self.jobs.claim_publish(user, id, now, PUBLISH_HOLD).await? {
            EmailClaim::Claimed => {}
            EmailClaim::AlreadySent | EmailClaim::NoJob => return Ok(Published::Done),
            EmailClaim::Busy => {
                return Ok(Published::Busy {
                    until: now + PUBLISH_HOLD,
                });
            }
        }
        if let Err(err) = self.events.publish(&JobEvent::for_job(job)).await {
            let _ = self
                .jobs
                .release_publish_claim(user, id, now, PUBLISH_HOLD)
                .await;
            return Err(err);
        }
        self.jobs.mark_notified(user, id).await?;
        Ok(Published::Done)
    }
}

/// How [`email_once`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emailed {
    Sent,
    /// The e-mail for this job was sent before.
    AlreadySent,
    /// There is no such job.
    NoJob,
    /// Another invocation is sending it now: try again later.
    Busy,
}

/// Sends the one e-mail about a job's end: claims it for `hold` from `now`, calls `send`, and
/// records it as sent; a failed send gives the claim back so the next try need not wait.
pub async fn email_once<F>(
    jobs: &dyn JobStore,
    user: &UserId,
    job: &JobId,
    now: OffsetDateTime,
    hold: Duration,
    send: F,
) -> Result<Emailed, EmailError>
where
    F: std::future::Future<Output = Result<(), PortError>>,
{
    match jobs.claim_email(user, job, now, hold).await? {
        EmailClaim::Claimed => {}
        EmailClaim::AlreadySent => return Ok(Emailed::AlreadySent),
        EmailClaim::NoJob => return Ok(Emailed::NoJob),
        EmailClaim::Busy => return Ok(Emailed::Busy),
    }
    if let Err(err) = send.await {
        let released = jobs.release_email_claim(user, job, now, hold).await.err();
        return Err(EmailError::Send { err, released });
    }
    jobs.mark_emailed(user, job).await?;
    Ok(Emailed::Sent)
}

/// Why [`email_once`] could not finish.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("the job store failed")]
    Store(#[from] PortError),
    /// Sending failed; `released` is the error of giving the claim back, if that failed too.
    #[error("sending the e-mail failed")]
    Send {
        #[source]
        err: PortError,
        released: Option<PortError>,
    },
}

impl EmailError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(err) | Self::Send { err, .. } => err.is_transient(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_end_is_published_once_by_whoever_claims_it_and_again_if_the_claimer_died() {
        use crate::memory::{ManualClock, MemoryEvents, MemoryStore};
        let clock = Arc::new(ManualClock::new());
        let store = Arc::new(MemoryStore::with_clock(clock.clone()));
        let events = Arc::new(MemoryEvents::new());
        let life = JobLife::new(store.clone(), events.clone(), clock.clone());
        let done = Job {
            status: JobStatus::Done,
            ..crate::job::sample_job()
        };
        store.create_job(&done).await.unwrap();
        // A converter claimed the publish and died before publishing.
        let claimed = store
            .claim_publish(&done.user_id, &done.job_id, clock.now(), PUBLISH_HOLD)
            .await
            .unwrap();
        assert_eq!(claimed, EmailClaim::Claimed);
        let lease = JobLife::new_lease(clock.now(), Duration::from_secs(900));
        let claim = life.claim(done.clone(), &lease).await.unwrap();
        assert!(matches!(claim, Claim::Busy { .. }), "{claim:?}");
        assert!(events.published().is_empty());
        // Its claim runs out: the next delivery publishes, once.
        clock.advance(PUBLISH_HOLD + Duration::from_secs(1));
        let claim = life.claim(done.clone(), &lease).await.unwrap();
        assert!(
            matches!(
                claim,
                Claim::Ended {
                    status: JobStatus::Done
                }
            ),
            "{claim:?}"
        );
        assert_eq!(events.published().len(), 1);
        let stored = store
            .job(&done.user_id, &done.job_id)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.notified);
        assert!(matches!(
            life.claim(stored, &lease).await.unwrap(),
            Claim::Ended { .. }
        ));
        assert_eq!(events.published().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_publish_gives_its_claim_back_for_the_next_delivery() {
        use crate::memory::{MemoryEvents, MemoryStore};
        let store = Arc::new(MemoryStore::new());
        let events = Arc::new(MemoryEvents::new());
        let life = JobLife::new(
            store.clone(),
            events.clone(),
            Arc::new(crate::clock::SystemClock),
        );
        let done = Job {
            status: JobStatus::Done,
            ..crate::job::sample_job()
        };
        store.create_job(&done).await.unwrap();
        events.faults.fail_first(1);
        assert!(life.publish_once(&done).await.is_err());
        assert_eq!(life.publish_once(&done).await.unwrap(), Published::Done);
        assert_eq!(events.published().len(), 1);
    }

    fn job(status: JobStatus, lease: Option<Lease>) -> Job {
        Job {
            status,
            lease,
            ..crate::job::sample_job()
        }
    }

    fn lease(owner: &str, expires_at: OffsetDateTime) -> Lease {
        Lease {
            owner: owner.into(),
            expires_at,
        }
    }

    #[test]
    fn a_converting_job_is_taken_only_once_its_lease_has_expired_or_by_its_owner() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let take = Transition::to(JobStatus::Converting).held(&lease("me", now));
        let second = time::Duration::seconds(1);
        assert!(take.permits(&job(JobStatus::Queued, None), now));
        assert!(take.permits(&job(JobStatus::Converting, None), now));
        let other = |at| job(JobStatus::Converting, Some(lease("other", at)));
        assert!(!take.permits(&other(now + second), now));
        // Whole seconds: a lease naming this second is not over yet.
        assert!(!take.permits(&other(now), now + time::Duration::milliseconds(900)));
        assert!(take.permits(&other(now - second), now));
        assert!(take.permits(
            &job(JobStatus::Converting, Some(lease("me", now + second))),
            now
        ));
        assert!(!take.permits(&job(JobStatus::Done, None), now));
        assert!(!take.permits(&job(JobStatus::AwaitingUpload, None), now));
    }

    #[test]
    fn only_the_leases_owner_ends_a_converting_job() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let mine = lease("me", now + time::Duration::minutes(1));
        let theirs = lease("other", now + time::Duration::minutes(1));
        let done = Transition::to(JobStatus::Done).held(&mine);
        assert!(done.permits(&job(JobStatus::Converting, Some(mine.clone())), now));
        assert!(!done.permits(&job(JobStatus::Converting, Some(theirs.clone())), now));
        assert!(!done.permits(&job(JobStatus::Converting, None), now));
        // Failing an unconverted job needs no lease; a bare move ignores the lease.
        let fail = Transition::failed(FailureReason::Corrupt, "x").held(&mine);
        assert!(fail.permits(&job(JobStatus::Queued, None), now));
        assert!(
            Transition::failed(FailureReason::Corrupt, "x")
                .permits(&job(JobStatus::Converting, Some(theirs)), now)
        );
        assert!(
            !Transition::failed(FailureReason::Corrupt, "x")
                .permits(&job(JobStatus::Done, None), now)
        );
    }

    #[test]
    fn a_move_to_converting_without_a_lease_is_refused_as_malformed() {
        let t = Transition::to(JobStatus::Converting);
        let err = t.precondition().unwrap_err();
        assert!(!err.is_transient());
        assert!(!t.permits(&job(JobStatus::Queued, None), OffsetDateTime::now_utc()));
        assert!(
            Transition::to(JobStatus::AwaitingUpload)
                .precondition()
                .unwrap()
                .from
                .is_empty()
        );
    }

    #[test]
    fn applying_a_move_records_it_and_takes_or_clears_the_lease() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let l = lease("me", now + time::Duration::milliseconds(60_500));
        let mut j = job(JobStatus::Queued, None);
        Transition::to(JobStatus::Converting)
            .held(&l)
            .apply(&mut j, now);
        assert_eq!(j.status, JobStatus::Converting);
        assert_eq!(j.updated_at, now);
        assert_eq!(
            j.lease,
            Some(lease("me", now + time::Duration::seconds(60))),
            "kept to the whole second"
        );
        let stats = JobStats {
            mp3_bytes: 5,
            ..JobStats::default()
        };
        Transition::done("mp3/k".into(), stats.clone())
            .held(&l)
            .apply(&mut j, now);
        assert_eq!(j.status, JobStatus::Done);
        assert_eq!(j.output_key.as_deref(), Some("mp3/k"));
        assert_eq!(j.stats, Some(stats));
        assert_eq!(j.lease, None);
        assert_eq!(j.error, None);
    }
}
