//! Device identity: from a [`HostRecord`]'s services, software, hardware and tags, derive
//! the manufacturer, model, product, version and CPE of the device behind an address, with a
//! confidence and the evidence used. This is what the vendor-exposure report aggregates.
//!
//! Table-driven: [`RULES`] lists (where to look, what to find, what it means). Every rule
//! that matches adds evidence; the identity is the match with the highest confidence, and
//! the other matches fill fields it leaves empty (a model from a hardware CPE, a version
//! from the service). Adding a rule is one line; docs/enrichment.md lists them.

use serde::{Deserialize, Serialize};

use crate::host::{HostRecord, Service, Software, parse_cpe};

/// The device behind an address, as far as the evidence goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// Who made it (`Cisco`, `MikroTik`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// Hardware model, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Product or firmware (`RouterOS`, `FortiOS`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Version of the product or firmware.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// CPE name of the product, when the provider gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    /// What kind of device (`router`, `firewall`, `camera`, `server`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// 0–100: how sure the best rule is.
    pub confidence: u8,
    /// Every rule that matched, strongest first.
    pub evidence: Vec<Evidence>,
}

/// One matched rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The rule's name.
    pub rule: String,
    /// Where it matched (`port 443/tcp product`, `hardware cpe`...).
    pub source: String,
    /// The text it matched.
    pub matched: String,
    /// Its confidence.
    pub confidence: u8,
}

/// Where a rule looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A service's product name.
    Product,
    /// A CPE vendor:product pair (`vendor:product`, lower case).
    CpeVendorProduct,
    /// A service's banner excerpt.
    Banner,
    /// An HTTP page title.
    HttpTitle,
    /// The host's operating system.
    Os,
}

/// One identification rule: if `field` contains `needle` (case-insensitive), the device is
/// `product` by `manufacturer`, of `device_type`, with `confidence`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Rule name (shown as evidence).
    pub name: &'static str,
    /// Where to look.
    pub field: Field,
    /// What to find (lower case).
    pub needle: &'static str,
    /// Manufacturer.
    pub manufacturer: &'static str,
    /// Product or firmware.
    pub product: &'static str,
    /// Device type.
    pub device_type: &'static str,
    /// 0–100.
    pub confidence: u8,
}

const fn rule(
    name: &'static str,
    field: Field,
    needle: &'static str,
    manufacturer: &'static str,
    product: &'static str,
    device_type: &'static str,
    confidence: u8,
) -> Rule {
    Rule { name, field, needle, manufacturer, product, device_type, confidence }
}

use Field::{Banner, CpeVendorProduct, HttpTitle, Os, Product};

