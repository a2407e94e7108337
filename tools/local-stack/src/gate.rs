//! The IAM gate: an HTTP proxy in front of moto that every function's AWS client (and every
//! presigned URL a function hands out) goes through. It names the caller from the request's
//! credentials, asks the caller's role ([`crate::iam`]) about each action the request needs,
//! and answers a refusal as AWS does, in the service's own error shape, naming the function,
//! the action and the resource. Allowed requests are streamed to moto and back.
//!
//! A function whose code runs outside the local stack's process, in a container that `sam local`
//! starts, cannot be given credentials of its own (SAM hands every container the same ones), so
//! it gets an address of its own instead ([`Gate::listen_as`]): every request there, presigned
//! URLs included, is judged against that function's role whatever key signed it.
//!
//! One AWS rule about answers is played too: S3 reports a missing object as 404 only to a
//! caller allowed `s3:ListBucket` on the bucket, and as 403 AccessDenied to anyone else.

use crate::faults::{response_head, upstream_request};
use crate::iam::request::{self, Check, Place, Unnamed};
use crate::iam::{CallRecord, HARNESS_ACCESS_KEY, Role, Roles, Verdict, log_call};
use anyhow::{Context, Result};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use futures_util::TryStreamExt;
use http::{HeaderMap, Method, StatusCode};
use std::sync::{Arc, Mutex};

/// A refusal, kept for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub function: String,
    pub action: String,
    pub resource: String,
}

struct Inner {
    upstream: String,
    client: reqwest::Client,
    roles: Arc<Roles>,
    place: Place,
    denials: Mutex<Vec<Denial>>,
    calls: Mutex<Vec<CallRecord>>,
}

/// A running gate; stops with the runtime.
pub struct Gate {
    pub url: String,
    inner: Arc<Inner>,
}

/// One of the gate's addresses: the shared one names the caller from its credentials; a
/// function's own one ([`Gate::listen_as`]) judges every request as that function.
#[derive(Clone)]
struct Listener {
    gate: Arc<Inner>,
    /// The logical id of the function whose role judges every request here.
    function: Option<String>,
}

async fn bind(listener: Listener, host: std::net::IpAddr, port: u16) -> Result<String> {
    let app = axum::Router::new().fallback(handle).with_state(listener);
    let tcp = tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding the IAM gate to {host}:{port}"))?;
    let url = format!("http://{}", tcp.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(tcp, app).await;
    });
    Ok(url)
}

impl Gate {
    /// Starts the gate on `port` (0: a free one), forwarding to `upstream` (moto's URL).
    pub async fn start(upstream: &str, roles: Arc<Roles>, place: Place, port: u16) -> Result<Self> {
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder().build()?,
            roles,
            place,
            denials: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
        });
        let url = bind(
            Listener {
                gate: inner.clone(),
                function: None,
            },
            std::net::Ipv4Addr::LOCALHOST.into(),
            port,
        )
        .await?;
        Ok(Self { url, inner })
    }

    /// A new address of the gate (a free port on `host`) where every request is judged against
    /// the role of the function `logical_id`, whatever credentials signed it: the endpoint of a
    /// function that runs in a `sam local` container (`host` is then the address the containers
    /// reach this machine at).
    pub async fn listen_as(&self, logical_id: &str, host: std::net::IpAddr) -> Result<String> {
        if !self.inner.roles.by_function.contains_key(logical_id) {
            anyhow::bail!("the template has no function {logical_id}");
        }
        bind(
            Listener {
                gate: self.inner.clone(),
                function: Some(logical_id.to_owned()),
            },
            host,
            0,
        )
        .await
    }

    /// Every call judged so far (allowed or not), oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.inner
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The calls refused so far.
    pub fn denials(&self) -> Vec<Denial> {
        self.inner
            .denials
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}

/// How a service's SDK reads an error.
#[derive(Debug, Clone, Copy)]
enum Shape {
    S3,
    /// awsJson1_0 (DynamoDB, SQS).
    Json10,
    /// awsJson1_1 (Secrets Manager).
    Json11,
    /// The query protocol (SNS).
    Query,
    /// REST-JSON (SES v2).
    RestJson,
}

