//! The rules of video2mp3 that do not depend on AWS: jobs and their state machine, users and
//! passwords, tokens, upload validation and object keys, and the ports the adapters implement.

pub mod account;
pub mod auth;
pub mod clock;
#[cfg(any(test, feature = "testing"))]
pub mod contract;
pub mod erase;
pub mod failure;
pub mod job;
pub mod keys;
pub mod lifecycle;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod upload;
pub mod webhook;

pub use account::{AccountError, SignupMode, check_password, normalise_email, valid_email};
pub use auth::{
    AuthError, Bearer, Claims, JwtKeys, LOCKOUT, MAX_FAILED_LOGINS, hash_password, verify_password,
};
pub use clock::{Clock, SystemClock};
pub use erase::{Buckets, EraseError, erase_account, erase_job};
pub use failure::FailureReason;
pub use job::{
    AudioOptions, Channels, EncodeSettings, Job, JobEvent, JobId, JobStats, JobStatus, Lease,
    SourceTrack, TagsChoice, TrackChoice, UserId, active_jobs,
};
pub use keys::{SourceKey, mp3_file_name, mp3_key, upload_key};
pub use lifecycle::{
    Claim, EmailError, Emailed, Ended, JobLife, LeaseCheck, Precondition, Transition, email_once,
};
pub use ports::{
    AccountStore, Deletion, EmailClaim, EventPublisher, HeldPart, JobPage, JobStore, LoginAttempt,
    Mailer, MessageQueue, ObjectInfo, ObjectReader, ObjectStore, ObjectWriter, PendingSignup,
    PortError, PresignedUpload, User, UserCredentials, UserStore,
};
pub use upload::{Loudness, PartPlan, PartsError, UploadRequest, ValidUpload, ValidationError};
pub use webhook::{CallbackError, CallbackUrl, WebhookAttempt};
