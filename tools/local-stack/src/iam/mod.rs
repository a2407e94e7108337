//! Each function's role, as SAM deploys it, judging every AWS call the function makes.
//!
//! `tools/local-stack/sam/sam-expand` expands `template.yaml` with samtranslator (what `sam deploy` runs), so
//! the policy templates (`DynamoDBCrudPolicy`, ...) become the statements AWS would hold; the
//! intrinsics in them are resolved against the resources the local stack created. Each
//! function gets credentials of its own; the gate ([`crate::gate`]) names the action and
//! resource of every request signed with them ([`request`]) and asks `iam-rs`, an IAM policy
//! evaluator, whether the role allows it. What this cannot see is in docs/local-aws.md ("What the
//! local stack checks").

pub mod report;
pub mod request;

use crate::template::Resolver;
use anyhow::{Context as _, Result, anyhow, bail};
use iam_rs::{Arn, Decision, IAMPolicy, IAMRequest, Principal, PrincipalId};
use request::{Check, ContextValue};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The access key of the harness (tests, `make user`, the pollers playing Lambda's event
/// source mappings): not a function, so not judged.
pub const HARNESS_ACCESS_KEY: &str = "local";

/// One statement of a role's policies, kept alone so a decision can name the statement that
/// allowed it (`make iam-report` counts what each statement was used for).
#[derive(Debug, Clone)]
pub struct Statement {
    /// The policy's name in the expanded template (`ConvertFunctionRolePolicy2`).
    pub policy: String,
    /// The statement's position in its policy.
    pub index: usize,
    /// The actions it grants, as written.
    pub actions: Vec<String>,
    /// The resources, resolved.
    pub resources: Vec<String>,
    document: IAMPolicy,
}

/// A function's execution role.
#[derive(Debug, Clone)]
pub struct Role {
    /// The function's logical id in the template (`ConvertFunction`).
    pub function: String,
    /// The role's logical id (`ConvertFunctionRole`).
    pub role: String,
    /// AWS managed policies SAM attaches (logs, X-Ray, SQS polling): Lambda's own calls, which
    /// the handlers never make themselves.
    pub managed_policy_arns: Vec<String>,
    pub statements: Vec<Statement>,
}

/// What IAM answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed by these statements (policy name, index).
    Allowed(Vec<(String, usize)>),
    /// No statement allows it, or one denies it.
    Denied,
}

impl Role {
    /// The credentials this function signs with: its own, so the gate knows who is calling.
    pub fn access_key(&self) -> String {
        format!("LOCAL{}", self.function.to_ascii_uppercase())
    }

    /// The secret key (not checked: see docs/local-aws.md).
    pub fn secret_key(&self) -> String {
        format!("{}-secret", self.function)
    }

    /// The caller as AWS names it in an AccessDenied message.
    pub fn principal_arn(&self, account: &str) -> String {
        format!(
            "arn:aws:sts::{account}:assumed-role/{}/{}",
            self.role, self.function
        )
    }

    /// Whether this role may make `check`, by AWS's evaluation logic: an explicit deny wins,
    /// else any allow, else the implicit deny.
    pub fn judge(&self, check: &Check, account: &str) -> Verdict {
        let Ok(resource) = Arn::parse(&check.resource) else {
            tracing::warn!(resource = %check.resource, "not an ARN the IAM evaluator reads");
            return Verdict::Denied;
        };
        let mut context = iam_rs::Context::new();
        context.insert(
            "aws:PrincipalArn".into(),
            iam_rs::ContextValue::String(self.principal_arn(account)),
        );
        for (key, value) in &check.context {
            let value = match value {
                ContextValue::One(v) => iam_rs::ContextValue::String(v.clone()),
                ContextValue::Many(v) => iam_rs::ContextValue::StringList(v.clone()),
            };
            context.insert(key.clone(), value);
        }
        let request = IAMRequest::new_with_context(
            Principal::Aws(PrincipalId::String(self.principal_arn(account))),
            check.action.clone(),
            resource,
            context,
        );
        let mut allowed = Vec::new();
        for statement in &self.statements {
            match iam_rs::evaluate_policy(&statement.document, &request) {
                Ok(Decision::Deny) => return Verdict::Denied,
                Ok(Decision::Allow) => allowed.push((statement.policy.clone(), statement.index)),
                Ok(Decision::NotApplicable) => {}
                // An evaluation error (a condition it cannot read) grants nothing, as AWS's
                // evaluation would not; say so, since it may be the gate's mistake.
                Err(e) => tracing::warn!(function = %self.function, action = %check.action,
                    error = ?e, "the IAM evaluator could not judge a statement"),
            }
        }
        if allowed.is_empty() {
            Verdict::Denied
        } else {
            Verdict::Allowed(allowed)
        }
    }
}

