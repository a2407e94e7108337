//! `make test-sam`: the arm64 bootstraps that `make build` made, the very files that deploy,
//! run by `sam local` in containers under emulation, against the local stack's AWS (each call
//! judged against the function's role by the IAM gate). Built only with the `sam` feature, since
//! it needs `make sam-setup` (root, Docker); without it, it fails saying so.

mod common;

#[allow(clippy::unwrap_used, clippy::expect_used)]
mod sam {
    use super::common::{self, PASSWORD};
    use futures_util::FutureExt;
    use local_stack::client::ApiClient;
    use local_stack::sam::{Sam, SamStack};
    use local_stack::{Moto, StackOptions, samples};
    use serde_json::{Value, json};
    use std::time::{Duration, Instant};
    use video2mp3_domain::{JobStatus, JobStore};
    use video2mp3_mp3check as mp3check;

    async fn sam() -> Sam {
        Sam::locate(&common::repo_root())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// An HTTP function's answer: (status, body as JSON or text).
    fn http_answer(payload: &Value) -> (u64, Value) {
        let status = payload["statusCode"].as_u64().unwrap_or_else(|| {
            panic!("not an HTTP answer: {payload}");
        });
        let text = payload["body"].as_str().unwrap_or_default();
        let body = serde_json::from_str(text).unwrap_or_else(|_| json!(text));
        (status, body)
    }

    /// The MP3 the bytes say it is: 44.1 kHz stereo, LAME's info frame, and exactly the
    /// source's 6 s once decoded by another decoder.
    fn check_mp3(mp3: &[u8]) {
        let info = mp3check::info_frame(mp3);
        assert_eq!((info.sample_rate, info.channels), (44100, 2), "{info:?}");
        assert!(info.encoder.starts_with("LAME"), "{info:?}");
        let (rate, channels, frames) = mp3check::decode(mp3.to_vec());
        assert_eq!((rate, channels), (44100, 2));
        assert_eq!(
            frames,
            info.frames * info.samples_per_frame - info.delay - info.padding
        );
        assert_eq!(frames, 264_600, "the source's 6.000 s at 44.1 kHz");
    }

    /// The stand-in base image carries Debian's glibc (2.36), newer than Amazon Linux 2023's
    /// (2.34), so it would run a bootstrap that Lambda cannot load: the versions each bootstrap
    /// asks for are read from its bytes instead. Each is an arm64 ELF executable, as the
    /// template's `Architectures` says.
    #[test]
    fn the_bootstraps_are_arm64_and_need_no_newer_glibc_than_amazon_linux_2023() {
        const AL2023_GLIBC: (u32, u32) = (2, 34);
        let build = common::repo_root().join(".aws-sam/build");
        let mut checked = 0;
        for entry in std::fs::read_dir(&build)
            .unwrap_or_else(|e| panic!("{}: {e}; run `make sam-setup`", build.display()))
        {
            let bootstrap = entry.unwrap().path().join("bootstrap");
            if !bootstrap.is_file() {
                continue;
            }
            let bytes = std::fs::read(&bootstrap).unwrap();
            assert_eq!(&bytes[..4], b"\x7fELF", "{}", bootstrap.display());
            let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
            assert_eq!(machine, 183, "{} is not aarch64", bootstrap.display());
            let mut newest = (0, 0);
            let needle = b"GLIBC_2.";
            for at in 0..bytes.len().saturating_sub(needle.len()) {
                if &bytes[at..at + needle.len()] != needle {
                    continue;
                }
                let digits: String = bytes[at + needle.len()..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .map(|&b| b as char)
                    .collect();
                if let Ok(minor) = digits.parse::<u32>() {
                    newest = newest.max((2, minor));
                }
            }
            assert!(
                newest > (2, 0),
                "{}: no glibc version found",
                bootstrap.display()
            );
            assert!(
                newest <= AL2023_GLIBC,
                "{} needs glibc {}.{}; Amazon Linux 2023 has 2.34",
                bootstrap.display(),
                newest.0,
                newest.1
            );
            checked += 1;
        }
        let template = std::fs::read_to_string(common::repo_root().join("template.yaml")).unwrap();
        let functions = template.matches("Type: AWS::Serverless::Function").count();
        assert!(functions >= 8, "the template's functions: {functions}");
        assert_eq!(
            checked,
            functions,
            "one bootstrap per function in {}",
            build.display()
        );
    }

    /// Every file in events/ through `sam local invoke` of its function's bootstrap, each answer
    /// and what it left checked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_sample_event_through_sam_local_invoke() {
        let sam = sam().await;
        let app = common::spawn(&[], false).await;
        let token = samples::seed(&app.stack).await.unwrap();
        let prepared = sam.prepare(&app.stack).await.unwrap();
        let table = video2mp3_aws::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&app.stack.sdk),
            app.stack.table_name().unwrap(),
        );
        let user: video2mp3_domain::UserId = samples::USER_ID.parse().unwrap();
        let job: video2mp3_domain::JobId = samples::JOB_ID.parse().unwrap();
        let logical_id = |binary: &str| {
            app.stack
                .functions
                .iter()
                .find(|f| f.binary == binary)
                .unwrap()
                .logical_id
                .clone()
        };

