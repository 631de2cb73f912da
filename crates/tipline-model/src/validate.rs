//! Field-level validation errors shared by every input type.

use serde::Serialize;

/// One problem with one field of an input, e.g. `items[3].value`: `invalid ipv4 ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the input (`value`, `items[2].tlp`, `contacts[0].email`).
    pub field: String,
    /// What is wrong with it, lower case.
    pub reason: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError { field: field.into(), reason: reason.into() }
    }

    /// The same error, with its field path placed under `prefix` (`items[3]` + `value`).
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Collects field errors while an input is checked, so that every problem is reported at once.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// Record a problem.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }

    /// Check `value` is within `0..=max`.
    pub fn check_range(&mut self, field: &str, value: Option<i64>, max: i64) {
        if let Some(v) = value
            && !(0..=max).contains(&v)
        {
            self.add(field, format!("must be between 0 and {max}, got {v}"));
        }
    }

    /// Check a free-text field is at most `max` bytes and, when `required`, not blank.
    pub fn check_text(&mut self, field: &str, value: &str, max: usize, required: bool) {
        if required && value.trim().is_empty() {
            self.add(field, "must not be empty");
        } else if value.len() > max {
            self.add(field, format!("longer than {max} bytes"));
        }
    }

    /// `Ok(())` when nothing was recorded.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }
}

/// Normalize a tag: trimmed, lower-case, internal whitespace collapsed to one space.
/// Tags are at most 128 bytes and must not be empty.
pub fn normalize_tag(tag: &str) -> Result<String, String> {
    let collapsed = tag.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if collapsed.is_empty() {
        Err("tag must not be empty".into())
    } else if collapsed.len() > 128 {
        Err("tag longer than 128 bytes".into())
    } else {
        Ok(collapsed)
    }
}

/// Check an email address used as a contact or login (not an indicator): one `@`, a
/// non-empty local part and a domain with a dot, no spaces. Returns it lower-cased.
pub fn normalize_contact_email(email: &str) -> Result<String, String> {
    let trimmed = email.trim();
    match trimmed.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
                && trimmed.len() <= 254 =>
        {
            Ok(trimmed.to_lowercase())
        }
        _ => Err(format!("`{trimmed}` is not an email address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized() {
        assert_eq!(normalize_tag("  APT  28 ").unwrap(), "apt 28");
        assert_eq!(normalize_tag(" ").unwrap_err(), "tag must not be empty");
    }

    #[test]
    fn contact_emails() {
        assert_eq!(normalize_contact_email(" SOC@Example.org ").unwrap(), "soc@example.org");
        assert_eq!(
            normalize_contact_email("soc@localhost").unwrap_err(),
            "`soc@localhost` is not an email address"
        );
    }
}
