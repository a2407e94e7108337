//! Queue pollers: what Lambda's event source mappings do on AWS. SQS-triggered functions get
//! batches of the template's `BatchSize`, and only the messages they report as failed stay on
//! the queue. SNS-triggered functions get the topic's messages through an SQS queue subscribed
//! to the topic, one record per invocation as SNS invokes Lambda; as with Lambda's asynchronous
//! invocations, a failed event is tried `MaximumRetryAttempts` more times (2 by default), then
//! sent with its error to the function's on-failure destination, if it has one, or dropped.

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

/// Starts one poller per SQS and SNS event in the template.
pub async fn start(
    functions: &[Arc<Function>],
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
                .topic_arn(&topic)
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
            tasks.push(tokio::spawn(poll(
                sqs.clone(),
                url,
                queue_arn,
                1,
                Source::Sns {
                    subscription,
                    retries,
                    on_failure,
                },
                function.clone(),
                retry_delay,
                shutdown.clone(),
            )));
        }
    }
    Ok(tasks)
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
            Source::Sqs => invoke_sqs(&function, &arn, &messages).await,
            Source::Sns {
                subscription,
                retries,
                on_failure,
            } => {
                let failures = invoke_sns(&function, subscription, &messages).await;
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
                    if tries <= *retries {
                        again.push(failure.id);
                    } else {
                        give_up(&function, on_failure.as_deref(), &failure, tries).await;
                    }
                }
                again
            }
        };
        for message in &messages {
            let id = message.message_id().unwrap_or_default();
            let Some(handle) = message.receipt_handle() else {
                continue;
            };
            let result = if failed.iter().any(|f| f == id) {
                // Lambda would wait out the visibility timeout; locally a short delay keeps retries visible.
                sqs.change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(handle)
                    .visibility_timeout(retry_delay.as_secs() as i32)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            } else {
                sqs.delete_message()
                    .queue_url(&url)
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

async fn invoke_sqs(function: &Function, arn: &str, messages: &[Message]) -> Vec<String> {
    let all = || {
        messages
            .iter()
            .filter_map(|m| m.message_id().map(str::to_owned))
            .collect()
    };
    let Handler::Convert(deps) = &function.handler else {
        tracing::error!(function = %function.logical_id, "has an SQS event but is not an SQS function");
        return all();
    };
    let event = match serde_json::from_value(sqs_event(arn, messages)) {
        Ok(e) => e,
        Err(err) => {
            tracing::error!(error = %err, "could not build the SQS event");
            return all();
        }
    };
    let response = convert::handle(event, deps).await;
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

async fn invoke_sns(function: &Function, subscription: &str, messages: &[Message]) -> Vec<Failure> {
    let mut failed = Vec::new();
    for m in messages {
        let id = m.message_id().unwrap_or_default().to_owned();
        let envelope: Value =
            serde_json::from_str(m.body().unwrap_or_default()).unwrap_or(Value::Null);
        let payload = sns_event(subscription, &envelope);
        let Handler::Notify(deps) = &function.handler else {
            tracing::error!(function = %function.logical_id, "has an SNS event but is not an SNS function");
            failed.push(Failure {
                id,
                event: payload,
                error: "not an SNS function".into(),
            });
            continue;
        };
        let event = match serde_json::from_value(payload.clone()) {
            Ok(e) => e,
            Err(err) => {
                // Not an SNS envelope: Lambda would never be invoked with it; drop it.
                tracing::warn!(error = %err, "dropping a message that is not an SNS notification");
                continue;
            }
        };
        if let Err(err) = notify::handle(event, deps).await {
            tracing::warn!(error = ?err, "notify failed");
            failed.push(Failure {
                id,
                event: payload,
                error: err.to_string(),
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
