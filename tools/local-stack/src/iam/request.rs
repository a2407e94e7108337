//! What an AWS request asks IAM for: the caller's access key, and each action on each resource
//! (with the condition keys this service's policies use), as AWS's service authorization
//! reference names them. A request this module cannot name is refused, not waved through, so a
//! new kind of call shows up as a failing test until it is taught here.

use http::{HeaderMap, Method};
use serde_json::Value;
use std::collections::HashMap;

/// The account and region the local stack pretends to be in.
#[derive(Debug, Clone)]
pub struct Place {
    pub region: String,
    pub account: String,
    /// The partition key attribute of each table, by table name (for `dynamodb:LeadingKeys`).
    pub hash_keys: HashMap<String, String>,
}

/// One thing IAM is asked: may the caller do `action` on `resource`, given `context`?
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub action: String,
    pub resource: String,
    /// Condition keys with their values for this request (e.g. `ses:FromAddress`).
    pub context: Vec<(String, ContextValue)>,
}

/// A condition key's value: one string or several.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    One(String),
    Many(Vec<String>),
}

impl Check {
    fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            context: Vec::new(),
        }
    }
    fn with(mut self, key: &str, value: ContextValue) -> Self {
        self.context.push((key.to_owned(), value));
        self
    }
}

/// Who signed a request: the access key and the service in its credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub access_key: String,
    pub service: String,
}

/// The signer of a request, from its `Authorization` header or, for a presigned URL, its
/// `X-Amz-Credential` query parameter. `None` for an anonymous request.
pub fn signer(headers: &HeaderMap, query: &str) -> Option<Signer> {
    let scope = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .map(|rest| rest.split([',', ' ']).next().unwrap_or_default().to_owned())
        .or_else(|| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "X-Amz-Credential")
                .map(|(_, v)| v.into_owned())
        })?;
    let mut parts = scope.split('/');
    let access_key = parts.next()?.to_owned();
    let service = parts.nth(2)?.to_owned();
    Some(Signer {
        access_key,
        service,
    })
}

/// Why a request could not be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unnamed(pub String);

/// The checks a request needs, by the service that signed it.
pub fn checks(
    place: &Place,
    service: &str,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<Check>, Unnamed> {
    match service {
        "s3" => s3(method, path, query, headers),
        "dynamodb" => dynamodb(place, headers, body),
        "sns" | "sqs" => query_protocol(place, service, headers, body),
        "secretsmanager" => secretsmanager(place, headers, body),
        "ses" => ses(place, method, path, body).map(|c| vec![c]),
        other => Err(Unnamed(format!("requests to {other} are not modelled"))),
    }
}

fn query_has(query: &str, name: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == name)
}

