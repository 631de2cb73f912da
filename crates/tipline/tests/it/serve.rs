//! `tipline serve` as a child process: it binds, reports its address, answers `/healthz`
//! and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::Tipline;

/// Kills the server if the test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(address: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[test]
fn serve_answers_health_checks_and_stops_on_sigterm() {
    let (tipline, _) = Tipline::initialized();
    let child = tipline
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tipline serve");
    let mut server = Server(child);

    // Port 0 picks a free port; the first line of stdout says which.
    let stdout = server.0.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver.recv_timeout(Duration::from_secs(30)).expect("serve printed its address");
    assert!(line.starts_with("tipline listening on http://"), "{line}");
    assert!(line.contains("/api/v1/openapi.json") && line.contains("/healthz"), "{line}");
    let address: SocketAddr = line["tipline listening on http://".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .expect("an address");
    assert_ne!(address.port(), 0);

    let response = get(address, "/healthz").expect("GET /healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let pid = server.0.id().to_string();
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "serve exited with {status} after SIGTERM");
}

#[test]
fn serve_reports_an_address_it_cannot_bind() {
    let (tipline, _) = Tipline::initialized();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let stderr = tipline.fails(&["serve", "--listen", &address]);
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {address}\n  caused by: ")),
        "{stderr}"
    );
}
