//! Sign-up, password reset and account deletion on the in-memory ports (end to end through the
//! HTTP API on moto, with the e-mails read from the local SES, in
//! `tools/local-stack/tests/accounts.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use video2mp3_api::testing::{keys, read, request};
use video2mp3_domain::memory::{ManualClock, MemoryMailer, MemoryObjects, MemoryStore};
use video2mp3_domain::{
    Buckets, EncodeSettings, Job, JobId, JobStore, SignupMode, UserStore, ValidUpload,
};

const PASSWORD: &str = "a kettle sings on mars";
const NEW_PASSWORD: &str = "seven owls read the tide";

struct World {
    store: Arc<MemoryStore>,
    mailer: Arc<MemoryMailer>,
    objects: MemoryObjects,
    clock: Arc<ManualClock>,
    deps: account::Deps,
}

fn world(signup: SignupMode) -> World {
    let clock = Arc::new(ManualClock::new());
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    let mailer = Arc::new(MemoryMailer::new());
    let objects = MemoryObjects::new();
    let deps = account::Deps {
        users: store.clone(),
        accounts: store.clone(),
        jobs: store.clone(),
        objects: Arc::new(objects.clone()),
        mailer: mailer.clone(),
        keys: keys(),
        clock: clock.clone(),
        config: account::Config {
            signup,
            app_url: "https://app.example".into(),
            lockout: Duration::from_secs(900),
            buckets: Buckets {
                uploads: "uploads".into(),
                mp3: "mp3".into(),
            },
        },
    };
    World {
        store,
        mailer,
        objects,
        clock,
        deps,
    }
}

