//! What the end-to-end tests share: a moto and a local stack per test, a user, fixtures.
//! `TEST_LOG=1` shows the stack's logs.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use local_stack::client::{ApiClient, UploadTicket};
use local_stack::{Moto, SentEmail, Stack, StackOptions, sent_emails};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct App {
    pub stack: Stack,
    _moto: Moto,
    pub root: PathBuf,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub async fn spawn_app_with(parameters: &[(&str, &str)]) -> App {
    spawn(parameters, true).await
}

pub async fn spawn(parameters: &[(&str, &str)], pollers: bool) -> App {
    spawn_with_concurrency(parameters, pollers, 1).await
}

/// A stack whose SQS functions run `concurrency` invocations at once.
pub async fn spawn_with_concurrency(
    parameters: &[(&str, &str)],
    pollers: bool,
    concurrency: usize,
) -> App {
    spawn_configured(parameters, pollers, concurrency, None).await
}

/// A stack whose webhook sender also trusts `ca_pem` (a test receiver's authority).
pub async fn spawn_trusting(ca_pem: &str) -> App {
    spawn_configured(&[], true, 1, Some(ca_pem.to_owned())).await
}

async fn spawn_configured(
    parameters: &[(&str, &str)],
    pollers: bool,
    concurrency: usize,
    webhook_ca: Option<String>,
) -> App {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info,aws_config=warn")
            .with_test_writer()
            .try_init();
    }
    let root = repo_root();
    let moto = Moto::start(&root, None)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let mut options = StackOptions::new(&root, &moto.url);
    options.retry_delay = Duration::from_secs(1);
    options.pollers = pollers;
    options.concurrency = concurrency;
    options.webhook_ca = webhook_ca;
    options.parameters = parameters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stack = Stack::start(options)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    App {
        stack,
        _moto: moto,
        root,
    }
}

pub async fn spawn_app() -> App {
    spawn_app_with(&[]).await
}

impl App {
    pub fn client(&self) -> ApiClient {
        ApiClient::new(&self.stack.api_url)
    }

    pub async fn user(&self, email: &str) -> ApiClient {
        self.stack.add_user(email, PASSWORD).await.unwrap();
        let mut client = self.client();
        client.login(email, PASSWORD).await.unwrap();
        client
    }

    pub fn fixture(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.root.join("fixtures").join(name)).unwrap()
    }

    pub async fn emails_to(&self, to: &str, count: usize) -> Vec<SentEmail> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails: Vec<_> = sent_emails(&self.stack.moto_url)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t == to))
                .collect();
            if mails.len() >= count || Instant::now() > deadline {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

pub async fn upload(
    client: &ApiClient,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> UploadTicket {
    let ticket = client
        .create_upload(
            &json!({"filename": filename, "content_type": content_type, "size": bytes.len()}),
        )
        .await
        .unwrap();
    client.upload(&ticket, bytes).await.unwrap();
    ticket
}

/// The physical name of a template resource (a bucket, a queue URL).
pub fn physical(app: &App, logical_id: &str) -> String {
    app.stack
        .resolver
        .string(&json!({ "Ref": logical_id }))
        .unwrap()
}

/// The object key of an upload, from its presigned URL's path: /{bucket}/{key}.
pub fn upload_key(ticket: &UploadTicket) -> String {
    let path = ticket.url.split('?').next().unwrap();
    let path = path.split_once("//").unwrap().1;
    let (_host, path) = path.split_once('/').unwrap();
    let (_bucket, key) = path.split_once('/').unwrap();
    percent_encoding::percent_decode_str(key)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

/// The S3 `ObjectCreated` notification body for `key` in the uploads bucket, with the key
/// form-encoded as S3 writes it.
pub fn created_event(app: &App, key: &str) -> String {
    let encoded: String = key
        .bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    json!({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": physical(app, "UploadsBucket")},
               "object": {"key": encoded}}
    }]})
    .to_string()
}

/// An SQS event of one message, as Lambda delivers it.
pub fn sqs_event(message_id: &str, body: &str) -> aws_lambda_events::event::sqs::SqsEvent {
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    message.message_id = Some(message_id.into());
    message.body = Some(body.into());
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = vec![message];
    event
}

/// The converter as the stack built it.
pub fn stack_convert(app: &App) -> convert::Deps {
    app.stack
        .functions
        .iter()
        .find_map(|f| match &f.handler {
            local_stack::functions::Handler::Convert(deps) => Some(deps.clone()),
            _ => None,
        })
        .unwrap()
}

