//! No one in where they do not belong: every endpoint against every kind of bad token, jobs
//! scoped to their owner, and logins locked after five failures in a row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{App, PASSWORD, spawn_app, spawn_app_with, upload};
use local_stack::client::{Answer, ApiClient};
use serde_json::json;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use video2mp3_aws::{DynamoTable, Env};
use video2mp3_domain::{JobId, JwtKeys, User, UserId, UserStore};

/// The keys the stack signs with, from its secret in (moto's) Secrets Manager.
async fn stack_keys(app: &App) -> JwtKeys {
    let env = Env::from_map(app.stack.environments["login"].clone());
    video2mp3_aws::secrets::jwt_keys(&app.stack.sdk, &env)
        .await
        .unwrap()
}

fn users(app: &App) -> DynamoTable {
    DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&app.stack.sdk),
        app.stack.table_name().unwrap(),
    )
}

/// A client sending `Authorization: <value>` (or none).
fn with_header(app: &App, value: Option<String>) -> ApiClient {
    let mut client = app.client();
    client.raw_authorization = value;
    client
}

fn bearer(app: &App, token: &str) -> ApiClient {
    with_header(app, Some(format!("Bearer {token}")))
}

/// The token `token` with its payload's `sub` replaced and the signature kept.
fn tampered(token: &str, sub: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!(sub);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The same claims with `alg: none` and no signature.
fn alg_none(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{}.", parts[1])
}

/// Calls one endpoint as `client`.
async fn call(client: &ApiClient, endpoint: &str, job: &str) -> Answer {
    match endpoint {
        "POST /uploads" => client
            .post(
                "/uploads",
                &json!({"filename": "x.mp4", "content_type": "video/mp4", "size": 10}),
            )
            .await
            .unwrap(),
        "GET /jobs" => client.get("/jobs").await.unwrap(),
        "GET /jobs/{id}" => client.get(&format!("/jobs/{job}")).await.unwrap(),
        other => panic!("unknown endpoint {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_every_bad_token_and_hides_other_users_jobs() {
    let app = spawn_app().await;
    let keys = stack_keys(&app).await;
    let ann = app.user("ann@example.com").await;
    let bob = app.user("bob@example.com").await;
    let ann_ticket = upload(&ann, "ann.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    let bob_ticket = upload(&bob, "bob.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    let bob_token = bob.token.clone().unwrap();
    let bob_id: UserId = keys.verify(&bob_token).unwrap().user;
    let now = OffsetDateTime::now_utc();

    // A third user who is deleted after logging in.
    let gone = app.user("gone@example.com").await;
    let gone_token = gone.token.clone().unwrap();
    let gone_id = keys.verify(&gone_token).unwrap().user;
    users(&app)
        .delete_user(&User::new(gone_id, "gone@example.com"))
        .await
        .unwrap();

    let other_key = JwtKeys::new(
        b"a different key, 32 bytes or more!!",
        "video2mp3",
        "video2mp3-api",
    )
    .unwrap();
    let cases: Vec<(&str, ApiClient)> = vec![
        ("no token", with_header(&app, None)),
        ("malformed", bearer(&app, "not.a.token")),
        (
            "not bearer",
            with_header(&app, Some("Basic Ym9iOnB3".into())),
        ),
        ("alg none", bearer(&app, &alg_none(&bob_token))),
        (
            "wrong key",
            bearer(&app, &other_key.issue(&bob_id, 0, now).unwrap().0),
        ),
        (
            "expired",
            bearer(
                &app,
                &keys
                    .issue(&bob_id, 0, now - time::Duration::hours(2))
                    .unwrap()
                    .0,
            ),
        ),
        (
            "tampered",
            bearer(&app, &tampered(&bob_token, &UserId::generate().to_string())),
        ),
        ("deleted user", bearer(&app, &gone_token)),
    ];
    let endpoints = ["POST /uploads", "GET /jobs", "GET /jobs/{id}"];
    let mut tried = 0;
    let mut wrong = Vec::new();
    for (name, client) in &cases {
        for endpoint in endpoints {
            tried += 1;
            let answer = call(client, endpoint, &bob_ticket.job_id).await;
            if answer.status != 401 || answer.body["error"]["code"] != "unauthorized" {
                wrong.push(format!(
                    "{name} × {endpoint}: {} {}",
                    answer.status, answer.body
                ));
            }
        }
    }

    // Another user's job answers exactly like a job that does not exist.
    tried += 1;
    let theirs = call(&ann, "GET /jobs/{id}", &bob_ticket.job_id).await;
    let missing = call(&ann, "GET /jobs/{id}", &JobId::generate().to_string()).await;
    if theirs.status != 404 || theirs.body != missing.body {
        wrong.push(format!(
            "other user's job: {} {} (a missing one: {} {})",
            theirs.status, theirs.body, missing.status, missing.body
        ));
    }
    tried += 1;
    let listed = call(&ann, "GET /jobs", "").await;
    let ids: Vec<&str> = listed.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["job_id"].as_str())
        .collect();
    if listed.status != 200 || ids != [ann_ticket.job_id.as_str()] {
        wrong.push(format!("ann's list: {} {ids:?}", listed.status));
    }
    // And the owner still gets it, with the same token kinds working when valid.
    tried += 1;
    let own = call(&bob, "GET /jobs/{id}", &bob_ticket.job_id).await;
    if own.status != 200 {
        wrong.push(format!("bob's own job: {} {}", own.status, own.body));
    }
    eprintln!(
        "authorisation matrix: {tried} cases tried, {} passed",
        tried - wrong.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

async fn login(app: &App, email: &str, password: &str) -> (Answer, Duration) {
    let started = Instant::now();
    let answer = app
        .client()
        .post("/login", &json!({"email": email, "password": password}))
        .await
        .unwrap();
    (answer, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failed_logins_lock_the_address_known_or_not() {
    let app = spawn_app_with(&[("LoginLockoutSeconds", "3")]).await;
    app.stack
        .add_user("cat@example.com", PASSWORD)
        .await
        .unwrap();
    for email in ["cat@example.com", "nobody@example.com"] {
        // Five passwords are checked (each a plain 401); the fifth failure locks the address.
        for attempt in 1..=5 {
            let (answer, _) = login(&app, email, "wrong password").await;
            assert_eq!(
                answer.status, 401,
                "{email} attempt {attempt}: {:?}",
                answer.body
            );
        }
        let (refused, _) = login(&app, email, "wrong password").await;
        assert_eq!(refused.status, 429, "{email}: {:?}", refused.body);
        assert_eq!(refused.body["error"]["code"], "locked");
        // Locked: even the right password is refused, with when to come back.
        let (sixth, _) = login(&app, email, PASSWORD).await;
        assert_eq!(sixth.status, 429, "{email}: {:?}", sixth.body);
        assert!(
            sixth.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("try again in 1 minute"),
            "{:?}",
            sixth.body
        );
    }
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (after, _) = login(&app, "cat@example.com", PASSWORD).await;
    assert_eq!(after.status, 200, "{:?}", after.body);
    // "In a row": the success cleared the count, so four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(login(&app, "cat@example.com", "nope").await.0.status, 401);
    }
    assert_eq!(login(&app, "cat@example.com", PASSWORD).await.0.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_guesses_gets_at_most_five_passwords_checked() {
    // 30 wrong passwords at once (the API's burst limit is 50): the attempt is taken before the
    // password is checked, so at most five are checked (401) and the rest refused (429).
    let app = spawn_app_with(&[("LoginLockoutSeconds", "4")]).await;
    let email = "eve@example.com";
    app.stack.add_user(email, PASSWORD).await.unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(30));
    let mut guesses = Vec::new();
    for i in 0..30 {
        let (client, barrier) = (app.client(), barrier.clone());
        guesses.push(tokio::spawn(async move {
            barrier.wait().await;
            client
                .post(
                    "/login",
                    &json!({"email": email, "password": format!("guess {i}")}),
                )
                .await
                .unwrap()
                .status
        }));
    }
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    // What was checked, seen from outside the handler: a check reads the address's
    // credentials item (EMAIL#...) through the IAM gate; a refused attempt does not.
    let checked = app
        .stack
        .gate
        .calls()
        .iter()
        .filter(|c| {
            c.function == "LoginFunction"
                && c.action == "dynamodb:GetItem"
                && c.leading_keys == [format!("EMAIL#{email}")]
        })
        .count();
    eprintln!(
        "30 guesses at once: {checked} passwords checked, {wrong} answered 401, {refused} 429"
    );
    assert!(
        (1..=5).contains(&checked),
        "{checked} checked: {statuses:?}"
    );
    assert_eq!(wrong, checked, "each checked guess is a plain 401");
    assert_eq!(wrong + refused, 30, "{statuses:?}");
    // The right password is refused until the lock ends, then accepted.
    let (right, _) = login(&app, email, PASSWORD).await;
    assert_eq!(right.status, 429, "{:?}", right.body);
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let (after, _) = login(&app, email, PASSWORD).await;
    assert_eq!(after.status, 200, "{:?}", after.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_email_and_a_wrong_password_look_the_same() {
    let app = spawn_app().await;
    app.stack
        .add_user("dan@example.com", PASSWORD)
        .await
        .unwrap();
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..4 {
        // Two addresses each, so no lockout is reached.
        let (a, ta) = login(&app, "dan@example.com", &format!("wrong {i}")).await;
        let (b, tb) = login(&app, &format!("nobody{i}@example.com"), "wrong").await;
        known.push(ta);
        unknown.push(tb);
        bodies.push((a.status, a.body, b.status, b.body));
    }
    for (status_a, body_a, status_b, body_b) in &bodies {
        assert_eq!((status_a, body_a), (status_b, body_b));
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[1].as_secs_f64(), unknown[1].as_secs_f64());
    eprintln!("login refusal medians: wrong password {k:.3} s, unknown email {u:.3} s");
    assert!(
        k / u < 3.0 && u / k < 3.0,
        "timing differs: wrong password {k:.3} s, unknown email {u:.3} s"
    );
}
