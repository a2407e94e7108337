//! The upload URL that `POST /uploads` returns binds what it promises: the declared length, the
//! declared type, its own signature and its expiry. moto accepts any presigned URL, so these
//! run against LocalStack's S3, which checks signatures as AWS does (`make localstack` installs
//! it; the test fails and says so when it is missing). The handler is upload-url's own, with
//! its S3 client pointed at LocalStack; the rest of the stack stays on moto.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, physical, spawn};
use local_stack::client::UploadTicket;
use local_stack::localstack::{ACCESS_KEY, LocalStackS3, SECRET_KEY};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use video2mp3_aws::S3Objects;

/// An AWS configuration for LocalStack, with the credentials it accepts.
async fn localstack_sdk(s3: &LocalStackS3) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&s3.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "test",
        ))
        .load()
        .await
}

/// The upload-url handler as the stack built it, but presigning for LocalStack's S3.
async fn upload_url_for(app: &App, s3: &LocalStackS3, ttl: Duration) -> upload_url::Deps {
    let local_stack::functions::Handler::UploadUrl(deps) = &app
        .stack
        .functions
        .iter()
        .find(|f| f.binary == "upload-url")
        .unwrap()
        .handler
    else {
        unreachable!()
    };
    let sdk = localstack_sdk(s3).await;
    let mut deps = deps.clone();
    deps.objects = Arc::new(S3Objects::new(video2mp3_aws::s3_client(&sdk)));
    deps.config.url_ttl = ttl;
    deps
}

