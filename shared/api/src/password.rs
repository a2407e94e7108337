//! Checking a password the way login does, for every route that asks for one (`POST /login`,
//! `DELETE /account`): one attempt taken before the check, in one conditional write, so a burst
//! of guesses gets at most [`MAX_FAILED_LOGINS`] passwords checked; an unknown address and a
//! wrong password answered alike, after the same work; and the token a right password earns.

use crate::{ApiError, json, store_failed};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use video2mp3_domain::{
    JwtKeys, LoginAttempt, MAX_FAILED_LOGINS, UserCredentials, UserId, UserStore, verify_password,
};

/// The credentials of `email` (normalised) if `password` is theirs; 401 `invalid_credentials`
/// if not (or there is no such address), 429 `locked` while the address is locked.
pub async fn check(
    users: &dyn UserStore,
    email: &str,
    password: String,
    lockout: Duration,
) -> Result<UserCredentials, ApiError> {
    let now = OffsetDateTime::now_utc();
    let attempt = users
        .take_login_attempt(email, now, MAX_FAILED_LOGINS, lockout)
        .await
        .map_err(store_failed)?;
    let count = match attempt {
        LoginAttempt::Locked { until } => return Err(locked(until, now)),
        LoginAttempt::Taken { count } => count,
    };
    let found = users.credentials(email).await.map_err(store_failed)?;
    let hash = found.as_ref().map(|c| c.password_hash.clone());
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, hash.as_deref()))
        .await
        .unwrap_or(false);
    let (true, Some(credentials)) = (ok, found) else {
        return Err(refuse(users, email, count, now, lockout).await);
    };
    // Right: the attempts in a row start again.
    users
        .clear_login_failures(email)
        .await
        .map_err(store_failed)?;
    Ok(credentials)
}

/// The answer to a wrong password or an unknown address (the same for both), after locking the
/// address if this was the last attempt allowed in a row.
async fn refuse(
    users: &dyn UserStore,
    email: &str,
    count: u32,
    now: OffsetDateTime,
    lockout: Duration,
) -> ApiError {
    if count >= MAX_FAILED_LOGINS
        && let Err(err) = users.lock_login(email, now + lockout).await
    {
        tracing::error!(error = ?err, "locking the address failed");
        return ApiError::internal();
    }
    tracing::info!(attempt = count, "password refused");
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

/// `200 {"token", "token_type", "expires_at", "email"}`: a bearer token for `user` (whose
/// address is `email`) at token version `version`.
pub fn token_answer(
    keys: &JwtKeys,
    user: &UserId,
    email: &str,
    version: u32,
) -> Result<Response<Body>, ApiError> {
    let (token, expires_at) = keys
        .issue(user, version, OffsetDateTime::now_utc())
        .map_err(|err| {
            tracing::error!(error = ?err, "signing a token failed");
            ApiError::internal()
        })?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires_at.format(&Rfc3339).unwrap_or_default(),
            "email": email,
        }),
    ))
}
