//! Running the real `tipline` binary against a fresh data directory, with an environment
//! holding nothing of the developer's: no `TIPLINE_*` variable leaks in unless a test sets it.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use tipline_store::{Store, StoreOptions, sqlite_url};

/// A fresh installation directory and a way to run `tipline` on it.
pub struct Tipline {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }
}

impl Tipline {
    /// A new, empty, uninitialized installation.
    pub fn new() -> Tipline {
        Tipline { dir: tempfile::tempdir().expect("temporary directory"), env: Vec::new() }
    }

    /// A new installation on which `tipline init` ran; returns it and the admin's token.
    pub fn initialized() -> (Tipline, String) {
        let tipline = Tipline::new();
        let init = tipline.json(&["init"]);
        let token = init["token"].as_str().expect("token in init output").to_string();
        (tipline, token)
    }

    /// Set an environment variable for every following run.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.into(), value.into()));
    }

    /// The data directory passed as `--data-dir`.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The config file in the data directory.
    pub fn config_file(&self) -> PathBuf {
        self.data_dir().join("tipline.toml")
    }

    /// `tipline --data-dir <dir> <args>`, ready to run, in a clean environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tipline"));
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path())
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Run `tipline <args>` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("run tipline").into()
    }

    /// Run `tipline <args>`, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, Some(0), "tipline {args:?} failed: {run:#?}");
        run.stdout
    }

    /// Run `tipline --json <args>`, which must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let stdout = self.ok(&all);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("tipline {all:?} printed no JSON ({e}): {stdout}"))
    }

    /// Run `tipline <args>`, which must fail with status 1; its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, Some(1), "tipline {args:?} should fail with status 1: {run:#?}");
        assert!(run.stderr.starts_with("error: "), "{run:#?}");
        run.stderr
    }

    /// Open the installation's database directly.
    pub async fn store(&self) -> Store {
        let url = sqlite_url(&self.data_dir().join("tipline.db"));
        Store::open(&StoreOptions::new(url)).await.expect("open the database")
    }

    /// Whether `token` authenticates against the installation's database.
    pub async fn authenticates(&self, token: &str) -> bool {
        let store = self.store().await;
        let principal = store.authenticate(token).await.expect("authenticate");
        store.close().await;
        principal.is_some()
    }
}

/// The file's Unix permission bits.
#[cfg(unix)]
pub fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// `value[key]` as a string.
pub fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("no string `{key}` in {value:#}"))
}
