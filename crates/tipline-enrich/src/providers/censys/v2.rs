//! Censys legacy Search API v2. Shapes relied on (censys-python SDK tests, Apache-2.0,
//! recorded from real 8.8.8.8 responses): `{"code": 200, "status": "OK", "result": {...}}`
//! with `ip`, `services[]` (`port`, `service_name`, `extended_service_name`,
//! `transport_protocol`, `software[]`, `observed_at`, `banner`), `location` (`country`,
//! `country_code`, `city`, `coordinates`), `autonomous_system` (`asn`, `name`,
//! `description`, `bgp_prefix`), `operating_system`, `dns.names`, `dns.reverse_dns.names`,
//! `last_updated_at`; errors `{"error": ..., "error_type": ...}` or `{"code", "status",
//! "error"}`. `at_time` selects a past view.

use std::net::IpAddr;

use serde_json::Value;

use super::{Answer, Censys, answer, software, v3};
use crate::device::identify;
use crate::error::ProviderError;
use crate::host::excerpt;
use crate::http::with_query;
use crate::providers::Fetched;
use crate::secret::Secret;

pub(super) async fn lookup(
    censys: &Censys,
    ip: IpAddr,
    id: &Secret,
    secret: &Secret,
) -> Result<Fetched, ProviderError> {
    let url = format!("{}/api/v2/hosts/{ip}", censys.base_url);
    let query: Vec<(&str, &str)> =
        censys.at_time.iter().map(|at| ("at_time", at.as_str())).collect();
    let url = with_query(&url, &query)?;
    let request = censys.http.get(&url).basic_auth(id.expose(), Some(secret.expose()));
    let response = censys.http.send(request, Some(secret)).await?;
    let body: Value = match answer(ip, &response)? {
        Answer::Body(body) => body,
        Answer::Unknown(fetched) => return Ok(fetched),
    };
    let result =
        body.get("result").ok_or_else(|| ProviderError::malformed("missing field `result`"))?;
    // v2 hosts share most of v3's field names; translate the ones that differ.
    let mut host = result.clone();
    if let Some(services) = host.get_mut("services").and_then(Value::as_array_mut) {
        for service in services {
            let name =
                service.get("service_name").and_then(Value::as_str).map(str::to_ascii_lowercase);
            let observed = service.get("observed_at").cloned();
            if let Some(object) = service.as_object_mut() {
                if let Some(name) = name {
                    object.entry("protocol").or_insert(Value::String(name));
                }
                if let Some(observed) = observed {
                    object.entry("scan_time").or_insert(observed);
                }
            }
        }
    }
    let mut record = v3::host_record(&host)?;
    for (service, original) in record.services.iter_mut().zip(sorted_services(result)) {
        if service.banner.is_none() {
            service.banner = original.get("banner").and_then(Value::as_str).map(excerpt);
        }
    }
    if record.os.is_none()
        && let Some(os) = result.get("operating_system").map(software)
    {
        let words: Vec<String> =
            [os.vendor, os.product, os.version].into_iter().flatten().collect();
        record.os = (!words.is_empty()).then(|| words.join(" "));
    }
    record.device = identify(&record);
    Ok(Fetched::new(&record, response.body))
}

fn sorted_services(result: &Value) -> Vec<Value> {
    let mut services: Vec<Value> =
        result.get("services").and_then(Value::as_array).cloned().unwrap_or_default();
    services.sort_by_key(|s| {
        (
            s.get("port").and_then(Value::as_u64).unwrap_or(0),
            s.get("transport_protocol")
                .and_then(Value::as_str)
                .unwrap_or("tcp")
                .to_ascii_lowercase(),
        )
    });
    services
}
