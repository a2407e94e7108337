//! The contract every [`JobStore`] and [`UserStore`] keeps, as one suite run against the
//! in-memory store (this crate's tests) and against the DynamoDB adapter on the local AWS
//! stand-in (`tools/local-stack/tests/contract.rs`). Above all it proves that a store applies a
//! [`Transition`] exactly when [`Transition::permits`] says so, for every state, lease and move:
//! the DynamoDB condition expression and the rule in Rust cannot drift apart.
//!
//! Each check panics with what differed. Built for tests and with the `testing` feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::failure::FailureReason;
use crate::job::{EncodeSettings, Job, JobId, JobStats, JobStatus, Lease, UserId};
use crate::lifecycle::Transition;
use crate::ports::{
    AccountStore, Deletion, EmailClaim, JobStore, LoginAttempt, PendingSignup, PortError, User,
    UserStore,
};
use std::time::Duration;
use time::OffsetDateTime;

/// Every check of a job store.
pub async fn job_store(store: &dyn JobStore) {
    jobs_are_created_once_and_read_only_through_their_user(store).await;
    moves_apply_exactly_when_the_rule_permits_them(store).await;
    a_jobs_end_is_marked_published_once(store).await;
    progress_is_written_only_under_the_holders_lease(store).await;
    tracks_are_written_only_under_the_holders_lease(store).await;
    one_email_claim_holds_at_a_time(store).await;
    one_publish_claim_holds_at_a_time(store).await;
    a_users_jobs_are_listed_newest_first_in_pages(store).await;
    jobs_are_deleted_unless_converting(store).await;
    webhook_attempts_are_kept_until_delivered_or_the_limit(store).await;
    a_fanned_out_jobs_parts_are_counted_once_and_joined_by_one(store).await;
}

/// Every check of an account store (over the same items as its user store).
pub async fn account_store<S: AccountStore + UserStore>(store: &S) {
    a_signup_token_works_once_until_it_expires(store).await;
    a_reset_token_works_once_for_its_user_until_it_expires(store).await;
    a_password_change_raises_the_token_version_once(store).await;
    mails_are_counted_per_address_and_window(store).await;
    deleting_a_user_takes_every_item_about_them(store).await;
}

/// Every check of a user store.
pub async fn user_store(store: &dyn UserStore) {
    users_are_created_once_per_address_and_deleted_whole(store).await;
    login_attempts_are_counted_up_to_the_limit_then_locked(store).await;
    a_webhook_key_is_kept_on_the_users_profile(store).await;
}

/// The present, to the whole second (times stored as text keep their fraction; leases do not).
fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A job of `user`'s in `status`, with `lease`.
fn job(user: &UserId, id: JobId, status: JobStatus, lease: Option<Lease>) -> Job {
    let upload = crate::ValidUpload {
        filename: "clip one.mp4".into(),
        content_type: "video/mp4".into(),
        size: 1234,
        settings: EncodeSettings::Cbr { kbps: 160 },
        // Stored and read back whole.
        options: crate::AudioOptions {
            start: Some(1.5),
            end: Some(3.25),
            channels: Some(crate::Channels::Mono),
            sample_rate: Some(22050),
            loudness: Some(-16.0),
            track: Some(crate::TrackChoice::Language("fra".into())),
            tags: Some(crate::TagsChoice::Strip),
        },
    };
    Job {
        status,
        lease,
        ..Job::awaiting_upload(user.clone(), id, &upload, now())
    }
}

fn lease(owner: &str, expires_at: OffsetDateTime) -> Lease {
    Lease {
        owner: owner.into(),
        expires_at,
    }
}

