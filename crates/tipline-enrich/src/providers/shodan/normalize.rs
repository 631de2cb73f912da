//! Shodan host JSON → [`HostRecord`]. Fields relied on (Shodan REST API reference, "Host
//! Information"; checked against recorded responses): top level `ip_str`, `ports`,
//! `hostnames`, `domains`, `org`, `isp`, `asn` ("AS123"), `os`, `tags`, `vulns`,
//! `last_update`, `country_code`, `country_name`, `city`, `latitude`, `longitude`; each
//! banner of `data[]`: `port`, `transport`, `product`, `version`, `cpe`/`cpe23`, `data`,
//! `timestamp`, `http.title`, `_shodan.module`, `devicetype`, `os`, `vulns`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::device::identify;
use crate::error::ProviderError;
use crate::host::{HostLocation, HostRecord, Service, excerpt, parse_cpe};
use crate::json::text;

fn strings(value: &Value, key: &str) -> Vec<String> {
    match value.get(key) {
        Some(Value::Array(items)) => {
            items.iter().filter_map(|v| v.as_str().map(String::from)).collect()
        }
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The record of an address Shodan does not know.
pub(super) fn not_found(ip: &str) -> HostRecord {
    HostRecord { found: false, ip: ip.to_string(), ..Default::default() }
}

fn service(banner: &Value) -> Service {
    let mut cpe = strings(banner, "cpe23");
    if cpe.is_empty() {
        cpe = strings(banner, "cpe");
    }
    let software = cpe.iter().map(|c| parse_cpe(c)).collect();
    Service {
        port: banner.get("port").and_then(Value::as_u64).unwrap_or(0) as u16,
        transport: text(banner, "transport").unwrap_or_else(|| "tcp".into()),
        protocol: banner
            .get("_shodan")
            .and_then(|s| text(s, "module"))
            .map(|m| m.to_ascii_lowercase()),
        product: text(banner, "product"),
        version: text(banner, "version"),
        cpe,
        software,
        http_title: banner.get("http").and_then(|h| text(h, "title")),
        banner: text(banner, "data").map(|d| excerpt(&d)),
        timestamp: text(banner, "timestamp"),
    }
}

/// Normalize a host response.
pub(super) fn host(value: &Value) -> Result<HostRecord, ProviderError> {
    let Some(top) = value.as_object() else {
        return Err(ProviderError::malformed("expected a JSON object at the top level"));
    };
    let ip =
        text(value, "ip_str").ok_or_else(|| ProviderError::malformed("missing field `ip_str`"))?;
    let mut ports: Vec<u16> = top
        .get("ports")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_u64).map(|p| p as u16).collect())
        .unwrap_or_default();
    ports.sort_unstable();
    ports.dedup();
    let banners: Vec<&Value> =
        top.get("data").and_then(Value::as_array).map(|d| d.iter().collect()).unwrap_or_default();

    // The newest banner of each (port, transport) that is still open is current; the rest is
    // history, newest first.
    let mut newest: BTreeMap<(u16, String), usize> = BTreeMap::new();
    let services: Vec<Service> = banners.iter().map(|b| service(b)).collect();
    for (i, s) in services.iter().enumerate() {
        let key = (s.port, s.transport.clone());
        match newest.get(&key) {
            Some(&j) if services[j].timestamp >= s.timestamp => {}
            _ => {
                newest.insert(key, i);
            }
        }
    }
    let mut current = Vec::new();
    let mut history = Vec::new();
    for (i, s) in services.into_iter().enumerate() {
        let is_current = newest.get(&(s.port, s.transport.clone())) == Some(&i)
            && (ports.is_empty() || ports.contains(&s.port));
        if is_current { current.push(s) } else { history.push(s) }
    }
    current.sort_by(|a, b| (a.port, &a.transport).cmp(&(b.port, &b.transport)));
    history.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(a.port.cmp(&b.port)));
    if ports.is_empty() {
        ports = current.iter().map(|s| s.port).collect();
    }

    let mut vulns = strings(value, "vulns");
    for banner in &banners {
        vulns.extend(strings(banner, "vulns"));
    }
    vulns.sort();
    vulns.dedup();
    let device_type = banners.iter().find_map(|b| text(b, "devicetype"));
    let os = text(value, "os").or_else(|| banners.iter().find_map(|b| text(b, "os")));
    let asn = text(value, "asn").and_then(|a| a.trim_start_matches("AS").parse().ok());
    let mut record = HostRecord {
        found: true,
        ip,
        last_update: text(value, "last_update"),
        ports,
        services: current,
        history,
        hostnames: strings(value, "hostnames"),
        domains: strings(value, "domains"),
        org: text(value, "org"),
        isp: text(value, "isp"),
        asn,
        as_name: None,
        bgp_prefix: None,
        os,
        device_type,
        hardware: Vec::new(),
        tags: strings(value, "tags"),
        vulns,
        location: HostLocation {
            country_code: text(value, "country_code"),
            country: text(value, "country_name"),
            city: text(value, "city"),
            latitude: value.get("latitude").and_then(Value::as_f64),
            longitude: value.get("longitude").and_then(Value::as_f64),
        },
        device: None,
    };
    record.device = identify(&record);
    Ok(record)
}
