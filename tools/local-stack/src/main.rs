//! `local-stack`: run video2mp3 on this machine with moto standing in for AWS.
//!
//! - `serve`: the stack in the foreground (`make local`).
//! - `demo`: start everything, convert one file as a client would, print the email, stop.
//! - `sam-invoke`: one function's built bootstrap under `sam local invoke`, with one event, on a
//!   fresh local stack holding what the sample events name (`make sam-invoke`).
//! - `serve --sam`, `demo --sam`: the same with every function under `sam local`
//!   (`make local SAM=1`, `make demo SAM=1`).
//! - `add-user`: add a user to a running local stack (`make user`).
//! - `dlq`, `redrive`: the convert queue's dead letters on a running local stack (`make dlq`,
//!   `make redrive`).
//! - `iam-report`: what each function's role grants that the test suite never used
//!   (`make iam-report`).

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use local_stack::client::{ApiClient, content_type_for};
use local_stack::sam::{Sam, SamStack};
use local_stack::stack::{add_user, find_repo_root, local_sdk_config, local_table_name};
use local_stack::{Moto, Stack, StackOptions, dlq, samples, sent_emails};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Run video2mp3 locally on moto")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the stack in the foreground until Ctrl-C.
    Serve {
        #[arg(long, env = "API_PORT", default_value_t = 3000)]
        api_port: u16,
        #[arg(long, env = "MOTO_PORT", default_value_t = 4566)]
        moto_port: u16,
        /// Leave this function's queue to an outside process (repeatable); its environment is
        /// printed as `external <binary> <JSON>` before `ready:`.
        #[arg(long)]
        external: Vec<String>,
        /// Run the functions' built bootstraps under `sam local` (start-api, start-lambda).
        #[arg(long)]
        sam: bool,
    },
    /// Convert one file end to end over HTTP, then stop everything.
    Demo {
        /// The file to convert (default: the committed sample video).
        #[arg(long, env = "VIDEO")]
        video: Option<PathBuf>,
        /// Where to put the MP3.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Run the functions' built bootstraps under `sam local` (start-api, start-lambda).
        #[arg(long)]
        sam: bool,
        /// Convert a 25-minute recording instead (made by ffmpeg), long enough to be fanned
        /// out: its parts are made by several workers at once and joined into one MP3.
        #[arg(long, env = "LONG")]
        long: bool,
    },
    /// Invoke one function's built bootstrap with `sam local invoke`, on a fresh local stack
    /// holding the user, job and upload the sample events name (an HTTP event's placeholder
    /// token is replaced by a real one); prints the function's answer.
    SamInvoke {
        /// The function's logical id in template.yaml (e.g. ConvertFunction).
        #[arg(long, env = "FN")]
        function: String,
        /// The event file (e.g. events/convert.json).
        #[arg(long, env = "EVENT")]
        event: PathBuf,
    },
    /// List the convert queue's dead letters and notify's failed events on a running local
    /// stack (they stay there).
    Dlq {
        #[arg(long, env = "MOTO_PORT", default_value_t = 4566)]
        moto_port: u16,
    },
    /// Send the convert queue's dead letters back to the convert queue, and publish notify's
    /// failed events again.
    Redrive {
        #[arg(long, env = "MOTO_PORT", default_value_t = 4566)]
        moto_port: u16,
    },
    /// What each role grants that its code never called while the suite ran (the calls logged
    /// through IAM_CALLS_LOG); fails if such a grant has no reason beside it in the template.
    IamReport {
        #[arg(long, env = "IAM_CALLS_LOG")]
        calls: PathBuf,
    },
    /// Add a user to a running local stack.
    AddUser {
        #[arg(long, env = "EMAIL")]
        email: String,
        #[arg(long, env = "PASSWORD")]
        password: String,
        #[arg(long, env = "MOTO_PORT", default_value_t = 4566)]
        moto_port: u16,
    },
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .compact()
        .init();
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = find_repo_root(&std::env::current_dir()?)?;
    match cli.command {
        Command::Serve {
            api_port,
            moto_port,
            external,
            sam: true,
        } => {
            if !external.is_empty() {
                bail!(
                    "--external and --sam do not go together: under --sam every function runs outside"
                );
            }
            serve_sam(&root, api_port, moto_port).await
        }
        Command::Serve {
            api_port,
            moto_port,
            external,
            sam: false,
        } => serve(&root, api_port, moto_port, external).await,
        Command::Demo {
            video,
            out,
            sam,
            long,
        } => run_demo(&root, video, out, sam, long).await,
        Command::SamInvoke { function, event } => sam_invoke(&root, &function, &event).await,
        Command::Dlq { moto_port } => list_dead_letters(moto_port).await,
        Command::Redrive { moto_port } => redrive(moto_port).await,
        Command::IamReport { calls } => iam_report(&root, &calls),
        Command::AddUser {
            email,
            password,
            moto_port,
        } => {
            let sdk = local_sdk_config(&format!("http://127.0.0.1:{moto_port}")).await;
            let table = local_table_name(&root)?;
            let id = add_user(&sdk, &table, &email, &password)
                .await
                .context("is the local stack running (make local)?")?;
            println!("added {email} as user {id}");
            Ok(())
        }
    }
}

