//! LocalStack's S3 on a port of its own, for the one thing moto cannot show: whether a presigned
//! URL binds what it was signed for. With `S3_SKIP_SIGNATURE_VALIDATION=0` it refuses a request
//! whose length, type or signature differs from the signed one, or that comes after expiry, as
//! AWS does. It runs as a plain process from `.local/localstack-venv` (`make localstack`).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::{Child, Command};

/// The credentials LocalStack accepts (a request signed with another secret is refused).
pub const ACCESS_KEY: &str = "test";
pub const SECRET_KEY: &str = "test";

/// A running LocalStack S3; stopped, and its files removed, when dropped.
#[derive(Debug)]
pub struct LocalStackS3 {
    pub url: String,
    child: Child,
    dir: PathBuf,
}

impl LocalStackS3 {
    /// Starts LocalStack's S3 on a free port and waits until it answers.
    pub async fn start(repo_root: &Path) -> Result<Self> {
        let python = repo_root.join(".local/localstack-venv/bin/python");
        if !python.exists() {
            bail!(
                "{} not found: run `make localstack` (it installs the pinned localstack-core \
                 from tools/local-stack/localstack/requirements.txt)",
                python.display()
            );
        }
        let port = crate::moto::free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "video2mp3-localstack-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("data"))?;
        std::fs::create_dir_all(dir.join("tmp"))?;
        let address = format!("127.0.0.1:{port}");
        let mut command = Command::new(&python);
        command
            .args(["-m", "localstack.runtime.main"])
            // The hypercorn server listens where it is told (the default one takes 0.0.0.0).
            .env("GATEWAY_SERVER", "hypercorn")
            .env("GATEWAY_LISTEN", &address)
            .env("LOCALSTACK_HOST", &address)
            .env("SERVICES", "s3")
            .env("S3_SKIP_SIGNATURE_VALIDATION", "0")
            // No DNS server on :53, no event reporting, no certificate download: all offline.
            .env("DNS_ADDRESS", "0")
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("FILESYSTEM_ROOT", dir.join("data"))
            // It empties $TMPDIR/localstack at start: give it a folder of its own.
            .env("TMPDIR", dir.join("tmp"));
        let child = crate::moto::spawn_server(command, false)
            .with_context(|| format!("starting {}", python.display()))?;
        let mut s3 = Self {
            url: format!("http://{address}"),
            child,
            dir,
        };
        s3.wait_ready().await?;
        Ok(s3)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let probe = format!("{}/_localstack/health", self.url);
        crate::moto::wait_until_ready(
            &mut self.child,
            "LocalStack's S3",
            &probe,
            Duration::from_secs(60),
            |r| {
                Box::pin(async move {
                    r.json::<serde_json::Value>().await.is_ok_and(|health| {
                        matches!(
                            health["services"]["s3"].as_str(),
                            Some("available" | "running")
                        )
                    })
                })
            },
        )
        .await
    }
}

impl Drop for LocalStackS3 {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
