//! A long upload converted in parts by many workers, end to end on the local stack: the
//! converter plans the parts and sends them to the segments queue (moto's SQS), the stack's
//! pollers run the workers three at once, each part is stored in S3 and counted in DynamoDB, and
//! the worker that brings the last one in joins them into the MP3's multipart upload (a part of
//! 5 MiB and more copied within S3, the rest sent). Every AWS call goes through the IAM gate
//! with the converter's role. The MP3 is checked against the one the engine makes in one
//! process, and by ffmpeg's decoder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, created_event, physical, spawn, spawn_with_concurrency, stack_convert};
use local_stack::client::UploadTicket;
use serde_json::json;
use std::io::Cursor;
use std::process::Command;
use std::time::Duration;
use video2mp3_mp3check as mp3check;
use video2mp3_transcode::{Options, Quality};

/// MP3 frames per part at 320 kbit/s: 5,100 frames are 5.3 MB, just over S3's smallest part,
/// so the join copies them within S3.
const CBR_SEGMENT: usize = 5100;
/// The audio's length: 300 s at 44.1 kHz, 11,485 MP3 frames: at 320 kbit/s, parts of 5,100,
/// 5,100 and 1,285.
const SECONDS: u32 = 300;
/// MP3 frames per part of the VBR job: 4,000, 4,000 and 3,485 (each under 5 MiB at VBR: the
/// join sends them together).
const VBR_SEGMENT: usize = 4000;

/// The VBR job's length and MP3 frames per part: 300 s in parts of 4,000 frames, or as
/// `FANOUT_TEST_SECONDS` and `FANOUT_TEST_SEGMENT` say (`make test-fanout-long`: four hours in
/// the stack's default parts).
fn vbr_job() -> (u32, usize) {
    let env = |name: &str| {
        std::env::var(name).ok().map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
    };
    (
        env("FANOUT_TEST_SECONDS").map_or(SECONDS, |s: u64| u32::try_from(s).unwrap()),
        env("FANOUT_TEST_SEGMENT").map_or(VBR_SEGMENT, |s: u64| usize::try_from(s).unwrap()),
    )
}

/// `seconds` of a two-tone stereo FLAC (a vibrato on the left, a steady tone on the right),
/// made by ffmpeg.
fn flac(seconds: u32) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("fanout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("long-{seconds}.flac"));
    let source = format!(
        "aevalsrc=0.4*sin(2*PI*440*t+40*sin(2*PI*t/7))|0.3*sin(2*PI*660*t):s=44100:d={seconds}"
    );
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &source, "-sample_fmt", "s16"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("ffmpeg could not be run ({e}): install FFmpeg (Debian: apt-get install ffmpeg; `make test` installs it)")
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&path).unwrap()
}

/// The MP3 one process makes of `source` at `quality`, on the parts' segment grid.
fn one_process(source: &[u8], filename: &str, quality: Quality, segment_frames: usize) -> Vec<u8> {
    let options = Options {
        quality,
        fallback_title: Some(filename.into()),
        threads: 2,
        segment_frames,
        ..Options::default()
    };
    let mut out = Cursor::new(Vec::new());
    video2mp3_transcode::transcode(
        Box::new(Cursor::new(source.to_vec())),
        Some("flac"),
        &mut out,
        &options,
    )
    .unwrap();
    out.into_inner()
}

/// Uploads `bytes` as `filename`, at 320 kbit/s or (`None`) at the default VBR quality.
async fn upload(
    app: &App,
    email: &str,
    filename: &str,
    bytes: Vec<u8>,
    bitrate: Option<u32>,
) -> UploadTicket {
    let client = app.user(email).await;
    let mut request = json!({
        "filename": filename, "content_type": "audio/flac", "size": bytes.len()
    });
    if let Some(kbps) = bitrate {
        request["bitrate"] = json!(kbps);
    }
    let ticket = client.create_upload(&request).await.unwrap();
    client.upload(&ticket, bytes).await.unwrap();
    ticket
}

