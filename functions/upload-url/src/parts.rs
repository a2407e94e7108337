//! Uploads larger than one part ([`PartPlan`]): `POST /uploads` starts an S3 multipart upload
//! and answers with presigned URLs for its parts, each signed for its exact length;
//! `GET /uploads/{job_id}` lists the parts S3 holds and fresh URLs for the rest, so a client
//! resumes after a lost connection or a reload; `POST /uploads/{job_id}/complete` checks that
//! every part is there with its length (the whole being the declared size) and completes the
//! upload, which raises the same S3 event as a single PUT; `DELETE /uploads/{job_id}` aborts it.

use crate::{Deps, internal};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use video2mp3_api::{ApiError, json, no_content};
use video2mp3_domain::{
    Deletion, HeldPart, Job, JobId, JobStatus, PartPlan, PartsError, PortError, UserId,
};

/// The most part URLs one answer carries (about 300 KB of JSON); a client asks
/// `GET /uploads/{job_id}` for the next ones as it goes.
pub const URLS_PER_ANSWER: u32 = 500;

/// The plan of a job's multipart upload, or why the job has none.
fn plan_of(job: &Job) -> Result<(PartPlan, &str), ApiError> {
    match (&job.upload_id, PartPlan::for_size(job.declared_size)) {
        (Some(id), Some(plan)) => Ok((plan, id)),
        _ => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_multipart",
            "this job's file goes up in one PUT, not in parts",
        )),
    }
}

fn finished(job: &Job) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "upload_finished",
        format!(
            "the upload is complete (the job is {}); follow GET /jobs/{}",
            job.status.as_str(),
            job.job_id
        ),
    )
}

fn gone() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "upload_gone",
        "this upload was aborted or has expired; start again with POST /uploads",
    )
}

/// The caller's job awaiting its upload in parts.
async fn awaiting(user: &UserId, id: &str, deps: &Deps) -> Result<Job, ApiError> {
    let not_found = || ApiError::not_found("no such upload");
    let job_id: JobId = id.parse().map_err(|_| not_found())?;
    deps.jobs
        .job(user, &job_id)
        .await
        .map_err(internal("reading the job"))?
        .ok_or_else(not_found)
}

/// `{"part_size", "part_count", "uploaded": [{number, size}], "parts": [{number, url}]}`: URLs
/// for up to [`URLS_PER_ANSWER`] of the parts not held yet.
async fn upload_view(
    job: &Job,
    plan: PartPlan,
    upload_id: &str,
    held: &[HeldPart],
    deps: &Deps,
) -> Result<Value, ApiError> {
    let mut urls = Vec::new();
    for number in (1..=plan.parts)
        .filter(|n| !held.iter().any(|h| h.number == *n))
        .take(URLS_PER_ANSWER as usize)
    {
        let url = deps
            .objects
            .presign_part(
                &deps.config.uploads_bucket,
                &job.source_key,
                upload_id,
                number,
                plan.part_len(number),
                deps.config.url_ttl,
            )
            .await
            .map_err(internal("presigning a part"))?;
        urls.push(json!({"number": number, "url": url}));
    }
    let uploaded: Vec<Value> = held
        .iter()
        .map(|h| json!({"number": h.number, "size": h.size}))
        .collect();
    Ok(json!({
        "part_size": plan.part_size,
        "part_count": plan.parts,
        "uploaded": uploaded,
        "parts": urls,
    }))
}