/// `POST /uploads` through the handler, as API Gateway would call it.
async fn ticket(deps: &upload_url::Deps, token: &str, size: usize) -> UploadTicket {
    let body = json!({"filename": "clip.mp4", "content_type": "video/mp4", "size": size});
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/uploads")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(body.to_string()))
        .unwrap();
    let response = upload_url::handle(request, deps).await;
    assert_eq!(response.status(), 201, "{:?}", response.body());
    let answer: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    UploadTicket {
        job_id: answer["job_id"].as_str().unwrap().to_owned(),
        url: answer["upload_url"].as_str().unwrap().to_owned(),
        method: answer["method"].as_str().unwrap().to_owned(),
        headers: answer["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect(),
        parts: None,
    }
}

/// PUTs `body` to `url` with the ticket's headers, `content_type` instead of the declared one;
/// returns the status and S3's error code.
async fn put(url: &str, ticket: &UploadTicket, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let mut request = reqwest::Client::new().put(url);
    for (name, value) in &ticket.headers {
        match name.as_str() {
            // The real length of what is sent; reqwest sets it from the body.
            "content-length" => {}
            "content-type" => request = request.header(name, content_type),
            _ => request = request.header(name, value),
        }
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let code = text
        .split("<Code>")
        .nth(1)
        .and_then(|c| c.split("</Code>").next())
        .unwrap_or_default()
        .to_owned();
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_url_refuses_another_length_type_signature_or_a_late_upload() {
    let root = common::repo_root();
    let s3 = LocalStackS3::start(&root)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    // Six upload URLs for one user, none used: above the default per-user limit.
    let app = spawn(&[("MaxActiveJobsPerUser", "10")], false).await;
    let token = app.user("pat@example.com").await.token.unwrap();
    let bucket = physical(&app, "UploadsBucket");
    let sdk = localstack_sdk(&s3).await;
    video2mp3_aws::s3_client(&sdk)
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let deps = upload_url_for(&app, &s3, Duration::from_secs(900)).await;
    let video = app.fixture("sample.mp4");
    let n = video.len();

    // The control: exactly what was declared is accepted, so a 403 below means the check.
    let t = ticket(&deps, &token, n).await;
    assert_eq!(put(&t.url, &t, "video/mp4", video.clone()).await.0, 200);

    let mut refused = Vec::new();
    let t = ticket(&deps, &token, n).await;
    let mut longer = video.clone();
    longer.push(0);
    refused.push(("a longer body", put(&t.url, &t, "video/mp4", longer).await));
    let t = ticket(&deps, &token, n).await;
    let shorter = video[..n - 1].to_vec();
    refused.push((
        "a shorter body",
        put(&t.url, &t, "video/mp4", shorter).await,
    ));
    let t = ticket(&deps, &token, n).await;
    refused.push((
        "another content type",
        put(&t.url, &t, "video/webm", video.clone()).await,
    ));
    let t = ticket(&deps, &token, n).await;
    let (head, signature) = t.url.split_once("X-Amz-Signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let altered = format!("{head}X-Amz-Signature={flipped}{}", &signature[1..]);
    refused.push((
        "an altered signature",
        put(&altered, &t, "video/mp4", video.clone()).await,
    ));
    let late = upload_url_for(&app, &s3, Duration::from_secs(1)).await;
    let t = ticket(&late, &token, n).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    refused.push((
        "after expiry",
        put(&t.url, &t, "video/mp4", video.clone()).await,
    ));

    for (case, (status, code)) in &refused {
        eprintln!("{case}: {status} {code}");
        assert_eq!(*status, 403, "{case}: {code}");
    }
    assert_eq!(refused[4].1.1, "AccessDenied", "expiry is AccessDenied");
    for (case, (_, code)) in &refused[..4] {
        assert_eq!(code, "SignatureDoesNotMatch", "{case}");
    }
}

/// A request to upload-url's handler, as API Gateway would make it; the answer's status and JSON.
async fn call(
    deps: &upload_url::Deps,
    method: &str,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let request = lambda_http::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(body.to_string()))
        .unwrap();
    let response = upload_url::handle(request, deps).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_part_url_takes_exactly_its_parts_length_and_the_parts_complete_whole() {
    let root = common::repo_root();
    let s3 = LocalStackS3::start(&root)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn(&[], false).await;
    let token = app.user("pat@example.com").await.token.unwrap();
    let bucket = physical(&app, "UploadsBucket");
    let sdk = localstack_sdk(&s3).await;
    let s3_client = video2mp3_aws::s3_client(&sdk);
    s3_client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let deps = upload_url_for(&app, &s3, Duration::from_secs(900)).await;

    let part = 8usize << 20;
    let size = 2 * part + 1000;
    let bytes: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let body = json!({"filename": "big.wav", "content_type": "audio/wav", "size": size});
    let (status, answer) = call(&deps, "POST", "/uploads", &token, body).await;
    assert_eq!(status, 201, "{answer}");
    let urls: Vec<String> = answer["upload"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), 3);
    let put = |url: String, body: Vec<u8>| async move {
        let response = reqwest::Client::new()
            .put(url)
            .body(body)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    };
    let last = bytes[2 * part..].to_vec();
    let mut longer = last.clone();
    longer.push(0);
    assert_eq!(put(urls[2].clone(), longer).await, 403, "a longer part");
    assert_eq!(
        put(urls[2].clone(), last[..999].to_vec()).await,
        403,
        "a shorter part"
    );
    assert_eq!(put(urls[2].clone(), last).await, 200, "exactly its length");
    assert_eq!(put(urls[0].clone(), bytes[..part].to_vec()).await, 200);
    assert_eq!(
        put(urls[1].clone(), bytes[part..2 * part].to_vec()).await,
        200
    );

    let id = answer["job_id"].as_str().unwrap();
    let (status, done) = call(
        &deps,
        "POST",
        &format!("/uploads/{id}/complete"),
        &token,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let stored = s3_client
        .get_object()
        .bucket(&bucket)
        .key(format!("uploads/{}/{id}/big.wav", client_user(&app).await))
        .send()
        .await
        .unwrap();
    let stored = stored.body.collect().await.unwrap().into_bytes();
    assert!(
        stored.as_ref() == bytes.as_slice(),
        "the parts joined in order"
    );
}

/// The id of the one user of `app`.
async fn client_user(app: &App) -> String {
    let table = physical(app, "Table");
    let items = aws_sdk_dynamodb::Client::new(&app.stack.sdk)
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap();
    items
        .items()
        .iter()
        .find_map(|i| {
            let sk = i.get("sk")?.as_s().ok()?;
            (sk == "PROFILE").then(|| i.get("user_id")?.as_s().ok().cloned())?
        })
        .unwrap()
}
