//! AWS adapters for the video2mp3 ports, and the shared pieces of configuration.
//!
//! Endpoints come from the SDK's own `AWS_ENDPOINT_URL`, so the same code runs against AWS and
//! against the local stand-in; with an endpoint override S3 uses path-style addressing.

pub mod accounts;
pub mod dns;
pub mod dynamo;
pub mod env;
mod errors;
pub mod multipart;
mod parts;
pub mod ranged;
pub mod s3;
pub mod secrets;
pub mod ses;
pub mod sns;
pub mod sqs;

pub use dns::SystemResolver;
pub use dynamo::DynamoTable;
pub use env::{ConfigError, Env};
pub use s3::S3Objects;
pub use ses::SesMailer;
pub use sns::SnsPublisher;
pub use sqs::SqsQueue;

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the SDK configuration from the environment (region, credentials, endpoint).
pub async fn sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// An S3 client; path-style addressing when an endpoint override is set (the local stand-in
/// serves buckets by path, not by virtual host).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    // Ranged reads of one upload make hundreds of requests: give each a few more tries (with
    // the SDK's exponential backoff) than the default three before the job is retried whole.
    let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(5);
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .retry_config(retry)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}
