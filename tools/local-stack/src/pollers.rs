//! Queue pollers: what Lambda's event source mappings do on AWS. SQS-triggered functions get
//! batches of the template's `BatchSize`, and only the messages they report as failed stay on
//! the queue. SNS-triggered functions get the topic's messages through an SQS queue subscribed
//! to the topic, one record per invocation as SNS invokes Lambda; as with Lambda's asynchronous
//! invocations, a failed event is tried `MaximumRetryAttempts` more times (2 by default), then
//! sent with its error to the function's on-failure destination, if it has one, or dropped.
//!
//! The functions run in-process, or ([`Invoker::Lambda`]) as their built bootstraps behind a
//! Lambda Invoke API (`sam local start-lambda`), called as Lambda's pollers call them.

use crate::functions::{Function, Handler};
use crate::template::{Physical, Resolver};
use anyhow::{Context, Result, anyhow};
use aws_config::SdkConfig;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How a poller hands an event to its function.
#[derive(Clone)]
pub enum Invoker {
    /// The handler, in this process.
    InProcess,
    /// `POST {endpoint}/2015-03-31/functions/{LogicalId}/invocations`.
    Lambda {
        endpoint: String,
        client: reqwest::Client,
    },
}

/// What a function answered, or why it did not.
enum Answer {
    Ok(Value),
    Failed(String),
}

impl Invoker {
    /// Invokes through the Lambda Invoke API at `endpoint`.
    pub fn lambda(endpoint: &str) -> Result<Self> {
        Ok(Self::Lambda {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            // Long enough for a conversion under emulation; the function's own timeout,
            // enforced by the emulator, comes first.
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(960))
                .build()?,
        })
    }

    /// A synchronous invocation through the Invoke API: the payload, or the function's error.
    async fn remote(
        client: &reqwest::Client,
        endpoint: &str,
        function: &str,
        event: &Value,
    ) -> Answer {
        let url = format!("{endpoint}/2015-03-31/functions/{function}/invocations");
        // The Invoke API may still be starting (the pollers start first): a refused connection
        // is tried again for a while, as Lambda's pollers wait for the function's capacity.
        let mut refused = 0;
        let response = loop {
            match client.post(&url).json(event).send().await {
                Ok(r) => break r,
                Err(err) if err.is_connect() && refused < 60 => {
                    refused += 1;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(err) => {
                    return Answer::Failed(format!("the Invoke API did not answer: {err}"));
                }
            }
        };
        let status = response.status();
        let function_error = response
            .headers()
            .get("x-amz-function-error")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Answer::Failed(format!("the Invoke API answered {status}: {body}"));
        }
        if let Some(kind) = function_error {
            return Answer::Failed(format!("{kind}: {body}"));
        }
        match serde_json::from_str(&body) {
            Ok(payload) => Answer::Ok(payload),
            // A function that returns nothing answers an empty body.
            Err(_) if body.trim().is_empty() => Answer::Ok(Value::Null),
            Err(err) => Answer::Failed(format!("the payload is not JSON ({err}): {body}")),
        }
    }
}

/// Starts one poller per SQS and SNS event in the template.
pub async fn start(
    functions: &[Arc<Function>],
    invoker: &Invoker,
    sdk: &SdkConfig,
    resolver: &Resolver,
    retry_delay: Duration,
    concurrency: usize,
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut tasks = Vec::new();
    for function in functions {
        for event in function.events_of("SQS") {
            let arn = resolver.string(&event["Queue"])?;
            let (url, arn) = queue_by_arn(resolver, &arn)?;
            let batch = event["BatchSize"].as_u64().unwrap_or(10).clamp(1, 10) as i32;
            for _ in 0..concurrency {
                tasks.push(tokio::spawn(poll(
                    invoker.clone(),
                    sqs.clone(),
                    url.clone(),
                    arn.clone(),
                    batch,
                    Source::Sqs,
                    function.clone(),
                    retry_delay,
                    shutdown.clone(),
                )));
            }
        }
        for event in function.events_of("SNS") {
            let topic = resolver.string(&event["Topic"])?;
            let (url, queue_arn, source) = subscribe(sdk, &sqs, resolver, function, &topic).await?;
            tasks.push(tokio::spawn(poll(
                invoker.clone(),
                sqs.clone(),
                url,
                queue_arn,
                1,
                source,
                function.clone(),
                retry_delay,
                shutdown.clone(),
            )));
        }
    }
    Ok(tasks)
}

