//! SQS and SNS deliver at least once and converters die: each such case has a known end.
//! Everything runs against moto; faults are real HTTP error answers from a proxy in front of it
//! (`local_stack::faults`), in each service's own error shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::upload_key;
use common::{
    App, created_event, physical, spawn, spawn_app, spawn_app_with, sqs_event, stack_convert,
    upload,
};
use local_stack::faults::{Action, FaultProxy, Seen};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use video2mp3_aws::Env;
use video2mp3_domain::{FailureReason, JobId, JobStatus, Lease, PortError, Transition, UserId};

/// The converter built from its template environment with every AWS client talking to
/// `endpoint` (a fault proxy in front of the IAM gate) with the converter's own credentials.
async fn convert_through(app: &App, endpoint: &str) -> convert::Deps {
    let sdk = app.stack.function_sdk("convert", endpoint).await.unwrap();
    let env = Env::from_map(app.stack.environments["convert"].clone());
    convert::Deps::from_env(&sdk, &env).unwrap()
}

/// Delivers `body` until the converter consumes it (a failure is redelivered after `pause`, as
/// SQS would after the visibility timeout). Returns how many deliveries it took.
async fn deliver_until_consumed(deps: &convert::Deps, body: &str, pause: Duration) -> usize {
    for delivery in 1..=12 {
        let id = format!("m-{delivery}");
        let response = convert::handle(sqs_event(&id, body), deps).await;
        if response.batch_item_failures.is_empty() {
            return delivery;
        }
        tokio::time::sleep(pause).await;
    }
    panic!("the message was still being retried after 12 deliveries");
}

/// Versions of every object under `prefix` in the MP3 bucket (the bucket is versioned by
/// [`version_mp3_bucket`], so every write of an MP3 leaves one).
async fn mp3_versions(app: &App, prefix: &str) -> usize {
    let s3 = aws_sdk_s3::Client::new(&app.stack.sdk);
    let out = s3
        .list_object_versions()
        .bucket(physical(app, "Mp3Bucket"))
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    out.versions().len()
}

