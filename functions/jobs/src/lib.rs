//! `GET /jobs` and `GET /jobs/{id}`: the caller's jobs, newest first, and one job with a
//! presigned download link once it is done. `DELETE /jobs/{id}`: the job, its upload and its
//! MP3 (not while it is converting). Every read is keyed by the caller's user id, so
//! another user's job answers exactly like a job that does not exist.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use std::{sync::Arc, time::Duration};
use time::format_description::well_known::Rfc3339;
use video2mp3_api::{ApiError, authenticate, json, no_content, respond, store_failed};
use video2mp3_aws::{ConfigError, DynamoTable, Env, S3Objects};
use video2mp3_domain::{
    AudioOptions, Buckets, EraseError, FailureReason, Job, JobId, JobStats, JobStatus, JobStore,
    JwtKeys, ObjectStore, UserId, UserStore, erase_job, mp3_file_name,
};

/// Jobs per page unless the client asks for another number (1 to [`MAX_PAGE`]).
pub const DEFAULT_PAGE: u32 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE: u32 = 100;

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub mp3_bucket: String,
    /// Where the uploads are, to delete a job's.
    pub uploads_bucket: String,
    pub download_ttl: Duration,
}

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
    /// To check that a token's user still exists.
    pub users: Arc<dyn UserStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub keys: JwtKeys,
    pub config: Config,
}

impl Deps {
    /// Reads `TABLE_NAME`, `MP3_BUCKET`, `UPLOADS_BUCKET`, `DOWNLOAD_URL_TTL_SECONDS` and the
    /// signing key.
    pub async fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let table = Arc::new(DynamoTable::new(
            aws_sdk_dynamodb::Client::new(sdk),
            env.required("TABLE_NAME")?,
        ));
        Ok(Self {
            jobs: table.clone(),
            users: table,
            objects: Arc::new(S3Objects::new(video2mp3_aws::s3_client(sdk))),
            keys: video2mp3_aws::secrets::jwt_keys(sdk, env).await?,
            config: Config {
                mp3_bucket: env.required("MP3_BUCKET")?,
                uploads_bucket: env.required("UPLOADS_BUCKET")?,
                download_ttl: Duration::from_secs(env.parsed_or("DOWNLOAD_URL_TTL_SECONDS", 3600)?),
            },
        })
    }
}

/// A job as the API shows it.
#[derive(Debug, Serialize)]
pub struct JobView {
    pub job_id: JobId,
    pub filename: String,
    pub status: &'static str,
    /// Percent of the audio converted: 0 until the conversion starts, 100 once done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    pub error: Option<String>,
    /// Why it failed, as a stable code (`FailureReason`'s), for programs.
    pub error_code: Option<FailureReason>,
    pub settings: String,
    /// The cut, channels and sample rate asked for, when any was.
    #[serde(skip_serializing_if = "AudioOptions::is_empty")]
    pub options: AudioOptions,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<JobStats>,
    /// Where the job's end is POSTed, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Each try at POSTing the job's end, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhook_attempts: Vec<video2mp3_domain::WebhookAttempt>,
    /// The file's audio tracks, from the moment the converter has probed it (a done job's
    /// `stats.tracks` too).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<video2mp3_domain::SourceTrack>,
}

/// Handles one request; every outcome is a JSON response.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn handle(req: Request, deps: &Deps) -> Response<Body> {
    respond(route(req, deps).await)
}

async fn route(req: Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let user = authenticate(&req, &deps.keys, deps.users.as_ref())
        .await?
        .user_id;
    tracing::Span::current().record("user_id", tracing::field::display(&user));
    let id = req.path_parameters_ref().and_then(|p| p.first("id"));
    match (req.method().clone(), id) {
        (Method::DELETE, Some(id)) => delete_job(&user, id, deps).await,
        (_, Some(id)) => one_job(&user, id, deps).await,
        (_, None) => list_jobs(&req, &user, deps).await,
    }
}

/// Deletes the job with its objects: 204; 404 if there is no such job of the caller's, 409
/// while it converts.
async fn delete_job(user: &UserId, id: &str, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let job = caller_job(user, id, deps).await?;
    let buckets = Buckets {
        uploads: deps.config.uploads_bucket.clone(),
        mp3: deps.config.mp3_bucket.clone(),
    };
    match erase_job(deps.jobs.as_ref(), deps.objects.as_ref(), &buckets, &job).await {
        Ok(()) => {
            tracing::info!(job_id = %job.job_id, "job deleted");
            Ok(no_content())
        }
        Err(EraseError::Converting) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "job_converting",
            "the job is being converted; delete it once it has ended",
        )),
        Err(EraseError::Port(err)) => Err(store_failed(err)),
    }
}

/// The caller's job with this id; 404 for a bad id, another user's job or none.
async fn caller_job(user: &UserId, id: &str, deps: &Deps) -> Result<Job, ApiError> {
    let not_found = || ApiError::not_found("no such job");
    let job_id: JobId = id.parse().map_err(|_| not_found())?;
    deps.jobs
        .job(user, &job_id)
        .await
        .map_err(store_failed)?
        .ok_or_else(not_found)
}

async fn one_job(user: &UserId, id: &str, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let job = caller_job(user, id, deps).await?;
    Ok(json(StatusCode::OK, &view(job, deps).await?))
}

async fn list_jobs(req: &Request, user: &UserId, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let query = req.query_string_parameters();
    let limit = match query.first("limit") {
        None => DEFAULT_PAGE,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("limit must be a number from 1 to {MAX_PAGE}"),
                ));
            }
        },
    };
    let after = match query.first("cursor") {
        None => None,
        Some(text) => Some(text.parse::<JobId>().map_err(|_| {
            ApiError::bad_request("invalid_query", "cursor is not one this API returned")
        })?),
    };
    let page = deps
        .jobs
        .jobs(user, limit, after.as_ref())
        .await
        .map_err(store_failed)?;
    let mut jobs = Vec::with_capacity(page.jobs.len());
    for job in page.jobs {
        jobs.push(view(job, deps).await?);
    }
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"jobs": jobs, "next_cursor": page.next}),
    ))
}

async fn view(job: Job, deps: &Deps) -> Result<JobView, ApiError> {
    let download_url = match (&job.output_key, job.status) {
        (Some(key), JobStatus::Done) => Some(
            deps.objects
                .presign_get(
                    &deps.config.mp3_bucket,
                    key,
                    &mp3_file_name(&job.filename),
                    deps.config.download_ttl,
                )
                .await
                .map_err(store_failed)?,
        ),
        _ => None,
    };
    Ok(JobView {
        job_id: job.job_id,
        filename: job.filename,
        status: job.status.as_str(),
        progress: match job.status {
            JobStatus::AwaitingUpload | JobStatus::Queued => Some(0),
            JobStatus::Converting => Some(job.progress.unwrap_or(0)),
            JobStatus::Done => Some(100),
            JobStatus::Failed => None,
        },
        error: job.error,
        error_code: job.error_code,
        settings: job.settings.label(),
        options: job.options,
        created_at: job.created_at.format(&Rfc3339).unwrap_or_default(),
        updated_at: job.updated_at.format(&Rfc3339).unwrap_or_default(),
        download_url,
        // Written when the file was probed; a job done before tracks were written there has
        // them in its stats.
        tracks: if job.tracks.is_empty() {
            job.stats
                .as_ref()
                .map(|s| s.tracks.clone())
                .unwrap_or_default()
        } else {
            job.tracks
        },
        stats: job.stats,
        callback_url: job.callback_url,
        webhook_attempts: job.webhook_attempts,
    })
}
