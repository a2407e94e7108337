//! The functions as they deploy: the arm64 bootstraps `make build` made, run by `sam local` in
//! containers (`make sam-setup` provides the Docker engine, arm64 emulation and the base image),
//! against the local stack's AWS.
//!
//! SAM gives a container only the variables the template declares (an `--env-vars` file can
//! change their values, not add names) and the same credentials to every function. So the
//! template `sam local` reads is derived from `make build`'s (`.aws-sam/build/template.yaml`):
//! the bootstraps' directories made absolute and `AWS_ENDPOINT_URL` declared, empty, beside the
//! others; the env-vars file then gives each function its resolved variables and, as its
//! endpoint, an address of the IAM gate of its own ([`crate::gate::Gate::listen_as`]), where its
//! calls are judged against its role. The containers reach this machine at the Docker bridge's
//! gateway address, so that is where those addresses listen.

use crate::stack::{LOCAL_REGION, Stack};
use crate::template::Template;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// What `make sam-setup` and `make build` left, found.
#[derive(Debug, Clone)]
pub struct Sam {
    root: PathBuf,
    /// `.local/sam`: the dockerd's socket, and the files written for each run.
    state: PathBuf,
    sam: PathBuf,
    docker_host: String,
    /// Where the containers reach this machine.
    pub host_address: IpAddr,
}

/// The files one stack's `sam local` commands read.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub template: PathBuf,
    pub env_vars: PathBuf,
    /// moto, for SAM's own STS call.
    moto_url: String,
}

impl Prepared {
    /// Removes the files (the stack they describe is gone).
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.template);
        let _ = std::fs::remove_file(&self.env_vars);
    }
}

/// One `sam local invoke`.
#[derive(Debug)]
pub struct Invocation {
    /// What the function returned (its error object when it failed).
    pub payload: Value,
    /// SAM's and the function's log lines.
    pub logs: String,
    pub elapsed: Duration,
}

/// A running `sam local start-api` or `start-lambda`.
pub struct Server {
    child: Child,
    pub url: String,
    pub log: PathBuf,
}

const SETUP_HINT: &str = "run `make sam-setup` first (as root: it installs Docker and \
                          qemu-user-static, starts the project's dockerd and builds the bootstraps)";

