//! The normalized host record Shodan and Censys both produce: current and past services,
//! software, location, network and the device identity derived from them.

use serde::{Deserialize, Serialize};

use crate::device::DeviceIdentity;

/// What a scanning service knows about one address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostRecord {
    /// Whether the service knows the address at all.
    pub found: bool,
    /// The address.
    pub ip: String,
    /// When the service last updated the host (RFC 3339 as the provider gives it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update: Option<String>,
    /// Open ports now.
    pub ports: Vec<u16>,
    /// Services seen in the latest scan of each port.
    pub services: Vec<Service>,
    /// Earlier observations (newest first): what the host served before.
    pub history: Vec<Service>,
    /// Reverse and forward DNS names.
    pub hostnames: Vec<String>,
    /// Registered domains of those names.
    pub domains: Vec<String>,
    /// Organization the address is assigned to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Internet service provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isp: Option<String>,
    /// Autonomous system number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Autonomous system name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// BGP prefix announcing the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_prefix: Option<String>,
    /// Operating system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Device type as the provider classifies it (`router`, `firewall`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// Hardware the provider identified.
    pub hardware: Vec<Software>,
    /// Provider tags and labels (`cloud`, `vpn`, `self-signed`...).
    pub tags: Vec<String>,
    /// Vulnerabilities (CVE ids) the provider associates with the host.
    pub vulns: Vec<String>,
    /// Where the address is.
    pub location: HostLocation,
    /// Manufacturer, model and firmware of the device behind the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceIdentity>,
}

/// One network service on one port at one time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub transport: String,
    /// Application protocol (`http`, `ssh`, `telnet`...), lower case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Product name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Product version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// CPE names of what runs there.
    pub cpe: Vec<String>,
    /// Software identified (vendor, product, version).
    pub software: Vec<Software>,
    /// HTTP page title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_title: Option<String>,
    /// The first 256 characters of the banner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// When it was observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// A piece of software or hardware.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// CPE part: `a` application, `o` operating system, `h` hardware.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// Vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// CPE name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
}

/// Location as the scanning service reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostLocation {
    /// ISO country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Country name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Latitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

/// At most 256 characters of `text` (on a character boundary), without trailing space.
pub(crate) fn excerpt(text: &str) -> String {
    text.chars().take(256).collect::<String>().trim_end().to_string()
}

/// Parse a CPE 2.2 URI (`cpe:/h:cisco:asa_5505:9.1`) or 2.3 string
/// (`cpe:2.3:o:fortinet:fortios:6.0.4:*:...`) into a [`Software`].
pub fn parse_cpe(cpe: &str) -> Software {
    let fields: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').collect()
    } else if let Some(rest) = cpe.strip_prefix("cpe:/") {
        rest.split(':').collect()
    } else {
        Vec::new()
    };
    let field = |i: usize| {
        fields.get(i).map(|f| f.replace('\\', "")).filter(|f| !f.is_empty() && f != "*" && f != "-")
    };
    Software {
        part: field(0),
        vendor: field(1),
        product: field(2),
        version: field(3),
        cpe: Some(cpe.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpe_names_parse() {
        let s = parse_cpe("cpe:/h:cisco:asa_5505");
        assert_eq!(
            (s.part.as_deref(), s.vendor.as_deref(), s.product.as_deref(), s.version),
            (Some("h"), Some("cisco"), Some("asa_5505"), None)
        );
        let s = parse_cpe("cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*");
        assert_eq!(
            (s.vendor.as_deref(), s.product.as_deref(), s.version.as_deref()),
            (Some("fortinet"), Some("fortios"), Some("6.0.4"))
        );
        assert_eq!(excerpt(&"x".repeat(300)).len(), 256);
    }
}
