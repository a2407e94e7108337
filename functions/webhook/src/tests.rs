//! The sender's rules against the in-memory stores, a resolver and a receiver that answer as
//! told. The real HTTPS sender is tested in `tests/https.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use aws_lambda_events::event::sqs::SqsMessage;
use std::sync::Mutex;
use video2mp3_domain::memory::{ManualClock, MemoryStore};
use video2mp3_domain::{
    AudioOptions, EncodeSettings, Job, JobId, JobStatus, User, UserId, ValidUpload,
};

const KEY: &str = "whsec_test-key";

struct FixedResolver(Mutex<Result<Vec<IpAddr>, String>>);

#[async_trait]
impl Resolver for FixedResolver {
    async fn resolve(&self, _host: &str, _port: u16) -> Result<Vec<IpAddr>, String> {
        self.0.lock().unwrap().clone()
    }
}

/// Answers each POST with the next of its answers (the last one after that) and keeps them.
struct Receiver {
    answers: Mutex<Vec<Result<u16, String>>>,
    got: Mutex<Vec<Delivery>>,
}

#[async_trait]
impl Poster for Receiver {
    async fn post(&self, delivery: &Delivery) -> Result<u16, String> {
        self.got.lock().unwrap().push(delivery.clone());
        let mut answers = self.answers.lock().unwrap();
        if answers.len() > 1 {
            answers.remove(0)
        } else {
            answers[0].clone()
        }
    }
}

#[derive(Default)]
struct Delays(Mutex<Vec<(String, Duration)>>);

#[async_trait]
impl Requeue for Delays {
    async fn retry_after(&self, receipt_handle: &str, wait: Duration) -> Result<(), PortError> {
        self.0.lock().unwrap().push((receipt_handle.into(), wait));
        Ok(())
    }
}

struct World {
    store: Arc<MemoryStore>,
    resolver: Arc<FixedResolver>,
    receiver: Arc<Receiver>,
    delays: Arc<Delays>,
    deps: Deps,
    user: User,
}

fn public() -> Vec<IpAddr> {
    vec!["93.184.215.14".parse().unwrap()]
}

async fn world(answers: Vec<Result<u16, String>>, key: Option<&str>) -> World {
    let clock = Arc::new(ManualClock::new());
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    let resolver = Arc::new(FixedResolver(Mutex::new(Ok(public()))));
    let receiver = Arc::new(Receiver {
        answers: Mutex::new(answers),
        got: Mutex::new(Vec::new()),
    });
    let delays = Arc::new(Delays::default());
    let user = User::new(UserId::generate(), "hooks@example.com");
    store.create_user(&user, "hash").await.unwrap();
    if let Some(key) = key {
        store.set_webhook_key(&user.user_id, key).await.unwrap();
    }
    let deps = Deps {
        users: store.clone(),
        jobs: store.clone(),
        resolver: resolver.clone(),
        addresses: AddressRule::PublicOnly,
        poster: receiver.clone(),
        requeue: delays.clone(),
        clock,
        config: Config {
            app_url: "https://app.example.com".into(),
            timeout: Duration::from_secs(5),
        },
    };
    World {
        store,
        resolver,
        receiver,
        delays,
        deps,
        user,
    }
}

async fn ended_job(w: &World, callback: Option<&str>) -> JobEvent {
    let upload = ValidUpload {
        filename: "talk.mp4".into(),
        content_type: "video/mp4".into(),
        size: 10,
        settings: EncodeSettings::Cbr { kbps: 128 },
        options: AudioOptions::default(),
    };
    let job = Job {
        status: JobStatus::Done,
        output_key: Some("mp3/x.mp3".into()),
        callback_url: callback.map(str::to_owned),
        ..Job::awaiting_upload(
            w.user.user_id.clone(),
            JobId::generate(),
            &upload,
            time::OffsetDateTime::now_utc(),
        )
    };
    w.store.create_job(&job).await.unwrap();
    JobEvent::for_job(&job)
}

fn message(event: &JobEvent, n: usize) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(format!("m{n}"));
    m.receipt_handle = Some(format!("r{n}"));
    m.body = Some(serde_json::to_string(event).unwrap());
    m
}

