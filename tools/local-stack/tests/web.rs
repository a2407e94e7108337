//! The web page in a real browser: Debian's Chromium driven by playwright-core
//! (tools/web-test/page.test.mjs) against this stack. The MP3 the page downloads is then
//! checked here with a decoder of our own. `make test` installs Chromium and playwright-core
//! (`make web-deps`); set VIDEO2MP3_SCREENSHOTS=dir to keep screenshots of each state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, repo_root, spawn_app_with};

const LIMIT: &str = "100000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_logs_in_converts_downloads_and_explains_errors() {
    let root = repo_root();
    let script = root.join("tools/web-test/page.test.mjs");
    let modules = root.join("tools/web-test/node_modules/playwright-core");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        modules.exists() && std::path::Path::new(&chromium).exists(),
        "the browser test needs playwright-core and Chromium: run `make web-deps` \
         (npm ci in tools/web-test; apt-get install chromium)"
    );
    let app = spawn_app_with(&[("MaxUploadBytes", LIMIT)]).await;
    let email = "page@example.com";
    app.stack.add_user(email, PASSWORD).await.unwrap();
    let downloads = std::env::temp_dir().join(format!("video2mp3-web-{}", std::process::id()));
    std::fs::create_dir_all(&downloads).unwrap();
    let shots = std::env::var("VIDEO2MP3_SCREENSHOTS").unwrap_or_default();
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .env("APP_URL", &app.stack.api_url)
        .env("EMAIL", email)
        .env("PASSWORD", PASSWORD)
        .env("VIDEO", root.join("fixtures/sample.mp4"))
        .env("NOT_VIDEO", root.join("fixtures/not-a-video.mp4"))
        .env("DOWNLOADS", &downloads)
        .env("SHOTS", &shots)
        .env("MAX_UPLOAD_BYTES", LIMIT)
        .env("CHROMIUM", &chromium)
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
    eprintln!("browser checks passed: {}", result["checks"]);
    let mp3 = std::fs::read(result["downloaded"].as_str().unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&downloads);
    let (rate, channels, frames) = video2mp3_mp3check::decode(mp3);
    assert_eq!((rate, channels, frames), (44100, 2, 6 * 44100));
}
