//! CloudWatch embedded-metric-format (EMF) lines: one JSON object per line on stdout, which
//! CloudWatch Logs turns into metrics without an API call. Namespace `video2mp3`.

use serde_json::{Value, json};
use video2mp3_domain::{FailureReason, JobStats};

/// The namespace of every metric here.
pub const NAMESPACE: &str = "video2mp3";

fn document(timestamp_ms: i64, dimensions: &[&str], metrics: &[(&str, &str, Value)]) -> Value {
    let mut doc = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": metrics
                    .iter()
                    .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                    .collect::<Vec<_>>(),
            }],
        }
    });
    for (name, _, value) in metrics {
        doc[*name] = value.clone();
    }
    doc
}

/// The EMF document for a finished conversion, from what its job records.
pub fn conversion(c: &JobStats, timestamp_ms: i64) -> Value {
    let realtime = if c.elapsed_ms > 0 {
        c.audio_seconds / (c.elapsed_ms as f64 / 1000.0)
    } else {
        0.0
    };
    document(
        timestamp_ms,
        &[],
        &[
            ("ConversionTime", "Milliseconds", json!(c.elapsed_ms)),
            ("RealtimeFactor", "None", json!(realtime)),
            ("AudioSeconds", "Seconds", json!(c.audio_seconds)),
            ("BytesRead", "Bytes", json!(c.bytes_read)),
            ("SourceBytes", "Bytes", json!(c.source_bytes)),
            ("OutputBytes", "Bytes", json!(c.mp3_bytes)),
        ],
    )
}

/// The EMF document for a job that failed, by reason (its code, such as `unsupported_codec`).
pub fn failure(reason: FailureReason, timestamp_ms: i64) -> Value {
    let mut doc = document(
        timestamp_ms,
        &["Reason"],
        &[("Failures", "Count", json!(1))],
    );
    doc["Reason"] = json!(reason.code());
    doc
}

/// Writes one EMF line to stdout, where Lambda's log capture finds it. Outside Lambda (the
/// local stack, tests) it goes to the debug log instead, so a terminal is not flooded.
pub fn emit(doc: &Value) {
    static ON_LAMBDA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()) {
        println!("{doc}");
    } else {
        tracing::debug!(emf = %doc, "metrics");
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric the directive names is a top-level number, and the dimensions are keys.
    fn check(doc: &Value) {
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert!(doc["_aws"]["Timestamp"].is_i64());
        let metrics = directive["Metrics"].as_array().unwrap();
        assert!(!metrics.is_empty());
        for m in metrics {
            let name = m["Name"].as_str().unwrap();
            assert!(doc[name].is_number(), "{name} is not a number: {doc}");
            assert!(m["Unit"].is_string());
        }
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                assert!(doc[dimension.as_str().unwrap()].is_string(), "{doc}");
            }
        }
        // One line.
        assert!(!doc.to_string().contains('\n'));
    }

    #[test]
    fn conversion_and_failure_documents_are_valid_emf() {
        let doc = conversion(
            &JobStats {
                elapsed_ms: 2000,
                audio_seconds: 600.0,
                bytes_read: 10,
                source_bytes: 100,
                mp3_bytes: 5,
                peak_rss_bytes: 0,
                tracks: Vec::new(),
                parts: None,
            },
            1_700_000_000_000,
        );
        check(&doc);
        assert_eq!(doc["RealtimeFactor"], 300.0);
        let doc = failure(FailureReason::UnsupportedCodec, 1_700_000_000_000);
        check(&doc);
        assert_eq!(doc["Reason"], "unsupported_codec");
        assert_eq!(doc["Failures"], 1);
    }
}