/// The key of the one upload in the uploads bucket (a large one goes up in parts, so its
/// ticket has no single URL to read the key from).
async fn upload_key(app: &App) -> String {
    let s3 = aws_sdk_s3::Client::new(&app.stack.sdk);
    let out = s3
        .list_objects_v2()
        .bucket(physical(app, "UploadsBucket"))
        .prefix("uploads/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    keys[0].to_owned()
}

/// Every object under `prefix` in the MP3 bucket.
async fn mp3_bucket_keys(app: &App, prefix: &str) -> Vec<String> {
    let s3 = aws_sdk_s3::Client::new(&app.stack.sdk);
    let out = s3
        .list_objects_v2()
        .bucket(physical(app, "Mp3Bucket"))
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

async fn get(app: &App, key: &str) -> Vec<u8> {
    let s3 = aws_sdk_s3::Client::new(&app.stack.sdk);
    let out = s3
        .get_object()
        .bucket(physical(app, "Mp3Bucket"))
        .key(key)
        .send()
        .await
        .unwrap();
    out.body.collect().await.unwrap().to_vec()
}

/// How a job was made, for [`check_mp3`].
struct Made<'a> {
    source: &'a [u8],
    filename: &'a str,
    seconds: u32,
    quality: Quality,
    segment_frames: usize,
}

/// Checks the job's MP3: the one-process MP3 byte for byte (its ReplayGain too), the length
/// ffmpeg decodes exact, and no part left behind. Returns the MP3's size.
async fn check_mp3(app: &App, user: &str, job: &str, made: &Made<'_>) -> usize {
    let mp3s = mp3_bucket_keys(app, &format!("mp3/{user}/{job}/")).await;
    assert_eq!(mp3s.len(), 1, "{mp3s:?}");
    let mp3 = get(app, &mp3s[0]).await;
    let whole = one_process(
        made.source,
        made.filename,
        made.quality,
        made.segment_frames,
    );
    mp3check::assert_joined_as_one(&mp3, &whole, made.filename);
    let (samples, channels) = mp3check::ffmpeg::decoded_samples(&mp3, "mp3");
    assert_eq!(
        samples,
        u64::from(made.seconds) * 44_100,
        "gapless and exact"
    );
    assert_eq!(channels, 2);
    let left = mp3_bucket_keys(app, &format!("parts/{user}/{job}/")).await;
    assert!(left.is_empty(), "parts left behind: {left:?}");
    mp3.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_upload_is_converted_in_parts_by_several_workers_and_joined_exactly() {
    let (seconds, segment) = vbr_job();
    let workers = std::thread::available_parallelism().map_or(3, |n| n.get().max(3));
    let app = spawn_with_concurrency(
        &[
            ("FanoutMinSeconds", "60"),
            ("FanoutSegmentFrames", &segment.to_string()),
        ],
        true,
        workers,
    )
    .await;
    let source = flac(seconds);
    let started = std::time::Instant::now();
    let ticket = upload(&app, "long@example.com", "long.flac", source.clone(), None).await;
    let key = upload_key(&app).await;
    let user = key.split('/').nth(1).unwrap().to_owned();
    let job = wait_done(&app, &user, &ticket.job_id, seconds).await;
    let took = started.elapsed();
    assert_eq!(
        job.status,
        video2mp3_domain::JobStatus::Done,
        "{:?}",
        job.error
    );
    let stats = job.stats.unwrap();
    assert!(
        (stats.audio_seconds - f64::from(seconds)).abs() < 1e-9,
        "{stats:?}"
    );
    let frames = (u64::from(seconds) * 44_100).div_ceil(1152);
    let parts = frames.div_ceil(segment as u64);
    assert_eq!(
        stats.parts,
        Some(u32::try_from(parts).unwrap()),
        "{stats:?}"
    );
    let made = Made {
        source: &source,
        filename: "long.flac",
        seconds,
        quality: match video2mp3_domain::EncodeSettings::default() {
            video2mp3_domain::EncodeSettings::Vbr { quality } => Quality::Vbr(quality),
            video2mp3_domain::EncodeSettings::Cbr { kbps } => Quality::Cbr(kbps),
        },
        segment_frames: segment,
    };
    let size = check_mp3(&app, &user, &ticket.job_id, &made).await;
    let mails = app.emails_to("long@example.com", 1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    eprintln!(
        "fan-out on the local stack: {seconds} s of FLAC ({} bytes) in {parts} parts of {segment} \
         frames by {workers} workers: upload to done in {:.1} s, MP3 {size} bytes, read {} bytes",
        source.len(),
        took.as_secs_f64(),
        stats.bytes_read,
    );
}

/// The job as the table has it once it has ended (within two minutes, and a second for each
/// ten of audio).
async fn wait_done(app: &App, user: &str, job: &str, seconds: u32) -> video2mp3_domain::Job {
    let deps = stack_convert(app);
    let (user, job) = (user.parse().unwrap(), job.parse().unwrap());
    let limit = Duration::from_secs(120 + u64::from(seconds) / 10);
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        let found = deps.jobs.job(&user, &job).await.unwrap().unwrap();
        if matches!(
            found.status,
            video2mp3_domain::JobStatus::Done | video2mp3_domain::JobStatus::Failed
        ) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the job did not end in {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_part_whose_worker_was_killed_is_made_again_when_its_message_comes_back() {
    // No pollers: this test takes the queue's messages itself, as Lambda's pollers would.
    let segment = CBR_SEGMENT.to_string();
    let app = spawn(
        &[
            ("FanoutMinSeconds", "60"),
            ("FanoutSegmentFrames", &segment),
        ],
        false,
    )
    .await;
    let source = flac(SECONDS);
    let ticket = upload(
        &app,
        "killed@example.com",
        "killed.flac",
        source.clone(),
        Some(320),
    )
    .await;
    let key = upload_key(&app).await;
    let user = key.split('/').nth(1).unwrap().to_owned();
    let deps = stack_convert(&app);
    let handled = convert::handle(
        common::sqs_event("upload", &created_event(&app, &key)),
        &deps,
    )
    .await;
    assert!(handled.batch_item_failures.is_empty());
    let sqs = aws_sdk_sqs::Client::new(&app.stack.sdk);
    let queue = physical(&app, "SegmentsQueue");
    let receive = || async {
        sqs.receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages()
            .to_vec()
    };
    let messages = receive().await;
    assert_eq!(messages.len(), 3, "three parts planned");
    // The worker given part 1 is killed: it never answers, so its message is neither deleted
    // nor released; it comes back once its visibility timeout runs out (shortened here from
    // the queue's 5,400 s to 2 s).
    let mut killed = None;
    for message in &messages {
        let body = message.body().unwrap();
        let part: convert::SegmentMessage = serde_json::from_str(body).unwrap();
        if part.part == 1 {
            sqs.change_message_visibility()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .visibility_timeout(2)
                .send()
                .await
                .unwrap();
            killed = Some(body.to_owned());
            continue;
        }
        let response = convert::handle(common::sqs_event("part", body), &deps).await;
        assert!(response.batch_item_failures.is_empty());
        sqs.delete_message()
            .queue_url(&queue)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    let (user_id, job_id) = (user.parse().unwrap(), ticket.job_id.parse().unwrap());
    let waiting = deps.jobs.job(&user_id, &job_id).await.unwrap().unwrap();
    assert_eq!(waiting.status, video2mp3_domain::JobStatus::Converting);
    // Its message comes back; another worker makes the part, and brings the last one in.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = receive().await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].body(), killed.as_deref());
    let response =
        convert::handle(common::sqs_event("again", again[0].body().unwrap()), &deps).await;
    assert!(response.batch_item_failures.is_empty());
    let done = deps.jobs.job(&user_id, &job_id).await.unwrap().unwrap();
    assert_eq!(
        done.status,
        video2mp3_domain::JobStatus::Done,
        "{:?}",
        done.error
    );
    assert_eq!(done.stats.as_ref().and_then(|s| s.parts), Some(3));
    let made = Made {
        source: &source,
        filename: "killed.flac",
        seconds: SECONDS,
        quality: Quality::Cbr(320),
        segment_frames: CBR_SEGMENT,
    };
    check_mp3(&app, &user, &ticket.job_id, &made).await;
}
