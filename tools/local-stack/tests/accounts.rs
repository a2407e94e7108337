//! Accounts end to end through the HTTP API on the local stack, with the e-mails read from the
//! local SES: sign up, confirm, log in, convert, forget the password, reset it (the old token
//! and password refused), delete a job (its objects gone) and the account (nothing of it left
//! in the table or the buckets). Every AWS call goes through the IAM gate, as the functions'
//! roles in the template allow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, physical, spawn_app, spawn_app_with, upload};
use serde_json::json;
use std::time::Duration;

const FIRST: &str = "a kettle sings on mars";
const SECOND: &str = "seven owls read the tide";

/// The token after `marker` in the newest e-mail to `to` that has one.
async fn link_token(app: &App, to: &str, marker: &str) -> String {
    let link = local_stack::link_in_emails(&app.stack.moto_url, to, marker)
        .await
        .unwrap();
    link.split_once(marker).unwrap().1.to_owned()
}

/// Every item of the table and every key of both buckets, as text.
async fn everything_stored(app: &App) -> Vec<String> {
    let dynamo = aws_sdk_dynamodb::Client::new(&app.stack.sdk);
    let items = dynamo
        .scan()
        .table_name(physical(app, "Table"))
        .send()
        .await
        .unwrap();
    let mut all: Vec<String> = items.items().iter().map(|i| format!("{i:?}")).collect();
    let s3 = video2mp3_aws::s3_client(&app.stack.sdk);
    for bucket in ["UploadsBucket", "Mp3Bucket"] {
        let listed = s3
            .list_objects_v2()
            .bucket(physical(app, bucket))
            .send()
            .await
            .unwrap();
        all.extend(
            listed
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_up_resets_the_password_deletes_a_job_and_leaves() {
    let app = spawn_app().await;
    let email = "zoe@example.com";
    let anonymous = app.client();

    let a = anonymous
        .post("/signup", &json!({"email": email, "password": FIRST}))
        .await
        .unwrap();
    assert_eq!(a.status, 202, "{}", a.body);
    let verify = link_token(&app, email, "/?verify=").await;
    let a = anonymous
        .post("/signup/verify", &json!({"token": verify}))
        .await
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    let mut zoe = app.client();
    zoe.login(email, FIRST).await.unwrap();
    let first = upload(&zoe, "first.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    let done = zoe
        .wait_for_job(&first.job_id, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(done["status"], "done", "{done}");

    // Forgotten password: a link by e-mail; the new password works, the old one and every
    // token from before do not.
    let a = anonymous
        .post("/password/forgot", &json!({"email": email}))
        .await
        .unwrap();
    assert_eq!(a.status, 202, "{}", a.body);
    let reset = link_token(&app, email, "/?reset=").await;
    let a = anonymous
        .post(
            "/password/reset",
            &json!({"token": reset, "password": SECOND}),
        )
        .await
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    let again = anonymous
        .post(
            "/password/reset",
            &json!({"token": reset, "password": "a third fine password"}),
        )
        .await
        .unwrap();
    assert_eq!(again.status, 400, "the link works once: {}", again.body);
    let stale = zoe.get("/jobs").await.unwrap();
    assert_eq!(
        stale.status, 401,
        "a token from before the reset: {}",
        stale.body
    );
    assert!(
        app.client().login(email, FIRST).await.is_err(),
        "the old password"
    );
    zoe.login(email, SECOND).await.unwrap();

    // Deleting a job deletes its upload and MP3.
    let before = everything_stored(&app).await;
    let job_keys: Vec<&String> = before
        .iter()
        .filter(|k| k.contains(&first.job_id))
        .collect();
    assert!(
        job_keys.len() >= 3,
        "the job, its upload and its MP3: {job_keys:?}"
    );
    let a = zoe
        .delete(&format!("/jobs/{}", first.job_id), None)
        .await
        .unwrap();
    assert_eq!(a.status, 204, "{}", a.body);
    let after = everything_stored(&app).await;
    assert!(
        after.iter().all(|k| !k.contains(&first.job_id)),
        "left of the job: {after:?}"
    );
    assert_eq!(
        zoe.get(&format!("/jobs/{}", first.job_id))
            .await
            .unwrap()
            .status,
        404
    );

    // Deleting the account: the password is asked for, then nothing of the user is left.
    let second = upload(&zoe, "second.mp4", "video/mp4", app.fixture("sample.mp4")).await;
    zoe.wait_for_job(&second.job_id, Duration::from_secs(120))
        .await
        .unwrap();
    let wrong = zoe
        .delete("/account", Some(&json!({"password": FIRST})))
        .await
        .unwrap();
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let a = zoe
        .delete("/account", Some(&json!({"password": SECOND})))
        .await
        .unwrap();
    assert_eq!(a.status, 204, "{}", a.body);
    let env = video2mp3_aws::Env::from_map(app.stack.environments["account"].clone());
    let keys = video2mp3_aws::secrets::jwt_keys(&app.stack.sdk, &env)
        .await
        .unwrap();
    let user = keys
        .verify(zoe.token.as_deref().unwrap())
        .unwrap()
        .user
        .to_string();
    let left: Vec<String> = everything_stored(&app)
        .await
        .into_iter()
        .filter(|k| k.contains(&user) || k.contains(email))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "left of the user");
    assert_eq!(zoe.get("/jobs").await.unwrap().status, 401);
    assert!(app.client().login(email, SECOND).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_deployment_takes_no_signups() {
    let app = spawn_app_with(&[("SignupMode", "closed")]).await;
    let a = app
        .client()
        .post(
            "/signup",
            &json!({"email": "yan@example.com", "password": FIRST}),
        )
        .await
        .unwrap();
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(a.body["error"]["code"], "signup_closed");
    assert!(app.emails_to("yan@example.com", 1).await.is_empty());
}
