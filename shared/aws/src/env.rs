//! Reading configuration, failing fast with the variable's name.
//!
//! Functions read an [`Env`]: on Lambda the process environment, in the local stack the variables
//! the template gives that function, so several functions can share one process.

use std::collections::HashMap;
use std::str::FromStr;

/// A configuration variable that is missing or malformed, or a secret that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("could not read the secret {arn}")]
    Secret {
        arn: String,
        #[source]
        source: video2mp3_domain::PortError,
    },
    #[error("the JWT signing key is not usable")]
    Key(#[source] video2mp3_domain::AuthError),
}

/// A set of configuration variables.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment (what Lambda gives a function).
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    /// Exactly these variables.
    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self { vars }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A variable that must be set and non-empty.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name)
            .map(str::to_owned)
            .ok_or(ConfigError::Missing(name))
    }

    /// A variable that may be absent (then `default`), and must parse when present.
    pub fn parsed_or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                value: v.to_owned(),
                reason: e.to_string(),
            }),
            None => Ok(default),
        }
    }

    /// A variable that may be absent (then `default`).
    pub fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_malformed_variables_are_named() {
        let env = Env::from_map(HashMap::from([
            ("N".to_string(), "x".to_string()),
            ("E".to_string(), " ".to_string()),
        ]));
        assert!(matches!(env.required("E"), Err(ConfigError::Missing("E"))));
        assert!(matches!(
            env.required("ABSENT"),
            Err(ConfigError::Missing("ABSENT"))
        ));
        let err = env.parsed_or::<u64>("N", 1).unwrap_err();
        assert!(
            err.to_string().contains("N") && err.to_string().contains("\"x\""),
            "{err}"
        );
        assert_eq!(env.parsed_or::<u64>("ABSENT", 7).unwrap(), 7);
        assert_eq!(env.or("E", "d"), "d");
    }
}
