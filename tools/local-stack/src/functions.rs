//! The functions, built exactly as their Lambda `main.rs` builds them, from the environment
//! the template gives each. Then one local difference, made in code: callbacks may go to this
//! machine's loopback address (the test receivers listen there), and the webhook sender also
//! trusts the local receivers' certificate authority, when one is given.

use anyhow::{Result, bail};
use aws_config::SdkConfig;
use serde_json::Value;
use video2mp3_aws::Env;

/// A function's handler and what it needs.
pub enum Handler {
    Login(login::Deps),
    Account(account::Deps),
    UploadUrl(upload_url::Deps),
    Jobs(jobs::Deps),
    Convert(convert::Deps),
    Notify(notify::Deps),
    Webhook(webhook::Deps),
    Web(web::Page),
}

impl Handler {
    /// Builds the handler for a function binary, reading its configuration from `env`.
    pub async fn build(binary: &str, sdk: &SdkConfig, env: &Env) -> Result<Self> {
        Ok(match binary {
            "login" => Self::Login(login::Deps::from_env(sdk, env).await?),
            "account" => Self::Account(account::Deps::from_env(sdk, env).await?),
            "upload-url" => Self::UploadUrl(upload_url::Deps::from_env(sdk, env).await?),
            "jobs" => Self::Jobs(jobs::Deps::from_env(sdk, env).await?),
            "convert" => Self::Convert(convert::Deps::from_env(sdk, env)?),
            "notify" => Self::Notify(notify::Deps::from_env(sdk, env)?),
            "webhook" => Self::Webhook(webhook::Deps::from_env(sdk, env)?),
            // In-process, the page's uploads go to the local gate on 127.0.0.1, which its
            // policy allows already.
            "web" => Self::Web(web::Page::new(None)?),
            other => bail!(
                "the template names a function binary {other:?} that the local stack does not know"
            ),
        })
    }

    /// Calls an HTTP function; `None` for functions that are not HTTP functions.
    pub async fn http(
        &self,
        req: lambda_http::Request,
    ) -> Option<lambda_http::Response<lambda_http::Body>> {
        Some(match self {
            Self::Login(d) => login::handle(req, d).await,
            Self::Account(d) => account::handle(req, d).await,
            Self::UploadUrl(d) => upload_url::handle(req, d).await,
            Self::Jobs(d) => jobs::handle(req, d).await,
            Self::Web(page) => web::handle(req, page).await,
            Self::Convert(_) | Self::Notify(_) | Self::Webhook(_) => return None,
        })
    }

    /// Lets callbacks go to loopback addresses, and the sender trust `webhook_ca` (PEM), for
    /// receivers on this machine. Never done on AWS: no variable selects it.
    pub fn localise(&mut self, webhook_ca: Option<&str>) -> Result<()> {
        use video2mp3_domain::webhook::AddressRule;
        match self {
            Self::UploadUrl(deps) => deps.addresses = AddressRule::AlsoLoopback,
            Self::Webhook(deps) => {
                deps.addresses = AddressRule::AlsoLoopback;
                if let Some(pem) = webhook_ca {
                    let poster = webhook::HttpsPoster::new(deps.config.timeout)
                        .trusting(pem.as_bytes())
                        .map_err(|e| anyhow::anyhow!("the local webhook CA: {e}"))?;
                    deps.poster = std::sync::Arc::new(poster);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A function of the template with its handler.
pub struct Function {
    pub logical_id: String,
    pub binary: String,
    /// The function's `Events` from the template.
    pub events: Value,
    /// The function's `EventInvokeConfig` (retries and destinations of asynchronous
    /// invocations), if any.
    pub invoke_config: Value,
    /// The function's own AWS configuration (its credentials, through the IAM gate): what
    /// Lambda uses on its behalf too, e.g. to send a failed event to its destination.
    pub sdk: SdkConfig,
    pub handler: Handler,
}

impl Function {
    /// The function's events of one type (`HttpApi`, `SQS`, `SNS`), as their `Properties`.
    pub fn events_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events
            .as_object()
            .into_iter()
            .flatten()
            .filter(move |(_, e)| e["Type"] == kind)
            .map(|(_, e)| &e["Properties"])
    }
}
