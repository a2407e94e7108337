//! Reading `template.yaml`: CloudFormation's short tags (`!Ref`, `!GetAtt`, `!Sub`, ...) are
//! turned into their long JSON form, and [`Resolver`] evaluates the few intrinsics the template
//! uses against the names the local stack chose.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// The parsed template, in CloudFormation's JSON form.
#[derive(Debug, Clone)]
pub struct Template {
    pub root: Value,
}

impl Template {
    /// Reads and parses a SAM template.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text)
    }

    /// Parses template text.
    pub fn parse(text: &str) -> Result<Self> {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(text).context("template.yaml is not valid YAML")?;
        Ok(Self {
            root: to_json(yaml)?,
        })
    }

    /// `(logical id, resource)` for every resource, in template order.
    pub fn resources(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.root["Resources"].as_object().into_iter().flatten()
    }

    /// Resources of one type.
    pub fn resources_of<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        self.resources().filter(move |(_, r)| r["Type"] == kind)
    }

    /// The default of each parameter.
    pub fn parameter_defaults(&self) -> HashMap<String, String> {
        self.root["Parameters"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, p)| scalar(&p["Default"]).map(|d| (name.clone(), d)))
            .collect()
    }

    /// A function's environment: the globals, then its own variables (unresolved).
    pub fn function_environment(&self, function: &Value) -> Map<String, Value> {
        let mut vars = self.root["Globals"]["Function"]["Environment"]["Variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if let Some(own) = function["Properties"]["Environment"]["Variables"].as_object() {
            vars.extend(own.clone());
        }
        vars
    }
}

/// A scalar YAML value as a string (numbers and booleans included).
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn to_json(v: serde_yaml::Value) -> Result<Value> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n)?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect::<Result<_>>()?),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    other => serde_yaml::to_string(&other)?.trim().to_owned(),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = to_json(tagged.value)?;
            match name {
                "Ref" => serde_json::json!({ "Ref": inner }),
                "GetAtt" => {
                    let parts = match inner {
                        Value::String(s) => {
                            let (res, attr) = s
                                .split_once('.')
                                .ok_or_else(|| anyhow!("!GetAtt {s} has no attribute"))?;
                            serde_json::json!([res, attr])
                        }
                        other => other,
                    };
                    serde_json::json!({ "Fn::GetAtt": parts })
                }
                other => serde_json::json!({ format!("Fn::{other}"): inner }),
            }
        }
    })
}

/// What a created resource is called, for `Ref` and `GetAtt`.
#[derive(Debug, Clone)]
pub enum Physical {
    Bucket {
        name: String,
    },
    Queue {
        url: String,
        arn: String,
        name: String,
    },
    Table {
        name: String,
    },
    Topic {
        arn: String,
        name: String,
    },
    Secret {
        arn: String,
    },
    Api {
        id: String,
    },
}

/// Evaluates `Ref`, `Fn::GetAtt` and `Fn::Sub` against parameters, pseudo parameters and the
/// resources created so far.
#[derive(Debug, Clone)]
pub struct Resolver {
    pub stack_name: String,
    pub account: String,
    pub region: String,
    pub parameters: HashMap<String, String>,
    pub physical: HashMap<String, Physical>,
}

impl Resolver {
    /// Resolves a value to a string.
    pub fn string(&self, v: &Value) -> Result<String> {
        if let Some(s) = scalar(v) {
            return Ok(s);
        }
        let obj = v.as_object().ok_or_else(|| anyhow!("cannot resolve {v}"))?;
        if let Some(target) = obj.get("Ref").and_then(Value::as_str) {
            return self.reference(target);
        }
        if let Some(args) = obj.get("Fn::GetAtt").and_then(Value::as_array) {
            let (res, attr) = match args.as_slice() {
                [Value::String(r), Value::String(a)] => (r.as_str(), a.as_str()),
                _ => bail!("malformed Fn::GetAtt {v}"),
            };
            return self.attribute(res, attr);
        }
        if let Some(sub) = obj.get("Fn::Sub") {
            return self.sub(sub);
        }
        bail!("the local stack does not evaluate {v}")
    }

