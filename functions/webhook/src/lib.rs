//! The webhook sender: a job's end (the event `convert` publishes, through its own queue) is
//! POSTed to the job's callback URL, signed with the user's webhook key, and each try is recorded
//! on the job.
//!
//! Before every POST the URL's host is resolved again and every address checked
//! ([`video2mp3_domain::webhook::check_addresses`]); the POST then connects to those addresses
//! only, so a DNS answer cannot change between the check and the call. Redirects are not
//! followed. A try that fails (no answer, an answer other than 2xx, a host that now resolves to a
//! private address) is retried after [`backoff`], by hiding the message on the queue for that
//! long, up to [`MAX_ATTEMPTS`] tries in all; then the delivery is given up, and the job's tries
//! say why.

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use video2mp3_aws::{ConfigError, DynamoTable, Env, SystemResolver};
use video2mp3_domain::webhook::{
    self, CallbackUrl, MAX_ATTEMPTS, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookAttempt, backoff,
};
pub use video2mp3_domain::webhook::{AddressRule, Resolver};
use video2mp3_domain::{Clock, JobEvent, JobStore, PortError, SystemClock, UserStore};

/// The header with the job's id: the same for every try, so a receiver can drop a repeat.
pub const ID_HEADER: &str = "Webhook-Id";

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The web page's address (`APP_URL`); the body's `job_url` is `{app_url}/?job={id}`.
    pub app_url: String,
    /// How long one POST may take, connection included (`WEBHOOK_TIMEOUT_SECONDS`, 10).
    pub timeout: Duration,
}

/// One POST, ready to send.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: CallbackUrl,
    /// The checked addresses of the URL's host: the only ones connected to.
    pub addresses: Vec<IpAddr>,
    pub job_id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: String,
}

/// Sends a POST; the receiver's status, or why there was none.
#[async_trait]
pub trait Poster: Send + Sync {
    async fn post(&self, delivery: &Delivery) -> Result<u16, String>;
}

/// POSTs over HTTPS (rustls, the platform's roots), connecting only to the delivery's addresses,
/// following no redirect and using no proxy.
#[derive(Debug, Clone)]
pub struct HttpsPoster {
    timeout: Duration,
    extra_roots: Vec<reqwest::Certificate>,
}

impl HttpsPoster {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            extra_roots: Vec::new(),
        }
    }

    /// Also trusts `pem` (a certificate authority of a test receiver).
    pub fn trusting(mut self, pem: &[u8]) -> Result<Self, String> {
        let cert = reqwest::Certificate::from_pem(pem).map_err(|e| e.to_string())?;
        self.extra_roots.push(cert);
        Ok(self)
    }
}

#[async_trait]
impl Poster for HttpsPoster {
    async fn post(&self, delivery: &Delivery) -> Result<u16, String> {
        let host = delivery.url.host();
        let port = delivery.url.port();
        let pinned: Vec<SocketAddr> = delivery
            .addresses
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect();
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent("video2mp3-webhook/1");
        if delivery.url.literal_address().is_none() {
            builder = builder.resolve_to_addrs(&host, &pinned);
        }
        for root in &self.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder.build().map_err(|e| error_text(&e))?;
        let response = client
            .post(delivery.url.as_str())
            .header("content-type", "application/json")
            .header(ID_HEADER, &delivery.job_id)
            .header(TIMESTAMP_HEADER, delivery.timestamp.to_string())
            .header(SIGNATURE_HEADER, &delivery.signature)
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|e| error_text(&e))?;
        Ok(response.status().as_u16())
    }
}

/// An error with its causes, as one line for the job's record.
fn error_text(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Puts a message back on the queue, visible again after a wait.
#[async_trait]
pub trait Requeue: Send + Sync {
    async fn retry_after(&self, receipt_handle: &str, wait: Duration) -> Result<(), PortError>;
}

/// [`Requeue`] by SQS `ChangeMessageVisibility` on the function's queue.
#[derive(Debug, Clone)]
pub struct SqsRequeue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsRequeue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl Requeue for SqsRequeue {
    async fn retry_after(&self, receipt_handle: &str, wait: Duration) -> Result<(), PortError> {
        // SQS allows at most 12 hours.
        let seconds = wait.as_secs().min(43_200) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| PortError::backend("ChangeMessageVisibility", true, e))
    }
}

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub users: Arc<dyn UserStore>,
    pub jobs: Arc<dyn JobStore>,
    pub resolver: Arc<dyn Resolver>,
    /// Which addresses a callback may go to: [`AddressRule::PublicOnly`] but in the local stack.
    pub addresses: AddressRule,
    pub poster: Arc<dyn Poster>,
    pub requeue: Arc<dyn Requeue>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
}

impl Deps {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `APP_URL` and `WEBHOOK_TIMEOUT_SECONDS`.
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let table = Arc::new(DynamoTable::new(
            aws_sdk_dynamodb::Client::new(sdk),
            env.required("TABLE_NAME")?,
        ));
        let timeout: u64 = env.parsed_or("WEBHOOK_TIMEOUT_SECONDS", 10)?;
        if !(1..=60).contains(&timeout) {
            return Err(ConfigError::Invalid {
                name: "WEBHOOK_TIMEOUT_SECONDS",
                value: timeout.to_string(),
                reason: "must be 1 to 60 seconds".into(),
            });
        }
        let timeout = Duration::from_secs(timeout);
        Ok(Self {
            users: table.clone(),
            jobs: table,
            resolver: Arc::new(SystemResolver),
            addresses: AddressRule::PublicOnly,
            poster: Arc::new(HttpsPoster::new(timeout)),
            requeue: Arc::new(SqsRequeue::new(
                aws_sdk_sqs::Client::new(sdk),
                env.required("QUEUE_URL")?,
            )),
            clock: Arc::new(SystemClock),
            config: Config {
                app_url: env.required("APP_URL")?.trim_end_matches('/').to_owned(),
                timeout,
            },
        })
    }
}

