//! [`AccountStore`] over the same table as users and jobs (the items are listed in
//! `dynamo.rs`). One-time tokens are taken with a conditional delete that returns the item, so
//! two requests with one token cannot both use it.

use crate::dynamo::{
    DynamoTable, Item, corrupt, epoch, get_s, is_condition_failure, number, s, user_pk,
};
use crate::errors::port_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use time::OffsetDateTime;
use video2mp3_domain::{AccountStore, PendingSignup, PortError, User, UserId};

fn signup_key(token_hash: &str) -> (AttributeValue, AttributeValue) {
    (s(format!("SIGNUP#{token_hash}")), s("SIGNUP"))
}

fn reset_sk(token_hash: &str) -> AttributeValue {
    s(format!("RESET#{token_hash}"))
}

fn get_u32(item: &Item, name: &str) -> Result<u32, PortError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt(name))
}

/// A user as an operator's list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUser {
    pub user_id: String,
    pub email: String,
    pub created_at: String,
}

impl DynamoTable {
    /// Every user, by address (a scan: for an operator's occasional look, not for requests).
    pub async fn list_users(&self) -> Result<Vec<ListedUser>, PortError> {
        let mut users = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("sk = :profile")
                .expression_attribute_values(":profile", s("PROFILE"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error("Scan", e))?;
            for item in out.items() {
                users.push(ListedUser {
                    user_id: get_s(item, "user_id")?.to_owned(),
                    email: get_s(item, "email")?.to_owned(),
                    created_at: get_s(item, "created_at").unwrap_or_default().to_owned(),
                });
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        users.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(users)
    }

    /// Deletes the item at (`pk`, `sk`) if it is there and unexpired at `now`, returning it.
    async fn take(
        &self,
        pk: AttributeValue,
        sk: AttributeValue,
        now: OffsetDateTime,
    ) -> Result<Option<Item>, PortError> {
        let taken = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", pk)
            .key("sk", sk)
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", epoch(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match taken {
            Ok(out) => Ok(out.attributes),
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(port_error("DeleteItem", err)),
        }
    }

    /// Deletes every reset token kept for `user`.
    pub(crate) async fn delete_resets(&self, user: &UserId) -> Result<(), PortError> {
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :reset)")
                .expression_attribute_values(":pk", user_pk(user))
                .expression_attribute_values(":reset", s("RESET#"))
                .projection_expression("pk, sk")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error("Query", e))?;
            for item in out.items() {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", user_pk(user))
                    .key("sk", s(get_s(item, "sk")?))
                    .send()
                    .await
                    .map_err(|e| port_error("DeleteItem", e))?;
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(()),
            }
        }
    }
}

#[async_trait]
impl AccountStore for DynamoTable {
    async fn put_signup(
        &self,
        token_hash: &str,
        signup: &PendingSignup,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        let (pk, sk) = signup_key(token_hash);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", pk)
            .item("sk", sk)
            .item("type", s("signup"))
            .item("email", s(&signup.email))
            .item("password_hash", s(&signup.password_hash))
            .item("expires_at", epoch(expires_at))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("PutItem", e))
    }

    async fn take_signup(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<PendingSignup>, PortError> {
        let (pk, sk) = signup_key(token_hash);
        let Some(item) = self.take(pk, sk, now).await? else {
            return Ok(None);
        };
        Ok(Some(PendingSignup {
            email: get_s(&item, "email")?.to_owned(),
            password_hash: get_s(&item, "password_hash")?.to_owned(),
        }))
    }

    async fn put_reset(
        &self,
        user: &UserId,
        token_hash: &str,
        version: u32,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", user_pk(user))
            .item("sk", reset_sk(token_hash))
            .item("type", s("reset"))
            .item("token_version", number(version))
            .item("expires_at", epoch(expires_at))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("PutItem", e))
    }

    async fn take_reset(
        &self,
        user: &UserId,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<u32>, PortError> {
        let item = self.take(user_pk(user), reset_sk(token_hash), now).await?;
        item.map(|i| get_u32(&i, "token_version")).transpose()
    }

    async fn set_password(
        &self,
        user: &User,
        password_hash: &str,
        version: u32,
    ) -> Result<u32, PortError> {
        let new = version + 1;
        // Users made before versions were kept have none: that is version 0.
        let condition = if version == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(token_version) OR token_version = :v)"
        } else {
            "attribute_exists(pk) AND token_version = :v"
        };
        let update = |pk: String, sk: &str, hash: Option<&str>| {
            let mut update = Update::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .condition_expression(condition)
                .expression_attribute_values(":v", number(version))
                .expression_attribute_values(":new", number(new));
            update = match hash {
                Some(hash) => update
                    .update_expression("SET token_version = :new, password_hash = :hash")
                    .expression_attribute_values(":hash", s(hash)),
                None => update.update_expression("SET token_version = :new"),
            };
            update
                .build()
                .map(|u| TransactWriteItem::builder().update(u).build())
                .map_err(|e| PortError::backend("TransactWriteItems", false, e))
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(update(
                format!("EMAIL#{}", user.email),
                "EMAIL",
                Some(password_hash),
            )?)
            .transact_items(update(format!("USER#{}", user.user_id), "PROFILE", None)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(new),
            Err(err) if is_condition_failure(&err) => Err(PortError::ConditionFailed),
            Err(err) => Err(port_error("TransactWriteItems", err)),
        }
    }

    async fn take_mail_slot(
        &self,
        email: &str,
        now: OffsetDateTime,
        limit: u32,
        window: std::time::Duration,
    ) -> Result<bool, PortError> {
        let key = || (s(format!("MAIL#{email}")), s("COUNT"));
        let ends = now + window;
        // Twice round: a request that finds the window just started by another counts in it.
        for _ in 0..2 {
            let (pk, sk) = key();
            let counted = self
                .update(pk, sk)
                .update_expression("ADD sent :one")
                .condition_expression("window_ends > :now AND sent < :limit")
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":now", epoch(now))
                .expression_attribute_values(":limit", number(limit))
                .send()
                .await;
            match counted {
                Ok(_) => return Ok(true),
                Err(err) if is_condition_failure(&err) => {}
                Err(err) => return Err(port_error("UpdateItem", err)),
            }
            let (pk, sk) = key();
            let started = self
                .update(pk, sk)
                .update_expression("SET sent = :one, window_ends = :ends, expires_at = :ends")
                .condition_expression("attribute_not_exists(pk) OR window_ends <= :now")
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":now", epoch(now))
                .expression_attribute_values(":ends", epoch(ends))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(true),
                Err(err) if is_condition_failure(&err) => {}
                Err(err) => return Err(port_error("UpdateItem", err)),
            }
        }
        // Both failed twice: the window is current and full.
        Ok(false)
    }
}
