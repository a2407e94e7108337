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

/// How to start moto: `$MOTO_SERVER` if set, else `tools/moto-local` (moto_server with atomic
/// DynamoDB operations) run by the repository's `.venv/bin/python`.
pub fn moto_command(repo_root: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
    let (program, args) = match std::env::var_os("MOTO_SERVER") {
        Some(p) => (PathBuf::from(p), Vec::new()),
        None => (
            repo_root.join(".venv/bin/python"),
            vec![repo_root.join("tools/moto-local")],
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
        let quiet =
            std::env::var_os("TEST_LOG").is_none() && std::env::var_os("MOTO_LOG").is_none();
        let child = Command::new(&binary)
            .args(&script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .stderr(if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .kill_on_drop(true)
            .spawn()
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
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "moto_server exited at start ({status}); is port {} in use?",
                    self.port
                );
            }
            if let Ok(r) = client
                .get(format!("{}/moto-api/data.json", self.url))
                .send()
                .await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("moto_server did not answer on {} within 30 s", self.url);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
