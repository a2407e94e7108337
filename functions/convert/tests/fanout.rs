//! A long job fanned out over workers, against the in-memory ports: planned from the upload,
//! one message per part, parts delivered in any order, twice, or after a failure, and joined
//! once into the MP3 the engine makes in one process. The same runs end to end on moto in
//! `tools/local-stack/tests/fanout.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::sqs::SqsEvent;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use video2mp3_domain::memory::{
    ManualClock, MemoryEvents, MemoryObjects, MemoryQueue, MemoryStore,
};
use video2mp3_domain::{
    EncodeSettings, Job, JobId, JobStatus, JobStore, UserId, ValidUpload, mp3_key,
};
use video2mp3_mp3check as mp3check;
use video2mp3_transcode::{Options, Quality};

const UPLOADS: &str = "uploads-bucket";
const MP3: &str = "mp3-bucket";
/// MP3 frames per part: 64 frames, 1.67 s.
const SEGMENT: usize = 64;
/// The audio: 10 s at 44.1 kHz, 383 MP3 frames, so 6 parts.
const FRAMES: usize = 441_000;

struct World {
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    objects: MemoryObjects,
    events: Arc<MemoryEvents>,
    queue: Arc<MemoryQueue>,
    deps: convert::Deps,
}

/// The converter over in-memory ports, fanning out audio of a second or more; multipart
/// parts of at least `min_part` bytes.
fn world(min_part: u64) -> World {
    let clock = Arc::new(ManualClock::new());
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    let objects = MemoryObjects::new();
    let events = Arc::new(MemoryEvents::new());
    let queue = Arc::new(MemoryQueue::new());
    let deps = convert::Deps {
        jobs: store.clone(),
        objects: Arc::new(objects.clone()),
        events: events.clone(),
        clock: clock.clone(),
        segments: Some(queue.clone()),
        config: convert::Config {
            uploads_bucket: UPLOADS.into(),
            mp3_bucket: MP3.into(),
            max_audio: Duration::from_secs(3600),
            max_source_bytes: 64 << 20,
            lease: Duration::from_secs(960),
            progress_every: Duration::from_secs(60),
            threads: 2,
            fanout: Some(convert::FanoutConfig {
                min_audio: Duration::from_secs(1),
                segment_frames: SEGMENT,
                min_part,
            }),
        },
    };
    World {
        clock,
        store,
        objects,
        events,
        queue,
        deps,
    }
}

