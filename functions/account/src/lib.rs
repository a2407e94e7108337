//! Accounts: `POST /signup` and `POST /signup/verify` (an account for an address that proved it
//! receives mail), `POST /password/forgot` and `POST /password/reset` (a new password through a
//! one-time link), and `DELETE /account` (everything of the user's, password confirmed).
//!
//! No answer tells whether an address has an account: sign-up and forgot answer alike either
//! way, and what differs goes by e-mail to the address itself. E-mails to one address are
//! limited ([`MAILS_PER_WINDOW`] an hour), so the service cannot flood an inbox.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use std::sync::Arc;
use video2mp3_api::{
    ApiError, authenticate, json, json_body, no_content, password, respond, store_failed,
};
use video2mp3_aws::{ConfigError, DynamoTable, Env, S3Objects, SesMailer};
use video2mp3_domain::account::{
    MAIL_WINDOW, MAILS_PER_WINDOW, RESET_TOKEN_LIFETIME, SIGNUP_TOKEN_LIFETIME, parse_reset_token,
    reset_token, signup_token, token_hash,
};
use video2mp3_domain::{
    AccountError, AccountStore, Buckets, Clock, EraseError, JobStore, JwtKeys, Mailer, ObjectStore,
    PendingSignup, PortError, SignupMode, SystemClock, User, UserId, UserStore, check_password,
    erase_account, hash_password, valid_email,
};

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `open`: anyone may sign up; `closed`: only the operator adds users.
    pub signup: SignupMode,
    /// The web page's address; the links in the e-mails open it.
    pub app_url: String,
    /// How long an address stays locked after too many wrong passwords (as login's).
    pub lockout: std::time::Duration,
    pub buckets: Buckets,
}

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub users: Arc<dyn UserStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub jobs: Arc<dyn JobStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub mailer: Arc<dyn Mailer>,
    pub keys: JwtKeys,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
}

impl Deps {
    /// Reads `TABLE_NAME`, `SIGNUP_MODE`, `APP_URL`, `SENDER_EMAIL`, `UPLOADS_BUCKET`,
    /// `MP3_BUCKET`, `LOGIN_LOCKOUT_SECONDS` and the signing key.
    pub async fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let table = Arc::new(DynamoTable::new(
            aws_sdk_dynamodb::Client::new(sdk),
            env.required("TABLE_NAME")?,
        ));
        Ok(Self {
            users: table.clone(),
            accounts: table.clone(),
            jobs: table,
            objects: Arc::new(S3Objects::new(video2mp3_aws::s3_client(sdk))),
            mailer: Arc::new(SesMailer::new(
                aws_sdk_sesv2::Client::new(sdk),
                env.required("SENDER_EMAIL")?,
            )),
            keys: video2mp3_aws::secrets::jwt_keys(sdk, env).await?,
            clock: Arc::new(SystemClock),
            config: Config {
                signup: env.parsed_or("SIGNUP_MODE", SignupMode::Open)?,
                app_url: env.required("APP_URL")?.trim_end_matches('/').to_owned(),
                lockout: std::time::Duration::from_secs(
                    env.parsed_or("LOGIN_LOCKOUT_SECONDS", video2mp3_domain::LOCKOUT.as_secs())?,
                ),
                buckets: Buckets {
                    uploads: env.required("UPLOADS_BUCKET")?,
                    mp3: env.required("MP3_BUCKET")?,
                },
            },
        })
    }
}

/// Handles one request; every outcome is a JSON response.
#[tracing::instrument(skip_all, fields(route))]
pub async fn handle(req: Request, deps: &Deps) -> Response<Body> {
    let route = format!("{} {}", req.method(), req.uri().path());
    tracing::Span::current().record("route", &route);
    respond(match (req.method().clone(), req.uri().path()) {
        (Method::POST, "/signup") => signup(&req, deps).await,
        (Method::POST, "/signup/verify") => verify(&req, deps).await,
        (Method::POST, "/password/forgot") => forgot(&req, deps).await,
        (Method::POST, "/password/reset") => reset(&req, deps).await,
        (Method::DELETE, "/account") => delete_account(&req, deps).await,
        (Method::POST, "/account/webhook-key") => webhook_key(&req, deps).await,
        _ => Err(ApiError::not_found(format!("no route {route}"))),
    })
}

fn refused(err: AccountError) -> ApiError {
    match err {
        AccountError::BadEmail(_) => ApiError::bad_request("invalid_email", err.to_string()),
        AccountError::WeakPassword(_) => ApiError::bad_request("weak_password", err.to_string()),
    }
}

