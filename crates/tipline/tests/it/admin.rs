//! Organizations, communities, users, tokens and indicators through the CLI, with `--json`
//! output parsed and checked.

use serde_json::Value;

use crate::support::{Tipline, str_of};

fn names(list: &Value) -> Vec<&str> {
    list.as_array().expect("a JSON array").iter().map(|item| str_of(item, "name")).collect()
}

#[tokio::test]
async fn organizations_communities_users_and_tokens_round_trip() {
    let (tipline, _) = Tipline::initialized();

    let cert = tipline.json(&[
        "org",
        "add",
        "CERT-XY",
        "--sector",
        "energy",
        "--country",
        "de",
        "--contact",
        "security=SOC@cert-xy.example",
        "--cidr",
        "192.0.2.0/24",
        "--asn",
        "64500",
        "--domain",
        "cert-xy.example",
    ]);
    assert_eq!(cert["kind"], "partner");
    assert_eq!(cert["country"], "DE");
    assert_eq!(cert["contacts"][0]["email"], "soc@cert-xy.example");
    let constituency: Vec<&str> =
        cert["constituency"].as_array().unwrap().iter().map(|e| str_of(e, "value")).collect();
    assert_eq!(constituency, ["AS64500", "192.0.2.0/24", "cert-xy.example"]);
    let source = tipline.json(&["org", "add", "abuse.ch", "--kind", "source"]);
    assert_eq!(source["kind"], "source");
    let stderr = tipline.fails(&["org", "add", "cert-xy"]);
    assert!(stderr.contains("already exists"), "{stderr}");

    assert_eq!(names(&tipline.json(&["org", "list"])), ["Host", "CERT-XY", "abuse.ch"]);
    let shown = tipline.json(&["org", "show", "cert-xy"]);
    assert_eq!(shown["id"], cert["id"]);
    let text = tipline.ok(&["org", "show", str_of(&cert, "id")]);
    assert!(text.contains("security soc@cert-xy.example"), "{text}");

    let subscribed = tipline.json(&["org", "subscribe", "CERT-XY", "abuse.ch"]);
    assert_eq!(subscribed["subscriptions"], serde_json::json!([source["id"]]));
    let stderr = tipline.fails(&["org", "subscribe", "abuse.ch", "CERT-XY"]);
    assert!(stderr.contains("not a source"), "{stderr}");
    let stderr = tipline.fails(&["org", "show", "nobody"]);
    assert_eq!(stderr, "error: organization nobody not found\n");

    let community = tipline.json(&[
        "community",
        "add",
        "energy-isac",
        "--description",
        "Energy sector",
        "--member",
        "CERT-XY",
    ]);
    assert_eq!(community["members"], serde_json::json!([cert["id"]]));
    let joined = tipline.json(&["community", "join", "energy-isac", "abuse.ch"]);
    assert_eq!(joined["members"].as_array().unwrap().len(), 2);
    let communities = tipline.json(&["community", "list"]);
    assert_eq!(names(&communities), ["energy-isac"]);
    let text = tipline.ok(&["community", "list"]);
    assert!(text.contains("CERT-XY") && text.contains("abuse.ch"), "{text}");

    let user = tipline.json(&[
        "user",
        "add",
        "Ana@Cert-XY.example",
        "--org",
        "CERT-XY",
        "--role",
        "analyst",
        "--name",
        "Ana Lyst",
    ]);
    assert_eq!(user["email"], "ana@cert-xy.example");
    assert_eq!(user["role"], "analyst");
    assert_eq!(user["org_id"], cert["id"]);
    let users = tipline.json(&["user", "list"]);
    let emails: Vec<&str> = users.as_array().unwrap().iter().map(|u| str_of(u, "email")).collect();
    assert_eq!(emails, ["admin@tipline.local", "ana@cert-xy.example"]);

    let token = tipline.json(&[
        "token",
        "create",
        "ana@cert-xy.example",
        "--name",
        "siem",
        "--expires-in-days",
        "30",
    ]);
    let secret = str_of(&token, "secret").to_string();
    let prefix = str_of(&token, "prefix").to_string();
    assert!(secret.starts_with(&prefix), "{token:#}");
    assert_eq!(token["user_id"], user["id"]);
    assert!(token["expires_at"].is_string(), "{token:#}");
    assert!(tipline.authenticates(&secret).await);
    let listed = tipline.json(&["token", "list"]);
    assert!(listed.to_string().contains(&prefix));
    assert!(!listed.to_string().contains(&secret), "token list shows a secret");

    let revoked = tipline.json(&["token", "revoke", &prefix]);
    assert_eq!(revoked["id"], token["id"]);
    assert!(revoked["revoked_at"].is_string(), "{revoked:#}");
    assert!(!tipline.authenticates(&secret).await, "a revoked token still authenticates");
    let text = tipline.ok(&["token", "list"]);
    assert!(text.lines().any(|l| l.starts_with(&prefix) && l.contains("revoked")), "{text}");
    let stderr = tipline.fails(&["token", "revoke", "tpl_nothing"]);
    assert!(stderr.contains("no token has the id or prefix `tpl_nothing`"), "{stderr}");

    let second = tipline.json(&["token", "create", str_of(&user, "id")]);
    assert!(tipline.authenticates(str_of(&second, "secret")).await);
    tipline.ok(&["token", "revoke", str_of(&second, "id")]);
    assert!(!tipline.authenticates(str_of(&second, "secret")).await);
}