/// `serve --sam`: the API and the functions under `sam local`, until stopped.
async fn serve_sam(root: &Path, api_port: u16, moto_port: u16) -> Result<()> {
    init_logs();
    let sam = Sam::locate(root).await?;
    let moto = Moto::start(root, Some(moto_port)).await?;
    let mut options = StackOptions::new(root, &moto.url);
    options.api_port = api_port;
    let stack = match SamStack::start(&sam, options).await {
        Ok(s) => s,
        Err(err) => {
            moto.stop().await;
            return Err(err);
        }
    };
    let pid_file = root.join(".local/sam/local.pid");
    std::fs::write(&pid_file, std::process::id().to_string())?;
    println!("ready: {} (sam local start-api)", stack.stack.api_url);
    println!(
        "Lambda Invoke API: {} (sam local start-lambda; logs in {} and {})",
        stack.lambda.url,
        stack.api.log.display(),
        stack.lambda.log.display()
    );
    announce_moto(&moto);
    wait_for_stop().await?;
    stack.stop().await;
    moto.stop().await;
    let _ = std::fs::remove_file(pid_file);
    Ok(())
}

/// `serve`: the API and the functions in-process (but `external` ones), until stopped.
async fn serve(root: &Path, api_port: u16, moto_port: u16, external: Vec<String>) -> Result<()> {
    init_logs();
    let moto = Moto::start(root, Some(moto_port)).await?;
    let mut options = StackOptions::new(root, &moto.url);
    options.api_port = api_port;
    options.external = external.clone();
    let stack = Stack::start(options).await?;
    for binary in &external {
        let mut env = stack
            .environments
            .get(binary)
            .with_context(|| format!("the template has no function {binary}"))?
            .clone();
        // Its own credentials, through the IAM gate, as the in-process functions.
        let role = stack.role_of(binary)?;
        env.insert("AWS_ENDPOINT_URL".into(), stack.aws_url.clone());
        env.insert("AWS_ACCESS_KEY_ID".into(), role.access_key());
        env.insert("AWS_SECRET_ACCESS_KEY".into(), role.secret_key());
        println!("external {binary} {}", serde_json::to_string(&env)?);
    }
    println!("ready: {}", stack.api_url);
    println!(
        "AWS for the functions: {} (the IAM gate: each call judged against the \
         function's role in template.yaml)",
        stack.aws_url
    );
    announce_moto(&moto);
    wait_for_stop().await?;
    stack.stop().await;
    moto.stop().await;
    Ok(())
}

/// `demo`: one conversion end to end on a stack of its own (the functions under `sam local`
/// with `sam`).
async fn run_demo(
    root: &Path,
    video: Option<PathBuf>,
    out: PathBuf,
    sam: bool,
    long: bool,
) -> Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        init_logs();
    }
    let out = if out.is_absolute() {
        out
    } else {
        root.join(out)
    };
    let video = match (video, long) {
        (Some(video), _) => video,
        (None, true) => long_recording(&out)?,
        (None, false) => root.join("fixtures/sample.mp4"),
    };
    if sam {
        let sam = Sam::locate(root).await?;
        let moto = Moto::start(root, None).await?;
        let stack = match SamStack::start(&sam, StackOptions::new(root, &moto.url)).await {
            Ok(s) => s,
            Err(err) => {
                moto.stop().await;
                return Err(err);
            }
        };
        println!("functions: the arm64 bootstraps under sam local start-api and start-lambda");
        let result = demo(&stack.stack, &video, &out).await;
        stack.stop().await;
        moto.stop().await;
        return result;
    }
    let moto = Moto::start(root, None).await?;
    let mut options = StackOptions::new(root, &moto.url);
    // As Lambda runs a queue's messages at once: a worker per core here.
    options.concurrency = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let stack = Stack::start(options).await?;
    let result = demo(&stack, &video, &out).await;
    stack.stop().await;
    moto.stop().await;
    result
}