fn batch(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

async fn attempts(w: &World, event: &JobEvent) -> Vec<WebhookAttempt> {
    w.store
        .job(&w.user.user_id, &event.job_id)
        .await
        .unwrap()
        .unwrap()
        .webhook_attempts
}

#[tokio::test]
async fn a_jobs_end_is_posted_signed_to_its_pinned_address_and_recorded() {
    let w = world(vec![Ok(204)], Some(KEY)).await;
    let event = ended_job(&w, Some("https://hooks.example.com/in?x=1")).await;
    assert_eq!(deliver(&event, &w.deps).await.unwrap(), Outcome::Delivered);
    let got = w.receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(d.url.as_str(), "https://hooks.example.com/in?x=1");
    assert_eq!(d.addresses, public());
    assert_eq!(d.job_id, event.job_id.to_string());
    // The receiver's own check passes, with the key the user was shown, and no other.
    let now = d.timestamp;
    assert!(webhook::verify(
        KEY.as_bytes(),
        d.timestamp,
        d.body.as_bytes(),
        &d.signature,
        now
    ));
    assert!(!webhook::verify(
        b"whsec_other",
        d.timestamp,
        d.body.as_bytes(),
        &d.signature,
        now
    ));
    let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["type"], "job.done");
    assert_eq!(body["job_id"], event.job_id.to_string());
    assert_eq!(body["status"], "done");
    assert_eq!(
        body["job_url"],
        format!("https://app.example.com/?job={}", event.job_id)
    );
    let tries = attempts(&w, &event).await;
    assert_eq!(tries.len(), 1);
    assert!(tries[0].delivered && tries[0].status == Some(204) && tries[0].error.is_none());
    // A repeat of the event posts nothing more.
    assert_eq!(
        deliver(&event, &w.deps).await.unwrap(),
        Outcome::NothingToDo
    );
    assert_eq!(w.receiver.got.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_job_without_a_callback_url_posts_nothing() {
    let w = world(vec![Ok(200)], Some(KEY)).await;
    let event = ended_job(&w, None).await;
    assert_eq!(
        deliver(&event, &w.deps).await.unwrap(),
        Outcome::NothingToDo
    );
    assert!(w.receiver.got.lock().unwrap().is_empty());
    assert!(attempts(&w, &event).await.is_empty());
}

#[tokio::test]
async fn failures_are_retried_with_backoff_then_given_up_with_each_try_recorded() {
    let w = world(vec![Ok(503), Err("connection refused".into())], Some(KEY)).await;
    let event = ended_job(&w, Some("https://hooks.example.com/in")).await;
    let mut waits = Vec::new();
    for n in 0..MAX_ATTEMPTS as usize {
        let response = handle(batch(vec![message(&event, n)]), &w.deps).await;
        let retried = response.batch_item_failures.len() == 1;
        assert_eq!(retried, n + 1 < MAX_ATTEMPTS as usize, "try {n}");
        waits = w.delays.0.lock().unwrap().clone();
    }
    let expected: Vec<(String, Duration)> = (1..MAX_ATTEMPTS)
        .map(|n| (format!("r{}", n - 1), backoff(n)))
        .collect();
    assert_eq!(waits, expected);
    assert_eq!(waits[0].1, Duration::from_secs(30));
    let tries = attempts(&w, &event).await;
    assert_eq!(tries.len(), MAX_ATTEMPTS as usize);
    assert_eq!(tries[0].status, Some(503));
    assert_eq!(
        tries[0].error.as_deref(),
        Some("the receiver answered HTTP 503")
    );
    assert_eq!(tries[1].status, None);
    assert_eq!(tries[1].error.as_deref(), Some("connection refused"));
    assert!(tries.iter().all(|t| !t.delivered));
    // One more delivery of the event changes nothing.
    assert_eq!(
        deliver(&event, &w.deps).await.unwrap(),
        Outcome::NothingToDo
    );
    assert_eq!(w.receiver.got.lock().unwrap().len(), MAX_ATTEMPTS as usize);
}

#[tokio::test]
async fn a_host_that_resolves_to_a_private_address_at_delivery_is_not_called() {
    let w = world(vec![Ok(200)], Some(KEY)).await;
    let event = ended_job(&w, Some("https://hooks.example.com/in")).await;
    *w.resolver.0.lock().unwrap() = Ok(vec![
        "93.184.215.14".parse().unwrap(),
        "169.254.169.254".parse().unwrap(),
    ]);
    assert_eq!(
        deliver(&event, &w.deps).await.unwrap(),
        Outcome::RetryAfter(backoff(1))
    );
    assert!(w.receiver.got.lock().unwrap().is_empty());
    let tries = attempts(&w, &event).await;
    let why = tries[0].error.as_deref().unwrap();
    assert!(why.contains("169.254.169.254"), "{why}");
    // Once the name points somewhere public again, the next try goes through.
    *w.resolver.0.lock().unwrap() = Ok(public());
    assert_eq!(deliver(&event, &w.deps).await.unwrap(), Outcome::Delivered);
    assert_eq!(attempts(&w, &event).await.len(), 2);
}

#[tokio::test]
async fn a_literal_private_address_is_refused_without_a_lookup() {
    let w = world(vec![Ok(200)], Some(KEY)).await;
    *w.resolver.0.lock().unwrap() = Err("the resolver must not be asked".into());
    let event = ended_job(&w, Some("https://[::1]:8443/in")).await;
    assert!(matches!(
        deliver(&event, &w.deps).await.unwrap(),
        Outcome::RetryAfter(_)
    ));
    assert!(w.receiver.got.lock().unwrap().is_empty());
    let why = attempts(&w, &event).await[0].error.clone().unwrap();
    assert!(why.contains("::1") && why.contains("loopback"), "{why}");
}

#[tokio::test]
async fn without_a_key_the_try_fails_with_a_reason_the_user_can_act_on() {
    let w = world(vec![Ok(200)], None).await;
    let event = ended_job(&w, Some("https://hooks.example.com/in")).await;
    assert!(matches!(
        deliver(&event, &w.deps).await.unwrap(),
        Outcome::RetryAfter(_)
    ));
    assert!(w.receiver.got.lock().unwrap().is_empty());
    assert_eq!(attempts(&w, &event).await[0].error.as_deref(), Some(NO_KEY));
    w.store.set_webhook_key(&w.user.user_id, KEY).await.unwrap();
    assert_eq!(deliver(&event, &w.deps).await.unwrap(), Outcome::Delivered);
}

#[tokio::test]
async fn a_store_failure_retries_the_message_and_a_foreign_message_is_dropped() {
    let w = world(vec![Ok(200)], Some(KEY)).await;
    let event = ended_job(&w, Some("https://hooks.example.com/in")).await;
    w.store.faults.fail_first(100);
    let mut foreign = SqsMessage::default();
    foreign.message_id = Some("junk".into());
    foreign.body = Some("{\"hello\": 1}".into());
    let response = handle(batch(vec![message(&event, 0), foreign]), &w.deps).await;
    let ids: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(ids, vec!["m0".to_owned()]);
    assert!(w.receiver.got.lock().unwrap().is_empty());
}
