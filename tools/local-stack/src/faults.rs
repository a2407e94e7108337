//! A fault-injecting HTTP proxy in front of moto, for tests: the converter's clients talk to
//! it, and a rule decides per request whether to forward it, answer with an AWS-style error
//! (a real 503 `SlowDown` for the SDK's retry logic to handle), or delete the object first (a
//! real deletion in moto, in the middle of a read). Errors take each service's own shape: XML
//! for S3, JSON with `__type` for DynamoDB (its `X-Amz-Target` names the operation), the query
//! protocol's `ErrorResponse` for SNS (its form body names the action).

use anyhow::Result;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a request looks like to a rule.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: http::Method,
    /// Path and query, e.g. `/bucket/key?partNumber=2&uploadId=...`.
    pub path_and_query: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// How many requests the proxy had seen before this one.
    pub index: usize,
    /// The operation of a JSON-protocol call (`X-Amz-Target`, e.g. `DynamoDB_20120810.GetItem`).
    pub target: Option<String>,
    /// The `Action` of a query-protocol call (SNS, SQS), e.g. `Publish`.
    pub action: Option<String>,
    /// The request body, for a JSON-protocol call (DynamoDB); empty otherwise.
    pub json_body: String,
}

impl Seen {
    /// The operation, whatever the protocol: `GetItem`, `Publish`, or the S3 method and path.
    pub fn operation(&self) -> String {
        if let Some(target) = &self.target {
            return target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        if let Some(action) = &self.action {
            return action.clone();
        }
        format!("S3 {} {}", self.method, self.path_and_query)
    }
    /// A ranged GET (a read of part of an object).
    pub fn is_ranged_get(&self) -> bool {
        self.method == http::Method::GET && self.range.is_some()
    }
    /// An `UploadPart` of a multipart upload.
    pub fn is_upload_part(&self) -> bool {
        self.method == http::Method::PUT && self.path_and_query.contains("partNumber=")
    }
    /// A PUT of a whole object (not a part).
    pub fn is_put_object(&self) -> bool {
        // The SDK may add `?x-id=PutObject`; parts and multipart calls carry their own queries.
        self.method == http::Method::PUT
            && !self.path_and_query.contains("partNumber=")
            && !self.path_and_query.contains("uploadId=")
            && !self.path_and_query.contains("?uploads")
    }
}

/// What the proxy does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Forward,
    /// Answer with this status and S3 error code, without forwarding.
    Fail(u16, &'static str),
    /// Delete the object the request names, then forward the request.
    DeleteObjectFirst,
}

type Rule = Arc<dyn Fn(&Seen) -> Action + Send + Sync>;

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    rule: Rule,
    count: AtomicUsize,
    faults: AtomicUsize,
}

/// A running proxy; stops with the runtime.
pub struct FaultProxy {
    pub url: String,
    proxy: Arc<Proxy>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (moto's URL) applying `rule` to every request.
    pub async fn start(
        upstream: &str,
        rule: impl Fn(&Seen) -> Action + Send + Sync + 'static,
    ) -> Result<Self> {
        let proxy = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder().build()?,
            rule: Arc::new(rule),
            count: AtomicUsize::new(0),
            faults: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, proxy })
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.proxy.count.load(Ordering::SeqCst)
    }

    /// Requests answered with a fault or preceded by a deletion.
    pub fn faults(&self) -> usize {
        self.proxy.faults.load(Ordering::SeqCst)
    }
}

fn error_response(status: u16, code: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>injected by the test proxy</Message><RequestId>fault</RequestId></Error>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// The error in the shape the calling service's SDK reads.
fn service_error(seen: &Seen, status: u16, code: &str) -> Response {
    if seen.target.is_some() {
        let body = format!(
            "{{\"__type\":\"com.amazonaws.dynamodb.v20120810#{code}\",\"message\":\"injected by the test proxy\"}}"
        );
        return Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amzn-errortype", code)
            .body(Body::from(body))
            .unwrap_or_default();
    }
    if seen.action.is_some() {
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        let body = format!(
            "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>\
             <Message>injected by the test proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        );
        return Response::builder()
            .status(status)
            .header("content-type", "text/xml")
            .body(Body::from(body))
            .unwrap_or_default();
    }
    error_response(status, code)
}

/// What the rule is shown of a request: its method, path, range, target or action, and a
/// JSON body.
fn seen(parts: &http::request::Parts, body: &[u8], path_and_query: String, index: usize) -> Seen {
    let is_form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let seen = Seen {
        method: parts.method.clone(),
        path_and_query,
        range: parts
            .headers
            .get(http::header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        index,
        target: parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        action: is_form
            .then(|| {
                form_urlencoded::parse(body)
                    .find(|(k, _)| k == "Action")
                    .map(|(_, v)| v.into_owned())
            })
            .flatten(),
        json_body: String::new(),
    };
    Seen {
        json_body: if seen.target.is_some() {
            String::from_utf8_lossy(body).into_owned()
        } else {
            String::new()
        },
        ..seen
    }
}

async fn forward(State(proxy): State<Arc<Proxy>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return error_response(400, "IncompleteBody");
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let seen = seen(
        &parts,
        &body,
        path_and_query.clone(),
        proxy.count.fetch_add(1, Ordering::SeqCst),
    );
    match (proxy.rule)(&seen) {
        Action::Forward => {}
        Action::Fail(status, code) => {
            proxy.faults.fetch_add(1, Ordering::SeqCst);
            return service_error(&seen, status, code);
        }
        Action::DeleteObjectFirst => {
            proxy.faults.fetch_add(1, Ordering::SeqCst);
            let path = parts.uri.path();
            let _ = proxy
                .client
                .delete(format!("{}{path}", proxy.upstream))
                .header("authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
                .send()
                .await;
        }
    }
    let request = upstream_request(
        &proxy.client,
        &parts,
        format!("{}{path_and_query}", proxy.upstream),
    )
    .body(body);
    let upstream = match request.send().await {
        Ok(r) => r,
        Err(_) => return error_response(502, "BadGateway"),
    };
    let response = response_head(&upstream);
    let bytes = upstream.bytes().await.unwrap_or_default();
    response.body(Body::from(bytes)).unwrap_or_default()
}

/// The request a proxy sends on to `url`: the client's method and headers, less `Host`.
pub(crate) fn upstream_request(
    client: &reqwest::Client,
    parts: &http::request::Parts,
    url: String,
) -> reqwest::RequestBuilder {
    let mut request = client.request(parts.method.clone(), url);
    for (name, value) in &parts.headers {
        if name != http::header::HOST {
            request = request.header(name, value);
        }
    }
    request
}

/// The status and headers of the upstream answer, for the proxy's own answer (less the
/// hop-by-hop ones).
pub(crate) fn response_head(upstream: &reqwest::Response) -> http::response::Builder {
    let mut response = Response::builder().status(upstream.status().as_u16());
    for (name, value) in upstream.headers() {
        if name != http::header::TRANSFER_ENCODING && name != http::header::CONNECTION {
            response = response.header(name, value);
        }
    }
    response
}