        let mut timings = Vec::new();
        let mut driven = Vec::new();
        for (path, binary) in samples::event_files(&app.root).unwrap() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let id = logical_id(binary);
            let event = samples::with_token(&text, Some(&token)).unwrap();
            let run = sam.invoke(&prepared, &id, &event).await;
            let run = run.unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let payload = &run.payload;
            let context = format!("{name}: {payload}\n{}", run.logs);
            match binary {
                "login" => {
                    let (status, body) = http_answer(payload);
                    assert_eq!(status, 200, "{context}");
                    assert!(
                        body["token"].as_str().is_some_and(|t| t.len() > 20),
                        "{context}"
                    );
                }
                "account" => {
                    let (status, body) = http_answer(payload);
                    assert_eq!(status, 202, "{context}");
                    assert_eq!(body["status"], "check_your_email", "{context}");
                    let mails = app.emails_to("new.user@example.com", 1).await;
                    assert!(
                        mails.iter().any(|m| m.body.contains("/?verify=")),
                        "{context}\n{mails:?}"
                    );
                }
                "upload-url" => {
                    let (status, body) = http_answer(payload);
                    assert_eq!(status, 201, "{context}");
                    let url = body["upload_url"].as_str().unwrap_or_default();
                    // Presigned by the function for its own gate address, so the PUT is judged
                    // against its role.
                    assert!(
                        url.starts_with(&format!("http://{}:", sam.host_address)),
                        "{context}"
                    );
                    let created: video2mp3_domain::JobId =
                        body["job_id"].as_str().unwrap().parse().unwrap();
                    let item = table.job(&user, &created).await.unwrap();
                    assert_eq!(
                        item.map(|j| j.status),
                        Some(JobStatus::AwaitingUpload),
                        "{context}"
                    );
                    // The file's own placeholder token is refused.
                    let raw = samples::with_token(&text, None).unwrap();
                    let refused = sam.invoke(&prepared, &id, &raw).await.unwrap();
                    assert_eq!(http_answer(&refused.payload).0, 401, "{name} unauthorised");
                    timings.push((format!("{name} (no token)"), refused.elapsed));
                }
                "jobs" => {
                    let (status, body) = http_answer(payload);
                    assert_eq!(status, 200, "{context}");
                    if name.contains("get") {
                        assert_eq!(body["job_id"], samples::JOB_ID, "{context}");
                        assert_eq!(body["status"], "done", "{context}");
                        assert!(body["download_url"].is_string(), "{context}");
                    } else {
                        let ids: Vec<&str> = body["jobs"]
                            .as_array()
                            .unwrap_or_else(|| panic!("{context}"))
                            .iter()
                            .filter_map(|j| j["job_id"].as_str())
                            .collect();
                        assert!(ids.contains(&samples::JOB_ID), "{context}");
                    }
                }
                "convert" => {
                    assert_eq!(payload["batchItemFailures"], json!([]), "{context}");
                    if !name.contains("test-event") {
                        let done = table.job(&user, &job).await.unwrap().unwrap();
                        assert_eq!(done.status, JobStatus::Done, "{context}\n{done:?}");
                        let key = done.output_key.unwrap();
                        let bucket = common::physical(&app, "Mp3Bucket");
                        let mp3 = video2mp3_aws::s3_client(&app.stack.sdk)
                            .get_object()
                            .bucket(bucket)
                            .key(key)
                            .send()
                            .await
                            .unwrap()
                            .body
                            .collect()
                            .await
                            .unwrap()
                            .into_bytes();
                        check_mp3(&mp3);
                    }
                }
                "notify" => {
                    assert!(payload.get("errorType").is_none(), "{context}");
                    let mails = app.emails_to(samples::EMAIL, 1).await;
                    assert!(
                        mails
                            .iter()
                            .any(|m| m.subject == "Your MP3 is ready: my holiday clip café.mp3"),
                        "{context}\n{mails:?}"
                    );
                }
                "webhook" => {
                    // The sample job asked for no callback: consumed, nothing sent.
                    assert_eq!(payload["batchItemFailures"], json!([]), "{context}");
                }
                "web" => {
                    let (status, body) = http_answer(payload);
                    assert_eq!(status, 200, "{context}");
                    assert!(
                        body.as_str().is_some_and(|b| b.contains("<html")),
                        "{context}"
                    );
                }
                other => panic!("{name}: no check for {other}"),
            }
            timings.push((name, run.elapsed));
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
        // Every call the bootstraps made went through the gate, and none was refused.
        assert!(
            app.stack.gate.calls().len() > 5,
            "{:?}",
            app.stack.gate.calls()
        );
        assert_eq!(app.stack.gate.denials(), vec![]);
        prepared.remove();
        for (name, elapsed) in timings {
            eprintln!("sam local invoke {name}: {:.1} s", elapsed.as_secs_f64());
        }
    }

    /// Runs `body` on a stack whose functions all run under `sam local` (start-api,
    /// start-lambda), with these parameters, then stops it and its containers whatever `body` did.
    async fn on_sam_stack(parameters: &[(&str, &str)], body: impl AsyncFnOnce(&SamStack)) {
        let sam = sam().await;
        let root = common::repo_root();
        let moto = Moto::start(&root, None).await.unwrap();
        let mut options = StackOptions::new(&root, &moto.url);
        options.retry_delay = Duration::from_secs(1);
        options.parameters = parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let stack = SamStack::start(&sam, options)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let outcome = std::panic::AssertUnwindSafe(body(&stack))
            .catch_unwind()
            .await;
        stack.stop().await;
        moto.stop().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    /// The page (served by the web bootstrap through start-api) in Chromium: log in, upload to
    /// the presigned URL, the conversion on start-lambda, download, and its error messages.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_page_works_on_the_built_bootstraps() {
        const LIMIT: &str = "100000";
        on_sam_stack(&[("MaxUploadBytes", LIMIT)], async |stack| {
            let root = common::repo_root();
            stack
                .stack
                .add_user("page@example.com", PASSWORD)
                .await
                .unwrap();
            common::drive_page(&root, &stack.stack.api_url, "page@example.com", LIMIT)
                .await
                .check();
        })
        .await;
    }

    /// The demo path on the bootstraps: log in through start-api, upload with the presigned URL,
    /// S3 event -> SQS -> convert (start-lambda) -> SNS -> notify (start-lambda) -> e-mail.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_video_becomes_an_mp3_and_an_email_on_the_built_bootstraps() {
        on_sam_stack(&[], async |stack| {
            let started = Instant::now();
            let root = common::repo_root();
            stack
                .stack
                .add_user("sam@example.com", PASSWORD)
                .await
                .unwrap();
            let mut client = ApiClient::new(&stack.stack.api_url);
            client.login("sam@example.com", PASSWORD).await.unwrap();
            let sample = std::fs::read(root.join("fixtures/sample.mp4")).unwrap();
            let ticket = client
                .create_upload(&json!({
                    "filename": "sam clip.mp4",
                    "content_type": "video/mp4",
                    "size": sample.len(),
                }))
                .await
                .unwrap();
            client.upload(&ticket, sample).await.unwrap();
            let job = client
                .wait_for_job(&ticket.job_id, Duration::from_secs(600))
                .await
                .unwrap();
            assert_eq!(job["status"], "done", "{job}");
            let (mp3, _) = client
                .download(job["download_url"].as_str().unwrap())
                .await
                .unwrap();
            check_mp3(&mp3);
            let deadline = Instant::now() + Duration::from_secs(300);
            loop {
                let mails = local_stack::sent_emails(&stack.stack.moto_url)
                    .await
                    .unwrap();
                if let Some(mail) = mails
                    .iter()
                    .find(|m| m.to.iter().any(|t| t == "sam@example.com"))
                {
                    assert_eq!(mail.subject, "Your MP3 is ready: sam clip.mp3");
                    break;
                }
                assert!(Instant::now() < deadline, "no e-mail within 300 s");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            assert_eq!(stack.stack.gate.denials(), vec![]);
            eprintln!(
                "the demo path on the bootstraps: {:.1} s",
                started.elapsed().as_secs_f64()
            );
        })
        .await;
    }
}