/// The identification rules, grouped by manufacturer.
pub const RULES: &[Rule] = &[
    rule("cisco-ios-cpe", CpeVendorProduct, "cisco:ios", "Cisco", "IOS", "router", 85),
    rule("cisco-ios-product", Product, "cisco ios", "Cisco", "IOS", "router", 75),
    rule(
        "cisco-asa-cpe",
        CpeVendorProduct,
        "cisco:adaptive_security_appliance",
        "Cisco",
        "ASA",
        "firewall",
        85,
    ),
    rule("cisco-asa-title", HttpTitle, "ssl vpn service", "Cisco", "ASA", "firewall", 60),
    rule(
        "fortinet-fortios-cpe",
        CpeVendorProduct,
        "fortinet:fortios",
        "Fortinet",
        "FortiOS",
        "firewall",
        85,
    ),
    rule("fortinet-fortigate-product", Product, "fortigate", "Fortinet", "FortiOS", "firewall", 75),
    rule(
        "paloalto-panos-cpe",
        CpeVendorProduct,
        "paloaltonetworks:pan-os",
        "Palo Alto Networks",
        "PAN-OS",
        "firewall",
        85,
    ),
    rule(
        "paloalto-globalprotect-title",
        HttpTitle,
        "globalprotect portal",
        "Palo Alto Networks",
        "PAN-OS",
        "firewall",
        70,
    ),
    rule(
        "mikrotik-routeros-cpe",
        CpeVendorProduct,
        "mikrotik:routeros",
        "MikroTik",
        "RouterOS",
        "router",
        85,
    ),
    rule("mikrotik-product", Product, "mikrotik", "MikroTik", "RouterOS", "router", 75),
    rule("mikrotik-banner", Banner, "mikrotik", "MikroTik", "RouterOS", "router", 60),
    rule(
        "juniper-junos-cpe",
        CpeVendorProduct,
        "juniper:junos",
        "Juniper Networks",
        "Junos OS",
        "router",
        85,
    ),
    rule(
        "ubiquiti-edgeos-product",
        Product,
        "ubiquiti edgeswitch",
        "Ubiquiti",
        "EdgeOS",
        "switch",
        75,
    ),
    rule(
        "hikvision-product",
        Product,
        "hikvision",
        "Hikvision",
        "IP camera firmware",
        "camera",
        80,
    ),
    rule("dahua-product", Product, "dahua", "Dahua", "IP camera firmware", "camera", 80),
    rule("sonicwall-product", Product, "sonicwall", "SonicWall", "SonicOS", "firewall", 75),
    rule("zyxel-product", Product, "zyxel", "Zyxel", "ZyNOS", "router", 70),
    rule("tplink-product", Product, "tp-link", "TP-Link", "router firmware", "router", 70),
    rule(
        "citrix-netscaler-cpe",
        CpeVendorProduct,
        "citrix:netscaler",
        "Citrix",
        "NetScaler ADC",
        "load balancer",
        85,
    ),
    rule("f5-bigip-cpe", CpeVendorProduct, "f5:big-ip", "F5", "BIG-IP", "load balancer", 85),
    rule("vmware-esxi-cpe", CpeVendorProduct, "vmware:esxi", "VMware", "ESXi", "hypervisor", 80),
    rule(
        "microsoft-iis-cpe",
        CpeVendorProduct,
        "microsoft:internet_information_server",
        "Microsoft",
        "IIS",
        "server",
        50,
    ),
    rule("microsoft-iis-product", Product, "microsoft iis", "Microsoft", "IIS", "server", 45),
    rule(
        "microsoft-exchange-title",
        HttpTitle,
        "outlook web app",
        "Microsoft",
        "Exchange Server",
        "server",
        60,
    ),
    rule("windows-os", Os, "windows", "Microsoft", "Windows", "server", 40),
];

fn matches(haystack: &str, needle: &str) -> bool {
    haystack.to_ascii_lowercase().contains(needle)
}

fn service_texts(service: &Service, field: Field) -> Vec<String> {
    let mut texts: Vec<String> = match field {
        Field::Product => service.product.iter().cloned().collect(),
        Field::Banner => service.banner.iter().cloned().collect(),
        Field::HttpTitle => service.http_title.iter().cloned().collect(),
        Field::CpeVendorProduct => service
            .cpe
            .iter()
            .map(|c| parse_cpe(c))
            .chain(service.software.iter().cloned())
            .filter_map(|s| Some(format!("{}:{}", s.vendor?, s.product?).to_ascii_lowercase()))
            .collect(),
        Field::Os => Vec::new(),
    };
    texts.sort();
    texts.dedup();
    texts
}

