//! `POST /uploads` on the in-memory ports: only a signed-in user gets an upload URL, for a file
//! within the limits, and at most so many at once (the same rules run end to end on moto in
//! `tools/local-stack/tests/pipeline.rs` and `security.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use video2mp3_api::testing::{keys, read, request, signed_up};
use video2mp3_domain::memory::{MemoryObjects, MemoryStore};
use video2mp3_domain::{JobStatus, JobStore, UserStore};

fn deps(store: &Arc<MemoryStore>) -> upload_url::Deps {
    upload_url::Deps {
        jobs: store.clone(),
        users: store.clone(),
        objects: Arc::new(MemoryObjects::new()),
        keys: keys(),
        config: upload_url::Config {
            uploads_bucket: "uploads".into(),
            max_upload_bytes: 1000,
            url_ttl: Duration::from_secs(900),
            max_active_jobs: 2,
        },
    }
}

async fn ask(deps: &upload_url::Deps, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    read(upload_url::handle(request(Method::POST, "/uploads", token, Some(body)), deps).await)
}

fn clip(size: u64) -> Value {
    json!({"filename": "../My Clip.mp4", "content_type": "video/mp4", "size": size})
}

#[tokio::test]
async fn a_signed_in_user_gets_a_url_signed_for_exactly_the_declared_file() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let (status, body) = ask(&deps, Some(&token), clip(500)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["headers"]["content-type"], "video/mp4");
    assert_eq!(body["headers"]["content-length"], "500");
    let job_id = body["job_id"].as_str().unwrap().parse().unwrap();
    let job = store.job(&ann.user_id, &job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::AwaitingUpload);
    assert_eq!(
        job.filename, "My Clip.mp4",
        "the name reduced to a safe base name"
    );
    assert_eq!(job.declared_size, 500);
    assert_eq!(
        body["upload_url"],
        format!("memory://uploads/{}", job.source_key)
    );
}

#[tokio::test]
async fn no_valid_token_no_url_and_nothing_stored() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    assert_eq!(ask(&deps, None, clip(5)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        ask(&deps, Some("not.a.token"), clip(5)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A deleted user's token stops working at once.
    store.delete_user(&ann).await.unwrap();
    assert_eq!(
        ask(&deps, Some(&token), clip(5)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        store
            .jobs(&ann.user_id, 10, None)
            .await
            .unwrap()
            .jobs
            .is_empty()
    );
}

#[tokio::test]
async fn the_limits_are_the_servers() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    for body in [
        clip(1001),
        clip(0),
        json!({"filename": "notes.txt", "content_type": "text/plain", "size": 10}),
        json!({"filename": "", "content_type": "video/mp4", "size": 10}),
        json!({"filename": "a.mp4", "content_type": "video/mp4", "size": 10, "bitrate": 100}),
    ] {
        let (status, answer) = ask(&deps, Some(&token), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], "invalid_upload");
    }
    // Two at once, then 429 until one ends.
    assert_eq!(
        ask(&deps, Some(&token), clip(10)).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        ask(&deps, Some(&token), clip(10)).await.0,
        StatusCode::CREATED
    );
    let (status, body) = ask(&deps, Some(&token), clip(10)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_jobs");
    assert_eq!(
        store.jobs(&ann.user_id, 10, None).await.unwrap().jobs.len(),
        2
    );
    // Another user is not held back by ann's.
    let (_, bob) = signed_up(store.as_ref(), &deps.keys, "bob@example.com", "pw").await;
    assert_eq!(
        ask(&deps, Some(&bob), clip(10)).await.0,
        StatusCode::CREATED
    );
}
