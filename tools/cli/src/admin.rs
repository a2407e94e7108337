//! `video2mp3 admin`: an operator's commands on a deployed stack, run with the operator's own
//! AWS credentials (the SDK's usual chain: environment, profile, SSO). The stack's outputs say
//! where its table and buckets are; the users are written as the service itself writes them.

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use std::collections::HashMap;
use video2mp3_aws::accounts::ListedUser;
use video2mp3_aws::{DynamoTable, S3Objects};
use video2mp3_domain::{
    Buckets, EraseError, PortError, User, UserId, UserStore, check_password, erase_account,
    hash_password, valid_email,
};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add a user (the way in on a deployment whose SignupMode is closed).
    AddUser {
        /// The CloudFormation stack's name (as deployed with `sam deploy`).
        #[arg(long)]
        stack: String,
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user with every job, upload and MP3 of theirs.
    RemoveUser {
        #[arg(long)]
        stack: String,
        #[arg(long)]
        email: String,
        /// Do not ask to type the address again to confirm.
        #[arg(long)]
        yes: bool,
    },
    /// List the users, by address.
    ListUsers {
        #[arg(long)]
        stack: String,
    },
}

/// Where a stack keeps its users and files, from its outputs.
struct Deployed {
    table: DynamoTable,
    objects: S3Objects,
    buckets: Buckets,
}

async fn deployed(stack: &str) -> Result<Deployed> {
    let sdk = video2mp3_aws::sdk_config().await;
    let region = sdk
        .region()
        .map_or_else(|| "(no region set)".to_owned(), ToString::to_string);
    let described = aws_sdk_cloudformation::Client::new(&sdk)
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|err| {
            anyhow!(
                "cannot read the stack {stack:?} in {region}: {}; check --stack, and AWS_REGION \
                 or AWS_PROFILE",
                aws_sdk_cloudformation::error::DisplayErrorContext(err)
            )
        })?;
    let outputs: HashMap<String, String> = described
        .stacks()
        .first()
        .with_context(|| format!("no stack {stack:?} in {region}"))?
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect();
    let output = |name: &str| {
        outputs.get(name).cloned().with_context(|| {
            format!("the stack {stack:?} has no output {name}; is it video2mp3's?")
        })
    };
    Ok(Deployed {
        table: DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), output("TableName")?),
        objects: S3Objects::new(video2mp3_aws::s3_client(&sdk)),
        buckets: Buckets {
            uploads: output("UploadsBucketName")?,
            mp3: output("Mp3BucketName")?,
        },
    })
}

pub async fn run(command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::AddUser {
            stack,
            email,
            password_stdin,
        } => add_user(&deployed(&stack).await?, &email, password_stdin).await,
        AdminCommand::RemoveUser { stack, email, yes } => {
            remove_user(&deployed(&stack).await?, &email, yes).await
        }
        AdminCommand::ListUsers { stack } => {
            let users = deployed(&stack).await?.table.list_users().await?;
            print_users(&users);
            Ok(())
        }
    }
}

async fn add_user(at: &Deployed, email: &str, password_stdin: bool) -> Result<()> {
    let email = valid_email(email)?;
    let password = crate::read_password(&format!("Password for {email}: "), password_stdin)?;
    check_password(&password, &email)?;
    let user = User::new(UserId::generate(), email);
    let hash = hash_password(&password)?;
    match at.table.create_user(&user, &hash).await {
        Ok(()) => {
            println!("added {} (user {})", user.email, user.user_id);
            Ok(())
        }
        Err(PortError::AlreadyExists) => bail!("{} has an account already", user.email),
        Err(err) => Err(anyhow::Error::new(err).context("writing the user")),
    }
}

async fn remove_user(at: &Deployed, email: &str, yes: bool) -> Result<()> {
    let email = video2mp3_domain::normalise_email(email);
    let credentials = at
        .table
        .credentials(&email)
        .await?
        .with_context(|| format!("no user has the address {email}"))?;
    let user = at
        .table
        .user(&credentials.user_id)
        .await?
        .with_context(|| format!("{email}'s profile is missing"))?;
    if !yes {
        eprint!("Removing {email} and every job, upload and MP3 of theirs. Type the address: ");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.trim() != email {
            bail!("not confirmed; nothing was removed");
        }
    }
    match erase_account(&at.table, &at.table, &at.objects, &at.buckets, &user).await {
        Ok(n) => {
            println!(
                "removed {email} and {n} job{}",
                if n == 1 { "" } else { "s" }
            );
            Ok(())
        }
        Err(EraseError::Converting) => {
            bail!("a conversion of {email}'s is running; try again once it has ended")
        }
        Err(EraseError::Port(err)) => Err(anyhow::Error::new(err).context("removing the user")),
    }
}

fn print_users(users: &[ListedUser]) {
    if users.is_empty() {
        println!("no users");
        return;
    }
    println!("{:<40}  {:<26}  CREATED", "EMAIL", "USER");
    for u in users {
        println!(
            "{:<40}  {:<26}  {}",
            u.email,
            u.user_id,
            u.created_at.get(..19).unwrap_or(&u.created_at)
        );
    }
}
