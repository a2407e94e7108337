//! The logs: JSON lines that carry the job and the user, and never a password, a token or the
//! signing key. The whole stack runs in this process, so one subscriber sees every function's
//! lines (at `info`, the level the template sets).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, spawn_app, upload};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_json_with_job_and_user_and_hold_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_env_filter("info")
        .with_writer(move || writer.clone())
        .init();

    let app = spawn_app().await;
    let email = "logs@example.com";
    let client = app.user(email).await;
    let token = client.token.clone().unwrap();
    // A failed login too: its password must not appear either.
    let wrong = "a wrong password that must not be logged";
    let refused = app
        .client()
        .post(
            "/login",
            &serde_json::json!({"email": email, "password": wrong}),
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
    let ticket = upload(
        &client,
        "logged.mp4",
        "video/mp4",
        app.fixture("sample.mp4"),
    )
    .await;
    let job = client
        .wait_for_job(&ticket.job_id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(job["status"], "done");
    app.emails_to(email, 1).await;
    let env = video2mp3_aws::Env::from_map(app.stack.environments["login"].clone());
    let secret = {
        let sm = aws_sdk_secretsmanager::Client::new(&app.stack.sdk);
        sm.get_secret_value()
            .secret_id(env.required("JWT_SECRET_ARN").unwrap())
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap()
            .to_owned()
    };

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 10, "{} log lines", lines.len());
    for (what, value) in [
        ("the password", PASSWORD),
        ("the wrong password", wrong),
        ("the token", token.as_str()),
        ("the signing key", secret.as_str()),
    ] {
        assert!(!text.contains(value), "{what} appears in the logs");
    }
    let mut converted = 0;
    let mut issued = 0;
    for line in &lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if value["fields"]["message"] == "upload URL issued" {
            issued += 1;
            let spans = value["spans"].to_string();
            assert!(
                spans.contains("request_id")
                    && spans.contains(&ticket.job_id)
                    && spans.contains("user_id"),
                "the upload-url line lacks the request, job or user: {line}"
            );
        }
        if value["fields"]["message"] == "converted" {
            converted += 1;
            let spans = value["spans"].to_string();
            assert!(
                spans.contains(&ticket.job_id) && spans.contains("user_id"),
                "the converter's line lacks the job or user: {line}"
            );
        }
    }
    assert_eq!(converted, 1, "one 'converted' line");
    assert_eq!(issued, 1, "one 'upload URL issued' line");
    eprintln!("{} JSON log lines checked", lines.len());
}
