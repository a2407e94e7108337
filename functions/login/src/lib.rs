//! `POST /login`: checks an email and password and issues a bearer token.
//!
//! The body is `{"email","password"}`; older clients send HTTP Basic instead, which is accepted
//! too. An unknown email and a wrong password get the same answer, after the same work. Five
//! failed logins in a row lock the address for `LOGIN_LOCKOUT_SECONDS` (15 minutes), counted in
//! DynamoDB so every instance sees them, and counted alike for addresses with no account.

use base64::Engine;
use lambda_http::http::header;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use std::sync::Arc;
use video2mp3_api::{ApiError, password, respond};
use video2mp3_aws::{ConfigError, DynamoTable, Env};
use video2mp3_domain::{JwtKeys, UserStore, normalise_email};

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
    let user = password::check(deps.users.as_ref(), &email, password, deps.lockout).await?;
    tracing::info!(user_id = %user.user_id, "logged in");
    password::token_answer(&deps.keys, &user.user_id, &email, user.token_version)
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
