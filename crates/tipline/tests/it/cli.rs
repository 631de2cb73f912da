//! The command line itself: help and usage errors.

use crate::support::Tipline;

#[test]
fn help_lists_every_command() {
    let help = Tipline::new().ok(&["--help"]);
    for command in
        ["init", "serve", "org", "community", "user", "token", "indicator", "feed", "import"]
    {
        assert!(help.contains(&format!("\n  {command} ")), "`{command}` missing from:\n{help}");
    }
    assert!(help.contains("Examples:"), "{help}");
}

#[test]
fn subcommand_help_shows_examples() {
    let tipline = Tipline::new();
    for command in [&["init"][..], &["org", "add"], &["token", "revoke"], &["indicator", "search"]]
    {
        let mut args = command.to_vec();
        args.push("--help");
        let help = tipline.ok(&args);
        assert!(help.contains("Examples:"), "{command:?}:\n{help}");
    }
}

#[test]
fn usage_errors_exit_with_status_2() {
    let tipline = Tipline::new();
    let run = tipline.run(&["org", "add"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    let run = tipline.run(&["indicator", "add", "x", "--tlp", "purple"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("unknown tlp `purple`"), "{run:#?}");
}
