//! Is this dotted word a domain name? The public-suffix list and the precision rules.
//!
//! A word is a domain when all of these hold:
//!
//! 1. it has at least two labels of letters, digits, `-` and `_` (or non-ASCII letters), none
//!    empty, none longer than 63 bytes or starting or ending with `-`, at most 253 bytes;
//! 2. its top-level label is on the public-suffix list (`invoice.pdf` is not a domain) or is
//!    `example` or `onion`, and the whole name is not itself an ICANN public suffix (`co.uk`);
//!    a private suffix such as `dyndns.org` is a domain;
//! 3. the top-level label is lower-case unless the whole name is upper-case (`EVIL.COM`): a
//!    capitalized or upper-case suffix after lower-case letters is a code identifier
//!    (`System.IO`, `System.Net`), a detection name (`Tiny.BG`) or two sentences without a
//!    space (`registry.It`);
//! 4. when its top-level label is also a common file extension ([`FILE_EXTENSION_TLDS`]:
//!    `zip`, `mov`, `py`, `sh`, …) it counts only with evidence: a defanged dot, or a URL or
//!    email around it (`evil[.]zip`, `hxxp://evil.zip/`), never as a bare `update.zip`;
//! 5. it is not an anti-virus detection name (a `Win32`/`Win64`/`MSIL`/… label, or a first
//!    label such as `Trojan` or `Backdoor`), nor, unless defanged, a reversed namespace
//!    (`com.example.app`: first label `com`, `org` or `net` and three labels or more), code
//!    (`document.location.host`, `this.name`: first label `document`, `window`, `this`, …) or
//!    a technology name (`ASP.NET`).
//!
//! In a URL or an email address (`strong` context) only rules 1 and 2 apply.

/// Top-level domains that are also common file extensions: a bare `name.ext` with one of
/// these is taken for a file name.
pub(super) const FILE_EXTENSION_TLDS: &[&str] =
    &["cab", "md", "mov", "one", "pm", "py", "rs", "sh", "so", "zip"];

/// Special-use top-level domains (RFC 6761, RFC 7686) accepted as if they were on the list:
/// documentation examples and Tor onion services.
const SPECIAL_USE_TLDS: &[&str] = &["example", "onion"];

/// Labels that mark an anti-virus detection name wherever they appear (case-sensitive).
const DETECTION_LABELS: &[&str] = &["MSIL", "W32", "W64", "Win16", "Win32", "Win64"];

/// First labels that mark an anti-virus detection name (case-sensitive).
const DETECTION_PREFIXES: &[&str] = &[
    "Adware",
    "Backdoor",
    "Exploit",
    "HEUR",
    "HackTool",
    "Hacktool",
    "PWS",
    "Ransom",
    "Riskware",
    "Spyware",
    "Trojan",
    "TrojanDownloader",
    "TrojanDropper",
    "Virus",
    "Worm",
];

/// First labels of code, not domains: `document.location.host`, `this.name`.
const CODE_RECEIVERS: &[&str] = &["console", "document", "navigator", "self", "this", "window"];

/// Technology names written like domains, as written (case-sensitive).
const TECHNOLOGY_NAMES: &[&str] = &["ADO.NET", "ASP.NET", "VB.NET"];

/// Where a candidate domain stands.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DomainContext {
    /// The word had a defanged dot (`evil[.]zip`).
    pub defanged: bool,
    /// The name is the host of a URL or the domain of an email address.
    pub strong: bool,
}

/// Whether `name` (refanged, as in the text) is a domain by the rules of this module.
pub(super) fn is_domain(name: &[u8], context: DomainContext) -> bool {
    if name.len() < 3 || name.len() > 253 {
        return false;
    }
    let mut labels = 0usize;
    let mut any_lower = false;
    let mut non_ascii = false;
    for label in name.split(|&b| b == b'.') {
        if label.is_empty()
            || label.len() > 63
            || label[0] == b'-'
            || label[label.len() - 1] == b'-'
        {
            return false;
        }
        for &b in label {
            match b {
                b'a'..=b'z' => any_lower = true,
                b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => {}
                0x80.. => non_ascii = true,
                _ => return false,
            }
        }
        labels += 1;
    }
    if labels < 2 {
        return false;
    }
    let tld_start = name.iter().rposition(|&b| b == b'.').map_or(0, |p| p + 1);
    let tld = &name[tld_start..];
    if tld.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if !context.strong && any_lower && tld.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    if !on_public_suffix_list(name, non_ascii) {
        return false;
    }
    if context.strong {
        return true;
    }
    let evidence = context.defanged;
    if !evidence && FILE_EXTENSION_TLDS.iter().any(|ext| ext.as_bytes().eq_ignore_ascii_case(tld)) {
        return false;
    }
    let first_end = name.iter().position(|&b| b == b'.').unwrap_or(name.len());
    let first = &name[..first_end];
    if !evidence && labels >= 3 && [&b"com"[..], b"org", b"net"].iter().any(|l| l == &first) {
        return false;
    }
    if !evidence
        && (CODE_RECEIVERS.iter().any(|r| r.as_bytes() == first)
            || TECHNOLOGY_NAMES.iter().any(|t| t.as_bytes() == name))
    {
        return false;
    }
    if DETECTION_PREFIXES.iter().any(|p| p.as_bytes() == first)
        || name
            .split(|&b| b == b'.')
            .any(|label| DETECTION_LABELS.iter().any(|d| d.as_bytes() == label))
    {
        return false;
    }
    true
}

/// Whether the top-level label of `name` is on the public-suffix list and `name` is more than
/// an ICANN public suffix.
fn on_public_suffix_list(name: &[u8], non_ascii: bool) -> bool {
    let mut buffer = [0u8; 256];
    let ascii_owned: String;
    let lower: &[u8] = if non_ascii {
        let Ok(text) = std::str::from_utf8(name) else {
            return false;
        };
        match idna::domain_to_ascii(text) {
            Ok(ascii) => {
                ascii_owned = ascii;
                ascii_owned.as_bytes()
            }
            Err(_) => return false,
        }
    } else {
        let out = &mut buffer[..name.len()];
        for (o, b) in out.iter_mut().zip(name) {
            *o = b.to_ascii_lowercase();
        }
        out
    };
    let tld = lower.rsplit(|&b| b == b'.').next().unwrap_or_default();
    if SPECIAL_USE_TLDS.iter().any(|t| t.as_bytes() == tld) {
        return true;
    }
    let Some(suffix) = psl::suffix(lower) else {
        return false;
    };
    if !suffix.is_known() {
        return false;
    }
    !(suffix.as_bytes().len() == lower.len() && suffix.typ() == Some(psl::Type::Icann))
}
