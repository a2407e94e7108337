//! The local stack: creates the template's resources in moto, builds each function's handler
//! from the environment the template gives it, serves the HTTP routes and polls the queues.

use crate::functions::{Function, Handler};
use crate::gate::Gate;
use crate::iam::request::Place;
use crate::iam::{HARNESS_ACCESS_KEY, Role, Roles};
use crate::template::{Physical, Resolver, Template, scalar};
use anyhow::{Context, Result, anyhow, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_sqs::types::QueueAttributeName;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use video2mp3_aws::{DynamoTable, Env};
use video2mp3_domain::{User, UserId, UserStore, hash_password};

/// The stack name used locally; resource names derive from it as they would on AWS.
pub const LOCAL_STACK_NAME: &str = "video2mp3-local";
/// moto's default account and the region used locally.
pub const LOCAL_ACCOUNT: &str = "123456789012";
pub const LOCAL_REGION: &str = "us-east-1";

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The repository root (holding `template.yaml`).
    pub repo_root: PathBuf,
    /// moto's base URL.
    pub moto_url: String,
    /// The port for the HTTP API; 0 picks a free one.
    pub api_port: u16,
    /// Parameter values that override the template's defaults.
    pub parameters: HashMap<String, String>,
    /// How long a failed message stays invisible before the poller sees it again.
    pub retry_delay: Duration,
    /// Whether to poll the queues (off when a test invokes the queue handlers itself).
    pub pollers: bool,
    /// Pollers per SQS event source: how many invocations of an SQS function run at once (on
    /// AWS the event source mapping scales this up by itself).
    pub concurrency: usize,
    /// Functions (by binary name) whose queues are left for an outside process to poll, e.g. the
    /// real Lambda binary under a runtime emulator (`make bench-stream` measures it that way).
    pub external: Vec<String>,
    /// The port of the IAM gate the functions call AWS through; 0 picks a free one.
    pub gate_port: u16,
    /// Whether to serve the HTTP API in-process on `api_port` (off when `sam local start-api`
    /// serves it there).
    pub serve_api: bool,
    /// Where the pollers invoke the queue functions: `None` in-process, else the base URL of a
    /// Lambda Invoke API (`sam local start-lambda`).
    pub lambda_endpoint: Option<String>,
    /// A certificate authority (PEM) the webhook sender trusts besides the platform's, for
    /// receivers on this machine.
    pub webhook_ca: Option<String>,
}

impl StackOptions {
    pub fn new(repo_root: impl Into<PathBuf>, moto_url: impl Into<String>) -> Self {
        Self {
            repo_root: repo_root.into(),
            moto_url: moto_url.into(),
            api_port: 0,
            parameters: HashMap::new(),
            retry_delay: Duration::from_secs(2),
            pollers: true,
            concurrency: 1,
            external: Vec::new(),
            gate_port: 0,
            serve_api: true,
            lambda_endpoint: None,
            webhook_ca: None,
        }
    }
}

/// A running local stack.
pub struct Stack {
    pub repo_root: PathBuf,
    pub api_url: String,
    pub moto_url: String,
    /// The IAM gate in front of moto: the functions' endpoint, and the host of the presigned
    /// URLs they hand out.
    pub aws_url: String,
    /// The harness's own AWS configuration (moto directly, not judged): tests, `make user`.
    pub sdk: SdkConfig,
    /// Each function's role, as SAM expands the template.
    pub roles: Arc<Roles>,
    pub gate: Arc<Gate>,
    pub resolver: Resolver,
    pub functions: Vec<Arc<Function>>,
    /// The environment each function gets, by binary name.
    pub environments: HashMap<String, HashMap<String, String>>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The SDK configuration for talking to moto as the harness (not a function: not judged).
pub async fn local_sdk_config(moto_url: &str) -> SdkConfig {
    sdk_config(moto_url, HARNESS_ACCESS_KEY, "local").await
}

/// The SDK configuration a function gets: its own credentials, through `endpoint` (the IAM
/// gate, or a fault proxy in front of it).
pub async fn function_sdk_config(endpoint: &str, role: &Role) -> SdkConfig {
    sdk_config(endpoint, &role.access_key(), &role.secret_key()).await
}

async fn sdk_config(endpoint: &str, access_key: &str, secret: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            access_key,
            secret,
            None,
            None,
            "local-stack",
        ))
        .load()
        .await
}

