//! The SMTP transport (lettre, rustls with ring): STARTTLS, implicit TLS or plain for a
//! local relay, optional AUTH, and the classification of failures into retry or give up.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::{NotifyError, Secret};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network (port 25).
    None,
}

impl SmtpTls {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }

    /// The usual port of this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// Where and how to send mail.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Server host name (also the name its certificate must carry).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Connection protection.
    pub tls: SmtpTls,
    /// AUTH user name, if the server wants one.
    pub username: Option<String>,
    /// AUTH password.
    pub password: Option<Secret>,
    /// Extra trusted root certificates (PEM), e.g. a private CA, besides the public roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Timeout of each SMTP command.
    pub timeout: Duration,
    /// The name this host gives in EHLO.
    pub hello_name: Option<String>,
}

/// A connection factory for one SMTP server.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender").field("server", &self.server).finish()
    }
}

/// How a send ended, when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Worth trying again later (4xx replies, connection and TLS problems, timeouts).
    Retryable(String),
    /// The server refused for good (5xx replies).
    Permanent(String),
}

impl SmtpSender {
    /// Build the transport (no connection is made yet).
    pub fn new(settings: &SmtpSettings) -> Result<SmtpSender, NotifyError> {
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(settings.host.clone());
                if let Some(pem) = &settings.ca_pem {
                    let certificate = Certificate::from_pem(pem).map_err(|e| {
                        NotifyError::Config(format!("smtp.ca_file: not a PEM certificate: {e}"))
                    })?;
                    params = params.add_root_certificate(certificate);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| NotifyError::Config(format!("smtp: cannot set up TLS: {e}")))?;
                if mode == SmtpTls::Tls { Tls::Wrapper(params) } else { Tls::Required(params) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let Some(name) = &settings.hello_name {
            builder = builder
                .hello_name(lettre::transport::smtp::extension::ClientId::Domain(name.clone()));
        }
        if let Some(user) = &settings.username {
            let password =
                settings.password.as_ref().map(|p| p.expose().to_string()).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            server: format!("{}:{} ({})", settings.host, settings.port, settings.tls.as_str()),
        })
    }

    /// The server, for messages: `host:port (mode)`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Send `message` (RFC 5322 bytes) from `from` to `to`; the server's reply on success.
    pub async fn send(
        &self,
        from: &str,
        to: &[String],
        message: &[u8],
    ) -> Result<String, SendFailure> {
        let parse = |a: &str| {
            a.parse().map_err(|e| SendFailure::Permanent(format!("bad address `{a}`: {e}")))
        };
        let from = parse(from)?;
        let to = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(Some(from), to)
            .map_err(|e| SendFailure::Permanent(format!("bad envelope: {e}")))?;
        match self.transport.send_raw(&envelope, message).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => {
                let mut text = format!("smtp {}: {e}", self.server);
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    text.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                if e.is_permanent() {
                    Err(SendFailure::Permanent(text))
                } else {
                    Err(SendFailure::Retryable(text))
                }
            }
        }
    }
}
