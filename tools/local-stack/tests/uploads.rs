//! Uploads in parts through the HTTP API on the local stack: a file larger than one part gets
//! presigned part URLs; after a lost connection `GET /uploads/{job_id}` says which parts S3
//! holds and gives fresh URLs for the rest; completing checks every part and the total; the
//! completed upload raises the same S3 event as a single PUT, and the MP3 is exact in length.
//! A wrong-sized part is refused at completion, and an upload can be aborted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::spawn_app;
use local_stack::samples::tone_wav;
use serde_json::{Value, json};
use std::time::Duration;

fn numbers(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_in_parts_resumes_after_a_lost_connection_and_converts() {
    let app = spawn_app().await;
    let client = app.user("parts@example.com").await;
    // 100 s of 44.1 kHz stereo: 17.6 MB, three parts of 8 MiB.
    let wav = tone_wav(100, 44100, 2);
    let ticket = client
        .create_upload(
            &json!({"filename": "long.wav", "content_type": "audio/wav", "size": wav.len()}),
        )
        .await
        .unwrap();
    let upload = ticket.parts.clone().expect("a multipart answer");
    let part_size = upload["part_size"].as_u64().unwrap() as usize;
    assert_eq!(part_size, 8 << 20);
    assert_eq!(upload["part_count"], 3);
    assert_eq!(numbers(&upload["parts"]), vec![1, 2, 3]);

    // Parts 1 and 3 arrive; then the connection is lost.
    for n in [1, 3] {
        let url = upload["parts"][n - 1]["url"].as_str().unwrap();
        client.put_part(url, &wav, part_size, n).await.unwrap();
    }
    let path = format!("/uploads/{}", ticket.job_id);
    let a = client.get(&path).await.unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(numbers(&a.body["upload"]["uploaded"]), vec![1, 3]);
    assert_eq!(
        numbers(&a.body["upload"]["parts"]),
        vec![2],
        "a fresh URL for the rest"
    );
    let complete = format!("/uploads/{}/complete", ticket.job_id);
    let early = client.post(&complete, &Value::Null).await.unwrap();
    assert_eq!(early.status, 400, "{}", early.body);
    assert_eq!(early.body["error"]["code"], "upload_incomplete");

    // Resume: the missing part, then complete (twice: a lost answer asked again).
    let url = a.body["upload"]["parts"][0]["url"].as_str().unwrap();
    client.put_part(url, &wav, part_size, 2).await.unwrap();
    let done = client.post(&complete, &Value::Null).await.unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    let again = client.post(&complete, &Value::Null).await.unwrap();
    assert_eq!(again.status, 200, "{}", again.body);

    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        job["stats"]["source_bytes"].as_u64().unwrap(),
        wav.len() as u64
    );
    let (mp3, _) = client
        .download(job["download_url"].as_str().unwrap())
        .await
        .unwrap();
    let (rate, channels, frames) = video2mp3_mp3check::decode(mp3);
    assert_eq!((rate, channels, frames), (44100, 2, 100 * 44100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_part_is_refused_at_completion_and_an_upload_can_be_aborted() {
    let app = spawn_app().await;
    let client = app.user("parts@example.com").await;
    let wav = tone_wav(50, 44100, 2);
    let body = json!({"filename": "a.wav", "content_type": "audio/wav", "size": wav.len()});
    let ticket = client.create_upload(&body).await.unwrap();
    let upload = ticket.parts.clone().unwrap();
    let part_size = upload["part_size"].as_u64().unwrap() as usize;
    // moto takes any length at a presigned URL (LocalStack, which checks the signature, refuses
    // it: presigned.rs); completion checks the lengths itself.
    let short = &wav[..wav.len() - 1];
    for part in upload["parts"].as_array().unwrap() {
        let n = part["number"].as_u64().unwrap() as usize;
        client
            .put_part(part["url"].as_str().unwrap(), short, part_size, n)
            .await
            .unwrap();
    }
    let refused = client
        .post(
            &format!("/uploads/{}/complete", ticket.job_id),
            &Value::Null,
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "size_mismatch");

    let path = format!("/uploads/{}", ticket.job_id);
    let aborted = client.delete(&path, None).await.unwrap();
    assert_eq!(aborted.status, 204, "{}", aborted.body);
    assert_eq!(client.get(&path).await.unwrap().status, 404);
    assert_eq!(
        client
            .get(&format!("/jobs/{}", ticket.job_id))
            .await
            .unwrap()
            .status,
        404
    );
    let s3 = video2mp3_aws::s3_client(&app.stack.sdk);
    let bucket = common::physical(&app, "UploadsBucket");
    let open = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(open.uploads().is_empty(), "{:?}", open.uploads());

    // An upload the bucket's lifecycle aborted (a day unfinished): gone, said so.
    let expired = client.create_upload(&body).await.unwrap();
    let open = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let upload = open.uploads().first().unwrap();
    s3.abort_multipart_upload()
        .bucket(&bucket)
        .key(upload.key().unwrap())
        .upload_id(upload.upload_id().unwrap())
        .send()
        .await
        .unwrap();
    let path = format!("/uploads/{}", expired.job_id);
    let status = client.get(&path).await.unwrap();
    assert_eq!(status.status, 410, "{}", status.body);
    assert_eq!(status.body["error"]["code"], "upload_gone");
    let complete = client
        .post(&format!("{path}/complete"), &Value::Null)
        .await
        .unwrap();
    assert_eq!(complete.status, 410, "{}", complete.body);
}