/// Polls the job until it ends, printing its progress as it changes (a fanned-out job's counts
/// its parts in).
async fn wait_showing_progress(
    client: &ApiClient,
    job_id: &str,
    timeout: Duration,
) -> Result<serde_json::Value> {
    let deadline = Instant::now() + timeout;
    let mut shown = None;
    loop {
        let a = client.get(&format!("/jobs/{job_id}")).await?;
        if a.status != 200 {
            bail!("GET /jobs/{job_id} answered {}: {}", a.status, a.body);
        }
        let status = a.body["status"].as_str().unwrap_or_default().to_owned();
        if matches!(status.as_str(), "done" | "failed") {
            return Ok(a.body);
        }
        let progress = a.body["progress"].as_u64();
        if status == "converting" && progress.is_some() && progress != shown {
            println!("   converting: {}%", progress.unwrap_or_default());
            shown = progress;
        }
        if Instant::now() > deadline {
            bail!("job {job_id} is still {status} after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `demo --long`: 25 minutes of a two-tone recording (a slow vibrato over a steady tone), as
/// FLAC, made by ffmpeg once into `out`.
fn long_recording(out: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let path = out.join("long-recording.flac");
    if path.exists() {
        return Ok(path);
    }
    println!(
        "making a 25-minute recording with ffmpeg: {}",
        path.display()
    );
    let source = "aevalsrc=0.4*sin(2*PI*440*t+40*sin(2*PI*t/7))|0.3*sin(2*PI*660*t):s=44100:d=1500";
    let partial = out.join("long-recording.partial.flac");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            source,
            "-sample_fmt",
            "s16",
        ])
        .arg(&partial)
        .status()
        .context("make demo LONG=1 makes its recording with ffmpeg: apt-get install ffmpeg")?;
    if !status.success() {
        bail!("ffmpeg could not make the recording ({status})");
    }
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// `sam-invoke`: one event through one built bootstrap, on a seeded stack.
async fn sam_invoke(root: &Path, function: &str, event: &Path) -> Result<()> {
    let sam = Sam::locate(root).await?;
    let event =
        std::fs::read_to_string(event).with_context(|| format!("reading {}", event.display()))?;
    let moto = Moto::start(root, None).await?;
    let mut options = StackOptions::new(root, &moto.url);
    options.pollers = false;
    let result = async {
        let stack = Stack::start(options).await?;
        let result = async {
            let token = samples::seed(&stack).await?;
            let event = samples::with_token(&event, Some(&token))?;
            let prepared = sam.prepare(&stack).await?;
            let invocation = sam.invoke(&prepared, function, &event).await;
            prepared.remove();
            invocation
        }
        .await;
        stack.stop().await;
        result
    }
    .await;
    moto.stop().await;
    let invocation = result?;
    eprint!("{}", invocation.logs);
    println!("{}", serde_json::to_string_pretty(&invocation.payload)?);
    eprintln!(
        "sam local invoke {function}: {:.1} s",
        invocation.elapsed.as_secs_f64()
    );
    if invocation.payload.get("errorType").is_some() {
        bail!("{function} failed");
    }
    Ok(())
}

/// `dlq`: what waits in the failure queues of a running local stack.
async fn list_dead_letters(moto_port: u16) -> Result<()> {
    let sdk = local_sdk_config(&format!("http://127.0.0.1:{moto_port}")).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    for queue in [
        "ConvertDeadLetterQueue",
        "NotifyFailureQueue",
        "WebhookDeadLetterQueue",
    ] {
        let url = dlq::local_queue_url(&sqs, queue).await?;
        let letters = dlq::peek(&sqs, &url, 100).await?;
        println!("{queue}: {} message(s) in {url}", letters.len());
        for letter in letters {
            println!(
                "- {} (received {} times, sent at {} ms)\n  {}",
                letter.message_id, letter.receives, letter.sent_at, letter.body
            );
        }
    }
    Ok(())
}

/// `redrive`: the failure queues replayed.
async fn redrive(moto_port: u16) -> Result<()> {
    let sdk = local_sdk_config(&format!("http://127.0.0.1:{moto_port}")).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let from = dlq::local_queue_url(&sqs, "ConvertDeadLetterQueue").await?;
    let to = dlq::local_queue_url(&sqs, "ConvertQueue").await?;
    let moved = dlq::redrive(&sqs, &from, &to).await?;
    println!("moved {moved} message(s) back to {to}");
    let failed = dlq::local_queue_url(&sqs, "NotifyFailureQueue").await?;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let replayed = dlq::replay_failed_events(&sqs, &sns, &failed).await?;
    println!("published {replayed} failed job event(s) again for notify");
    // A job whose eight tries are spent stays as it is: the sender finds nothing to do.
    let from = dlq::local_queue_url(&sqs, "WebhookDeadLetterQueue").await?;
    let to = dlq::local_queue_url(&sqs, "WebhookQueue").await?;
    let moved = dlq::redrive(&sqs, &from, &to).await?;
    println!("moved {moved} webhook message(s) back to {to}");
    Ok(())
}

/// `iam-report`: each role's grants against the calls the suite made; fails on a grant never
/// used and not explained.
fn iam_report(root: &Path, calls: &Path) -> Result<()> {
    let expanded = local_stack::iam::expand(root)?;
    let template = std::fs::read_to_string(root.join("template.yaml"))?;
    let calls = local_stack::iam::report::read_calls(calls)?;
    let report = local_stack::iam::report::build(&expanded, &template, &calls);
    print!("{}", report.render());
    let unexplained = report.unexplained();
    if !unexplained.is_empty() {
        bail!(
            "{} grant(s) the suite never used have no reason beside them in \
             template.yaml: remove them, or say why in a `#` comment on their line",
            unexplained.len()
        );
    }
    Ok(())
}

fn announce_moto(moto: &Moto) {
    println!(
        "moto: {}  (add a user: make user EMAIL=you@example.com PASSWORD=...)",
        moto.url
    );
}

/// Ctrl-C, or the TERM that `make sam-down` and process managers send.
async fn wait_for_stop() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

/// The first e-mail moto recorded as sent to `email`, waiting up to `wait` for it.
async fn email_to(stack: &Stack, email: &str, wait: Duration) -> Result<local_stack::SentEmail> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(mail) = sent_emails(&stack.moto_url)
            .await?
            .into_iter()
            .find(|m| m.to.iter().any(|t| t == email))
        {
            return Ok(mail);
        }
        if Instant::now() > deadline {
            bail!("no email reached {email} within {} s", wait.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn demo(stack: &Stack, video: &Path, out: &Path) -> Result<()> {
    let started = Instant::now();
    let (email, password) = ("demo@example.com", "demo password 123");
    println!(
        "local stack: API {}  (moto {})",
        stack.api_url, stack.moto_url
    );
    stack.add_user(email, password).await?;
    println!("1. created user {email}");

    let mut client = ApiClient::new(&stack.api_url);
    client.login(email, password).await?;
    println!("2. POST /login -> token");

    let bytes = std::fs::read(video).with_context(|| format!("reading {}", video.display()))?;
    let filename = video
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file has no name")?;
    let ticket = client
        .create_upload(&serde_json::json!({
            "filename": filename,
            "content_type": content_type_for(video),
            "size": bytes.len(),
        }))
        .await?;
    println!("3. POST /uploads -> job {}", ticket.job_id);
    client.upload(&ticket, bytes.clone()).await?;
    match &ticket.parts {
        Some(parts) => println!(
            "4. PUT {} bytes in {} parts to their presigned URLs, then POST /uploads/{}/complete",
            bytes.len(),
            parts["part_count"],
            ticket.job_id
        ),
        None => println!("4. PUT {} bytes to the presigned URL", bytes.len()),
    }

    let job = wait_showing_progress(&client, &ticket.job_id, Duration::from_secs(600)).await?;
    if job["status"] != "done" {
        bail!("the job failed: {}", job["error"]);
    }
    println!("5. GET /jobs/{} -> done {}", ticket.job_id, job["stats"]);
    if let Some(parts) = job["stats"]["parts"].as_u64() {
        println!(
            "   {:.0} s of audio made in {parts} parts by the converter's workers at once, \
             joined into one MP3",
            job["stats"]["audio_seconds"].as_f64().unwrap_or(0.0)
        );
    }
    let url = job["download_url"]
        .as_str()
        .context("no download_url on the done job")?;
    let (mp3, _) = client.download(url).await?;
    if mp3.len() < 1024 {
        bail!("the MP3 is only {} bytes", mp3.len());
    }
    std::fs::create_dir_all(out)?;
    let path = out.join(video2mp3_domain::mp3_file_name(filename));
    std::fs::write(&path, &mp3)?;
    println!("6. downloaded {} ({} bytes)", path.display(), mp3.len());

    let mail = email_to(stack, email, Duration::from_secs(30)).await?;
    println!(
        "7. email sent:\n   From: {}\n   To: {}\n   Subject: {}\n",
        mail.from,
        mail.to.join(", "),
        mail.subject
    );
    for line in mail.body.lines() {
        println!("   {line}");
    }
    println!(
        "demo done in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(())
}
