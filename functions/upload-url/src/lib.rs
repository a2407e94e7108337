//! `POST /uploads`: validates what the user wants to upload, creates the job, and returns a
//! presigned S3 PUT for `uploads/{user_id}/{job_id}/{file name}` signed with the declared
//! content type and length, so the upload cannot be swapped for something else. A file larger
//! than one part goes up in parts instead, resumable (`parts.rs`: `GET /uploads/{job_id}`,
//! `POST /uploads/{job_id}/complete`, `DELETE /uploads/{job_id}`).

mod parts;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use std::{sync::Arc, time::Duration};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use video2mp3_api::{ApiError, authenticate, json, json_body, respond};
use video2mp3_aws::{ConfigError, DynamoTable, Env, S3Objects, SystemResolver};
use video2mp3_domain::webhook::{AddressRule, CallbackUrl, Resolver, resolve_checked};
use video2mp3_domain::{
    Job, JobId, JobStore, JwtKeys, ObjectStore, PartPlan, UploadRequest, UserId, UserStore,
    active_jobs,
};

/// The default upload limit: 20 GiB (a four-hour 1080p recording fits; larger ones go in parts
/// of up to 10,000).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024 * 1024;

/// The default number of uploads one user may have waiting or converting at once.
pub const DEFAULT_MAX_ACTIVE_JOBS: u32 = 3;

/// How many of a user's newest jobs are looked at to count their active ones: an active job
/// older than this many newer ones is not counted.
const ACTIVE_WINDOW: u32 = 50;

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub uploads_bucket: String,
    pub max_upload_bytes: u64,
    pub url_ttl: Duration,
    /// Uploads one user may have waiting or converting at once (`MAX_ACTIVE_JOBS`).
    pub max_active_jobs: u32,
}

/// What the handler needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
    /// To check that a token's user still exists.
    pub users: Arc<dyn UserStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub keys: JwtKeys,
    /// Resolves a `callback_url`'s host, whose addresses must pass `addresses`.
    pub resolver: Arc<dyn Resolver>,
    /// [`AddressRule::PublicOnly`] but in the local stack.
    pub addresses: AddressRule,
    pub config: Config,
}

impl Deps {
    /// Reads `TABLE_NAME`, `UPLOADS_BUCKET`, `MAX_UPLOAD_BYTES`, `UPLOAD_URL_TTL_SECONDS`,
    /// `MAX_ACTIVE_JOBS` and the signing key from `env`.
    pub async fn from_env(sdk: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let config = Config {
            uploads_bucket: env.required("UPLOADS_BUCKET")?,
            max_upload_bytes: env.parsed_or("MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)?,
            url_ttl: Duration::from_secs(env.parsed_or("UPLOAD_URL_TTL_SECONDS", 900)?),
            max_active_jobs: env.parsed_or("MAX_ACTIVE_JOBS", DEFAULT_MAX_ACTIVE_JOBS)?,
        };
        let table = Arc::new(DynamoTable::new(
            aws_sdk_dynamodb::Client::new(sdk),
            env.required("TABLE_NAME")?,
        ));
        Ok(Self {
            jobs: table.clone(),
            users: table,
            objects: Arc::new(S3Objects::new(video2mp3_aws::s3_client(sdk))),
            keys: video2mp3_aws::secrets::jwt_keys(sdk, env).await?,
            resolver: Arc::new(SystemResolver),
            addresses: AddressRule::PublicOnly,
            config,
        })
    }
}

/// Refuses (429) a user who already has `max_active_jobs` uploads waiting or converting.
async fn check_active_jobs(
    user: &UserId,
    now: OffsetDateTime,
    deps: &Deps,
) -> Result<(), ApiError> {
    let recent = deps
        .jobs
        .jobs(user, ACTIVE_WINDOW, None)
        .await
        .map_err(|err| {
            tracing::error!(error = ?err, "listing the user's jobs failed");
            ApiError::internal()
        })?;
    let active = active_jobs(&recent.jobs, now, deps.config.url_ttl);
    if active >= deps.config.max_active_jobs as usize {
        tracing::info!(active, "upload refused: too many jobs at once");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_jobs",
            format!(
                "you already have {active} files uploading or converting (at most {} at once); \
                 try again when one has finished",
                deps.config.max_active_jobs
            ),
        )
        .retry_after(60));
    }
    Ok(())
}

