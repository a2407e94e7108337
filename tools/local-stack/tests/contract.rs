//! The store contract (`video2mp3_domain::contract`) against the DynamoDB adapter on moto: the
//! same suite the in-memory store passes, so the table's condition expressions are proven to
//! apply exactly the rule written in Rust (`Transition::permits`), and the fast in-memory tests
//! of the functions stand for the real store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{physical, spawn};
use video2mp3_aws::DynamoTable;
use video2mp3_domain::contract;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_table_keeps_the_store_contract() {
    let app = spawn(&[], false).await;
    let table = DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&app.stack.sdk),
        physical(&app, "Table"),
    );
    contract::job_store(&table).await;
    contract::user_store(&table).await;
    contract::account_store(&table).await;
}