/// Every function's role, by function logical id.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub by_function: HashMap<String, Role>,
}

impl Roles {
    /// The roles of `template.yaml` under `repo_root`, with intrinsics resolved by `resolver`.
    pub fn load(repo_root: &Path, resolver: &Resolver) -> Result<Self> {
        let expanded = expand(repo_root)?;
        let mut by_function = HashMap::new();
        for (function, role) in expanded
            .as_object()
            .ok_or_else(|| anyhow!("sam-expand printed no object"))?
        {
            by_function.insert(
                function.clone(),
                parse_role(function, role, resolver)
                    .with_context(|| format!("the role of {function}"))?,
            );
        }
        Ok(Self { by_function })
    }

    /// The role whose credentials carry `access_key`.
    pub fn by_access_key(&self, access_key: &str) -> Option<&Role> {
        self.by_function
            .values()
            .find(|r| r.access_key() == access_key)
    }
}

fn parse_role(function: &str, role: &Value, resolver: &Resolver) -> Result<Role> {
    let mut statements = Vec::new();
    for policy in role["policies"].as_array().into_iter().flatten() {
        let name = policy["name"].as_str().unwrap_or_default().to_owned();
        let document = resolve(&policy["document"], resolver)?;
        let list = match &document["Statement"] {
            Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        };
        for (index, statement) in list.into_iter().enumerate() {
            let actions = string_list(&statement["Action"]);
            let resources = string_list(&statement["Resource"]);
            // SAM writes no Version; AWS then reads the 2008 language, which differs only in
            // policy variables, and none are used here.
            let single = serde_json::json!({"Version": "2012-10-17", "Statement": [statement]});
            let document: IAMPolicy = serde_json::from_value(single)
                .with_context(|| format!("statement {index} of {name}"))?;
            statements.push(Statement {
                policy: name.clone(),
                index,
                actions,
                resources,
                document,
            });
        }
    }
    Ok(Role {
        function: function.to_owned(),
        role: role["role"].as_str().unwrap_or_default().to_owned(),
        managed_policy_arns: role["managed_policy_arns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
        statements,
    })
}

/// A policy element that is one string or a list of them (`Action`, `Resource`).
pub(crate) fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Resolves every intrinsic function inside `v` to its string.
fn resolve(v: &Value, resolver: &Resolver) -> Result<Value> {
    Ok(match v {
        Value::Object(o)
            if o.len() == 1
                && o.keys()
                    .next()
                    .is_some_and(|k| k == "Ref" || k.starts_with("Fn::")) =>
        {
            Value::String(resolver.string(v)?)
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), resolve(v, resolver)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| resolve(v, resolver))
                .collect::<Result<_>>()?,
        ),
        other => other.clone(),
    })
}