/// S3 in path style: `/bucket` or `/bucket/key`, the operation from the method and query.
/// A copy (`UploadPartCopy`, `CopyObject`) is two checks, as IAM makes them: `s3:PutObject` on
/// the object written and `s3:GetObject` on the one read (`x-amz-copy-source`).
fn s3(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> Result<Vec<Check>, Unnamed> {
    let path = path.trim_start_matches('/');
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) if !k.is_empty() => (b, Some(k)),
        Some((b, _)) => (b, None),
        None => (path, None),
    };
    if bucket.is_empty() {
        return Err(Unnamed("S3 ListBuckets is not modelled".into()));
    }
    let key = key.map(|k| {
        percent_encoding::percent_decode_str(k)
            .decode_utf8_lossy()
            .into_owned()
    });
    let unnamed = || Unnamed(format!("S3 {method} {path}?{query} is not modelled"));
    let Some(key) = key else {
        let action = match *method {
            Method::GET | Method::HEAD if query_has(query, "uploads") => {
                "s3:ListBucketMultipartUploads"
            }
            Method::GET if query_has(query, "versions") => "s3:ListBucketVersions",
            Method::GET if query_has(query, "location") => "s3:GetBucketLocation",
            Method::GET | Method::HEAD
                if ![
                    "cors",
                    "notification",
                    "policy",
                    "versioning",
                    "acl",
                    "lifecycle",
                ]
                .iter()
                .any(|q| query_has(query, q)) =>
            {
                "s3:ListBucket"
            }
            _ => return Err(unnamed()),
        };
        return Ok(vec![Check::new(action, format!("arn:aws:s3:::{bucket}"))]);
    };
    let object = format!("arn:aws:s3:::{bucket}/{key}");
    let has_upload = query_has(query, "uploadId");
    let action = match *method {
        Method::GET | Method::HEAD if has_upload => "s3:ListMultipartUploadParts",
        Method::GET | Method::HEAD if query_has(query, "tagging") => "s3:GetObjectTagging",
        Method::GET | Method::HEAD if query_has(query, "acl") => "s3:GetObjectAcl",
        Method::GET | Method::HEAD => "s3:GetObject",
        Method::PUT if query_has(query, "tagging") => "s3:PutObjectTagging",
        Method::PUT if query_has(query, "acl") => "s3:PutObjectAcl",
        Method::PUT if headers.contains_key("x-amz-copy-source") => {
            let source = headers
                .get("x-amz-copy-source")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split_once("?versionId=").map_or(v, |(s, _)| s))
                .map(|v| {
                    percent_encoding::percent_decode_str(v.trim_start_matches('/'))
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .filter(|v| v.contains('/'))
                .ok_or_else(unnamed)?;
            return Ok(vec![
                Check::new("s3:PutObject", object),
                Check::new("s3:GetObject", format!("arn:aws:s3:::{source}")),
            ]);
        }
        // A whole object, or one part of a multipart upload: both are PutObject to IAM.
        Method::PUT => "s3:PutObject",
        // CreateMultipartUpload (?uploads) and CompleteMultipartUpload (?uploadId=).
        Method::POST if has_upload || query_has(query, "uploads") => "s3:PutObject",
        Method::DELETE if has_upload => "s3:AbortMultipartUpload",
        Method::DELETE => "s3:DeleteObject",
        _ => return Err(unnamed()),
    };
    Ok(vec![Check::new(action, object)])
}

fn json_body(body: &[u8]) -> Result<Value, Unnamed> {
    serde_json::from_slice(body).map_err(|e| Unnamed(format!("the request body is not JSON: {e}")))
}

fn target_operation(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_owned)
}

fn table_arn(place: &Place, table: &str) -> String {
    format!(
        "arn:aws:dynamodb:{}:{}:table/{table}",
        place.region, place.account
    )
}

/// The partition key value of an item or key map (`{"pk": {"S": "USER#1"}, ...}`).
fn leading_key(place: &Place, table: &str, item: &Value) -> Option<String> {
    let name = place.hash_keys.get(table)?;
    let value = &item[name];
    value["S"]
        .as_str()
        .or_else(|| value["N"].as_str())
        .map(str::to_owned)
}

/// The partition key value a Query's key condition names (`pk = :pk AND ...`).
fn query_leading_key(place: &Place, table: &str, request: &Value) -> Option<String> {
    let hash = place.hash_keys.get(table)?;
    let expression = request["KeyConditionExpression"].as_str()?;
    let names = &request["ExpressionAttributeNames"];
    for clause in expression.split(" AND ").chain(expression.split(" and ")) {
        let Some((left, right)) = clause.split_once('=') else {
            continue;
        };
        let left = left.trim().trim_start_matches('(');
        let left = names[left].as_str().unwrap_or(left);
        if left == hash {
            let placeholder = right.trim().trim_end_matches(')');
            let value = &request["ExpressionAttributeValues"][placeholder];
            return value["S"]
                .as_str()
                .or_else(|| value["N"].as_str())
                .map(str::to_owned);
        }
    }
    None
}

fn with_leading_keys(check: Check, keys: Option<String>) -> Check {
    match keys {
        Some(k) => check.with("dynamodb:LeadingKeys", ContextValue::Many(vec![k])),
        None => check,
    }
}

