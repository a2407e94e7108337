//! One DynamoDB table (`pk`/`sk`) holds users and jobs:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | login credentials | `EMAIL#{email}` | `EMAIL` |
//! | user profile | `USER#{user_id}` | `PROFILE` |
//! | job | `USER#{user_id}` | `JOB#{job_id}` |
//! | failed logins in a row | `LOGIN#{email}` | `FAILURES` |
//! | account e-mails sent in the current window | `MAIL#{email}` | `COUNT` |
//! | sign-up waiting for its address (by token hash) | `SIGNUP#{sha256}` | `SIGNUP` |
//! | password reset token | `USER#{user_id}` | `RESET#{sha256}` |
//!
//! Job ids are ULIDs, so a query on `USER#{id}` with `begins_with(sk, "JOB#")` in reverse order
//! lists a user's jobs newest first, and a job can only be read through its owner's key.
//! Items that only live a while carry `expires_at` (epoch seconds), the table's TTL attribute;
//! reads check it too, as TTL deletes late. (The account items are in `accounts.rs`.)

use crate::errors::port_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use std::collections::HashMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use video2mp3_domain::{
    AudioOptions, Deletion, EmailClaim, EncodeSettings, Job, JobId, JobPage, JobStats, JobStatus,
    JobStore, Lease, LeaseCheck, LoginAttempt, PortError, Precondition, Transition, User,
    UserCredentials, UserId, UserStore,
};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// [`UserStore`] and [`JobStore`] over one table.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    pub(crate) client: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
}

impl DynamoTable {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// An `UpdateItem` of the item at (`pk`, `sk`), to be given its expressions.
    pub(crate) fn update(
        &self,
        pk: AttributeValue,
        sk: AttributeValue,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk)
            .key("sk", sk)
    }

    /// The write that locks `email` until `until` and starts its count again (kept a day past
    /// the lock, by the table's TTL).
    fn lock_update(
        &self,
        email: &str,
        until: OffsetDateTime,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.update(s(format!("LOGIN#{email}")), s("FAILURES"))
            .update_expression("SET locked_until = :until, failures = :zero, expires_at = :expires")
            .expression_attribute_values(":until", epoch(until))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":expires", epoch(until + time::Duration::days(1)))
    }

    /// Claims a job's e-mail or publish in attribute `claim` (epoch seconds) for `hold` from
    /// `now`, unless `not_done` (a condition; `:t` is `true`) fails or a claim holds; `done`
    /// tells the two apart afterwards.
    #[allow(clippy::too_many_arguments)]
    async fn claim(
        &self,
        user: &UserId,
        job: &JobId,
        claim: &str,
        not_done: &str,
        now: OffsetDateTime,
        hold: std::time::Duration,
        done: fn(&Job) -> bool,
    ) -> Result<EmailClaim, PortError> {
        let result = self
            .update(user_pk(user), job_sk(job))
            .update_expression(format!("SET {claim} = :until"))
            .condition_expression(format!(
                "attribute_exists(pk) AND {not_done} \
                 AND (attribute_not_exists({claim}) OR {claim} < :now)"
            ))
            .expression_attribute_values(":until", epoch(now + hold))
            .expression_attribute_values(":now", epoch(now))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await;
        match result {
            Ok(_) => Ok(EmailClaim::Claimed),
            // Why it failed: read the item as it is now.
            Err(err) if is_condition_failure(&err) => match self.job(user, job).await? {
                None => Ok(EmailClaim::NoJob),
                Some(job) if done(&job) => Ok(EmailClaim::AlreadySent),
                Some(_) => Ok(EmailClaim::Busy),
            },
            Err(err) => Err(port_error("UpdateItem", err)),
        }
    }

    /// Gives back the claim in attribute `claim` if it is the one made at `now` for `hold`.
    async fn release(
        &self,
        user: &UserId,
        job: &JobId,
        claim: &str,
        now: OffsetDateTime,
        hold: std::time::Duration,
    ) -> Result<(), PortError> {
        let result = self
            .update(user_pk(user), job_sk(job))
            .update_expression(format!("REMOVE {claim}"))
            .condition_expression(format!("{claim} = :until"))
            .expression_attribute_values(":until", epoch(now + hold))
            .send()
            .await;
        applied(result).map(|_| ())
    }

    /// The item at (`pk`, `sk`), read consistently (a write just made is seen).
    pub(crate) async fn get(
        &self,
        pk: AttributeValue,
        sk: AttributeValue,
    ) -> Result<Option<Item>, PortError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", pk)
            .key("sk", sk)
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| port_error("GetItem", e))
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn user_pk(user: &UserId) -> AttributeValue {
    s(format!("USER#{user}"))
}