fn expires_at(deps: &Deps) -> String {
    (OffsetDateTime::now_utc() + deps.config.url_ttl)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Starts the multipart upload of a job just created; the `201` answer.
pub async fn start(job: &mut Job, plan: PartPlan, deps: &Deps) -> Result<Value, ApiError> {
    let upload_id = deps
        .objects
        .create_multipart(
            &deps.config.uploads_bucket,
            &job.source_key,
            &job.content_type,
        )
        .await
        .map_err(internal("starting the multipart upload"))?;
    job.upload_id = Some(upload_id.clone());
    let upload = upload_view(job, plan, &upload_id, &[], deps).await?;
    Ok(json!({"job_id": job.job_id, "upload": upload, "expires_at": expires_at(deps)}))
}

/// `GET /uploads/{job_id}`.
pub async fn status(user: &UserId, id: &str, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let job = awaiting(user, id, deps).await?;
    let (plan, upload_id) = plan_of(&job)?;
    if job.status != JobStatus::AwaitingUpload {
        return Err(finished(&job));
    }
    let held = deps
        .objects
        .list_parts(&deps.config.uploads_bucket, &job.source_key, upload_id)
        .await
        .map_err(internal("listing the parts"))?
        .ok_or_else(gone)?;
    let upload = upload_view(&job, plan, upload_id, &held, deps).await?;
    Ok(json(
        StatusCode::OK,
        &json!({"job_id": job.job_id, "status": job.status.as_str(), "upload": upload,
                "expires_at": expires_at(deps)}),
    ))
}

/// `POST /uploads/{job_id}/complete`: `200 {"job_id", "status"}`; asking again once it is
/// complete answers the same.
pub async fn complete(user: &UserId, id: &str, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let job = awaiting(user, id, deps).await?;
    let (plan, upload_id) = plan_of(&job)?;
    let done = || {
        Ok(json(
            StatusCode::OK,
            &json!({"job_id": job.job_id, "status": "uploaded"}),
        ))
    };
    if job.status != JobStatus::AwaitingUpload {
        return done();
    }
    let bucket = &deps.config.uploads_bucket;
    let Some(held) = deps
        .objects
        .list_parts(bucket, &job.source_key, upload_id)
        .await
        .map_err(internal("listing the parts"))?
    else {
        // Completed by an earlier call whose answer was lost, before the converter took it.
        return match deps.objects.head(bucket, &job.source_key).await {
            Ok(Some(info)) if info.size == job.declared_size => done(),
            Ok(_) => Err(gone()),
            Err(err) => Err(internal("reading the upload")(err)),
        };
    };
    let sizes: Vec<(u32, u64)> = held.iter().map(|h| (h.number, h.size)).collect();
    match plan.check(&sizes) {
        Ok(()) => {}
        Err(err @ PartsError::Missing { .. }) => {
            return Err(ApiError::bad_request("upload_incomplete", err.to_string()));
        }
        Err(err @ PartsError::WrongSize { .. }) => {
            return Err(ApiError::bad_request(
                "size_mismatch",
                format!(
                    "{err}: the parts must add up to the declared {} bytes",
                    job.declared_size
                ),
            ));
        }
    }
    let parts: Vec<HeldPart> = held
        .into_iter()
        .filter(|h| h.number <= plan.parts)
        .collect();
    deps.objects
        .complete_multipart(bucket, &job.source_key, upload_id, &parts)
        .await
        .map_err(internal("completing the upload"))?;
    tracing::info!(
        parts = plan.parts,
        size = plan.size,
        "multipart upload completed"
    );
    done()
}

/// `DELETE /uploads/{job_id}`: the upload is aborted and its job deleted; `204`.
pub async fn abort(user: &UserId, id: &str, deps: &Deps) -> Result<Response<Body>, ApiError> {
    let job = awaiting(user, id, deps).await?;
    let (_, upload_id) = plan_of(&job)?;
    if job.status != JobStatus::AwaitingUpload {
        return Err(finished(&job));
    }
    deps.objects
        .abort_multipart(&deps.config.uploads_bucket, &job.source_key, upload_id)
        .await
        .map_err(internal("aborting the upload"))?;
    match deps
        .jobs
        .delete_job(user, &job.job_id, Deletion::UnlessConverting)
        .await
    {
        Ok(()) | Err(PortError::ConditionFailed) => {}
        Err(err) => return Err(internal("deleting the job")(err)),
    }
    tracing::info!("multipart upload aborted");
    Ok(no_content())
}
