//! The converter streams: it reads the upload in ranged GETs (for an MP4 only its index and its
//! audio), writes the MP3 as it is made, and survives or reports what the store does wrong.
//! Faults are real HTTP answers from a proxy in front of moto (`local_stack::faults`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, created_event, physical, spawn, spawn_app, sqs_event, upload, upload_key};
use local_stack::client::{ApiClient, UploadTicket};
use local_stack::faults::{Action, FaultProxy, Seen};
use local_stack::functions::Handler;
use serde_json::{Value, json};
use std::io::{Cursor, SeekFrom};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use video2mp3_aws::S3Objects;
use video2mp3_domain::ObjectStore;
use video2mp3_transcode::{Options, transcode};

/// The MP3 `transcode` makes from the local file with the converter's options.
fn local_mp3(bytes: &[u8], filename: &str) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let options = Options {
        fallback_title: Some(filename.to_owned()),
        ..Options::default()
    };
    let ext = filename.rsplit_once('.').map(|(_, e)| e);
    transcode(
        Box::new(Cursor::new(bytes.to_vec())),
        ext,
        &mut out,
        &options,
    )
    .unwrap();
    out.into_inner()
}

fn bucket(app: &App, logical_id: &str) -> String {
    physical(app, logical_id)
}

/// The converter's dependencies with its S3 client pointed at `endpoint`.
async fn convert_through(app: &App, endpoint: &str) -> convert::Deps {
    let Handler::Convert(deps) = &app
        .stack
        .functions
        .iter()
        .find(|f| f.binary == "convert")
        .unwrap()
        .handler
    else {
        unreachable!()
    };
    let mut deps = deps.clone();
    deps.objects = Arc::new(objects_at(app, endpoint).await);
    deps
}

/// An object store whose S3 client talks to `endpoint` with the converter's credentials (so its
/// role judges every call, as on AWS).
async fn objects_at(app: &App, endpoint: &str) -> S3Objects {
    let sdk = app.stack.function_sdk("convert", endpoint).await.unwrap();
    S3Objects::new(video2mp3_aws::s3_client(&sdk))
}

/// An object that takes three parts: the first, one whole part, and a last one.
const THREE_PARTS: usize =
    video2mp3_aws::multipart::FIRST_PART + video2mp3_aws::multipart::PART + 1_000_000;

/// Hands the converter the S3 notification for `ticket`'s upload, as SQS would.
async fn deliver(app: &App, deps: &convert::Deps, ticket: &UploadTicket) {
    let event = sqs_event("m-1", &created_event(app, &upload_key(ticket)));
    let response = convert::handle(event, deps).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "the message was consumed, not left to retry"
    );
}