#[test]
fn indicators_are_added_and_searched_with_visibility() {
    let (tipline, _) = Tipline::initialized();
    tipline.ok(&["org", "add", "CERT-XY"]);
    tipline.ok(&["org", "add", "Grid-Co"]);
    tipline.ok(&["community", "add", "energy-isac", "--member", "CERT-XY", "--member", "Grid-Co"]);

    let added = tipline.json(&[
        "indicator",
        "add",
        "198.51.100.7",
        "--tlp",
        "green",
        "--confidence",
        "80",
        "--tag",
        "Botnet",
        "--share",
        "energy-isac",
    ]);
    assert_eq!(added["created"], true);
    let indicator = &added["indicator"];
    assert_eq!(indicator["kind"], "ipv4");
    assert_eq!(indicator["tlp"], "green");
    assert_eq!(indicator["confidence"], 80);
    assert_eq!(indicator["tags"], serde_json::json!(["botnet"]));

    let again = tipline.json(&["indicator", "add", "198.51.100[.]7", "--confidence", "90"]);
    assert_eq!(again["created"], false);
    assert_eq!(again["indicator"]["id"], indicator["id"]);
    assert_eq!(again["indicator"]["confidence"], 90);

    // CERT-XY's own RED indicator, granted to nobody: only CERT-XY sees it.
    let red = tipline.json(&[
        "indicator",
        "add",
        "hxxp://evil[.]example/x",
        "--tlp",
        "red",
        "--as-org",
        "CERT-XY",
    ]);
    assert_eq!(red["indicator"]["value"], "http://evil.example/x");
    let stderr = tipline.fails(&["indicator", "add", "not-an-ip", "--kind", "ipv4"]);
    assert!(stderr.contains("invalid input: value"), "{stderr}");

    let values = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["indicator", "search"];
        all.extend_from_slice(args);
        let found = tipline.json(&all);
        let mut values: Vec<String> =
            found.as_array().unwrap().iter().map(|i| str_of(i, "value").to_string()).collect();
        values.sort();
        values
    };
    assert_eq!(values(&[]), ["198.51.100.7"]);
    assert_eq!(values(&["--as-org", "CERT-XY"]), ["198.51.100.7", "http://evil.example/x"]);
    assert_eq!(values(&["--as-org", "Grid-Co"]), ["198.51.100.7"]);
    assert_eq!(values(&["--as-org", "CERT-XY", "--tlp", "red"]), ["http://evil.example/x"]);
    assert_eq!(values(&["--as-org", "CERT-XY", "--owner", "Host"]), ["198.51.100.7"]);
    assert_eq!(values(&["--tag", "botnet"]), ["198.51.100.7"]);
    assert_eq!(values(&["--value", "198.51.100[.]7"]), ["198.51.100.7"]);
    assert!(values(&["--kind", "domain"]).is_empty());

    let text = tipline.ok(&["indicator", "search", "--as-org", "CERT-XY"]);
    assert!(text.starts_with("VALUE "), "{text}");
    assert!(text.contains("CERT-XY") && text.contains("Host"), "{text}");
}

#[test]
fn search_follows_cursors_up_to_the_limit() {
    let (tipline, _) = Tipline::initialized();
    for i in 1..=5 {
        tipline.ok(&["indicator", "add", &format!("192.0.2.{i}")]);
    }
    let count = |limit: &str| {
        tipline.json(&["indicator", "search", "--limit", limit]).as_array().unwrap().len()
    };
    assert_eq!(count("3"), 3);
    assert_eq!(count("5"), 5);
    assert_eq!(count("100"), 5);
    assert_eq!(tipline.run(&["indicator", "search", "--limit", "0"]).code, Some(2));
}
