//! `make iam-report`: what each role grants that its code never used while the test suite ran.
//!
//! The gate appends every judged call to `IAM_CALLS_LOG`, with the statements that allowed it.
//! Here each granted action of each statement (as SAM expands the template) is matched against
//! those calls. A grant nobody used must carry a reason: a `#` comment on the template line that
//! names the action. Lambda's own managed policies (logs, X-Ray, SQS polling) are listed apart:
//! the event source mappings and the runtime use them, never the handlers.

use super::CallRecord;
use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// One granted action of one statement and how often the suite used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub function: String,
    pub policy: String,
    pub index: usize,
    pub action: String,
    pub used: usize,
    /// The template's comment beside the action, for an unused grant.
    pub reason: Option<String>,
}

/// The report: every grant with its use, and the calls that were refused.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub grants: Vec<Grant>,
    pub managed: BTreeMap<String, Vec<String>>,
    /// (function, action, resource) refused, with how often.
    pub denied: BTreeMap<(String, String, String), usize>,
}

impl Report {
    /// Grants the suite never used and the template gives no reason for.
    pub fn unexplained(&self) -> Vec<&Grant> {
        self.grants
            .iter()
            .filter(|g| g.used == 0 && g.reason.is_none())
            .collect()
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut function = "";
        for g in &self.grants {
            if g.function != function {
                function = &g.function;
                let _ = writeln!(out, "\n{function}");
            }
            let state = match (g.used, &g.reason) {
                (0, Some(r)) => format!("unused; kept: {r}"),
                (0, None) => "UNUSED, and the template gives no reason".to_owned(),
                (n, _) => format!("used {n} times"),
            };
            let _ = writeln!(out, "  {:<34} {}[{}]  {state}", g.action, g.policy, g.index);
        }
        let _ = writeln!(
            out,
            "\nLambda's own managed policies (the runtime, X-Ray and the SQS event source \
             mapping use them; the handlers never do, so the suite cannot see them):"
        );
        for (function, arns) in &self.managed {
            let names: Vec<&str> = arns
                .iter()
                .map(|a| a.rsplit('/').next().unwrap_or(a))
                .collect();
            let _ = writeln!(out, "  {function}: {}", names.join(", "));
        }
        if !self.denied.is_empty() {
            let _ = writeln!(
                out,
                "\nRefused during the suite (tests that expect a refusal):"
            );
            for ((function, action, resource), n) in &self.denied {
                let _ = writeln!(out, "  {function} {action} {resource} ({n}x)");
            }
        }
        let unexplained = self.unexplained().len();
        let _ = writeln!(
            out,
            "\n{} grants, {} used, {} unused with a reason, {unexplained} unused without one",
            self.grants.len(),
            self.grants.iter().filter(|g| g.used > 0).count(),
            self.grants
                .iter()
                .filter(|g| g.used == 0 && g.reason.is_some())
                .count(),
        );
        out
    }
}

/// Whether an IAM action pattern (`s3:*`, `dynamodb:Get*`) covers `action`.
fn action_matches(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match p.split_once('*') {
        None => p == a,
        Some((prefix, "")) => a.starts_with(prefix),
        Some(_) => p == a,
    }
}

/// The comment on the template line that names `action`, if any.
fn reason_in(template: &str, action: &str) -> Option<String> {
    template
        .lines()
        .filter(|l| l.contains(action))
        .find_map(|l| l.split_once('#').map(|(_, c)| c.trim().to_owned()))
        .filter(|c| !c.is_empty())
}

/// Builds the report from the expanded roles, the template's text and the calls logged.
pub fn build(expanded: &Value, template: &str, calls: &[CallRecord]) -> Report {
    let mut report = Report::default();
    for (function, role) in expanded.as_object().into_iter().flatten() {
        report.managed.insert(
            function.clone(),
            role["managed_policy_arns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
        );
        for policy in role["policies"].as_array().into_iter().flatten() {
            let name = policy["name"].as_str().unwrap_or_default();
            let statements = match &policy["document"]["Statement"] {
                Value::Array(a) => a.clone(),
                one => vec![one.clone()],
            };
            for (index, statement) in statements.iter().enumerate() {
                for action in super::string_list(&statement["Action"]) {
                    let used = calls
                        .iter()
                        .filter(|c| {
                            c.allowed
                                && &c.function == function
                                && c.statements.iter().any(|(p, i)| p == name && *i == index)
                                && action_matches(&action, &c.action)
                        })
                        .count();
                    let reason = (used == 0).then(|| reason_in(template, &action)).flatten();
                    report.grants.push(Grant {
                        function: function.clone(),
                        policy: name.to_owned(),
                        index,
                        action,
                        used,
                        reason,
                    });
                }
            }
        }
    }
    for c in calls.iter().filter(|c| !c.allowed) {
        *report
            .denied
            .entry((c.function.clone(), c.action.clone(), c.resource.clone()))
            .or_default() += 1;
    }
    report
}

/// Reads the calls `IAM_CALLS_LOG` collected.
pub fn read_calls(path: &Path) -> Result<Vec<CallRecord>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (run the test suite with IAM_CALLS_LOG set: make iam-report)",
            path.display()
        )
    })?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("a call record: {l}")))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn call(function: &str, action: &str, statement: (&str, usize)) -> CallRecord {
        CallRecord {
            function: function.into(),
            action: action.into(),
            resource: "arn:aws:s3:::b/k".into(),
            allowed: true,
            statements: vec![(statement.0.into(), statement.1)],
            leading_keys: Vec::new(),
        }
    }

    #[test]
    fn a_grant_no_call_used_is_reported_unless_the_template_says_why() {
        let expanded = serde_json::json!({"F": {"role": "FRole", "managed_policy_arns": [],
            "policies": [{"name": "P0", "document": {"Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
                 "Resource": "*"}]}}]}});
        let template = "Action: [s3:GetObject,\n  s3:PutObject]  # written only when a job fails\n  s3:DeleteObject\n";
        let calls = vec![
            call("F", "s3:GetObject", ("P0", 0)),
            // Allowed by another statement: does not count for this one.
            call("F", "s3:DeleteObject", ("P1", 0)),
        ];
        let report = build(&expanded, template, &calls);
        let unexplained: Vec<&str> = report
            .unexplained()
            .iter()
            .map(|g| g.action.as_str())
            .collect();
        assert_eq!(unexplained, ["s3:DeleteObject"]);
        assert_eq!(report.grants[0].used, 1);
        assert_eq!(
            report.grants[2].reason.as_deref(),
            Some("written only when a job fails")
        );
    }

    #[test]
    fn action_patterns_match_as_iam_matches_them() {
        assert!(action_matches("s3:*", "s3:GetObject"));
        assert!(action_matches("dynamodb:Get*", "dynamodb:GetItem"));
        assert!(action_matches("S3:getobject", "s3:GetObject"));
        assert!(!action_matches("s3:Get*", "s3:PutObject"));
    }
}