async fn jobs_are_created_once_and_read_only_through_their_user(store: &dyn JobStore) {
    let user = UserId::generate();
    let j = job(&user, JobId::generate(), JobStatus::AwaitingUpload, None);
    store.create_job(&j).await.unwrap();
    assert_eq!(store.job(&user, &j.job_id).await.unwrap(), Some(j.clone()));
    let again = store.create_job(&j).await;
    assert!(
        matches!(again, Err(PortError::AlreadyExists)),
        "a second create of one id: {again:?}"
    );
    let stranger = UserId::generate();
    assert_eq!(store.job(&stranger, &j.job_id).await.unwrap(), None);
    assert_eq!(store.job(&user, &JobId::generate()).await.unwrap(), None);
}

async fn moves_apply_exactly_when_the_rule_permits_them(store: &dyn JobStore) {
    let user = UserId::generate();
    let t0 = now();
    let minutes = time::Duration::minutes(10);
    let mover = lease("mover", t0 + minutes);
    let stats = JobStats {
        source_bytes: 1234,
        mp3_bytes: 99,
        audio_seconds: 1.5,
        ..JobStats::default()
    };
    let moves = [
        Transition::to(JobStatus::Queued),
        Transition::to(JobStatus::Converting).held(&mover),
        Transition::done("mp3/key.mp3".into(), stats).held(&mover),
        Transition::failed(FailureReason::NoAudioTrack, "no audio").held(&mover),
        Transition::failed(FailureReason::NoAudioTrack, "no audio"),
        Transition::to(JobStatus::Done),
        Transition::to(JobStatus::AwaitingUpload),
    ];
    let leases = [
        None,
        Some(lease("other", t0 + minutes)),
        Some(lease("other", t0 - time::Duration::seconds(10))),
        Some(mover.clone()),
    ];
    let statuses = [
        JobStatus::AwaitingUpload,
        JobStatus::Queued,
        JobStatus::Converting,
        JobStatus::Done,
        JobStatus::Failed,
    ];
    let (mut applied, mut refused) = (0, 0);
    for status in statuses {
        for held in &leases {
            for t in &moves {
                let id = JobId::generate();
                store
                    .create_job(&job(&user, id, status, held.clone()))
                    .await
                    .unwrap();
                let before = store.job(&user, &id).await.unwrap().unwrap();
                let permitted = t.permits(&before, OffsetDateTime::now_utc());
                let case = format!("{t:?} from {} with lease {held:?}", before.status.as_str());
                match store.transition(&user, &id, t.clone()).await {
                    Ok(after) => {
                        assert!(permitted, "applied, but the rule refuses {case}");
                        let mut expected = before.clone();
                        t.clone().apply(&mut expected, after.updated_at);
                        assert_eq!(after, expected, "{case}");
                        assert!(after.updated_at >= before.updated_at, "{case}");
                        let stored = store.job(&user, &id).await.unwrap();
                        assert_eq!(stored, Some(after), "{case}");
                        applied += 1;
                    }
                    Err(PortError::ConditionFailed) => {
                        assert!(!permitted, "refused, but the rule permits {case}");
                        let stored = store.job(&user, &id).await.unwrap();
                        assert_eq!(stored, Some(before), "left as it was: {case}");
                        refused += 1;
                    }
                    Err(other) => panic!("{case}: {other:?}"),
                }
            }
        }
    }
    // Both outcomes were exercised many times over.
    assert!(applied >= 20 && refused >= 60, "{applied} / {refused}");

    // Malformed and missing: refused whatever the job.
    let id = JobId::generate();
    store
        .create_job(&job(&user, id, JobStatus::Queued, None))
        .await
        .unwrap();
    let bare = store
        .transition(&user, &id, Transition::to(JobStatus::Converting))
        .await;
    assert!(
        matches!(&bare, Err(e) if !e.is_transient() && !matches!(e, PortError::ConditionFailed)),
        "converting without a lease: {bare:?}"
    );
    let missing = store
        .transition(
            &user,
            &JobId::generate(),
            Transition::failed(FailureReason::Corrupt, "x"),
        )
        .await;
    assert!(
        matches!(missing, Err(PortError::ConditionFailed)),
        "{missing:?}"
    );
}

