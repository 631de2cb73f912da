//! [`Secret`]: an API key or token that never prints its value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A credential read from the config file, the environment or a file. `Debug`, `Display`
/// and `Serialize` all write `***`; only [`Secret::expose`] gives the value, to the code that
/// sends it upstream.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for an `Authorization` header or a `key=` parameter only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `text` contains the credential (for tests and for scrubbing upstream messages).
    pub fn appears_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(&self.0)
    }

    /// `text` with every occurrence of the credential replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() { text.to_string() } else { text.replace(&self.0, "***") }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| Secret(s.trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let secret = Secret::new("hunter2-key");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.to_string(), "***");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"***\"");
        assert_eq!(secret.expose(), "hunter2-key");
        assert_eq!(secret.scrub("url?key=hunter2-key&x=1"), "url?key=***&x=1");
        let parsed: Secret = serde_json::from_str("\" abc \"").unwrap();
        assert_eq!(parsed.expose(), "abc");
    }
}
