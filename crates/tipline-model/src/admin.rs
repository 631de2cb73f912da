//! Organizations, communities, users and API tokens: who takes part and how they sign in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::{Errors, FieldError, normalize_contact_email};
use crate::{ConstituencyKind, ContactRole, IndicatorKind, OrgKind, Role, canonicalize, detect};

/// An address of an organization for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// What the address is for.
    pub role: ContactRole,
    /// Email address.
    pub email: String,
}

/// One entry of an organization's registered address space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstituencyEntry {
    /// `cidr`, `asn` or `domain`; guessed from the value when omitted on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ConstituencyKind>,
    /// The network (`192.0.2.0/24`, a single address becomes `/32` or `/128`), `AS64500`, or
    /// a domain that covers its subdomains.
    pub value: String,
}

impl ConstituencyEntry {
    /// Validate and canonicalize: networks keep their prefix (addresses get a full-length
    /// one), ASNs become `AS<n>`, domains lower-case ASCII.
    pub fn canonical(&self) -> Result<ConstituencyEntry, String> {
        let guessed = match self.kind {
            Some(kind) => kind,
            None => match detect(&self.value).map_err(|e| e.to_string())?.kind {
                IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
                    ConstituencyKind::Cidr
                }
                IndicatorKind::Asn => ConstituencyKind::Asn,
                IndicatorKind::Domain => ConstituencyKind::Domain,
                other => {
                    return Err(format!(
                        "`{}` is {other}, not a network, asn or domain",
                        self.value
                    ));
                }
            },
        };
        let value = match guessed {
            ConstituencyKind::Cidr => {
                let c = canonicalize(IndicatorKind::Cidr, &self.value)
                    .or_else(|_| detect(&self.value))
                    .map_err(|e| e.to_string())?;
                match c.kind {
                    IndicatorKind::Cidr => c.value,
                    IndicatorKind::Ipv4 => format!("{}/32", c.value),
                    IndicatorKind::Ipv6 => format!("{}/128", c.value),
                    other => return Err(format!("`{}` is {other}, not a network", self.value)),
                }
            }
            ConstituencyKind::Asn => {
                canonicalize(IndicatorKind::Asn, &self.value).map_err(|e| e.to_string())?.value
            }
            ConstituencyKind::Domain => {
                canonicalize(IndicatorKind::Domain, &self.value).map_err(|e| e.to_string())?.value
            }
        };
        Ok(ConstituencyEntry { kind: Some(guessed), value })
    }
}

/// A participating organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Organization {
    /// Identifier.
    pub id: Uuid,
    /// Unique display name.
    pub name: String,
    /// `host`, `partner` or `source`.
    pub kind: OrgKind,
    /// Sector, e.g. `energy`.
    pub sector: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Addresses by role.
    pub contacts: Vec<Contact>,
    /// Registered networks, ASNs and domains.
    pub constituency: Vec<ConstituencyEntry>,
    /// Source organizations this organization subscribes to (their GREEN/AMBER objects become visible).
    pub subscriptions: Vec<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Input to create or replace an organization.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationInput {
    /// Unique display name (1–200 bytes).
    pub name: String,
    /// `partner` (default) or `source`; `host` exists once and is made by `tipline init`.
    #[serde(default)]
    pub kind: Option<OrgKind>,
    /// Sector.
    #[serde(default)]
    pub sector: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default)]
    pub country: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Addresses by role.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Registered networks, ASNs and domains.
    #[serde(default)]
    pub constituency: Vec<ConstituencyEntry>,
}

