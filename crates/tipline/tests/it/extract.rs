//! `tipline extract`: JSON lines from files and standard input, filters, and the import.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use crate::support::{Tipline, str_of};

const REPORT: &str = "C2: hxxp://evil[.]example[.]com/gate.php (198.51.100[.]7)\n\
    Dropper 44D88612FEA8A8F36DE82E1278ABB02F exploits CVE-2021-44228.\n\
    Also evil[.]example[.]com and invoice.pdf.\n";

fn lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn files_and_standard_input_give_json_lines() {
    let tipline = Tipline::new();
    let file = tipline.data_dir().with_file_name("report.txt");
    std::fs::write(&file, REPORT).unwrap();
    let path = file.to_str().unwrap();
    let hits = lines(&tipline.ok(&["extract", path]));
    let kinds: Vec<(&str, &str)> =
        hits.iter().map(|h| (str_of(h, "kind"), str_of(h, "value"))).collect();
    assert_eq!(
        kinds,
        [
            ("url", "http://evil.example.com/gate.php"),
            ("ipv4", "198.51.100.7"),
            ("md5", "44d88612fea8a8f36de82e1278abb02f"),
            ("cve", "CVE-2021-44228"),
            ("domain", "evil.example.com"),
        ]
    );
    assert_eq!(hits[1]["raw"], "198.51.100[.]7");
    assert_eq!((hits[1]["line"].as_u64(), hits[1]["column"].as_u64()), (Some(1), Some(43)));
    assert_eq!(hits[0]["file"], path);

    let filtered =
        lines(&tipline.ok(&["extract", "--hosts", "--unique", "--kind", "domain", path]));
    assert_eq!(filtered.len(), 1, "{filtered:?}");

    let mut child = tipline
        .command(&["extract", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"mail bob[@]evil[.]example now").unwrap();
    let output = child.wait_with_output().unwrap();
    let hits = lines(&String::from_utf8(output.stdout).unwrap());
    assert_eq!((str_of(&hits[0], "kind"), str_of(&hits[0], "file")), ("email", "-"));

    let error = tipline.fails(&["extract", "/nonexistent/report.txt"]);
    assert!(error.contains("cannot open /nonexistent/report.txt"), "{error}");
    let run = tipline.run(&["extract", path, "--import"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--report-name"), "{run:?}");
}

#[test]
fn import_creates_a_report_associated_with_everything_found() {
    let (tipline, _token) = Tipline::initialized();
    let file = tipline.data_dir().join("report.txt");
    std::fs::write(&file, REPORT).unwrap();
    let path = file.to_str().unwrap();
    let args = [
        "extract",
        path,
        "--import",
        "--report-name",
        "Operation Example",
        "--tlp",
        "green",
        "--tag",
        "apt",
    ];
    let first = tipline.json(&args);
    assert_eq!(
        first["found"],
        serde_json::json!({"cve": 1, "domain": 1, "ipv4": 1, "md5": 1, "url": 1})
    );
    assert_eq!(first["import"]["report_created"], true);
    assert_eq!(first["import"]["indicators_created"], 4);
    assert_eq!(first["import"]["vulnerabilities_created"], 1);
    assert_eq!(first["import"]["associations_created"], 5);
    assert_eq!(first["import"]["relationship"], "related-to");
    let again = tipline.json(&args);
    assert_eq!(again["import"]["report_id"], first["import"]["report_id"]);
    assert_eq!(again["import"]["indicators_updated"], 4);
    assert_eq!(again["import"]["associations_created"], 0);
    let text = tipline.ok(&args);
    assert!(text.contains("report `Operation Example` reused"), "{text}");
    let found = tipline.json(&["indicator", "search", "--tag", "apt"]);
    assert_eq!(found.as_array().unwrap().len(), 4);
    assert!(found.as_array().unwrap().iter().all(|i| i["tlp"] == "green"));
}