/// Finds the repository root: the nearest directory upwards holding `template.yaml`.
pub fn find_repo_root(start: &Path) -> Result<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("template.yaml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("no template.yaml in {} or above", start.display()))
}

/// Resource types the local stack knows it does not need to create, with why.
const NOT_CREATED: &[(&str, &str)] = &[
    (
        "AWS::Logs::LogGroup",
        "the local stack logs to its own output",
    ),
    (
        "AWS::CloudWatch::Alarm",
        "alarms need CloudWatch metrics, which exist only on AWS",
    ),
    (
        "AWS::Serverless::HttpApi",
        "the local stack serves the routes itself",
    ),
    ("AWS::Serverless::Function", "handlers run in-process"),
    (
        "AWS::S3::BucketPolicy",
        "moto does not enforce bucket policies",
    ),
    (
        "AWS::SQS::QueuePolicy",
        "moto delivers S3 notifications and SNS messages without one",
    ),
];

impl Stack {
    /// Creates every resource, builds the handlers and starts serving.
    pub async fn start(options: StackOptions) -> Result<Self> {
        let template = Template::load(&options.repo_root.join("template.yaml"))?;
        let sdk = local_sdk_config(&options.moto_url).await;
        let mut parameters = template.parameter_defaults();
        parameters.extend(options.parameters.clone());
        let mut resolver = Resolver {
            stack_name: LOCAL_STACK_NAME.into(),
            account: LOCAL_ACCOUNT.into(),
            region: LOCAL_REGION.into(),
            parameters,
            physical: HashMap::new(),
        };
        create_resources(&template, &sdk, &mut resolver).await?;
        let roles = Arc::new(Roles::load(&options.repo_root, &resolver)?);
        let place = Place {
            region: LOCAL_REGION.into(),
            account: LOCAL_ACCOUNT.into(),
            hash_keys: table_hash_keys(&template, &resolver)?,
        };
        let gate = Arc::new(
            Gate::start(&options.moto_url, roles.clone(), place, options.gate_port).await?,
        );

        // The API's port is chosen before the functions are built: notify's APP_URL names it.
        let api_port = match options.api_port {
            0 => crate::moto::free_port()?,
            port => port,
        };
        let local_api_url = format!("http://127.0.0.1:{api_port}");

        register_outputs(&template, &sdk, &resolver, &local_api_url).await?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (functions, environments) = build_functions(
            &template,
            &resolver,
            &roles,
            &gate.url,
            &local_api_url,
            options.webhook_ca.as_deref(),
        )
        .await?;
        let mut tasks = Vec::new();
        let api_url = if options.serve_api {
            let (url, server) =
                crate::http::serve(&template, &functions, api_port, shutdown_rx.clone()).await?;
            tasks.push(server);
            url
        } else {
            local_api_url
        };
        let invoker = match &options.lambda_endpoint {
            None => crate::pollers::Invoker::InProcess,
            Some(endpoint) => crate::pollers::Invoker::lambda(endpoint)?,
        };
        if options.pollers {
            let polled: Vec<Arc<Function>> = functions
                .iter()
                .filter(|f| !options.external.contains(&f.binary))
                .cloned()
                .collect();
            tasks.extend(
                crate::pollers::start(
                    &polled,
                    &invoker,
                    &sdk,
                    &resolver,
                    options.retry_delay,
                    options.concurrency.max(1),
                    shutdown_rx,
                )
                .await?,
            );
        }
        Ok(Self {
            repo_root: options.repo_root,
            api_url,
            moto_url: options.moto_url,
            aws_url: gate.url.clone(),
            sdk,
            roles,
            gate,
            resolver,
            functions,
            environments,
            shutdown,
            tasks,
        })
    }

    /// The AWS configuration of the function built from `binary`, through `endpoint` (e.g. a
    /// fault proxy in front of [`Stack::aws_url`]), with the function's own credentials.
    pub async fn function_sdk(&self, binary: &str, endpoint: &str) -> Result<SdkConfig> {
        Ok(function_sdk_config(endpoint, self.role_of(binary)?).await)
    }

    /// The role of the function built from `binary`.
    pub fn role_of(&self, binary: &str) -> Result<&Role> {
        let function = self
            .functions
            .iter()
            .find(|f| f.binary == binary)
            .ok_or_else(|| anyhow!("the template has no function {binary}"))?;
        self.roles
            .by_function
            .get(&function.logical_id)
            .ok_or_else(|| anyhow!("no role for {}", function.logical_id))
    }