/// Why a message could not be handled now; it is delivered again.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("a store call failed")]
    Port(#[from] PortError),
}

/// What became of one job event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The job has no callback URL, is gone, or its delivery is over already.
    NothingToDo,
    /// The receiver answered 2xx.
    Delivered,
    /// The try failed; try again after this long.
    RetryAfter(Duration),
    /// The last allowed try failed.
    GaveUp,
}

/// What the user is told when they have no key to sign with.
pub const NO_KEY: &str = "no webhook key to sign with: make one with POST /account/webhook-key, then the next try uses it";

/// Delivers one job event: checks, signs, POSTs and records the try.
pub async fn deliver(event: &JobEvent, deps: &Deps) -> Result<Outcome, WebhookError> {
    let Some(job) = deps.jobs.job(&event.user_id, &event.job_id).await? else {
        return Ok(Outcome::NothingToDo);
    };
    let Some(url) = job.callback_url.as_deref() else {
        return Ok(Outcome::NothingToDo);
    };
    let tries = job.webhook_attempts.len() as u32;
    if tries >= MAX_ATTEMPTS || job.webhook_attempts.iter().any(|a| a.delivered) {
        return Ok(Outcome::NothingToDo);
    }
    let now = deps.clock.now();
    let result = try_once(event, url, deps, now).await?;
    let attempt = WebhookAttempt {
        at: now,
        status: result.as_ref().ok().copied(),
        error: match &result {
            Ok(status) if (200..300).contains(status) => None,
            Ok(status) => Some(format!("the receiver answered HTTP {status}")),
            Err(why) => Some(why.clone()),
        },
        delivered: matches!(result, Ok(status) if (200..300).contains(&status)),
    };
    if !deps
        .jobs
        .record_webhook_attempt(&event.user_id, &event.job_id, &attempt)
        .await?
    {
        // Another delivery of the same event got there first.
        return Ok(Outcome::NothingToDo);
    }
    Ok(if attempt.delivered {
        Outcome::Delivered
    } else if tries + 1 >= MAX_ATTEMPTS {
        Outcome::GaveUp
    } else {
        Outcome::RetryAfter(backoff(tries + 1))
    })
}

/// One try: the receiver's status, or why no POST was made or answered.
async fn try_once(
    event: &JobEvent,
    url: &str,
    deps: &Deps,
    now: time::OffsetDateTime,
) -> Result<Result<u16, String>, WebhookError> {
    let url = match CallbackUrl::parse(url) {
        Ok(url) => url,
        Err(err) => return Ok(Err(err.to_string())),
    };
    let Some(key) = deps.users.webhook_key(&event.user_id).await? else {
        return Ok(Err(NO_KEY.into()));
    };
    let addresses =
        match webhook::resolve_checked(&url, deps.resolver.as_ref(), deps.addresses).await {
            Ok(addresses) => addresses,
            Err(err) => return Ok(Err(err.to_string())),
        };
    let job_url = format!("{}/?job={}", deps.config.app_url, event.job_id);
    let body = webhook::payload(event, &job_url, now);
    let timestamp = now.unix_timestamp();
    let delivery = Delivery {
        signature: webhook::sign(key.as_bytes(), timestamp, body.as_bytes()),
        url,
        addresses,
        job_id: event.job_id.to_string(),
        timestamp,
        body,
    };
    Ok(deps.poster.post(&delivery).await)
}

/// Handles one SQS batch (raw SNS deliveries of job events), reporting the messages to try
/// again: those whose try failed (hidden for their backoff first) and those a store call failed
/// for.
#[tracing::instrument(skip_all, fields(messages = event.records.len()))]
pub async fn handle(event: SqsEvent, deps: &Deps) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let event: JobEvent = match serde_json::from_str(&body) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(message_id = %id, error = %err, "not a job event; dropped");
                continue;
            }
        };
        let span = tracing::info_span!("job", job_id = %event.job_id, message_id = %id);
        let outcome = tracing::Instrument::instrument(deliver(&event, deps), span).await;
        let retry = match outcome {
            Ok(Outcome::RetryAfter(wait)) => {
                tracing::info!(job_id = %event.job_id, wait_s = wait.as_secs(), "webhook try failed; will retry");
                if let Some(handle) = record.receipt_handle.as_deref()
                    && let Err(err) = deps.requeue.retry_after(handle, wait).await
                {
                    tracing::warn!(error = ?err, "could not delay the retry; it comes sooner");
                }
                true
            }
            Ok(other) => {
                tracing::info!(job_id = %event.job_id, outcome = ?other, "webhook handled");
                false
            }
            Err(err) => {
                tracing::warn!(job_id = %event.job_id, error = ?err, "webhook will be retried");
                true
            }
        };
        if retry {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(test)]
mod tests;