/// A queue of its own subscribed to `topic` for `function`, as SNS's delivery to it: the
/// queue's URL and ARN, and the source with the function's retries and on-failure destination.
async fn subscribe(
    sdk: &SdkConfig,
    sqs: &aws_sdk_sqs::Client,
    resolver: &Resolver,
    function: &Function,
    topic: &str,
) -> Result<(String, String, Source)> {
    let name = format!(
        "{}-{}-sns",
        crate::stack::LOCAL_STACK_NAME,
        function.logical_id
    );
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .context("creating the SNS delivery queue")?
        .queue_url
        .ok_or_else(|| anyhow!("no queue URL"))?;
    let queue_arn = format!(
        "arn:aws:sqs:{}:{}:{name}",
        resolver.region, resolver.account
    );
    let subscription = aws_sdk_sns::Client::new(sdk)
        .subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .context("subscribing to the topic")?
        .subscription_arn
        .unwrap_or_default();
    let config = &function.invoke_config;
    let retries = config["MaximumRetryAttempts"].as_u64().unwrap_or(2) as u32;
    let on_failure = match &config["DestinationConfig"]["OnFailure"] {
        Value::Null => None,
        d if d["Type"] == "SQS" => {
            Some(queue_by_arn(resolver, &resolver.string(&d["Destination"])?)?.0)
        }
        d => anyhow::bail!(
            "{}: an on-failure destination of type {} is not played locally",
            function.logical_id,
            d["Type"]
        ),
    };
    Ok((
        url,
        queue_arn,
        Source::Sns {
            subscription,
            retries,
            on_failure,
        },
    ))
}

fn queue_by_arn(resolver: &Resolver, arn: &str) -> Result<(String, String)> {
    resolver
        .physical
        .values()
        .find_map(|p| match p {
            Physical::Queue { url, arn: a, .. } if a == arn => Some((url.clone(), a.clone())),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no queue with ARN {arn}"))
}

enum Source {
    Sqs,
    Sns {
        subscription: String,
        /// Retries after the first try, as `MaximumRetryAttempts`.
        retries: u32,
        /// The on-failure destination queue's URL.
        on_failure: Option<String>,
    },
}

#[allow(clippy::too_many_arguments)]
async fn poll(
    invoker: Invoker,
    sqs: aws_sdk_sqs::Client,
    url: String,
    arn: String,
    batch: i32,
    source: Source,
    function: Arc<Function>,
    retry_delay: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let receive = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(batch)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send();
        let messages = tokio::select! {
            _ = shutdown.changed() => return,
            result = receive => match result {
                Ok(out) => out.messages.unwrap_or_default(),
                Err(err) => {
                    tracing::warn!(function = %function.logical_id, error = %err, "receiving from the queue failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        if messages.is_empty() {
            continue;
        }
        let failed: Vec<String> = match &source {
            Source::Sqs => invoke_sqs(&invoker, &function, &arn, &messages).await,
            Source::Sns {
                subscription,
                retries,
                on_failure,
            } => {
                invoke_sns_with_retries(
                    &invoker,
                    &function,
                    subscription,
                    *retries,
                    on_failure.as_deref(),
                    &messages,
                )
                .await
            }
        };
        settle(&sqs, &url, &messages, &failed, retry_delay).await;
    }
}

/// Invokes the SNS-subscribed function for `messages` as SNS's asynchronous invocation does:
/// each failed event is tried again while it has tries left (`retries` after the first), then
/// goes to `on_failure`. The ids of the messages to deliver again.
async fn invoke_sns_with_retries(
    invoker: &Invoker,
    function: &Function,
    subscription: &str,
    retries: u32,
    on_failure: Option<&str>,
    messages: &[Message],
) -> Vec<String> {
    let failures = invoke_sns(invoker, function, subscription, messages).await;
    let mut again = Vec::new();
    for failure in failures {
        let tries = messages
            .iter()
            .find(|m| m.message_id() == Some(failure.id.as_str()))
            .and_then(|m| {
                m.attributes()?
                    .get(&MessageSystemAttributeName::ApproximateReceiveCount)?
                    .parse::<u32>()
                    .ok()
            })
            .unwrap_or(1);
        if tries <= retries {
            again.push(failure.id);
        } else {
            give_up(function, on_failure, &failure, tries).await;
        }
    }
    again
}

/// Deletes the messages handled and makes the `failed` ones visible again after `retry_delay`
/// (Lambda would wait out the visibility timeout; locally a short delay keeps retries visible).
async fn settle(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    messages: &[Message],
    failed: &[String],
    retry_delay: Duration,
) {
    for message in messages {
        let id = message.message_id().unwrap_or_default();
        let Some(handle) = message.receipt_handle() else {
            continue;
        };
        let result = if failed.iter().any(|f| f == id) {
            sqs.change_message_visibility()
                .queue_url(url)
                .receipt_handle(handle)
                .visibility_timeout(retry_delay.as_secs() as i32)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(handle)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if let Err(err) = result {
            tracing::warn!(error = %err, "settling a message failed");
        }
    }
}

/// The SQS event Lambda would deliver for these messages.
fn sqs_event(arn: &str, messages: &[Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": crate::stack::LOCAL_REGION,
            })
        })
        .collect();
    json!({ "Records": records })
}

async fn invoke_sqs(
    invoker: &Invoker,
    function: &Function,
    arn: &str,
    messages: &[Message],
) -> Vec<String> {
    let all = || {
        messages
            .iter()
            .filter_map(|m| m.message_id().map(str::to_owned))
            .collect()
    };
    let payload = sqs_event(arn, messages);
    let response: aws_lambda_events::event::sqs::SqsBatchResponse = match invoker {
        Invoker::InProcess => {
            let event = match serde_json::from_value(payload) {
                Ok(e) => e,
                Err(err) => {
                    tracing::error!(error = %err, "could not build the SQS event");
                    return all();
                }
            };
            match &function.handler {
                Handler::Convert(deps) => convert::handle(event, deps).await,
                Handler::Webhook(deps) => webhook::handle(event, deps).await,
                _ => {
                    tracing::error!(function = %function.logical_id, "has an SQS event but is not an SQS function");
                    return all();
                }
            }
        }
        Invoker::Lambda { endpoint, client } => {
            match Invoker::remote(client, endpoint, &function.logical_id, &payload).await {
                Answer::Ok(answer) => match serde_json::from_value(answer) {
                    Ok(r) => r,
                    Err(err) => {
                        tracing::error!(function = %function.logical_id, error = %err, "not an SQS batch response; the whole batch is retried");
                        return all();
                    }
                },
                Answer::Failed(why) => {
                    tracing::warn!(function = %function.logical_id, error = %why, "the invocation failed; the whole batch is retried");
                    return all();
                }
            }
        }
    };
    response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

/// The SNS event Lambda would receive for an SNS envelope delivered to SQS.
fn sns_event(subscription: &str, envelope: &Value) -> Value {
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription,
            "Sns": {
                "Type": envelope["Type"],
                "MessageId": envelope["MessageId"],
                "TopicArn": envelope["TopicArn"],
                "Subject": envelope["Subject"],
                "Message": envelope["Message"],
                "Timestamp": envelope["Timestamp"],
                "SignatureVersion": envelope["SignatureVersion"],
                "Signature": envelope["Signature"],
                "SigningCertUrl": envelope["SigningCertURL"],
                "UnsubscribeUrl": envelope["UnsubscribeURL"],
                "MessageAttributes": envelope.get("MessageAttributes").cloned().unwrap_or(json!({})),
            }
        }]
    })
}

