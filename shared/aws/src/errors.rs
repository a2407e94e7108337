//! Sorting SDK errors into transient (retry later) and permanent, as [`PortError`]s.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use video2mp3_domain::PortError;

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "TooManyRequestsException",
    "SlowDown",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
];

/// Wraps an SDK error as a [`PortError`], transient for timeouts, connection failures, 5xx,
/// 429 and throttling codes.
pub(crate) fn port_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status >= 500 || status == 429 || err.code().is_some_and(|c| THROTTLING.contains(&c))
        }
        _ => false,
    };
    PortError::backend(operation, transient, err)
}
