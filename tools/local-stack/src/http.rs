//! The HTTP API: each request is matched against the template's `HttpApi` routes, turned into
//! the API Gateway payload 2.0 event Lambda would receive, and passed through `lambda_http`'s
//! own conversion to the function's handler.

use crate::functions::Function;
use crate::template::{Template, scalar};
use anyhow::{Context, Result};
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// API Gateway's payload limit.
const MAX_BODY: usize = 10 * 1024 * 1024;

struct Route {
    method: String,
    path: String,
    segments: Vec<String>,
    function: Arc<Function>,
}

struct Api {
    routes: Vec<Route>,
    cors: Value,
}

impl Route {
    /// Path parameters when `path` matches this route.
    fn matches(&self, method: &str, path: &str) -> Option<Map<String, Value>> {
        if !self.method.eq_ignore_ascii_case(method) && self.method != "ANY" {
            return None;
        }
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (pattern, part) in self.segments.iter().zip(parts) {
            match pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !part.is_empty() => {
                    let decoded = percent_decode(part);
                    params.insert(name.to_owned(), Value::String(decoded));
                }
                Some(_) => return None,
                None if pattern == part => {}
                None => return None,
            }
        }
        Some(params)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Binds the API and serves it until `shutdown`; returns its base URL.
pub async fn serve(
    template: &Template,
    functions: &[Arc<Function>],
    port: u16,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(String, JoinHandle<()>)> {
    let mut routes = Vec::new();
    for function in functions {
        for event in function.events_of("HttpApi") {
            let path = scalar(&event["Path"]).context("HttpApi event without Path")?;
            routes.push(Route {
                method: scalar(&event["Method"])
                    .unwrap_or_else(|| "ANY".into())
                    .to_uppercase(),
                segments: path
                    .trim_end_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect(),
                path,
                function: function.clone(),
            });
        }
    }
    let cors = template
        .resources_of("AWS::Serverless::HttpApi")
        .next()
        .map(|(_, api)| api["Properties"]["CorsConfiguration"].clone())
        .unwrap_or(Value::Null);
    let api = Arc::new(Api { routes, cors });
    let app = axum::Router::new().fallback(dispatch).with_state(api);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding the API to port {port}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %err, "the API server stopped");
        }
    });
    Ok((url, task))
}

fn cors_headers(cors: &Value, builder: http::response::Builder) -> http::response::Builder {
    if cors.is_null() {
        return builder;
    }
    let join = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().filter_map(scalar).collect::<Vec<_>>().join(","))
            .unwrap_or_default()
    };
    builder
        .header("access-control-allow-origin", join(&cors["AllowOrigins"]))
        .header("access-control-allow-headers", join(&cors["AllowHeaders"]))
        .header("access-control-allow-methods", join(&cors["AllowMethods"]))
}

fn plain(status: u16, message: &str, cors: &Value) -> Response {
    cors_headers(cors, Response::builder().status(status))
        .header("content-type", "application/json")
        .body(AxumBody::from(json!({ "message": message }).to_string()))
        .unwrap_or_default()
}

async fn dispatch(State(api): State<Arc<Api>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    if method == "OPTIONS" {
        return cors_headers(&api.cors, Response::builder().status(204))
            .body(AxumBody::empty())
            .unwrap_or_default();
    }
    let Some((route, params)) = api
        .routes
        .iter()
        .find_map(|r| r.matches(&method, &path).map(|p| (r, p)))
    else {
        return plain(404, "Not Found", &api.cors);
    };
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return plain(413, "Request Entity Too Large", &api.cors);
    };
    let request_id = ulid::Ulid::new().to_string();
    let route_key = format!("{} {}", route.method, route.path);
    let span = tracing::info_span!("request", %request_id, function = %route.function.logical_id, route = %route_key);
    let _guard = span.enter();

    let event = gateway_event(&parts, &route_key, params, &bytes, &request_id);
    let lambda_request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(err) => {
            tracing::error!(error = %err, "could not build the API Gateway event");
            return plain(500, "Internal Server Error", &api.cors);
        }
    };
    drop(_guard);
    let response = {
        let future = route.function.handler.http(lambda_request);
        tracing::Instrument::instrument(future, span.clone()).await
    };
    let Some(response) = response else {
        return plain(500, "Internal Server Error", &api.cors);
    };
    let status = response.status();
    tracing::info!(parent: &span, status = status.as_u16(), "answered");
    into_http(response, &api.cors)
}

/// The API Gateway (HTTP API, payload format 2.0) event for a request to `route_key`.
fn gateway_event(
    parts: &axum::http::request::Parts,
    route_key: &str,
    params: Map<String, Value>,
    bytes: &[u8],
    request_id: &str,
) -> Value {
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let (body, is_base64) = match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            true,
        ),
    };
    let now = time::OffsetDateTime::now_utc();
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "pathParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "requestContext": {
            "accountId": crate::stack::LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": parts.headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.to_string(),
            "timeEpoch": now.unix_timestamp() * 1000,
        },
        "body": if bytes.is_empty() { Value::Null } else { Value::String(body) },
        "isBase64Encoded": is_base64,
    })
}

/// A function's answer as the HTTP response, with the API's CORS headers.
fn into_http(response: lambda_http::Response<lambda_http::Body>, cors: &Value) -> Response {
    let (resp_parts, resp_body) = response.into_parts();
    let mut builder = cors_headers(cors, Response::builder().status(resp_parts.status));
    for (name, value) in &resp_parts.headers {
        builder = builder.header(name, value);
    }
    let bytes: Vec<u8> = match resp_body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(t) => t.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => Vec::new(),
    };
    builder.body(AxumBody::from(bytes)).unwrap_or_default()
}
