//! The account's commands: sign up and confirm the address, reset a forgotten password, delete
//! the account. The links in the e-mails open the page; these take the link (or just its token)
//! instead.

use crate::{Api, keep_session, load_session, post_anonymous, read_password, session_path};
use anyhow::{Context, Result};
use serde_json::json;

/// The token of a link `…/?verify=TOKEN` (or `reset=`), or the text itself if it is a token.
fn token_of(link: &str, name: &str) -> String {
    let link = link.trim();
    match link.split_once(&format!("{name}=")) {
        Some((_, rest)) => rest.split('&').next().unwrap_or(rest).to_owned(),
        None => link.to_owned(),
    }
}

pub async fn signup(api: String, email: &str, password_stdin: bool) -> Result<()> {
    let password = read_password(&format!("Choose a password for {email}: "), password_stdin)?;
    if !password_stdin {
        let again = read_password("The same again: ", false)?;
        anyhow::ensure!(
            again == password,
            "the two passwords differ; nothing was sent"
        );
    }
    let body = post_anonymous(
        &api,
        "/signup",
        &json!({"email": email, "password": password}),
    )
    .await?;
    println!(
        "{}; open its link, or run: video2mp3 verify '<link>'",
        body["message"].as_str().unwrap_or("check your e-mail")
    );
    Ok(())
}

pub async fn verify(api: String, link: &str) -> Result<()> {
    let token = token_of(link, "verify");
    let body = post_anonymous(&api, "/signup/verify", &json!({"token": token})).await?;
    keep_session(api, &body).map(|_| ())
}

pub async fn forgot(api: String, email: &str) -> Result<()> {
    let body = post_anonymous(&api, "/password/forgot", &json!({"email": email})).await?;
    println!(
        "{}; then run: video2mp3 reset-password '<link>'",
        body["message"].as_str().unwrap_or("check your e-mail")
    );
    Ok(())
}

pub async fn reset(api: String, link: &str, password_stdin: bool) -> Result<()> {
    let token = token_of(link, "reset");
    let password = read_password("New password: ", password_stdin)?;
    let body = post_anonymous(
        &api,
        "/password/reset",
        &json!({"token": token, "password": password}),
    )
    .await?;
    keep_session(api, &body).map(|_| ())
}

pub async fn delete_account(password_stdin: bool) -> Result<()> {
    let session = load_session()?;
    let password = read_password(
        &format!(
            "Deleting {} and every job, upload and MP3 of it, for good. Password: ",
            session.email
        ),
        password_stdin,
    )?;
    Api::new(&session)
        .delete("/account", Some(&json!({"password": password})))
        .await?;
    let path = session_path()?;
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    println!("deleted the account {} and everything of it", session.email);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn links_and_bare_tokens_both_give_the_token() {
        assert_eq!(
            token_of("https://x.example/?verify=abc-_1", "verify"),
            "abc-_1"
        );
        assert_eq!(token_of(" https://x/?reset=U.s&x=1 ", "reset"), "U.s");
        assert_eq!(token_of("abc", "verify"), "abc");
    }
}