async fn a_jobs_end_is_marked_published_once(store: &dyn JobStore) {
    let user = UserId::generate();
    let j = job(&user, JobId::generate(), JobStatus::Done, None);
    store.create_job(&j).await.unwrap();
    assert!(store.mark_notified(&user, &j.job_id).await.unwrap());
    assert!(!store.mark_notified(&user, &j.job_id).await.unwrap());
    assert!(store.job(&user, &j.job_id).await.unwrap().unwrap().notified);
    assert!(
        !store
            .mark_notified(&user, &JobId::generate())
            .await
            .unwrap()
    );
}

async fn webhook_attempts_are_kept_until_delivered_or_the_limit(store: &dyn JobStore) {
    use crate::webhook::{MAX_ATTEMPTS, WebhookAttempt};
    let user = UserId::generate();
    let attempt = |n: u16, delivered: bool| WebhookAttempt {
        at: now(),
        status: Some(n),
        error: (!delivered).then(|| format!("answered {n}")),
        delivered,
    };
    // Failures up to the limit, then no more.
    let j = job(&user, JobId::generate(), JobStatus::Done, None);
    store.create_job(&j).await.unwrap();
    for n in 0..MAX_ATTEMPTS {
        let a = attempt(500 + n as u16, false);
        assert!(
            store
                .record_webhook_attempt(&user, &j.job_id, &a)
                .await
                .unwrap(),
            "try {n}"
        );
    }
    assert!(
        !store
            .record_webhook_attempt(&user, &j.job_id, &attempt(599, false))
            .await
            .unwrap()
    );
    let stored = store.job(&user, &j.job_id).await.unwrap().unwrap();
    assert_eq!(stored.webhook_attempts.len(), MAX_ATTEMPTS as usize);
    assert_eq!(stored.webhook_attempts[1], attempt(501, false));
    // A delivery ends them.
    let k = job(&user, JobId::generate(), JobStatus::Failed, None);
    store.create_job(&k).await.unwrap();
    assert!(
        store
            .record_webhook_attempt(&user, &k.job_id, &attempt(503, false))
            .await
            .unwrap()
    );
    assert!(
        store
            .record_webhook_attempt(&user, &k.job_id, &attempt(204, true))
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_webhook_attempt(&user, &k.job_id, &attempt(204, true))
            .await
            .unwrap()
    );
    let stored = store.job(&user, &k.job_id).await.unwrap().unwrap();
    assert_eq!(
        stored.webhook_attempts,
        vec![attempt(503, false), attempt(204, true)]
    );
    // No job, no record.
    assert!(
        !store
            .record_webhook_attempt(&user, &JobId::generate(), &attempt(200, true))
            .await
            .unwrap()
    );
}

async fn progress_is_written_only_under_the_holders_lease(store: &dyn JobStore) {
    let user = UserId::generate();
    let holder = lease("holder", now() + time::Duration::minutes(5));
    let j = job(
        &user,
        JobId::generate(),
        JobStatus::Converting,
        Some(holder.clone()),
    );
    store.create_job(&j).await.unwrap();
    assert!(
        store
            .set_progress(&user, &j.job_id, &holder, 40)
            .await
            .unwrap()
    );
    let stranger = lease("stranger", holder.expires_at);
    assert!(
        !store
            .set_progress(&user, &j.job_id, &stranger, 90)
            .await
            .unwrap()
    );
    let stored = store.job(&user, &j.job_id).await.unwrap().unwrap();
    assert_eq!(stored.progress, Some(40));
    let done = job(
        &user,
        JobId::generate(),
        JobStatus::Done,
        Some(holder.clone()),
    );
    store.create_job(&done).await.unwrap();
    assert!(
        !store
            .set_progress(&user, &done.job_id, &holder, 50)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_progress(&user, &JobId::generate(), &holder, 50)
            .await
            .unwrap()
    );
}

