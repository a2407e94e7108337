//! docs/openapi.yaml describes the HTTP API exactly: its routes are the template's, and
//! schemathesis (PyPI, installed into .venv by the Makefile) generating requests from it finds
//! no 5xx and no answer that breaks the schema, with a bounded number of examples.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::spawn_app;
use std::collections::BTreeSet;

fn spec() -> serde_yaml::Value {
    let path = common::repo_root().join("docs/openapi.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_and_the_template_have_the_same_routes() {
    let app = spawn_app().await;
    let in_template: BTreeSet<String> = app
        .stack
        .functions
        .iter()
        .flat_map(|f| {
            f.events_of("HttpApi")
                .map(|e| {
                    format!(
                        "{} {}",
                        e["Method"].as_str().unwrap().to_uppercase(),
                        e["Path"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let spec = spec();
    let in_spec: BTreeSet<String> = spec["paths"]
        .as_mapping()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_mapping()
                .unwrap()
                .keys()
                // A path item's other fields (parameters, summary...) are not operations.
                .filter(|key| {
                    ["get", "put", "post", "delete", "patch", "head", "options"]
                        .contains(&key.as_str().unwrap())
                })
                .map(|method| {
                    format!(
                        "{} {}",
                        method.as_str().unwrap().to_uppercase(),
                        path.as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!in_spec.is_empty());
    assert_eq!(in_spec, in_template);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_off_the_schema() {
    let schemathesis = common::repo_root().join(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "{} is missing: run `make venv` (it installs requirements-dev.txt)",
        schemathesis.display()
    );
    let app = spawn_app().await;
    let client = app.user("spec@example.com").await;
    let token = client.token.clone().unwrap();
    let spec = common::repo_root().join("docs/openapi.yaml");
    // Requests must go to 127.0.0.1 (no proxy), and the run must not write into the clone.
    let workdir =
        std::env::temp_dir().join(format!("video2mp3-schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).unwrap();
    let output = tokio::process::Command::new(&schemathesis)
        .current_dir(&workdir)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("SCHEMATHESIS_HOOKS", "")
        .args([
            "run",
            spec.to_str().unwrap(),
            "--url",
            &app.stack.api_url,
            "--header",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "30",
            "--seed",
            "20261202",
            "--generation-database",
            "none",
            "--workers",
            "1",
            "--no-color",
        ])
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&workdir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "{}",
        text.lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{text}"
    );
}

#[test]
fn the_specs_error_codes_are_exactly_the_failure_reasons() {
    let spec = spec();
    let listed: BTreeSet<String> = spec["components"]["schemas"]["Job"]["properties"]["error_code"]
        ["enum"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let reasons: BTreeSet<String> = video2mp3_domain::FailureReason::ALL
        .iter()
        .map(|r| r.code().to_owned())
        .collect();
    assert_eq!(listed, reasons);
}