fn job_sk(job: &JobId) -> AttributeValue {
    s(format!("JOB#{job}"))
}

fn timestamp(t: OffsetDateTime) -> AttributeValue {
    s(t.format(&Rfc3339).unwrap_or_default())
}

/// Seconds since the epoch, as a number: conditions compare these (RFC 3339 strings with
/// fractions of a second do not sort as text).
pub(crate) fn epoch(t: OffsetDateTime) -> AttributeValue {
    AttributeValue::N(t.unix_timestamp().to_string())
}

pub(crate) fn get_epoch(item: &Item, name: &str) -> Option<OffsetDateTime> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .and_then(|n| OffsetDateTime::from_unix_timestamp(n).ok())
}

pub(crate) fn corrupt(what: &str) -> PortError {
    PortError::backend(
        "read item",
        false,
        format!("stored item has a missing or bad {what}"),
    )
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, PortError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| corrupt(name))
}

fn opt_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn failures_in(item: &Item) -> u32 {
    item.get("failures")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub(crate) fn number(n: u32) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// A user's token version (0 for users made before versions were kept).
fn token_version(item: &Item) -> u32 {
    item.get("token_version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn flag(item: &Item, name: &str) -> bool {
    item.get(name)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

fn get_time(item: &Item, name: &str) -> Result<OffsetDateTime, PortError> {
    OffsetDateTime::parse(get_s(item, name)?, &Rfc3339).map_err(|_| corrupt(name))
}

fn job_to_item(job: &Job) -> Result<Item, PortError> {
    let mut item = Item::from([
        ("pk".into(), user_pk(&job.user_id)),
        ("sk".into(), job_sk(&job.job_id)),
        ("type".into(), s("job")),
        ("job_id".into(), s(job.job_id.to_string())),
        ("user_id".into(), s(job.user_id.to_string())),
        ("filename".into(), s(&job.filename)),
        ("content_type".into(), s(&job.content_type)),
        (
            "declared_size".into(),
            AttributeValue::N(job.declared_size.to_string()),
        ),
        (
            "settings".into(),
            s(serde_json::to_string(&job.settings)
                .map_err(|e| PortError::backend("encode job", false, e))?),
        ),
        ("status".into(), s(job.status.as_str())),
        ("source_key".into(), s(&job.source_key)),
        ("created_at".into(), timestamp(job.created_at)),
        ("updated_at".into(), timestamp(job.updated_at)),
        ("notified".into(), AttributeValue::Bool(job.notified)),
    ]);
    if let Some(e) = &job.error {
        item.insert("error".into(), s(e));
    }
    if let Some(code) = job.error_code {
        item.insert("error_code".into(), s(code.code()));
    }
    if let Some(k) = &job.output_key {
        item.insert("output_key".into(), s(k));
    }
    if let Some(lease) = &job.lease {
        item.insert("lease_owner".into(), s(&lease.owner));
        item.insert("lease_expires".into(), epoch(lease.expires_at));
    }
    if job.emailed {
        item.insert("emailed".into(), AttributeValue::Bool(true));
    }
    if let Some(progress) = job.progress {
        item.insert("progress".into(), AttributeValue::N(progress.to_string()));
    }
    if let Some(upload_id) = &job.upload_id {
        item.insert("upload_id".into(), s(upload_id));
    }
    if let Some(url) = &job.callback_url {
        item.insert("callback_url".into(), s(url));
    }
    if !job.webhook_attempts.is_empty() {
        let attempts = job
            .webhook_attempts
            .iter()
            .map(|a| serde_json::to_string(a).map(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PortError::backend("encode job", false, e))?;
        item.insert("webhook_attempts".into(), AttributeValue::L(attempts));
        if job.webhook_attempts.iter().any(|a| a.delivered) {
            item.insert("webhook_delivered".into(), AttributeValue::Bool(true));
        }
    }
    if !job.options.is_empty() {
        item.insert(
            "options".into(),
            s(serde_json::to_string(&job.options)
                .map_err(|e| PortError::backend("encode job", false, e))?),
        );
    }
    if let Some(stats) = &job.stats {
        item.insert(
            "stats".into(),
            s(serde_json::to_string(stats)
                .map_err(|e| PortError::backend("encode job", false, e))?),
        );
    }
    if !job.tracks.is_empty() {
        item.insert("tracks".into(), s(tracks_json(&job.tracks)?));
    }
    Ok(item)
}

/// The file's audio tracks as the item keeps them (JSON, as `stats`).
fn tracks_json(tracks: &[video2mp3_domain::SourceTrack]) -> Result<String, PortError> {
    serde_json::to_string(tracks).map_err(|e| PortError::backend("encode job", false, e))
}

fn job_from_item(item: &Item) -> Result<Job, PortError> {
    let settings: EncodeSettings =
        serde_json::from_str(get_s(item, "settings")?).map_err(|_| corrupt("settings"))?;
    let options: AudioOptions = match opt_s(item, "options") {
        Some(text) => serde_json::from_str(&text).map_err(|_| corrupt("options"))?,
        None => AudioOptions::default(),
    };
    let stats: Option<JobStats> = match opt_s(item, "stats") {
        Some(text) => Some(serde_json::from_str(&text).map_err(|_| corrupt("stats"))?),
        None => None,
    };
    let tracks = match opt_s(item, "tracks") {
        Some(text) => serde_json::from_str(&text).map_err(|_| corrupt("tracks"))?,
        None => Vec::new(),
    };
    Ok(Job {
        job_id: get_s(item, "job_id")?
            .parse()
            .map_err(|_| corrupt("job_id"))?,
        user_id: get_s(item, "user_id")?
            .parse()
            .map_err(|_| corrupt("user_id"))?,
        filename: get_s(item, "filename")?.to_owned(),
        content_type: get_s(item, "content_type")?.to_owned(),
        declared_size: item
            .get("declared_size")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| corrupt("declared_size"))?,
        settings,
        options,
        status: get_s(item, "status")?
            .parse()
            .map_err(|_| corrupt("status"))?,
        error: opt_s(item, "error"),
        // A code this build does not know (written by a newer one) reads as none.
        error_code: opt_s(item, "error_code").and_then(|c| c.parse().ok()),
        source_key: get_s(item, "source_key")?.to_owned(),
        output_key: opt_s(item, "output_key"),
        stats,
        created_at: get_time(item, "created_at")?,
        updated_at: get_time(item, "updated_at")?,
        notified: flag(item, "notified"),
        lease: match (opt_s(item, "lease_owner"), get_epoch(item, "lease_expires")) {
            (Some(owner), Some(expires_at)) => Some(Lease { owner, expires_at }),
            _ => None,
        },
        emailed: flag(item, "emailed"),
        progress: item
            .get("progress")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok()),
        upload_id: opt_s(item, "upload_id"),
        callback_url: opt_s(item, "callback_url"),
        webhook_attempts: match item.get("webhook_attempts") {
            Some(AttributeValue::L(list)) => list
                .iter()
                .map(|v| {
                    v.as_s()
                        .ok()
                        .and_then(|text| serde_json::from_str(text).ok())
                        .ok_or_else(|| corrupt("webhook_attempts"))
                })
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        },
        tracks,
    })
}

/// A conditional `UpdateItem`'s outcome: `true` if it was applied, `false` if its condition
/// did not hold.
fn applied<T, E>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    >,
) -> Result<bool, PortError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if is_condition_failure(&err) => Ok(false),
        Err(err) => Err(port_error("UpdateItem", err)),
    }
}

