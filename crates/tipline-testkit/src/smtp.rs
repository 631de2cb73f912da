//! A small SMTP server for tests, speaking SMTP over TCP on 127.0.0.1: plain, with
//! STARTTLS, or implicit TLS, with a self-signed certificate for `127.0.0.1`; AUTH PLAIN
//! and LOGIN; scripted failure replies. Tests read what arrived: envelope, data, whether
//! TLS and AUTH were used.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// How clients connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// Plain TCP, STARTTLS offered.
    Starttls,
    /// Plain TCP, STARTTLS not offered (a local relay).
    Plain,
    /// TLS from the first byte.
    ImplicitTls,
}

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM` address.
    pub mail_from: String,
    /// `RCPT TO` addresses, in order.
    pub rcpt_to: Vec<String>,
    /// The message (dot-unstuffed, CRLF line endings, without the final `.`).
    pub data: Vec<u8>,
    /// Whether the session was encrypted when the message was sent.
    pub tls: bool,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
}

impl ReceivedMail {
    /// The data as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<ReceivedMail>,
    /// Replies to give at the end of DATA instead of `250`, one per message.
    scripted: VecDeque<String>,
}

/// A running SMTP server; stops when dropped.
pub struct SmtpServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its certificate (PEM), for clients to trust.
    pub cert_pem: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl SmtpServer {
    /// Start a server in `mode`; `credentials` (user, password) makes it offer AUTH and
    /// require it before `MAIL`.
    pub async fn start(mode: SmtpMode, credentials: Option<(&str, &str)>) -> SmtpServer {
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("self-signed certificate");
        let cert_pem = cert.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.cert.der().to_vec())], key)
            .expect("server TLS config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let credentials = credentials.map(|(u, p)| (u.to_string(), p.to_string()));
        let state = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let state = state.clone();
                let credentials = credentials.clone();
                tokio::spawn(async move {
                    let (stream, tls): (Box<dyn Io>, bool) = match mode {
                        SmtpMode::ImplicitTls => match acceptor.accept(socket).await {
                            Ok(s) => (Box::new(s), true),
                            Err(_) => return,
                        },
                        _ => (Box::new(socket), false),
                    };
                    let _ = session(stream, tls, mode, acceptor, state, credentials).await;
                });
            }
        });
        SmtpServer { addr, cert_pem, shared, task }
    }

    /// Answer the next message's end of DATA with `reply` (e.g. `451 4.3.0 try later`)
    /// instead of accepting it; replies queue up, one per message.
    pub fn script_reply(&self, reply: &str) {
        self.shared.lock().unwrap().scripted.push_back(reply.to_string());
    }

    /// Every accepted message so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Wait until at least `n` messages were accepted (at most 10 s), and return them.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        for _ in 0..1000 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} messages, got {}", self.received().len());
    }
}

async fn session(
    stream: Box<dyn Io>,
    mut tls: bool,
    mode: SmtpMode,
    acceptor: TlsAcceptor,
    state: Arc<Mutex<Shared>>,
    credentials: Option<(String, String)>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(b"220 127.0.0.1 tipline test SMTP\r\n").await?;
    let mut mail_from = None;
    let mut rcpt_to = Vec::new();
    let mut auth_user: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut lines = vec!["250-127.0.0.1".to_string(), "250-8BITMIME".to_string()];
            if mode == SmtpMode::Starttls && !tls {
                lines.push("250-STARTTLS".into());
            }
            if credentials.is_some() {
                lines.push("250-AUTH PLAIN LOGIN".into());
            }
            lines.push("250 SIZE 10485760".into());
            lines.join("\r\n")
        } else if upper == "STARTTLS" && mode == SmtpMode::Starttls && !tls {
            reader.get_mut().write_all(b"220 2.0.0 ready to start TLS\r\n").await?;
            let plain = reader.into_inner();
            let encrypted = acceptor.accept(plain).await?;
            reader = BufReader::new(Box::new(encrypted) as Box<dyn Io>);
            tls = true;
            mail_from = None;
            rcpt_to.clear();
            continue;
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = match command.split_whitespace().nth(2) {
                Some(e) => e.to_string(),
                None => {
                    reader.get_mut().write_all(b"334 \r\n").await?;
                    let mut response = String::new();
                    reader.read_line(&mut response).await?;
                    response.trim().to_string()
                }
            };
            let decoded =
                base64::engine::general_purpose::STANDARD.decode(encoded).unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            match (&credentials, parts.as_slice()) {
                (Some((u, p)), [_, user, password]) if user == u && password == p => {
                    auth_user = Some(user.clone());
                    "235 2.7.0 authenticated".into()
                }
                _ => "535 5.7.8 bad credentials".into(),
            }
        } else if upper.starts_with("AUTH LOGIN") {
            let mut answers = Vec::new();
            for prompt in [b"334 VXNlcm5hbWU6\r\n", b"334 UGFzc3dvcmQ6\r\n"] {
                reader.get_mut().write_all(prompt).await?;
                let mut response = String::new();
                reader.read_line(&mut response).await?;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(response.trim())
                    .unwrap_or_default();
                answers.push(String::from_utf8_lossy(&decoded).into_owned());
            }
            match &credentials {
                Some((u, p)) if answers[0] == *u && answers[1] == *p => {
                    auth_user = Some(u.clone());
                    "235 2.7.0 authenticated".into()
                }
                _ => "535 5.7.8 bad credentials".into(),
            }
        } else if upper.starts_with("MAIL FROM:") {
            if credentials.is_some() && auth_user.is_none() {
                "530 5.7.0 authentication required".into()
            } else {
                mail_from = Some(address_of(&command[10..]));
                rcpt_to.clear();
                "250 2.1.0 ok".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            rcpt_to.push(address_of(&command[8..]));
            "250 2.1.5 ok".into()
        } else if upper == "DATA" {
            reader.get_mut().write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                if reader.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                if raw == b".\r\n" || raw == b".\n" {
                    break;
                }
                let unstuffed = if raw.starts_with(b"..") { &raw[1..] } else { &raw[..] };
                data.extend_from_slice(unstuffed);
            }
            let scripted = state.lock().unwrap().scripted.pop_front();
            match scripted {
                Some(reply) => reply,
                None => {
                    state.lock().unwrap().received.push(ReceivedMail {
                        mail_from: mail_from.clone().unwrap_or_default(),
                        rcpt_to: rcpt_to.clone(),
                        data,
                        tls,
                        auth_user: auth_user.clone(),
                    });
                    "250 2.0.0 queued".into()
                }
            }
        } else if upper == "RSET" {
            mail_from = None;
            rcpt_to.clear();
            "250 2.0.0 ok".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            reader.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 command not recognized".into()
        };
        reader.get_mut().write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// `<a@b>` (with optional parameters after it) → `a@b`.
fn address_of(rest: &str) -> String {
    let rest = rest.trim();
    match (rest.find('<'), rest.find('>')) {
        (Some(start), Some(end)) if start < end => rest[start + 1..end].to_string(),
        _ => rest.split_whitespace().next().unwrap_or_default().to_string(),
    }
}
