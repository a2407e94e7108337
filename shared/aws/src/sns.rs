//! Publishing job events to the SNS topic.

use crate::errors::port_error;
use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use video2mp3_domain::{EventPublisher, JobEvent, PortError};

/// Publishes [`JobEvent`]s as JSON, with the status as a message attribute for filtering.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

#[async_trait]
impl EventPublisher for SnsPublisher {
    async fn publish(&self, event: &JobEvent) -> Result<(), PortError> {
        let message =
            serde_json::to_string(event).map_err(|e| PortError::backend("Publish", false, e))?;
        let status = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(event.status.as_str())
            .build()
            .map_err(|e| PortError::backend("Publish", false, e))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message)
            .message_attributes("status", status)
            .send()
            .await
            .map_err(|e| port_error("Publish", e))?;
        Ok(())
    }
}