    fn reference(&self, target: &str) -> Result<String> {
        match target {
            "AWS::StackName" => return Ok(self.stack_name.clone()),
            "AWS::AccountId" => return Ok(self.account.clone()),
            "AWS::Region" => return Ok(self.region.clone()),
            "AWS::Partition" => return Ok("aws".into()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            _ => {}
        }
        if let Some(p) = self.parameters.get(target) {
            return Ok(p.clone());
        }
        Ok(match self.physical.get(target) {
            Some(Physical::Bucket { name }) | Some(Physical::Table { name }) => name.clone(),
            Some(Physical::Queue { url, .. }) => url.clone(),
            Some(Physical::Topic { arn, .. }) | Some(Physical::Secret { arn }) => arn.clone(),
            Some(Physical::Api { id }) => id.clone(),
            None => bail!("Ref {target}: no such parameter, or the resource is not created yet"),
        })
    }

    fn attribute(&self, res: &str, attr: &str) -> Result<String> {
        Ok(match (self.physical.get(res), attr) {
            (Some(Physical::Queue { arn, .. }), "Arn") => arn.clone(),
            (Some(Physical::Queue { name, .. }), "QueueName") => name.clone(),
            (Some(Physical::Queue { url, .. }), "QueueUrl") => url.clone(),
            (Some(Physical::Bucket { name }), "Arn") => format!("arn:aws:s3:::{name}"),
            (Some(Physical::Topic { name, .. }), "TopicName") => name.clone(),
            (Some(Physical::Topic { arn, .. }), "TopicArn") => arn.clone(),
            (Some(Physical::Table { name }), "Arn") => {
                format!(
                    "arn:aws:dynamodb:{}:{}:table/{name}",
                    self.region, self.account
                )
            }
            _ => bail!("Fn::GetAtt {res}.{attr} is not known to the local stack"),
        })
    }

    fn sub(&self, sub: &Value) -> Result<String> {
        let (text, vars) = match sub {
            Value::String(s) => (s.as_str(), None),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(s), Value::Object(vars)] => (s.as_str(), Some(vars)),
                _ => bail!("malformed Fn::Sub {sub}"),
            },
            _ => bail!("malformed Fn::Sub {sub}"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| anyhow!("unclosed ${{ in {text}"))?
                + start;
            let name = &rest[start + 2..end];
            let value = match vars.and_then(|v| v.get(name)) {
                Some(v) => self.string(v)?,
                None => match name.split_once('.') {
                    Some((res, attr)) if !name.starts_with("AWS::") => self.attribute(res, attr)?,
                    _ => self.reference(name)?,
                },
            };
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tags_become_intrinsics_and_resolve() {
        let t = Template::parse(
            "Parameters:\n  P: {Type: Number, Default: 5}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub \"${AWS::StackName}-x-${P}\"\n      Q: !GetAtt Q.Arn\n      R: !Ref Q\n",
        )
        .unwrap();
        let b = &t.root["Resources"]["B"]["Properties"];
        assert_eq!(b["Q"], serde_json::json!({"Fn::GetAtt": ["Q", "Arn"]}));
        let mut r = Resolver {
            stack_name: "s".into(),
            account: "1".into(),
            region: "r".into(),
            parameters: t.parameter_defaults(),
            physical: HashMap::new(),
        };
        assert_eq!(r.string(&b["BucketName"]).unwrap(), "s-x-5");
        assert!(r.string(&b["R"]).is_err(), "unresolved refs are errors");
        r.physical.insert(
            "Q".into(),
            Physical::Queue {
                url: "u".into(),
                arn: "a".into(),
                name: "n".into(),
            },
        );
        assert_eq!(r.string(&b["R"]).unwrap(), "u");
        assert_eq!(r.string(&b["Q"]).unwrap(), "a");
    }
}
