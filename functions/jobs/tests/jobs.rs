//! `GET /jobs`, `GET /jobs/{id}` and `DELETE /jobs/{id}` on the in-memory ports: each user sees only their own jobs,
//! newest first in pages, a finished one with its download link and a failed one with its
//! reason and code (end to end on moto in `tools/local-stack/tests/pipeline.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use video2mp3_api::testing::{keys, read, request, signed_up};
use video2mp3_domain::memory::{MemoryObjects, MemoryStore};
use video2mp3_domain::{
    EncodeSettings, FailureReason, Job, JobId, JobStats, JobStatus, JobStore, Lease, Transition,
    UserId, ValidUpload,
};

fn deps(store: &Arc<MemoryStore>) -> jobs::Deps {
    deps_with(store, MemoryObjects::new())
}

fn deps_with(store: &Arc<MemoryStore>, objects: MemoryObjects) -> jobs::Deps {
    jobs::Deps {
        jobs: store.clone(),
        users: store.clone(),
        objects: Arc::new(objects),
        keys: keys(),
        config: jobs::Config {
            mp3_bucket: "mp3".into(),
            uploads_bucket: "uploads".into(),
            download_ttl: Duration::from_secs(3600),
        },
    }
}

async fn get(deps: &jobs::Deps, path: &str, token: &str) -> (StatusCode, Value) {
    read(jobs::handle(request(Method::GET, path, Some(token), None), deps).await)
}

async fn job_of(store: &MemoryStore, user: &UserId, name: &str) -> Job {
    let upload = ValidUpload {
        filename: name.into(),
        content_type: "video/mp4".into(),
        size: 10,
        settings: EncodeSettings::default(),
        options: Default::default(),
    };
    let job = Job::awaiting_upload(
        user.clone(),
        JobId::generate(),
        &upload,
        OffsetDateTime::now_utc(),
    );
    store.create_job(&job).await.unwrap();
    // Ids made in the same millisecond do not sort by age.
    tokio::time::sleep(Duration::from_millis(2)).await;
    job
}

