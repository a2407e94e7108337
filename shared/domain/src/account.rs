//! The rules of accounts: who may sign up, which passwords are accepted, and the one-time
//! tokens that confirm an address or reset a password. The tokens are random (256 bits); the
//! store keeps only their SHA-256, so a copy of the table opens no account.

use crate::job::UserId;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest, in bytes (hashing is the work: a megabyte password would be a cheap attack).
pub const MAX_PASSWORD_BYTES: usize = 256;
/// How long a sign-up link works.
pub const SIGNUP_TOKEN_LIFETIME: time::Duration = time::Duration::hours(24);
/// How long a password reset link works.
pub const RESET_TOKEN_LIFETIME: time::Duration = time::Duration::minutes(30);
/// The most account e-mails (sign-up links, reset links) sent to one address in
/// [`MAIL_WINDOW`], so the service cannot be used to flood someone's inbox.
pub const MAILS_PER_WINDOW: u32 = 3;
/// The window [`MAILS_PER_WINDOW`] counts in.
pub const MAIL_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Whether anyone may sign up (`open`) or only the operator adds users (`closed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupMode {
    Open,
    Closed,
}

impl std::str::FromStr for SignupMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            other => Err(format!(
                "sign-up mode {other:?} is neither \"open\" nor \"closed\""
            )),
        }
    }
}

/// Why an address or password is refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not an e-mail address")]
    BadEmail(String),
    #[error("{0}")]
    WeakPassword(String),
}

/// The lower-cased, trimmed form under which addresses are stored.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The address normalised, if it is one that mail servers take: a local part of printable
/// ASCII (at most 64, no leading, trailing or double dot), `@`, and a domain of at least two
/// labels of letters, digits and inner hyphens, the last all letters; at most 254 in all.
/// (Addresses with non-ASCII parts are refused; whether the address receives mail is what the
/// link proves.)
pub fn valid_email(email: &str) -> Result<String, AccountError> {
    let email = normalise_email(email);
    let bad = || AccountError::BadEmail(email.clone());
    let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
    let local_ok = (1..=64).contains(&local.len())
        && local.chars().all(|c| c.is_ascii_graphic() && c != '@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
    if email.len() > 254 || !local_ok || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok
    {
        return Err(bad());
    }
    Ok(email)
}

/// Refuses a password that is short, overlong, or easy to guess (a common password, a word, a
/// keyboard row, the address itself...), saying why.
pub fn check_password(password: &str, email: &str) -> Result<(), AccountError> {
    let weak = |why: String| Err(AccountError::WeakPassword(why));
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return weak(format!(
            "the password is {chars} characters long; use at least {MIN_PASSWORD_CHARS}"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return weak(format!(
            "the password is longer than {MAX_PASSWORD_BYTES} bytes; use a shorter one"
        ));
    }
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let guess = zxcvbn::zxcvbn(password, &[email, local, domain, "video2mp3"]);
    if u8::from(guess.score()) >= 3 {
        return Ok(());
    }
    let warning = guess
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| format!("{w} "))
        .unwrap_or_default();
    weak(format!(
        "the password is too easy to guess. {warning}Use a few words that do not belong \
         together, or a password manager's random password."
    ))
}

/// A secret of 256 random bits, as URL-safe text.
fn secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a token: its SHA-256, in hex.
pub fn token_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new sign-up token: the text for the link, and its hash for the store.
pub fn signup_token() -> (String, String) {
    let text = secret();
    let hash = token_hash(&text);
    (text, hash)
}

/// A new reset token for `user`: `{user_id}.{secret}` for the link (the store keeps resets
/// under their user, so deleting an account takes them too), and the secret's hash.
pub fn reset_token(user: &UserId) -> (String, String) {
    let secret = secret();
    let hash = token_hash(&secret);
    (format!("{user}.{secret}"), hash)
}

/// A reset token's user and hash; `None` when it is not of the form [`reset_token`] makes.
pub fn parse_reset_token(text: &str) -> Option<(UserId, String)> {
    let (user, secret) = text.trim().split_once('.')?;
    if secret.len() != 43 {
        return None;
    }
    Some((user.parse().ok()?, token_hash(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(
            valid_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "a n@x.org",
            "ann@x..org",
        ] {
            assert!(valid_email(bad).is_err(), "{bad:?} accepted");
        }
        assert!(valid_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn short_common_and_guessable_passwords_are_refused_with_a_reason() {
        let email = "ann.smith@example.com";
        let refused = |p: &str| match check_password(p, email) {
            Err(AccountError::WeakPassword(why)) => why,
            Ok(()) => panic!("{p:?} was accepted"),
            Err(other) => panic!("{other}"),
        };
        assert!(refused("Tr0ub4d!").contains("at least 10"), "short");
        assert!(refused("password123").contains("common"), "common");
        assert!(
            refused("qwertyuiop").contains("easy to guess"),
            "keyboard row"
        );
        assert!(
            refused("ann.smith@example.com").contains("easy to guess"),
            "the address"
        );
        assert!(refused(&"x".repeat(300)).contains("256 bytes"), "overlong");
        for good in [
            "correct horse battery staple",
            "vN8#q2!LpZ0w",
            "tea kettle on mars",
        ] {
            assert_eq!(check_password(good, email), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, hash_a) = signup_token();
        let (b, _) = signup_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in base64url");
        assert_eq!(hash_a, token_hash(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(&a));
    }

    #[test]
    fn reset_tokens_name_their_user() {
        let user = UserId::generate();
        let (text, hash) = reset_token(&user);
        assert_eq!(parse_reset_token(&text), Some((user.clone(), hash)));
        assert_eq!(parse_reset_token("nonsense"), None);
        assert_eq!(parse_reset_token(&format!("{user}.short")), None);
        assert_eq!(parse_reset_token(&text.replacen('.', "x", 1)), None);
    }

    #[test]
    fn signup_modes_parse() {
        assert_eq!("open".parse(), Ok(SignupMode::Open));
        assert_eq!("closed".parse(), Ok(SignupMode::Closed));
        assert!("maybe".parse::<SignupMode>().is_err());
    }
}
