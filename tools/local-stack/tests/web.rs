//! The web page in a real browser: Debian's Chromium driven by playwright-core
//! (tools/local-stack/web-test/page.test.mjs) against this stack. The MP3 the page downloads is then
//! checked here with a decoder of our own. A second script (accounts.test.mjs) signs up, follows
//! the e-mailed links, deletes a job and the account. `make test` installs Chromium and playwright-core
//! (`make web-deps`); set VIDEO2MP3_SCREENSHOTS=dir to keep screenshots of each state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, drive_page, repo_root, run_browser_script, spawn_app_with};

const LIMIT: &str = "100000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_logs_in_converts_downloads_and_explains_errors() {
    let root = repo_root();
    let app = spawn_app_with(&[("MaxUploadBytes", LIMIT)]).await;
    let email = "page@example.com";
    app.stack.add_user(email, PASSWORD).await.unwrap();
    drive_page(&root, &app.stack.api_url, email, LIMIT)
        .await
        .check();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_signs_up_deletes_a_job_resets_the_password_and_leaves() {
    let root = repo_root();
    let app = spawn_app_with(&[]).await;
    let video = root.join("fixtures/sample.mp4");
    let result = run_browser_script(
        &root,
        "accounts.test.mjs",
        &[
            ("APP_URL", app.stack.api_url.as_ref()),
            ("MOTO_URL", app.stack.moto_url.as_ref()),
            ("EMAIL", "browser.user@example.com".as_ref()),
            ("VIDEO", video.as_os_str()),
        ],
    )
    .await;
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
    let result = run_browser_script(
        &root,
        "parts.test.mjs",
        &[
            ("APP_URL", app.stack.api_url.as_ref()),
            ("EMAIL", email.as_ref()),
            ("PASSWORD", PASSWORD.as_ref()),
            ("BIG", big.as_os_str()),
            ("DOWNLOADS", dir.as_os_str()),
        ],
    )
    .await;
    eprintln!("{result}");
    let mp3 = std::fs::read(result["downloaded"].as_str().unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (rate, channels, frames) = video2mp3_mp3check::decode(mp3);
    assert_eq!(
        (rate, channels, frames),
        (44100, 2, u64::from(seconds) * 44100)
    );
}