#[tokio::test]
async fn users_see_only_their_own_jobs() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, ann_token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let (_, bob_token) = signed_up(store.as_ref(), &deps.keys, "bob@example.com", "pw").await;
    let job = job_of(&store, &ann.user_id, "a.mp4").await;
    let path = format!("/jobs/{}", job.job_id);
    let (status, body) = get(&deps, &path, &ann_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "awaiting_upload");
    assert_eq!(body["progress"], 0);
    let (status, _) = get(&deps, &path, &bob_token).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another user's job is not found"
    );
    assert_eq!(
        get(&deps, "/jobs/not-an-id", &ann_token).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = get(&deps, "/jobs", &bob_token).await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn lists_are_newest_first_in_pages() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let mut names = Vec::new();
    for i in 0..5 {
        names.push(
            job_of(&store, &ann.user_id, &format!("{i}.mp4"))
                .await
                .filename,
        );
    }
    let mut seen = Vec::new();
    let mut path = "/jobs?limit=2".to_owned();
    loop {
        let (status, page) = get(&deps, &path, &token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["filename"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/jobs?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    names.reverse();
    assert_eq!(seen, names);
    assert_eq!(
        get(&deps, "/jobs?limit=0", &token).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&deps, "/jobs?cursor=zzz", &token).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_done_job_has_its_link_and_a_failed_one_its_reason_and_code() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let done = job_of(&store, &ann.user_id, "song.mov").await;
    let lease = Lease {
        owner: "converter".into(),
        expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(5),
    };
    for t in [
        Transition::to(JobStatus::Queued),
        Transition::to(JobStatus::Converting).held(&lease),
        Transition::done("mp3/k/song.mp3".into(), JobStats::default()).held(&lease),
    ] {
        store
            .transition(&ann.user_id, &done.job_id, t)
            .await
            .unwrap();
    }
    let (_, body) = get(&deps, &format!("/jobs/{}", done.job_id), &token).await;
    assert_eq!(body["status"], "done");
    assert_eq!(body["progress"], 100);
    assert_eq!(body["download_url"], "memory://mp3/mp3/k/song.mp3");
    assert_eq!(body["error_code"], Value::Null);

    let failed = job_of(&store, &ann.user_id, "notes.mp4").await;
    store
        .transition(
            &ann.user_id,
            &failed.job_id,
            Transition::failed(
                FailureReason::UnrecognisedFormat,
                "not a format we can read",
            ),
        )
        .await
        .unwrap();
    let (_, body) = get(&deps, &format!("/jobs/{}", failed.job_id), &token).await;
    assert_eq!(body["status"], "failed");
    assert_eq!(body["error"], "not a format we can read");
    assert_eq!(body["error_code"], "unrecognised_format");
    assert!(body.get("download_url").is_none() && body.get("progress").is_none());
}

#[tokio::test]
async fn a_job_is_deleted_with_its_objects_by_its_owner_only() {
    let store = Arc::new(MemoryStore::new());
    let objects = MemoryObjects::new();
    let deps = deps_with(&store, objects.clone());
    let (ann, ann_token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let (_, bob_token) = signed_up(store.as_ref(), &deps.keys, "bob@example.com", "pw").await;
    let done = job_of(&store, &ann.user_id, "a.mp4").await;
    let mp3 = format!("mp3/{}/{}/a.mp3", ann.user_id, done.job_id);
    objects.put("uploads", &done.source_key, vec![1; 10]);
    objects.put("mp3", &mp3, vec![2; 10]);
    let queued = store
        .transition(
            &ann.user_id,
            &done.job_id,
            Transition::to(JobStatus::Queued),
        )
        .await
        .unwrap();
    assert_eq!(queued.status, JobStatus::Queued);
    let delete = |token: &str, id: JobId| {
        let req = request(Method::DELETE, &format!("/jobs/{id}"), Some(token), None);
        let deps = deps.clone();
        async move { read(jobs::handle(req, &deps).await) }
    };
    let (status, _) = delete(&bob_token, done.job_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another user's job");
    assert_eq!(objects.keys("mp3"), vec![mp3.clone()], "left alone");

    // While it converts it stays.
    let held = Lease {
        owner: "converter".into(),
        expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(5),
    };
    store
        .transition(
            &ann.user_id,
            &done.job_id,
            Transition::to(JobStatus::Converting).held(&held),
        )
        .await
        .unwrap();
    let (status, body) = delete(&ann_token, done.job_id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "job_converting");
    store
        .transition(
            &ann.user_id,
            &done.job_id,
            Transition::done(mp3.clone(), JobStats::default()),
        )
        .await
        .unwrap();

    let (status, body) = delete(&ann_token, done.job_id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(objects.keys("uploads"), Vec::<String>::new());
    assert_eq!(objects.keys("mp3"), Vec::<String>::new());
    assert_eq!(store.job(&ann.user_id, &done.job_id).await.unwrap(), None);
    let (status, _) = delete(&ann_token, done.job_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone");
}

#[tokio::test]
async fn a_jobs_callback_url_and_its_tries_are_shown_to_its_owner() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let mut job = Job {
        callback_url: Some("https://hooks.example.com/in".into()),
        ..job_of(&store, &ann.user_id, "x.mp4").await
    };
    job.job_id = JobId::generate();
    store.create_job(&job).await.unwrap();
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let tried = video2mp3_domain::WebhookAttempt {
        at,
        status: Some(503),
        error: Some("the receiver answered HTTP 503".into()),
        delivered: false,
    };
    assert!(
        store
            .record_webhook_attempt(&ann.user_id, &job.job_id, &tried)
            .await
            .unwrap()
    );
    let (_, body) = get(&deps, &format!("/jobs/{}", job.job_id), &token).await;
    assert_eq!(body["callback_url"], "https://hooks.example.com/in");
    assert_eq!(
        body["webhook_attempts"],
        serde_json::json!([{
            "at": "2027-01-15T08:00:00Z",
            "status": 503,
            "error": "the receiver answered HTTP 503",
            "delivered": false
        }])
    );
}

#[tokio::test]
async fn a_converting_job_lists_the_tracks_once_probed() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, token) = signed_up(store.as_ref(), &deps.keys, "ann@example.com", "pw").await;
    let job = job_of(&store, &ann.user_id, "film.mkv").await;
    let lease = Lease {
        owner: "converter".into(),
        expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(5),
    };
    for t in [
        Transition::to(JobStatus::Queued),
        Transition::to(JobStatus::Converting).held(&lease),
    ] {
        store
            .transition(&ann.user_id, &job.job_id, t)
            .await
            .unwrap();
    }
    let path = format!("/jobs/{}", job.job_id);
    let (_, body) = get(&deps, &path, &token).await;
    assert!(body.get("tracks").is_none(), "not probed yet: {body}");
    let tracks = [
        video2mp3_domain::SourceTrack {
            index: 0,
            codec: "AC-3 (Dolby Digital)".into(),
            channels: Some(6),
            sample_rate: Some(48000),
            language: Some("eng".into()),
            converted: false,
        },
        video2mp3_domain::SourceTrack {
            index: 1,
            codec: "AAC".into(),
            channels: Some(2),
            sample_rate: Some(48000),
            language: Some("fra".into()),
            converted: true,
        },
    ];
    assert!(
        store
            .set_tracks(&ann.user_id, &job.job_id, &lease, &tracks)
            .await
            .unwrap()
    );
    let (_, body) = get(&deps, &path, &token).await;
    assert_eq!(body["status"], "converting");
    assert_eq!(body["tracks"][0]["codec"], "AC-3 (Dolby Digital)");
    assert_eq!(body["tracks"][0]["channels"], 6);
    assert_eq!(body["tracks"][1]["language"], "fra");
    assert_eq!(body["tracks"][1]["converted"], true);
    assert_eq!(body["tracks"].as_array().map(Vec::len), Some(2));
}