fn shape(service: &str, headers: &HeaderMap) -> Shape {
    match service {
        "s3" => Shape::S3,
        "dynamodb" => Shape::Json10,
        "sqs" if headers.contains_key("x-amz-target") => Shape::Json10,
        "secretsmanager" => Shape::Json11,
        "ses" => Shape::RestJson,
        _ => Shape::Query,
    }
}

fn refusal(shape: Shape, method: &Method, code: &str, message: &str) -> Response {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let (status, content_type, body) = match shape {
        Shape::S3 => (
            StatusCode::FORBIDDEN,
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>{escaped}</Message><RequestId>local-iam</RequestId></Error>"
            ),
        ),
        Shape::Json10 => (
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.0",
            serde_json::json!({
                "__type": format!("com.amazon.coral.service#{code}Exception"),
                "message": message,
            })
            .to_string(),
        ),
        Shape::Json11 => (
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": format!("{code}Exception"), "message": message})
                .to_string(),
        ),
        Shape::Query => (
            StatusCode::FORBIDDEN,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code>\
                 <Message>{escaped}</Message></Error><RequestId>local-iam</RequestId></ErrorResponse>",
                if code == "AccessDenied" {
                    "AuthorizationError"
                } else {
                    code
                }
            ),
        ),
        Shape::RestJson => (
            StatusCode::FORBIDDEN,
            "application/json",
            serde_json::json!({"message": message}).to_string(),
        ),
    };
    let body = if *method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    let mut response = Response::builder()
        .status(status)
        .header("content-type", content_type);
    if matches!(shape, Shape::RestJson) {
        response = response.header("x-amzn-errortype", format!("{code}Exception"));
    }
    response.body(body).unwrap_or_default()
}

/// Asks `role` about `check`, records the answer (for tests and `make iam-report`), and says
/// whether it was allowed.
fn judge(gate: &Inner, role: &Role, check: &Check) -> bool {
    let verdict = role.judge(check, &gate.place.account);
    let allowed = matches!(verdict, Verdict::Allowed(_));
    let record = CallRecord {
        function: role.function.clone(),
        action: check.action.clone(),
        resource: check.resource.clone(),
        allowed,
        statements: match verdict {
            Verdict::Allowed(s) => s,
            Verdict::Denied => Vec::new(),
        },
        leading_keys: check
            .context
            .iter()
            .filter(|(k, _)| k == "dynamodb:LeadingKeys")
            .flat_map(|(_, v)| match v {
                request::ContextValue::Many(keys) => keys.clone(),
                request::ContextValue::One(key) => vec![key.clone()],
            })
            .collect(),
    };
    log_call(&record);
    if let Ok(mut calls) = gate.calls.lock()
        && calls.len() < MAX_KEPT_CALLS
    {
        calls.push(record);
    }
    allowed
}

/// How many judged calls a gate keeps for [`Gate::calls`] (a test's worth).
const MAX_KEPT_CALLS: usize = 100_000;

fn denied_message(role: &Role, account: &str, check: &Check) -> String {
    format!(
        "User: {} is not authorized to perform: {} on resource: \"{}\" because no \
         identity-based policy allows the {} action (function {}, judged by the local IAM gate \
         against its role as SAM expands template.yaml)",
        role.principal_arn(account),
        check.action,
        check.resource,
        check.action,
        role.function
    )
}

