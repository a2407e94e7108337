//! Sending messages to an SQS queue.

use crate::errors::port_error;
use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use video2mp3_domain::{MessageQueue, PortError};

/// SQS takes at most 10 messages a batch.
const BATCH: usize = 10;

/// [`MessageQueue`] over an SQS queue, by its URL.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

#[async_trait]
impl MessageQueue for SqsQueue {
    async fn send(&self, bodies: &[String]) -> Result<(), PortError> {
        for batch in bodies.chunks(BATCH) {
            let entries = batch
                .iter()
                .enumerate()
                .map(|(n, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(n.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| PortError::backend("SendMessageBatch", false, e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| port_error("SendMessageBatch", e))?;
            // A batch can be taken in part: what was refused is an error, a sender's fault
            // (permanent) or SQS's (retried).
            if let Some(failed) = out.failed().first() {
                return Err(PortError::backend(
                    "SendMessageBatch",
                    !failed.sender_fault(),
                    format!(
                        "{} of {} messages refused: {} {}",
                        out.failed().len(),
                        batch.len(),
                        failed.code(),
                        failed.message().unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }
}
