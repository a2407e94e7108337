//! The web page in a real browser: Debian's Chromium driven by playwright-core
//! (tools/local-stack/web-test/page.test.mjs) against this stack. The MP3 the page downloads is then
//! checked here with a decoder of our own. `make test` installs Chromium and playwright-core
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