pub(crate) fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    err: &E,
) -> bool {
    matches!(
        err.code(),
        Some("ConditionalCheckFailedException" | "TransactionCanceledException")
    )
}

/// The condition expression (with its values; `#status` names the status attribute) that
/// holds exactly when `p` [holds](Precondition::holds) for the stored job at `now`. Lease times
/// are compared as epoch seconds, as they are stored.
fn condition_of(p: &Precondition, now: OffsetDateTime) -> (String, Vec<(String, AttributeValue)>) {
    let mut values: Vec<(String, AttributeValue)> = p
        .from
        .iter()
        .enumerate()
        .map(|(i, status)| (format!(":from{i}"), s(status.as_str())))
        .collect();
    let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
    let mut condition = format!("attribute_exists(pk) AND #status IN ({})", names.join(", "));
    let converting = || (":converting".to_owned(), s(JobStatus::Converting.as_str()));
    match &p.lease {
        LeaseCheck::Any => {}
        LeaseCheck::Takeable { owner } => {
            condition.push_str(
                " AND (#status <> :converting OR attribute_not_exists(lease_expires) \
                 OR lease_expires < :now_epoch OR lease_owner = :owner)",
            );
            values.extend([
                converting(),
                (":now_epoch".to_owned(), epoch(now)),
                (":owner".to_owned(), s(owner)),
            ]);
        }
        LeaseCheck::HeldBy { owner } => {
            condition.push_str(" AND (#status <> :converting OR lease_owner = :owner)");
            values.extend([converting(), (":owner".to_owned(), s(owner))]);
        }
    }
    (condition, values)
}