async fn handle(State(listener): State<Listener>, req: Request) -> Response {
    let gate = listener.gate;
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    // A browser's CORS preflight is not authenticated, even when it carries a presigned URL's
    // query: S3 answers it from the bucket's CORS rules.
    if parts.method == Method::OPTIONS {
        return forward(&gate, &parts, body.into_data_stream().into()).await;
    }
    let signer = request::signer(&parts.headers, &query);
    let Some(signer) = signer else {
        return refusal(
            Shape::S3,
            &parts.method,
            "AccessDenied",
            "Anonymous requests are not allowed",
        );
    };
    if signer.access_key == HARNESS_ACCESS_KEY && listener.function.is_none() {
        return forward(&gate, &parts, body.into_data_stream().into()).await;
    }
    let shape = shape(&signer.service, &parts.headers);
    let role = match &listener.function {
        Some(id) => gate.roles.by_function.get(id),
        None => gate.roles.by_access_key(&signer.access_key),
    };
    let Some(role) = role else {
        return refusal(
            shape,
            &parts.method,
            "InvalidAccessKeyId",
            &format!(
                "The access key {} does not belong to any function of the template",
                signer.access_key
            ),
        );
    };
    // S3 bodies (uploads, parts) stream through untouched; the other services' bodies are
    // small JSON or forms that name the resource.
    let (body, forwarded) = if signer.service == "s3" {
        (bytes::Bytes::new(), body.into_data_stream().into())
    } else {
        match to_bytes(body, 16 * 1024 * 1024).await {
            Ok(b) => (b.clone(), Forwarded::Bytes(b)),
            Err(_) => {
                return refusal(shape, &parts.method, "InvalidRequest", "unreadable body");
            }
        }
    };
    let checks = match request::checks(
        &gate.place,
        &signer.service,
        &parts.method,
        &path,
        &query,
        &parts.headers,
        &body,
    ) {
        Ok(c) => c,
        Err(unnamed) => return unmodelled(role, unnamed, shape, &parts.method),
    };
    if let Some(message) = first_denial(&gate, role, &checks) {
        return refusal(shape, &parts.method, "AccessDenied", &message);
    }
    let response = forward(&gate, &parts, forwarded).await;
    if response.status() == StatusCode::NOT_FOUND
        && signer.service == "s3"
        && let Some(message) = missing_object_denial(&gate, role, &path, &checks)
    {
        return refusal(Shape::S3, &parts.method, "AccessDenied", &message);
    }
    response
}

/// The refusal of a request the gate cannot name the action of: a new kind of call fails until
/// `request.rs` learns it.
fn unmodelled(role: &Role, Unnamed(why): Unnamed, shape: Shape, method: &Method) -> Response {
    let message = format!(
        "the local IAM gate cannot name the action of this request from {} ({why}); \
         teach tools/local-stack/src/iam/request.rs",
        role.function
    );
    tracing::warn!(function = %role.function, %why, "refused an unmodelled AWS request");
    refusal(shape, method, "AccessDenied", &message)
}

/// Judges every check against the role: the refusal message of the first one denied (which is
/// recorded as a denial), or `None` when all are allowed.
fn first_denial(gate: &Inner, role: &Role, checks: &[Check]) -> Option<String> {
    let check = checks.iter().find(|check| !judge(gate, role, check))?;
    tracing::warn!(function = %role.function, action = %check.action,
        resource = %check.resource, "AccessDenied by the function's role");
    if let Ok(mut d) = gate.denials.lock() {
        d.push(Denial {
            function: role.function.clone(),
            action: check.action.clone(),
            resource: check.resource.clone(),
        });
    }
    Some(denied_message(role, &gate.place.account, check))
}

/// For an object that is not there: a missing object is a 404 only for a caller who may list
/// the bucket; AWS consults s3:ListBucket just then, so the call is judged (and logged) just
/// then. The refusal message when the role may not list it.
fn missing_object_denial(
    gate: &Inner,
    role: &Role,
    path: &str,
    checks: &[Check],
) -> Option<String> {
    let read = checks.iter().find(|c| c.action == "s3:GetObject")?;
    let bucket = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let list = Check {
        action: "s3:ListBucket".into(),
        resource: format!("arn:aws:s3:::{bucket}"),
        context: Vec::new(),
    };
    (!judge(gate, role, &list)).then(|| denied_message(role, &gate.place.account, read))
}

/// A request body on its way to moto.
enum Forwarded {
    Bytes(bytes::Bytes),
    Stream(axum::body::BodyDataStream),
}

impl From<axum::body::BodyDataStream> for Forwarded {
    fn from(s: axum::body::BodyDataStream) -> Self {
        Self::Stream(s)
    }
}

async fn forward(gate: &Inner, parts: &http::request::Parts, body: Forwarded) -> Response {
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let body = match body {
        Forwarded::Bytes(b) => reqwest::Body::from(b),
        Forwarded::Stream(s) => reqwest::Body::wrap_stream(s),
    };
    let request = upstream_request(
        &gate.client,
        parts,
        format!("{}{path_and_query}", gate.upstream),
    )
    .body(body);
    let upstream = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "the IAM gate could not reach moto");
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from("moto did not answer"))
                .unwrap_or_default();
        }
    };
    let response = response_head(&upstream);
    let stream = upstream.bytes_stream().map_err(std::io::Error::other);
    response.body(Body::from_stream(stream)).unwrap_or_default()
}
