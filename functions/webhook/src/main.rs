//! Lambda entry point for the webhook sender (SQS event source): wiring only.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let sdk = video2mp3_aws::sdk_config().await;
    let deps = webhook::Deps::from_env(&sdk, &video2mp3_aws::Env::from_process())?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async move {
            Ok::<_, Error>(webhook::handle(event.payload, deps).await)
        },
    ))
    .await
}