async fn version_mp3_bucket(app: &App) {
    let s3 = aws_sdk_s3::Client::new(&app.stack.sdk);
    s3.put_bucket_versioning()
        .bucket(physical(app, "Mp3Bucket"))
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

fn ids(app_user: &str, job: &str) -> (UserId, JobId) {
    (app_user.parse().unwrap(), job.parse().unwrap())
}

/// The user id in an upload key `uploads/{user}/{job}/{file}`.
fn key_user(key: &str) -> String {
    key.split('/').nth(1).unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_deliveries_make_one_mp3_and_one_email() {
    let app = spawn_app().await;
    version_mp3_bucket(&app).await;
    let email = "dup@example.com";
    let client = app.user(email).await;
    let ticket = upload(&client, "dup.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    let body = created_event(&app, &upload_key(&ticket));
    let deps = stack_convert(&app);
    // The stack's own poller delivers the real notification too: eleven deliveries in all.
    let deliveries: Vec<_> = (0..10)
        .map(|_| {
            let (deps, body) = (deps.clone(), body.clone());
            tokio::spawn(async move {
                deliver_until_consumed(&deps, &body, Duration::from_millis(500)).await
            })
        })
        .collect();
    let mut total = 0;
    for delivery in deliveries {
        total += delivery.await.unwrap();
    }
    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(job["status"], "done", "{job}");
    assert!(total >= 10, "{total}");
    let user = key_user(&upload_key(&ticket));
    assert_eq!(
        mp3_versions(&app, &format!("mp3/{user}/")).await,
        1,
        "exactly one MP3 was written"
    );
    // Give any second email time to arrive before counting.
    let first = app.emails_to(email, 1).await;
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = app.emails_to(email, 2).await;
    assert_eq!(mails.len(), 1, "one email: {mails:?}");
    assert!(
        mails[0].subject.starts_with("Your MP3 is ready"),
        "{mails:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_converter_killed_mid_job_is_taken_over_once_its_lease_expires() {
    let app = spawn(&[], false).await;
    version_mp3_bucket(&app).await;
    let client = app.user("killed@example.com").await;
    let ticket = upload(
        &client,
        "killed.mp4",
        "video/mp4",
        app.fixture("sample.mp4"),
    )
    .await;
    let key = upload_key(&ticket);
    let (user, job) = ids(&key_user(&key), &ticket.job_id);
    let deps = stack_convert(&app);
    // A converter took the job and died: its lease is left behind, live for 3 more seconds.
    deps.jobs
        .transition(&user, &job, Transition::to(JobStatus::Queued))
        .await
        .unwrap();
    let dead = Lease {
        owner: "the-converter-that-died".into(),
        expires_at: OffsetDateTime::now_utc() + time::Duration::seconds(3),
    };
    deps.jobs
        .transition(
            &user,
            &job,
            Transition::to(JobStatus::Converting).held(&dead),
        )
        .await
        .unwrap();

    // While the lease holds, a delivery waits its turn: left on the queue, job untouched.
    let body = created_event(&app, &key);
    let response = convert::handle(sqs_event("m-1", &body), &deps).await;
    assert_eq!(response.batch_item_failures.len(), 1, "retried later");
    let held = deps.jobs.job(&user, &job).await.unwrap().unwrap();
    assert_eq!(held.status, JobStatus::Converting);
    assert_eq!(
        held.lease.as_ref().map(|l| l.owner.as_str()),
        Some(dead.owner.as_str())
    );

    // Once it has expired, the redelivery takes the job over and finishes it, once. (Lease
    // times are stored in whole seconds: wait past the second after the expiry.)
    tokio::time::sleep(Duration::from_millis(4600)).await;
    let deliveries = deliver_until_consumed(&deps, &body, Duration::from_secs(1)).await;
    assert_eq!(deliveries, 1);
    let done = deps.jobs.job(&user, &job).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Done);
    assert!(
        done.lease.is_none(),
        "the lease is cleared: {:?}",
        done.lease
    );
    assert!(done.notified);
    assert_eq!(mp3_versions(&app, &format!("mp3/{user}/")).await, 1);

    // The dead converter waking up cannot overwrite the result, nor fail the job.
    let late = deps
        .jobs
        .transition(
            &user,
            &job,
            Transition::failed(FailureReason::Internal, "late").held(&dead),
        )
        .await;
    assert!(matches!(late, Err(PortError::ConditionFailed)), "{late:?}");
    // And another delivery of the same event does nothing more.
    assert_eq!(
        deliver_until_consumed(&deps, &body, Duration::from_secs(1)).await,
        1
    );
    assert_eq!(mp3_versions(&app, &format!("mp3/{user}/")).await, 1);
}

/// A coarse name for what a request does, so each kind of call can be faulted on its own.
fn call_kind(seen: &Seen) -> String {
    if seen.target.is_some() || seen.action.is_some() {
        return seen.operation();
    }
    let kind = if seen.is_ranged_get() {
        "GetObject(range)"
    } else if seen.method == http::Method::HEAD {
        "HeadObject"
    } else if seen.is_put_object() {
        "PutObject"
    } else {
        "S3 other"
    };
    kind.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_on_every_converter_call_still_end_done() {
    let app = spawn(&[], false).await;
    version_mp3_bucket(&app).await;
    let client = app.user("flaky@example.com").await;
    let ticket = upload(&client, "flaky.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    // The first three calls of every kind fail as a busy service answers: more than the SDK's
    // own retries absorb for DynamoDB and SNS (3 attempts), so SQS redelivery is needed too.
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counts = seen.clone();
    let proxy = FaultProxy::start(&app.stack.aws_url, move |request| {
        let kind = call_kind(request);
        let mut counts = counts.lock().unwrap();
        let n = counts.entry(kind.clone()).or_default();
        *n += 1;
        if *n > 3 {
            return Action::Forward;
        }
        if request.target.is_some() {
            Action::Fail(400, "ThrottlingException")
        } else if request.action.is_some() {
            Action::Fail(500, "InternalError")
        } else {
            Action::Fail(503, "SlowDown")
        }
    })
    .await
    .unwrap();
    let deps = convert_through(&app, &proxy.url).await;
    let body = created_event(&app, &upload_key(&ticket));
    let deliveries = deliver_until_consumed(&deps, &body, Duration::from_millis(200)).await;

    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(job["status"], "done", "{job}");
    let kinds: Vec<String> = {
        let mut k: Vec<String> = seen.lock().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    for wanted in [
        "GetItem",
        "UpdateItem",
        "Publish",
        "HeadObject",
        "GetObject(range)",
        "PutObject",
    ] {
        assert!(
            kinds.iter().any(|k| k == wanted),
            "{wanted} was never called: {kinds:?}"
        );
    }
    let user = key_user(&upload_key(&ticket));
    assert_eq!(mp3_versions(&app, &format!("mp3/{user}/")).await, 1);
    eprintln!(
        "transient faults: {} injected over {} calls ({kinds:?}); {deliveries} deliveries",
        proxy.faults(),
        proxy.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_fault_fails_the_job_with_a_reason_and_stops() {
    let app = spawn(&[], false).await;
    let client = app.user("denied@example.com").await;
    let ticket = upload(
        &client,
        "denied.mp4",
        "video/mp4",
        app.fixture("sample.mp4"),
    )
    .await;
    // Every read of the upload is refused: a permission the function lacks, not a passing fault.
    let proxy = FaultProxy::start(&app.stack.aws_url, |request| {
        if request.is_ranged_get() {
            Action::Fail(403, "AccessDenied")
        } else {
            Action::Forward
        }
    })
    .await
    .unwrap();
    let deps = convert_through(&app, &proxy.url).await;
    let body = created_event(&app, &upload_key(&ticket));
    let started = Instant::now();
    let response = convert::handle(sqs_event("m-1", &body), &deps).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "consumed at once, not retried"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(job["status"], "failed", "{job}");
    let reason = job["error"].as_str().unwrap();
    assert!(reason.contains("please"), "a reason for a person: {reason}");
    assert!(
        proxy.faults() <= 6,
        "no retry storm: {} refused reads",
        proxy.faults()
    );
}

/// A WAV header (PCM, `bits` per sample) with the given channel count, rate and declared data
/// size, followed by `data` bytes of silence.
fn wav(channels: u16, rate: u32, bits: u16, declared: u32, data: usize) -> Vec<u8> {
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
    out.resize(out.len() + data, 0);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_uploads_each_fail_with_a_clear_reason_in_time() {
    // Six uploads at once from one user: above the default per-user limit.
    let app = spawn_app_with(&[("MaxActiveJobsPerUser", "10")]).await;
    let email = "poison@example.com";
    let client = app.user(email).await;
    let sample = app.fixture("sample.mp4");
    let mut noise = vec![0u8; 64 * 1024];
    let mut state = 0x9e37_79b9_u32;
    for byte in &mut noise {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *byte = state as u8;
    }
    // 100 hours of 8 kHz mono 8-bit claimed in the header; a second of it present.
    let hundred_hours = wav(1, 8000, 8, 100 * 3600 * 8000, 8000);
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("random.mp4", "video/mp4", noise, "format"),
        (
            "truncated.mp4",
            "video/mp4",
            sample[..sample.len() / 3].to_vec(),
            "incomplete",
        ),
        (
            "notes.mp4",
            "video/mp4",
            app.fixture("not-a-video.mp4"),
            "format",
        ),
        ("long.wav", "audio/wav", hundred_hours, "longer than"),
        (
            "channels.wav",
            "audio/wav",
            wav(65535, 44100, 16, 65535 * 2 * 10, 65535 * 2 * 10),
            "channel",
        ),
    ];
    let started = Instant::now();
    let mut tickets = Vec::new();
    for (name, content_type, bytes, _) in &cases {
        tickets.push(upload(&client, name, content_type, bytes.clone()).await);
    }
    // An empty body where 1000 bytes were announced (S3 on AWS refuses it against the signed
    // length; moto does not check, so the converter's own size check is what is tested).
    let hollow = client
        .create_upload(
            &serde_json::json!({"filename": "hollow.mp4", "content_type": "video/mp4", "size": 1000}),
        )
        .await
        .unwrap();
    let mut empty_put = hollow.clone();
    empty_put.headers.remove("content-length");
    client.upload(&empty_put, Vec::new()).await.unwrap();
    // An empty file is refused before anything is stored.
    let empty = client
        .post(
            "/uploads",
            &serde_json::json!({"filename": "empty.mp4", "content_type": "video/mp4", "size": 0}),
        )
        .await
        .unwrap();
    assert_eq!(empty.status, 400, "{:?}", empty.body);
    let mut failures = Vec::new();
    for ((name, _, _, wanted), ticket) in cases.iter().zip(&tickets) {
        let job = client
            .wait_for_job(&ticket.job_id, Duration::from_secs(60))
            .await
            .unwrap();
        let reason = job["error"].as_str().unwrap_or_default().to_owned();
        if job["status"] != "failed" || reason.is_empty() || !reason.contains(wanted) {
            failures.push(format!(
                "{name}: {} {reason:?} (wanted {wanted:?})",
                job["status"]
            ));
        }
        eprintln!("{name}: {} — {reason}", job["status"]);
    }
    let job = client
        .wait_for_job(&hollow.job_id, Duration::from_secs(60))
        .await
        .unwrap();
    eprintln!("hollow.mp4: {} — {}", job["status"], job["error"]);
    if job["status"] != "failed"
        || !job["error"]
            .as_str()
            .unwrap_or_default()
            .contains("0 bytes but 1000 bytes were announced")
    {
        failures.push(format!("hollow.mp4: {job}"));
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "{:?}",
        started.elapsed()
    );
    // Each one told the user why.
    let mails = app.emails_to(email, cases.len() + 1).await;
    assert_eq!(mails.len(), cases.len() + 1, "{mails:?}");
    assert!(
        mails
            .iter()
            .all(|m| m.subject.starts_with("We could not convert"))
    );
}

/// Plays Lambda's event source mapping once: receives from the queue, hands each message to
/// the converter, deletes what it consumed and makes the rest visible again at once. Returns
/// how many messages were received.
async fn poll_once(sqs: &aws_sdk_sqs::Client, url: &str, deps: &convert::Deps) -> usize {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let messages = out.messages.unwrap_or_default();
    for m in &messages {
        let id = m.message_id().unwrap();
        let response = convert::handle(sqs_event(id, m.body().unwrap()), deps).await;
        let handle = m.receipt_handle().unwrap();
        if response.batch_item_failures.is_empty() {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(handle)
                .send()
                .await
                .unwrap();
        } else {
            sqs.change_message_visibility()
                .queue_url(url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        }
    }
    messages.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_failing_lands_in_the_dlq_and_can_be_replayed() {
    let app = spawn(&[], false).await;
    let client = app.user("dlq@example.com").await;
    let ticket = upload(&client, "dlq.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    // DynamoDB throttles every call of this converter: a transient fault that never passes.
    let proxy = FaultProxy::start(&app.stack.aws_url, |request| {
        if request.target.is_some() {
            Action::Fail(400, "ThrottlingException")
        } else {
            Action::Forward
        }
    })
    .await
    .unwrap();
    let throttled = convert_through(&app, &proxy.url).await;
    let sqs = aws_sdk_sqs::Client::new(&app.stack.sdk);
    let queue = physical(&app, "ConvertQueue");
    let dead = physical(&app, "ConvertDeadLetterQueue");
    // maxReceiveCount is 5: the sixth receive moves the message to the DLQ instead.
    for _ in 0..8 {
        if poll_once(&sqs, &queue, &throttled).await == 0 {
            break;
        }
    }
    assert_eq!(
        poll_once(&sqs, &queue, &throttled).await,
        0,
        "the queue is empty"
    );
    let letters = local_stack::dlq::peek(&sqs, &dead, 10).await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(letters[0].body.contains("dlq.mp4"), "{letters:?}");
    let job = client
        .get(&format!("/jobs/{}", ticket.job_id))
        .await
        .unwrap();
    assert_ne!(job.body["status"], "done", "{:?}", job.body);

    // The throttling is over: the replayed message converts.
    let moved = local_stack::dlq::redrive(&sqs, &dead, &queue)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    assert!(
        local_stack::dlq::peek(&sqs, &dead, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(poll_once(&sqs, &queue, &stack_convert(&app)).await, 1);
    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(job["status"], "done", "{job}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_that_keeps_failing_goes_to_notifys_failure_queue_and_can_be_replayed() {
    // SES refuses to send (the sender identity is not verified, as in a new account): notify
    // fails, Lambda tries twice more, then sends the event with its error to NotifyFailureQueue.
    let app = spawn_app().await;
    let sender = app.stack.environments["notify"]["SENDER_EMAIL"].clone();
    let ses = aws_sdk_sesv2::Client::new(&app.stack.sdk);
    ses.delete_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let client = app.user("unsent@example.com").await;
    let ticket = upload(
        &client,
        "tone.wav",
        "audio/wav",
        app.fixture("tone-mono.wav"),
    )
    .await;
    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(job["status"], "done", "{job}");

    let sqs = aws_sdk_sqs::Client::new(&app.stack.sdk);
    let failures = physical(&app, "NotifyFailureQueue");
    let deadline = Instant::now() + Duration::from_secs(30);
    let letters = loop {
        let letters = local_stack::dlq::peek(&sqs, &failures, 10).await.unwrap();
        if !letters.is_empty() || Instant::now() > deadline {
            break letters;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(letters.len(), 1, "{letters:?}");
    let record: serde_json::Value = serde_json::from_str(&letters[0].body).unwrap();
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    let message = record["requestPayload"]["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap();
    assert!(message.contains(&ticket.job_id), "{message}");
    let sent = local_stack::sent_emails(&app.stack.moto_url).await.unwrap();
    assert!(
        !sent
            .iter()
            .any(|m| m.to.iter().any(|t| t == "unsent@example.com")),
        "{sent:?}"
    );
    assert!(
        app.stack.gate.denials().is_empty(),
        "Lambda sends to the destination with notify's role: {:?}",
        app.stack.gate.denials()
    );

    // The sender is verified now: the replayed event sends the one email.
    ses.create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let sns = aws_sdk_sns::Client::new(&app.stack.sdk);
    let replayed = local_stack::dlq::replay_failed_events(&sqs, &sns, &failures)
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    let mails = app.emails_to("unsent@example.com", 1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].subject.contains("tone.mp3"), "{:?}", mails[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_for_no_known_job_are_consumed_at_once() {
    let app = spawn(&[], false).await;
    let deps = stack_convert(&app);
    let user = UserId::generate();
    let bodies = [
        // Not an upload key.
        created_event(&app, "elsewhere/file.mp4"),
        // An upload key for a job that does not exist.
        created_event(
            &app,
            &format!("uploads/{user}/{}/clip.mp4", JobId::generate()),
        ),
        // Keys that try to climb out.
        created_event(&app, "uploads/../../etc/passwd"),
        // S3's test event, and something that is not JSON at all.
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#.to_owned(),
        "not json".to_owned(),
    ];
    for body in &bodies {
        let response = convert::handle(sqs_event("m-1", body), &deps).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "left on the queue: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_conversion_writes_its_progress_every_interval_and_ends_at_100() {
    let app = spawn(&[], false).await;
    let client = app.user("progress@example.com").await;
    // Three minutes of audio: long enough that the 20 ms interval passes many times.
    let wav = {
        let mut w = wav(1, 8000, 16, 3 * 60 * 8000 * 2, 0);
        w.extend((0..3 * 60 * 8000).flat_map(|i: i32| {
            let s = ((f64::from(i) * 0.3).sin() * 8000.0) as i16;
            s.to_le_bytes()
        }));
        w
    };
    let ticket = upload(&client, "long.wav", "audio/wav", wav).await;
    let writes: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = writes.clone();
    let proxy = FaultProxy::start(&app.stack.aws_url, move |request| {
        if request.operation() == "UpdateItem" && request.json_body.contains("SET progress") {
            seen.lock().unwrap().push(request.json_body.clone());
        }
        Action::Forward
    })
    .await
    .unwrap();
    let mut deps = convert_through(&app, &proxy.url).await;
    deps.config.progress_every = Duration::from_millis(20);
    let body = created_event(&app, &upload_key(&ticket));
    assert_eq!(
        deliver_until_consumed(&deps, &body, Duration::from_millis(100)).await,
        1
    );
    let percents: Vec<u64> = writes
        .lock()
        .unwrap()
        .iter()
        .filter_map(|b| {
            let v: serde_json::Value = serde_json::from_str(b).ok()?;
            v["ExpressionAttributeValues"][":p"]["N"]
                .as_str()?
                .parse()
                .ok()
        })
        .collect();
    eprintln!("progress written: {percents:?}");
    assert!(
        percents.len() >= 2,
        "progress written at least twice: {percents:?}"
    );
    assert!(percents.windows(2).all(|w| w[0] < w[1]), "{percents:?}");
    assert!(percents.iter().all(|&p| p < 100), "{percents:?}");
    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        (job["status"].as_str(), job["progress"].as_u64()),
        (Some("done"), Some(100))
    );
}