async fn tracks_are_written_only_under_the_holders_lease(store: &dyn JobStore) {
    let user = UserId::generate();
    let holder = lease("holder", now() + time::Duration::minutes(5));
    let j = job(
        &user,
        JobId::generate(),
        JobStatus::Converting,
        Some(holder.clone()),
    );
    store.create_job(&j).await.unwrap();
    let tracks = vec![
        crate::SourceTrack {
            index: 0,
            codec: "AAC".into(),
            channels: Some(2),
            sample_rate: Some(44100),
            language: Some("eng".into()),
            converted: false,
        },
        crate::SourceTrack {
            index: 1,
            codec: "AC-3 (Dolby Digital)".into(),
            channels: Some(6),
            sample_rate: Some(48000),
            language: Some("fra".into()),
            converted: true,
        },
    ];
    assert!(
        store
            .set_tracks(&user, &j.job_id, &holder, &tracks)
            .await
            .unwrap()
    );
    let stranger = lease("stranger", holder.expires_at);
    assert!(
        !store
            .set_tracks(&user, &j.job_id, &stranger, &tracks[..1])
            .await
            .unwrap()
    );
    let stored = store.job(&user, &j.job_id).await.unwrap().unwrap();
    assert_eq!(stored.tracks, tracks);
    let done = job(
        &user,
        JobId::generate(),
        JobStatus::Done,
        Some(holder.clone()),
    );
    store.create_job(&done).await.unwrap();
    assert!(
        !store
            .set_tracks(&user, &done.job_id, &holder, &tracks)
            .await
            .unwrap()
    );
    assert!(
        store
            .job(&user, &done.job_id)
            .await
            .unwrap()
            .unwrap()
            .tracks
            .is_empty()
    );
}

async fn one_email_claim_holds_at_a_time(store: &dyn JobStore) {
    let user = UserId::generate();
    let j = job(&user, JobId::generate(), JobStatus::Done, None);
    let id = j.job_id;
    store.create_job(&j).await.unwrap();
    let hold = Duration::from_secs(120);
    let t0 = now();
    let claim = |at| store.claim_email(&user, &id, at, hold);
    assert_eq!(claim(t0).await.unwrap(), EmailClaim::Claimed);
    assert_eq!(claim(t0).await.unwrap(), EmailClaim::Busy);
    assert_eq!(
        claim(t0 + time::Duration::seconds(119)).await.unwrap(),
        EmailClaim::Busy
    );
    // A claim whose holder died runs out.
    let t1 = t0 + time::Duration::seconds(122);
    assert_eq!(claim(t1).await.unwrap(), EmailClaim::Claimed);
    // Giving back a claim that is not ours (another `now`) leaves it alone; ours frees it.
    store
        .release_email_claim(&user, &id, t0, hold)
        .await
        .unwrap();
    assert_eq!(claim(t1).await.unwrap(), EmailClaim::Busy);
    store
        .release_email_claim(&user, &id, t1, hold)
        .await
        .unwrap();
    assert_eq!(claim(t1).await.unwrap(), EmailClaim::Claimed);
    store.mark_emailed(&user, &id).await.unwrap();
    assert!(store.job(&user, &id).await.unwrap().unwrap().emailed);
    let later = t1 + time::Duration::hours(1);
    assert_eq!(claim(later).await.unwrap(), EmailClaim::AlreadySent);
    assert_eq!(
        store
            .claim_email(&user, &JobId::generate(), t0, hold)
            .await
            .unwrap(),
        EmailClaim::NoJob
    );
}