/// 10 s of stereo 16-bit WAV: a tone that sweeps and a noise that swells, so that the VBR
/// frames differ in size from part to part.
fn music() -> Vec<u8> {
    let mut data = Vec::with_capacity(FRAMES * 4);
    let mut seed = 0x1234_5678u32;
    for i in 0..FRAMES {
        let t = i as f32 / 44_100.0;
        let tone = (t * (220.0 + 40.0 * t) * std::f32::consts::TAU).sin() * 6000.0;
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = ((seed >> 16) as f32 / 65_536.0 - 0.5) * 3000.0 * (t / 10.0);
        for s in [tone + noise, tone - noise] {
            data.extend_from_slice(&(s as i16).to_le_bytes());
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&44_100u32.to_le_bytes());
    out.extend_from_slice(&(44_100u32 * 4).to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
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
    /// A job whose upload has arrived; the S3 event's body.
    async fn uploaded(&self, bytes: Vec<u8>) -> (Job, String) {
        self.uploaded_as(bytes, "long talk.wav", "audio/wav").await
    }

    /// A job whose upload `filename` has arrived; the S3 event's body.
    async fn uploaded_as(
        &self,
        bytes: Vec<u8>,
        filename: &str,
        content_type: &str,
    ) -> (Job, String) {
        let upload = ValidUpload {
            filename: filename.into(),
            content_type: content_type.into(),
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

    /// Delivers `body` once; whether it was consumed.
    async fn deliver(&self, body: &str) -> bool {
        convert::handle(sqs_event("m", body), &self.deps)
            .await
            .batch_item_failures
            .is_empty()
    }

    async fn job(&self, job: &Job) -> Job {
        self.store
            .job(&job.user_id, &job.job_id)
            .await
            .unwrap()
            .unwrap()
    }
}

/// The MP3 one process makes of `wav` with the job's settings, on the same segment grid.
fn one_process(wav: &[u8]) -> Vec<u8> {
    let options = Options {
        quality: match EncodeSettings::default() {
            EncodeSettings::Vbr { quality } => Quality::Vbr(quality),
            EncodeSettings::Cbr { kbps } => Quality::Cbr(kbps),
        },
        fallback_title: Some("long talk.wav".into()),
        threads: 2,
        segment_frames: SEGMENT,
        ..Options::default()
    };
    let mut out = Cursor::new(Vec::new());
    video2mp3_transcode::transcode(
        Box::new(Cursor::new(wav.to_vec())),
        Some("wav"),
        &mut out,
        &options,
    )
    .unwrap();
    out.into_inner()
}

/// Plans `wav`'s job and returns it with its part messages.
async fn planned(w: &World, wav: Vec<u8>) -> (Job, Vec<String>) {
    let (job, body) = w.uploaded(wav).await;
    assert!(
        w.deliver(&body).await,
        "the upload's message was not consumed"
    );
    let messages = w.queue.take();
    assert_eq!(messages.len(), 6, "parts planned");
    assert_eq!(w.job(&job).await.status, JobStatus::Converting);
    (job, messages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_in_any_order_and_twice_join_once_into_the_one_process_mp3() {
    // Parts of 5 MiB would need hours of audio here: with a lower floor the join takes both
    // ways, copying large parts within the store and sending small runs together.
    let w = world(20_000);
    let wav = music();
    let (job, messages) = planned(&w, wav.clone()).await;
    // The last part first, the first last, one twice; the job's progress counts the parts in
    // (a duplicate adds nothing), up to 99% before the join.
    for (i, progress) in [(5, 16), (2, 33), (3, 49), (2, 49), (1, 66), (4, 82)] {
        assert!(w.deliver(&messages[i]).await, "part {i} was not consumed");
        let waiting = w.job(&job).await;
        assert_eq!(waiting.status, JobStatus::Converting);
        assert_eq!(waiting.progress, Some(progress), "after part {i}");
    }
    assert!(w.deliver(&messages[0]).await);
    let done = w.job(&job).await;
    assert_eq!(done.status, JobStatus::Done, "{:?}", done.error);
    let key = mp3_key(&job.user_id, &job.job_id, &job.filename);
    let mp3 = w.objects.get(MP3, &key).unwrap();
    mp3check::assert_joined_as_one(&mp3, &one_process(&wav), "long talk.wav");
    let stats = done.stats.unwrap();
    assert_eq!(stats.mp3_bytes, mp3.len() as u64);
    assert!(
        (stats.audio_seconds - 10.0).abs() < 1e-9,
        "{}",
        stats.audio_seconds
    );
    assert_eq!(stats.parts, Some(6));
    // Both ways of assembling were taken.
    let calls = w.objects.faults().calls();
    assert!(
        calls.get("UploadPartCopy").is_some_and(|n| *n >= 1)
            && calls.get("UploadPart").is_some_and(|n| *n >= 1),
        "{calls:?}"
    );
    // Published once; the parts' objects are gone; the upload was completed.
    let published = |w: &World| {
        w.events
            .published()
            .iter()
            .filter(|e| e.job_id == job.job_id)
            .count()
    };
    assert_eq!(published(&w), 1);
    assert_eq!(w.objects.keys(MP3), vec![key.clone()]);
    assert_eq!(w.objects.uploads_in_progress(), 0);
    // A part delivered again after the join changes nothing.
    assert!(w.deliver(&messages[3]).await);
    assert_eq!(w.objects.writes(MP3, &key), 1);
    assert_eq!(published(&w), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_dies_joining_is_replaced_once_its_claim_runs_out() {
    // All parts under the floor: the join reads and sends them together, as one part.
    let w = world(convert::MIN_PART);
    let wav = music();
    let (job, messages) = planned(&w, wav.clone()).await;
    for (i, message) in messages.iter().enumerate().skip(1) {
        assert!(w.deliver(message).await, "part {i}");
    }
    // Part 0 comes in last; its worker claims the join and dies sending the MP3's first part
    // (the store's first UploadPart fails): the message stays on the queue.
    w.objects.faults().fail_first(1);
    assert!(!w.deliver(&messages[0]).await);
    w.objects.faults().fail_first(0);
    assert_eq!(w.job(&job).await.status, JobStatus::Converting);
    // Delivered again while the dead worker's claim holds: left for later, nothing joined.
    assert!(!w.deliver(&messages[0]).await);
    assert_eq!(w.job(&job).await.status, JobStatus::Converting);
    // Once the claim has run out, the part is made again and joined.
    w.clock.advance(Duration::from_secs(961));
    assert!(w.deliver(&messages[0]).await);
    let done = w.job(&job).await;
    assert_eq!(done.status, JobStatus::Done, "{:?}", done.error);
    let key = mp3_key(&job.user_id, &job.job_id, &job.filename);
    mp3check::assert_joined_as_one(
        &w.objects.get(MP3, &key).unwrap(),
        &one_process(&wav),
        "long talk.wav",
    );
    assert_eq!(w.objects.keys(MP3), vec![key]);
    assert_eq!(w.objects.faults().injected(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_whose_input_is_bad_fails_the_job_with_the_reason_and_gives_the_upload_up() {
    let w = world(convert::MIN_PART);
    let (job, messages) = planned(&w, music()).await;
    // The upload goes while the parts are made.
    w.objects.remove(UPLOADS, &job.source_key);
    assert!(w.deliver(&messages[2]).await);
    let failed = w.job(&job).await;
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(
        failed.error.as_deref().unwrap().contains("no longer there"),
        "{:?}",
        failed.error
    );
    assert_eq!(w.objects.uploads_in_progress(), 0);
    // The other parts' messages are consumed without effect.
    assert!(w.deliver(&messages[0]).await);
    assert!(w.objects.keys(MP3).is_empty(), "{:?}", w.objects.keys(MP3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_shorter_than_the_minimum_is_converted_in_one_piece() {
    let mut w = world(convert::MIN_PART);
    if let Some(fanout) = w.deps.config.fanout.as_mut() {
        fanout.min_audio = Duration::from_secs(11);
    }
    let (job, body) = w.uploaded(music()).await;
    assert!(w.deliver(&body).await);
    assert!(w.queue.take().is_empty());
    let done = w.job(&job).await;
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.stats.unwrap().parts, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_video_is_read_as_much_whether_fanning_out_is_on_or_off() {
    // The plan reads an MP4's `moov` for the fetch plan, sees 6 s of audio in its sample table
    // and hands the same reader to the single converter: no probe, nothing read twice.
    let video = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/sample.mp4"
    ))
    .unwrap();
    let mut on = world(convert::MIN_PART);
    if let Some(fanout) = on.deps.config.fanout.as_mut() {
        fanout.min_audio = Duration::from_secs(60);
    }
    let mut off = world(convert::MIN_PART);
    off.deps.config.fanout = None;
    off.deps.segments = None;
    let mut read = Vec::new();
    for w in [&on, &off] {
        let (job, body) = w.uploaded_as(video.clone(), "clip.mp4", "video/mp4").await;
        assert!(w.deliver(&body).await);
        assert!(w.queue.take().is_empty());
        let done = w.job(&job).await;
        assert_eq!(done.status, JobStatus::Done, "{:?}", done.error);
        let stats = done.stats.unwrap();
        let calls = w.objects.faults().calls();
        read.push((stats.bytes_read, calls.get("GetObject").copied()));
    }
    assert_eq!(
        read[0], read[1],
        "(bytes, reads) with fanning out on, then off"
    );
    assert!(read[0].0 > 0);
}
