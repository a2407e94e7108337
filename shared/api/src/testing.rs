//! What the HTTP functions' own tests share: a signing key, a signed-up user with a token,
//! requests as API Gateway hands them over, and answers read back. Built with the `testing`
//! feature, for tests only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use std::collections::HashMap;
use video2mp3_domain::{JwtKeys, User, UserId, UserStore, hash_password};

/// The key every test signs with.
pub fn keys() -> JwtKeys {
    JwtKeys::new(
        b"a test signing key of at least thirty-two bytes",
        "video2mp3",
        "video2mp3",
    )
    .unwrap()
}

/// A user with `email` and `password` in `users`, and a token for them.
pub async fn signed_up(
    users: &dyn UserStore,
    keys: &JwtKeys,
    email: &str,
    password: &str,
) -> (User, String) {
    let user = User::new(UserId::generate(), email);
    users
        .create_user(&user, &hash_password(password).unwrap())
        .await
        .unwrap();
    let (token, _) = keys
        .issue(&user.user_id, 0, time::OffsetDateTime::now_utc())
        .unwrap();
    (user, token)
}

/// A request to `path` (`/jobs/{id}`'s id given in `id`), with a bearer `token` and a JSON
/// `body` when given, and the query string's parameters.
pub fn request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let body = body.map_or(Body::Empty, |b| Body::Text(b.to_string()));
    let mut req = builder.body(body).unwrap();
    let query: HashMap<String, String> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if !query.is_empty() {
        req = req.with_query_string_parameters(query);
    }
    if let Some(id) = path.strip_prefix("/jobs/") {
        req = req.with_path_parameters(HashMap::from([("id".to_owned(), id.to_owned())]));
    }
    req
}

/// An answer's status and JSON body (`null` when it has none).
pub fn read(response: Response<Body>) -> (StatusCode, serde_json::Value) {
    let status = response.status();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap(),
        _ => serde_json::Value::Null,
    };
    (status, body)
}
