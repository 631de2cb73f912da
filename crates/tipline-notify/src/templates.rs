//! Email templates: minijinja, sandboxed (no file or environment access, bounded work),
//! strict about undefined variables, HTML autoescaped.
//!
//! A template `NAME` is three files: `NAME.subject.j2` (one line), `NAME.txt.j2` (the
//! plain-text part) and `NAME.html.j2` (the HTML part, optional). The templates tipline
//! ships live in the repository's `templates/email/` and are compiled in; files in the
//! configured `notify.templates_dir` add templates or replace shipped ones by file name.

use std::collections::BTreeSet;
use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::NotifyError;

/// The shipped templates, one line per file, alphabetical.
const SHIPPED: &[(&str, &str)] = &[
    ("alert-triage.html.j2", include_str!("../../../templates/email/alert-triage.html.j2")),
    ("alert-triage.subject.j2", include_str!("../../../templates/email/alert-triage.subject.j2")),
    ("alert-triage.txt.j2", include_str!("../../../templates/email/alert-triage.txt.j2")),
    ("digest.html.j2", include_str!("../../../templates/email/digest.html.j2")),
    ("digest.subject.j2", include_str!("../../../templates/email/digest.subject.j2")),
    ("digest.txt.j2", include_str!("../../../templates/email/digest.txt.j2")),
    ("listing.html.j2", include_str!("../../../templates/email/listing.html.j2")),
    ("listing.subject.j2", include_str!("../../../templates/email/listing.subject.j2")),
    ("listing.txt.j2", include_str!("../../../templates/email/listing.txt.j2")),
    ("test.html.j2", include_str!("../../../templates/email/test.html.j2")),
    ("test.subject.j2", include_str!("../../../templates/email/test.subject.j2")),
    ("test.txt.j2", include_str!("../../../templates/email/test.txt.j2")),
];

/// Most template instructions one rendering may execute (bounds loops over large input).
const FUEL: u64 = 200_000;

/// A rendered email before it becomes MIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The subject line as rendered (not yet sanitized).
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part, if the template has one.
    pub html: Option<String>,
}

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
    files: BTreeSet<String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").field("files", &self.files).finish()
    }
}

impl Templates {
    /// The shipped templates plus those of `override_dir` (its `*.j2` files), each parsed
    /// now so a syntax error is reported at startup with its file and line.
    pub fn load(override_dir: Option<&Path>) -> Result<Templates, NotifyError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html.j2") { AutoEscape::Html } else { AutoEscape::None }
        });
        let mut files = BTreeSet::new();
        for (name, source) in SHIPPED {
            env.add_template(name, source).map_err(|e| template_error(name, &e))?;
            files.insert(name.to_string());
        }
        if let Some(dir) = override_dir {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                NotifyError::Config(format!(
                    "cannot read templates directory {}: {e}",
                    dir.display()
                ))
            })?;
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string)
                else {
                    continue;
                };
                if !name.ends_with(".j2") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).map_err(|e| {
                    NotifyError::Config(format!("cannot read template {}: {e}", path.display()))
                })?;
                env.add_template_owned(name.clone(), source)
                    .map_err(|e| template_error(&path.display().to_string(), &e))?;
                files.insert(name);
            }
        }
        Ok(Templates { env, files })
    }

    /// Names of the complete templates (those with a subject and a text file).
    pub fn names(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|f| f.strip_suffix(".subject.j2"))
            .filter(|n| self.files.contains(&format!("{n}.txt.j2")))
            .map(str::to_string)
            .collect()
    }

    /// Whether template `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.names().iter().any(|n| n == name)
    }

    /// Render template `name` with `vars`.
    pub fn render(
        &self,
        name: &str,
        vars: &serde_json::Value,
    ) -> Result<RenderedEmail, NotifyError> {
        if !self.has(name) {
            return Err(NotifyError::Template(format!(
                "unknown template `{name}`; available: {}",
                self.names().join(", ")
            )));
        }
        let context = Value::from(minijinja::value::Serde(vars));
        let render = |file: &str| -> Result<String, NotifyError> {
            let template = self.env.get_template(file).map_err(|e| template_error(file, &e))?;
            template.render(context.clone()).map_err(|e| template_error(file, &e))
        };
        let html_file = format!("{name}.html.j2");
        Ok(RenderedEmail {
            subject: render(&format!("{name}.subject.j2"))?,
            text: render(&format!("{name}.txt.j2"))?,
            html: if self.files.contains(&html_file) { Some(render(&html_file)?) } else { None },
        })
    }
}

fn template_error(file: &str, e: &minijinja::Error) -> NotifyError {
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
    NotifyError::Template(format!("{file}{line}: {}{detail}", e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> serde_json::Value {
        serde_json::json!({
            "ticket": "TIPLINE-2026-000001",
            "org": { "id": "x", "name": "Alpha <Energy>" },
            "classification": "phishing",
            "taxonomy": "fraud",
            "severity": "high",
            "tlp": "amber",
            "subject_ref": "http://evil.example/<script>",
            "reason": "case.new",
            "created_at": "2026-03-11T09:30:00Z",
            "signature": "CERT-XY",
            "from": "cert@cert.example",
            "data": { "summary": "<b>bold</b>" },
        })
    }

    #[test]
    fn html_is_escaped_text_is_not() {
        let templates = Templates::load(None).unwrap();
        for name in templates.names() {
            if name == "digest" {
                continue;
            }
            let out = templates.render(&name, &vars()).unwrap();
            let html = out.html.unwrap();
            assert!(!html.contains("<script>"), "{name}: {html}");
            assert!(html.contains("&lt;script&gt;") || !html.contains("evil"), "{name}: {html}");
            assert!(out.text.contains("http://evil.example/<script>") || name == "test", "{name}");
        }
    }

    #[test]
    fn unknown_templates_and_variables_are_errors() {
        let templates = Templates::load(None).unwrap();
        let err = templates.render("nope", &vars()).unwrap_err().to_string();
        assert!(
            err.starts_with("template error: unknown template `nope`; available: alert-triage"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.subject.j2"), "{{ tikcet }}").unwrap();
        std::fs::write(dir.path().join("x.txt.j2"), "body").unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let err = templates.render("x", &vars()).unwrap_err().to_string();
        assert_eq!(err, "template error: x.subject.j2:1: undefined value: `tikcet` is undefined");
        std::fs::write(dir.path().join("bad.txt.j2"), "{% for %}").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("bad.txt.j2:1: syntax error"), "{err}");
    }

    #[test]
    fn loops_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("loop.subject.j2"), "s").unwrap();
        std::fs::write(
            dir.path().join("loop.txt.j2"),
            "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
        )
        .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let err = templates.render("loop", &vars()).unwrap_err().to_string();
        assert!(err.contains("out of fuel"), "{err}");
    }
}
