//! A fault-injecting HTTP proxy in front of moto, for tests: the converter's S3 client talks to
//! it, and a rule decides per request whether to forward it, answer with an AWS-style error
//! (a real 503 `SlowDown` for the SDK's retry logic to handle), or delete the object first (a
//! real deletion in moto, in the middle of a read).

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
}

impl Seen {
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
        self.method == http::Method::PUT && !self.path_and_query.contains('?')
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

async fn forward(State(proxy): State<Arc<Proxy>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let seen = Seen {
        method: parts.method.clone(),
        path_and_query: path_and_query.clone(),
        range: parts
            .headers
            .get(http::header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        index: proxy.count.fetch_add(1, Ordering::SeqCst),
    };
    match (proxy.rule)(&seen) {
        Action::Forward => {}
        Action::Fail(status, code) => {
            proxy.faults.fetch_add(1, Ordering::SeqCst);
            return error_response(status, code);
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
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return error_response(400, "IncompleteBody");
    };
    let mut request = proxy
        .client
        .request(parts.method, format!("{}{path_and_query}", proxy.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != http::header::HOST {
            request = request.header(name, value);
        }
    }
    let upstream = match request.send().await {
        Ok(r) => r,
        Err(_) => return error_response(502, "BadGateway"),
    };
    let mut response = Response::builder().status(upstream.status().as_u16());
    for (name, value) in upstream.headers() {
        if name != http::header::TRANSFER_ENCODING && name != http::header::CONNECTION {
            response = response.header(name, value);
        }
    }
    let bytes = upstream.bytes().await.unwrap_or_default();
    response.body(Body::from(bytes)).unwrap_or_default()
}