fn invalid_token() -> ApiError {
    ApiError::bad_request(
        "invalid_token",
        "this link is not valid: it was used already, it has expired, or the password was \
         changed since; ask for a new one",
    )
}

fn closed(deps: &Deps) -> Result<(), ApiError> {
    match deps.config.signup {
        SignupMode::Open => Ok(()),
        SignupMode::Closed => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "signup_closed",
            "this service does not take sign-ups; ask its operator for an account",
        )),
    }
}

/// The same answer for every address, known or not.
fn check_your_email(what: &str) -> Response<Body> {
    json(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "status": "check_your_email",
            "message": format!("if the address can {what}, an e-mail with a link is on its way"),
        }),
    )
}

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "hashing task failed");
            ApiError::internal()
        })?
        .map_err(|err| {
            tracing::error!(error = %err, "hashing failed");
            ApiError::internal()
        })
}

/// Counts an e-mail to `email`; 429 when the hour's are spent.
async fn mail_slot(email: &str, deps: &Deps) -> Result<(), ApiError> {
    let now = deps.clock.now();
    let free = deps
        .accounts
        .take_mail_slot(email, now, MAILS_PER_WINDOW, MAIL_WINDOW)
        .await
        .map_err(store_failed)?;
    if free {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_emails",
        format!(
            "{MAILS_PER_WINDOW} e-mails went to this address in the last hour; check its inbox \
             (and spam folder), or try again later"
        ),
    )
    .retry_after(i64::try_from(MAIL_WINDOW.as_secs()).unwrap_or(3600)))
}

async fn send(deps: &Deps, to: &str, subject: &str, body: &str) -> Result<(), ApiError> {
    deps.mailer.send(to, subject, body).await.map_err(|err| {
        tracing::error!(error = ?err, "sending an e-mail failed");
        ApiError::internal()
    })
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn signup(req: &Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    closed(deps)?;
    let body: Credentials = json_body(req)?;
    let email = valid_email(&body.email).map_err(refused)?;
    check_password(&body.password, &email).map_err(refused)?;
    // Hashed whether or not the address has an account, so both take as long.
    let password_hash = hash(body.password).await?;
    mail_slot(&email, deps).await?;
    let app = &deps.config.app_url;
    if deps
        .users
        .credentials(&email)
        .await
        .map_err(store_failed)?
        .is_some()
    {
        let text = format!(
            "Someone (you, we hope) asked to sign up for video2mp3 with this address, which \
             already has an account.\n\nLog in at {app}/ ; if you forgot your password, ask \
             for a new one there.\n\nIf it was not you, you need do nothing."
        );
        send(deps, &email, "You already have a video2mp3 account", &text).await?;
        return Ok(check_your_email("sign up"));
    }
    let (token, token_hash) = signup_token();
    let expires = deps.clock.now() + SIGNUP_TOKEN_LIFETIME;
    let pending = PendingSignup {
        email: email.clone(),
        password_hash,
    };
    deps.accounts
        .put_signup(&token_hash, &pending, expires)
        .await
        .map_err(store_failed)?;
    let text = format!(
        "Welcome to video2mp3.\n\nConfirm your address to finish signing up (the link works \
         once, for {} hours):\n\n{app}/?verify={token}\n\nIf you did not sign up, you need do \
         nothing: no account is made without this link.",
        SIGNUP_TOKEN_LIFETIME.whole_hours()
    );
    send(deps, &email, "Confirm your video2mp3 account", &text).await?;
    tracing::info!("sign-up link sent");
    Ok(check_your_email("sign up"))
}

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

async fn verify(req: &Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    closed(deps)?;
    let body: TokenBody = json_body(req)?;
    let now = deps.clock.now();
    let pending = deps
        .accounts
        .take_signup(&token_hash(body.token.trim()), now)
        .await
        .map_err(store_failed)?
        .ok_or_else(invalid_token)?;
    let user = User::new(UserId::generate(), pending.email);
    match deps.users.create_user(&user, &pending.password_hash).await {
        Ok(()) => {}
        Err(PortError::AlreadyExists) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_verified",
                "this address has an account already; log in",
            ));
        }
        Err(err) => return Err(store_failed(err)),
    }
    tracing::info!(user_id = %user.user_id, "signed up");
    password::token_answer(&deps.keys, &user.user_id, &user.email, user.token_version)
}

#[derive(Deserialize)]
struct EmailBody {
    email: String,
}

