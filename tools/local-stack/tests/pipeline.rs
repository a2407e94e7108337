//! End-to-end tests: each test starts its own moto and local stack (resources from
//! template.yaml, handlers in-process) and talks to it over HTTP as a client would.
//! `TEST_LOG=1` shows the stack's logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use video2mp3_mp3check as mp3check;

mod common;

use common::{PASSWORD, spawn, spawn_app, spawn_app_with, upload};
use local_stack::client::UploadTicket;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_accepts_the_right_password_and_refuses_everything_else_alike() {
    let app = spawn_app().await;
    app.stack
        .add_user("Ann@Example.com", PASSWORD)
        .await
        .unwrap();
    let client = app.client();

    let ok = client
        .post(
            "/login",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await
        .unwrap();
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["token"].as_str().unwrap().split('.').count(), 3);
    assert!(ok.body["expires_at"].as_str().unwrap().starts_with("20"));

    let wrong = client
        .post(
            "/login",
            &json!({"email": "ann@example.com", "password": "nope"}),
        )
        .await
        .unwrap();
    let unknown = client
        .post(
            "/login",
            &json!({"email": "bob@example.com", "password": PASSWORD}),
        )
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(
        wrong.body, unknown.body,
        "an unknown user and a wrong password answer alike"
    );
    assert_eq!(wrong.body["error"]["code"], "invalid_credentials");

    let empty = client.post("/login", &json!({})).await.unwrap();
    assert_eq!(empty.status, 400);
    assert_eq!(empty.body["error"]["code"], "invalid_body");

    // Older clients send HTTP Basic.
    let basic = reqwest::Client::new()
        .post(format!("{}/login", app.stack.api_url))
        .basic_auth(" ANN@example.com ", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_urls_need_a_token_and_enforce_the_limits() {
    let app = spawn_app_with(&[("MaxUploadBytes", "1000000")]).await;
    let client = app.user("ann@example.com").await;
    let good = json!({"filename": "clip.mp4", "content_type": "video/mp4", "size": 1000});

    let anonymous = app.client().post("/uploads", &good).await.unwrap();
    assert_eq!(anonymous.status, 401);
    let mut forged = app.client();
    forged.token = Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".into());
    assert_eq!(forged.post("/uploads", &good).await.unwrap().status, 401);

    let cases = [
        (
            json!({"filename": "clip.mp4", "content_type": "video/mp4", "size": 1_000_001}),
            "1000000",
        ),
        (
            json!({"filename": "clip.mp4", "content_type": "video/mp4", "size": 0}),
            "empty",
        ),
        (
            json!({"filename": "notes.txt", "content_type": "text/plain", "size": 10}),
            "audio or video",
        ),
        (
            json!({"filename": "  ", "content_type": "video/mp4", "size": 10}),
            "empty",
        ),
        (
            json!({"filename": "../", "content_type": "video/mp4", "size": 10}),
            "empty",
        ),
        (
            json!({"filename": "a\u{0007}.mp4", "content_type": "video/mp4", "size": 10}),
            "control",
        ),
        (
            json!({"filename": "a.mp4", "content_type": "video/mp4", "size": 10, "quality": "V10"}),
            "V0 to V9",
        ),
        (
            json!({"filename": "a.mp4", "content_type": "video/mp4", "size": 10, "bitrate": 150}),
            "bitrate",
        ),
        (
            json!({"filename": "a.mp4", "content_type": "video/mp4"}),
            "JSON body",
        ),
    ];
    for (body, expected) in cases {
        let a = client.post("/uploads", &body).await.unwrap();
        assert_eq!(a.status, 400, "{body} -> {}", a.body);
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "{body}: {message:?} should mention {expected:?}"
        );
    }

    let a = client
        .post("/uploads", &json!({"filename": "C:\\videos\\my clip.mp4", "content_type": "video/mp4", "size": 1000, "bitrate": 192}))
        .await
        .unwrap();
    assert_eq!(a.status, 201, "{}", a.body);
    let job_id = a.body["job_id"].as_str().unwrap();
    let url = a.body["upload_url"].as_str().unwrap();
    assert!(url.contains(&format!("/{job_id}/my%20clip.mp4")), "{url}");
    assert!(url.contains("X-Amz-Expires=900"), "valid 15 minutes: {url}");
    assert_eq!(a.body["method"], "PUT");
    assert_eq!(a.body["headers"]["content-type"], "video/mp4");
    assert_eq!(a.body["headers"]["content-length"], "1000");
    let job = client.get(&format!("/jobs/{job_id}")).await.unwrap();
    assert_eq!(job.body["status"], "awaiting_upload");
    assert_eq!(job.body["filename"], "my clip.mp4");
    assert_eq!(job.body["settings"], "192k");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_goes_from_upload_to_an_mp3_and_an_email() {
    let app = spawn_app().await;
    let client = app.user("ann@example.com").await;
    // A space and a non-ASCII letter: S3 event keys arrive form-encoded.
    let ticket = upload(
        &client,
        "my clip café.mp4",
        "video/mp4",
        app.fixture("sample.mp4"),
    )
    .await;

    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["error"], Value::Null);
    assert_eq!(
        job["stats"]["source_bytes"],
        app.fixture("sample.mp4").len()
    );
    let (mp3, disposition) = client
        .download(job["download_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(job["stats"]["mp3_bytes"], mp3.len());
    let disposition = disposition.unwrap();
    assert!(
        disposition.contains("filename*=UTF-8''my%20clip%20caf%C3%A9.mp3"),
        "{disposition}"
    );

    // The bytes, read without trusting the encoder.
    let info = mp3check::info_frame(&mp3);
    assert_eq!((info.sample_rate, info.channels), (44100, 2), "{info:?}");
    assert!(
        info.delay > 0 && info.padding > 0 && info.encoder.starts_with("LAME"),
        "{info:?}"
    );
    // The fixture's audio is 6.000 s long.
    assert!(
        (info.duration() - 6.0).abs() < 0.1,
        "duration {} s: {info:?}",
        info.duration()
    );
    // Decoded by another MP3 decoder: every frame decodes, and the length agrees with the tag.
    let (rate, channels, frames) = mp3check::decode(mp3.clone());
    assert_eq!((rate, channels), (44100, 2));
    let total = info.frames * info.samples_per_frame;
    assert_eq!(
        frames,
        total - info.delay - info.padding,
        "decoded {frames} frames; the info frame says {total} with {} + {} trimmed",
        info.delay,
        info.padding
    );
    // Exactly the source's 6 s at 44.1 kHz: the MP4's priming and padding were dropped.
    assert_eq!(frames, 264_600);

    let mails = app.emails_to("ann@example.com", 1).await;
    assert_eq!(mails.len(), 1, "exactly one email: {mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.subject, "Your MP3 is ready: my clip café.mp3");
    assert_eq!(mail.from, "no-reply@example.com");
    assert!(
        mail.body
            .contains("\"my clip café.mp4\" has been converted"),
        "{}",
        mail.body
    );
    // The email links to the job's page, which asks the API for a fresh download link.
    let link = mail
        .body
        .lines()
        .find(|l| l.starts_with("http"))
        .expect("a link to the job's page");
    assert_eq!(
        link,
        format!("{}/?job={}", app.stack.api_url, ticket.job_id),
        "{}",
        mail.body
    );
    // (tools/local-stack/web-test/page.test.mjs opens such a link in the browser.)
    assert_eq!(reqwest::get(link).await.unwrap().status(), 200);
    let fresh = client
        .get(&format!("/jobs/{}", ticket.job_id))
        .await
        .unwrap();
    let (emailed, _) = client
        .download(fresh.body["download_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(emailed, mp3, "the page's link serves the same MP3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_media_fails_with_a_reason_and_an_email() {
    let app = spawn_app().await;
    let client = app.user("ann@example.com").await;
    let ticket = upload(
        &client,
        "holiday.mp4",
        "video/mp4",
        app.fixture("not-a-video.mp4"),
    )
    .await;

    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(job["status"], "failed");
    assert_eq!(
        job["error"],
        "the file is not an audio or video format we can read"
    );
    assert_eq!(job["error_code"], "unrecognised_format");
    assert!(job.get("download_url").is_none());

    let mails = app.emails_to("ann@example.com", 1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "We could not convert holiday.mp4");
    assert!(
        mails[0]
            .body
            .contains("not an audio or video format we can read"),
        "{}",
        mails[0].body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_differs_from_the_announced_size_fails_the_job() {
    let app = spawn_app().await;
    let client = app.user("ann@example.com").await;
    let bytes = app.fixture("tone-mono.wav");
    let ticket = client
        .create_upload(
            &json!({"filename": "tone.wav", "content_type": "audio/wav", "size": bytes.len() + 10}),
        )
        .await
        .unwrap();
    // moto does not check the signed length, so the converter's own check is what stops it.
    let mut headers = ticket.headers.clone();
    headers.remove("content-length");
    client
        .upload(
            &UploadTicket {
                headers,
                ..ticket.clone()
            },
            bytes.clone(),
        )
        .await
        .unwrap();

    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error_code"], "size_mismatch");
    let reason = job["error"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "{} bytes but {} bytes were announced",
            bytes.len(),
            bytes.len() + 10
        )),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_gone_before_conversion_fails_the_job_as_missing() {
    // The converter asks S3 about the upload with its own role: S3 says 404 only to a caller
    // allowed s3:ListBucket, and 403 otherwise, which would read as an internal failure.
    let app = spawn(&[], false).await;
    let client = app.user("gone@example.com").await;
    let ticket = upload(
        &client,
        "tone.wav",
        "audio/wav",
        app.fixture("tone-mono.wav"),
    )
    .await;
    let key = common::upload_key(&ticket);
    let s3 = video2mp3_aws::s3_client(&app.stack.sdk);
    s3.delete_object()
        .bucket(common::physical(&app, "UploadsBucket"))
        .key(&key)
        .send()
        .await
        .unwrap();

    let deps = common::stack_convert(&app);
    let event = common::sqs_event("m-1", &common::created_event(&app, &key));
    let response = convert::handle(event, &deps).await;
    assert!(response.batch_item_failures.is_empty(), "not retried");

    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error_code"], "upload_missing");
    let reason = job["error"].as_str().unwrap();
    assert!(reason.contains("no longer there"), "{reason}");
    assert!(
        app.stack.gate.denials().is_empty(),
        "{:?}",
        app.stack.gate.denials()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_has_at_most_max_active_jobs_uploading_or_converting() {
    let app = spawn(&[("MaxActiveJobsPerUser", "2")], false).await;
    let client = app.user("busy@example.com").await;
    let other = app.user("idle@example.com").await;
    let tone = app.fixture("tone-mono.wav");
    let first = upload(&client, "one.wav", "audio/wav", tone.clone()).await;
    let body = json!({"filename": "two.wav", "content_type": "audio/wav", "size": tone.len()});
    assert_eq!(client.post("/uploads", &body).await.unwrap().status, 201);

    let third = client.post("/uploads", &body).await.unwrap();
    assert_eq!(third.status, 429, "{}", third.body);
    assert_eq!(third.body["error"]["code"], "too_many_jobs");
    let message = third.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 2 at once"), "{message}");
    // The limit is each user's own.
    assert_eq!(other.post("/uploads", &body).await.unwrap().status, 201);

    // One ends: a place is free again.
    let deps = common::stack_convert(&app);
    let event = common::sqs_event(
        "m-1",
        &common::created_event(&app, &common::upload_key(&first)),
    );
    convert::handle(event, &deps).await;
    let done = client
        .wait_for_job(&first.job_id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(client.post("/uploads", &body).await.unwrap().status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_see_only_their_own_jobs() {
    let app = spawn_app().await;
    let ann = app.user("ann@example.com").await;
    let bob = app.user("bob@example.com").await;
    let ticket = upload(&ann, "tone.wav", "audio/wav", app.fixture("tone-mono.wav")).await;
    let done = ann
        .wait_for_job(&ticket.job_id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(done["status"], "done");

    let theirs = bob.get(&format!("/jobs/{}", ticket.job_id)).await.unwrap();
    let missing = bob
        .get(&format!("/jobs/{}", ulid::Ulid::new()))
        .await
        .unwrap();
    assert_eq!(theirs.status, 404);
    assert_eq!(
        (theirs.status, &theirs.body),
        (missing.status, &missing.body),
        "another's job answers like a missing one"
    );
    assert_eq!(bob.get("/jobs/not-an-id").await.unwrap().status, 404);
    assert_eq!(app.client().get("/jobs").await.unwrap().status, 401);

    let bobs = bob.get("/jobs").await.unwrap();
    assert_eq!(bobs.status, 200);
    assert_eq!(bobs.body["jobs"], json!([]));
    let anns = ann.get("/jobs").await.unwrap();
    assert_eq!(anns.body["jobs"][0]["job_id"], ticket.job_id.as_str());
    assert_eq!(anns.body["jobs"][0]["status"], "done");
    assert!(anns.body["jobs"][0]["download_url"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_lists_are_newest_first_and_paginate() {
    let app = spawn_app().await;
    let client = app.user("ann@example.com").await;
    let mut ids = Vec::new();
    for name in ["a.mp4", "b.mp4", "c.mp4"] {
        let t = client
            .create_upload(&json!({"filename": name, "content_type": "video/mp4", "size": 10}))
            .await
            .unwrap();
        ids.push(t.job_id);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first = client.get("/jobs?limit=2").await.unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    let page1: Vec<&str> = first.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
    assert_eq!(page1, vec![ids[2].as_str(), ids[1].as_str()]);
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a cursor for the next page");
    let second = client
        .get(&format!("/jobs?limit=2&cursor={cursor}"))
        .await
        .unwrap();
    let page2: Vec<&str> = second.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
    assert_eq!(page2, vec![ids[0].as_str()]);

    assert_eq!(client.get("/jobs?limit=0").await.unwrap().status, 400);
    assert_eq!(client.get("/jobs?limit=101").await.unwrap().status, 400);
    assert_eq!(client.get("/jobs?cursor=x").await.unwrap().status, 400);
    assert_eq!(client.get("/nowhere").await.unwrap().status, 404);
}

/// Every file in events/ is parsed and handed to its function's handler, against the stack's
/// resources, with the state the event refers to set up first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_event_drives_its_handler() {
    use local_stack::samples;
    use video2mp3_domain::{JobStatus, JobStore};
    // No pollers: this test is the only one to hand messages to the queue handlers.
    let app = spawn(&[], false).await;
    let table = video2mp3_aws::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&app.stack.sdk),
        app.stack.table_name().unwrap(),
    );
    let function = |binary: &str| {
        app.stack
            .functions
            .iter()
            .find(|f| f.binary == binary)
            .unwrap()
            .clone()
    };
    let http_event = |text: &str, token: Option<&str>| {
        let event = samples::with_token(text, token).unwrap();
        lambda_http::request::from_str(&event.to_string()).unwrap()
    };

    // The user, job and upload the sample events name.
    let token = samples::seed(&app.stack).await.unwrap();
    let user_id: video2mp3_domain::UserId = samples::USER_ID.parse().unwrap();
    let job_id: video2mp3_domain::JobId = samples::JOB_ID.parse().unwrap();

    let files = samples::event_files(&app.root).unwrap();
    assert!(
        files.len() >= 8,
        "one event per function at least: {files:?}"
    );
    let mut driven = Vec::new();
    for (path, binary) in &files {
        let binary = *binary;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let handler = &function(binary).handler;
        use local_stack::functions::Handler as H;
        match handler {
            H::Login(_) => {
                let response = handler.http(http_event(&text, None)).await.unwrap();
                assert_eq!(response.status(), 200, "{name}");
            }
            H::Account(_) => {
                let response = handler.http(http_event(&text, None)).await.unwrap();
                assert_eq!(response.status(), 202, "{name}");
                let mails = app.emails_to("new.user@example.com", 1).await;
                assert!(
                    mails.iter().any(|m| m.body.contains("/?verify=")),
                    "{name}: {mails:?}"
                );
            }
            H::UploadUrl(_) => {
                let response = handler.http(http_event(&text, Some(&token))).await.unwrap();
                assert_eq!(response.status(), 201, "{name}");
                let unauthorised = handler.http(http_event(&text, None)).await.unwrap();
                assert_eq!(
                    unauthorised.status(),
                    401,
                    "{name} with its placeholder token"
                );
            }
            H::Jobs(_) => {
                let response = handler.http(http_event(&text, Some(&token))).await.unwrap();
                assert_eq!(response.status(), 200, "{name}");
            }
            H::Convert(deps) => {
                let event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                let response = convert::handle(event, deps).await;
                assert!(
                    response.batch_item_failures.is_empty(),
                    "{name}: {:?}",
                    response.batch_item_failures
                );
            }
            H::Notify(deps) => {
                let event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                notify::handle(event, deps).await.unwrap();
            }
            H::Web(_) => {
                let response = handler.http(http_event(&text, None)).await.unwrap();
                assert_eq!(response.status(), 200, "{name}");
            }
            H::Webhook(deps) => {
                // The sample job asked for no callback: the event is consumed, nothing sent.
                let event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                let response = webhook::handle(event, deps).await;
                assert!(response.batch_item_failures.is_empty(), "{name}");
            }
        }
        driven.push(binary);
    }
    for binary in [
        "login",
        "account",
        "upload-url",
        "jobs",
        "convert",
        "notify",
        "webhook",
        "web",
    ] {
        assert!(driven.contains(&binary), "no event in events/ for {binary}");
    }
    let job = table.job(&user_id, &job_id).await.unwrap().unwrap();
    assert_eq!(
        job.status,
        JobStatus::Done,
        "events/convert.json converted the job: {job:?}"
    );
    let mails = app.emails_to("ann@example.com", 1).await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject == "Your MP3 is ready: my holiday clip café.mp3"),
        "{mails:?}"
    );
}
