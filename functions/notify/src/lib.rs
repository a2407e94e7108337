//! The notifier: job events arrive through SNS; each becomes one email to the job's owner,
//! with a link to the job's page when the MP3 is ready, or the reason it could not be made.
//! The page fetches a fresh download link when it is opened: a presigned URL in the email,
//! signed with the function's temporary credentials, could stop working within hours.

use aws_lambda_events::event::sns::SnsEvent;
use std::{sync::Arc, time::Duration};
use video2mp3_aws::{ConfigError, DynamoTable, Env, SesMailer};
use video2mp3_domain::{
    EmailError, Emailed, JobEvent, JobStatus, JobStore, Mailer, PortError, UserStore, email_once,
    mp3_file_name,
};

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The web page's address (`APP_URL`); a done job's email links to `{app_url}/?job={id}`.
    pub app_url: String,
}

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub users: Arc<dyn UserStore>,
    /// Where each job records that its email went out, so a repeated event sends no second one.
    pub jobs: Arc<dyn JobStore>,
    pub mailer: Arc<dyn Mailer>,
    pub config: Config,
}

impl Deps {
    /// Reads `TABLE_NAME`, `SENDER_EMAIL` and `APP_URL`.
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let table = Arc::new(DynamoTable::new(
            aws_sdk_dynamodb::Client::new(sdk),
            env.required("TABLE_NAME")?,
        ));
        Ok(Self {
            users: table.clone(),
            jobs: table,
            mailer: Arc::new(SesMailer::new(
                aws_sdk_sesv2::Client::new(sdk),
                env.required("SENDER_EMAIL")?,
            )),
            config: Config {
                app_url: env.required("APP_URL")?.trim_end_matches('/').to_owned(),
            },
        })
    }
}

/// Why an event could not be handled now; the invocation fails so it is delivered again.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("a store call failed")]
    Port(#[from] PortError),
    #[error(transparent)]
    Email(#[from] EmailError),
    /// Another invocation is sending this job's email right now (a repeated event).
    #[error("another invocation is sending this email")]
    Busy,
}

impl From<NotifyError> for lambda_runtime::Diagnostic {
    fn from(err: NotifyError) -> Self {
        let retryable = match &err {
            NotifyError::Port(port) => port.is_transient(),
            NotifyError::Email(err) => err.is_transient(),
            NotifyError::Busy => true,
        };
        Self {
            error_type: if retryable {
                "Retryable"
            } else {
                "NonRetryable"
            }
            .into(),
            error_message: err.to_string(),
        }
    }
}

/// How long a claim to send a job's email holds: long enough for one SES call and its
/// retries; after it, a repeated event may send the email if the claimer died.
pub const EMAIL_CLAIM: Duration = Duration::from_secs(120);

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub body: String,
}

/// The email for a job event; a done job's links to its page under `app_url`.
pub fn compose(event: &JobEvent, app_url: &str) -> Email {
    match event.status {
        JobStatus::Done => {
            let url = format!("{app_url}/?job={}", event.job_id);
            let mp3 = mp3_file_name(&event.filename);
            let details = event
                .stats
                .as_ref()
                .map(|s| {
                    format!(
                        "\nLength: {:.1} s. Size: {:.1} MB.\n",
                        s.audio_seconds,
                        s.mp3_bytes as f64 / 1e6
                    )
                })
                .unwrap_or_default();
            Email {
                subject: format!("Your MP3 is ready: {mp3}"),
                body: format!(
                    "Hello,\n\n\"{}\" has been converted to MP3.\n\nDownload {mp3} from its page (sign in if asked):\n{url}\n{details}\nJob {}\n\n-- video2mp3\n",
                    event.filename, event.job_id
                ),
            }
        }
        _ => {
            let reason = event.error.as_deref().unwrap_or("an unexpected error");
            Email {
                subject: format!("We could not convert {}", event.filename),
                body: format!(
                    "Hello,\n\nwe could not convert \"{}\" to MP3: {reason}.\n\nYou can try again with another file.\n\nJob {}\n\n-- video2mp3\n",
                    event.filename, event.job_id
                ),
            }
        }
    }
}

/// Handles one SNS delivery. Unreadable messages and unknown users are logged and dropped;
/// a failing store or mail call fails the invocation so it is retried.
#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(event: SnsEvent, deps: &Deps) -> Result<(), NotifyError> {
    for record in event.records {
        let job: JobEvent = match serde_json::from_str(&record.sns.message) {
            Ok(job) => job,
            Err(err) => {
                tracing::warn!(error = %err, message_id = %record.sns.message_id, "not a job event; dropped");
                continue;
            }
        };
        notify(&job, deps).await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(job_id = %job.job_id, user_id = %job.user_id, status = job.status.as_str()))]
async fn notify(job: &JobEvent, deps: &Deps) -> Result<(), NotifyError> {
    let Some(user) = deps.users.user(&job.user_id).await? else {
        tracing::warn!("the job's user no longer exists; no email sent");
        return Ok(());
    };
    let email = compose(job, &deps.config.app_url);
    // One email per job however often the event arrives: claim the send, send, record it.
    let now = time::OffsetDateTime::now_utc();
    let send = deps.mailer.send(&user.email, &email.subject, &email.body);
    let emailed = email_once(
        deps.jobs.as_ref(),
        &job.user_id,
        &job.job_id,
        now,
        EMAIL_CLAIM,
        send,
    )
    .await;
    if let Err(EmailError::Send {
        released: Some(release),
        ..
    }) = &emailed
    {
        tracing::warn!(error = ?release, "could not give back the email claim");
    }
    match emailed? {
        Emailed::Sent => tracing::info!("email sent"),
        Emailed::AlreadySent => tracing::info!("the email for this job was sent already"),
        Emailed::NoJob => tracing::warn!("the job no longer exists; no email sent"),
        Emailed::Busy => return Err(NotifyError::Busy),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use video2mp3_domain::{JobId, JobStats, UserId};

    fn event(status: JobStatus) -> JobEvent {
        JobEvent {
            job_id: JobId::generate(),
            user_id: UserId::generate(),
            status,
            filename: "holiday clip.mov".into(),
            output_key: None,
            error: Some("the file has no audio track".into()),
            error_code: Some(video2mp3_domain::FailureReason::NoAudioTrack),
            stats: Some(JobStats {
                source_bytes: 1,
                mp3_bytes: 2_500_000,
                audio_seconds: 61.25,
                elapsed_ms: 9,
                ..JobStats::default()
            }),
        }
    }

    #[test]
    fn a_done_job_gets_the_link_and_the_mp3_name() {
        let e = event(JobStatus::Done);
        let email = compose(&e, "https://example.test");
        assert_eq!(email.subject, "Your MP3 is ready: holiday clip.mp3");
        assert!(
            email
                .body
                .contains(&format!("https://example.test/?job={}", e.job_id)),
            "{}",
            email.body
        );
        assert!(
            email.body.contains("61.2 s") || email.body.contains("61.3 s"),
            "{}",
            email.body
        );
        assert!(email.body.contains(&e.job_id.to_string()));
    }

    #[test]
    fn a_failed_job_gets_the_reason() {
        let email = compose(&event(JobStatus::Failed), "https://example.test");
        assert_eq!(email.subject, "We could not convert holiday clip.mov");
        assert!(email.body.contains("the file has no audio track"));
        assert!(!email.body.contains("http"));
    }
}