#[async_trait]
impl UserStore for DynamoTable {
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<(), PortError> {
        let now = timestamp(OffsetDateTime::now_utc());
        let put = |item: Item| -> Result<TransactWriteItem, PortError> {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| PortError::backend("TransactWriteItems", false, e))?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        let credentials = Item::from([
            ("pk".into(), s(format!("EMAIL#{}", user.email))),
            ("sk".into(), s("EMAIL")),
            ("type".into(), s("credentials")),
            ("user_id".into(), s(user.user_id.to_string())),
            ("password_hash".into(), s(password_hash)),
            ("token_version".into(), number(user.token_version)),
        ]);
        let profile = Item::from([
            ("pk".into(), user_pk(&user.user_id)),
            ("sk".into(), s("PROFILE")),
            ("type".into(), s("user")),
            ("user_id".into(), s(user.user_id.to_string())),
            ("email".into(), s(&user.email)),
            ("token_version".into(), number(user.token_version)),
            ("created_at".into(), now),
        ]);
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(credentials)?)
            .transact_items(put(profile)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Err(PortError::AlreadyExists),
            Err(err) => Err(port_error("TransactWriteItems", err)),
        }
    }

    async fn credentials(&self, email: &str) -> Result<Option<UserCredentials>, PortError> {
        let Some(item) = self.get(s(format!("EMAIL#{email}")), s("EMAIL")).await? else {
            return Ok(None);
        };
        Ok(Some(UserCredentials {
            user_id: get_s(&item, "user_id")?
                .parse()
                .map_err(|_| corrupt("user_id"))?,
            password_hash: get_s(&item, "password_hash")?.to_owned(),
            token_version: token_version(&item),
        }))
    }

    async fn user(&self, user_id: &UserId) -> Result<Option<User>, PortError> {
        let Some(item) = self.get(user_pk(user_id), s("PROFILE")).await? else {
            return Ok(None);
        };
        Ok(Some(User {
            user_id: user_id.clone(),
            email: get_s(&item, "email")?.to_owned(),
            token_version: token_version(&item),
        }))
    }

    async fn webhook_key(&self, user_id: &UserId) -> Result<Option<String>, PortError> {
        Ok(self
            .get(user_pk(user_id), s("PROFILE"))
            .await?
            .and_then(|item| opt_s(&item, "webhook_key")))
    }

    async fn set_webhook_key(&self, user_id: &UserId, key: &str) -> Result<(), PortError> {
        let result = self
            .update(user_pk(user_id), s("PROFILE"))
            .update_expression("SET webhook_key = :k")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":k", s(key))
            .send()
            .await;
        match applied(result)? {
            true => Ok(()),
            false => Err(PortError::ConditionFailed),
        }
    }

    async fn delete_user(&self, user: &User) -> Result<(), PortError> {
        // Reset tokens first: while the profile stands, a failure here can be retried.
        self.delete_resets(&user.user_id).await?;
        let delete = |pk: String, sk: &str| -> Result<TransactWriteItem, PortError> {
            let delete = aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .build()
                .map_err(|e| PortError::backend("TransactWriteItems", false, e))?;
            Ok(TransactWriteItem::builder().delete(delete).build())
        };
        self.client
            .transact_write_items()
            .transact_items(delete(format!("EMAIL#{}", user.email), "EMAIL")?)
            .transact_items(delete(format!("USER#{}", user.user_id), "PROFILE")?)
            .transact_items(delete(format!("LOGIN#{}", user.email), "FAILURES")?)
            .transact_items(delete(format!("MAIL#{}", user.email), "COUNT")?)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("TransactWriteItems", e))
    }

    async fn take_login_attempt(
        &self,
        email: &str,
        now: OffsetDateTime,
        limit: u32,
        lockout: std::time::Duration,
    ) -> Result<LoginAttempt, PortError> {
        let key = || (s(format!("LOGIN#{email}")), s("FAILURES"));
        // One more in a row, only while not locked and under the limit (the item disappears a
        // day after the last attempt, by the table's TTL).
        let (pk, sk) = key();
        let taken = self
            .update(pk, sk)
            .update_expression("ADD failures :one SET expires_at = :expires")
            .condition_expression(
                "(attribute_not_exists(locked_until) OR locked_until <= :now) \
                 AND (attribute_not_exists(failures) OR failures < :limit)",
            )
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":now", epoch(now))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":expires", epoch(now + time::Duration::days(1)))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match taken {
            Ok(out) => {
                return Ok(LoginAttempt::Taken {
                    count: out.attributes().map(failures_in).unwrap_or(1),
                });
            }
            Err(err) if is_condition_failure(&err) => {}
            Err(err) => return Err(port_error("UpdateItem", err)),
        }
        let (pk, sk) = key();
        let current = self.get(pk, sk).await?;
        if let Some(until) = current
            .as_ref()
            .and_then(|i| get_epoch(i, "locked_until"))
            .filter(|until| *until > now)
        {
            return Ok(LoginAttempt::Locked { until });
        }
        // The limit is reached by attempts still being checked: lock from now, unless another
        // request just did.
        let until = now + lockout;
        let locked = self
            .lock_update(email, until)
            .condition_expression("attribute_not_exists(locked_until) OR locked_until <= :now")
            .expression_attribute_values(":now", epoch(now))
            .send()
            .await;
        match locked {
            Ok(_) => Ok(LoginAttempt::Locked { until }),
            Err(err) if is_condition_failure(&err) => {
                let (pk, sk) = key();
                let now_locked = self
                    .get(pk, sk)
                    .await?
                    .and_then(|i| get_epoch(&i, "locked_until"));
                Ok(LoginAttempt::Locked {
                    until: now_locked.unwrap_or(until),
                })
            }
            Err(err) => Err(port_error("UpdateItem", err)),
        }
    }

    async fn lock_login(&self, email: &str, until: OffsetDateTime) -> Result<(), PortError> {
        self.lock_update(email, until)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("UpdateItem", e))
    }

    async fn clear_login_failures(&self, email: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("LOGIN#{email}")))
            .key("sk", s("FAILURES"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("DeleteItem", e))
    }
}

