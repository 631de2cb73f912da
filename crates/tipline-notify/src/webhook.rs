//! Webhook notifications: a JSON POST signed with HMAC-SHA256.
//!
//! The scheme (also in `docs/notifications.md`):
//!
//! - Each endpoint has its own key: `key = hex(HMAC-SHA256(notify.webhook_secret, "tipline-webhook-v1:" + url))`,
//!   64 lower-case hex characters, printed by `tipline notify webhook-key URL` for the
//!   receiver. The receiver uses those 64 ASCII characters as its HMAC key.
//! - Each attempt sends `X-Tipline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`,
//!   where `<body>` is the exact request body. Receivers recompute it, compare in constant
//!   time, and reject a `t` older than a few minutes (replays).
//! - `X-Tipline-Delivery` is the notification id (stable across retries: deduplicate on
//!   it), `X-Tipline-Event` the notification's reason, `X-Tipline-Ticket` its ticket.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::outbound::{OutboundClient, OutboundError};
use crate::smtp::SendFailure;

type HmacSha256 = Hmac<Sha256>;

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// The signing key of the endpoint `url` under the master secret.
pub fn endpoint_key(master_secret: &str, url: &str) -> String {
    hmac_hex(master_secret.as_bytes(), format!("tipline-webhook-v1:{url}").as_bytes())
}

/// The `X-Tipline-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn signature_header(endpoint_key: &str, timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!("t={timestamp},v1={}", hmac_hex(endpoint_key.as_bytes(), &message))
}

/// Whether `header` is a valid signature of `body` under `endpoint_key` made within
/// `tolerance_secs` of `now` (what a receiver does; used by tests and documentation).
pub fn verify(
    endpoint_key: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s.to_string()),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    if (now - t).abs() > tolerance_secs {
        return false;
    }
    let expected = signature_header(endpoint_key, t, body);
    let expected = expected.rsplit_once("v1=").map(|(_, s)| s).unwrap_or_default();
    signatures.iter().any(|s| {
        s.len() == expected.len()
            && s.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// What one webhook delivery needs.
#[derive(Debug)]
pub struct WebhookDelivery<'a> {
    /// Target.
    pub url: &'a str,
    /// The JSON body.
    pub body: &'a [u8],
    /// The endpoint's key.
    pub key: &'a str,
    /// Notification id.
    pub id: uuid::Uuid,
    /// Reason (event name).
    pub reason: &'a str,
    /// Ticket.
    pub ticket: &'a str,
    /// Unix seconds of this attempt.
    pub timestamp: i64,
}

/// POST one webhook. 2xx is success; 408, 429 and 5xx are retried; other 4xx and refused
/// (internal, malformed) targets are permanent.
pub async fn deliver(
    client: &OutboundClient,
    d: &WebhookDelivery<'_>,
) -> Result<String, SendFailure> {
    let headers = [
        ("x-tipline-signature", signature_header(d.key, d.timestamp, d.body)),
        ("x-tipline-delivery", d.id.to_string()),
        ("x-tipline-event", crate::header::sanitize(d.reason, 200)),
        ("x-tipline-ticket", crate::header::sanitize(d.ticket, 100)),
    ];
    match client.post_json(d.url, &headers, d.body).await {
        Ok(response) if response.status.is_success() => {
            Ok(format!("http {}", response.status.as_u16()))
        }
        Ok(response) => {
            let snippet: String = response.body.chars().take(200).collect();
            let text =
                format!("webhook {}: http {} {}", d.url, response.status.as_u16(), snippet.trim());
            let code = response.status.as_u16();
            if code == 408 || code == 429 || response.status.is_server_error() {
                Err(SendFailure::Retryable(text))
            } else {
                Err(SendFailure::Permanent(text))
            }
        }
        Err(e @ (OutboundError::Internal(_) | OutboundError::BadUrl(_))) => {
            Err(SendFailure::Permanent(format!("webhook {}: {e}", d.url)))
        }
        Err(e) => Err(SendFailure::Retryable(format!("webhook {}: {e}", d.url))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_expire() {
        let key = endpoint_key("master", "https://hooks.example.org/tipline");
        assert_eq!(key.len(), 64);
        assert_ne!(key, endpoint_key("master", "https://hooks.example.org/other"));
        let header = signature_header(&key, 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify(&key, &header, b"{\"a\":1}", 1_700_000_100, 300));
        assert!(!verify(&key, &header, b"{\"a\":2}", 1_700_000_100, 300));
        assert!(!verify(&key, &header, b"{\"a\":1}", 1_700_001_000, 300));
        assert!(!verify("other", &header, b"{\"a\":1}", 1_700_000_100, 300));
        // A known vector, so the documented scheme can be checked independently:
        // HMAC-SHA256(key = "k", message = "1.{}").
        assert_eq!(signature_header("k", 1, b"{}"), format!("t=1,v1={}", hmac_hex(b"k", b"1.{}")));
    }
}
