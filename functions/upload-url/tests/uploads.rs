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

/// `public.example` resolves to a public address, `intranet.example` to a private one among
/// public ones; nothing else resolves.
struct Names;

#[async_trait::async_trait]
impl video2mp3_domain::webhook::Resolver for Names {
    async fn resolve(&self, host: &str, _port: u16) -> Result<Vec<std::net::IpAddr>, String> {
        let ips: &[&str] = match host {
            "public.example" => &["93.184.215.14"],
            "intranet.example" => &["93.184.215.14", "10.1.2.3"],
            _ => return Err("no such host".into()),
        };
        Ok(ips.iter().map(|ip| ip.parse().unwrap()).collect())
    }
}

fn deps(store: &Arc<MemoryStore>) -> upload_url::Deps {
    upload_url::Deps {
        jobs: store.clone(),
        users: store.clone(),
        objects: Arc::new(MemoryObjects::new()),
        keys: keys(),
        resolver: Arc::new(Names),
        addresses: video2mp3_domain::webhook::AddressRule::PublicOnly,
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

#[tokio::test]
async fn conversion_options_are_checked_in_words_and_kept_on_the_job() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let with = |extra: Value| {
        let mut body = clip(10);
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (extra, message) in [
        (
            json!({"start": 5, "end": 2}),
            "end (2 s) must be after start (5 s)",
        ),
        (
            json!({"start": -1}),
            "start must be a number of seconds from 0 to 86400, not -1",
        ),
        (
            json!({"channels": "5.1"}),
            "channels must be \"mono\" or \"stereo\", not \"5.1\"",
        ),
        (json!({"sample_rate": 44000}), "not 44000"),
        (
            json!({"loudness": -60}),
            "a target from -50 to -5 LUFS, not -60",
        ),
        (
            json!({"track": 100}),
            "track must be the index of an audio track (0 to 99)",
        ),
        (
            json!({"tags": "remove"}),
            "tags must be \"keep\" or \"strip\", not \"remove\"",
        ),
        (
            json!({"sample_rate": 22050, "bitrate": 320}),
            "a constant bitrate of 320 kbit/s needs a sample rate of 32000 Hz or more",
        ),
    ] {
        let (status, answer) = ask(&deps, Some(&token), with(extra.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra} -> {answer}");
        let said = answer["error"]["message"].as_str().unwrap();
        assert!(said.contains(message), "{extra}: {said}");
    }
    let asked = json!({"start": 1.5, "end": 90, "channels": "mono", "sample_rate": 16000, "loudness": true, "track": "fra", "tags": "strip"});
    let (status, answer) = ask(&deps, Some(&token), with(asked)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let job_id = answer["job_id"].as_str().unwrap().parse().unwrap();
    let job = store.job(&ann.user_id, &job_id).await.unwrap().unwrap();
    assert_eq!(
        job.options,
        video2mp3_domain::AudioOptions {
            start: Some(1.5),
            end: Some(90.0),
            channels: Some(video2mp3_domain::Channels::Mono),
            sample_rate: Some(16000),
            loudness: Some(-16.0),
            track: Some(video2mp3_domain::TrackChoice::Language("fra".into())),
            tags: Some(video2mp3_domain::TagsChoice::Strip),
        }
    );
}

/// A stack that takes uploads of up to 1 GiB, with its object store.
fn big_deps(store: &Arc<MemoryStore>, objects: &MemoryObjects) -> upload_url::Deps {
    let mut deps = deps(store);
    deps.objects = Arc::new(objects.clone());
    deps.config.max_upload_bytes = 1 << 30;
    deps
}

async fn call(
    deps: &upload_url::Deps,
    method: Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    read(upload_url::handle(request(method, path, Some(token), None), deps).await)
}

#[tokio::test]
async fn a_large_file_goes_in_parts_that_can_be_resumed_and_completes_whole() {
    const MIB: usize = 1024 * 1024;
    let store = Arc::new(MemoryStore::new());
    let objects = MemoryObjects::new();
    let deps = big_deps(&store, &objects);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let (_, bob) = signed_up(store.as_ref(), &deps.keys, "bob@example.com", "pw").await;
    let size = 2 * 8 * MIB + 10;
    let (status, body) = ask(&deps, Some(&token), clip(size as u64)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("upload_url").is_none(), "no single PUT: {body}");
    let upload = &body["upload"];
    assert_eq!(upload["part_size"], 8 * MIB);
    assert_eq!(upload["part_count"], 3);
    let urls = upload["parts"].as_array().unwrap();
    assert_eq!(urls.len(), 3);
    assert!(
        urls[2]["url"]
            .as_str()
            .unwrap()
            .ends_with("partNumber=3&length=10"),
        "{body}"
    );
    let id = body["job_id"].as_str().unwrap().to_owned();
    let job = store
        .job(&ann.user_id, &id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let upload_id = job.upload_id.clone().unwrap();

    // Two parts arrive, then the connection is lost: the client asks what is there.
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let part = |n: usize| bytes[(n - 1) * 8 * MIB..(n * 8 * MIB).min(size)].to_vec();
    assert!(objects.put_part(&upload_id, 1, part(1)));
    assert!(objects.put_part(&upload_id, 3, part(3)));
    let (status, now) = call(&deps, Method::GET, &format!("/uploads/{id}"), &token).await;
    assert_eq!(status, StatusCode::OK, "{now}");
    let uploaded: Vec<u64> = now["upload"]["uploaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(uploaded, vec![1, 3]);
    assert_eq!(now["upload"]["parts"].as_array().unwrap().len(), 1);
    assert_eq!(now["upload"]["parts"][0]["number"], 2);
    assert_eq!(
        call(&deps, Method::GET, &format!("/uploads/{id}"), &bob)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let complete = format!("/uploads/{id}/complete");
    let (status, refused) = call(&deps, Method::POST, &complete, &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"]["code"], "upload_incomplete", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("part 2"),
        "{refused}"
    );
    objects.put_part(&upload_id, 2, vec![0; 100]);
    let (status, refused) = call(&deps, Method::POST, &complete, &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"]["code"], "size_mismatch", "{refused}");
    objects.put_part(&upload_id, 2, part(2));
    let (status, done) = call(&deps, Method::POST, &complete, &token).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        objects.get("uploads", &job.source_key).unwrap(),
        bytes,
        "the parts in order"
    );
    let (status, again) = call(&deps, Method::POST, &complete, &token).await;
    assert_eq!(
        (status, &again),
        (StatusCode::OK, &done),
        "asking again answers the same"
    );
    assert_eq!(objects.uploads_in_progress(), 0);
}

#[tokio::test]
async fn an_upload_in_parts_can_be_given_up() {
    let store = Arc::new(MemoryStore::new());
    let objects = MemoryObjects::new();
    let deps = big_deps(&store, &objects);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let (_, body) = ask(&deps, Some(&token), clip(100 << 20)).await;
    assert_eq!(body["upload"]["part_count"], 13, "{body}");
    let id = body["job_id"].as_str().unwrap().to_owned();
    assert_eq!(objects.uploads_in_progress(), 1);
    let (status, _) = call(&deps, Method::DELETE, &format!("/uploads/{id}"), &token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(objects.uploads_in_progress(), 0);
    assert!(
        store
            .job(&ann.user_id, &id.parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let (status, _) = call(&deps, Method::GET, &format!("/uploads/{id}"), &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A small file is still one PUT.
    let (_, small) = ask(&deps, Some(&token), clip(1000)).await;
    assert_eq!(small["method"], "PUT", "{small}");
    assert!(small.get("upload").is_none());
}

#[tokio::test]
async fn a_callback_url_is_kept_only_if_https_and_public_when_asked() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let with = |url: &str| {
        let mut body = clip(5);
        body["callback_url"] = json!(url);
        body
    };
    let (status, body) = ask(&deps, Some(&token), with("https://public.example/hook?a=1")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let job_id = body["job_id"].as_str().unwrap().parse().unwrap();
    let job = store.job(&ann.user_id, &job_id).await.unwrap().unwrap();
    assert_eq!(
        job.callback_url.as_deref(),
        Some("https://public.example/hook?a=1")
    );
    for (url, words) in [
        ("http://public.example/hook", "https"),
        (
            "https://user:pw@public.example/hook",
            "user name or password",
        ),
        ("https://intranet.example/hook", "10.1.2.3"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[fe80::1]/hook", "link-local"),
        (
            "https://169.254.169.254/latest/meta-data",
            "169.254.169.254",
        ),
        ("https://nowhere.example/hook", "could not be resolved"),
        ("not a url", "not a URL"),
    ] {
        let (status, body) = ask(&deps, Some(&token), with(url)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_eq!(body["error"]["code"], "invalid_callback_url", "{url}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{url}: {message}");
    }
    assert_eq!(
        store.jobs(&ann.user_id, 10, None).await.unwrap().jobs.len(),
        1
    );
}