/// Handles one request; every outcome is a JSON response.
#[tracing::instrument(skip_all, fields(user_id, job_id))]
pub async fn handle(req: Request, deps: &Deps) -> Response<Body> {
    respond(route(req, deps).await)
}

async fn route(req: Request, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let user = authenticate(&req, &deps.keys, deps.users.as_ref())
        .await?
        .user_id;
    tracing::Span::current().record("user_id", tracing::field::display(&user));
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix("/uploads").unwrap_or(&path);
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(id) = segments.first() {
        tracing::Span::current().record("job_id", *id);
    }
    match (req.method().clone(), segments.as_slice()) {
        (Method::POST, []) => create_upload(&req, &user, deps).await,
        (Method::GET, [id]) => parts::status(&user, id, deps).await,
        (Method::POST, [id, "complete"]) => parts::complete(&user, id, deps).await,
        (Method::DELETE, [id]) => parts::abort(&user, id, deps).await,
        (method, _) => Err(ApiError::not_found(format!("no route {method} {path}"))),
    }
}

/// `callback_url` once it is an `https` URL whose host resolves, now, to allowed addresses only
/// (checked again at each delivery).
async fn checked_callback(text: &str, deps: &Deps) -> Result<String, ApiError> {
    let invalid = |err: video2mp3_domain::CallbackError| {
        ApiError::bad_request("invalid_callback_url", err.to_string())
    };
    let url = CallbackUrl::parse(text).map_err(invalid)?;
    resolve_checked(&url, deps.resolver.as_ref(), deps.addresses)
        .await
        .map_err(invalid)?;
    Ok(url.as_str().to_owned())
}

/// Logs a store failure and answers an opaque 500.
pub(crate) fn internal(what: &'static str) -> impl Fn(video2mp3_domain::PortError) -> ApiError {
    move |err| {
        tracing::error!(error = ?err, "{what} failed");
        ApiError::internal()
    }
}

async fn create_upload(
    req: &Request,
    user: &UserId,
    deps: &Deps,
) -> Result<Response<Body>, ApiError> {
    let request: UploadRequest = json_body(req)?;
    let upload = request
        .validate(deps.config.max_upload_bytes)
        .map_err(|err| ApiError::bad_request("invalid_upload", err.to_string()))?;

    let callback_url = match request.callback_url.as_deref() {
        Some(text) => Some(checked_callback(text, deps).await?),
        None => None,
    };

    let now = OffsetDateTime::now_utc();
    check_active_jobs(user, now, deps).await?;

    let job_id = JobId::generate();
    tracing::Span::current().record("job_id", tracing::field::display(&job_id));
    let mut job = Job::awaiting_upload(user.clone(), job_id, &upload, now);
    job.callback_url = callback_url;
    if let Some(plan) = PartPlan::for_size(upload.size) {
        let answer = parts::start(&mut job, plan, deps).await?;
        deps.jobs
            .create_job(&job)
            .await
            .map_err(internal("creating the job"))?;
        tracing::info!(size = upload.size, parts = plan.parts, settings = %upload.settings.label(), options = ?upload.options, "multipart upload started");
        return Ok(json(StatusCode::CREATED, &answer));
    }
    let key = job.source_key.clone();
    deps.jobs
        .create_job(&job)
        .await
        .map_err(internal("creating the job"))?;
    let presigned = deps
        .objects
        .presign_put(
            &deps.config.uploads_bucket,
            &key,
            &upload.content_type,
            upload.size,
            deps.config.url_ttl,
        )
        .await
        .map_err(internal("presigning the upload"))?;
    let expires_at = now + deps.config.url_ttl;
    tracing::info!(size = upload.size, settings = %upload.settings.label(), options = ?upload.options, "upload URL issued");
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "job_id": job_id,
            "upload_url": presigned.url,
            "method": presigned.method,
            "headers": presigned.headers,
            "expires_at": expires_at.format(&Rfc3339).unwrap_or_default(),
        }),
    ))
}
