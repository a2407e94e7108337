//! A client of the HTTP API that does what a user's client does: log in, ask for an upload URL,
//! PUT the file with exactly the headers it was given, poll the job, download the MP3.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// An API client, logged in or not.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub base: String,
    pub token: Option<String>,
    /// An `Authorization` header sent as is instead of the token's (for tests of bad ones).
    pub raw_authorization: Option<String>,
    http: reqwest::Client,
}

/// What `POST /uploads` answered.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub job_id: String,
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    /// For a file larger than one part: the answer's `upload` (`part_size`, `part_count`,
    /// `parts` with their URLs); `url` is then empty.
    pub parts: Option<Value>,
}

/// A status and JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl ApiClient {
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            token: None,
            raw_authorization: None,
            http: reqwest::Client::new(),
        }
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match (&self.raw_authorization, &self.token) {
            (Some(raw), _) => req.header(reqwest::header::AUTHORIZATION, raw),
            (None, Some(t)) => req.bearer_auth(t),
            (None, None) => req,
        }
    }

    async fn answer(response: reqwest::Response) -> Result<Answer> {
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }

    /// `POST {path}` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Answer> {
        let req = self.http.post(format!("{}{path}", self.base)).json(body);
        Self::answer(self.auth(req).send().await?).await
    }

    /// `DELETE {path}`, with a JSON body when given.
    pub async fn delete(&self, path: &str, body: Option<&Value>) -> Result<Answer> {
        let mut req = self.http.delete(format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(body);
        }
        Self::answer(self.auth(req).send().await?).await
    }

    /// `GET {path}`.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        let req = self.http.get(format!("{}{path}", self.base));
        Self::answer(self.auth(req).send().await?).await
    }

    /// Logs in and keeps the token.
    pub async fn login(&mut self, email: &str, password: &str) -> Result<()> {
        let a = self
            .post(
                "/login",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await?;
        if a.status != 200 {
            bail!("login failed with {}: {}", a.status, a.body);
        }
        self.token = Some(
            a.body["token"]
                .as_str()
                .context("no token in the login answer")?
                .to_owned(),
        );
        Ok(())
    }

    /// Asks for an upload URL.
    pub async fn create_upload(&self, body: &Value) -> Result<UploadTicket> {
        let a = self.post("/uploads", body).await?;
        if a.status != 201 {
            bail!("POST /uploads failed with {}: {}", a.status, a.body);
        }
        let job_id = a.body["job_id"].as_str().context("no job_id")?.to_owned();
        if a.body["upload"].is_object() {
            return Ok(UploadTicket {
                job_id,
                url: String::new(),
                method: "PUT".into(),
                headers: BTreeMap::new(),
                parts: Some(a.body["upload"].clone()),
            });
        }
        let headers = a.body["headers"]
            .as_object()
            .context("no headers in the upload answer")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        Ok(UploadTicket {
            job_id,
            url: a.body["upload_url"]
                .as_str()
                .context("no upload_url")?
                .to_owned(),
            method: a.body["method"].as_str().unwrap_or("PUT").to_owned(),
            headers,
            parts: None,
        })
    }

    /// PUTs part `number` (1-based) of `bytes`, cut at `part_size`, to `url`.
    pub async fn put_part(
        &self,
        url: &str,
        bytes: &[u8],
        part_size: usize,
        number: usize,
    ) -> Result<()> {
        let start = (number - 1) * part_size;
        let part = bytes[start..(start + part_size).min(bytes.len())].to_vec();
        let response = self.http.put(url).body(part).send().await?;
        if !response.status().is_success() {
            let status = response.status();
            bail!(
                "PUT of part {number} failed with {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Uploads every part the ticket (or `GET /uploads/{job_id}`) gave a URL for, asking for
    /// more until none is missing, then completes the upload.
    async fn upload_parts(&self, ticket: &UploadTicket, bytes: &[u8]) -> Result<()> {
        let mut upload = ticket.parts.clone().context("not a multipart ticket")?;
        let part_size = upload["part_size"].as_u64().context("no part_size")? as usize;
        loop {
            let parts = upload["parts"].as_array().cloned().unwrap_or_default();
            if parts.is_empty() {
                break;
            }
            for part in parts {
                let number = part["number"].as_u64().context("no part number")? as usize;
                let url = part["url"].as_str().context("no part url")?;
                self.put_part(url, bytes, part_size, number).await?;
            }
            let a = self.get(&format!("/uploads/{}", ticket.job_id)).await?;
            if a.status != 200 {
                bail!(
                    "GET /uploads/{} failed with {}: {}",
                    ticket.job_id,
                    a.status,
                    a.body
                );
            }
            upload = a.body["upload"].clone();
        }
        let a = self
            .post(
                &format!("/uploads/{}/complete", ticket.job_id),
                &Value::Null,
            )
            .await?;
        if a.status != 200 {
            bail!("completing the upload failed with {}: {}", a.status, a.body);
        }
        Ok(())
    }

    /// Uploads `bytes` to the presigned URL with the headers it must carry, or in parts.
    pub async fn upload(&self, ticket: &UploadTicket, bytes: Vec<u8>) -> Result<()> {
        if ticket.parts.is_some() {
            return self.upload_parts(ticket, &bytes).await;
        }
        let method = reqwest::Method::from_bytes(ticket.method.as_bytes())?;
        let mut req = self.http.request(method, &ticket.url);
        for (name, value) in &ticket.headers {
            // reqwest sets Content-Length from the body itself.
            if !name.eq_ignore_ascii_case("content-length") {
                req = req.header(name, value);
            }
        }
        let response = req.body(bytes).send().await?;
        if !response.status().is_success() {
            let status = response.status();
            bail!(
                "the upload PUT failed with {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Polls `GET /jobs/{id}` until the job is done or failed, or `timeout` passes.
    pub async fn wait_for_job(&self, job_id: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let a = self.get(&format!("/jobs/{job_id}")).await?;
            if a.status != 200 {
                bail!("GET /jobs/{job_id} answered {}: {}", a.status, a.body);
            }
            if matches!(a.body["status"].as_str(), Some("done" | "failed")) {
                return Ok(a.body);
            }
            if Instant::now() > deadline {
                bail!(
                    "job {job_id} is still {} after {timeout:?}",
                    a.body["status"]
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Downloads a (presigned) URL.
    pub async fn download(&self, url: &str) -> Result<(Vec<u8>, Option<String>)> {
        let response = self.http.get(url).send().await?.error_for_status()?;
        let disposition = response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((response.bytes().await?.to_vec(), disposition))
    }
}

/// The MIME type a client would send for a file name.
pub fn content_type_for(path: &std::path::Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("mp4" | "m4v") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("mkv") => "video/x-matroska",
        Some("webm") => "video/webm",
        Some("m4a" | "m4b") => "audio/mp4",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("flac") => "audio/flac",
        Some("ogg" | "oga" | "opus") => "audio/ogg",
        Some("aif" | "aiff") => "audio/aiff",
        _ => "application/octet-stream",
    }
}
