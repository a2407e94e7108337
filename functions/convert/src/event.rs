//! The S3 event notifications that reach the converter through SQS, read down to the upload
//! keys they name.

use serde::Deserialize;

/// The part of an S3 event notification the converter reads. Parsed leniently on purpose: a
/// field S3 adds or leaves out must not make the message unreadable.
#[derive(Debug, Deserialize)]
struct S3Notification {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Debug, Deserialize)]
struct S3Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
}

/// Decodes an S3 event key: form encoding, so `+` is a space and `%XX` a byte of UTF-8.
pub fn decode_s3_key(key: &str) -> String {
    form_urlencoded::parse(format!("k={key}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// What one SQS message body asks of the converter.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// Not an S3 notification at all (dropped).
    Foreign(String),
    /// S3's `s3:TestEvent`, sent when notifications are configured.
    TestEvent,
    /// The decoded keys of objects created in `bucket` (other records are logged and skipped).
    Created(Vec<String>),
}

/// Reads one message body; records for other buckets or other events are logged and left out.
pub(crate) fn parse(body: &str, bucket: &str) -> Message {
    let notification: S3Notification = match serde_json::from_str(body) {
        Ok(n) => n,
        Err(err) => return Message::Foreign(err.to_string()),
    };
    if notification.event.as_deref() == Some("s3:TestEvent") {
        return Message::TestEvent;
    }
    let mut keys = Vec::new();
    for record in notification.records {
        if !record.event_name.starts_with("ObjectCreated") {
            tracing::info!(event = %record.event_name, "not an ObjectCreated event; ignored");
        } else if record.s3.bucket.name != bucket {
            tracing::warn!(bucket = %record.s3.bucket.name, "event for another bucket; ignored");
        } else {
            keys.push(decode_s3_key(&record.s3.object.key));
        }
    }
    Message::Created(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_keys_are_form_decoded() {
        assert_eq!(
            decode_s3_key("uploads/u/j/my+video+caf%C3%A9.mp4"),
            "uploads/u/j/my video café.mp4"
        );
        assert_eq!(decode_s3_key("a%2Bb%20c"), "a+b c");
        assert_eq!(decode_s3_key("plain.mp4"), "plain.mp4");
    }

    #[test]
    fn test_events_and_foreign_bodies_parse_leniently() {
        assert_eq!(
            parse(
                r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#,
                "b"
            ),
            Message::TestEvent
        );
        assert!(matches!(parse("not json", "b"), Message::Foreign(_)));
        let created = |bucket: &str, name: &str| {
            format!(
                r#"{{"Records":[{{"eventName":"{name}","s3":{{"bucket":{{"name":"{bucket}"}},"object":{{"key":"uploads/a+b.mp4","size":1}}}}}}]}}"#
            )
        };
        assert_eq!(
            parse(&created("up", "ObjectCreated:Put"), "up"),
            Message::Created(vec!["uploads/a b.mp4".into()])
        );
        assert_eq!(
            parse(&created("other", "ObjectCreated:Put"), "up"),
            Message::Created(vec![])
        );
        assert_eq!(
            parse(&created("up", "ObjectRemoved:Delete"), "up"),
            Message::Created(vec![])
        );
    }
}
