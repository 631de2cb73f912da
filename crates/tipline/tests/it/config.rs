//! Configuration through the binary: file, environment variables and their errors.

use crate::support::Tipline;

fn write_config(tipline: &Tipline, text: &str) {
    std::fs::create_dir_all(tipline.data_dir()).unwrap();
    std::fs::write(tipline.config_file(), text).unwrap();
}

#[test]
fn an_unknown_key_in_the_config_file_is_an_error_naming_key_and_file() {
    let tipline = Tipline::new();
    write_config(&tipline, "[server]\nlisten = \"127.0.0.1:9000\"\nlisen = \"127.0.0.1:9001\"\n");
    let stderr = tipline.fails(&["org", "list"]);
    assert_eq!(
        stderr,
        format!(
            "error: invalid config: server.lisen: unknown key; expected one of `listen`, \
             `max_body_bytes`, `request_timeout_secs` (from config file {})\n",
            tipline.config_file().display()
        )
    );
    // init reads the config too, and refuses rather than overwriting it.
    tipline.fails(&["init"]);
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let mut tipline = Tipline::new();
    tipline.set_env("TIPLINE_LISTEN", "localhost");
    assert_eq!(
        tipline.fails(&["serve"]),
        "error: invalid config: server.listen: invalid socket address syntax \
         (from environment variable TIPLINE_LISTEN)\n"
    );

    let mut tipline = Tipline::new();
    tipline.set_env("TIPLINE_SERVER_MAX_BODY_BYTES", "lots");
    let stderr = tipline.fails(&["org", "list"]);
    assert!(stderr.contains("server.max_body_bytes"), "{stderr}");
    assert!(stderr.contains("environment variable TIPLINE_SERVER_MAX_BODY_BYTES"), "{stderr}");

    let mut tipline = Tipline::new();
    tipline.set_env("TIPLINE_SERVER_LISTEN_ADDRESS", "127.0.0.1:1");
    let stderr = tipline.fails(&["org", "list"]);
    assert!(stderr.contains("server.listen_address: unknown key"), "{stderr}");
}

#[test]
fn invalid_toml_is_an_error_with_file_and_line() {
    let tipline = Tipline::new();
    write_config(&tipline, "[server]\nlisten = 127.0.0.1:8080\n");
    let stderr = tipline.fails(&["user", "list"]);
    let prefix = format!(
        "error: invalid config file {} at line 2, column ",
        tipline.config_file().display()
    );
    assert!(stderr.starts_with(&prefix), "{stderr}");
}

#[test]
fn environment_overrides_the_file_and_sets_the_database() {
    let mut tipline = Tipline::new();
    let file_db = tipline.data_dir().join("from-file.db");
    let env_db = tipline.data_dir().join("from-env.db");
    write_config(
        &tipline,
        &format!("[database]\nurl = \"sqlite://{}?mode=rwc\"\n", file_db.display()),
    );
    let init = tipline.json(&["init"]);
    assert!(init["database"].as_str().unwrap().contains("from-file.db"), "{init:#}");
    assert!(file_db.exists());

    tipline.set_env("TIPLINE_DATABASE_URL", &format!("sqlite://{}?mode=rwc", env_db.display()));
    let stderr = tipline.fails(&["org", "list"]);
    assert!(stderr.contains("is not initialized in database `sqlite://"), "{stderr}");
    let init = tipline.json(&["init", "--org-name", "Other"]);
    assert_eq!(init["initialized"], true);
    assert!(init["database"].as_str().unwrap().contains("from-env.db"), "{init:#}");
    assert!(!tipline.data_dir().join("tipline.db").exists());
}

#[test]
fn a_config_file_named_by_tipline_config_is_used() {
    let mut tipline = Tipline::new();
    let elsewhere = tipline.data_dir().with_file_name("elsewhere.toml");
    std::fs::write(&elsewhere, "[database]\nmax_connections = 0\n").unwrap();
    tipline.set_env("TIPLINE_CONFIG", elsewhere.to_str().unwrap());
    let stderr = tipline.fails(&["org", "list"]);
    assert_eq!(
        stderr,
        format!(
            "error: invalid config: database.max_connections: must be at least 1 (from config file {})\n",
            elsewhere.display()
        )
    );
}

#[test]
fn variables_that_are_not_config_keys_are_accepted() {
    let mut tipline = Tipline::new();
    tipline.set_env("TIPLINE_LOG", "warn");
    tipline.set_env("TIPLINE_TEST_POSTGRES_URL", "postgres://nobody@127.0.0.1:1/none");
    tipline.set_env("TIPLINE_DATA_DIR", "/nonexistent/ignored-because-of-the-flag");
    tipline.ok(&["init"]);
    tipline.ok(&["org", "list"]);
}

#[test]
fn database_passwords_do_not_appear_in_errors() {
    let mut tipline = Tipline::new();
    tipline.set_env("TIPLINE_DATABASE_URL", "mysql://tipline:hunter2@db.example/tipline");
    let stderr = tipline.fails(&["org", "list"]);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(stderr.contains("mysql://tipline:***@db.example/tipline"), "{stderr}");
    assert!(stderr.contains("(from environment variable TIPLINE_DATABASE_URL)"), "{stderr}");
}
