//! Organizations, roles, contacts, constituency and the principal a request acts as.

use uuid::Uuid;

crate::string_enum! {
    /// What part an organization plays on the platform.
    pub enum OrgKind as "organization kind" {
        /// The team that runs the platform. Exactly one exists.
        Host = "host",
        /// A member organization that receives and shares intelligence.
        Partner = "partner",
        /// A feed source (blocklist, TAXII collection, MISP feed, vendor).
        Source = "source",
    }
}

crate::string_enum! {
    /// A user's role within their organization.
    pub enum Role as "role" {
        /// Manages the organization's users and tokens; in the host organization, the whole platform.
        Admin = "admin",
        /// Reads and writes intelligence owned by the organization.
        Analyst = "analyst",
        /// Reads only.
        Viewer = "viewer",
    }
}

crate::string_enum! {
    /// Which function an organization's contact address serves.
    pub enum ContactRole as "contact role" {
        /// Security team: receives alerts and case notifications.
        Security = "security",
        /// Abuse desk: receives abuse and delisting matters.
        Abuse = "abuse",
        /// Network operations centre.
        Noc = "noc",
    }
}

crate::string_enum! {
    /// What an entry of an organization's constituency (registered address space) is.
    pub enum ConstituencyKind as "constituency kind" {
        /// An IPv4 or IPv6 network.
        Cidr = "cidr",
        /// An autonomous system.
        Asn = "asn",
        /// A domain; it covers its subdomains.
        Domain = "domain",
    }
}

/// Who a request acts as: a user of an organization with a role. Playbooks act as their
/// owning organization. Every read and write of intelligence is made on behalf of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user, if the request comes from a person's token (none for system actors).
    pub user_id: Option<Uuid>,
    /// The organization whose visibility applies.
    pub org_id: Uuid,
    /// What kind of organization that is.
    pub org_kind: OrgKind,
    /// The user's role in it.
    pub role: Role,
}

impl Principal {
    /// Whether this principal may administer the platform (organizations, communities,
    /// any user): an admin of the host organization.
    pub fn is_platform_admin(&self) -> bool {
        self.org_kind == OrgKind::Host && self.role == Role::Admin
    }

    /// Whether this principal may write intelligence (analysts and admins).
    pub fn can_write(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Analyst)
    }

    /// Whether this principal may administer users and tokens of `org_id`.
    pub fn can_manage_org(&self, org_id: Uuid) -> bool {
        self.is_platform_admin() || (self.role == Role::Admin && self.org_id == org_id)
    }
}
