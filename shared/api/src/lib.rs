//! What the three HTTP functions share: JSON responses, the `{"error":{"code","message"}}` shape,
//! bearer-token authentication, and body parsing that answers 400 instead of failing.

pub mod password;
#[cfg(feature = "testing")]
pub mod testing;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use video2mp3_domain::{Bearer, JwtKeys, User, UserStore};

/// An error answered to the client. Anything unexpected becomes an opaque 500 (see
/// [`ApiError::internal`]) and is logged with its chain where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds the client should wait (`Retry-After`), for 429 answers.
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error telling the client to wait `seconds` before trying again.
    pub fn retry_after(self, seconds: i64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..self
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The answer for anything unexpected. Log the cause before calling this; the client is told
    /// nothing about it.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; please try again",
        )
    }

    /// The JSON response for this error.
    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut response = json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Logs a store call that failed, with its error chain, and answers an opaque 500.
pub fn store_failed(err: video2mp3_domain::PortError) -> ApiError {
    tracing::error!(error = ?err, "a store call failed");
    ApiError::internal()
}

/// `204 No Content`: done, nothing to say.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// A JSON response with `status`.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Turns a handler's outcome into the response; errors become their JSON form.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

/// The user a request's `Authorization: Bearer` token is for, if that user still exists and
/// has not changed their password since it was issued; 401 when there is no token, it is not
/// valid, its user was deleted or it is of an older password. The reason is not told to the
/// client beyond "missing" versus "invalid".
pub async fn authenticate(
    req: &Request,
    keys: &JwtKeys,
    users: &dyn UserStore,
) -> Result<User, ApiError> {
    let bearer = verified_user(req, keys)?;
    let refused = || ApiError::unauthorized("the token is invalid or has expired; log in again");
    match users.user(&bearer.user).await {
        Ok(Some(user)) if user.token_version == bearer.version => Ok(user),
        Ok(Some(_)) => {
            tracing::info!(user_id = %bearer.user, "refused a token from before a password change");
            Err(refused())
        }
        Ok(None) => {
            tracing::info!(user_id = %bearer.user, "refused a token for a deleted user");
            Err(refused())
        }
        Err(err) => {
            tracing::error!(error = ?err, "reading the user failed");
            Err(ApiError::internal())
        }
    }
}

/// The user a token names, once its signature and claims check out.
fn verified_user(req: &Request, keys: &JwtKeys) -> Result<Bearer, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("log in first: this needs an Authorization: Bearer token")
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be 'Bearer <token>'")
        })?;
    keys.verify(token).map_err(|err| {
        tracing::info!(reason = %err, "refused a token");
        ApiError::unauthorized("the token is invalid or has expired; log in again")
    })
}

/// Parses a JSON body into `T`, answering 400 with what was wrong.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the request needs a JSON body",
        ));
    }
    serde_json::from_slice(bytes).map_err(|err| {
        ApiError::bad_request("invalid_body", format!("the JSON body is not valid: {err}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_the_documented_shape() {
        let response = ApiError::bad_request("too_large", "no").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let Body::Text(text) = response.body() else {
            panic!("not text")
        };
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"error": {"code": "too_large", "message": "no"}})
        );
    }

    #[test]
    fn unauthorized_answers_carry_www_authenticate() {
        let response = ApiError::unauthorized("x").into_response();
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
    }
}
