//! The `video2mp3` command-line client.
//!
//! `login` keeps the API URL and the token in the platform's config directory
//! (`~/.config/video2mp3/session.json` on Linux; `VIDEO2MP3_CONFIG_DIR` overrides it), so the
//! other commands need no flags. `convert` uploads each file straight to S3 with a progress bar
//! (a large file in parts, several at once, resumed where it stopped if it is run again:
//! `transfer.rs`), follows the conversion's progress, and downloads the MP3. Every failure exits non-zero with
//! a message saying what to do.
//!
//! `signup`/`verify`, `forgot-password`/`reset-password`, `delete` and `delete-account` are the
//! account's; `admin` is the operator's, with their own AWS credentials (see `admin.rs`).

mod account;
mod admin;
mod transfer;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "video2mp3",
    about = "Convert videos and audio files to MP3 with video2mp3"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the largest variant (Convert's settings) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in and remember the session.
    Login {
        /// The API's base URL (default: the last one used, else the local stack's).
        #[arg(long, env = "VIDEO2MP3_API")]
        api: Option<String>,
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Convert files: upload, wait for the MP3, download it.
    Convert {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        settings: Settings,
        /// Where to put the MP3s.
        #[arg(short = 'o', long = "output", default_value = ".")]
        output: PathBuf,
        /// Give up on a conversion after this many seconds.
        #[arg(long, default_value_t = 1800)]
        timeout: u64,
        /// Parts of a large file sent at once.
        #[arg(long, default_value_t = 4)]
        parallel: usize,
        /// Send at most this many bytes a second (e.g. 2000000), to leave room on a shared link.
        #[arg(long)]
        limit_rate: Option<u64>,
    },
    /// List your jobs, newest first.
    Jobs {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Download the MP3 of a finished job.
    Download {
        id: String,
        #[arg(short = 'o', long = "output", default_value = ".")]
        output: PathBuf,
    },
    /// Delete a job with its upload and MP3.
    Delete { id: String },
    /// Ask for an account: a link to confirm your address is e-mailed to you.
    Signup {
        /// The API's base URL (default: the last one used, else the local stack's).
        #[arg(long, env = "VIDEO2MP3_API")]
        api: Option<String>,
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Confirm your address with the e-mailed link (or its token); logs you in.
    Verify {
        link: String,
        #[arg(long, env = "VIDEO2MP3_API")]
        api: Option<String>,
    },
    /// Forgot your password: a link to set a new one is e-mailed to you.
    ForgotPassword {
        #[arg(long, env = "VIDEO2MP3_API")]
        api: Option<String>,
        #[arg(long)]
        email: String,
    },
    /// Set a new password with the e-mailed link (or its token); logs you in.
    ResetPassword {
        link: String,
        #[arg(long, env = "VIDEO2MP3_API")]
        api: Option<String>,
        /// Read the new password from standard input instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete your account and everything of yours; asks for your password.
    DeleteAccount {
        /// Read the password from standard input instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// For operators: the users of a deployed stack, with your own AWS credentials.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

/// What `login` remembers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Session {
    pub api: String,
    pub email: String,
    pub token: String,
    pub expires_at: String,
}

/// The local stack's API (`make local`).
pub const LOCAL_API: &str = "http://127.0.0.1:3000";

fn session_path() -> Result<PathBuf> {
    let dir = match std::env::var_os("VIDEO2MP3_CONFIG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => dirs::config_dir()
            .context("no config directory on this platform; set VIDEO2MP3_CONFIG_DIR")?
            .join("video2mp3"),
    };
    Ok(dir.join("session.json"))
}

fn load_session() -> Result<Session> {
    let path = session_path()?;
    let text = std::fs::read_to_string(&path)
        .map_err(|_| anyhow!("not logged in; run: video2mp3 login --email you@example.com"))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is damaged; run video2mp3 login again", path.display()))
}

fn save_session(session: &Session) -> Result<()> {
    let path = session_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(session)?)
        .with_context(|| format!("writing {}", path.display()))?;
    // The token is a credential: readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The API given, else the last one used, else the local stack's.
fn api_or_last(api: Option<String>) -> String {
    match api {
        Some(api) => api,
        None => load_session().map_or_else(|_| LOCAL_API.to_owned(), |s| s.api),
    }
}

/// A password from standard input (one line) or asked for without echo.
fn read_password(prompt: &str, from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    rpassword::prompt_password(prompt).context("reading the password")
}

/// `POST {api}{path}` without a token.
async fn post_anonymous(api: &str, path: &str, body: &Value) -> Result<Value> {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", api.trim_end_matches('/')))
        .json(body)
        .send()
        .await
        .with_context(|| format!("cannot reach the API at {api}"))?;
    answer(response).await
}

/// Keeps the session a token answer (`POST /login`, `/signup/verify`, `/password/reset`) gave.
fn keep_session(api: String, body: &Value) -> Result<Session> {
    let session = Session {
        api,
        email: body["email"].as_str().unwrap_or_default().to_owned(),
        token: body["token"]
            .as_str()
            .context("the answer has no token")?
            .to_owned(),
        expires_at: body["expires_at"].as_str().unwrap_or_default().to_owned(),
    };
    save_session(&session)?;
    println!(
        "logged in as {} (until {})",
        session.email,
        session.expires_at.get(..16).unwrap_or(&session.expires_at)
    );
    Ok(session)
}

/// The API, as the logged-in user.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    fn new(session: &Session) -> Self {
        Self {
            base: session.api.trim_end_matches('/').to_owned(),
            token: session.token.clone(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value> {
        let response = req
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the API at {}", self.base))?;
        answer(response).await
    }

    /// `GET {path}`: the status and JSON whatever the status.
    async fn get_status(&self, path: &str) -> Result<(u16, Value)> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the API at {}", self.base))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.call(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    async fn delete(&self, path: &str, body: Option<&Value>) -> Result<Value> {
        let mut req = self.http.delete(format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(body);
        }
        self.call(req).await
    }
}

/// The JSON of a successful answer, or an error in the API's own words.
async fn answer(response: reqwest::Response) -> Result<Value> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status.is_success() {
        return Ok(body);
    }
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    if status == reqwest::StatusCode::UNAUTHORIZED {
        bail!("{message} (run video2mp3 login)");
    }
    bail!("{message} (HTTP {})", status.as_u16())
}

/// What the MP3 should be: the encoder's settings and the conversion options of `POST /uploads`.
/// The service checks them all; the CLI only reads times as `SECONDS`, `M:SS` or `H:MM:SS`.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// VBR quality, V0 (best) to V9 (default V2).
    #[arg(long, conflicts_with = "bitrate")]
    quality: Option<String>,
    /// Constant bitrate in kbit/s (128, 160, 192, 224, 256 or 320).
    #[arg(long)]
    bitrate: Option<u16>,
    /// Keep the audio from this time on: seconds (90.5), M:SS (1:30.5) or H:MM:SS.
    #[arg(long, value_parser = parse_time)]
    start: Option<f64>,
    /// Keep the audio up to this time of the source (same forms as --start).
    #[arg(long, value_parser = parse_time)]
    end: Option<f64>,
    /// mono or stereo (default: as the source, more than two channels folded to stereo).
    #[arg(long)]
    channels: Option<String>,
    /// The MP3's sample rate in Hz (8000 to 48000; default: the source's).
    #[arg(long)]
    sample_rate: Option<u32>,
    /// Even out the loudness to a target in LUFS (-50 to -5; alone: -16, for speech).
    #[arg(long, num_args = 0..=1, default_missing_value = "-16", allow_hyphen_values = true)]
    loudness: Option<f64>,
    /// The audio track of a file with several: its index (from 0) or its language (eng, fra...).
    #[arg(long)]
    track: Option<String>,
    /// keep (the default: the source's tags, cover art and chapters) or strip (an MP3 without
    /// any tag).
    #[arg(long, value_parser = ["keep", "strip"])]
    tags: Option<String>,
    /// Also POST each job's end, signed with your webhook key, to this https URL.
    #[arg(long)]
    callback_url: Option<String>,
}

impl Settings {
    fn add_to(&self, request: &mut serde_json::Value) {
        let fields = [
            ("quality", self.quality.as_ref().map(|q| json!(q))),
            ("bitrate", self.bitrate.map(|b| json!(b))),
            ("start", self.start.map(|t| json!(t))),
            ("end", self.end.map(|t| json!(t))),
            ("channels", self.channels.as_ref().map(|c| json!(c))),
            ("sample_rate", self.sample_rate.map(|r| json!(r))),
            ("loudness", self.loudness.map(|l| json!(l))),
            ("tags", self.tags.as_ref().map(|t| json!(t))),
            ("callback_url", self.callback_url.as_ref().map(|u| json!(u))),
            (
                "track",
                self.track.as_ref().map(|t| match t.parse::<u32>() {
                    Ok(index) => json!(index),
                    Err(_) => json!(t),
                }),
            ),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                request[name] = value;
            }
        }
    }
}

/// `90`, `90.5`, `1:30.5` or `1:02:03` as seconds.
fn parse_time(text: &str) -> Result<f64, String> {
    let bad = || format!("{text:?} is not a time: give seconds (90.5), M:SS (1:30.5) or H:MM:SS");
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() > 3 {
        return Err(bad());
    }
    let (last, whole) = parts.split_last().ok_or_else(bad)?;
    let seconds: f64 = last.parse().map_err(|_| bad())?;
    if !seconds.is_finite() || seconds < 0.0 || (!whole.is_empty() && seconds >= 60.0) {
        return Err(bad());
    }
    let mut total = 0u64;
    for (i, part) in whole.iter().enumerate() {
        let n: u64 = part.parse().map_err(|_| bad())?;
        if i > 0 && n >= 60 {
            return Err(bad());
        }
        total = total * 60 + n;
    }
    Ok(total as f64 * 60.0 + seconds)
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Login {
            api,
            email,
            password_stdin,
        } => login(api, &email, password_stdin).await,
        Command::Convert {
            files,
            settings,
            output,
            timeout,
            parallel,
            limit_rate,
        } => {
            let api = Api::new(&load_session()?);
            let sending = transfer::Sending {
                parallel: parallel.max(1),
                limit_rate,
            };
            let mut failed = 0;
            for file in &files {
                if let Err(err) = convert(
                    &api,
                    file,
                    &settings,
                    &output,
                    Duration::from_secs(timeout),
                    &sending,
                )
                .await
                {
                    eprintln!("{}: {err:#}", file.display());
                    failed += 1;
                }
            }
            if failed > 0 {
                bail!("{failed} of {} files were not converted", files.len());
            }
            Ok(())
        }
        Command::Jobs { limit } => jobs(&Api::new(&load_session()?), limit).await,
        Command::Download { id, output } => {
            let api = Api::new(&load_session()?);
            let job = api.get(&format!("/jobs/{id}")).await?;
            download(&api, &job, &output).await.map(|path| {
                println!("{}", path.display());
            })
        }
        Command::Delete { id } => {
            let api = Api::new(&load_session()?);
            api.delete(&format!("/jobs/{id}"), None).await?;
            println!("deleted job {id} with its upload and MP3");
            Ok(())
        }
        Command::Signup {
            api,
            email,
            password_stdin,
        } => account::signup(api_or_last(api), &email, password_stdin).await,
        Command::Verify { link, api } => account::verify(api_or_last(api), &link).await,
        Command::ForgotPassword { api, email } => account::forgot(api_or_last(api), &email).await,
        Command::ResetPassword {
            link,
            api,
            password_stdin,
        } => account::reset(api_or_last(api), &link, password_stdin).await,
        Command::DeleteAccount { password_stdin } => account::delete_account(password_stdin).await,
        Command::Admin { command } => admin::run(command).await,
    }
}

async fn login(api: Option<String>, email: &str, password_stdin: bool) -> Result<()> {
    let api = api_or_last(api);
    let password = read_password(&format!("Password for {email}: "), password_stdin)?;
    let body = post_anonymous(
        &api,
        "/login",
        &json!({"email": email, "password": password}),
    )
    .await?;
    keep_session(api, &body).map(|_| ())
}

fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("mp4" | "m4v") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("webm") => "video/webm",
        Some("mkv") => "video/x-matroska",
        Some("3gp") => "video/3gpp",
        Some("m4a" | "m4b") => "audio/mp4",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("flac") => "audio/flac",
        Some("ogg" | "opus") => "audio/ogg",
        Some("aac") => "audio/aac",
        Some("aif" | "aiff") => "audio/aiff",
        _ => "video/mp4",
    }
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

