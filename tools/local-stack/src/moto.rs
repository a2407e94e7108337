//! Starting moto server, the local stand-in for AWS, on a port of its own.

use anyhow::{Context, Result, bail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A running moto server; stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    pub url: String,
    pub port: u16,
    child: Child,
}

/// A port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How to start moto: `$MOTO_SERVER` if set, else `tools/local-stack/moto/moto-local` (moto_server with atomic
/// DynamoDB operations) run by the repository's `.venv/bin/python`.
pub fn moto_command(repo_root: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
    let (program, args) = match std::env::var_os("MOTO_SERVER") {
        Some(p) => (PathBuf::from(p), Vec::new()),
        None => (
            repo_root.join(".venv/bin/python"),
            vec![repo_root.join("tools/local-stack/moto/moto-local")],
        ),
    };
    if !program.exists() {
        bail!(
            "{} not found: run `make venv` in the repository (it installs the pinned \
             moto[server] from requirements-dev.txt into .venv), or set MOTO_SERVER",
            program.display()
        );
    }
    Ok((program, args))
}

impl Moto {
    /// Starts moto on `port` (a free one if `None`) and waits until it answers.
    pub async fn start(repo_root: &Path, port: Option<u16>) -> Result<Self> {
        let (binary, script) = moto_command(repo_root)?;
        let port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        let mut command = Command::new(&binary);
        command
            .args(&script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let child = spawn_server(command, std::env::var_os("MOTO_LOG").is_some())
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut moto = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            child,
        };
        moto.wait_ready().await?;
        Ok(moto)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let probe = format!("{}/moto-api/data.json", self.url);
        wait_until_ready(
            &mut self.child,
            "moto_server",
            &probe,
            Duration::from_secs(30),
            |r| Box::pin(async move { r.status().is_success() }),
        )
        .await
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Starts a server child that dies with its handle, silent unless `TEST_LOG` (or `loud`) asks
/// for its output.
pub(crate) fn spawn_server(mut command: Command, loud: bool) -> std::io::Result<Child> {
    let quiet = std::env::var_os("TEST_LOG").is_none() && !loud;
    let output = || {
        if quiet {
            Stdio::null()
        } else {
            Stdio::inherit()
        }
    };
    command
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output())
        .kill_on_drop(true)
        .spawn()
}

/// What a readiness probe makes of the server's answer.
type Ready =
    fn(reqwest::Response) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>;

/// Waits until `ready` says the answer to a GET of `url` shows a server child is up, failing
/// if the child exits first or `timeout` passes.
pub(crate) async fn wait_until_ready(
    child: &mut Child,
    what: &str,
    url: &str,
    timeout: Duration,
    ready: Ready,
) -> Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited at start ({status}); TEST_LOG=1 shows its output");
        }
        if let Ok(r) = client.get(url).send().await
            && ready(r).await
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{what} did not answer on {url} within {} s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