    /// The table's name.
    pub fn table_name(&self) -> Result<String> {
        self.resolver.string(&serde_json::json!({"Ref": "Table"}))
    }

    /// Adds a user directly to the table (what `make user` does).
    pub async fn add_user(&self, email: &str, password: &str) -> Result<UserId> {
        add_user(&self.sdk, &self.table_name()?, email, password).await
    }

    /// Stops the server and the pollers.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

/// Adds a user with a fresh id; fails if the email is taken.
pub async fn add_user(sdk: &SdkConfig, table: &str, email: &str, password: &str) -> Result<UserId> {
    let store = DynamoTable::new(aws_sdk_dynamodb::Client::new(sdk), table);
    let user = User::new(UserId::generate(), video2mp3_domain::normalise_email(email));
    let hash = hash_password(password)?;
    store
        .create_user(&user, &hash)
        .await
        .with_context(|| format!("adding user {email}"))?;
    Ok(user.user_id)
}

/// The name of the table the template defines, for a stack already running (`make user`).
pub fn local_table_name(repo_root: &Path) -> Result<String> {
    let template = Template::load(&repo_root.join("template.yaml"))?;
    let (id, table) = template
        .resources_of("AWS::DynamoDB::Table")
        .next()
        .ok_or_else(|| anyhow!("the template defines no table"))?;
    default_name(
        id,
        &table["Properties"]["TableName"],
        &base_resolver(&template),
    )
}

/// The partition key attribute of each table, by physical name (for `dynamodb:LeadingKeys`).
fn table_hash_keys(template: &Template, resolver: &Resolver) -> Result<HashMap<String, String>> {
    let mut keys = HashMap::new();
    for (id, table) in template.resources_of("AWS::DynamoDB::Table") {
        let name = resolver.string(&serde_json::json!({ "Ref": id }))?;
        let hash = table["Properties"]["KeySchema"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["KeyType"] == "HASH")
            .and_then(|k| k["AttributeName"].as_str())
            .ok_or_else(|| anyhow!("table {id} has no HASH key"))?;
        keys.insert(name, hash.to_owned());
    }
    Ok(keys)
}

fn base_resolver(template: &Template) -> Resolver {
    Resolver {
        stack_name: LOCAL_STACK_NAME.into(),
        account: LOCAL_ACCOUNT.into(),
        region: LOCAL_REGION.into(),
        parameters: template.parameter_defaults(),
        physical: HashMap::new(),
    }
}

/// A function's environment, resolved; the HTTP API's address on AWS (in `APP_URL`) becomes
/// the local one, since the local stack serves the API itself.
fn function_env(
    template: &Template,
    function: &Value,
    resolver: &Resolver,
    local_api_url: &str,
) -> Result<HashMap<String, String>> {
    let aws_api_url = resolver.string(&serde_json::json!({
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }))?;
    let mut env = HashMap::new();
    for (name, value) in template.function_environment(function) {
        let value = resolver
            .string(&value)
            .with_context(|| format!("variable {name}"))?;
        env.insert(name.clone(), value.replace(&aws_api_url, local_api_url));
    }
    Ok(env)
}

/// The physical name: the one the template gives, else `{stack}-{LogicalId}` as CloudFormation would.
fn default_name(logical_id: &str, given: &Value, resolver: &Resolver) -> Result<String> {
    if given.is_null() {
        Ok(format!("{LOCAL_STACK_NAME}-{logical_id}"))
    } else {
        resolver.string(given)
    }
}

/// Each function of the template, built as its `main.rs` builds it from the environment the
/// template gives it, with its own credentials through the IAM gate at `gate_url`; and those
/// environments, by binary name.
async fn build_functions(
    template: &Template,
    resolver: &Resolver,
    roles: &Roles,
    gate_url: &str,
    local_api_url: &str,
    webhook_ca: Option<&str>,
) -> Result<(Vec<Arc<Function>>, HashMap<String, HashMap<String, String>>)> {
    let mut functions = Vec::new();
    let mut environments = HashMap::new();
    for (logical_id, resource) in template.resources_of("AWS::Serverless::Function") {
        let env = function_env(template, resource, resolver, local_api_url)
            .with_context(|| format!("environment of {logical_id}"))?;
        let binary = scalar(&resource["Metadata"]["BuildProperties"]["Binary"])
            .ok_or_else(|| anyhow!("{logical_id} has no Metadata.BuildProperties.Binary"))?;
        environments.insert(binary.clone(), env.clone());
        let role = roles
            .by_function
            .get(logical_id)
            .ok_or_else(|| anyhow!("sam-expand gave {logical_id} no role"))?;
        let function_sdk = function_sdk_config(gate_url, role).await;
        let mut handler = Handler::build(&binary, &function_sdk, &Env::from_map(env))
            .await
            .with_context(|| format!("configuring {logical_id} ({binary})"))?;
        handler.localise(webhook_ca)?;
        functions.push(Arc::new(Function {
            logical_id: logical_id.clone(),
            binary,
            events: resource["Properties"]["Events"].clone(),
            invoke_config: resource["Properties"]["EventInvokeConfig"].clone(),
            sdk: function_sdk,
            handler,
        }));
    }
    Ok((functions, environments))
}

async fn create_resources(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &mut Resolver,
) -> Result<()> {
    // Refuse resource types nobody taught the local stack, so the two cannot drift silently.
    let known = [
        "AWS::SecretsManager::Secret",
        "AWS::DynamoDB::Table",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::SQS::Queue",
        "AWS::S3::Bucket",
    ];
    for (id, r) in template.resources() {
        let kind = r["Type"].as_str().unwrap_or_default();
        if !known.contains(&kind) && !NOT_CREATED.iter().any(|(k, _)| *k == kind) {
            bail!(
                "template resource {id} has type {kind}, which the local stack does not create yet"
            );
        }
    }
    resolver
        .physical
        .insert("HttpApi".into(), Physical::Api { id: "local".into() });

    create_secrets(template, sdk, resolver).await?;
    create_tables(template, sdk, resolver).await?;
    create_topics(template, sdk, resolver).await?;
    create_queues(template, sdk, resolver).await?;
    create_subscriptions(template, sdk, resolver).await?;
    create_buckets(template, sdk, resolver).await?;
    // The sender must be a verified identity before SES sends anything.
    if let Some(sender) = resolver.parameters.get("SenderEmail") {
        aws_sdk_sesv2::Client::new(sdk)
            .create_email_identity()
            .email_identity(sender)
            .send()
            .await
            .context("verifying the sender identity")?;
    }
    Ok(())
}

/// Makes the stack known to the local CloudFormation under its name, with the template's
/// outputs resolved (the API's address the local one), so what reads a deployed stack's outputs
/// (`video2mp3 admin --stack video2mp3-local`) finds this one the same way. The resources are
/// the local stack's own: the stack registered holds only a placeholder.
async fn register_outputs(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &Resolver,
    local_api_url: &str,
) -> Result<()> {
    let aws_api_url = resolver.string(&serde_json::json!({
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }))?;
    let mut outputs = serde_json::Map::new();
    for (name, output) in template.root["Outputs"].as_object().into_iter().flatten() {
        let value = resolver
            .string(&output["Value"])
            .with_context(|| format!("output {name}"))?
            .replace(&aws_api_url, local_api_url);
        outputs.insert(name.clone(), serde_json::json!({ "Value": value }));
    }
    let body = serde_json::json!({
        "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": outputs,
    });
    aws_sdk_cloudformation::Client::new(sdk)
        .create_stack()
        .stack_name(LOCAL_STACK_NAME)
        .template_body(body.to_string())
        .send()
        .await
        .context("registering the stack's outputs with the local CloudFormation")?;
    Ok(())
}

/// The template's secrets, each with a random value of the length it asks for.
async fn create_secrets(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &mut Resolver,
) -> Result<()> {
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    for (id, r) in template.resources_of("AWS::SecretsManager::Secret") {
        let props = &r["Properties"];
        let length = props["GenerateSecretString"]["PasswordLength"]
            .as_u64()
            .unwrap_or(64) as usize;
        let value = Alphanumeric.sample_string(&mut rand::rng(), length);
        let out = secrets
            .create_secret()
            .name(default_name(id, &props["Name"], resolver)?)
            .secret_string(value)
            .send()
            .await
            .with_context(|| format!("creating secret {id}"))?;
        let arn = out
            .arn()
            .ok_or_else(|| anyhow!("no ARN for {id}"))?
            .to_owned();
        resolver
            .physical
            .insert(id.clone(), Physical::Secret { arn });
    }
    Ok(())
}

/// The template's tables, with their keys.
async fn create_tables(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &mut Resolver,
) -> Result<()> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    for (id, r) in template.resources_of("AWS::DynamoDB::Table") {
        let props = &r["Properties"];
        let name = default_name(id, &props["TableName"], resolver)?;
        let mut create = dynamo
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest);
        for a in props["AttributeDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(a["AttributeName"].as_str().unwrap_or_default())
                    .attribute_type(ScalarAttributeType::from(
                        a["AttributeType"].as_str().unwrap_or("S"),
                    ))
                    .build()?,
            );
        }
        for k in props["KeySchema"].as_array().into_iter().flatten() {
            create = create.key_schema(
                KeySchemaElement::builder()
                    .attribute_name(k["AttributeName"].as_str().unwrap_or_default())
                    .key_type(KeyType::from(k["KeyType"].as_str().unwrap_or("HASH")))
                    .build()?,
            );
        }
        create
            .send()
            .await
            .with_context(|| format!("creating table {id}"))?;
        resolver
            .physical
            .insert(id.clone(), Physical::Table { name });
    }
    Ok(())
}

