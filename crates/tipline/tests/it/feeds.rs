//! `tipline feed` and `tipline import` as a user runs them: feeds pulled from a local HTTP
//! server and from files, feeds of the configuration file, MISP files, and the scheduler
//! inside `tipline serve`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use serde_json::Value;

use crate::support::Tipline;

/// A list served over HTTP from a thread of its own; `set` changes it, `status` breaks it.
struct ListServer {
    address: SocketAddr,
    state: Arc<Mutex<(String, StatusCode)>>,
    _runtime: tokio::runtime::Runtime,
}

impl ListServer {
    fn start(body: &str) -> ListServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(Mutex::new((body.to_string(), StatusCode::OK)));
        let shared = state.clone();
        let address = runtime.block_on(async move {
            let router = Router::new().fallback(move || {
                let state = shared.clone();
                async move {
                    let (body, status) = state.lock().unwrap().clone();
                    (status, body)
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            address
        });
        ListServer { address, state, _runtime: runtime }
    }

    fn set(&self, body: &str, status: StatusCode) {
        *self.state.lock().unwrap() = (body.to_string(), status);
    }

    fn url(&self) -> String {
        format!("http://{}/drop.txt", self.address)
    }
}

fn configure(tipline: &Tipline, text: &str) {
    std::fs::write(tipline.config_file(), text).unwrap();
}

fn testdata(path: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
        .display()
        .to_string()
}

const V1: &str = "192.0.2.0/25 ; SBL1\n198.51.100.0/24 ; SBL2\n203.0.113.7\n";
const V2: &str = "198.51.100.0/24 ; SBL2\n203.0.113.7\n2001:db8:bad::/48 ; SBL4\n";

#[test]
fn feeds_pull_from_a_local_server_and_keep_their_history() {
    let (tipline, _) = Tipline::initialized();
    let server = ListServer::start(V1);
    let url = server.url();
    tipline.ok(&[
        "feed", "add", "drop", "--url", &url, "--format", "spamhaus", "--source", "Spamhaus",
        "--tlp", "clear",
    ]);

    // Internal addresses are refused until the configuration allows them.
    let run = tipline.run(&["feed", "pull", "drop"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.ends_with("error: pull failed: drop (previous listings kept)\n"),
        "{run:#?}"
    );
    let status = tipline.json(&["feed", "show", "drop"]);
    let error = status["feed"]["status"]["last_error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!(
            "refused to connect to `{url}`: 127.0.0.1 is an internal address"
        )),
        "{error}"
    );

    configure(&tipline, "[outbound]\nallow_private_addresses = true\n");
    let stdout = tipline.ok(&["feed", "pull", "drop"]);
    assert_eq!(stdout, "drop: 3 entries, 3 added, 0 removed, 0 unchanged, 0 rejected\n");
    server.set(V2, StatusCode::OK);
    let stdout = tipline.ok(&["feed", "pull", "drop"]);
    assert_eq!(stdout, "drop: 3 entries, 1 added, 1 removed, 2 unchanged, 0 rejected\n");

    // A broken server changes nothing.
    server.set("", StatusCode::INTERNAL_SERVER_ERROR);
    let run = tipline.run(&["feed", "pull", "drop"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.starts_with(&format!(
            "drop: failed: http 500 Internal Server Error from {url}; retry at "
        )),
        "{run:#?}"
    );
    let current = tipline.json(&["feed", "listings", "drop"]);
    assert_eq!(current.as_array().unwrap().len(), 3);
    let history = tipline.json(&["feed", "listings", "drop", "--history"]);
    let delisted: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| !l["delisted_at"].is_null())
        .map(|l| l["value"].as_str().unwrap())
        .collect();
    assert_eq!(delisted, ["192.0.2.0/25"]);

    let feeds = tipline.json(&["feed", "list"]);
    let feed = &feeds[0];
    assert_eq!((feed["name"].as_str(), feed["status"]["listed"].as_i64()), (Some("drop"), Some(3)));
    assert_eq!(feed["status"]["consecutive_failures"], 1);
    assert_eq!(feed["status"]["last_pull_status"], "failed");
    let table = tipline.ok(&["feed", "list"]);
    assert!(table.starts_with("NAME  FORMAT    SOURCE    LISTED  LAST PULL"), "{table}");
    assert!(table.contains("http 500 Internal Server Error"), "{table}");

    let stdout = tipline.ok(&["feed", "remove", "drop"]);
    assert!(stdout.starts_with("removed feed drop ("), "{stdout}");
    assert_eq!(tipline.ok(&["feed", "list"]), "no feeds\n");
}

#[test]
fn configuration_feeds_are_brought_in_and_stay_in_the_file() {
    let (tipline, _) = Tipline::initialized();
    configure(
        &tipline,
        &format!(
            "[[feeds]]\nname = \"drop-file\"\npath = \"{}\"\nformat = \"spamhaus\"\nsource = \"Spamhaus\"\n\n\
             [[feeds]]\nname = \"phishing\"\npath = \"{}\"\nformat = \"csv\"\ntags = [\"phishing\"]\n\
             [feeds.csv]\nvalue_column = \"url\"\nreference_column = \"id\"\n",
            testdata("feeds/spamhaus-drop-synthetic.txt"),
            testdata("feeds/phishing-synthetic.csv"),
        ),
    );
    let feeds = tipline.json(&["feed", "list"]);
    let names: Vec<(&str, &str)> = feeds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["origin"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("drop-file", "config"), ("phishing", "config")]);
    let stdout = tipline.ok(&["feed", "pull", "--all"]);
    assert_eq!(
        stdout,
        "drop-file: 4 entries, 4 added, 0 removed, 0 unchanged, 0 rejected\n\
         phishing: 3 entries, 3 added, 0 removed, 0 unchanged, 0 rejected\n"
    );
    assert_eq!(
        tipline.ok(&["feed", "pull", "drop-file"]),
        "drop-file: not modified; 4 entries still listed\n"
    );
    let stderr = tipline.fails(&["feed", "remove", "phishing"]);
    assert_eq!(
        stderr,
        "error: conflict: feed `phishing` is defined in the configuration file; remove it there\n"
    );
    let bad = tipline.run(&["feed", "add", "x", "--path", "/x", "--format", "xml"]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains(
            "unknown feed format `xml`; expected one of: csv, misp-feed, netset, plain, spamhaus"
        ),
        "{bad:#?}"
    );
}

