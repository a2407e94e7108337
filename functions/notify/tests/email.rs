//! One e-mail per job whatever SNS delivers, against the in-memory ports (the same rules run
//! end to end on moto in `tools/local-stack/tests/delivery.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::sns::{SnsEvent, SnsMessage, SnsRecord};
use std::sync::Arc;
use time::OffsetDateTime;
use video2mp3_domain::memory::{MemoryMailer, MemoryStore};
use video2mp3_domain::{
    EncodeSettings, FailureReason, Job, JobEvent, JobId, JobStore, Transition, User, UserId,
    UserStore, ValidUpload,
};

struct World {
    store: Arc<MemoryStore>,
    mailer: Arc<MemoryMailer>,
    deps: notify::Deps,
}

fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let mailer = Arc::new(MemoryMailer::new());
    let deps = notify::Deps {
        users: store.clone(),
        jobs: store.clone(),
        mailer: mailer.clone(),
        config: notify::Config {
            app_url: "https://app.example".into(),
        },
    };
    World {
        store,
        mailer,
        deps,
    }
}

impl World {
    /// A user with a job that has just failed; returns the event published for it.
    async fn failed_job(&self, email: &str) -> JobEvent {
        let user = User::new(UserId::generate(), email);
        self.store.create_user(&user, "hash").await.unwrap();
        let upload = ValidUpload {
            filename: "talk.mp4".into(),
            content_type: "video/mp4".into(),
            size: 100,
            settings: EncodeSettings::default(),
            options: Default::default(),
        };
        let job = Job::awaiting_upload(
            user.user_id.clone(),
            JobId::generate(),
            &upload,
            OffsetDateTime::now_utc(),
        );
        self.store.create_job(&job).await.unwrap();
        let failed = self
            .store
            .transition(
                &job.user_id,
                &job.job_id,
                Transition::failed(FailureReason::NoAudioTrack, "the file has no audio track"),
            )
            .await
            .unwrap();
        JobEvent::for_job(&failed)
    }
}

fn sns(event: &JobEvent) -> SnsEvent {
    let mut message = SnsMessage::default();
    message.message = serde_json::to_string(event).unwrap();
    message.message_id = "m".into();
    let mut record = SnsRecord::default();
    record.sns = message;
    let mut sns = SnsEvent::default();
    sns.records = vec![record];
    sns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_and_repeated_deliveries_send_one_email() {
    let w = world();
    let event = w.failed_job("ann@example.com").await;
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let (deps, event) = (w.deps.clone(), event.clone());
            tokio::spawn(async move {
                // A try that finds another one sending is retried by Lambda, as here.
                for _ in 0..50 {
                    match notify::handle(sns(&event), &deps).await {
                        Ok(()) => return,
                        Err(notify::NotifyError::Busy) => {
                            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                        }
                        Err(other) => panic!("{other:?}"),
                    }
                }
                panic!("still busy after 50 tries");
            })
        })
        .collect();
    for t in tries {
        t.await.unwrap();
    }
    notify::handle(sns(&event), &w.deps).await.unwrap();
    let sent = w.mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "ann@example.com");
    assert_eq!(sent[0].subject, "We could not convert talk.mp4");
    assert!(sent[0].body.contains("the file has no audio track"));
    let job = w
        .store
        .job(&event.user_id, &event.job_id)
        .await
        .unwrap()
        .unwrap();
    assert!(job.emailed);
}

#[tokio::test]
async fn a_failed_send_gives_its_claim_back_so_the_retry_sends_at_once() {
    let w = world();
    let event = w.failed_job("bob@example.com").await;
    w.mailer.faults.fail_first(1);
    let err = notify::handle(sns(&event), &w.deps).await.unwrap_err();
    assert!(matches!(err, notify::NotifyError::Email(_)), "{err:?}");
    assert_eq!(
        lambda_runtime::Diagnostic::from(err).error_type,
        "Retryable",
        "a passing failure is retried"
    );
    // Not blocked for the claim's two minutes: the next try sends.
    notify::handle(sns(&event), &w.deps).await.unwrap();
    assert_eq!(w.mailer.sent().len(), 1);
}

#[tokio::test]
async fn no_email_for_a_user_or_job_that_is_gone_nor_for_a_foreign_message() {
    let w = world();
    let event = w.failed_job("cy@example.com").await;
    let user = w.store.user(&event.user_id).await.unwrap().unwrap();
    w.store.delete_user(&user).await.unwrap();
    notify::handle(sns(&event), &w.deps).await.unwrap();
    let other = w.failed_job("dee@example.com").await;
    let mut orphan = other.clone();
    orphan.job_id = JobId::generate();
    notify::handle(sns(&orphan), &w.deps).await.unwrap();
    let mut junk = sns(&other);
    junk.records[0].sns.message = "hello".into();
    notify::handle(junk, &w.deps).await.unwrap();
    assert!(w.mailer.sent().is_empty(), "{:?}", w.mailer.sent());
}