async fn forgot(req: &Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let body: EmailBody = json_body(req)?;
    let email = valid_email(&body.email).map_err(refused)?;
    mail_slot(&email, deps).await?;
    let Some(found) = deps.users.credentials(&email).await.map_err(store_failed)? else {
        tracing::info!("reset asked for an address with no account");
        return Ok(check_your_email("log in"));
    };
    let (token, token_hash) = reset_token(&found.user_id);
    let expires = deps.clock.now() + RESET_TOKEN_LIFETIME;
    deps.accounts
        .put_reset(&found.user_id, &token_hash, found.token_version, expires)
        .await
        .map_err(store_failed)?;
    let app = &deps.config.app_url;
    let text = format!(
        "Someone (you, we hope) asked to reset the password of your video2mp3 account.\n\nSet \
         a new one here (the link works once, for {} minutes):\n\n{app}/?reset={token}\n\nIf \
         it was not you, you need do nothing: your password stays as it is.",
        RESET_TOKEN_LIFETIME.whole_minutes()
    );
    send(deps, &email, "Reset your video2mp3 password", &text).await?;
    tracing::info!(user_id = %found.user_id, "reset link sent");
    Ok(check_your_email("log in"))
}

#[derive(Deserialize)]
struct ResetBody {
    token: String,
    password: String,
}

async fn reset(req: &Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let body: ResetBody = json_body(req)?;
    let (user_id, token_hash) = parse_reset_token(&body.token).ok_or_else(invalid_token)?;
    let user = deps
        .users
        .user(&user_id)
        .await
        .map_err(store_failed)?
        .ok_or_else(invalid_token)?;
    // Checked before the token is used, so a refused password can be retried with the link.
    check_password(&body.password, &user.email).map_err(refused)?;
    let now = deps.clock.now();
    let version = deps
        .accounts
        .take_reset(&user_id, &token_hash, now)
        .await
        .map_err(store_failed)?
        .filter(|v| *v == user.token_version)
        .ok_or_else(invalid_token)?;
    let password_hash = hash(body.password).await?;
    let new_version = match deps
        .accounts
        .set_password(&user, &password_hash, version)
        .await
    {
        Ok(v) => v,
        Err(PortError::ConditionFailed) => return Err(invalid_token()),
        Err(err) => return Err(store_failed(err)),
    };
    // A new password ends a lock from guesses at the old one.
    deps.users
        .clear_login_failures(&user.email)
        .await
        .map_err(store_failed)?;
    tracing::info!(user_id = %user.user_id, "password reset");
    password::token_answer(&deps.keys, &user.user_id, &user.email, new_version)
}

/// Makes the user a new webhook key (the old one stops signing), shown this once.
async fn webhook_key(req: &Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    use video2mp3_domain::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, new_key};
    let user = authenticate(req, &deps.keys, deps.users.as_ref()).await?;
    let key = new_key();
    deps.users
        .set_webhook_key(&user.user_id, &key)
        .await
        .map_err(store_failed)?;
    tracing::info!(user_id = %user.user_id, "webhook key made");
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "webhook_key": key,
            "algorithm": "HMAC-SHA256",
            "signed": format!("{TIMESTAMP_HEADER} + \".\" + body"),
            "signature_header": SIGNATURE_HEADER,
            "timestamp_header": TIMESTAMP_HEADER,
            "note": "shown once: keep it now; a new key replaces it",
        }),
    ))
}

#[derive(Deserialize)]
struct PasswordBody {
    password: String,
}

async fn delete_account(req: &Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let user = authenticate(req, &deps.keys, deps.users.as_ref()).await?;
    let body: PasswordBody = json_body(req)?;
    let checked = password::check(
        deps.users.as_ref(),
        &user.email,
        body.password,
        deps.config.lockout,
    )
    .await?;
    if checked.user_id != user.user_id {
        return Err(ApiError::unauthorized("the token is not this address's"));
    }
    let erased = erase_account(
        deps.users.as_ref(),
        deps.jobs.as_ref(),
        deps.objects.as_ref(),
        &deps.config.buckets,
        &user,
    )
    .await;
    match erased {
        Ok(jobs) => {
            tracing::info!(user_id = %user.user_id, jobs, "account deleted");
            Ok(no_content())
        }
        Err(EraseError::Converting) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "job_converting",
            "a conversion of yours is running; delete the account once it has ended",
        )),
        Err(EraseError::Port(err)) => Err(store_failed(err)),
    }
}