impl OrganizationInput {
    /// Validate every field, returning the canonical form or every problem found.
    pub fn check(&self) -> Result<OrganizationInput, Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check_text("name", &self.name, 200, true);
        if let Some(country) = &self.country
            && !is_country_code(country)
        {
            errors.add("country", format!("`{country}` is not an ISO 3166-1 alpha-2 code"));
        }
        if let Some(sector) = &self.sector {
            errors.check_text("sector", sector, 100, false);
        }
        if let Some(description) = &self.description {
            errors.check_text("description", description, 10_000, false);
        }
        let mut contacts = Vec::with_capacity(self.contacts.len());
        for (i, contact) in self.contacts.iter().enumerate() {
            match normalize_contact_email(&contact.email) {
                Ok(email) => contacts.push(Contact { role: contact.role, email }),
                Err(reason) => errors.add(format!("contacts[{i}].email"), reason),
            }
        }
        contacts.sort_by(|a, b| (a.role, &a.email).cmp(&(b.role, &b.email)));
        contacts.dedup();
        let mut constituency = Vec::with_capacity(self.constituency.len());
        for (i, entry) in self.constituency.iter().enumerate() {
            match entry.canonical() {
                Ok(entry) => constituency.push(entry),
                Err(reason) => errors.add(format!("constituency[{i}].value"), reason),
            }
        }
        constituency.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        constituency.dedup();
        errors.finish()?;
        Ok(OrganizationInput {
            name: self.name.trim().to_string(),
            kind: Some(self.kind.unwrap_or(OrgKind::Partner)),
            sector: self.sector.as_ref().map(|s| s.trim().to_string()),
            country: self.country.as_ref().map(|c| c.trim().to_ascii_uppercase()),
            description: self.description.clone(),
            contacts,
            constituency,
        })
    }
}

/// Whether `s` looks like an ISO 3166-1 alpha-2 code (two ASCII letters).
pub fn is_country_code(s: &str) -> bool {
    let s = s.trim();
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A named sharing group of member organizations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Community {
    /// Identifier.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Member organizations.
    pub members: Vec<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Input to create a community.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunityInput {
    /// Unique name (1–200 bytes).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Initial member organizations.
    #[serde(default)]
    pub members: Vec<Uuid>,
}

impl CommunityInput {
    /// Validate every field.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check_text("name", &self.name, 200, true);
        if let Some(description) = &self.description {
            errors.check_text("description", description, 10_000, false);
        }
        errors.finish()
    }
}

/// A person (or service account) of an organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Identifier.
    pub id: Uuid,
    /// The organization the user belongs to.
    pub org_id: Uuid,
    /// Unique login email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// `admin`, `analyst` or `viewer`.
    pub role: Role,
    /// A disabled user's tokens stop working.
    pub disabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Input to create a user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// The user's organization; defaults to the caller's.
    #[serde(default)]
    pub org_id: Option<Uuid>,
    /// Unique login email.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Role; defaults to `viewer`.
    #[serde(default)]
    pub role: Option<Role>,
}

/// An API token's public description. The secret is shown once, at creation, in [`NewToken`].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    /// Identifier.
    pub id: Uuid,
    /// The user the token acts as.
    pub user_id: Uuid,
    /// A label, e.g. `siem-integration`.
    pub name: String,
    /// The first characters of the token, enough to recognize it (`tpl_1a2b3c4d`).
    pub prefix: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last time the token authenticated a request (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When the token stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the token was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Input to create a token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// A label (1–100 bytes).
    pub name: String,
    /// The user the token acts as; defaults to the caller.
    #[serde(default)]
    pub user_id: Option<Uuid>,
    /// Lifetime in days; no expiry when omitted.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A freshly created token: the only time its secret is ever shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewToken {
    /// The token's description.
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret, to be sent as `Authorization: Bearer <secret>`. It is stored only hashed.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_input_collects_every_problem() {
        let input = OrganizationInput {
            name: " ".into(),
            country: Some("Germany".into()),
            contacts: vec![Contact { role: ContactRole::Security, email: "nobody".into() }],
            constituency: vec![ConstituencyEntry { kind: None, value: "not a net".into() }],
            ..Default::default()
        };
        let errors = input.check().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "country", "contacts[0].email", "constituency[0].value"]);
    }
}