impl Sam {
    /// Finds the Docker engine, `sam` and the built bootstraps, or says what to run.
    pub async fn locate(root: &Path) -> Result<Self> {
        let state = root.join(".local/sam");
        let docker_host = std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| format!("unix://{}", state.join("docker.sock").display()));
        let sam = root.join(".venv/bin/sam");
        if !sam.is_file() {
            bail!("{} is missing: run `make venv`", sam.display());
        }
        let built = root.join(".aws-sam/build/template.yaml");
        if !built.is_file() {
            bail!("{} is missing: {SETUP_HINT}", built.display());
        }
        let bridge = Command::new("docker")
            .args([
                "network",
                "inspect",
                "bridge",
                "--format",
                "{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}",
            ])
            .env("DOCKER_HOST", &docker_host)
            .output()
            .await
            .with_context(|| format!("running docker (the client): {SETUP_HINT}"))?;
        if !bridge.status.success() {
            bail!(
                "no Docker engine answers at {docker_host} ({}): {SETUP_HINT}",
                String::from_utf8_lossy(&bridge.stderr).trim()
            );
        }
        let host_address = bridge_gateway(&String::from_utf8_lossy(&bridge.stdout))?;
        Ok(Self {
            root: root.to_owned(),
            state,
            sam,
            docker_host,
            host_address,
        })
    }

    /// Writes the template and the env-vars file for `stack`'s functions, each function's
    /// endpoint a gate address of its own.
    pub async fn prepare(&self, stack: &Stack) -> Result<Prepared> {
        let build = self.root.join(".aws-sam/build");
        let mut template = Template::load(&build.join("template.yaml"))?.root;
        let resources = template["Resources"]
            .as_object_mut()
            .ok_or_else(|| anyhow!("the built template has no Resources"))?;
        let mut env_vars = Map::new();
        for (id, resource) in resources.iter_mut() {
            if resource["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            let code = resource["Properties"]["CodeUri"]
                .as_str()
                .ok_or_else(|| anyhow!("{id} has no CodeUri in the built template"))?;
            let code = build.join(code);
            if !code.join("bootstrap").is_file() {
                bail!("{} has no bootstrap: run `make build`", code.display());
            }
            resource["Properties"]["CodeUri"] = json!(code.display().to_string());
            let function = stack
                .functions
                .iter()
                .find(|f| &f.logical_id == id)
                .ok_or_else(|| anyhow!("the local stack has no function {id}"))?;
            let mut vars = stack
                .environments
                .get(&function.binary)
                .cloned()
                .unwrap_or_default();
            let endpoint = stack.gate.listen_as(id, self.host_address).await?;
            vars.insert("AWS_ENDPOINT_URL".into(), endpoint);
            env_vars.insert(id.clone(), json!(vars));
        }
        template["Globals"]["Function"]["Environment"]["Variables"]["AWS_ENDPOINT_URL"] = json!("");
        std::fs::create_dir_all(&self.state)?;
        // One pair per stack: tests may run several stacks.
        let tag = stack.aws_url.rsplit(':').next().unwrap_or("0");
        let prepared = Prepared {
            template: self.state.join(format!("template-{tag}.json")),
            env_vars: self.state.join(format!("env-vars-{tag}.json")),
            moto_url: stack.moto_url.clone(),
        };
        std::fs::write(&prepared.template, serde_json::to_vec_pretty(&template)?)?;
        std::fs::write(&prepared.env_vars, serde_json::to_vec_pretty(&env_vars)?)?;
        Ok(prepared)
    }

    /// `sam local <args>` for `prepared`, with what SAM needs offline.
    fn command(&self, prepared: &Prepared, args: &[&str]) -> Command {
        let mut command = Command::new(&self.sam);
        command
            .arg("local")
            .args(args)
            .arg("--template")
            .arg(&prepared.template)
            .arg("--env-vars")
            .arg(&prepared.env_vars)
            // No registry is reachable: the base image is the stand-in sam-setup built.
            .arg("--skip-pull-image")
            .current_dir(&self.root)
            .env("DOCKER_HOST", &self.docker_host)
            .env("SAM_CLI_TELEMETRY", "0")
            // What SAM passes to every container; the gate judges each function by the address
            // it calls, not by these.
            .env("AWS_ACCESS_KEY_ID", "sam-local")
            .env("AWS_SECRET_ACCESS_KEY", "sam-local")
            .env("AWS_DEFAULT_REGION", LOCAL_REGION)
            .env("AWS_REGION", LOCAL_REGION)
            // SAM asks STS who is calling; moto answers at once instead of a DNS timeout.
            .env("AWS_ENDPOINT_URL_STS", &prepared.moto_url)
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .kill_on_drop(true);
        command
    }

    /// `sam local invoke` of one function with `event`; the payload it returned.
    pub async fn invoke(
        &self,
        prepared: &Prepared,
        logical_id: &str,
        event: &Value,
    ) -> Result<Invocation> {
        let file = self
            .state
            .join(format!("event-{logical_id}-{}.json", ulid::Ulid::new()));
        std::fs::write(&file, serde_json::to_vec(event)?)?;
        let started = Instant::now();
        let event_arg = file.display().to_string();
        let output = self
            .command(prepared, &["invoke", logical_id, "--event", &event_arg])
            .stdin(Stdio::null())
            .output()
            .await
            .context("running sam local invoke")?;
        let _ = std::fs::remove_file(&file);
        let elapsed = started.elapsed();
        let logs = String::from_utf8_lossy(&output.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let answer = stdout.lines().rev().find(|l| !l.trim().is_empty());
        let Some(answer) = answer else {
            bail!(
                "sam local invoke {logical_id} printed no answer (exit {}):\n{logs}",
                output.status
            );
        };
        let payload = serde_json::from_str(answer)
            .with_context(|| format!("{logical_id} answered {answer:?}; logs:\n{logs}"))?;
        Ok(Invocation {
            payload,
            logs,
            elapsed,
        })
    }

    /// `sam local start-api` on `port`: the template's HTTP routes, a warm container per function.
    pub async fn start_api(&self, prepared: &Prepared, port: u16) -> Result<Server> {
        self.start(prepared, "start-api", port).await
    }

    /// `sam local start-lambda` on `port`: the Lambda Invoke API.
    pub async fn start_lambda(&self, prepared: &Prepared, port: u16) -> Result<Server> {
        self.start(prepared, "start-lambda", port).await
    }

    async fn start(&self, prepared: &Prepared, what: &str, port: u16) -> Result<Server> {
        let port = match port {
            0 => crate::moto::free_port()?,
            port => port,
        };
        // Kept after the server stops, for a failure's post-mortem (`make clean` removes them).
        let logs = self.state.join("logs");
        std::fs::create_dir_all(&logs)?;
        let log = logs.join(format!("{what}-{port}.log"));
        let out = std::fs::File::create(&log)?;
        let port_arg = port.to_string();
        let child = self
            .command(
                prepared,
                &[
                    what,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port_arg,
                    // One container per function, kept between requests as Lambda keeps them.
                    "--warm-containers",
                    "LAZY",
                ],
            )
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting sam local {what}"))?;
        let mut server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "sam local {what} exited ({status}):\n{}",
                    std::fs::read_to_string(&server.log).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let log = server.log.clone();
                server.stop().await;
                bail!(
                    "sam local {what} did not listen on port {port} within 60 s; see {}",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The bridge's gateway from `"{Gateway} {Subnet}"`: the one Docker names, else the subnet's
/// first address, which Docker gives the bridge when none is set.
fn bridge_gateway(inspected: &str) -> Result<IpAddr> {
    let mut words = inspected.split_whitespace();
    let (first, second) = (words.next(), words.next());
    let subnet = match (first, second) {
        (Some(gateway), Some(_)) => return Ok(gateway.parse()?),
        (Some(subnet), None) => subnet,
        _ => bail!("the Docker bridge network has no subnet"),
    };
    let (network, _) = subnet
        .split_once('/')
        .ok_or_else(|| anyhow!("the bridge's subnet {subnet:?} is not CIDR"))?;
    let network: std::net::Ipv4Addr = network.parse()?;
    Ok(std::net::Ipv4Addr::from(u32::from(network) + 1).into())
}

impl Server {
    /// Stops SAM as Ctrl-C would, so it removes its warm containers.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The local stack with every function run by `sam local`: the HTTP API by `start-api`, the
/// queue functions by `start-lambda`, invoked by the stack's pollers through the Invoke API.
pub struct SamStack {
    pub stack: Stack,
    pub api: Server,
    pub lambda: Server,
    prepared: Prepared,
}

impl SamStack {
    /// Starts the stack (its own API server off: `start-api` serves on `options.api_port`).
    pub async fn start(sam: &Sam, mut options: crate::StackOptions) -> Result<Self> {
        if options.api_port == 0 {
            options.api_port = crate::moto::free_port()?;
        }
        let lambda_port = crate::moto::free_port()?;
        let api_port = options.api_port;
        options.serve_api = false;
        options.lambda_endpoint = Some(format!("http://127.0.0.1:{lambda_port}"));
        let stack = Stack::start(options).await?;
        let prepared = sam.prepare(&stack).await?;
        let lambda = match sam.start_lambda(&prepared, lambda_port).await {
            Ok(l) => l,
            Err(err) => {
                stack.stop().await;
                prepared.remove();
                return Err(err);
            }
        };
        let api = match sam.start_api(&prepared, api_port).await {
            Ok(a) => a,
            Err(err) => {
                lambda.stop().await;
                stack.stop().await;
                prepared.remove();
                return Err(err);
            }
        };
        Ok(Self {
            stack,
            api,
            lambda,
            prepared,
        })
    }

    /// Stops SAM's servers (and their containers), then the stack.
    pub async fn stop(self) {
        self.api.stop().await;
        self.lambda.stop().await;
        self.stack.stop().await;
        self.prepared.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::bridge_gateway;

    #[test]
    fn the_bridge_gateway_is_the_named_one_or_the_subnets_first_address() {
        assert_eq!(
            bridge_gateway("172.18.0.9 172.18.0.0/16\n")
                .unwrap()
                .to_string(),
            "172.18.0.9"
        );
        assert_eq!(
            bridge_gateway("172.17.0.0/16\n").unwrap().to_string(),
            "172.17.0.1"
        );
        assert!(bridge_gateway("\n").is_err());
    }
}
