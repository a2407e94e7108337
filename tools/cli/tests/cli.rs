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
    cli_with(config, args, stdin, &[]).await
}

/// [`cli`] with these environment variables too.
async fn cli_with(config: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_video2mp3"))
        .args(args)
        .envs(env.iter().copied())
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

    // The conversion options: 2.5 s to 5 s, mono, 16 kHz, as ffprobe and ffmpeg's decoder see it.
    let cut_dir = scratch("cut");
    let cut = cli(
        &config,
        &[
            "convert",
            sample,
            "-o",
            cut_dir.to_str().unwrap(),
            "--start",
            "0:02.5",
            "--end",
            "5",
            "--channels",
            "mono",
            "--sample-rate",
            "16000",
            "--loudness",
        ],
        "",
    )
    .await;
    assert!(cut.status.success(), "{}", text(&cut));
    let probe = video2mp3_mp3check::ffmpeg::probe(
        &std::fs::read(cut_dir.join("sample.mp3")).unwrap(),
        "mp3",
    );
    // 110,250 samples at 44.1 kHz are exactly 40,000 at 16 kHz.
    assert_eq!(
        (probe.sample_rate, probe.channels, probe.samples),
        (16_000, 1, 40_000)
    );
    let loudness = video2mp3_mp3check::ffmpeg::loudness(
        &std::fs::read(cut_dir.join("sample.mp3")).unwrap(),
        "mp3",
    );
    assert!(
        (loudness.integrated + 16.0).abs() <= 1.0,
        "--loudness alone is -16 LUFS: {loudness:?}"
    );
    // A file with two audio tracks: the French one by its language; the CLI says what else
    // there is. A track that is not there: the tracks there are, named.
    let two = root.join("fixtures/formats/two-languages.mp4");
    let two = two.to_str().unwrap();
    let french = cli(
        &config,
        &[
            "convert",
            two,
            "-o",
            cut_dir.to_str().unwrap(),
            "--track",
            "fra",
        ],
        "",
    )
    .await;
    assert!(french.status.success(), "{}", text(&french));
    assert!(
        text(&french)
            .contains("converted audio track 1 aac stereo fra; the file also has 0 aac mono eng"),
        "{}",
        text(&french)
    );
    let probe = video2mp3_mp3check::ffmpeg::probe(
        &std::fs::read(cut_dir.join("two-languages.mp3")).unwrap(),
        "mp3",
    );
    assert_eq!(
        (probe.sample_rate, probe.channels, probe.samples),
        (48_000, 2, 72_000)
    );
    // Cover art and chapters come through the service; --tags strip leaves an MP3 without any.
    let tagged = root.join("fixtures/tags/chapters.mkv");
    let tagged = tagged.to_str().unwrap();
    for (extra, chapters, cover) in [
        (&[][..], 3, Some("mjpeg")),
        (&["--tags", "strip"][..], 0, None),
    ] {
        let mut args = vec!["convert", tagged, "-o", cut_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let run = cli(&config, &args, "").await;
        assert!(run.status.success(), "{extra:?}: {}", text(&run));
        let mp3 = std::fs::read(cut_dir.join("chapters.mp3")).unwrap();
        assert_eq!(
            video2mp3_mp3check::ffmpeg::chapters(&mp3, "mp3").len(),
            chapters,
            "{extra:?}"
        );
        assert_eq!(
            video2mp3_mp3check::ffmpeg::cover(&mp3, "mp3").as_deref(),
            cover,
            "{extra:?}"
        );
        assert_eq!(mp3.starts_with(b"ID3"), extra.is_empty(), "{extra:?}");
    }
    let missing = cli(
        &config,
        &["convert", two, "-o", out_dir, "--track", "2"],
        "",
    )
    .await;
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("the file has no audio track 2; its audio tracks are 0: aac, mono, eng; 1: aac, stereo, fra"),
        "{}",
        text(&missing)
    );

    // Refused by the CLI (not a time), by the service (not a rate), by the converter (past the end).
    for (args, said) in [
        (&["--start", "1:75"][..], "\"1:75\" is not a time"),
        (
            &["--sample-rate", "44000"][..],
            "sample_rate must be one of",
        ),
        (
            &["--start", "10"][..],
            "the start asked for (0:10) is past the end of the audio, which is 0:06 long",
        ),
        (
            &["--callback-url", "https://192.168.0.10/hook"][..],
            "callback_url's host 192.168.0.10 resolves to 192.168.0.10, a private",
        ),
    ] {
        let mut all = vec!["convert", sample, "-o", out_dir];
        all.extend_from_slice(args);
        let refused = cli(&config, &all, "").await;
        assert!(!refused.status.success(), "{args:?}");
        assert!(
            text(&refused).contains(said),
            "{args:?}: {}",
            text(&refused)
        );
    }

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_adds_users_and_a_user_signs_up_resets_and_leaves() {
    let root = root();
    let moto = Moto::start(&root, None).await.unwrap();
    let stack = Stack::start(StackOptions::new(&root, &moto.url))
        .await
        .unwrap();
    let config = scratch("accounts");
    let api = stack.api_url.as_str();
    // The operator's own credentials, straight to the local AWS (only AWS checks what an
    // operator's IAM identity may do).
    let operator = [
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ("AWS_REGION", local_stack::stack::LOCAL_REGION),
        ("AWS_ACCESS_KEY_ID", "operator"),
        ("AWS_SECRET_ACCESS_KEY", "operator"),
    ];
    let stack_name = local_stack::stack::LOCAL_STACK_NAME;
    let admin = |args: Vec<&'static str>, stdin: &'static str| {
        let config = config.clone();
        let mut all = vec!["admin"];
        all.extend(args);
        all.extend(["--stack", stack_name]);
        async move { cli_with(&config, &all, stdin, &operator).await }
    };

    let weak = admin(
        vec!["add-user", "--email", "op@example.com", "--password-stdin"],
        "password1\n",
    )
    .await;
    assert!(!weak.status.success());
    assert!(text(&weak).contains("at least 10"), "{}", text(&weak));
    let added = admin(
        vec!["add-user", "--email", "Op@Example.com", "--password-stdin"],
        "a kettle sings on mars\n",
    )
    .await;
    assert!(added.status.success(), "{}", text(&added));
    let twice = admin(
        vec!["add-user", "--email", "op@example.com", "--password-stdin"],
        "a kettle sings on mars\n",
    )
    .await;
    assert!(
        text(&twice).contains("has an account already"),
        "{}",
        text(&twice)
    );
    let listed = admin(vec!["list-users"], "").await;
    assert!(listed.status.success(), "{}", text(&listed));
    assert!(
        text(&listed).contains("op@example.com"),
        "{}",
        text(&listed)
    );
    let nowhere = cli_with(
        &config,
        &["admin", "list-users", "--stack", "no-such-stack"],
        "",
        &operator,
    )
    .await;
    assert!(!nowhere.status.success());
    assert!(
        text(&nowhere).contains("cannot read the stack"),
        "{}",
        text(&nowhere)
    );

    // The user the operator added logs in, converts, deletes the job.
    let login = [
        "login",
        "--api",
        api,
        "--email",
        "op@example.com",
        "--password-stdin",
    ];
    let ok = cli(&config, &login, "a kettle sings on mars\n").await;
    assert!(ok.status.success(), "{}", text(&ok));
    let sample = root.join("fixtures/sample.mp4");
    let out = scratch("accounts-out");
    let converted = cli(
        &config,
        &[
            "convert",
            sample.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        "",
    )
    .await;
    assert!(converted.status.success(), "{}", text(&converted));
    let listed = cli(&config, &["jobs"], "").await;
    let id = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .find(|l| l.contains("sample.mp4"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let deleted = cli(&config, &["delete", &id], "").await;
    assert!(deleted.status.success(), "{}", text(&deleted));
    let listed = cli(&config, &["jobs"], "").await;
    assert!(text(&listed).contains("no jobs yet"), "{}", text(&listed));

    // Someone signs up, confirms, forgets the password, resets it and leaves.
    let new = "new@example.com";
    let signup = ["signup", "--api", api, "--email", new, "--password-stdin"];
    let asked = cli(&config, &signup, "tea kettle on mars\n").await;
    assert!(asked.status.success(), "{}", text(&asked));
    let link = local_stack::link_in_emails(&moto.url, new, "verify=")
        .await
        .unwrap();
    let verified = cli(&config, &["verify", &link, "--api", api], "").await;
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(
        text(&verified).contains("logged in as new@example.com"),
        "{}",
        text(&verified)
    );
    let forgot = cli(
        &config,
        &["forgot-password", "--api", api, "--email", new],
        "",
    )
    .await;
    assert!(forgot.status.success(), "{}", text(&forgot));
    let link = local_stack::link_in_emails(&moto.url, new, "reset=")
        .await
        .unwrap();
    let reset = cli(
        &config,
        &["reset-password", &link, "--api", api, "--password-stdin"],
        "seven owls read the tide\n",
    )
    .await;
    assert!(reset.status.success(), "{}", text(&reset));
    let gone = cli(
        &config,
        &["delete-account", "--password-stdin"],
        "seven owls read the tide\n",
    )
    .await;
    assert!(gone.status.success(), "{}", text(&gone));
    assert!(
        !config.join("session.json").exists(),
        "the session went with the account"
    );
    let login = ["login", "--api", api, "--email", new, "--password-stdin"];
    let refused = cli(&config, &login, "seven owls read the tide\n").await;
    assert!(!refused.status.success(), "{}", text(&refused));

    // The operator removes the first user.
    let removed = admin(
        vec!["remove-user", "--email", "op@example.com", "--yes"],
        "",
    )
    .await;
    assert!(removed.status.success(), "{}", text(&removed));
    let listed = admin(vec!["list-users"], "").await;
    assert!(text(&listed).contains("no users"), "{}", text(&listed));
    stack.stop().await;
    moto.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_in_parts_resumes_where_it_stopped() {
    let root = root();
    let moto = Moto::start(&root, None).await.unwrap();
    let stack = Stack::start(StackOptions::new(&root, &moto.url))
        .await
        .unwrap();
    stack
        .add_user("big@example.com", "cli password 123")
        .await
        .unwrap();
    let config = scratch("resume");
    let out = scratch("resume-out");
    let login = [
        "login",
        "--api",
        stack.api_url.as_str(),
        "--email",
        "big@example.com",
        "--password-stdin",
    ];
    assert!(
        cli(&config, &login, "cli password 123\n")
            .await
            .status
            .success()
    );
    // 100 s of stereo: 17.6 MB, three parts of 8 MiB.
    let wav = local_stack::samples::tone_wav(100, 44100, 2);
    let file = config.join("long take.wav");
    std::fs::write(&file, &wav).unwrap();
    let file = file.to_str().unwrap();

    // Sent slowly, one part at a time; stopped (killed) once S3 holds the first part.
    let mut slow = tokio::process::Command::new(env!("CARGO_BIN_EXE_video2mp3"))
        .args(["convert", file, "-o", out.to_str().unwrap()])
        .args(["--parallel", "1", "--limit-rate", "4000000"])
        .env("VIDEO2MP3_CONFIG_DIR", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let s3 = video2mp3_aws::s3_client(&stack.sdk);
    let bucket = stack
        .resolver
        .string(&serde_json::json!({"Ref": "UploadsBucket"}))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let open = s3
            .list_multipart_uploads()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        if let Some(upload) = open.uploads().first() {
            let parts = s3
                .list_parts()
                .bucket(&bucket)
                .key(upload.key().unwrap())
                .upload_id(upload.upload_id().unwrap())
                .send()
                .await
                .unwrap();
            if !parts.parts().is_empty() {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no part arrived in 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    slow.kill().await.unwrap();
    assert!(!out.join("long take.mp3").exists());

    // The same command again: only the rest is sent, and the MP3 is whole.
    let resumed = cli(&config, &["convert", file, "-o", out.to_str().unwrap()], "").await;
    assert!(resumed.status.success(), "{}", text(&resumed));
    let said = text(&resumed);
    assert!(said.contains("resuming the upload of"), "{said}");
    assert!(said.contains("1 of 3 parts already uploaded"), "{said}");
    let mp3 = std::fs::read(out.join("long take.mp3")).unwrap();
    let (rate, channels, frames) = video2mp3_mp3check::decode(mp3);
    assert_eq!((rate, channels, frames), (44100, 2, 100 * 44100));
    let remembered = std::fs::read_to_string(config.join("uploads.json")).unwrap();
    assert_eq!(remembered.trim(), "{}", "forgotten once complete");
    stack.stop().await;
    moto.stop().await;
}
