//! RDAP IP network JSON (RFC 9083 §5.4) → [`RdapRecord`]. Relied on: `handle`, `name`,
//! `type`, `country`, `startAddress`, `endAddress`, `parentHandle`, `cidr0_cidrs` (the
//! cidr0 extension, when present), `entities[]` with `roles`, `handle`, `vcardArray`
//! (jCard, RFC 7095: `fn`, `email`, `kind`) and nested `entities`. Registries differ:
//! ARIN nests the abuse contact inside the registrant organization, RIPE and APNIC list it
//! at the top; the search below walks every level.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ProviderError;
use crate::json::text;

/// Normalized `rdap` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RdapRecord {
    /// Whether the registry knows the address.
    pub found: bool,
    /// The registry asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Network handle (`NET-74-125-0-0-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// Network name (`GOOGLE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Allocation type (`ASSIGNED PA`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    /// Country code of the network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// First address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_address: Option<String>,
    /// Last address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_address: Option<String>,
    /// The network as CIDRs.
    pub cidrs: Vec<String>,
    /// Handle of the enclosing network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_handle: Option<String>,
    /// The registrant organization's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrant: Option<String>,
    /// The registrant's handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrant_handle: Option<String>,
    /// Where to report abuse (for delisting requests and notifications).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abuse_email: Option<String>,
    /// The abuse contact's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abuse_contact: Option<String>,
}

/// jCard property `name` of an entity (`["vcard", [[name, params, type, value], ...]]`).
fn vcard(entity: &Value, name: &str) -> Option<String> {
    let properties = entity.get("vcardArray")?.get(1)?.as_array()?;
    properties.iter().find_map(|p| {
        let p = p.as_array()?;
        (p.first()?.as_str()? == name).then(|| p.get(3)?.as_str().map(String::from)).flatten()
    })
}

fn has_role(entity: &Value, role: &str) -> bool {
    entity
        .get("roles")
        .and_then(Value::as_array)
        .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(role)))
}

/// Entities at every nesting level, outermost first.
fn all_entities(value: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    let mut queue: Vec<&Value> = value
        .get("entities")
        .and_then(Value::as_array)
        .map(|e| e.iter().collect())
        .unwrap_or_default();
    while !queue.is_empty() {
        let mut next = Vec::new();
        for entity in queue {
            found.push(entity);
            next.extend(entity.get("entities").and_then(Value::as_array).into_iter().flatten());
        }
        queue = next;
    }
    found
}

/// An address as registries write it: ARIN pads IPv4 octets (`074.125.000.000`), RIPE has
/// been seen appending a prefix length (`62.239.237.0/32`).
fn address(text: &str) -> Option<IpAddr> {
    let text = text.split('/').next()?.trim();
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    let octets: Vec<u8> = text.split('.').map(|o| o.parse::<u8>().ok()).collect::<Option<_>>()?;
    (octets.len() == 4).then(|| IpAddr::from([octets[0], octets[1], octets[2], octets[3]]))
}

fn cidrs(value: &Value, start: Option<IpAddr>, end: Option<IpAddr>) -> Vec<String> {
    if let Some(list) = value.get("cidr0_cidrs").and_then(Value::as_array) {
        let given: Vec<String> = list
            .iter()
            .filter_map(|c| {
                let prefix = text(c, "v4prefix").or_else(|| text(c, "v6prefix"))?;
                let length = c.get("length")?.as_u64()?;
                Some(format!("{prefix}/{length}"))
            })
            .collect();
        if !given.is_empty() {
            return given;
        }
    }
    match (start, end) {
        (Some(IpAddr::V4(s)), Some(IpAddr::V4(e))) if s <= e => {
            Ipv4Subnets::new(s, e, 0).map(|n| IpNet::V4(n).to_string()).collect()
        }
        (Some(IpAddr::V6(s)), Some(IpAddr::V6(e))) if s <= e => {
            Ipv6Subnets::new(s, e, 0).map(|n| IpNet::V6(n).to_string()).collect()
        }
        _ => Vec::new(),
    }
}

/// Normalize an IP network response.
pub(super) fn network(value: &Value) -> Result<RdapRecord, ProviderError> {
    if !value.is_object() {
        return Err(ProviderError::malformed("expected a JSON object at the top level"));
    }
    if value.get("objectClassName").and_then(Value::as_str).is_some_and(|c| c != "ip network") {
        return Err(ProviderError::malformed("expected objectClassName `ip network`"));
    }
    let start = text(value, "startAddress").as_deref().and_then(address);
    let end = text(value, "endAddress").as_deref().and_then(address);
    let entities = all_entities(value);
    let registrant = entities.iter().find(|e| has_role(e, "registrant"));
    let abuse = entities.iter().find(|e| has_role(e, "abuse") && vcard(e, "email").is_some());
    Ok(RdapRecord {
        found: true,
        registry: None,
        handle: text(value, "handle"),
        name: text(value, "name"),
        network_type: text(value, "type"),
        country: text(value, "country"),
        start_address: start.map(|a| a.to_string()),
        end_address: end.map(|a| a.to_string()),
        cidrs: cidrs(value, start, end),
        parent_handle: text(value, "parentHandle"),
        registrant: registrant.and_then(|e| vcard(e, "fn")),
        registrant_handle: registrant.and_then(|e| text(e, "handle")),
        abuse_email: abuse.and_then(|e| vcard(e, "email")).map(|e| e.to_ascii_lowercase()),
        abuse_contact: abuse.and_then(|e| vcard(e, "fn")),
    })
}