/// DynamoDB: the operation is the action, the table (or index) is the resource; a transaction
/// asks for each of its items' actions, as AWS does (there is no `TransactWriteItems` action).
fn dynamodb(place: &Place, headers: &HeaderMap, body: &[u8]) -> Result<Vec<Check>, Unnamed> {
    let op = target_operation(headers)
        .ok_or_else(|| Unnamed("a DynamoDB request without X-Amz-Target".into()))?;
    let request = json_body(body)?;
    let table = |r: &Value| r["TableName"].as_str().map(str::to_owned);
    let single = |action: &str, r: &Value, keys: Option<String>| -> Result<Check, Unnamed> {
        let name = table(r).ok_or_else(|| Unnamed(format!("DynamoDB {op} without TableName")))?;
        let mut resource = table_arn(place, &name);
        if let Some(index) = r["IndexName"].as_str() {
            resource = format!("{resource}/index/{index}");
        }
        Ok(with_leading_keys(
            Check::new(format!("dynamodb:{action}"), resource),
            keys,
        ))
    };
    let name = table(&request).unwrap_or_default();
    Ok(match op.as_str() {
        "GetItem" | "DeleteItem" | "UpdateItem" => vec![single(
            &op,
            &request,
            leading_key(place, &name, &request["Key"]),
        )?],
        "PutItem" => vec![single(
            &op,
            &request,
            leading_key(place, &name, &request["Item"]),
        )?],
        "Query" => vec![single(
            &op,
            &request,
            query_leading_key(place, &name, &request),
        )?],
        "Scan" | "DescribeTable" => vec![single(&op, &request, None)?],
        "TransactWriteItems" | "TransactGetItems" => {
            transaction_checks(&op, &request, place, &single)?
        }
        "BatchGetItem" | "BatchWriteItem" => batch_checks(&op, &request, place),
        other => return Err(Unnamed(format!("DynamoDB {other} is not modelled"))),
    })
}

/// The check of one DynamoDB item action on the table a request names: (action, request, leading
/// key).
type SingleCheck<'a> = dyn Fn(&str, &Value, Option<String>) -> Result<Check, Unnamed> + 'a;

/// One check per item of a transaction, each with its own action and leading key.
fn transaction_checks(
    op: &str,
    request: &Value,
    place: &Place,
    single: &SingleCheck<'_>,
) -> Result<Vec<Check>, Unnamed> {
    let mut checks = Vec::new();
    for item in request["TransactItems"].as_array().into_iter().flatten() {
        let (action, inner, key) = if let Some(p) = item.get("Put") {
            ("PutItem", p, &p["Item"])
        } else if let Some(u) = item.get("Update") {
            ("UpdateItem", u, &u["Key"])
        } else if let Some(d) = item.get("Delete") {
            ("DeleteItem", d, &d["Key"])
        } else if let Some(c) = item.get("ConditionCheck") {
            ("ConditionCheckItem", c, &c["Key"])
        } else if let Some(g) = item.get("Get") {
            ("GetItem", g, &g["Key"])
        } else {
            return Err(Unnamed(format!("DynamoDB {op}: an item of unknown kind")));
        };
        let name = inner["TableName"].as_str().unwrap_or_default();
        checks.push(single(action, inner, leading_key(place, name, key))?);
    }
    Ok(checks)
}

/// One check per table of a batch, with the leading keys of all its items.
fn batch_checks(op: &str, request: &Value, place: &Place) -> Vec<Check> {
    let mut checks = Vec::new();
    for (name, requests) in request["RequestItems"].as_object().into_iter().flatten() {
        let mut keys = Vec::new();
        let entries: Vec<&Value> = match requests {
            Value::Object(o) => o["Keys"].as_array().into_iter().flatten().collect(),
            Value::Array(a) => a.iter().collect(),
            _ => Vec::new(),
        };
        for e in entries {
            let item = if e.get("PutRequest").is_some() {
                &e["PutRequest"]["Item"]
            } else if e.get("DeleteRequest").is_some() {
                &e["DeleteRequest"]["Key"]
            } else {
                e
            };
            keys.extend(leading_key(place, name, item));
        }
        let mut check = Check::new(format!("dynamodb:{op}"), table_arn(place, name));
        if !keys.is_empty() {
            check = check.with("dynamodb:LeadingKeys", ContextValue::Many(keys));
        }
        checks.push(check);
    }
    checks
}

