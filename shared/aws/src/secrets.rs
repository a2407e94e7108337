//! The JWT signing key, read once at cold start from Secrets Manager.

use crate::env::{ConfigError, Env};
use crate::errors::port_error;
use secrecy::{ExposeSecret, SecretString};
use video2mp3_domain::JwtKeys;

/// Reads the secret's string value.
pub async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<SecretString, ConfigError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| ConfigError::Secret {
            arn: arn.to_owned(),
            source: port_error("GetSecretValue", e),
        })?;
    out.secret_string()
        .map(|s| SecretString::from(s.to_owned()))
        .ok_or_else(|| ConfigError::Invalid {
            name: "JWT_SECRET_ARN",
            value: arn.to_owned(),
            reason: "the secret has no string value".into(),
        })
}

/// The token keys from the secret named by `JWT_SECRET_ARN`, with the issuer and audience
/// from `JWT_ISSUER` / `JWT_AUDIENCE` (defaults `video2mp3` / `video2mp3-api`).
pub async fn jwt_keys(config: &aws_config::SdkConfig, env: &Env) -> Result<JwtKeys, ConfigError> {
    let arn = env.required("JWT_SECRET_ARN")?;
    let client = aws_sdk_secretsmanager::Client::new(config);
    let secret = secret_string(&client, &arn).await?;
    JwtKeys::new(
        secret.expose_secret().as_bytes(),
        &env.or("JWT_ISSUER", "video2mp3"),
        &env.or("JWT_AUDIENCE", "video2mp3-api"),
    )
    .map_err(ConfigError::Key)
}