#[test]
fn misp_files_import_strictly_or_leniently() {
    let (tipline, _) = Tipline::initialized();
    let file = testdata("misp/circl-fallchill-trimmed.json");
    let stdout = tipline.ok(&["import", &file, "--format", "misp", "--tag", "lazarus"]);
    let first_lines: Vec<&str> = stdout.lines().take(4).collect();
    assert_eq!(
        first_lines,
        [
            format!("imported {file}: 1 event, 0 unchanged").as_str(),
            "  indicators: ipv4 11 new, 0 existing; md5 14 new, 0 existing; sha1 2 new, 0 existing; sha256 2 new, 0 existing",
            "  groups: adversary 1 new, 0 existing; malware 1 new, 0 existing; report 1 new, 0 existing",
            "  associations: 89 new",
        ]
    );
    let again = tipline.json(&["import", &file, "--format", "misp"]);
    assert_eq!(again[0]["report"]["unchanged"], 1);
    let tagged = tipline.json(&["indicator", "search", "--tag", "lazarus"]);
    assert_eq!(tagged.as_array().unwrap().len(), 29);

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        r#"{"Event": {"uuid": "11111111-2222-3333-4444-555555555555", "timestamp": "1",
            "Attribute": [{"type": "domain", "value": "ok.example"}, {"type": "ip-src", "value": "192.0.2.256"}]}}"#,
    )
    .unwrap();
    let broken = broken.display().to_string();
    let run = tipline.run(&["import", &broken, "--format", "misp"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!("error: nothing imported from {broken} (use --lenient to import the valid part)\n")
    );
    assert!(run.stdout.contains("event 11111111-2222-3333-4444-555555555555: Attribute[1] (ip-src `192.0.2.256`): invalid indicator"), "{run:#?}");
    assert!(
        tipline
            .json(&["indicator", "search", "--value", "ok.example"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let stdout = tipline.ok(&["import", &broken, "--format", "misp", "--lenient"]);
    assert!(stdout.contains("  indicators: domain 1 new, 0 existing"), "{stdout}");
    assert!(stdout.contains("  1 problem:"), "{stdout}");

    // A MISP feed directory: each event file on its own.
    tipline.ok(&["org", "add", "CrowdSec", "--kind", "source"]);
    let reports = tipline.json(&[
        "import",
        &testdata("misp/crowdsec-feed"),
        "--format",
        "misp",
        "--owner",
        "CrowdSec",
        "--tlp",
        "green",
    ]);
    assert_eq!(reports.as_array().unwrap().len(), 3);
    let bad_format = tipline.run(&["import", &file, "--format", "stix9"]);
    assert_eq!(bad_format.code, Some(2));
}

#[test]
fn serve_pulls_due_feeds() {
    let (tipline, _) = Tipline::initialized();
    configure(
        &tipline,
        &format!(
            "[scheduler]\npoll_secs = 1\n\n[[feeds]]\nname = \"drop-file\"\npath = \"{}\"\nformat = \"spamhaus\"\n",
            testdata("feeds/spamhaus-drop-synthetic.txt")
        ),
    );
    let mut child = tipline
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tipline serve");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.starts_with("tipline listening on"), "{line}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut feed = Value::Null;
    while Instant::now() < deadline {
        feed = tipline.json(&["feed", "show", "drop-file"])["feed"].clone();
        if feed["status"]["listed"] == 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(feed["status"]["listed"], 4, "{feed:#}");
    assert_eq!(feed["status"]["last_pull_status"], "ok");
}
