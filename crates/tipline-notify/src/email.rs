//! Composing the MIME message of an email notification: headers from sanitized values,
//! `multipart/alternative` text and HTML parts, and, with a signing key, the PGP/MIME
//! `multipart/signed` wrapper of RFC 3156.

use lettre::Message;
use lettre::message::header::{ContentType, MessageId};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::header::{sanitize, subject_with_ticket};
use crate::signing::{MICALG, Signer};
use crate::templates::RenderedEmail;
use crate::{NotifyError, SenderSettings};

/// Everything one message needs.
#[derive(Debug)]
pub struct Composition<'a> {
    /// Who it comes from (and replies go to).
    pub sender: &'a SenderSettings,
    /// The recipient organization's name (display name of the `To` addresses).
    pub org_name: &'a str,
    /// Email addresses.
    pub recipients: &'a [String],
    /// The ticket reference for the subject.
    pub ticket: &'a str,
    /// The notification id, for the `Message-ID`.
    pub id: uuid::Uuid,
    /// The rendered template.
    pub rendered: &'a RenderedEmail,
    /// When it was composed.
    pub date: std::time::SystemTime,
}

/// The subject line as sent.
pub fn subject(ticket: &str, rendered: &RenderedEmail) -> String {
    subject_with_ticket(ticket, &rendered.subject)
}

/// The text and HTML bodies with the configured signature appended.
pub fn bodies(sender: &SenderSettings, rendered: &RenderedEmail) -> (String, Option<String>) {
    let mut text = rendered.text.trim_end().to_string();
    let mut html = rendered.html.clone();
    if let Some(signature) = sender.signature.as_deref().filter(|s| !s.trim().is_empty()) {
        text.push_str("\n\n-- \n");
        text.push_str(signature.trim_end());
        if let Some(html) = html.as_mut() {
            let block = format!(
                "<pre class=\"signature\">-- \n{}</pre>",
                escape_html(signature.trim_end())
            );
            match html.rfind("</body>") {
                Some(at) => html.insert_str(at, &format!("{block}\n")),
                None => html.push_str(&block),
            }
        }
    }
    text.push('\n');
    (text, html)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn mailbox(name: Option<&str>, address: &str, what: &str) -> Result<Mailbox, NotifyError> {
    let address = address.trim().parse().map_err(|e| {
        NotifyError::Invalid(format!("{what}: `{address}` is not an email address: {e}"))
    })?;
    let name = name.map(|n| sanitize(n, 100)).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, address))
}

/// The complete RFC 5322 message, CRLF line endings, 7-bit clean.
pub fn compose(c: &Composition<'_>, signer: Option<&Signer>) -> Result<Vec<u8>, NotifyError> {
    let from = mailbox(c.sender.from_name.as_deref(), &c.sender.from_address, "notify.from")?;
    let domain = c.sender.from_address.rsplit('@').next().unwrap_or("tipline.invalid");
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject(c.ticket, c.rendered))
        .date(c.date)
        .header(MessageId::from(format!("<{}@{}>", c.id, sanitize(domain, 200))));
    if let Some(reply_to) = &c.sender.reply_to {
        builder = builder.reply_to(mailbox(None, reply_to, "notify.reply_to")?);
    }
    for recipient in c.recipients {
        builder = builder.to(mailbox(Some(c.org_name), recipient, "recipient")?);
    }
    let (text, html) = bodies(c.sender, c.rendered);
    let content = match html {
        Some(html) => MultiPart::alternative_plain_html(text, html),
        None => MultiPart::mixed().singlepart(SinglePart::plain(text)),
    };
    let message = match signer {
        None => builder.multipart(content),
        Some(signer) => {
            // RFC 3156: the signature covers the first part exactly as sent, MIME headers
            // included, up to (not including) the CRLF that precedes the next boundary.
            let signed_bytes = content.formatted();
            let covered = signed_bytes.strip_suffix(b"\r\n").unwrap_or(&signed_bytes);
            let signature = signer.sign(covered)?;
            let signature_part = SinglePart::builder()
                .header(
                    ContentType::parse("application/pgp-signature; name=\"signature.asc\"")
                        .map_err(|e| NotifyError::Signing(e.to_string()))?,
                )
                .body(signature);
            builder.multipart(
                MultiPart::signed("application/pgp-signature".into(), MICALG.into())
                    .multipart(content)
                    .singlepart(signature_part),
            )
        }
    }
    .map_err(|e| NotifyError::Invalid(format!("cannot build the message: {e}")))?;
    Ok(message.formatted())
}
