//! Lambda entry point for sign-up, password reset and account deletion: wiring only.

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let sdk = video2mp3_aws::sdk_config().await;
    let deps = account::Deps::from_env(&sdk, &video2mp3_aws::Env::from_process()).await?;
    let deps = &deps;
    lambda_http::run(service_fn(move |req| async move {
        Ok::<_, Error>(account::handle(req, deps).await)
    }))
    .await
}
