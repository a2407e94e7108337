//! At-least-once delivery against the in-memory ports: every duplicate, crash, poison input and
//! passing fault has a known end, checked in milliseconds. The same stores' contract is proven
//! on the DynamoDB adapter (`tools/local-stack/tests/contract.rs`), and the same scenarios run
//! end to end on moto in `tools/local-stack/tests/delivery.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::sqs::SqsEvent;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use video2mp3_domain::memory::{ManualClock, MemoryEvents, MemoryObjects, MemoryStore};
use video2mp3_domain::{
    EncodeSettings, FailureReason, Job, JobId, JobStatus, JobStore, Lease, PortError, Transition,
    UserId, ValidUpload, mp3_key,
};

const UPLOADS: &str = "uploads-bucket";
const MP3: &str = "mp3-bucket";
/// The test tone's length: 0.25 s at 44.1 kHz.
const FRAMES: usize = 11_025;

/// The converter over in-memory ports, and those ports, for a test to look into.
struct World {
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    objects: MemoryObjects,
    events: Arc<MemoryEvents>,
    deps: convert::Deps,
}

/// How long a conversion holds its job.
const LEASE: Duration = Duration::from_secs(960);

fn world() -> World {
    let clock = Arc::new(ManualClock::new());
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    let objects = MemoryObjects::new();
    let events = Arc::new(MemoryEvents::new());
    let deps = convert::Deps {
        jobs: store.clone(),
        objects: Arc::new(objects.clone()),
        events: events.clone(),
        clock: clock.clone(),
        config: convert::Config {
            uploads_bucket: UPLOADS.into(),
            mp3_bucket: MP3.into(),
            max_audio: Duration::from_secs(3600),
            max_source_bytes: 1 << 20,
            lease: LEASE,
            progress_every: Duration::from_millis(20),
            threads: 1,
            fanout: None,
        },
        segments: None,
    };
    World {
        clock,
        store,
        objects,
        events,
        deps,
    }
}

/// A PCM WAV header for `channels` × `rate` × `bits`, declaring `declared` data bytes, then `data`.
fn wav(channels: u16, rate: u32, bits: u16, declared: u32, data: &[u8]) -> Vec<u8> {
    let block = channels.wrapping_mul(bits / 8);
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + declared).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&declared.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// [`FRAMES`] of a 440 Hz stereo tone, 16-bit.
fn tone() -> Vec<u8> {
    let mut data = Vec::with_capacity(FRAMES * 4);
    for i in 0..FRAMES {
        let phase = i as f32 * 440.0 * std::f32::consts::TAU / 44_100.0;
        let sample = (phase.sin() * 8000.0) as i16;
        data.extend_from_slice(&sample.to_le_bytes());
        data.extend_from_slice(&sample.to_le_bytes());
    }
    wav(2, 44_100, 16, data.len() as u32, &data)
}

impl World {
    /// A job for `filename` whose upload `bytes` has arrived; returns it and the S3 event body.
    async fn uploaded(&self, filename: &str, bytes: Vec<u8>) -> (Job, String) {
        let upload = ValidUpload {
            filename: filename.into(),
            content_type: "audio/wav".into(),
            size: bytes.len() as u64,
            settings: EncodeSettings::default(),
            options: Default::default(),
        };
        let job = Job::awaiting_upload(
            UserId::generate(),
            JobId::generate(),
            &upload,
            OffsetDateTime::now_utc(),
        );
        self.store.create_job(&job).await.unwrap();
        self.objects.put(UPLOADS, &job.source_key, bytes);
        let body = serde_json::json!({"Records": [{
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": UPLOADS}, "object": {"key": job.source_key.replace(' ', "+")}}
        }]})
        .to_string();
        (job, body)
    }

    async fn job(&self, job: &Job) -> Job {
        self.store
            .job(&job.user_id, &job.job_id)
            .await
            .unwrap()
            .unwrap()
    }

    fn mp3_writes(&self, job: &Job) -> usize {
        self.objects
            .writes(MP3, &mp3_key(&job.user_id, &job.job_id, &job.filename))
    }

    fn mp3(&self, job: &Job) -> Vec<u8> {
        self.objects
            .get(MP3, &mp3_key(&job.user_id, &job.job_id, &job.filename))
            .unwrap()
    }

    /// Events published for `job`.
    fn published(&self, job: &Job) -> usize {
        self.events
            .published()
            .iter()
            .filter(|e| e.job_id == job.job_id)
            .count()
    }
}

fn sqs_event(message_id: &str, body: &str) -> SqsEvent {
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    message.message_id = Some(message_id.into());
    message.body = Some(body.into());
    let mut event = SqsEvent::default();
    event.records = vec![message];
    event
}

