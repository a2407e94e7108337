//! `GET /`: the web page. One static HTML file (its CSS and script inline) embedded at build
//! time, so the API serves the page from its own origin and the page calls the API there; it can
//! also be put on S3/CloudFront as it is (see the README).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

/// The page.
pub const INDEX_HTML: &str = include_str!("../static/index.html");

/// Serves the page.
#[tracing::instrument(skip_all)]
pub async fn handle(_req: Request) -> Response<Body> {
    let mut response = Response::new(Body::Text(INDEX_HTML.to_owned()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        // Scripts and styles are the page's own (inline); uploads and downloads go to S3.
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self' https: http://127.0.0.1:* http://localhost:*; img-src 'self' data:; \
             form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_page_is_served_as_html_with_a_content_security_policy() {
        let response = handle(Request::default()).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/html")
        );
        assert!(
            response
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
        );
        assert!(INDEX_HTML.contains("<form id=\"login\""));
    }
}
