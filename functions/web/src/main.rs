//! Lambda entry point for `GET /`: wiring only.

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let page = &web::Page::from_env()?;
    lambda_http::run(service_fn(|req| async move {
        Ok::<_, Error>(web::handle(req, page).await)
    }))
    .await
}
