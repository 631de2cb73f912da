//! The GeoIP result and the record layouts it is read from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Normalized `geoip` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeoRecord {
    /// Whether any database knew the address.
    pub found: bool,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Country name (English), when the database has names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Country where the network is registered, when it differs in the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_country_code: Option<String>,
    /// Continent code (`EU`, `NA`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continent_code: Option<String>,
    /// First subdivision (state, region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
    /// City name (English).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Latitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Radius in kilometres around the coordinates where the address likely is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy_radius_km: Option<u32>,
    /// IANA time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The network of the location record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Autonomous system number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Autonomous system organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_organization: Option<String>,
    /// The network of the ASN record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn_network: Option<String>,
}

/// Any of the supported record layouts; every field optional.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MmdbRecord {
    // MaxMind GeoIP2 / GeoLite2 and DB-IP Lite.
    country: Option<Place>,
    registered_country: Option<Place>,
    continent: Option<Place>,
    subdivisions: Option<Vec<Place>>,
    city: Option<CityField>,
    location: Option<Location>,
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<String>,
    // ip-location-db.
    country_code: Option<String>,
    state1: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    timezone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Place {
    iso_code: Option<String>,
    code: Option<String>,
    names: Option<BTreeMap<String, String>>,
}

impl Place {
    fn name(&self) -> Option<String> {
        self.names.as_ref().and_then(|n| n.get("en").cloned())
    }
}

/// MaxMind's `city` is an object with names; ip-location-db's a plain string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CityField {
    Named(Place),
    Plain(String),
}

#[derive(Debug, Default, Deserialize)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
    accuracy_radius: Option<u16>,
    time_zone: Option<String>,
}

impl MmdbRecord {
    /// Fill what this record knows into `into` (fields already set are kept).
    pub(crate) fn merge_into(self, into: &mut GeoRecord, network: Option<String>) {
        fn keep<T>(slot: &mut Option<T>, value: Option<T>) {
            if slot.is_none() {
                *slot = value;
            }
        }
        into.found = true;
        let is_asn = self.autonomous_system_number.is_some();
        if let Some(country) = &self.country {
            keep(&mut into.country_code, country.iso_code.clone());
            keep(&mut into.country, country.name());
        }
        keep(&mut into.country_code, self.country_code.map(|c| c.to_ascii_uppercase()));
        if let Some(registered) = &self.registered_country {
            let registered_code = registered.iso_code.clone();
            if registered_code != into.country_code {
                keep(&mut into.registered_country_code, registered_code);
            }
        }
        if let Some(continent) = &self.continent {
            keep(&mut into.continent_code, continent.code.clone());
        }
        if let Some(first) = self.subdivisions.as_ref().and_then(|s| s.first()) {
            keep(&mut into.subdivision, first.name());
        }
        keep(&mut into.subdivision, self.state1);
        match self.city {
            Some(CityField::Named(place)) => keep(&mut into.city, place.name()),
            Some(CityField::Plain(name)) if !name.is_empty() => keep(&mut into.city, Some(name)),
            _ => {}
        }
        if let Some(location) = self.location {
            keep(&mut into.latitude, location.latitude);
            keep(&mut into.longitude, location.longitude);
            keep(&mut into.accuracy_radius_km, location.accuracy_radius.map(u32::from));
            keep(&mut into.time_zone, location.time_zone);
        }
        keep(&mut into.latitude, self.latitude);
        keep(&mut into.longitude, self.longitude);
        keep(&mut into.time_zone, self.timezone);
        keep(&mut into.asn, self.autonomous_system_number);
        keep(&mut into.as_organization, self.autonomous_system_organization);
        if is_asn {
            keep(&mut into.asn_network, network);
        } else {
            keep(&mut into.network, network);
        }
    }
}
