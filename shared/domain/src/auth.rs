//! Passwords and tokens. Passwords are argon2id hashes with a per-user salt; tokens are HS256
//! JWTs whose algorithm, issuer, audience and expiry are all checked on the way in.

use crate::job::UserId;
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use time::{Duration, OffsetDateTime};

/// How long a token is valid.
pub const TOKEN_LIFETIME: Duration = Duration::hours(1);
/// The shortest signing key accepted (256 bits, as HS256 needs).
pub const MIN_KEY_BYTES: usize = 32;
/// Failed logins in a row after which an email address is locked.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long it stays locked.
pub const LOCKOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Why a password or token was refused, or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the signing key is {0} bytes; at least {MIN_KEY_BYTES} are needed")]
    WeakKey(usize),
    #[error("the token is invalid")]
    InvalidToken(#[source] jsonwebtoken::errors::Error),
    #[error("the token's subject is not a user id")]
    BadSubject,
    #[error("could not sign a token")]
    Signing(#[source] jsonwebtoken::errors::Error),
    #[error("could not hash the password: {0}")]
    Hashing(String),
}

/// Hashes a password with argon2id and a fresh random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// Checks a password against a stored hash. With `None` (no such user) it still does the work of
/// one verification against a dummy hash, so an unknown user and a wrong password take alike.
pub fn verify_password(password: &str, stored_hash: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let (hash, real) = match stored_hash {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let ok = PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && real
}

/// The claims every token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    /// The user's token version when it was issued: a changed password raises the version, and
    /// every token of an older one stops working. Tokens from before versions existed carry
    /// none and count as version 0.
    #[serde(default)]
    pub ver: u32,
}

/// Who a verified token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer {
    pub user: UserId,
    /// The token version it was issued at (see [`Claims::ver`]).
    pub version: u32,
}

/// Signs and verifies tokens with one HS256 key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from a shared secret of at least [`MIN_KEY_BYTES`] bytes.
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, AuthError> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(AuthError::WeakKey(secret.len()));
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// A token for `user` at token version `version`, valid for [`TOKEN_LIFETIME`] from `now`;
    /// also returns when it expires.
    pub fn issue(
        &self,
        user: &UserId,
        version: u32,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime), AuthError> {
        let expires_at = now + TOKEN_LIFETIME;
        let claims = Claims {
            sub: user.to_string(),
            exp: expires_at.unix_timestamp(),
            iat: now.unix_timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            ver: version,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AuthError::Signing)?;
        Ok((token, expires_at))
    }

    /// Verifies a token: HS256 only, signature, `exp`, `iss` and `aud`; returns the user it is
    /// for and its version (which the caller compares with the user's).
    pub fn verify(&self, token: &str) -> Result<Bearer, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(AuthError::InvalidToken)?;
        Ok(Bearer {
            user: data.claims.sub.parse().map_err(|_| AuthError::BadSubject)?,
            version: data.claims.ver,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(KEY, "video2mp3", "video2mp3-api").unwrap()
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong horse", Some(&hash)));
        assert!(!verify_password("correct horse", None));
        assert_ne!(
            hash,
            hash_password("correct horse").unwrap(),
            "salts differ"
        );
    }

    #[test]
    fn a_token_round_trips_to_its_user() {
        let user = UserId::generate();
        let (token, exp) = keys().issue(&user, 3, OffsetDateTime::now_utc()).unwrap();
        assert!(exp > OffsetDateTime::now_utc());
        assert_eq!(
            keys().verify(&token).unwrap(),
            Bearer {
                user: user.clone(),
                version: 3
            }
        );
    }

    #[test]
    fn a_token_from_before_versions_counts_as_version_zero() {
        let user = UserId::generate();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = serde_json::json!({
            "sub": user.to_string(), "exp": now + 600, "iat": now,
            "iss": "video2mp3", "aud": "video2mp3-api",
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(KEY),
        )
        .unwrap();
        assert_eq!(keys().verify(&token).unwrap(), Bearer { user, version: 0 });
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(matches!(
            JwtKeys::new(b"short", "i", "a"),
            Err(AuthError::WeakKey(5))
        ));
    }

    #[test]
    fn bad_tokens_are_refused() {
        let user = UserId::generate();
        let now = OffsetDateTime::now_utc();
        let (token, _) = keys().issue(&user, 0, now).unwrap();

        let expired = keys().issue(&user, 0, now - Duration::hours(2)).unwrap().0;
        assert!(keys().verify(&expired).is_err(), "expired");

        let other_key = JwtKeys::new(
            b"another key that is long enough!!",
            "video2mp3",
            "video2mp3-api",
        )
        .unwrap();
        assert!(other_key.verify(&token).is_err(), "other key");

        let other_aud = JwtKeys::new(KEY, "video2mp3", "elsewhere").unwrap();
        assert!(other_aud.verify(&token).is_err(), "other audience");

        let parts: Vec<&str> = token.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(
            keys()
                .verify(&format!("{none_header}.{}.", parts[1]))
                .is_err(),
            "alg none"
        );

        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = serde_json::json!(UserId::generate().to_string());
        let tampered = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(
            keys()
                .verify(&format!("{}.{tampered}.{}", parts[0], parts[2]))
                .is_err(),
            "tampered"
        );

        assert!(keys().verify("not a token").is_err());
    }
}