async fn job(client: &ApiClient, ticket: &UploadTicket) -> Value {
    client
        .wait_for_job(&ticket.job_id, Duration::from_secs(60))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mp4s_are_read_in_ranges_and_give_the_same_mp3_as_the_local_file() {
    let app = spawn_app().await;
    let client = app.user("ann@example.com").await;
    // (fixture, most of the file the converter may read)
    let cases = [
        // Audio in one-second runs and fragments: the index, the audio (2% of these files), the
        // fragment headers; not the video between (3 Mbit/s: wider than the reader's 256 KiB gap).
        ("streaming/inter1s.mp4", 0.10),
        ("streaming/frag.mp4", 0.10),
        // ffmpeg's fine interleave: read straight through, once, plus what is read twice (the
        // index, the tail that the probe looks at first): about 90 KB, which is 8% of this 1 MB
        // file and nothing in an hour's (`make bench-stream`: 100.4% of 1.1 GB).
        ("streaming/plain.mp4", 1.10),
    ];
    for (fixture, most) in cases {
        let bytes = app.fixture(fixture);
        let name = fixture.rsplit('/').next().unwrap();
        let ticket = upload(&client, name, "video/mp4", bytes.clone()).await;
        let job = job(&client, &ticket).await;
        assert_eq!(job["status"], "done", "{fixture}: {job}");
        let stats = &job["stats"];
        let read = stats["bytes_read"].as_u64().unwrap();
        let source = stats["source_bytes"].as_u64().unwrap();
        assert_eq!(source, bytes.len() as u64);
        eprintln!(
            "{fixture}: read {read} of {source} bytes ({:.1}%), peak RSS {} MiB",
            read as f64 * 100.0 / source as f64,
            stats["peak_rss_bytes"].as_u64().unwrap() >> 20
        );
        assert!(read > 0, "{fixture}: {stats}");
        assert!(
            read as f64 <= most * source as f64,
            "{fixture}: read {read} of {source} bytes"
        );
        assert!(
            stats["peak_rss_bytes"].as_u64().unwrap() > 1 << 20,
            "{stats}"
        );
        let (mp3, _) = client
            .download(job["download_url"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(stats["mp3_bytes"], mp3.len());
        assert!(
            mp3 == local_mp3(&bytes, name),
            "{fixture}: the MP3 made through S3 differs from the local one"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_503s_on_ranged_gets_are_retried_and_the_job_is_done() {
    let app = spawn(&[], false).await;
    let client = app.user("ann@example.com").await;
    // Every ranged GET fails once with a real 503 SlowDown; its retry goes through.
    let failed = Mutex::new(std::collections::HashSet::new());
    let proxy = FaultProxy::start(&app.stack.aws_url, move |seen: &Seen| {
        let first_try = seen.is_ranged_get()
            && failed
                .lock()
                .unwrap()
                .insert((seen.path_and_query.clone(), seen.range.clone()));
        if first_try {
            Action::Fail(503, "SlowDown")
        } else {
            Action::Forward
        }
    })
    .await
    .unwrap();
    let deps = convert_through(&app, &proxy.url).await;
    let bytes = app.fixture("streaming/inter1s.mp4");
    let ticket = upload(&client, "clip.mp4", "video/mp4", bytes.clone()).await;
    deliver(&app, &deps, &ticket).await;
    let job = job(&client, &ticket).await;
    assert_eq!(job["status"], "done", "{job}");
    assert!(proxy.faults() >= 3, "{} faults injected", proxy.faults());
    let (mp3, _) = client
        .download(job["download_url"].as_str().unwrap())
        .await
        .unwrap();
    assert!(mp3 == local_mp3(&bytes, "clip.mp4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_deleted_mid_read_fails_the_job_with_a_reason() {
    let app = spawn(&[], false).await;
    let client = app.user("ann@example.com").await;
    let ranged = Arc::new(Mutex::new(0usize));
    let counter = ranged.clone();
    // The third ranged GET finds the object deleted (for real, in moto) just before it.
    let proxy = FaultProxy::start(&app.stack.aws_url, move |seen: &Seen| {
        if !seen.is_ranged_get() {
            return Action::Forward;
        }
        let mut n = counter.lock().unwrap();
        *n += 1;
        if *n == 3 {
            Action::DeleteObjectFirst
        } else {
            Action::Forward
        }
    })
    .await
    .unwrap();
    let deps = convert_through(&app, &proxy.url).await;
    let ticket = upload(
        &client,
        "clip.mp4",
        "video/mp4",
        app.fixture("streaming/inter1s.mp4"),
    )
    .await;
    deliver(&app, &deps, &ticket).await;
    let job = job(&client, &ticket).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(
        job["error"],
        "the uploaded file was deleted while it was being converted; please upload it again"
    );
    assert_eq!(proxy.faults(), 1);
    assert_no_output(&app, &job).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mp3_upload_fails_the_job_and_leaves_nothing() {
    let app = spawn(&[], false).await;
    let client = app.user("ann@example.com").await;
    let mp3_bucket = bucket(&app, "Mp3Bucket");
    let prefix = format!("/{mp3_bucket}/");
    let proxy = FaultProxy::start(&app.stack.aws_url, move |seen: &Seen| {
        if seen.method == http::Method::PUT && seen.path_and_query.starts_with(&prefix) {
            Action::Fail(403, "AccessDenied")
        } else {
            Action::Forward
        }
    })
    .await
    .unwrap();
    let deps = convert_through(&app, &proxy.url).await;
    let ticket = upload(&client, "clip.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    deliver(&app, &deps, &ticket).await;
    let job = job(&client, &ticket).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(
        job["error"],
        "the MP3 could not be stored; please try again later"
    );
    assert!(proxy.faults() >= 1);
    assert_no_output(&app, &job).await;
}

/// Nothing under the job's MP3 prefix and no multipart upload left open.
async fn assert_no_output(app: &App, job: &Value) {
    let s3 = video2mp3_aws::s3_client(&app.stack.sdk);
    let bucket = bucket(app, "Mp3Bucket");
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let job_id = job["job_id"].as_str().unwrap();
    assert!(
        !listed
            .contents()
            .iter()
            .any(|o| o.key().unwrap_or_default().contains(job_id)),
        "no MP3 is stored for a failed job"
    );
    let uploads = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "{:?}", uploads.uploads());
}

/// Writes `len` bytes of a pattern through a writer, rewrites the first bytes at the end as the
/// encoder does with its info frame, and returns what the object should hold.
fn write_pattern(writer: &mut dyn video2mp3_domain::ObjectWriter, len: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
    for chunk in data.chunks(100_000) {
        writer.write_all(chunk).unwrap();
    }
    let end = writer.stream_position().unwrap();
    writer.seek(SeekFrom::Start(10)).unwrap();
    writer.write_all(b"INFO FRAME").unwrap();
    writer.seek(SeekFrom::Start(end)).unwrap();
    let mut expected = data;
    expected[10..20].copy_from_slice(b"INFO FRAME");
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_goes_up_in_parts_with_the_first_part_last() {
    let app = spawn(&[], false).await;
    let parts = Arc::new(Mutex::new(Vec::new()));
    let seen_parts = parts.clone();
    let proxy = FaultProxy::start(&app.stack.aws_url, move |seen: &Seen| {
        if seen.is_upload_part() {
            let number = seen
                .path_and_query
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("partNumber="))
                .unwrap()
                .to_owned();
            seen_parts.lock().unwrap().push(number);
        }
        Action::Forward
    })
    .await
    .unwrap();
    let store = objects_at(&app, &proxy.url).await;
    let bucket = bucket(&app, "Mp3Bucket");
    let mut writer = store.create(&bucket, "mp3/big.mp3", "audio/mpeg");
    let len = THREE_PARTS;
    let expected = tokio::task::spawn_blocking(move || {
        let expected = write_pattern(&mut *writer, len);
        assert_eq!(writer.finish().unwrap(), len as u64);
        expected
    })
    .await
    .unwrap();
    assert_eq!(*parts.lock().unwrap(), ["2", "3", "1"]);
    let s3 = video2mp3_aws::s3_client(&app.stack.sdk);
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("mp3/big.mp3")
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("audio/mpeg"));
    let body = object.body.collect().await.unwrap().into_bytes();
    assert!(
        body[..] == expected[..],
        "the object holds what was written"
    );

    // A small object: one PUT, no multipart upload.
    let mut writer = store.create(&bucket, "mp3/small.mp3", "audio/mpeg");
    let expected = tokio::task::spawn_blocking(move || {
        let expected = write_pattern(&mut *writer, 300_000);
        writer.finish().unwrap();
        expected
    })
    .await
    .unwrap();
    assert_eq!(
        parts.lock().unwrap().len(),
        3,
        "no parts for a small object"
    );
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("mp3/small.mp3")
        .send()
        .await
        .unwrap();
    assert!(object.body.collect().await.unwrap().into_bytes()[..] == expected[..]);
    // moto's data.json, where the sent emails are read, still answers after a multipart
    // upload (tools/local-stack/moto/moto-local; plain moto answered 500 from here on).
    local_stack::sent_emails(&app.stack.moto_url)
        .await
        .expect("moto's data.json answers after a multipart upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_that_fails_is_aborted() {
    let app = spawn(&[], false).await;
    let proxy = FaultProxy::start(&app.stack.aws_url, |seen: &Seen| {
        if seen.is_upload_part() && seen.path_and_query.contains("partNumber=3") {
            Action::Fail(403, "AccessDenied")
        } else {
            Action::Forward
        }
    })
    .await
    .unwrap();
    let store = objects_at(&app, &proxy.url).await;
    let bucket = bucket(&app, "Mp3Bucket");
    let mut writer = store.create(&bucket, "mp3/big.mp3", "audio/mpeg");
    let len = THREE_PARTS;
    let result = tokio::task::spawn_blocking(move || {
        write_pattern(&mut *writer, len);
        writer.finish()
    })
    .await
    .unwrap();
    assert!(result.is_err(), "{result:?}");
    assert_no_output(&app, &json!({"job_id": "mp3/big.mp3"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_over_the_size_limit_fails_without_being_read() {
    use video2mp3_domain::{Job, JobId, JobStatus, JobStore, User, UserId, UserStore, ValidUpload};
    // The limit was lowered after the upload URL was issued: the converter checks it again.
    let app = spawn(&[("MaxUploadBytes", "1000")], false).await;
    let table = video2mp3_aws::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&app.stack.sdk),
        app.stack.table_name().unwrap(),
    );
    let user_id = UserId::generate();
    table
        .create_user(&User::new(user_id.clone(), "ann@example.com"), "unused")
        .await
        .unwrap();
    let job_id = JobId::generate();
    let bytes = app.fixture("sample.mp4");
    let now = time::OffsetDateTime::now_utc();
    let job = Job::awaiting_upload(
        user_id.clone(),
        job_id,
        &ValidUpload {
            filename: "clip.mp4".into(),
            content_type: "video/mp4".into(),
            size: bytes.len() as u64,
            settings: Default::default(),
            options: Default::default(),
        },
        now,
    );
    table.create_job(&job).await.unwrap();
    let key = job.source_key.clone();
    video2mp3_aws::s3_client(&app.stack.sdk)
        .put_object()
        .bucket(bucket(&app, "UploadsBucket"))
        .key(&key)
        .body(bytes.into())
        .send()
        .await
        .unwrap();
    let proxy = FaultProxy::start(&app.stack.aws_url, |seen: &Seen| {
        if seen.method == http::Method::GET && !seen.path_and_query.contains('?') {
            Action::Fail(500, "ReadWhenItShouldNot")
        } else {
            Action::Forward
        }
    })
    .await
    .unwrap();
    let deps = convert_through(&app, &proxy.url).await;
    let ticket = UploadTicket {
        job_id: job_id.to_string(),
        url: format!("http://s3.local/{}/{key}", bucket(&app, "UploadsBucket")),
        method: "PUT".into(),
        headers: Default::default(),
        parts: None,
    };
    deliver(&app, &deps, &ticket).await;
    let job = table.job(&user_id, &job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    let expected = format!(
        "the uploaded file is {} bytes; the largest accepted is 1000 bytes",
        app.fixture("sample.mp4").len()
    );
    assert_eq!(job.error, Some(expected));
    assert_eq!(proxy.faults(), 0, "the object was not read");
}
