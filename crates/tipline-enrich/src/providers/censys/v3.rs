//! Censys Platform API v3. Shapes relied on (Censys Platform SDKs, censys-sdk-python
//! `docs/models` and censys-sdk-go `models/components`, Apache-2.0): the envelope
//! `{"result": {"resource": Host, "extensions": {}}}`; Host `ip`, `services[]`,
//! `autonomous_system` (`asn`, `name`, `description`, `bgp_prefix`, `country_code`),
//! `location` (`country`, `country_code`, `city`, `coordinates.latitude/longitude`), `dns`
//! (`names`, `reverse_dns.names`), `labels[].value`, `hardware`, `operating_system`
//! (Attribute: `vendor`, `product`, `version`, `cpe`, `part`); Service `port`, `protocol`,
//! `transport_protocol`, `software[]`, `hardware[]`, `operating_systems[]`, `banner`,
//! `scan_time`, `labels[]`, `vulns[]`; the timeline `{"result": {"events":
//! [{"resource": HostTimelineEvent}], "scanned_to": ...}}` with `event_time` and
//! `service_scanned.scan` (a Service). Query parameters: `organization_id`, `at_time`,
//! and for the timeline `start_time` (newest) and `end_time` (oldest).

use std::net::IpAddr;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{Answer, Censys, answer, censys_message, software};
use crate::device::identify;
use crate::error::{FailureKind, ProviderError};
use crate::host::{HostLocation, HostRecord, Service, excerpt};
use crate::http::with_query;
use crate::json::{list, text};
use crate::providers::Fetched;
use crate::secret::Secret;

pub(super) async fn lookup(
    censys: &Censys,
    ip: IpAddr,
    token: &Secret,
    organization_id: Option<&str>,
) -> Result<Fetched, ProviderError> {
    let url = format!("{}/v3/global/asset/host/{ip}", censys.base_url);
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(org) = organization_id {
        query.push(("organization_id", org.to_string()));
    }
    if let Some(at) = &censys.at_time {
        query.push(("at_time", at.clone()));
    }
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = with_query(&url, &query)?;
    let request =
        censys.http.get(&url).bearer_auth(token.expose()).header("accept", "application/json");
    let response = censys.http.send(request, Some(token)).await?;
    let body: Value = match answer(ip, &response)? {
        Answer::Body(body) => body,
        Answer::Unknown(fetched) => return Ok(fetched),
    };
    let host = body
        .get("result")
        .and_then(|r| r.get("resource"))
        .ok_or_else(|| ProviderError::malformed("missing field `result.resource`"))?;
    let mut record = host_record(host)?;

    let mut raw = json!({ "host": body });
    if censys.timeline && censys.at_time.is_none() {
        match timeline(censys, ip, token, organization_id).await {
            Ok((events, history)) => {
                record.history = history;
                raw["timeline"] = events;
            }
            // A plan without timeline access still gets the current view.
            Err(e) if matches!(e.kind, FailureKind::Unauthorized | FailureKind::Rejected) => {
                raw["timeline_error"] = Value::String(e.detail);
            }
            Err(e) => return Err(e),
        }
    }
    record.device = identify(&record);
    Ok(Fetched::new(&record, raw.to_string()))
}

async fn timeline(
    censys: &Censys,
    ip: IpAddr,
    token: &Secret,
    organization_id: Option<&str>,
) -> Result<(Value, Vec<Service>), ProviderError> {
    let now = Utc::now();
    let start = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let end = (now - Duration::days(i64::from(censys.timeline_days)))
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut query = vec![("start_time", start), ("end_time", end)];
    if let Some(org) = organization_id {
        query.push(("organization_id", org.to_string()));
    }
    let url = format!("{}/v3/global/asset/host/{ip}/timeline", censys.base_url);
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = with_query(&url, &query)?;
    let request = censys.http.get(&url).bearer_auth(token.expose());
    let response = censys.http.send(request, Some(token)).await?;
    if let Some(error) = response.error_for_status(censys_message) {
        return Err(error);
    }
    let body: Value = response.json()?;
    let events = body
        .get("result")
        .and_then(|r| r.get("events"))
        .and_then(Value::as_array)
        .ok_or_else(|| ProviderError::malformed("timeline: missing field `result.events`"))?;
    let mut history: Vec<Service> = events
        .iter()
        .filter_map(|event| {
            let event = event.get("resource").unwrap_or(event);
            let scan = event.get("service_scanned")?.get("scan")?;
            let mut service = service(scan);
            service.timestamp = text(event, "event_time").or(service.timestamp);
            Some(service)
        })
        .collect();
    history.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(a.port.cmp(&b.port)));
    Ok((body, history))
}