/// SNS and SQS: the `Action` form field (query protocol) or `X-Amz-Target` (SQS's JSON
/// protocol); the topic or queue from the request.
fn query_protocol(
    place: &Place,
    service: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<Check>, Unnamed> {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let op = form
        .get("Action")
        .cloned()
        .or_else(|| target_operation(headers))
        .ok_or_else(|| Unnamed(format!("a {service} request without an action")))?;
    let field = |name: &str| {
        form.get(name)
            .cloned()
            .or_else(|| json[name].as_str().map(str::to_owned))
    };
    let resource = if service == "sns" {
        field("TopicArn").unwrap_or_else(|| "*".into())
    } else {
        match field("QueueUrl") {
            Some(url) => {
                let name = url.rsplit('/').next().unwrap_or_default();
                format!("arn:aws:sqs:{}:{}:{name}", place.region, place.account)
            }
            None => "*".into(),
        }
    };
    // IAM has no actions of SQS's batch calls: each is allowed by its single call's action.
    let op = match (service, op.as_str()) {
        ("sqs", "SendMessageBatch" | "DeleteMessageBatch" | "ChangeMessageVisibilityBatch") => {
            op.trim_end_matches("Batch").to_owned()
        }
        _ => op,
    };
    Ok(vec![Check::new(format!("{service}:{op}"), resource)])
}

fn secretsmanager(place: &Place, headers: &HeaderMap, body: &[u8]) -> Result<Vec<Check>, Unnamed> {
    let op = target_operation(headers)
        .ok_or_else(|| Unnamed("a Secrets Manager request without X-Amz-Target".into()))?;
    let request = json_body(body)?;
    let id = request["SecretId"].as_str().unwrap_or("*");
    let resource = if id.starts_with("arn:") || id == "*" {
        id.to_owned()
    } else {
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{id}",
            place.region, place.account
        )
    };
    Ok(vec![Check::new(format!("secretsmanager:{op}"), resource)])
}

/// The address inside `Name <address>`, or the whole string.
fn bare_address(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim().to_owned(),
        _ => from.trim().to_owned(),
    }
}