/// The template's topics.
async fn create_topics(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &mut Resolver,
) -> Result<()> {
    let sns = aws_sdk_sns::Client::new(sdk);
    for (id, r) in template.resources_of("AWS::SNS::Topic") {
        let name = default_name(id, &r["Properties"]["TopicName"], resolver)?;
        let out = sns
            .create_topic()
            .name(&name)
            .send()
            .await
            .with_context(|| format!("creating topic {id}"))?;
        let arn = out
            .topic_arn()
            .ok_or_else(|| anyhow!("no ARN for {id}"))?
            .to_owned();
        resolver
            .physical
            .insert(id.clone(), Physical::Topic { arn, name });
    }
    Ok(())
}

/// The template's subscriptions of queues to topics (with raw delivery when asked). An e-mail
/// subscription (the alarms') exists only on AWS: nothing here sends alarms.
async fn create_subscriptions(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &mut Resolver,
) -> Result<()> {
    let sns = aws_sdk_sns::Client::new(sdk);
    for (id, r) in template.resources_of("AWS::SNS::Subscription") {
        let props = &r["Properties"];
        match props["Protocol"].as_str() {
            Some("sqs") => {}
            Some("email") => continue,
            other => bail!("subscription {id}: protocol {other:?} is not played locally"),
        }
        let mut subscribe = sns
            .subscribe()
            .topic_arn(resolver.string(&props["TopicArn"])?)
            .protocol("sqs")
            .endpoint(resolver.string(&props["Endpoint"])?);
        if scalar(&props["RawMessageDelivery"]).as_deref() == Some("true") {
            subscribe = subscribe.attributes("RawMessageDelivery", "true");
        }
        subscribe
            .send()
            .await
            .with_context(|| format!("creating subscription {id}"))?;
    }
    Ok(())
}

