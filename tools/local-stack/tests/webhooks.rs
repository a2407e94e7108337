//! Webhooks end to end on the local stack: a converted job's end goes from the topic through
//! the webhook queue to the sender, which POSTs it signed to a TLS receiver on this machine,
//! retries a failed try, and records each on the job; a callback to a private address is
//! refused when the upload is asked for. (Loopback is allowed here only: the local stack sets
//! that in code, and trusts the receiver's authority.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use video2mp3_domain::webhook::verify;
use webhook::testing::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_end_is_posted_signed_to_its_callback_and_a_failed_try_is_retried() {
    let receiver = Receiver::start(
        "127.0.0.1",
        vec![
            "HTTP/1.1 503 Service Unavailable",
            "HTTP/1.1 204 No Content",
        ],
    )
    .await
    .unwrap();
    let app = common::spawn_trusting(&receiver.ca_pem).await;
    let client = app.user("hooks@example.com").await;
    let made = client
        .post("/account/webhook-key", &json!({}))
        .await
        .unwrap();
    assert_eq!(made.status, 201, "{}", made.body);
    let key = made.body["webhook_key"].as_str().unwrap().to_owned();

    // Refused at once: a private address, and plain http.
    for url in ["https://10.1.2.3/hook", "http://127.0.0.1/hook"] {
        let refused = client
            .post(
                "/uploads",
                &json!({"filename": "a.wav", "content_type": "audio/wav", "size": 10, "callback_url": url}),
            )
            .await
            .unwrap();
        assert_eq!(refused.status, 400, "{url}: {}", refused.body);
        assert_eq!(refused.body["error"]["code"], "invalid_callback_url");
    }

    let bytes = app.fixture("tone-mono.wav");
    let callback = format!(
        "https://127.0.0.1:{}/hooks/video2mp3?src=test",
        receiver.port
    );
    let ticket = client
        .create_upload(&json!({
            "filename": "tone.wav",
            "content_type": "audio/wav",
            "size": bytes.len(),
            "callback_url": callback,
        }))
        .await
        .unwrap();
    client.upload(&ticket, bytes).await.unwrap();
    let done = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["callback_url"], callback);

    // The first try answered 503; the retry (after the local stack's retry delay, not the
    // backoff: see the README) is delivered.
    let deadline = Instant::now() + Duration::from_secs(60);
    let job = loop {
        let job = client
            .get(&format!("/jobs/{}", ticket.job_id))
            .await
            .unwrap()
            .body;
        let tries = job["webhook_attempts"].as_array().map_or(0, Vec::len);
        if tries >= 2 || Instant::now() > deadline {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let tries = job["webhook_attempts"].as_array().unwrap();
    assert_eq!(tries.len(), 2, "{job}");
    assert_eq!(tries[0]["status"], 503);
    assert_eq!(tries[0]["delivered"], false);
    assert_eq!(tries[0]["error"], "the receiver answered HTTP 503");
    assert_eq!(tries[1]["status"], 204);
    assert_eq!(tries[1]["delivered"], true);

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for request in &requests {
        assert_eq!(request.line, "POST /hooks/video2mp3?src=test HTTP/1.1");
        let ts: i64 = request.headers["webhook-timestamp"].parse().unwrap();
        let signature = &request.headers["webhook-signature"];
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(
            verify(key.as_bytes(), ts, request.body.as_bytes(), signature, now),
            "{request:?}"
        );
        assert!(!verify(
            b"whsec_another",
            ts,
            request.body.as_bytes(),
            signature,
            now
        ));
        assert_eq!(request.headers["webhook-id"], ticket.job_id);
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["type"], "job.done");
        assert_eq!(body["job_id"], ticket.job_id.as_str());
        assert_eq!(body["status"], "done");
        assert!(
            body["stats"]["audio_seconds"].as_f64().unwrap() > 0.0,
            "{body}"
        );
    }
}