/// SES v2 (REST): sending checks the identity the mail is sent from, with `ses:FromAddress`.
fn ses(place: &Place, method: &Method, path: &str, body: &[u8]) -> Result<Check, Unnamed> {
    match (method, path.trim_end_matches('/')) {
        (&Method::POST, "/v2/email/outbound-emails") => {
            let request = json_body(body)?;
            let from = bare_address(request["FromEmailAddress"].as_str().unwrap_or_default());
            Ok(Check::new(
                "ses:SendEmail",
                format!(
                    "arn:aws:ses:{}:{}:identity/{from}",
                    place.region, place.account
                ),
            )
            .with("ses:FromAddress", ContextValue::One(from)))
        }
        _ => Err(Unnamed(format!("SES {method} {path} is not modelled"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            hash_keys: HashMap::from([("t".to_owned(), "pk".to_owned())]),
        }
    }

    fn target(op: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-amz-target", op.parse().unwrap());
        h
    }

    #[test]
    fn the_signer_comes_from_the_header_or_the_presigned_query() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=KEY1/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            signer(&h, ""),
            Some(Signer {
                access_key: "KEY1".into(),
                service: "dynamodb".into()
            })
        );
        let q =
            "X-Amz-Credential=KEY2%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=0";
        assert_eq!(signer(&HeaderMap::new(), q).unwrap().access_key, "KEY2");
        assert_eq!(signer(&HeaderMap::new(), "a=b"), None);
    }

    #[test]
    fn s3_operations_are_named_as_iam_names_them() {
        let h = HeaderMap::new();
        let name = |m: Method, p: &str, q: &str| s3(&m, p, q, &h).unwrap()[0].action.clone();
        assert_eq!(name(Method::HEAD, "/b/k", ""), "s3:GetObject");
        assert_eq!(
            name(Method::PUT, "/b/k", "partNumber=2&uploadId=u"),
            "s3:PutObject"
        );
        assert_eq!(name(Method::POST, "/b/k", "uploads"), "s3:PutObject");
        assert_eq!(
            name(Method::DELETE, "/b/k", "uploadId=u"),
            "s3:AbortMultipartUpload"
        );
        assert_eq!(name(Method::GET, "/b", "list-type=2"), "s3:ListBucket");
        let check = s3(&Method::GET, "/b/u%2Fa%20b.mp4", "", &h).unwrap();
        assert_eq!(check[0].resource, "arn:aws:s3:::b/u/a b.mp4");
        assert!(s3(&Method::PUT, "/b", "policy", &h).is_err());
        // A part copied from another object: written here, read there.
        let mut copy = HeaderMap::new();
        copy.insert(
            "x-amz-copy-source",
            "b/parts/u/j/00001.mp3".parse().unwrap(),
        );
        let checks = s3(
            &Method::PUT,
            "/b/mp3/u/j/a.mp3",
            "partNumber=2&uploadId=u",
            &copy,
        )
        .unwrap();
        let pairs: Vec<(&str, &str)> = checks
            .iter()
            .map(|c| (c.action.as_str(), c.resource.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("s3:PutObject", "arn:aws:s3:::b/mp3/u/j/a.mp3"),
                ("s3:GetObject", "arn:aws:s3:::b/parts/u/j/00001.mp3")
            ]
        );
    }

    #[test]
    fn sqs_batch_calls_ask_for_their_single_calls_action() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-target",
            "AmazonSQS.SendMessageBatch".parse().unwrap(),
        );
        let body = br#"{"QueueUrl": "http://localhost/123/segments", "Entries": []}"#;
        let checks = query_protocol(&place(), "sqs", &h, body).unwrap();
        assert_eq!(checks[0].action, "sqs:SendMessage");
        assert!(
            checks[0].resource.ends_with(":segments"),
            "{}",
            checks[0].resource
        );
    }

    #[test]
    fn a_transaction_asks_for_each_items_action_with_its_leading_key() {
        let body = serde_json::json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "EMAIL#a"}, "sk": {"S": "EMAIL"}}}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "USER#1"}, "sk": {"S": "PROFILE"}}}}
        ]});
        let checks = dynamodb(
            &place(),
            &target("DynamoDB_20120810.TransactWriteItems"),
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[0].action, "dynamodb:PutItem");
        assert_eq!(checks[1].action, "dynamodb:DeleteItem");
        assert_eq!(
            checks[1].context,
            vec![(
                "dynamodb:LeadingKeys".to_owned(),
                ContextValue::Many(vec!["USER#1".into()])
            )]
        );
        assert_eq!(
            checks[0].resource,
            "arn:aws:dynamodb:us-east-1:123456789012:table/t"
        );
    }

    #[test]
    fn a_query_names_the_partition_key_of_its_key_condition() {
        let body = serde_json::json!({"TableName": "t",
            "KeyConditionExpression": "#p = :pk AND begins_with(sk, :job)",
            "ExpressionAttributeNames": {"#p": "pk"},
            "ExpressionAttributeValues": {":pk": {"S": "USER#9"}, ":job": {"S": "JOB#"}}});
        let checks = dynamodb(
            &place(),
            &target("DynamoDB_20120810.Query"),
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(
            checks[0].context[0].1,
            ContextValue::Many(vec!["USER#9".into()])
        );
    }

    #[test]
    fn sending_mail_checks_the_sender_identity() {
        let body = serde_json::json!({"FromEmailAddress": "video2mp3 <no-reply@example.com>"});
        let check = ses(
            &place(),
            &Method::POST,
            "/v2/email/outbound-emails",
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(
            check.resource,
            "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com"
        );
        assert_eq!(
            check.context[0],
            (
                "ses:FromAddress".to_owned(),
                ContextValue::One("no-reply@example.com".into())
            )
        );
    }
}
