//! `tipline enrich VALUE`: ask the configured providers about an IP address or a domain and
//! print a readable summary per provider, or with `--json` the full normalized records.

use serde_json::Value;
use tipline_enrich::{EnrichmentResult, LookupOptions, Source, enrich_value};

use super::Context;
use crate::cli::EnrichArgs;
use crate::output::{self, Table};

pub async fn run(context: &Context, args: EnrichArgs) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = enrich(context, &session.store, args).await;
    session.close().await;
    result
}

async fn enrich(
    context: &Context,
    store: &tipline_store::Store,
    args: EnrichArgs,
) -> anyhow::Result<()> {
    let enricher = context.enricher(store)?;
    let options = LookupOptions { refresh: args.refresh, raw: args.raw };
    let report = enrich_value(&enricher, &args.value, &args.providers, options)
        .await
        .map_err(|bad| anyhow::anyhow!("invalid {bad}"))?;
    if context.json {
        return output::json(&report);
    }
    output::lines([format!("{} ({})", report.subject, report.kind)])?;
    let mut table = Table::new(&["PROVIDER", "STATUS", "SUMMARY"]);
    for result in &report.results {
        table.row(vec![result.provider.clone(), status(result), summary(result)]);
    }
    table.print("no provider enriches this kind of value; see `tipline enrich --help`")
}

fn status(result: &EnrichmentResult) -> String {
    match (&result.source, &result.error) {
        (Some(Source::Upstream), _) => "fetched".into(),
        (Some(Source::StoreCache | Source::HotCache), _) => match &result.enrichment {
            Some(record) => format!("cached {}", output::time(record.fetched_at)),
            None => "cached".into(),
        },
        (None, Some(error)) => format!("{:?}", error.kind).to_lowercase(),
        (None, None) => "-".into(),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn join(parts: Vec<Option<String>>) -> String {
    let parts: Vec<String> = parts.into_iter().flatten().filter(|p| !p.is_empty()).collect();
    if parts.is_empty() { "-".into() } else { parts.join("; ") }
}

/// One line per provider, from its normalized record (docs/enrichment.md).
fn summary(result: &EnrichmentResult) -> String {
    if let Some(error) = &result.error {
        return format!("{}{}", error.detail, if error.retryable { " (retryable)" } else { "" });
    }
    let Some(record) = &result.enrichment else { return "-".into() };
    let n = &record.normalized;
    if n.get("found") == Some(&Value::Bool(false)) {
        return "nothing known about this value".into();
    }
    match result.provider.as_str() {
        "shodan" | "censys" => {
            let ports: Vec<String> = n["services"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    let product = [text(s, "product"), text(s, "version")]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let name = text(s, "protocol").unwrap_or_default();
                    format!(
                        "{}/{} {}",
                        s["port"],
                        s["transport"].as_str().unwrap_or("tcp"),
                        if product.is_empty() { name } else { product }
                    )
                    .trim()
                    .to_string()
                })
                .collect();
            let past = n["history"].as_array().map_or(0, Vec::len);
            let device = n.get("device").filter(|d| d.is_object()).map(|d| {
                let what = [
                    text(d, "manufacturer"),
                    text(d, "model"),
                    text(d, "product"),
                    text(d, "version"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                format!(
                    "device {what} ({}, confidence {})",
                    text(d, "device_type").unwrap_or_else(|| "?".into()),
                    d["confidence"]
                )
            });
            let vulns = n["vulns"]
                .as_array()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{} CVEs", v.len()));
            join(vec![
                Some(format!(
                    "services: {}",
                    if ports.is_empty() { "none".into() } else { ports.join(", ") }
                )),
                (past > 0).then(|| format!("{past} past observations")),
                device,
                vulns,
                text(n, "org").map(|o| format!("org {o}")),
                text(n, "asn").map(|a| format!("AS{a}")),
            ])
        }
        "geoip" => join(vec![
            [text(n, "country_code"), text(n, "country"), text(n, "city")]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a} {b}")),
            text(n, "accuracy_radius_km").map(|r| format!("±{r} km")),
            text(n, "asn").map(|a| {
                format!("AS{a} {}", text(n, "as_organization").unwrap_or_default())
                    .trim()
                    .to_string()
            }),
        ]),
        "rdap" => join(vec![
            [text(n, "name"), text(n, "handle")]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a} ({b})")),
            n["cidrs"]
                .as_array()
                .filter(|c| !c.is_empty())
                .map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")),
            text(n, "country"),
            text(n, "registrant").map(|r| format!("registrant {r}")),
            text(n, "abuse_email").map(|a| format!("abuse {a}")),
        ]),
        "dnsbl" => {
            let listed: Vec<String> = n["zones"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|z| z["listed"] == Value::Bool(true))
                .map(|z| {
                    let codes: Vec<String> = z["codes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| text(c, "meaning"))
                        .collect();
                    format!("{} ({})", z["zone"].as_str().unwrap_or("?"), codes.join(", "))
                })
                .collect();
            if listed.is_empty() {
                "not listed".into()
            } else {
                format!("listed: {}", listed.join("; "))
            }
        }
        "dns" => {
            if n.get("exists") == Some(&Value::Bool(false)) {
                return "no such name (NXDOMAIN)".into();
            }
            let mut parts = Vec::new();
            for key in ["a", "aaaa", "cname", "mx", "ns", "ptr"] {
                if let Some(values) = n[key].as_array().filter(|v| !v.is_empty()) {
                    let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                    parts.push(Some(format!("{} {}", key.to_uppercase(), values.join(", "))));
                }
            }
            join(parts)
        }
        _ => n.to_string(),
    }
}
