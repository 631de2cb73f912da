//! A small HTTP/1.1 server for tests that records every request it receives and answers
//! with scripted statuses (default `200`): the receiving end of webhooks.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as received.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    requests: Vec<ReceivedRequest>,
    statuses: VecDeque<u16>,
}

/// A running HTTP sink; stops when dropped.
pub struct HttpSink {
    /// Its address.
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSink").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HttpSink {
    /// Listen on 127.0.0.1 with a free port.
    pub async fn start() -> HttpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind http sink");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        HttpSink { addr, shared, task }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Answer the next request with `status` (queued, one per request).
    pub fn script_status(&self, status: u16) {
        self.shared.lock().unwrap().statuses.push_back(status);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.lock().unwrap().requests.clone()
    }

    /// Wait until at least `n` requests arrived (at most 10 s).
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedRequest> {
        for _ in 0..1000 {
            let requests = self.requests();
            if requests.len() >= n {
                return requests;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} requests, got {}", self.requests().len());
    }
}

async fn serve(socket: tokio::net::TcpStream, state: Arc<Mutex<Shared>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(socket);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let status = {
            let mut shared = state.lock().unwrap();
            shared.requests.push(ReceivedRequest { method, path, headers, body });
            shared.statuses.pop_front().unwrap_or(200)
        };
        let response = format!(
            "HTTP/1.1 {status} Status\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
        );
        reader.get_mut().write_all(response.as_bytes()).await?;
    }
}