/// Runs a script of tools/local-stack/web-test (Debian's Chromium through playwright-core)
/// with `env` besides CHROMIUM, SHOTS (from VIDEO2MP3_SCREENSHOTS) and NO_PROXY; fails with its
/// output unless it succeeds, and returns the JSON of its last line.
pub async fn run_browser_script(
    root: &std::path::Path,
    script: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> serde_json::Value {
    let modules = root.join("tools/local-stack/web-test/node_modules/playwright-core");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        modules.exists() && std::path::Path::new(&chromium).exists(),
        "the browser test needs playwright-core and Chromium: run `make web-deps` \
         (npm ci in tools/local-stack/web-test; apt-get install chromium)"
    );
    let output = tokio::process::Command::new("node")
        .arg(root.join("tools/local-stack/web-test").join(script))
        .envs(env.iter().copied())
        .env("CHROMIUM", &chromium)
        .env(
            "SHOTS",
            std::env::var("VIDEO2MP3_SCREENSHOTS").unwrap_or_default(),
        )
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .await
        .expect("running node (install Node.js 20 or later)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser test {script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

/// Drives the page at `api_url` in Debian's Chromium with playwright-core
/// (tools/local-stack/web-test/page.test.mjs) as `email` (whose password is [`PASSWORD`]) on a stack whose
/// `MaxUploadBytes` is `limit`; returns the MP3 the page downloaded. Set
/// VIDEO2MP3_SCREENSHOTS=dir to keep screenshots of each state.
pub async fn drive_page(
    root: &std::path::Path,
    api_url: &str,
    email: &str,
    limit: &str,
) -> PageMp3s {
    let downloads = std::env::temp_dir().join(format!(
        "video2mp3-web-{}-{}",
        std::process::id(),
        ulid::Ulid::new()
    ));
    std::fs::create_dir_all(&downloads).unwrap();
    let video = root.join("fixtures/sample.mp4");
    let not_video = root.join("fixtures/not-a-video.mp4");
    let result = run_browser_script(
        root,
        "page.test.mjs",
        &[
            ("APP_URL", api_url.as_ref()),
            ("EMAIL", email.as_ref()),
            ("PASSWORD", PASSWORD.as_ref()),
            ("VIDEO", video.as_os_str()),
            ("NOT_VIDEO", not_video.as_os_str()),
            ("DOWNLOADS", downloads.as_os_str()),
            ("MAX_UPLOAD_BYTES", limit.as_ref()),
        ],
    )
    .await;
    eprintln!("browser checks passed: {}", result["checks"]);
    let read = |name: &str| std::fs::read(result[name].as_str().unwrap()).unwrap();
    let mp3s = PageMp3s {
        plain: read("downloaded"),
        options: read("with_options"),
    };
    let _ = std::fs::remove_dir_all(&downloads);
    mp3s
}

/// The MP3s the page downloaded: the sample as it is, and cut from 1 s to 4.5 s, mono, 22.05 kHz,
/// evened out to -16 LUFS.
pub struct PageMp3s {
    pub plain: Vec<u8>,
    pub options: Vec<u8>,
}

impl PageMp3s {
    /// Checks both with FFmpeg: the plain one is the whole 6 s sample, the other exactly its cut.
    pub fn check(&self) {
        let plain = video2mp3_mp3check::ffmpeg::probe(&self.plain, "mp3");
        assert_eq!(
            (plain.sample_rate, plain.channels, plain.samples),
            (44_100, 2, 6 * 44_100)
        );
        let cut = video2mp3_mp3check::ffmpeg::probe(&self.options, "mp3");
        assert_eq!(
            (cut.sample_rate, cut.channels, cut.samples),
            (22_050, 1, 77_175),
            "1 s to 4.5 s, mono, at 22.05 kHz"
        );
        let loudness = video2mp3_mp3check::ffmpeg::loudness(&self.options, "mp3");
        assert!(
            (loudness.integrated + 16.0).abs() <= 1.0,
            "-16 LUFS: {loudness:?}"
        );
        // Tags kept by default (the sample's title), none at all when stripped.
        assert!(
            video2mp3_mp3check::id3v24_text_frames(&self.plain)
                .contains(&("TIT2".into(), "Sample clip".into()))
        );
        assert!(!self.options.starts_with(b"ID3"), "tags stripped");
    }
}