async fn a_fanned_out_jobs_parts_are_counted_once_and_joined_by_one(store: &dyn JobStore) {
    let user = UserId::generate();
    let lease = Lease {
        owner: "planner".into(),
        expires_at: now() + time::Duration::minutes(15),
    };
    let j = job(
        &user,
        JobId::generate(),
        JobStatus::Converting,
        Some(lease.clone()),
    );
    let id = j.job_id;
    store.create_job(&j).await.unwrap();
    // Parts come in any order; a duplicate delivery counts once.
    assert_eq!(store.record_part(&user, &id, 2).await.unwrap(), Some(1));
    assert_eq!(store.record_part(&user, &id, 0).await.unwrap(), Some(2));
    assert_eq!(store.record_part(&user, &id, 2).await.unwrap(), Some(2));
    assert_eq!(store.record_part(&user, &id, 1).await.unwrap(), Some(3));
    // One joiner at a time; a joiner that died is replaced once its claim runs out.
    let hold = Duration::from_secs(60);
    let t0 = now();
    let claim = |at| store.claim_join(&user, &id, at, hold);
    assert_eq!(claim(t0).await.unwrap(), EmailClaim::Claimed);
    assert_eq!(claim(t0).await.unwrap(), EmailClaim::Busy);
    let t1 = t0 + time::Duration::seconds(61);
    assert_eq!(claim(t1).await.unwrap(), EmailClaim::Claimed);
    // Once the job has ended, nothing more is counted or joined.
    let done = Transition::done("mp3/x.mp3".into(), JobStats::default()).held(&lease);
    store.transition(&user, &id, done).await.unwrap();
    assert_eq!(store.record_part(&user, &id, 3).await.unwrap(), None);
    let later = t1 + time::Duration::hours(1);
    assert_eq!(claim(later).await.unwrap(), EmailClaim::AlreadySent);
    let other = JobId::generate();
    assert_eq!(store.record_part(&user, &other, 0).await.unwrap(), None);
    assert_eq!(
        store.claim_join(&user, &other, t0, hold).await.unwrap(),
        EmailClaim::NoJob
    );
}

async fn one_publish_claim_holds_at_a_time(store: &dyn JobStore) {
    let user = UserId::generate();
    let j = job(&user, JobId::generate(), JobStatus::Done, None);
    let id = j.job_id;
    store.create_job(&j).await.unwrap();
    let hold = Duration::from_secs(30);
    let t0 = now();
    let claim = |at| store.claim_publish(&user, &id, at, hold);
    assert_eq!(claim(t0).await.unwrap(), EmailClaim::Claimed);
    assert_eq!(
        claim(t0 + time::Duration::seconds(29)).await.unwrap(),
        EmailClaim::Busy
    );
    // A claim whose holder died runs out.
    let t1 = t0 + time::Duration::seconds(32);
    assert_eq!(claim(t1).await.unwrap(), EmailClaim::Claimed);
    // Giving back another's claim leaves it; giving back ours frees it.
    store
        .release_publish_claim(&user, &id, t0, hold)
        .await
        .unwrap();
    assert_eq!(claim(t1).await.unwrap(), EmailClaim::Busy);
    store
        .release_publish_claim(&user, &id, t1, hold)
        .await
        .unwrap();
    assert_eq!(claim(t1).await.unwrap(), EmailClaim::Claimed);
    assert!(store.mark_notified(&user, &id).await.unwrap());
    let later = t1 + time::Duration::hours(1);
    assert_eq!(claim(later).await.unwrap(), EmailClaim::AlreadySent);
    assert_eq!(
        store
            .claim_publish(&user, &JobId::generate(), t0, hold)
            .await
            .unwrap(),
        EmailClaim::NoJob
    );
}