#[async_trait]
impl JobStore for DynamoTable {
    async fn create_job(&self, job: &Job) -> Result<(), PortError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_to_item(job)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Err(PortError::AlreadyExists),
            Err(err) => Err(port_error("PutItem", err)),
        }
    }

    async fn job(&self, user: &UserId, job: &JobId) -> Result<Option<Job>, PortError> {
        let item = self.get(user_pk(user), job_sk(job)).await?;
        item.as_ref().map(job_from_item).transpose()
    }

    async fn delete_job(
        &self,
        user: &UserId,
        job: &JobId,
        deletion: Deletion,
    ) -> Result<(), PortError> {
        let mut delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", user_pk(user))
            .key("sk", job_sk(job));
        delete = match deletion {
            Deletion::Any => delete.condition_expression("attribute_exists(pk)"),
            Deletion::UnlessConverting => delete
                .condition_expression("attribute_exists(pk) AND #status <> :converting")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":converting", s(JobStatus::Converting.as_str())),
        };
        match delete.send().await {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Err(PortError::ConditionFailed),
            Err(err) => Err(port_error("DeleteItem", err)),
        }
    }

    async fn jobs(
        &self,
        user: &UserId,
        limit: u32,
        after: Option<&JobId>,
    ) -> Result<JobPage, PortError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :job)")
            .expression_attribute_values(":pk", user_pk(user))
            .expression_attribute_values(":job", s("JOB#"))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(after) = after {
            query = query
                .exclusive_start_key("pk", user_pk(user))
                .exclusive_start_key("sk", job_sk(after));
        }
        let out = query.send().await.map_err(|e| port_error("Query", e))?;
        let jobs = out
            .items()
            .iter()
            .map(job_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match out.last_evaluated_key() {
            Some(_) => jobs.last().map(|j| j.job_id),
            None => None,
        };
        Ok(JobPage { jobs, next })
    }

    async fn transition(
        &self,
        user: &UserId,
        job: &JobId,
        t: Transition,
    ) -> Result<Job, PortError> {
        let precondition = t.precondition()?;
        if precondition.from.is_empty() {
            return Err(PortError::ConditionFailed);
        }
        let now = OffsetDateTime::now_utc();
        let mut update = self
            .update(user_pk(user), job_sk(job))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(t.to.as_str()))
            .expression_attribute_values(":now", timestamp(now))
            .return_values(ReturnValue::AllNew);
        let (condition, values) = condition_of(&precondition, now);
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        let mut set = vec!["#status = :to", "updated_at = :now"];
        let mut remove = Vec::new();
        match (t.to, &t.lease) {
            (JobStatus::Converting, Some(lease)) => {
                set.extend(["lease_owner = :lease_owner", "lease_expires = :lease_until"]);
                update = update
                    .expression_attribute_values(":lease_owner", s(&lease.owner))
                    .expression_attribute_values(":lease_until", epoch(lease.expires_at));
            }
            _ => remove.extend(["lease_owner", "lease_expires"]),
        }
        if let Some(error) = t.error {
            set.push("#error = :error");
            update = update
                .expression_attribute_names("#error", "error")
                .expression_attribute_values(":error", s(error));
        }
        if let Some(code) = t.error_code {
            set.push("error_code = :error_code");
            update = update.expression_attribute_values(":error_code", s(code.code()));
        }
        if let Some(key) = t.output_key {
            set.push("output_key = :output_key");
            update = update.expression_attribute_values(":output_key", s(key));
        }
        if let Some(stats) = t.stats {
            set.push("stats = :stats");
            let json = serde_json::to_string(&stats)
                .map_err(|e| PortError::backend("encode job", false, e))?;
            update = update.expression_attribute_values(":stats", s(json));
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let result = update
            .condition_expression(condition)
            .update_expression(expression)
            .send()
            .await;
        match result {
            Ok(out) => job_from_item(out.attributes().ok_or_else(|| corrupt("item"))?),
            Err(err) if is_condition_failure(&err) => Err(PortError::ConditionFailed),
            Err(err) => Err(port_error("UpdateItem", err)),
        }
    }

    async fn mark_notified(&self, user: &UserId, job: &JobId) -> Result<bool, PortError> {
        let result = self
            .update(user_pk(user), job_sk(job))
            .update_expression("SET notified = :t REMOVE publish_claim_until")
            .condition_expression("attribute_exists(pk) AND notified <> :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await;
        applied(result)
    }

    async fn claim_publish(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: std::time::Duration,
    ) -> Result<EmailClaim, PortError> {
        let not_done = "notified <> :t";
        self.claim(user, job, "publish_claim_until", not_done, now, hold, |j| {
            j.notified
        })
        .await
    }

    async fn release_publish_claim(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: std::time::Duration,
    ) -> Result<(), PortError> {
        self.release(user, job, "publish_claim_until", now, hold)
            .await
    }

    async fn set_progress(
        &self,
        user: &UserId,
        job: &JobId,
        lease: &Lease,
        percent: u8,
    ) -> Result<bool, PortError> {
        let result = self
            .update(user_pk(user), job_sk(job))
            .update_expression("SET progress = :p")
            .condition_expression("#status = :converting AND lease_owner = :owner")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":p", AttributeValue::N(percent.to_string()))
            .expression_attribute_values(":converting", s(JobStatus::Converting.as_str()))
            .expression_attribute_values(":owner", s(&lease.owner))
            .send()
            .await;
        applied(result)
    }

    async fn set_tracks(
        &self,
        user: &UserId,
        job: &JobId,
        lease: &Lease,
        tracks: &[video2mp3_domain::SourceTrack],
    ) -> Result<bool, PortError> {
        let result = self
            .update(user_pk(user), job_sk(job))
            .update_expression("SET tracks = :t")
            .condition_expression("#status = :converting AND lease_owner = :owner")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":t", s(tracks_json(tracks)?))
            .expression_attribute_values(":converting", s(JobStatus::Converting.as_str()))
            .expression_attribute_values(":owner", s(&lease.owner))
            .send()
            .await;
        applied(result)
    }

    async fn claim_email(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: std::time::Duration,
    ) -> Result<EmailClaim, PortError> {
        // `:t` must appear: DynamoDB refuses a value the expressions do not use.
        let not_done = "(attribute_not_exists(emailed) OR emailed <> :t)";
        self.claim(user, job, "email_claim_until", not_done, now, hold, |j| {
            j.emailed
        })
        .await
    }

    async fn release_email_claim(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: std::time::Duration,
    ) -> Result<(), PortError> {
        self.release(user, job, "email_claim_until", now, hold)
            .await
    }

    async fn record_webhook_attempt(
        &self,
        user: &UserId,
        job: &JobId,
        attempt: &video2mp3_domain::webhook::WebhookAttempt,
    ) -> Result<bool, PortError> {
        let text = serde_json::to_string(attempt)
            .map_err(|e| PortError::backend("encode job", false, e))?;
        let update = if attempt.delivered {
            "SET webhook_attempts = list_append(if_not_exists(webhook_attempts, :empty), :a), \
             webhook_delivered = :t"
        } else {
            "SET webhook_attempts = list_append(if_not_exists(webhook_attempts, :empty), :a)"
        };
        let mut request = self
            .update(user_pk(user), job_sk(job))
            .update_expression(update)
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(webhook_delivered) \
                 AND (attribute_not_exists(webhook_attempts) OR size(webhook_attempts) < :max)",
            )
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":a", AttributeValue::L(vec![s(text)]))
            .expression_attribute_values(
                ":max",
                AttributeValue::N(video2mp3_domain::webhook::MAX_ATTEMPTS.to_string()),
            );
        if attempt.delivered {
            request = request.expression_attribute_values(":t", AttributeValue::Bool(true));
        }
        applied(request.send().await)
    }

    async fn record_part(
        &self,
        user: &UserId,
        job: &JobId,
        index: u32,
    ) -> Result<Option<u32>, PortError> {
        // A number set: a part delivered twice is counted once.
        let result = self
            .update(user_pk(user), job_sk(job))
            .update_expression("ADD parts_in :p")
            .condition_expression("attribute_exists(pk) AND #status = :converting")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":p", AttributeValue::Ns(vec![index.to_string()]))
            .expression_attribute_values(":converting", s(JobStatus::Converting.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let count = match out.attributes().and_then(|a| a.get("parts_in")) {
                    Some(AttributeValue::Ns(set)) => set.len(),
                    _ => {
                        return Err(PortError::backend(
                            "UpdateItem",
                            false,
                            "the parts recorded came back as no number set",
                        ));
                    }
                };
                Ok(Some(u32::try_from(count).unwrap_or(u32::MAX)))
            }
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(port_error("UpdateItem", err)),
        }
    }

    async fn claim_join(
        &self,
        user: &UserId,
        job: &JobId,
        now: OffsetDateTime,
        hold: std::time::Duration,
    ) -> Result<EmailClaim, PortError> {
        let result = self
            .update(user_pk(user), job_sk(job))
            .update_expression("SET join_claim_until = :until")
            .condition_expression(
                "attribute_exists(pk) AND #status = :converting \
                 AND (attribute_not_exists(join_claim_until) OR join_claim_until < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":converting", s(JobStatus::Converting.as_str()))
            .expression_attribute_values(":until", epoch(now + hold))
            .expression_attribute_values(":now", epoch(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(EmailClaim::Claimed),
            Err(err) if is_condition_failure(&err) => match self.job(user, job).await? {
                None => Ok(EmailClaim::NoJob),
                Some(j) if j.status != JobStatus::Converting => Ok(EmailClaim::AlreadySent),
                Some(_) => Ok(EmailClaim::Busy),
            },
            Err(err) => Err(port_error("UpdateItem", err)),
        }
    }

    async fn mark_emailed(&self, user: &UserId, job: &JobId) -> Result<(), PortError> {
        self.update(user_pk(user), job_sk(job))
            .update_expression("SET emailed = :t REMOVE email_claim_until")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("UpdateItem", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use video2mp3_domain::JobStatus;

    #[test]
    fn jobs_round_trip_through_items() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let job = Job {
            job_id: JobId::generate(),
            user_id: UserId::generate(),
            filename: "a b.mp4".into(),
            content_type: "video/mp4".into(),
            declared_size: 1234,
            settings: EncodeSettings::Cbr { kbps: 192 },
            options: AudioOptions {
                start: Some(0.25),
                end: None,
                channels: Some(video2mp3_domain::Channels::Stereo),
                sample_rate: Some(48000),
                loudness: None,
                track: Some(video2mp3_domain::TrackChoice::Index(1)),
                tags: Some(video2mp3_domain::TagsChoice::Strip),
            },
            status: JobStatus::Done,
            error: Some("x".into()),
            error_code: Some(video2mp3_domain::FailureReason::TooLong),
            source_key: "uploads/u/j/a b.mp4".into(),
            output_key: Some("mp3/u/j/a b.mp3".into()),
            stats: Some(JobStats {
                source_bytes: 1234,
                mp3_bytes: 99,
                audio_seconds: 1.5,
                elapsed_ms: 7,
                bytes_read: 321,
                peak_rss_bytes: 40 << 20,
                parts: Some(3),
                tracks: vec![video2mp3_domain::SourceTrack {
                    index: 0,
                    codec: "aac".into(),
                    channels: Some(2),
                    sample_rate: Some(44_100),
                    language: Some("eng".into()),
                    converted: true,
                }],
            }),
            created_at: now,
            updated_at: now,
            notified: true,
            lease: Some(Lease {
                owner: "attempt-1".into(),
                expires_at: now,
            }),
            emailed: true,
            progress: Some(42),
            upload_id: Some("upload-1".into()),
            callback_url: Some("https://hooks.example.com/in".into()),
            webhook_attempts: vec![
                video2mp3_domain::WebhookAttempt {
                    at: now,
                    status: None,
                    error: Some("connection refused".into()),
                    delivered: false,
                },
                video2mp3_domain::WebhookAttempt {
                    at: now,
                    status: Some(204),
                    error: None,
                    delivered: true,
                },
            ],
            tracks: vec![video2mp3_domain::SourceTrack {
                index: 0,
                codec: "AAC".into(),
                channels: Some(2),
                sample_rate: Some(44100),
                language: None,
                converted: true,
            }],
        };
        let item = job_to_item(&job).unwrap();
        assert_eq!(
            item.get("webhook_delivered"),
            Some(&AttributeValue::Bool(true))
        );
        assert_eq!(job_from_item(&item).unwrap(), job);
    }
}