/// The template's queues, dead-letter queues first (the others name them).
async fn create_queues(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &mut Resolver,
) -> Result<()> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut queues: Vec<_> = template.resources_of("AWS::SQS::Queue").collect();
    queues.sort_by_key(|(_, r)| !r["Properties"]["RedrivePolicy"].is_null());
    for (id, r) in queues {
        let props = &r["Properties"];
        let name = default_name(id, &props["QueueName"], resolver)?;
        let mut create = sqs.create_queue().queue_name(&name);
        for (attr, prop) in [
            (QueueAttributeName::VisibilityTimeout, "VisibilityTimeout"),
            (
                QueueAttributeName::MessageRetentionPeriod,
                "MessageRetentionPeriod",
            ),
        ] {
            if let Some(v) = scalar(&props[prop]) {
                create = create.attributes(attr, v);
            }
        }
        if let Some(redrive) = props["RedrivePolicy"].as_object() {
            let target = resolver.string(&redrive["deadLetterTargetArn"])?;
            let count = scalar(&redrive["maxReceiveCount"]).unwrap_or_else(|| "5".into());
            let policy =
                serde_json::json!({"deadLetterTargetArn": target, "maxReceiveCount": count});
            create = create.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = create
            .send()
            .await
            .with_context(|| format!("creating queue {id}"))?
            .queue_url
            .ok_or_else(|| anyhow!("no URL for {id}"))?;
        let arn = format!("arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{name}");
        resolver
            .physical
            .insert(id.clone(), Physical::Queue { url, arn, name });
    }
    Ok(())
}

