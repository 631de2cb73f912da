//! `tipline init`: first run creates everything and shows the token once; later runs change
//! nothing; other commands refuse to run before it.

use crate::support::{Tipline, str_of};

#[tokio::test]
async fn init_twice_shows_the_token_once_and_keeps_the_data() {
    let tipline = Tipline::new();
    let first = tipline.ok(&["init"]);
    let token = first
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("tpl_"))
        .unwrap_or_else(|| panic!("no token in:\n{first}"))
        .to_string();
    assert!(first.contains("shown only now"), "{first}");
    assert!(first.contains("tipline serve"), "{first}");
    assert!(first.contains(&tipline.data_dir().display().to_string()), "{first}");
    assert!(first.contains("admin@tipline.local"), "{first}");

    tipline.ok(&["org", "add", "CERT-XY"]);
    std::fs::write(
        tipline.config_file(),
        std::fs::read_to_string(tipline.config_file()).unwrap() + "# edited by hand\n",
    )
    .unwrap();

    let second = tipline.run(&["init"]);
    assert_eq!(second.code, Some(0), "{second:#?}");
    assert!(second.stdout.contains("already initialized"), "{second:#?}");
    assert!(!second.stdout.contains("tpl_"), "a second init printed a token: {second:#?}");
    assert!(
        std::fs::read_to_string(tipline.config_file()).unwrap().ends_with("# edited by hand\n")
    );

    let orgs = tipline.json(&["org", "list"]);
    let names: Vec<&str> = orgs.as_array().unwrap().iter().map(|o| str_of(o, "name")).collect();
    assert_eq!(names, ["Host", "CERT-XY"]);
    assert!(tipline.authenticates(&token).await, "the first token stopped working");
}

#[test]
fn init_json_reports_what_it_created() {
    let tipline = Tipline::new();
    let first =
        tipline.json(&["init", "--org-name", "CERT-Host", "--admin-email", "Boss@Cert.Example"]);
    assert_eq!(first["initialized"], true);
    assert!(str_of(&first, "token").starts_with("tpl_"), "{first:#}");
    assert_eq!(str_of(&first, "data_dir"), tipline.data_dir().display().to_string());
    assert_eq!(str_of(&first, "config"), tipline.config_file().display().to_string());
    assert!(str_of(&first, "database").contains("tipline.db"), "{first:#}");
    assert_eq!(first["organization"]["name"], "CERT-Host");
    assert_eq!(first["organization"]["kind"], "host");
    assert_eq!(first["admin"]["email"], "boss@cert.example");
    assert_eq!(first["admin"]["role"], "admin");

    let second = tipline.json(&["init"]);
    assert_eq!(second["initialized"], false);
    assert!(second.get("token").is_none(), "{second:#}");
    assert_eq!(second["organization"]["id"], first["organization"]["id"]);
}

#[cfg(unix)]
#[test]
fn init_creates_a_private_data_directory_and_config_file() {
    let tipline = Tipline::new();
    tipline.ok(&["init"]);
    assert_eq!(crate::support::mode(&tipline.data_dir()), 0o700);
    assert_eq!(crate::support::mode(&tipline.config_file()), 0o600);
    let config = std::fs::read_to_string(tipline.config_file()).unwrap();
    assert!(config.contains("# listen = \"127.0.0.1:8080\""), "{config}");
}

#[test]
fn init_rejects_a_bad_admin_email() {
    let tipline = Tipline::new();
    let stderr = tipline.fails(&["init", "--admin-email", "nobody"]);
    assert!(stderr.contains("admin_email"), "{stderr}");
    assert!(stderr.contains("`nobody` is not an email address"), "{stderr}");
    // Nothing half-made: a proper init still works.
    assert_eq!(Tipline::json(&tipline, &["init"])["initialized"], true);
}

#[test]
fn commands_before_init_say_to_run_init() {
    let tipline = Tipline::new();
    let expected = format!(
        "error: tipline is not initialized in {}; run `tipline init` first\n",
        tipline.data_dir().display()
    );
    for args in [
        &["org", "list"][..],
        &["serve", "--listen", "127.0.0.1:0"],
        &["token", "list"],
        &["user", "add", "a@b.example", "--org", "Host"],
        &["indicator", "search"],
        &["community", "list"],
    ] {
        assert_eq!(tipline.fails(args), expected, "{args:?}");
    }
    assert!(!tipline.data_dir().exists(), "a command other than init created the data directory");
}
