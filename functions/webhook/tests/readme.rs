//! The README's way to verify a signature (its Python) accepts what the sender signs, and
//! refuses an altered body, another key and an old timestamp.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use video2mp3_domain::webhook::sign;

/// The first ```python block after the README's Webhooks heading.
fn readme_verifier() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme.find("### Webhooks").expect("a Webhooks section")..];
    let start = section.find("```python\n").expect("a Python block") + "```python\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_owned()
}

fn python_says(code: &str, key: &str, timestamp: i64, body: &str, signature: &str) -> bool {
    let script = format!(
        "{code}\nimport sys\nprint(verify(sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4]))\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script, key, &timestamp.to_string(), body, signature])
        .output()
        .expect("python3 is needed for this test (Debian: apt-get install python3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match String::from_utf8_lossy(&out.stdout).trim() {
        "True" => true,
        "False" => false,
        other => panic!("the README's verify printed {other:?}"),
    }
}

#[test]
fn the_readmes_verifier_accepts_the_senders_signature_and_nothing_else() {
    let code = readme_verifier();
    let key = "whsec_readme-key";
    let body = r#"{"type":"job.done","job_id":"01J","status":"done"}"#;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(key.as_bytes(), now, body.as_bytes());
    assert!(python_says(&code, key, now, body, &signature));
    assert!(!python_says(
        &code,
        key,
        now,
        &body.replace("done", "failed"),
        &signature
    ));
    assert!(!python_says(&code, "whsec_other", now, body, &signature));
    let old = now - 3600;
    let old_signature = sign(key.as_bytes(), old, body.as_bytes());
    assert!(!python_says(&code, key, old, body, &old_signature));
}
