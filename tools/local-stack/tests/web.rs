//! The web page in a real browser: Debian's Chromium driven by playwright-core
//! (tools/local-stack/web-test/page.test.mjs) against this stack. The MP3 the page downloads is then
//! checked here with a decoder of our own. A second script (accounts.test.mjs) signs up, follows
//! the e-mailed links, deletes a job and the account. `make test` installs Chromium and playwright-core
//! (`make web-deps`); set VIDEO2MP3_SCREENSHOTS=dir to keep screenshots of each state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, drive_page, repo_root, spawn_app_with};

const LIMIT: &str = "100000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_logs_in_converts_downloads_and_explains_errors() {
    let root = repo_root();
    let app = spawn_app_with(&[("MaxUploadBytes", LIMIT)]).await;
    let email = "page@example.com";
    app.stack.add_user(email, PASSWORD).await.unwrap();
    let mp3 = drive_page(&root, &app.stack.api_url, email, LIMIT).await;
    let (rate, channels, frames) = video2mp3_mp3check::decode(mp3);
    assert_eq!((rate, channels, frames), (44100, 2, 6 * 44100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_signs_up_deletes_a_job_resets_the_password_and_leaves() {
    let root = repo_root();
    let app = spawn_app_with(&[]).await;
    let script = root.join("tools/local-stack/web-test/accounts.test.mjs");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        root.join("tools/local-stack/web-test/node_modules/playwright-core")
            .exists(),
        "the browser test needs playwright-core and Chromium: run `make web-deps`"
    );
    let shots = std::env::var("VIDEO2MP3_SCREENSHOTS").unwrap_or_default();
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .env("APP_URL", &app.stack.api_url)
        .env("MOTO_URL", &app.stack.moto_url)
        .env("EMAIL", "browser.user@example.com")
        .env("VIDEO", root.join("fixtures/sample.mp4"))
        .env("SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .await
        .expect("running node (install Node.js 20 or later)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(result["checks"].as_u64().unwrap() >= 11, "{result}");
    // Nothing of the user is left.
    assert!(
        app.stack
            .add_user("browser.user@example.com", PASSWORD)
            .await
            .is_ok(),
        "the address is free again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_resumes_a_large_upload_after_the_network_is_cut_and_a_reload() {
    let root = repo_root();
    let app = spawn_app_with(&[]).await;
    let email = "big@example.com";
    app.stack.add_user(email, PASSWORD).await.unwrap();
    // 20 minutes of 44.1 kHz stereo: 212 MB, 26 parts of 8 MiB.
    let seconds = 20 * 60;
    let dir = std::env::temp_dir().join(format!("video2mp3-parts-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.wav");
    std::fs::write(&big, local_stack::samples::tone_wav(seconds, 44100, 2)).unwrap();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let output = tokio::process::Command::new("node")
        .arg(root.join("tools/local-stack/web-test/parts.test.mjs"))
        .env("APP_URL", &app.stack.api_url)
        .env("EMAIL", email)
        .env("PASSWORD", PASSWORD)
        .env("BIG", &big)
        .env("DOWNLOADS", &dir)
        .env(
            "SHOTS",
            std::env::var("VIDEO2MP3_SCREENSHOTS").unwrap_or_default(),
        )
        .env("CHROMIUM", &chromium)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .await
        .expect("running node (install Node.js 20 or later)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    eprintln!("{result}");
    let mp3 = std::fs::read(result["downloaded"].as_str().unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (rate, channels, frames) = video2mp3_mp3check::decode(mp3);
    assert_eq!(
        (rate, channels, frames),
        (44100, 2, u64::from(seconds) * 44100)
    );
}