/// An asynchronous invocation that failed.
struct Failure {
    /// The delivering message's id.
    id: String,
    /// The event the function was invoked with.
    event: Value,
    error: String,
}

async fn invoke_sns(
    invoker: &Invoker,
    function: &Function,
    subscription: &str,
    messages: &[Message],
) -> Vec<Failure> {
    let mut failed = Vec::new();
    for m in messages {
        let id = m.message_id().unwrap_or_default().to_owned();
        let envelope: Value =
            serde_json::from_str(m.body().unwrap_or_default()).unwrap_or(Value::Null);
        let payload = sns_event(subscription, &envelope);
        let event: aws_lambda_events::event::sns::SnsEvent = match serde_json::from_value(
            payload.clone(),
        ) {
            Ok(e) => e,
            Err(err) => {
                // Not an SNS envelope: Lambda would never be invoked with it; drop it.
                tracing::warn!(error = %err, "dropping a message that is not an SNS notification");
                continue;
            }
        };
        let outcome = match invoker {
            Invoker::InProcess => match &function.handler {
                Handler::Notify(deps) => notify::handle(event, deps).await.map_err(|err| {
                    tracing::warn!(error = ?err, "notify failed");
                    err.to_string()
                }),
                _ => Err("has an SNS event but is not an SNS function".to_owned()),
            },
            Invoker::Lambda { endpoint, client } => {
                match Invoker::remote(client, endpoint, &function.logical_id, &payload).await {
                    Answer::Ok(_) => Ok(()),
                    Answer::Failed(why) => Err(why),
                }
            }
        };
        if let Err(error) = outcome {
            tracing::warn!(function = %function.logical_id, %error, "the SNS event failed");
            failed.push(Failure {
                id,
                event: payload,
                error,
            });
        }
    }
    failed
}

/// What Lambda does with an asynchronous event whose every try failed: sends it, with the
/// error, to the on-failure destination (with the function's own role, as Lambda does), or
/// drops it.
async fn give_up(function: &Function, on_failure: Option<&str>, failure: &Failure, tries: u32) {
    let Some(queue) = on_failure else {
        tracing::error!(function = %function.logical_id, tries, "event dropped after its retries (no on-failure destination)");
        return;
    };
    let record = json!({
        "version": "1.0",
        "timestamp": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "requestContext": {
            "requestId": failure.id,
            "functionArn": format!("arn:aws:lambda:{}:{}:function:{}:$LATEST",
                crate::stack::LOCAL_REGION, crate::stack::LOCAL_ACCOUNT, function.logical_id),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": tries,
        },
        "requestPayload": failure.event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": failure.error, "errorType": "Error"},
    });
    let sent = aws_sdk_sqs::Client::new(&function.sdk)
        .send_message()
        .queue_url(queue)
        .message_body(record.to_string())
        .send()
        .await;
    match sent {
        Ok(_) => {
            tracing::warn!(function = %function.logical_id, tries, "event sent to the on-failure destination")
        }
        Err(err) => {
            tracing::error!(function = %function.logical_id, error = ?err, "the on-failure destination refused the event; it is lost")
        }
    }
}
