//! `POST /login`: checks an email and password and issues a bearer token.
//!
//! The body is `{"email","password"}`; older clients send HTTP Basic instead, which is accepted
//! too. An unknown email and a wrong password get the same answer, after the same work. Five
//! failed logins in a row lock the address for `LOGIN_LOCKOUT_SECONDS` (15 minutes), counted in
//! DynamoDB so every instance sees them, and counted alike for addresses with no account.

use base64::Engine;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use video2mp3_api::{ApiError, json, respond};
use video2mp3_aws::{ConfigError, DynamoTable, Env};
use video2mp3_domain::{
    JwtKeys, LoginAttempt, MAX_FAILED_LOGINS, UserStore, normalise_email, verify_password,
};

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub users: Arc<dyn UserStore>,
    pub keys: JwtKeys,
    /// How long an address stays locked after [`MAX_FAILED_LOGINS`] failures in a row.
    pub lockout: std::time::Duration,
}

impl Deps {
    /// Reads `TABLE_NAME`, the signing key (`JWT_SECRET_ARN`) and `LOGIN_LOCKOUT_SECONDS`
    /// (default 900) from `env`.
    pub async fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let table = env.required("TABLE_NAME")?;
        Ok(Self {
            users: Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(sdk), table)),
            keys: video2mp3_aws::secrets::jwt_keys(sdk, env).await?,
            lockout: std::time::Duration::from_secs(
                env.parsed_or("LOGIN_LOCKOUT_SECONDS", video2mp3_domain::LOCKOUT.as_secs())?,
            ),
        })
    }
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (email, password) = text.split_once(':')?;
    Some((email.to_owned(), password.to_owned()))
}

fn credentials(req: &Request) -> Result<(String, String), ApiError> {
    if let Some(basic) = basic_credentials(req) {
        return Ok(basic);
    }
    let body: LoginBody = video2mp3_api::json_body(req)?;
    Ok((body.email, body.password))
}

/// Handles one request; every outcome, including store failures, is a JSON response.
#[tracing::instrument(skip_all)]
pub async fn handle(req: Request, deps: &Deps) -> Response<Body> {
    respond(login(req, deps).await)
}

async fn login(req: Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let (email, password) = credentials(&req)?;
    let email = normalise_email(&email);
    if email.is_empty() || password.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "email and password are required",
        ));
    }
    let store_failed = |err: video2mp3_domain::PortError| {
        tracing::error!(error = ?err, "reading or writing credentials failed");
        ApiError::internal()
    };
    let now = OffsetDateTime::now_utc();
    // The attempt is taken before the password is checked, in one conditional write: a burst
    // of guesses gets at most MAX_FAILED_LOGINS passwords checked, the rest are refused.
    let attempt = deps
        .users
        .take_login_attempt(&email, now, MAX_FAILED_LOGINS, deps.lockout)
        .await
        .map_err(store_failed)?;
    let count = match attempt {
        LoginAttempt::Locked { until } => return Err(locked(until, now)),
        LoginAttempt::Taken { count } => count,
    };
    let found = deps.users.credentials(&email).await.map_err(store_failed)?;
    let hash = found.as_ref().map(|c| c.password_hash.clone());
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, hash.as_deref()))
        .await
        .unwrap_or(false);
    let (true, Some(user)) = (ok, found) else {
        return Err(refuse(&email, count, now, deps).await);
    };
    // Right: the attempts in a row start again.
    deps.users
        .clear_login_failures(&email)
        .await
        .map_err(store_failed)?;
    let (token, expires_at) = deps
        .keys
        .issue(&user.user_id, user.token_version, OffsetDateTime::now_utc())
        .map_err(|err| {
            tracing::error!(error = ?err, "signing a token failed");
            ApiError::internal()
        })?;
    tracing::info!(user_id = %user.user_id, "logged in");
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires_at.format(&Rfc3339).unwrap_or_default(),
        }),
    ))
}

/// The answer to a wrong password or an unknown address (the same for both), after locking the
/// address if this was the last attempt allowed in a row.
async fn refuse(email: &str, count: u32, now: OffsetDateTime, deps: &Deps) -> ApiError {
    if count >= MAX_FAILED_LOGINS
        && let Err(err) = deps.users.lock_login(email, now + deps.lockout).await
    {
        tracing::error!(error = ?err, "locking the address failed");
        return ApiError::internal();
    }
    tracing::info!(attempt = count, "login refused");
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong email or password",
    )
}

/// The answer while an address is locked: 429 with how long to wait (also in `Retry-After`).
fn locked(until: OffsetDateTime, now: OffsetDateTime) -> ApiError {
    let seconds = (until - now).whole_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "locked",
        format!(
            "too many failed logins in a row; try again in {minutes} minute{}",
            if minutes == 1 { "" } else { "s" }
        ),
    )
    .retry_after(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read() {
        let mut req = Request::new(Body::Empty);
        req.headers_mut().insert(
            header::AUTHORIZATION,
            "Basic YW5uQGV4YW1wbGUuY29tOnBhc3M6d29yZA=="
                .parse()
                .unwrap(),
        );
        assert_eq!(
            basic_credentials(&req),
            Some(("ann@example.com".into(), "pass:word".into()))
        );
    }
}