impl World {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        read(account::handle(request(method, path, token, Some(body)), &self.deps).await)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, None, body).await
    }

    /// The token in the last link e-mailed to `to` after `marker` (`verify=` or `reset=`).
    fn link_token(&self, to: &str, marker: &str) -> String {
        let mail = self
            .mailer
            .sent()
            .into_iter()
            .rev()
            .find(|m| m.to == to && m.body.contains(marker))
            .unwrap_or_else(|| panic!("no e-mail to {to} with {marker}: {:?}", self.mailer.sent()));
        let at = mail.body.find(marker).unwrap() + marker.len();
        mail.body[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    async fn signed_up(&self, email: &str) -> String {
        let (status, body) = self
            .post("/signup", json!({"email": email, "password": PASSWORD}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let token = self.link_token(email, "/?verify=");
        let (status, body) = self.post("/signup/verify", json!({"token": token})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn signing_up_takes_a_link_that_works_once() {
    let w = world(SignupMode::Open);
    let (status, answer) = w
        .post(
            "/signup",
            json!({"email": " Ann@Example.com ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert!(
        w.store
            .credentials("ann@example.com")
            .await
            .unwrap()
            .is_none(),
        "not before the link"
    );
    let token = w.link_token("ann@example.com", "/?verify=");
    let (status, body) = w.post("/signup/verify", json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bearer = w.deps.keys.verify(body["token"].as_str().unwrap()).unwrap();
    let creds = w
        .store
        .credentials("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bearer.user, creds.user_id);
    assert!(video2mp3_domain::verify_password(
        PASSWORD,
        Some(&creds.password_hash)
    ));

    let (status, body) = w.post("/signup/verify", json!({"token": token})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used twice: {body}");
    assert_eq!(body["error"]["code"], "invalid_token");

    // Signing up again with the address answers the same, and tells the owner by e-mail.
    let (status, again) = w
        .post(
            "/signup",
            json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, &again),
        (StatusCode::ACCEPTED, &answer),
        "no enumeration"
    );
    let last = w.mailer.sent().pop().unwrap();
    assert_eq!(last.subject, "You already have a video2mp3 account");
    assert!(!last.body.contains("verify="), "{last:?}");
}

#[tokio::test]
async fn a_signup_link_expires_and_bad_input_is_refused_with_reasons() {
    let w = world(SignupMode::Open);
    w.post(
        "/signup",
        json!({"email": "bob@example.com", "password": PASSWORD}),
    )
    .await;
    let token = w.link_token("bob@example.com", "/?verify=");
    w.clock.advance(Duration::from_secs(25 * 3600));
    let (status, body) = w.post("/signup/verify", json!({"token": token})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "expired: {body}");

    let cases = [
        (
            json!({"email": "bob", "password": PASSWORD}),
            "invalid_email",
        ),
        (
            json!({"email": "bob@example.com", "password": "short"}),
            "weak_password",
        ),
        (
            json!({"email": "bob@example.com", "password": "password1234"}),
            "weak_password",
        ),
        (json!({"email": "bob@example.com"}), "invalid_body"),
    ];
    for (body, code) in cases {
        let (status, answer) = w.post("/signup", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().len() > 20);
    }
    assert_eq!(w.mailer.sent().len(), 1, "no e-mail for refused requests");
}

#[tokio::test]
async fn a_closed_service_takes_no_signups() {
    let w = world(SignupMode::Closed);
    for path in ["/signup", "/signup/verify"] {
        let (status, body) = w
            .post(
                path,
                json!({"email": "c@example.com", "password": PASSWORD, "token": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"]["code"], "signup_closed");
    }
    assert!(w.mailer.sent().is_empty());
}

#[tokio::test]
async fn e_mails_to_one_address_are_limited() {
    let w = world(SignupMode::Open);
    for _ in 0..3 {
        let (status, _) = w
            .post("/password/forgot", json!({"email": "d@example.com"}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (status, body) = w
        .post(
            "/signup",
            json!({"email": "d@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_emails");
    w.clock.advance(Duration::from_secs(3601));
    let (status, _) = w
        .post("/password/forgot", json!({"email": "d@example.com"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "a new hour");
}

#[tokio::test]
async fn a_reset_sets_a_new_password_and_ends_every_older_token() {
    let w = world(SignupMode::Open);
    let old_token = w.signed_up("eve@example.com").await;
    let (unknown_status, unknown) = w
        .post("/password/forgot", json!({"email": "nobody@example.com"}))
        .await;
    assert!(w.mailer.sent().iter().all(|m| m.to != "nobody@example.com"));
    let (status, known) = w
        .post("/password/forgot", json!({"email": "eve@example.com"}))
        .await;
    assert_eq!(
        (status, &known),
        (unknown_status, &unknown),
        "no enumeration"
    );
    let first = w.link_token("eve@example.com", "/?reset=");
    w.post("/password/forgot", json!({"email": "eve@example.com"}))
        .await;
    let second = w.link_token("eve@example.com", "/?reset=");

    let (status, body) = w
        .post(
            "/password/reset",
            json!({"token": first, "password": "qwertyuiop"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "weak_password", "{body}");
    let (status, body) = w
        .post(
            "/password/reset",
            json!({"token": first, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a weak password does not use up the link: {body}"
    );
    let new_token = body["token"].as_str().unwrap().to_owned();
    let creds = w
        .store
        .credentials("eve@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(video2mp3_domain::verify_password(
        NEW_PASSWORD,
        Some(&creds.password_hash)
    ));

    for token in [&first, &second] {
        let (status, body) = w
            .post(
                "/password/reset",
                json!({"token": token, "password": "another fine password"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "invalid_token");
    }
    // The token from before the change is refused; the new one works.
    let w = &w;
    let delete = |token: String| async move {
        w.call(
            Method::DELETE,
            "/account",
            Some(&token),
            json!({"password": "wrong"}),
        )
        .await
    };
    assert_eq!(delete(old_token).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = delete(new_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a wrong password: {body}");
    assert_eq!(body["error"]["code"], "invalid_credentials");
}

#[tokio::test]
async fn deleting_the_account_takes_everything_of_the_users() {
    let w = world(SignupMode::Open);
    let token = w.signed_up("fay@example.com").await;
    let other = w.signed_up("gus@example.com").await;
    let user = w.deps.keys.verify(&token).unwrap().user;
    let upload = ValidUpload {
        filename: "a.mp4".into(),
        content_type: "video/mp4".into(),
        size: 3,
        settings: EncodeSettings::default(),
        options: Default::default(),
    };
    for _ in 0..3 {
        let mut job = Job::awaiting_upload(user.clone(), JobId::generate(), &upload, w.clock_now());
        w.objects.put("uploads", &job.source_key, vec![1, 2, 3]);
        let mp3 = format!("mp3/{user}/{}/a.mp3", job.job_id);
        w.objects.put("mp3", &mp3, vec![4]);
        job.output_key = Some(mp3);
        w.store.create_job(&job).await.unwrap();
    }
    w.objects
        .put("uploads", "uploads/someone-else/x/y.mp4", vec![9]);

    let (status, _) = w
        .call(
            Method::DELETE,
            "/account",
            Some(&other),
            json!({"password": "not gus's password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = w
        .call(
            Method::DELETE,
            "/account",
            Some(&token),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(w.objects.keys("mp3"), Vec::<String>::new());
    assert_eq!(
        w.objects.keys("uploads"),
        vec!["uploads/someone-else/x/y.mp4".to_owned()]
    );
    assert!(w.store.jobs(&user, 10, None).await.unwrap().jobs.is_empty());
    assert_eq!(w.store.user(&user).await.unwrap(), None);
    assert!(
        w.store
            .credentials("fay@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        w.store
            .credentials("gus@example.com")
            .await
            .unwrap()
            .is_some()
    );
    let (status, _) = w
        .call(
            Method::DELETE,
            "/account",
            Some(&token),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "its token ends with it");
}

impl World {
    fn clock_now(&self) -> time::OffsetDateTime {
        use video2mp3_domain::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn a_webhook_key_is_shown_once_and_a_new_one_replaces_it() {
    let w = world(SignupMode::Open);
    let token = w.signed_up("hal@example.com").await;
    let user = w.deps.keys.verify(&token).unwrap().user;
    let (status, _) = w
        .call(Method::POST, "/account/webhook-key", None, json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = w
        .call(
            Method::POST,
            "/account/webhook-key",
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let first = body["webhook_key"].as_str().unwrap().to_owned();
    assert!(first.starts_with("whsec_"), "{first}");
    assert_eq!(body["signature_header"], "Webhook-Signature");
    assert_eq!(
        w.store.webhook_key(&user).await.unwrap().as_deref(),
        Some(first.as_str())
    );
    let (_, body) = w
        .call(
            Method::POST,
            "/account/webhook-key",
            Some(&token),
            json!({}),
        )
        .await;
    let second = body["webhook_key"].as_str().unwrap();
    assert_ne!(second, first);
    assert_eq!(
        w.store.webhook_key(&user).await.unwrap().as_deref(),
        Some(second)
    );
}
