//! `POST /login` on the in-memory user store: the right password gets a token, everything else
//! the same refusal, and a run of failures locks the address (the same rules run end to end on
//! moto in `tools/local-stack/tests/security.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use video2mp3_api::testing::{keys, read, request, signed_up};
use video2mp3_domain::memory::MemoryStore;

fn deps(store: &Arc<MemoryStore>) -> login::Deps {
    login::Deps {
        users: store.clone(),
        keys: keys(),
        lockout: Duration::from_secs(900),
    }
}

async fn log_in(
    deps: &login::Deps,
    email: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    let body = json!({"email": email, "password": password});
    read(login::handle(request(Method::POST, "/login", None, Some(body)), deps).await)
}

#[tokio::test]
async fn the_right_password_gets_a_token_for_its_user_and_nothing_else_does() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    let (ann, _) = signed_up(
        store.as_ref(),
        &deps.keys,
        "ann@example.com",
        "correct horse",
    )
    .await;

    let (status, body) = log_in(&deps, "  Ann@Example.com ", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let user = deps
        .keys
        .verify(body["token"].as_str().unwrap())
        .unwrap()
        .user;
    assert_eq!(user, ann.user_id);

    let wrong = log_in(&deps, "ann@example.com", "wrong horse").await;
    let unknown = log_in(&deps, "bob@example.com", "correct horse").await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong, unknown,
        "a wrong password and an unknown address answer alike"
    );
    let (status, _) = log_in(&deps, "ann@example.com", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn five_failures_in_a_row_lock_the_address_even_for_the_right_password() {
    let store = Arc::new(MemoryStore::new());
    let deps = deps(&store);
    signed_up(store.as_ref(), &deps.keys, "cy@example.com", "right").await;
    // A success in between starts the count again.
    for _ in 0..4 {
        assert_eq!(
            log_in(&deps, "cy@example.com", "guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        log_in(&deps, "cy@example.com", "right").await.0,
        StatusCode::OK
    );
    for _ in 0..5 {
        assert_eq!(
            log_in(&deps, "cy@example.com", "guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, body) = log_in(&deps, "cy@example.com", "right").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "locked");
    // An address without an account is locked alike.
    for _ in 0..5 {
        log_in(&deps, "nobody@example.com", "guess").await;
    }
    assert_eq!(
        log_in(&deps, "nobody@example.com", "guess").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}
