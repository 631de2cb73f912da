//! `tipline match` and `tipline warninglist` as a user runs them: standalone on files, and
//! against the database as the host or as a partner.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::Tipline;

fn testdata(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    root.join(name).display().to_string()
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

fn hit_values(record: &Value) -> Vec<&str> {
    record["hits"].as_array().unwrap().iter().map(|h| h["value"].as_str().unwrap()).collect()
}

#[test]
fn standalone_plain_lines_with_constituency_and_warninglists() {
    let tipline = Tipline::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("fw.log");
    std::fs::write(
        &log,
        "Mar  2 10:00:01 fw DROP SRC=1.10.16.9 DST=192.168.7.10\n\
         nothing here 203.0.113.1\n\
         Mar  2 10:00:03 fw DROP SRC=192.168.7.11 DST=1.19.200.1 via 8.8.8.8\n",
    )
    .unwrap();
    let members = dir.path().join("members.txt");
    std::fs::write(
        &members,
        "# value organization\n192.168.7.0/24 Alpha Energy\nalpha.example Alpha Energy\n",
    )
    .unwrap();
    let run = tipline.run(&[
        "match",
        log.to_str().unwrap(),
        "--indicators",
        &testdata("blocklists/spamhaus_drop-trimmed.netset"),
        "--constituency",
        members.to_str().unwrap(),
        "--warninglists",
        &testdata("warninglists"),
        "--stats",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let records = lines(&run.stdout);
    assert_eq!(records.len(), 2, "only records with hits: {}", run.stdout);
    assert_eq!(records[0]["line"], 1);
    assert_eq!(hit_values(&records[0]), ["1.10.16.0/20"]);
    let hit = &records[0]["hits"][0];
    assert_eq!(hit["observed"], "1.10.16.9");
    assert_eq!(hit["tlp"], "clear");
    assert!(hit["owner"].as_str().unwrap().ends_with("spamhaus_drop-trimmed.netset"));
    assert_eq!(records[0]["victims"][0]["org"], "Alpha Energy");
    assert_eq!(records[0]["victims"][0]["registered"], "192.168.7.0/24");
    assert_eq!(records[0]["warnings"][0]["list"], "List of RFC 1918 CIDR blocks");
    assert_eq!(records[1]["line"], 3);
    assert_eq!(hit_values(&records[1]), ["1.19.0.0/16"]);
    let warned: Vec<&str> = records[1]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["observed"].as_str().unwrap())
        .collect();
    assert!(warned.contains(&"8.8.8.8"), "{}", records[1]);
    let stats: Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(stats["lines"], 3);
    assert_eq!(stats["matched_records"], 2);
}

#[test]
fn standalone_eve_cef_and_jsonl_records() {
    let tipline = Tipline::new();
    let dir = tempfile::tempdir().unwrap();
    let indicators = dir.path().join("iocs.jsonl");
    std::fs::write(
        &indicators,
        "{\"value\": \"evil[.]example\", \"tlp\": \"amber\"}\n{\"value\": \"D41D8CD98F00B204E9800998ECF8427E\"}\n",
    )
    .unwrap();
    let drop = testdata("blocklists/spamhaus_drop-trimmed.netset");
    let base = ["--indicators", indicators.to_str().unwrap(), "--indicators", &drop];
    let run = tipline.run(
        &[&["match", "--format", "eve", &testdata("siem-alerts/own-eve.jsonl")][..], &base]
            .concat(),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let records = lines(&run.stdout);
    assert_eq!(records.len(), 2, "{}", run.stdout);
    assert_eq!(hit_values(&records[0]), ["1.10.16.0/20", "evil.example"]);
    assert_eq!(records[0]["hits"][1]["field"], "tls.sni");
    assert_eq!(records[0]["hits"][1]["tlp"], "amber");
    assert_eq!(records[1]["line"], 3);
    assert_eq!(hit_values(&records[1]), ["evil.example", "d41d8cd98f00b204e9800998ecf8427e"]);

    let run = tipline.run(
        &[&["match", "--format", "cef", "--all", &testdata("siem-alerts/own-cef.log")][..], &base]
            .concat(),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let records = lines(&run.stdout);
    assert_eq!(records.len(), 4, "--all prints every record: {}", run.stdout);
    assert_eq!(hit_values(&records[0]), ["1.10.16.0/20"]);
    assert_eq!(records[0]["hits"][0]["field"], "dst");
    assert_eq!(hit_values(&records[1]), ["evil.example", "d41d8cd98f00b204e9800998ecf8427e"]);
    assert!(hit_values(&records[2]).is_empty());
    assert_eq!(records[3]["error"], "no `CEF:` header");

    let jsonl = dir.path().join("events.jsonl");
    std::fs::write(&jsonl, "{\"a\": {\"ip\": \"1.10.16.1\"}, \"b\": \"1.19.0.1\"}\n").unwrap();
    let run = tipline.run(
        &[&["match", "--format", "jsonl", "--field", "a.ip", jsonl.to_str().unwrap()][..], &base]
            .concat(),
    );
    assert_eq!(hit_values(&lines(&run.stdout)[0]), ["1.10.16.0/20"], "only the named field");

    let bad = dir.path().join("bad.netset");
    std::fs::write(&bad, "1.2.3.4\n10.0.0.1/8\n").unwrap();
    let run =
        tipline.run(&["match", jsonl.to_str().unwrap(), "--indicators", bad.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("1 invalid line(s), nothing loaded"), "{}", run.stderr);
    let run = tipline.run(&[
        "match",
        jsonl.to_str().unwrap(),
        "--indicators",
        bad.to_str().unwrap(),
        "--lenient",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn against_the_database_with_visibility() {
    let (tipline, _) = Tipline::initialized();
    let ok = |args: &[&str]| {
        let run = tipline.run(args);
        assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
        run
    };
    ok(&["org", "add", "Alpha Energy", "--cidr", "192.168.7.0/24"]);
    ok(&["org", "add", "Beta Water"]);
    ok(&["indicator", "add", "1.10.16.0/20", "--tlp", "red", "--as-org", "Alpha Energy"]);
    ok(&["indicator", "add", "evil.example", "--tlp", "clear", "--as-org", "Beta Water"]);
    let run = ok(&["warninglist", "import", &testdata("warninglists")]);
    assert!(
        run.stdout.contains("imported 'List of RFC 1918 CIDR blocks' (cidr, 3 entries"),
        "{}",
        run.stdout
    );
    let run = ok(&["warninglist", "import", &testdata("warninglists/rfc1918/list.json")]);
    assert!(run.stdout.starts_with("replaced"), "{}", run.stdout);
    let listed = tipline.json(&["warninglist", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let log = testdata("siem-alerts/own-eve.jsonl");
    let run = ok(&["match", "--format", "eve", &log]);
    let records = lines(&run.stdout);
    assert_eq!(
        hit_values(&records[0]),
        ["evil.example"],
        "the host does not see Alpha's red indicator"
    );
    assert_eq!(records[0]["hits"][0]["owner"], "Beta Water");
    assert!(records[0]["hits"][0]["indicator_id"].is_string());
    assert_eq!(
        records[0]["victims"][0]["org"], "Alpha Energy",
        "the host knows every constituency"
    );
    assert_eq!(records[0]["warnings"][0]["list"], "List of RFC 1918 CIDR blocks");

    let run = ok(&["match", "--format", "eve", &log, "--as-org", "Alpha Energy"]);
    let records = lines(&run.stdout);
    assert_eq!(
        hit_values(&records[0]),
        ["1.10.16.0/20", "evil.example"],
        "its own red and the clear one"
    );
    assert_eq!(records[0]["hits"][0]["owner"], "Alpha Energy");
    assert_eq!(records[0]["victims"][0]["org"], "Alpha Energy");

    let run = ok(&["match", "--format", "eve", &log, "--as-org", "Beta Water"]);
    let records = lines(&run.stdout);
    assert_eq!(hit_values(&records[0]), ["evil.example"]);
    assert!(
        records[0]["victims"].as_array().unwrap().is_empty(),
        "Beta learns nothing of Alpha's space"
    );

    let run = tipline.run(&["match", &log, "--constituency", &log]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("go with --indicators"), "{}", run.stderr);
}
