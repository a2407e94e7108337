//! 200 uploads from 10 users at once on the local stack: every job done, 200 MP3s, 200 emails,
//! none lost, none twice. Prints the throughput (a figure of this machine, not a pass mark).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{physical, spawn_with_concurrency, upload};
use local_stack::sent_emails;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const USERS: usize = 10;
const PER_USER: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_uploads_from_ten_users_all_convert_once() {
    // Four conversions at once, as an event source mapping would run several invocations.
    // Twenty uploads per user at once: the per-user limit is raised out of the way.
    let app = spawn_with_concurrency(&[("MaxActiveJobsPerUser", "50")], true, 4).await;
    let mut clients = Vec::new();
    for u in 0..USERS {
        clients.push(app.user(&format!("load{u}@example.com")).await);
    }
    let sample = app.fixture("sample.mp4");
    let started = Instant::now();
    let mut uploads = Vec::new();
    for (u, client) in clients.iter().enumerate() {
        for n in 0..PER_USER {
            let (client, bytes) = (client.clone(), sample.clone());
            uploads.push(tokio::spawn(async move {
                let name = format!("user{u} clip {n}.mp4");
                let ticket = upload(&client, &name, "video/mp4", bytes).await;
                (u, ticket.job_id)
            }));
        }
    }
    let mut jobs: Vec<(usize, String)> = Vec::new();
    for upload in uploads {
        jobs.push(upload.await.unwrap());
    }
    let uploaded = started.elapsed();
    let mut failed = Vec::new();
    for (u, job) in &jobs {
        let answer = clients[*u]
            .wait_for_job(job, Duration::from_secs(600))
            .await
            .unwrap();
        if answer["status"] != "done" {
            failed.push(format!("{job}: {answer}"));
        }
    }
    let converted = started.elapsed();
    assert!(failed.is_empty(), "{failed:#?}");

    // 200 MP3 objects, one per job.
    let s3 = aws_sdk_s3::Client::new(&app.stack.sdk);
    let mut keys = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(physical(&app, "Mp3Bucket"))
        .prefix("mp3/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        keys.extend(
            page.unwrap()
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    let mp3_jobs: BTreeSet<&str> = keys.iter().filter_map(|k| k.split('/').nth(2)).collect();
    assert_eq!(keys.len(), USERS * PER_USER, "MP3 objects");
    assert_eq!(mp3_jobs.len(), USERS * PER_USER, "one MP3 per job");

    // 200 emails, one per job, each to the job's owner.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mails = loop {
        let mails = sent_emails(&app.stack.moto_url).await.unwrap();
        if mails.len() >= USERS * PER_USER || Instant::now() > deadline {
            break mails;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let emailed = started.elapsed();
    // Let any duplicate arrive before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = sent_emails(&app.stack.moto_url).await.unwrap_or(mails);
    let mut per_job: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for mail in &mails {
        let job = mail
            .body
            .lines()
            .find_map(|l| l.strip_prefix("Job "))
            .unwrap_or("?")
            .to_owned();
        per_job.entry(job).or_default().push(mail.to.join(","));
    }
    let twice: Vec<_> = per_job.iter().filter(|(_, to)| to.len() > 1).collect();
    assert!(twice.is_empty(), "emailed more than once: {twice:?}");
    for (u, job) in &jobs {
        let to = per_job.get(job).map(|t| t.join(";")).unwrap_or_default();
        assert_eq!(
            to,
            format!("load{u}@example.com"),
            "the email for job {job}"
        );
    }
    assert_eq!(mails.len(), USERS * PER_USER, "emails");
    eprintln!(
        "load: {} uploads from {USERS} users in {:.1} s; all converted after {:.1} s \
         ({:.1} jobs/s, 4 at once, debug build); all emailed after {:.1} s; \
         {} MP3s, {} emails, 0 lost, 0 twice",
        jobs.len(),
        uploaded.as_secs_f64(),
        converted.as_secs_f64(),
        jobs.len() as f64 / converted.as_secs_f64(),
        emailed.as_secs_f64(),
        keys.len(),
        mails.len()
    );
}