fn service(value: &Value) -> Service {
    let software_list: Vec<_> = list(value, "software")
        .iter()
        .chain(list(value, "operating_systems"))
        .chain(list(value, "hardware"))
        .map(software)
        .collect();
    let main = software_list.iter().find(|s| s.part.as_deref() != Some("h"));
    Service {
        port: value.get("port").and_then(Value::as_u64).unwrap_or(0) as u16,
        transport: text(value, "transport_protocol")
            .unwrap_or_else(|| "tcp".into())
            .to_ascii_lowercase(),
        protocol: text(value, "protocol").map(|p| p.to_ascii_lowercase()),
        product: main.and_then(|s| s.product.clone()),
        version: main.and_then(|s| s.version.clone()),
        cpe: software_list.iter().filter_map(|s| s.cpe.clone()).collect(),
        software: software_list,
        http_title: None,
        banner: text(value, "banner").map(|b| excerpt(&b)),
        timestamp: text(value, "scan_time"),
    }
}

pub(super) fn host_record(host: &Value) -> Result<HostRecord, ProviderError> {
    if !host.is_object() {
        return Err(ProviderError::malformed("`result.resource` is not an object"));
    }
    let ip = text(host, "ip")
        .ok_or_else(|| ProviderError::malformed("missing field `result.resource.ip`"))?;
    let mut services: Vec<Service> = list(host, "services").iter().map(service).collect();
    services.sort_by(|a, b| (a.port, &a.transport).cmp(&(b.port, &b.transport)));
    let mut ports: Vec<u16> = services.iter().map(|s| s.port).collect();
    ports.dedup();
    let autonomous = host.get("autonomous_system").cloned().unwrap_or(Value::Null);
    let location = host.get("location").cloned().unwrap_or(Value::Null);
    let coordinates = location.get("coordinates").cloned().unwrap_or(Value::Null);
    let dns = host.get("dns").cloned().unwrap_or(Value::Null);
    let mut hostnames: Vec<String> =
        list(&dns, "names").iter().filter_map(|v| v.as_str().map(String::from)).collect();
    if let Some(reverse) = dns.get("reverse_dns") {
        hostnames
            .extend(list(reverse, "names").iter().filter_map(|v| v.as_str().map(String::from)));
    }
    hostnames.sort();
    hostnames.dedup();
    let mut tags: Vec<String> = list(host, "labels")
        .iter()
        .chain(services.iter().flat_map(|_| std::iter::empty()))
        .filter_map(|l| text(l, "value").or_else(|| l.as_str().map(String::from)))
        .collect();
    for service_value in list(host, "services") {
        tags.extend(list(service_value, "labels").iter().filter_map(|l| text(l, "value")));
    }
    tags.sort();
    tags.dedup();
    let mut vulns: Vec<String> = list(host, "services")
        .iter()
        .flat_map(|s| list(s, "vulns"))
        .filter_map(|v| text(v, "id").or_else(|| v.as_str().map(String::from)))
        .collect();
    vulns.sort();
    vulns.dedup();
    let hardware: Vec<_> = host
        .get("hardware")
        .map(software)
        .into_iter()
        .filter(|h| h.vendor.is_some() || h.product.is_some())
        .collect();
    let os = host.get("operating_system").map(software).and_then(|os| {
        let words: Vec<String> =
            [os.vendor, os.product, os.version].into_iter().flatten().collect();
        (!words.is_empty()).then(|| words.join(" "))
    });
    Ok(HostRecord {
        found: true,
        ip,
        last_update: text(host, "last_updated_at"),
        ports,
        services,
        history: Vec::new(),
        hostnames,
        domains: Vec::new(),
        org: text(&autonomous, "organization"),
        isp: None,
        asn: autonomous.get("asn").and_then(Value::as_u64).map(|a| a as u32),
        as_name: text(&autonomous, "name").or_else(|| text(&autonomous, "description")),
        bgp_prefix: text(&autonomous, "bgp_prefix"),
        os,
        device_type: None,
        hardware,
        tags,
        vulns,
        location: HostLocation {
            country_code: text(&location, "country_code"),
            country: text(&location, "country"),
            city: text(&location, "city"),
            latitude: coordinates.get("latitude").and_then(Value::as_f64),
            longitude: coordinates.get("longitude").and_then(Value::as_f64),
        },
        device: None,
    })
}
