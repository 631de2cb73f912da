//! Return codes of well-known DNS blocklists: what each 127.0.0.x answer means, and which
//! answers are the zone's own error signals (not listings). Sources: each operator's public
//! documentation (Spamhaus "DNSBL return codes", SpamCop, Barracuda, DroneBL "classes").
//! A zone not listed here reports `listed (return code …)`; operators add or override
//! meanings in `[enrich.dnsbl.codes]`.

use serde::Serialize;

/// Zones checked when none are configured.
pub const DEFAULT_ZONES: &[&str] =
    &["b.barracudacentral.org", "bl.spamcop.net", "dnsbl.dronebl.org", "zen.spamhaus.org"];

/// (zone, return code, meaning, is an error signal rather than a listing)
const TABLE: &[(&str, &str, &str, bool)] = &[
    ("b.barracudacentral.org", "127.0.0.2", "listed in the Barracuda Reputation Block List", false),
    ("bl.spamcop.net", "127.0.0.2", "listed in the SpamCop blocking list", false),
    ("dnsbl.dronebl.org", "127.0.0.3", "IRC drone", false),
    ("dnsbl.dronebl.org", "127.0.0.5", "bottler", false),
    ("dnsbl.dronebl.org", "127.0.0.6", "unknown spambot or drone", false),
    ("dnsbl.dronebl.org", "127.0.0.7", "DDoS drone", false),
    ("dnsbl.dronebl.org", "127.0.0.8", "SOCKS proxy", false),
    ("dnsbl.dronebl.org", "127.0.0.9", "HTTP proxy", false),
    ("dnsbl.dronebl.org", "127.0.0.10", "proxy chain", false),
    ("dnsbl.dronebl.org", "127.0.0.11", "web page proxy", false),
    ("dnsbl.dronebl.org", "127.0.0.12", "open DNS resolver", false),
    ("dnsbl.dronebl.org", "127.0.0.13", "brute-force attacker", false),
    ("dnsbl.dronebl.org", "127.0.0.14", "open Wingate proxy", false),
    ("dnsbl.dronebl.org", "127.0.0.15", "compromised router or gateway", false),
    ("dnsbl.dronebl.org", "127.0.0.16", "autorooting worm", false),
    ("dnsbl.dronebl.org", "127.0.0.17", "automatically determined botnet address", false),
    ("dnsbl.dronebl.org", "127.0.0.18", "DNS/MX type hostname detected on IRC", false),
    ("dnsbl.dronebl.org", "127.0.0.19", "abused VPN service", false),
    ("dnsbl.dronebl.org", "127.0.0.255", "uncategorized threat", false),
    ("zen.spamhaus.org", "127.0.0.2", "SBL: Spamhaus SBL data (spam source or operation)", false),
    ("zen.spamhaus.org", "127.0.0.3", "SBL CSS: Spamhaus CSS data (snowshoe spam)", false),
    ("zen.spamhaus.org", "127.0.0.4", "XBL: exploited host (CBL data)", false),
    ("zen.spamhaus.org", "127.0.0.9", "SBL: Spamhaus DROP/EDROP data", false),
    ("zen.spamhaus.org", "127.0.0.10", "PBL: end-user range (ISP maintained)", false),
    ("zen.spamhaus.org", "127.0.0.11", "PBL: end-user range (Spamhaus maintained)", false),
    ("zen.spamhaus.org", "127.255.255.252", "typing error in the DNSBL name", true),
    (
        "zen.spamhaus.org",
        "127.255.255.254",
        "query through a public or open resolver refused",
        true,
    ),
    ("zen.spamhaus.org", "127.255.255.255", "excessive number of queries", true),
];

/// A return code and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meaning {
    /// The answer, e.g. `127.0.0.4`.
    pub code: String,
    /// What the zone says it means.
    pub meaning: String,
    /// Whether it is the zone's error signal rather than a listing.
    #[serde(skip)]
    pub error: bool,
}

/// The built-in meaning of `code` from `zone`. Codes outside 127.0.0.0/8 are not listings
/// (RFC 5782 §2.1: a DNSBL answers in 127.0.0.0/8), whatever the zone.
pub fn builtin_meaning(zone: &str, code: &str) -> Meaning {
    if let Some((_, _, meaning, error)) = TABLE.iter().find(|(z, c, _, _)| *z == zone && *c == code)
    {
        return Meaning { code: code.to_string(), meaning: meaning.to_string(), error: *error };
    }
    let in_loopback = code.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.octets()[0] == 127);
    if in_loopback {
        Meaning {
            code: code.to_string(),
            meaning: format!("listed (return code {code})"),
            error: false,
        }
    } else {
        Meaning {
            code: code.to_string(),
            meaning: "answer outside 127.0.0.0/8: not a listing (wildcard or hijacked zone?)"
                .into(),
            error: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decode_per_zone() {
        let check = |zone: &str, code: &str, expected: &str, error: bool| {
            let meaning = builtin_meaning(zone, code);
            assert_eq!(
                (meaning.meaning.as_str(), meaning.error),
                (expected, error),
                "{zone} {code}"
            );
        };
        check("zen.spamhaus.org", "127.0.0.4", "XBL: exploited host (CBL data)", false);
        check(
            "zen.spamhaus.org",
            "127.255.255.254",
            "query through a public or open resolver refused",
            true,
        );
        check("dnsbl.dronebl.org", "127.0.0.7", "DDoS drone", false);
        check("dnsbl.example", "127.0.0.2", "listed (return code 127.0.0.2)", false);
        check(
            "dnsbl.example",
            "192.0.2.1",
            "answer outside 127.0.0.0/8: not a listing (wildcard or hijacked zone?)",
            true,
        );
    }
}