/// The roles as SAM expands them (`tools/local-stack/sam/sam-expand`), computed once per process and template.
pub fn expand(repo_root: &Path) -> Result<Value> {
    static CACHE: OnceLock<Mutex<HashMap<(PathBuf, String), Value>>> = OnceLock::new();
    let template = repo_root.join("template.yaml");
    let text = std::fs::read_to_string(&template)
        .with_context(|| format!("reading {}", template.display()))?;
    let key = (repo_root.to_path_buf(), text);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().map_err(|_| anyhow!("poisoned"))?.get(&key) {
        return Ok(v.clone());
    }
    let python = repo_root.join(".venv/bin/python");
    if !python.exists() {
        bail!(
            "{} not found: run `make venv` (it installs aws-sam-cli, whose samtranslator expands \
             the template's roles)",
            python.display()
        );
    }
    let out = std::process::Command::new(&python)
        .arg(repo_root.join("tools/local-stack/sam/sam-expand"))
        .arg(&template)
        .output()
        .context("running tools/local-stack/sam/sam-expand")?;
    if !out.status.success() {
        bail!(
            "tools/local-stack/sam/sam-expand failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let value: Value = serde_json::from_slice(&out.stdout).context("sam-expand's output")?;
    cache
        .lock()
        .map_err(|_| anyhow!("poisoned"))?
        .insert(key, value.clone());
    Ok(value)
}

/// One judged call, as `make iam-report` reads it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CallRecord {
    pub function: String,
    pub action: String,
    pub resource: String,
    pub allowed: bool,
    /// The statements that allowed it: `[policy, index]`.
    pub statements: Vec<(String, usize)>,
    /// The partition keys of the DynamoDB items it touched (`dynamodb:LeadingKeys`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leading_keys: Vec<String>,
}

/// Appends `record` to the file named by `IAM_CALLS_LOG`, if set (`make iam-report` sets it).
pub fn log_call(record: &CallRecord) {
    static LOCK: Mutex<()> = Mutex::new(());
    let Some(path) = std::env::var_os("IAM_CALLS_LOG") else {
        return;
    };
    let Ok(line) = serde_json::to_string(record) else {
        return;
    };
    let _guard = LOCK.lock();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::template::Resolver;

    fn role(statements: Value) -> Role {
        let resolver = Resolver {
            stack_name: "s".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            parameters: HashMap::from([("Sender".to_owned(), "a@example.com".to_owned())]),
            physical: HashMap::new(),
        };
        let expanded = serde_json::json!({
            "role": "FRole", "managed_policy_arns": [],
            "policies": [{"name": "P0", "document": {"Statement": statements}}]
        });
        parse_role("F", &expanded, &resolver).unwrap()
    }

    fn check(action: &str, resource: &str, context: &[(&str, ContextValue)]) -> Check {
        Check {
            action: action.into(),
            resource: resource.into(),
            context: context
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/t";
    const ACCOUNT: &str = "123456789012";

    #[test]
    fn leading_keys_keep_a_function_to_its_own_kinds_of_item() {
        let role = role(serde_json::json!([{
            "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE,
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["USER#*"]}}
        }]));
        let user = ContextValue::Many(vec!["USER#1".into()]);
        let email = ContextValue::Many(vec!["EMAIL#a@example.com".into()]);
        assert_eq!(
            role.judge(
                &check("dynamodb:GetItem", TABLE, &[("dynamodb:LeadingKeys", user)]),
                ACCOUNT
            ),
            Verdict::Allowed(vec![("P0".into(), 0)])
        );
        assert_eq!(
            role.judge(
                &check(
                    "dynamodb:GetItem",
                    TABLE,
                    &[("dynamodb:LeadingKeys", email)]
                ),
                ACCOUNT
            ),
            Verdict::Denied
        );
        assert_eq!(
            role.judge(&check("dynamodb:UpdateItem", TABLE, &[]), ACCOUNT),
            Verdict::Denied,
            "an action the role does not list"
        );
        assert_eq!(
            role.judge(
                &check("dynamodb:GetItem", &format!("{TABLE}2"), &[]),
                ACCOUNT
            ),
            Verdict::Denied,
            "another table"
        );
    }

    #[test]
    fn a_condition_on_the_sender_refuses_any_other_sender() {
        let role = role(serde_json::json!([{
            "Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*",
            "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "Sender"}}}
        }]));
        let ok = check(
            "ses:SendEmail",
            "arn:aws:ses:us-east-1:123456789012:identity/a@example.com",
            &[("ses:FromAddress", ContextValue::One("a@example.com".into()))],
        );
        let other = check(
            "ses:SendEmail",
            "arn:aws:ses:us-east-1:123456789012:identity/b@example.com",
            &[("ses:FromAddress", ContextValue::One("b@example.com".into()))],
        );
        assert!(matches!(role.judge(&ok, ACCOUNT), Verdict::Allowed(_)));
        assert_eq!(role.judge(&other, ACCOUNT), Verdict::Denied);
    }

    #[test]
    fn an_explicit_deny_wins_over_any_allow() {
        let role = role(serde_json::json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}
        ]));
        assert!(matches!(
            role.judge(&check("s3:GetObject", "arn:aws:s3:::b/k", &[]), ACCOUNT),
            Verdict::Allowed(_)
        ));
        assert_eq!(
            role.judge(&check("s3:DeleteObject", "arn:aws:s3:::b/k", &[]), ACCOUNT),
            Verdict::Denied
        );
    }
}