/// Identify the device of `host`, or `None` when no rule matches and no hardware is known.
pub fn identify(host: &HostRecord) -> Option<DeviceIdentity> {
    struct Hit<'a> {
        rule: &'a Rule,
        service: Option<&'a Service>,
        evidence: Evidence,
    }
    let mut hits: Vec<Hit<'_>> = Vec::new();
    for rule in RULES {
        for service in host.services.iter() {
            for text in service_texts(service, rule.field) {
                if matches(&text, rule.needle) {
                    let source = format!(
                        "port {}/{} {}",
                        service.port,
                        service.transport,
                        field_name(rule.field)
                    );
                    hits.push(Hit {
                        rule,
                        service: Some(service),
                        evidence: Evidence {
                            rule: rule.name.into(),
                            source,
                            matched: text,
                            confidence: rule.confidence,
                        },
                    });
                }
            }
        }
        if rule.field == Field::Os
            && let Some(os) = &host.os
            && matches(os, rule.needle)
        {
            hits.push(Hit {
                rule,
                service: None,
                evidence: Evidence {
                    rule: rule.name.into(),
                    source: "host os".into(),
                    matched: os.clone(),
                    confidence: rule.confidence,
                },
            });
        }
    }
    let hardware: Option<&Software> =
        host.hardware.iter().find(|h| h.vendor.is_some() || h.product.is_some());
    if hits.is_empty() && hardware.is_none() {
        return None;
    }
    hits.sort_by(|a, b| {
        b.rule.confidence.cmp(&a.rule.confidence).then(a.rule.name.cmp(b.rule.name))
    });
    let mut identity = DeviceIdentity::default();
    if let Some(best) = hits.first() {
        identity.manufacturer = Some(best.rule.manufacturer.to_string());
        identity.product = Some(best.rule.product.to_string());
        identity.device_type = Some(best.rule.device_type.to_string());
        identity.confidence = best.rule.confidence;
        // Version and CPE from the strongest hit whose service has them, for this manufacturer.
        for hit in hits.iter().filter(|h| h.rule.manufacturer == best.rule.manufacturer) {
            if let Some(service) = hit.service {
                if identity.version.is_none() {
                    identity.version = service
                        .software
                        .iter()
                        .find(|s| s.version.is_some() && s.part.as_deref() != Some("h"))
                        .and_then(|s| s.version.clone())
                        .or_else(|| service.version.clone());
                }
                if identity.cpe.is_none() {
                    identity.cpe = service
                        .cpe
                        .first()
                        .cloned()
                        .or_else(|| service.software.iter().find_map(|s| s.cpe.clone()));
                }
            }
        }
    }
    if let Some(hardware) = hardware {
        identity.model = hardware.product.clone();
        if identity.manufacturer.is_none() {
            identity.manufacturer = hardware.vendor.clone();
        }
        identity.confidence = identity.confidence.max(90);
        hits.push(Hit {
            rule: &RULES[0],
            service: None,
            evidence: Evidence {
                rule: "hardware".into(),
                source: "hardware".into(),
                matched: [hardware.vendor.as_deref(), hardware.product.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                confidence: 90,
            },
        });
    }
    if identity.device_type.is_none() {
        identity.device_type = host.device_type.clone();
    }
    hits.sort_by(|a, b| {
        b.evidence
            .confidence
            .cmp(&a.evidence.confidence)
            .then(a.evidence.rule.cmp(&b.evidence.rule))
    });
    identity.evidence = hits.into_iter().map(|h| h.evidence).collect();
    Some(identity)
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Product => "product",
        Field::CpeVendorProduct => "cpe",
        Field::Banner => "banner",
        Field::HttpTitle => "http title",
        Field::Os => "os",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(product: &str, version: &str, cpe: &[&str]) -> Service {
        Service {
            port: 443,
            transport: "tcp".into(),
            product: Some(product.into()),
            version: Some(version.into()),
            cpe: cpe.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_strongest_rule_wins_and_hardware_gives_the_model() {
        let host = HostRecord {
            services: vec![service(
                "MikroTik router ftpd",
                "6.45.9",
                &["cpe:/o:mikrotik:routeros:6.45.9"],
            )],
            hardware: vec![Software {
                part: Some("h".into()),
                vendor: Some("mikrotik".into()),
                product: Some("rb4011".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let device = identify(&host).unwrap();
        assert_eq!(device.manufacturer.as_deref(), Some("MikroTik"));
        assert_eq!(device.product.as_deref(), Some("RouterOS"));
        assert_eq!(device.model.as_deref(), Some("rb4011"));
        assert_eq!(device.version.as_deref(), Some("6.45.9"));
        assert_eq!(device.cpe.as_deref(), Some("cpe:/o:mikrotik:routeros:6.45.9"));
        assert_eq!(device.device_type.as_deref(), Some("router"));
        assert_eq!(device.confidence, 90);
        let rules: Vec<&str> = device.evidence.iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(rules, ["hardware", "mikrotik-routeros-cpe", "mikrotik-product"]);
    }

    #[test]
    fn nothing_known_is_none() {
        let host =
            HostRecord { services: vec![service("nginx", "1.18", &[])], ..Default::default() };
        assert_eq!(identify(&host), None);
    }
}