impl World {
    /// Delivers `body` until the converter consumes it, as SQS redelivers a failed message once
    /// its visibility timeout (longer than the lease) has passed; returns how many deliveries
    /// it took.
    async fn deliver_until_consumed(&self, body: &str) -> usize {
        for delivery in 1..=30 {
            let event = sqs_event(&format!("m-{delivery}"), body);
            let response = convert::handle(event, &self.deps).await;
            if response.batch_item_failures.is_empty() {
                return delivery;
            }
            self.clock.advance(LEASE + Duration::from_secs(60));
        }
        panic!("the message was still being retried after 30 deliveries");
    }
}

/// Delivers `body` until consumed with no time passing between tries (duplicates racing).
async fn deliver_at_once_until_consumed(deps: &convert::Deps, body: &str) -> usize {
    for delivery in 1..=200 {
        let response = convert::handle(sqs_event(&format!("m-{delivery}"), body), deps).await;
        if response.batch_item_failures.is_empty() {
            return delivery;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("the message was still being retried after 200 deliveries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_deliveries_convert_once_and_publish_once() {
    let w = world();
    let (job, body) = w.uploaded("tone one.wav", tone()).await;
    let deliveries: Vec<_> = (0..10)
        .map(|_| {
            let (deps, body) = (w.deps.clone(), body.clone());
            tokio::spawn(async move { deliver_at_once_until_consumed(&deps, &body).await })
        })
        .collect();
    for delivery in deliveries {
        delivery.await.unwrap();
    }
    let done = w.job(&job).await;
    assert_eq!(done.status, JobStatus::Done, "{done:?}");
    assert!(done.notified && done.lease.is_none(), "{done:?}");
    assert_eq!(w.mp3_writes(&job), 1, "exactly one MP3 was written");
    assert_eq!(w.published(&job), 1, "one event, so one e-mail");
    // Decoded by symphonia's MP3 decoder, not LAME: the tone's length exactly (gapless).
    let (rate, channels, frames) = video2mp3_mp3check::decode(w.mp3(&job));
    assert_eq!((rate, channels, frames), (44_100, 2, FRAMES as u64));
    // The tracks were written to the job when the file was probed, and match the summary's.
    assert_eq!(done.tracks.len(), 1, "{done:?}");
    assert!(done.tracks[0].converted && done.tracks[0].channels == Some(2));
    let stats = done.stats.unwrap();
    assert_eq!(stats.mp3_bytes as usize, w.mp3(&job).len());
    assert_eq!(stats.tracks, done.tracks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_converters_job_waits_for_its_lease_then_is_taken_over_once() {
    let w = world();
    let (job, body) = w.uploaded("tone.wav", tone()).await;
    let (user, id) = (&job.user_id, &job.job_id);
    w.store
        .transition(user, id, Transition::to(JobStatus::Queued))
        .await
        .unwrap();
    let dead = Lease {
        owner: "the-converter-that-died".into(),
        expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(5),
    };
    w.store
        .transition(user, id, Transition::to(JobStatus::Converting).held(&dead))
        .await
        .unwrap();

    // While its lease holds, a delivery is left on the queue and the job is untouched.
    let response = convert::handle(sqs_event("m-1", &body), &w.deps).await;
    assert_eq!(response.batch_item_failures.len(), 1, "retried later");
    let held = w.job(&job).await;
    assert_eq!(held.status, JobStatus::Converting);
    assert_eq!(held.lease.unwrap().owner, dead.owner);
    assert_eq!(w.mp3_writes(&job), 0);

    // Its lease runs out.
    w.clock.advance(Duration::from_secs(5 * 60 + 1));
    assert_eq!(w.deliver_until_consumed(&body).await, 1);
    let done = w.job(&job).await;
    assert_eq!(done.status, JobStatus::Done);
    assert!(done.lease.is_none() && done.notified);

    // The dead converter waking up can neither fail nor finish the job.
    let late = w
        .store
        .transition(
            user,
            id,
            Transition::failed(FailureReason::Internal, "late").held(&dead),
        )
        .await;
    assert!(matches!(late, Err(PortError::ConditionFailed)), "{late:?}");
    // Another delivery of the same event changes nothing.
    assert_eq!(w.deliver_until_consumed(&body).await, 1);
    assert_eq!(w.mp3_writes(&job), 1);
    assert_eq!(w.published(&job), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_uploads_fail_at_once_with_a_reason_and_are_published_once() {
    let w = world();
    let mut noise = vec![0u8; 16 * 1024];
    let mut state = 0x9e37_79b9_u32;
    for byte in &mut noise {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *byte = state as u8;
    }
    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/../../fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let sample = fixture("sample.mp4");
    let cases: Vec<(&str, Vec<u8>, &str, FailureReason)> = vec![
        (
            "random.mp4",
            noise,
            "format",
            FailureReason::UnrecognisedFormat,
        ),
        // 100 hours of 8 kHz mono claimed; a tenth of a second present.
        (
            "long.wav",
            wav(1, 8000, 8, 100 * 3600 * 8000, &[0x80; 800]),
            "longer than",
            FailureReason::TooLong,
        ),
        (
            "channels.wav",
            wav(65535, 44100, 16, 65535 * 2, &vec![0; 65535 * 2]),
            "channel",
            FailureReason::TooManyChannels,
        ),
        (
            "truncated.mp4",
            sample[..sample.len() / 3].to_vec(),
            "incomplete",
            FailureReason::Truncated,
        ),
        (
            "notes.mp4",
            fixture("not-a-video.mp4"),
            "format",
            FailureReason::UnrecognisedFormat,
        ),
        (
            "empty.wav",
            wav(2, 44_100, 16, 0, &[]),
            "empty",
            FailureReason::EmptyAudio,
        ),
    ];
    for (name, bytes, wanted, code) in cases {
        let (job, body) = w.uploaded(name, bytes).await;
        let response = convert::handle(sqs_event("m-1", &body), &w.deps).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{name}: consumed, not retried"
        );
        let failed = w.job(&job).await;
        let reason = failed.error.clone().unwrap_or_default();
        assert_eq!(failed.status, JobStatus::Failed, "{name}: {failed:?}");
        assert!(
            reason.contains(wanted),
            "{name}: {reason:?} lacks {wanted:?}"
        );
        assert!(failed.lease.is_none(), "{name}");
        assert_eq!(w.mp3_writes(&job), 0, "{name}: no MP3 stored");
        // A redelivery publishes nothing more.
        assert_eq!(w.deliver_until_consumed(&body).await, 1);
        assert_eq!(w.published(&job), 1, "{name}");
        let event = &w.events.published()[w.events.published().len() - 1];
        assert_eq!(event.error.as_deref(), Some(reason.as_str()));
        assert_eq!(event.error_code, Some(code));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_on_every_call_still_end_done_once() {
    let w = world();
    let (job, body) = w.uploaded("tone.wav", tone()).await;
    // The first three calls of every kind fail as a busy service answers.
    w.store.faults.fail_first(3);
    w.objects.faults().fail_first(3);
    w.events.faults.fail_first(3);
    let deliveries = w.deliver_until_consumed(&body).await;
    // 18 faults (three for each of six kinds of call), none absorbed inside a call as the SDK's
    // retries absorb some on AWS: each costs at most one delivery (a failed read while
    // sniffing for an MP4 index costs none), and every kind costs some.
    assert!((7..=19).contains(&deliveries), "{deliveries} deliveries");
    let done = w.job(&job).await;
    assert_eq!(done.status, JobStatus::Done, "{done:?}");
    assert_eq!(w.mp3_writes(&job), 1);
    assert_eq!(w.published(&job), 1);
    let calls = w.objects.faults().calls();
    for wanted in ["HeadObject", "GetObject", "PutObject"] {
        assert!(
            calls.contains_key(wanted),
            "{wanted} never called: {calls:?}"
        );
    }
    assert!(w.store.faults.calls().contains_key("UpdateItem"));
    assert!(w.events.faults.injected() == 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_call_fails_the_job_with_a_reason_instead_of_retrying() {
    let w = world();
    let (job, body) = w.uploaded("tone.wav", tone()).await;
    w.objects.faults().refuse("GetObject");
    let response = convert::handle(sqs_event("m-1", &body), &w.deps).await;
    assert!(response.batch_item_failures.is_empty(), "consumed at once");
    let failed = w.job(&job).await;
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.error.unwrap().contains("please"));
    assert_eq!(w.published(&job), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_for_no_known_job_are_consumed() {
    let w = world();
    let (job, _) = w.uploaded("tone.wav", tone()).await;
    let bodies = [
        "not json".to_owned(),
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent"}"#.to_owned(),
        serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": UPLOADS}, "object": {"key": format!("uploads/{}/{}/x.wav", UserId::generate(), JobId::generate())}}}]}).to_string(),
        serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "someone-elses"}, "object": {"key": job.source_key}}}]}).to_string(),
    ];
    for body in bodies {
        let response = convert::handle(sqs_event("m", &body), &w.deps).await;
        assert!(response.batch_item_failures.is_empty(), "{body}");
    }
    assert_eq!(w.job(&job).await.status, JobStatus::AwaitingUpload);
    assert!(w.events.published().is_empty());
}
