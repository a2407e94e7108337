//! What failed for good: the convert queue's dead letters and notify's failed events (its
//! on-failure destination). Look at them and send them back (`make dlq`, `make redrive`). On
//! AWS the same is `aws sqs receive-message` on either queue, `aws sqs start-message-move-task`
//! for the convert DLQ, and `aws sns publish` of a failed event's message (see docs/operations.md).

use anyhow::{Context, Result};
use aws_sdk_sqs::types::MessageSystemAttributeName;

/// One message in a dead-letter queue, as `make dlq` shows it.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message_id: String,
    /// How many times it was received before it landed here (and since).
    pub receives: String,
    pub sent_at: String,
    pub body: String,
}

/// The URL of a queue of the local stack by its logical id (`ConvertDeadLetterQueue`).
pub async fn local_queue_url(sqs: &aws_sdk_sqs::Client, logical_id: &str) -> Result<String> {
    let name = format!("{}-{logical_id}", crate::stack::LOCAL_STACK_NAME);
    sqs.get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .with_context(|| format!("no queue {name}; is the local stack running (make local)?"))?
        .queue_url
        .context("no queue URL")
}

/// Up to `max` messages of the queue, left where they are (received with a zero visibility
/// timeout, so they stay visible).
pub async fn peek(sqs: &aws_sdk_sqs::Client, url: &str, max: usize) -> Result<Vec<DeadLetter>> {
    let mut seen: Vec<DeadLetter> = Vec::new();
    // A receive returns at most 10, and may repeat ones already seen.
    for _ in 0..max.div_ceil(10).max(1) * 3 {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .context("reading the queue")?;
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            break;
        }
        for m in batch {
            let id = m.message_id().unwrap_or_default().to_owned();
            if seen.iter().any(|s| s.message_id == id) {
                continue;
            }
            let attribute = |name: &MessageSystemAttributeName| {
                m.attributes()
                    .and_then(|a| a.get(name))
                    .cloned()
                    .unwrap_or_default()
            };
            seen.push(DeadLetter {
                message_id: id,
                receives: attribute(&MessageSystemAttributeName::ApproximateReceiveCount),
                sent_at: attribute(&MessageSystemAttributeName::SentTimestamp),
                body: m.body().unwrap_or_default().to_owned(),
            });
        }
        if seen.len() >= max {
            break;
        }
    }
    seen.truncate(max);
    Ok(seen)
}

/// Receives every message of `from`, hands each to `act`, and deletes it once `act` succeeded.
/// Returns how many were handled.
async fn drain<F, Fut>(sqs: &aws_sdk_sqs::Client, from: &str, act: F) -> Result<usize>
where
    F: Fn(aws_sdk_sqs::types::Message) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut handled = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(from)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .send()
            .await
            .context("reading the queue")?;
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return Ok(handled);
        }
        for m in batch {
            let handle = m.receipt_handle().map(str::to_owned);
            act(m).await?;
            if let Some(handle) = handle {
                sqs.delete_message()
                    .queue_url(from)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .context("deleting a handled message")?;
            }
            handled += 1;
        }
    }
}

/// Moves every message from `from` back to `to` (each sent again, then deleted from `from`).
/// Returns how many were moved.
pub async fn redrive(sqs: &aws_sdk_sqs::Client, from: &str, to: &str) -> Result<usize> {
    drain(sqs, from, |m| async move {
        sqs.send_message()
            .queue_url(to)
            .message_body(m.body().unwrap_or_default())
            .send()
            .await
            .context("sending a message back")?;
        Ok(())
    })
    .await
}

/// Replays notify's failed events (Lambda's on-failure records in `from`): each record's SNS
/// message is published again to the topic it came from, then the record is deleted. Returns
/// how many were replayed.
pub async fn replay_failed_events(
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
    from: &str,
) -> Result<usize> {
    drain(sqs, from, |m| async move {
        let record: serde_json::Value =
            serde_json::from_str(m.body().unwrap_or_default()).context("a failure record")?;
        for r in record["requestPayload"]["Records"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (Some(topic), Some(message)) =
                (r["Sns"]["TopicArn"].as_str(), r["Sns"]["Message"].as_str())
            else {
                anyhow::bail!("a failure record without an SNS message: {record}");
            };
            sns.publish()
                .topic_arn(topic)
                .message(message)
                .send()
                .await
                .context("publishing a failed event again")?;
        }
        Ok(())
    })
    .await
}