async fn a_users_jobs_are_listed_newest_first_in_pages(store: &dyn JobStore) {
    let user = UserId::generate();
    let base = u64::try_from(now().unix_timestamp()).unwrap() * 1000;
    // Ids a millisecond apart, so their order is their age.
    let ids: Vec<JobId> = (0..5u64)
        .map(|i| {
            ulid::Ulid::from_parts(base + i, u128::from(i) + 7)
                .to_string()
                .parse()
                .unwrap()
        })
        .collect();
    for id in &ids {
        store
            .create_job(&job(&user, *id, JobStatus::Done, None))
            .await
            .unwrap();
    }
    let other = UserId::generate();
    store
        .create_job(&job(&other, JobId::generate(), JobStatus::Done, None))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..5 {
        let page = store.jobs(&user, 2, after.as_ref()).await.unwrap();
        assert!(page.jobs.len() <= 2);
        seen.extend(page.jobs.iter().map(|j| j.job_id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<JobId> = ids.iter().rev().copied().collect();
    assert_eq!(seen, newest_first);
    let all = store.jobs(&user, 50, None).await.unwrap();
    assert_eq!(all.jobs.len(), 5);
    assert_eq!(all.next, None);
}

fn fresh_address() -> String {
    format!(
        "{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

async fn users_are_created_once_per_address_and_deleted_whole(store: &dyn UserStore) {
    let user = User::new(UserId::generate(), fresh_address());
    store.create_user(&user, "hash-1").await.unwrap();
    let twin = User {
        user_id: UserId::generate(),
        ..user.clone()
    };
    let again = store.create_user(&twin, "hash-2").await;
    assert!(
        matches!(again, Err(PortError::AlreadyExists)),
        "the same address twice: {again:?}"
    );
    let creds = store.credentials(&user.email).await.unwrap().unwrap();
    assert_eq!(creds.user_id, user.user_id);
    assert_eq!(creds.password_hash, "hash-1");
    assert_eq!(store.user(&user.user_id).await.unwrap(), Some(user.clone()));
    assert_eq!(store.user(&twin.user_id).await.unwrap(), None);
    store.delete_user(&user).await.unwrap();
    assert!(store.credentials(&user.email).await.unwrap().is_none());
    assert_eq!(store.user(&user.user_id).await.unwrap(), None);
}

async fn a_webhook_key_is_kept_on_the_users_profile(store: &dyn UserStore) {
    let user = User::new(UserId::generate(), fresh_address());
    assert!(matches!(
        store.set_webhook_key(&user.user_id, "whsec_x").await,
        Err(PortError::ConditionFailed)
    ));
    store.create_user(&user, "hash").await.unwrap();
    assert_eq!(store.webhook_key(&user.user_id).await.unwrap(), None);
    store
        .set_webhook_key(&user.user_id, "whsec_one")
        .await
        .unwrap();
    store
        .set_webhook_key(&user.user_id, "whsec_two")
        .await
        .unwrap();
    assert_eq!(
        store.webhook_key(&user.user_id).await.unwrap().as_deref(),
        Some("whsec_two")
    );
    assert_eq!(store.user(&user.user_id).await.unwrap(), Some(user.clone()));
    store.delete_user(&user).await.unwrap();
    assert_eq!(store.webhook_key(&user.user_id).await.unwrap(), None);
}

async fn login_attempts_are_counted_up_to_the_limit_then_locked(store: &dyn UserStore) {
    let email = format!(
        "{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let t0 = now();
    let lockout = Duration::from_secs(900);
    for count in 1..=3 {
        assert_eq!(
            store
                .take_login_attempt(&email, t0, 3, lockout)
                .await
                .unwrap(),
            LoginAttempt::Taken { count }
        );
    }
    let until = |attempt| match attempt {
        LoginAttempt::Locked { until } => until.unix_timestamp(),
        other => panic!("expected a lock, got {other:?}"),
    };
    let locked = until(
        store
            .take_login_attempt(&email, t0, 3, lockout)
            .await
            .unwrap(),
    );
    assert_eq!(locked, (t0 + lockout).unix_timestamp());
    let still = until(
        store
            .take_login_attempt(&email, t0 + time::Duration::seconds(60), 3, lockout)
            .await
            .unwrap(),
    );
    assert_eq!(still, locked, "the lock is not extended by more attempts");
    // Once the lock is over, counting starts again.
    let after = t0 + lockout + time::Duration::seconds(1);
    assert_eq!(
        store
            .take_login_attempt(&email, after, 3, lockout)
            .await
            .unwrap(),
        LoginAttempt::Taken { count: 1 }
    );
    store.clear_login_failures(&email).await.unwrap();
    assert_eq!(
        store
            .take_login_attempt(&email, after, 3, lockout)
            .await
            .unwrap(),
        LoginAttempt::Taken { count: 1 }
    );
    // A lock set after a failed last attempt holds until its time.
    let t2 = after + time::Duration::seconds(5);
    store.lock_login(&email, t2 + lockout).await.unwrap();
    assert_eq!(
        until(
            store
                .take_login_attempt(&email, t2, 3, lockout)
                .await
                .unwrap()
        ),
        (t2 + lockout).unix_timestamp()
    );
}

async fn jobs_are_deleted_unless_converting(store: &dyn JobStore) {
    let user = UserId::generate();
    let converting = job(
        &user,
        JobId::generate(),
        JobStatus::Converting,
        Some(lease("someone", now() + time::Duration::minutes(5))),
    );
    let done = job(&user, JobId::generate(), JobStatus::Done, None);
    for j in [&converting, &done] {
        store.create_job(j).await.unwrap();
    }
    let refused = store
        .delete_job(&user, &converting.job_id, Deletion::UnlessConverting)
        .await;
    assert!(
        matches!(refused, Err(PortError::ConditionFailed)),
        "a converting job deleted: {refused:?}"
    );
    assert!(
        store
            .job(&user, &converting.job_id)
            .await
            .unwrap()
            .is_some()
    );
    let stranger = UserId::generate();
    let foreign = store
        .delete_job(&stranger, &done.job_id, Deletion::Any)
        .await;
    assert!(
        matches!(foreign, Err(PortError::ConditionFailed)),
        "{foreign:?}"
    );
    store
        .delete_job(&user, &done.job_id, Deletion::UnlessConverting)
        .await
        .unwrap();
    store
        .delete_job(&user, &converting.job_id, Deletion::Any)
        .await
        .unwrap();
    assert_eq!(store.jobs(&user, 10, None).await.unwrap().jobs, vec![]);
    let again = store.delete_job(&user, &done.job_id, Deletion::Any).await;
    assert!(
        matches!(again, Err(PortError::ConditionFailed)),
        "{again:?}"
    );
}

async fn a_signup_token_works_once_until_it_expires<S: AccountStore>(store: &S) {
    let t0 = now();
    let signup = PendingSignup {
        email: fresh_address(),
        password_hash: "hash".into(),
    };
    let hour = time::Duration::hours(1);
    store
        .put_signup("hash-a", &signup, t0 + hour)
        .await
        .unwrap();
    store
        .put_signup("hash-b", &signup, t0 + hour)
        .await
        .unwrap();
    assert_eq!(
        store.take_signup("hash-a", t0).await.unwrap(),
        Some(signup.clone())
    );
    assert_eq!(
        store.take_signup("hash-a", t0).await.unwrap(),
        None,
        "twice"
    );
    assert_eq!(
        store.take_signup("hash-c", t0).await.unwrap(),
        None,
        "never made"
    );
    let late = t0 + hour + time::Duration::seconds(1);
    assert_eq!(
        store.take_signup("hash-b", late).await.unwrap(),
        None,
        "expired"
    );
}

async fn a_reset_token_works_once_for_its_user_until_it_expires<S: AccountStore>(store: &S) {
    let t0 = now();
    let user = UserId::generate();
    let hour = time::Duration::hours(1);
    store.put_reset(&user, "r1", 4, t0 + hour).await.unwrap();
    store.put_reset(&user, "r2", 4, t0 + hour).await.unwrap();
    let stranger = UserId::generate();
    assert_eq!(store.take_reset(&stranger, "r1", t0).await.unwrap(), None);
    assert_eq!(store.take_reset(&user, "r1", t0).await.unwrap(), Some(4));
    assert_eq!(
        store.take_reset(&user, "r1", t0).await.unwrap(),
        None,
        "twice"
    );
    let late = t0 + hour + time::Duration::seconds(1);
    assert_eq!(
        store.take_reset(&user, "r2", late).await.unwrap(),
        None,
        "expired"
    );
}

async fn a_password_change_raises_the_token_version_once<S: AccountStore + UserStore>(store: &S) {
    let user = User::new(UserId::generate(), fresh_address());
    store.create_user(&user, "old").await.unwrap();
    assert_eq!(store.set_password(&user, "new", 0).await.unwrap(), 1);
    let stale = store.set_password(&user, "newer", 0).await;
    assert!(
        matches!(stale, Err(PortError::ConditionFailed)),
        "{stale:?}"
    );
    let creds = store.credentials(&user.email).await.unwrap().unwrap();
    assert_eq!(
        (creds.password_hash.as_str(), creds.token_version),
        ("new", 1)
    );
    let profile = store.user(&user.user_id).await.unwrap().unwrap();
    assert_eq!(profile.token_version, 1);
    let gone = User::new(UserId::generate(), fresh_address());
    let missing = store.set_password(&gone, "x", 0).await;
    assert!(
        matches!(missing, Err(PortError::ConditionFailed)),
        "{missing:?}"
    );
    store.delete_user(&user).await.unwrap();
}

async fn mails_are_counted_per_address_and_window<S: AccountStore>(store: &S) {
    let email = fresh_address();
    let t0 = now();
    let window = Duration::from_secs(3600);
    for n in 1..=3 {
        assert!(
            store.take_mail_slot(&email, t0, 3, window).await.unwrap(),
            "mail {n}"
        );
    }
    let later = t0 + time::Duration::minutes(59);
    assert!(
        !store
            .take_mail_slot(&email, later, 3, window)
            .await
            .unwrap()
    );
    assert!(
        store
            .take_mail_slot(&fresh_address(), later, 3, window)
            .await
            .unwrap()
    );
    let next_window = t0 + time::Duration::hours(1);
    assert!(
        store
            .take_mail_slot(&email, next_window, 3, window)
            .await
            .unwrap()
    );
}

async fn deleting_a_user_takes_every_item_about_them<S: AccountStore + UserStore>(store: &S) {
    let t0 = now();
    let user = User::new(UserId::generate(), fresh_address());
    store.create_user(&user, "hash").await.unwrap();
    let window = Duration::from_secs(3600);
    assert!(
        store
            .take_mail_slot(&user.email, t0, 1, window)
            .await
            .unwrap()
    );
    let lockout = Duration::from_secs(900);
    store
        .take_login_attempt(&user.email, t0, 5, lockout)
        .await
        .unwrap();
    store
        .put_reset(&user.user_id, "r", 0, t0 + time::Duration::hours(1))
        .await
        .unwrap();
    store.delete_user(&user).await.unwrap();
    assert_eq!(
        store.take_reset(&user.user_id, "r", t0).await.unwrap(),
        None
    );
    assert!(
        store
            .take_mail_slot(&user.email, t0, 1, window)
            .await
            .unwrap(),
        "the e-mail count went with the user"
    );
    assert_eq!(
        store
            .take_login_attempt(&user.email, t0, 5, lockout)
            .await
            .unwrap(),
        LoginAttempt::Taken { count: 1 },
        "the login count went with the user"
    );
    store.clear_login_failures(&user.email).await.unwrap();
}

#[cfg(test)]
mod tests {
    use crate::memory::MemoryStore;

    #[tokio::test]
    async fn the_in_memory_store_keeps_the_contract() {
        let store = MemoryStore::new();
        super::job_store(&store).await;
        super::user_store(&store).await;
        super::account_store(&store).await;
    }
}
