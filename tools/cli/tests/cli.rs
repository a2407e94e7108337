//! The `video2mp3` binary against a local stack on moto: log in, convert the sample video with
//! one command, list, download; and the errors a person meets, each with a clear message and a
//! non-zero exit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use local_stack::{Moto, Stack, StackOptions};
use std::path::{Path, PathBuf};
use std::process::Output;
use tokio::io::AsyncWriteExt;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `video2mp3 args` with its session kept in `config`, `stdin` fed in.
async fn cli(config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_video2mp3"))
        .args(args)
        .env("VIDEO2MP3_CONFIG_DIR", config)
        .env_remove("VIDEO2MP3_API")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    child.wait_with_output().await.unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "video2mp3-cli-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_converts_the_sample_video_and_says_what_went_wrong() {
    let root = root();
    let moto = Moto::start(&root, None).await.unwrap();
    let stack = Stack::start(StackOptions::new(&root, &moto.url))
        .await
        .unwrap();
    stack
        .add_user("cli@example.com", "cli password 123")
        .await
        .unwrap();
    let config = scratch("config");
    let out = scratch("out");

    // Before logging in: told what to do.
    let sample = root.join("fixtures/sample.mp4");
    let sample = sample.to_str().unwrap();
    let early = cli(&config, &["convert", sample], "").await;
    assert!(!early.status.success());
    assert!(
        text(&early).contains("not logged in; run: video2mp3 login"),
        "{}",
        text(&early)
    );

    // A wrong password: the API's words, non-zero.
    let api = stack.api_url.as_str();
    let args = [
        "login",
        "--api",
        api,
        "--email",
        "cli@example.com",
        "--password-stdin",
    ];
    let wrong = cli(&config, &args, "nope\n").await;
    assert!(!wrong.status.success());
    assert!(
        text(&wrong).contains("wrong email or password"),
        "{}",
        text(&wrong)
    );

    let ok = cli(&config, &args, "cli password 123\n").await;
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("logged in as cli@example.com"));

    // One command: upload, convert, download.
    let out_dir = out.to_str().unwrap();
    let converted = cli(
        &config,
        &["convert", sample, "-o", out_dir, "--quality", "V4"],
        "",
    )
    .await;
    assert!(converted.status.success(), "{}", text(&converted));
    let mp3 = std::fs::read(out.join("sample.mp3")).unwrap();
    let (rate, channels, frames) = video2mp3_mp3check::decode(mp3);
    assert_eq!((rate, channels, frames), (44100, 2, 6 * 44100));

    // The job list shows it done; download by id gives the same file again.
    let listed = cli(&config, &["jobs"], "").await;
    assert!(listed.status.success(), "{}", text(&listed));
    let line = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .find(|l| l.contains("sample.mp4"))
        .unwrap()
        .to_owned();
    assert!(line.contains("done") && line.contains("100"), "{line}");
    let id = line.split_whitespace().next().unwrap().to_owned();
    let again = scratch("again");
    let fetched = cli(
        &config,
        &["download", &id, "-o", again.to_str().unwrap()],
        "",
    )
    .await;
    assert!(fetched.status.success(), "{}", text(&fetched));
    assert_eq!(
        std::fs::read(again.join("sample.mp3")).unwrap(),
        std::fs::read(out.join("sample.mp3")).unwrap()
    );

    // A file that is not media: the converter's reason; a missing file: said so; both non-zero.
    let text_file = root.join("fixtures/not-a-video.mp4");
    let bad = cli(
        &config,
        &[
            "convert",
            text_file.to_str().unwrap(),
            "/no/such/file.mp4",
            "-o",
            out_dir,
        ],
        "",
    )
    .await;
    assert!(!bad.status.success());
    let said = text(&bad);
    assert!(
        said.contains("not an audio or video format we can read"),
        "{said}"
    );
    assert!(said.contains("cannot read /no/such/file.mp4"), "{said}");
    assert!(said.contains("2 of 2 files were not converted"), "{said}");

    // The session file is the user's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(config.join("session.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    stack.stop().await;
    moto.stop().await;
}
