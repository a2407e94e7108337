//! `GET /`: the web page. One static HTML file (its CSS and script inline) embedded at build
//! time, so the API serves the page from its own origin and the page calls the API there; it can
//! also be put on S3/CloudFront as it is (see the README).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

/// The page.
pub const INDEX_HTML: &str = include_str!("../static/index.html");

/// What the page is served with: its headers, the Content-Security-Policy among them.
#[derive(Debug, Clone)]
pub struct Page {
    csp: header::HeaderValue,
}

/// A configuration the page cannot be served with.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Page {
    /// The page's headers. Scripts and styles are its own (inline); it calls the API on its own
    /// origin, and uploads and downloads go to S3 (https). `aws_endpoint` is
    /// `AWS_ENDPOINT_URL`, set only where a local stand-in plays AWS: the presigned URLs then
    /// point at that endpoint's host, so the page may connect there too.
    pub fn new(aws_endpoint: Option<&str>) -> Result<Self, ConfigError> {
        let mut connect = String::from("'self' https: http://127.0.0.1:* http://localhost:*");
        if let Some(endpoint) = aws_endpoint.filter(|e| !e.is_empty()) {
            let uri: lambda_http::http::Uri = endpoint
                .parse()
                .map_err(|e| ConfigError(format!("AWS_ENDPOINT_URL {endpoint:?}: {e}")))?;
            match (uri.scheme_str(), uri.host()) {
                (Some(scheme @ ("http" | "https")), Some(host)) => {
                    connect.push_str(&format!(" {scheme}://{host}:*"));
                }
                _ => {
                    return Err(ConfigError(format!(
                        "AWS_ENDPOINT_URL {endpoint:?} is not an http(s) URL with a host"
                    )));
                }
            }
        }
        let csp = format!(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src {connect}; img-src 'self' data:; form-action 'none'; \
             frame-ancestors 'none'; base-uri 'none'"
        );
        let csp = header::HeaderValue::from_str(&csp)
            .map_err(|e| ConfigError(format!("the Content-Security-Policy: {e}")))?;
        Ok(Self { csp })
    }

    /// From the process's environment (the Lambda's).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(std::env::var("AWS_ENDPOINT_URL").ok().as_deref())
    }
}

/// Serves the page.
#[tracing::instrument(skip_all)]
pub async fn handle(_req: Request, page: &Page) -> Response<Body> {
    let mut response = Response::new(Body::Text(INDEX_HTML.to_owned()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    headers.insert(header::CONTENT_SECURITY_POLICY, page.csp.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csp(page: &Page) -> String {
        page.csp.to_str().unwrap_or_default().to_owned()
    }

    #[tokio::test]
    async fn the_page_is_served_as_html_with_a_content_security_policy() {
        let page = Page::new(None).unwrap_or_else(|e| panic!("{e}"));
        let response = handle(Request::default(), &page).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/html")
        );
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap_or_default(),
            csp(&page)
        );
        assert!(
            csp(&page).contains("connect-src 'self' https: http://127.0.0.1:* http://localhost:*;")
        );
        assert!(INDEX_HTML.contains("<form id=\"login\""));
    }

    #[test]
    fn a_local_aws_endpoints_host_may_be_connected_to_and_nothing_else_is_added() {
        let local = Page::new(Some("http://172.17.0.1:41234")).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            csp(&local).contains(" http://172.17.0.1:*;"),
            "{}",
            csp(&local)
        );
        let empty = Page::new(Some("")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            csp(&empty),
            csp(&Page::new(None).unwrap_or_else(|e| panic!("{e}")))
        );
        for bad in ["ftp://x", "not a url", "/relative", "http://a b"] {
            assert!(Page::new(Some(bad)).is_err(), "{bad}");
        }
    }
}