/// The template's buckets with their CORS rules, then their notifications (which name queues
/// and other buckets by reference).
async fn create_buckets(
    template: &Template,
    sdk: &SdkConfig,
    resolver: &mut Resolver,
) -> Result<()> {
    let s3 = video2mp3_aws::s3_client(sdk);
    let buckets: Vec<_> = template.resources_of("AWS::S3::Bucket").collect();
    for (id, r) in &buckets {
        let name = default_name(id, &r["Properties"]["BucketName"], resolver)?;
        s3.create_bucket()
            .bucket(&name)
            .send()
            .await
            .with_context(|| format!("creating bucket {id}"))?;
        // The bucket's CORS rules, so a browser may PUT to it from the page (moto honours them).
        if let Some(rules) = r["Properties"]["CorsConfiguration"]["CorsRules"].as_array() {
            let strings = |v: &Value| -> Vec<String> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            };
            let mut cors = aws_sdk_s3::types::CorsConfiguration::builder();
            for rule in rules {
                let mut built = aws_sdk_s3::types::CorsRule::builder()
                    .set_allowed_methods(Some(strings(&rule["AllowedMethods"])))
                    .set_allowed_origins(Some(strings(&rule["AllowedOrigins"])))
                    .set_allowed_headers(Some(strings(&rule["AllowedHeaders"])));
                if let Some(age) = rule["MaxAge"].as_i64() {
                    built = built.max_age_seconds(i32::try_from(age).unwrap_or(3000));
                }
                cors = cors.cors_rules(built.build().context("a CORS rule")?);
            }
            s3.put_bucket_cors()
                .bucket(&name)
                .cors_configuration(cors.build().context("the CORS configuration")?)
                .send()
                .await
                .with_context(|| format!("setting CORS on bucket {id}"))?;
        }
        resolver
            .physical
            .insert((*id).clone(), Physical::Bucket { name });
    }
    for (id, r) in &buckets {
        configure_notifications(&s3, id, r, resolver).await?;
    }
    Ok(())
}

/// A bucket's `NotificationConfiguration.QueueConfigurations`, with their key filters.
async fn configure_notifications(
    s3: &aws_sdk_s3::Client,
    id: &str,
    r: &Value,
    resolver: &Resolver,
) -> Result<()> {
    let configs = r["Properties"]["NotificationConfiguration"]["QueueConfigurations"].as_array();
    let Some(configs) = configs else {
        return Ok(());
    };
    let bucket = resolver.string(&serde_json::json!({"Ref": id}))?;
    let mut notification = NotificationConfiguration::builder();
    for c in configs {
        let mut queue = QueueConfiguration::builder()
            .queue_arn(resolver.string(&c["Queue"])?)
            .events(Event::from(
                c["Event"].as_str().unwrap_or("s3:ObjectCreated:*"),
            ));
        let rules = c["Filter"]["S3Key"]["Rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !rules.is_empty() {
            let mut key = S3KeyFilter::builder();
            for rule in rules {
                key = key.filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::from(
                            rule["Name"].as_str().unwrap_or("prefix"),
                        ))
                        .value(rule["Value"].as_str().unwrap_or_default())
                        .build(),
                );
            }
            queue = queue.filter(
                NotificationConfigurationFilter::builder()
                    .key(key.build())
                    .build(),
            );
        }
        notification = notification.queue_configurations(queue.build()?);
    }
    s3.put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(notification.build())
        .send()
        .await
        .with_context(|| format!("configuring notifications of {id}"))?;
    Ok(())
}

/// One email moto has recorded as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub body: String,
}

/// The link (the first word holding `marker`, such as `verify=`) in the newest e-mail to `to`
/// that has one, waiting up to 30 s for it to be sent.
pub async fn link_in_emails(moto_url: &str, to: &str, marker: &str) -> Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mails = sent_emails(moto_url).await?;
        let found = mails
            .iter()
            .rev()
            .filter(|m| m.to.iter().any(|t| t == to))
            .find_map(|m| m.body.split_whitespace().find(|w| w.contains(marker)));
        if let Some(link) = found {
            return Ok(link.to_owned());
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("no e-mail to {to} with {marker} in 30 s: {mails:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The emails moto has recorded as sent, oldest first.
pub async fn sent_emails(moto_url: &str) -> Result<Vec<SentEmail>> {
    let data: Value = reqwest::get(format!("{moto_url}/moto-api/data.json"))
        .await?
        .error_for_status()?
        .json()
        .await?;
    let messages = data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(messages
        .iter()
        .map(|m| SentEmail {
            to: m["destinations"]["ToAddresses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            from: m["source"].as_str().unwrap_or_default().to_owned(),
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            body: m["body"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}