async fn convert(
    api: &Api,
    file: &Path,
    settings: &Settings,
    output: &Path,
    timeout: Duration,
    sending: &transfer::Sending,
) -> Result<()> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file has no usable name")?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let mut request = json!({"filename": name, "content_type": content_type(file), "size": size});
    settings.add_to(&mut request);
    let job_id = transfer::send(api, file, size, &request, sending).await?;

    // Follow the conversion.
    let converting = bar(100, "{msg:>10} [{bar:30}] {pos:>3}%");
    converting.set_message("converting");
    let deadline = Instant::now() + timeout;
    let job = loop {
        let job = api.get(&format!("/jobs/{job_id}")).await?;
        converting.set_position(job["progress"].as_u64().unwrap_or(0));
        match job["status"].as_str() {
            Some("done") => break job,
            Some("failed") => {
                converting.abandon();
                bail!(
                    "could not be converted: {}",
                    job["error"].as_str().unwrap_or("no reason given")
                );
            }
            _ if Instant::now() > deadline => {
                converting.abandon();
                bail!(
                    "still not converted after {} s (job {job_id})",
                    timeout.as_secs()
                );
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    converting.finish_and_clear();
    let path = download(api, &job, output).await?;
    println!("{} -> {}", file.display(), path.display());
    if let Some(note) = tracks_note(&job) {
        println!("{note}");
    }
    Ok(())
}

/// When the source had several audio tracks: which one was converted and what the others are.
fn tracks_note(job: &Value) -> Option<String> {
    let tracks = job["stats"]["tracks"].as_array().filter(|t| t.len() > 1)?;
    let describe = |t: &Value| {
        let mut words = vec![
            t["index"].to_string(),
            t["codec"].as_str().unwrap_or("?").to_owned(),
        ];
        match t["channels"].as_u64() {
            Some(1) => words.push("mono".into()),
            Some(2) => words.push("stereo".into()),
            Some(n) => words.push(format!("{n} channels")),
            None => {}
        }
        if let Some(language) = t["language"].as_str() {
            words.push(language.to_owned());
        }
        words.join(" ")
    };
    let (converted, others): (Vec<&Value>, Vec<&Value>) =
        tracks.iter().partition(|t| t["converted"] == true);
    Some(format!(
        "  converted audio track {}; the file also has {} (choose with --track INDEX or LANGUAGE)",
        converted.first().map_or("?".into(), |t| describe(t)),
        others
            .iter()
            .map(|t| describe(t))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Saves a done job's MP3 under `output`; returns its path.
async fn download(api: &Api, job: &Value, output: &Path) -> Result<PathBuf> {
    if job["status"] != "done" {
        bail!(
            "job {} is {}, not done",
            job["job_id"].as_str().unwrap_or("?"),
            job["status"].as_str().unwrap_or("unknown")
        );
    }
    let url = job["download_url"]
        .as_str()
        .context("the job has no download link")?;
    let filename = job["filename"].as_str().unwrap_or("audio");
    let stem = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
    let response = api
        .http
        .get(url)
        .send()
        .await
        .context("the download failed")?;
    if !response.status().is_success() {
        bail!(
            "the download was refused (HTTP {})",
            response.status().as_u16()
        );
    }
    let bytes = response.bytes().await.context("the download broke off")?;
    std::fs::create_dir_all(output).with_context(|| format!("creating {}", output.display()))?;
    let path = output.join(format!("{stem}.mp3"));
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

async fn jobs(api: &Api, limit: u32) -> Result<()> {
    let page = api.get(&format!("/jobs?limit={limit}")).await?;
    let jobs = page["jobs"].as_array().cloned().unwrap_or_default();
    if jobs.is_empty() {
        println!("no jobs yet");
        return Ok(());
    }
    println!(
        "{:<26}  {:<16}  {:>4}  {:<20}  FILE",
        "JOB", "STATUS", "%", "CREATED"
    );
    for job in jobs {
        let progress = job["progress"]
            .as_u64()
            .map_or_else(|| "-".to_owned(), |p| p.to_string());
        println!(
            "{:<26}  {:<16}  {:>4}  {:<20}  {}{}",
            job["job_id"].as_str().unwrap_or("?"),
            job["status"].as_str().unwrap_or("?"),
            progress,
            job["created_at"]
                .as_str()
                .unwrap_or("")
                .get(..19)
                .unwrap_or(""),
            job["filename"].as_str().unwrap_or(""),
            job["error"]
                .as_str()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_read_as_seconds_or_clock_forms() {
        assert_eq!(parse_time("90.5"), Ok(90.5));
        assert_eq!(parse_time("1:30.5"), Ok(90.5));
        assert_eq!(parse_time("1:02:03"), Ok(3723.0));
        assert_eq!(parse_time("0:00:00.25"), Ok(0.25));
        for bad in ["", "1:60", "1:75:00", "-3", "a:10", "1:2:3:4", "inf", "NaN"] {
            let err = parse_time(bad).unwrap_err();
            assert!(err.contains("M:SS"), "{bad}: {err}");
        }
    }
}
