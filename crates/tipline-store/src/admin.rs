//! Organizations (with contacts, constituency and subscriptions), communities and users,
//! plus the bootstrap of a new installation.

use std::collections::HashMap;

use sqlx::AnyConnection;
use tipline_model::admin::{
    Community, CommunityInput, ConstituencyEntry, Contact, NewToken, Organization,
    OrganizationInput, TokenInput, User, UserInput,
};
use tipline_model::validate::normalize_contact_email;
use tipline_model::{OrgKind, Principal, Role};
use uuid::Uuid;

use crate::rows::{parse, uuid};
use crate::sql::Sql;
use crate::tokens::insert_token;
use crate::{
    Store, StoreError, StoreResult, Viewer, WriteTx, audit, from_micros, micros, new_id, now,
};

type OrgRow = (String, String, String, Option<String>, Option<String>, Option<String>, i64, i64);
const ORG_COLUMNS: &str =
    "o.id, o.name, o.kind, o.sector, o.country, o.description, o.created_at, o.updated_at";

type UserRow = (String, String, String, Option<String>, String, i64, i64);
const USER_COLUMNS: &str = "u.id, u.org_id, u.email, u.name, u.role, u.disabled, u.created_at";

fn user_from_row(row: UserRow) -> StoreResult<User> {
    let (id, org_id, email, name, role, disabled, created_at) = row;
    Ok(User {
        id: uuid(&id)?,
        org_id: uuid(&org_id)?,
        email,
        name,
        role: parse(&role)?,
        disabled: disabled != 0,
        created_at: from_micros(created_at),
    })
}

/// What `tipline init` created.
#[derive(Debug)]
pub struct Bootstrap {
    /// The host organization.
    pub host: Organization,
    /// Its first administrator.
    pub admin: User,
    /// The administrator's first token (the only time its secret is shown).
    pub token: NewToken,
}

impl Store {
    /// Create the host organization, its first admin user and a token, unless a host
    /// organization already exists (then `None`: running `init` twice destroys nothing).
    pub async fn bootstrap(
        &self,
        host_name: &str,
        admin_email: &str,
    ) -> StoreResult<Option<Bootstrap>> {
        let email = normalize_contact_email(admin_email)
            .map_err(|r| StoreError::invalid("admin_email", r))?;
        if host_name.trim().is_empty() {
            return Err(StoreError::invalid("host_name", "must not be empty"));
        }
        let mut tx = self.write().await?;
        if host_org_id(&mut tx.tx).await?.is_some() {
            return Ok(None);
        }
        let input = OrganizationInput { name: host_name.trim().to_string(), ..Default::default() }
            .check()
            .map_err(StoreError::Invalid)?;
        let host_id = insert_org(&mut tx, &input, OrgKind::Host).await?;
        let admin =
            insert_user(&mut tx.tx, host_id, &email, Some("Administrator"), Role::Admin).await?;
        let token = insert_token(
            &mut tx.tx,
            admin.id,
            &TokenInput { name: "init".into(), ..Default::default() },
        )
        .await?;
        let principal = Principal {
            user_id: Some(admin.id),
            org_id: host_id,
            org_kind: OrgKind::Host,
            role: Role::Admin,
        };
        audit::record(
            &mut tx.tx,
            &principal,
            "platform.init",
            "organization",
            Some(host_id),
            serde_json::json!({ "admin": email }),
        )
        .await?;
        tx.commit().await?;
        let host = self.viewer(principal).get_organization(host_id).await?;
        Ok(Some(Bootstrap { host, admin, token }))
    }

    /// The principal operators act as from the command line: the host organization with
    /// the admin role (no user). `None` before `tipline init`.
    pub async fn host_principal(&self) -> StoreResult<Option<Principal>> {
        let mut conn = self.pool().acquire().await?;
        Ok(host_org_id(&mut conn).await?.map(|org_id| Principal {
            user_id: None,
            org_id,
            org_kind: OrgKind::Host,
            role: Role::Admin,
        }))
    }

    /// The principal of organization `org` (by id or name) acting with `role`, for the
    /// command line's `--as-org`.
    pub async fn org_principal(&self, org: &str, role: Role) -> StoreResult<Principal> {
        let mut sql = Sql::new("SELECT id, kind FROM organizations WHERE id = ");
        sql.bind(org.to_string()).push(" OR lower(name) = lower(").bind(org.to_string()).push(")");
        let row: Option<(String, String)> =
            sql.fetch_optional(&mut *self.pool().acquire().await?).await?;
        let (id, kind) =
            row.ok_or_else(|| StoreError::NotFound { what: "organization", id: org.to_string() })?;
        Ok(Principal { user_id: None, org_id: uuid(&id)?, org_kind: parse(&kind)?, role })
    }
}

/// An outbox event for a change of an organization (its constituency may have changed:
/// every node's index reloads it).
async fn org_event(
    conn: &mut AnyConnection,
    kind: &'static str,
    id: Uuid,
    name: &str,
) -> StoreResult<()> {
    let mut events = crate::events::EventWrite::default();
    events.add(
        kind,
        Some(id),
        Some(id),
        serde_json::json!({ "id": id, "name": name }),
        micros(now()),
    );
    events.write(conn).await
}

async fn host_org_id(conn: &mut AnyConnection) -> StoreResult<Option<Uuid>> {
    let row: Option<(String,)> =
        Sql::new("SELECT id FROM organizations WHERE kind = 'host'").fetch_optional(conn).await?;
    row.map(|(id,)| uuid(&id)).transpose()
}

async fn insert_org(
    tx: &mut WriteTx<'_>,
    input: &OrganizationInput,
    kind: OrgKind,
) -> StoreResult<Uuid> {
    let conn: &mut AnyConnection = &mut tx.tx;
    ensure_unique_name(conn, "organizations", &input.name, None).await?;
    let id = new_id();
    let at = micros(now());
    let mut sql = Sql::new(
        "INSERT INTO organizations (id, name, kind, sector, country, description, created_at, updated_at) VALUES (",
    );
    sql.bind(id.to_string())
        .push(", ")
        .bind(input.name.clone())
        .push(", ")
        .bind(kind.as_str().to_string())
        .push(", ")
        .bind(input.sector.clone())
        .push(", ")
        .bind(input.country.clone())
        .push(", ")
        .bind(input.description.clone())
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(")");
    sql.execute(&mut *conn).await?;
    write_org_lists(conn, id, &input.contacts, &input.constituency).await?;
    Ok(id)
}

async fn ensure_unique_name(
    conn: &mut AnyConnection,
    table: &str,
    name: &str,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let mut sql = Sql::new(&format!("SELECT id FROM {table} WHERE lower(name) = lower("));
    sql.bind(name.to_string()).push(")");
    if let Some(id) = except {
        sql.push(" AND id <> ").bind(id.to_string());
    }
    let found: Option<(String,)> = sql.fetch_optional(conn).await?;
    match found {
        Some(_) => Err(StoreError::Conflict(format!(
            "{} named `{name}` already exists",
            if table == "organizations" { "an organization" } else { "a community" }
        ))),
        None => Ok(()),
    }
}

async fn write_org_lists(
    conn: &mut AnyConnection,
    id: Uuid,
    contacts: &[Contact],
    constituency: &[ConstituencyEntry],
) -> StoreResult<()> {
    for table in ["org_contacts", "org_constituency"] {
        let mut sql = Sql::new(&format!("DELETE FROM {table} WHERE org_id = "));
        sql.bind(id.to_string());
        sql.execute(&mut *conn).await?;
    }
    for contact in contacts {
        let mut sql = Sql::new("INSERT INTO org_contacts (org_id, role, email) VALUES (");
        sql.bind(id.to_string())
            .push(", ")
            .bind(contact.role.as_str().to_string())
            .push(", ")
            .bind(contact.email.clone())
            .push(")");
        sql.execute(&mut *conn).await?;
    }
    for entry in constituency {
        let kind = entry.kind.map(|k| k.as_str()).unwrap_or("domain");
        let mut sql = Sql::new("INSERT INTO org_constituency (org_id, kind, value) VALUES (");
        sql.bind(id.to_string())
            .push(", ")
            .bind(kind.to_string())
            .push(", ")
            .bind(entry.value.clone())
            .push(")");
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_user(
    conn: &mut AnyConnection,
    org_id: Uuid,
    email: &str,
    name: Option<&str>,
    role: Role,
) -> StoreResult<User> {
    let mut sql = Sql::new("SELECT id FROM users WHERE email = ");
    sql.bind(email.to_string());
    if sql.fetch_optional::<(String,)>(&mut *conn).await?.is_some() {
        return Err(StoreError::Conflict(format!("a user with email `{email}` already exists")));
    }
    let user = User {
        id: new_id(),
        org_id,
        email: email.to_string(),
        name: name.map(str::to_string),
        role,
        disabled: false,
        created_at: now(),
    };
    let mut sql = Sql::new(
        "INSERT INTO users (id, org_id, email, name, role, disabled, created_at) VALUES (",
    );
    sql.bind(user.id.to_string())
        .push(", ")
        .bind(org_id.to_string())
        .push(", ")
        .bind(user.email.clone())
        .push(", ")
        .bind(user.name.clone())
        .push(", ")
        .bind(role.as_str().to_string())
        .push(", 0, ")
        .bind(micros(user.created_at))
        .push(")");
    sql.execute(conn).await?;
    Ok(user)
}

impl Viewer<'_> {
    /// Create a partner or source organization (platform admins only).
    pub async fn create_organization(
        &self,
        input: &OrganizationInput,
    ) -> StoreResult<Organization> {
        self.require_platform_admin()?;
        let input = input.check().map_err(StoreError::Invalid)?;
        let kind = input.kind.unwrap_or(OrgKind::Partner);
        if kind == OrgKind::Host {
            return Err(StoreError::invalid(
                "kind",
                "the host organization is created by `tipline init`; use partner or source",
            ));
        }
        let mut tx = self.store.write().await?;
        let id = self.insert_organization(&mut tx, &input, kind).await?;
        tx.commit().await?;
        self.get_organization(id).await
    }

    /// Create a source organization named `name` in the caller's transaction (a feed
    /// whose source does not exist yet).
    pub(crate) async fn create_source_in(
        &self,
        tx: &mut WriteTx<'_>,
        name: &str,
    ) -> StoreResult<Uuid> {
        let input = OrganizationInput { name: name.to_string(), ..Default::default() }
            .check()
            .map_err(|errors| {
                StoreError::Invalid(errors.into_iter().map(|e| e.under("source")).collect())
            })?;
        self.insert_organization(tx, &input, OrgKind::Source).await
    }

    async fn insert_organization(
        &self,
        tx: &mut WriteTx<'_>,
        input: &OrganizationInput,
        kind: OrgKind,
    ) -> StoreResult<Uuid> {
        let id = insert_org(tx, input, kind).await?;
        if kind == OrgKind::Source {
            // The host curates every source: it sees the source's GREEN and AMBER objects
            // through an ordinary subscription, so the visibility rule needs no exception.
            if let Some(host) = host_org_id(&mut tx.tx).await? {
                let mut sql =
                    Sql::new("INSERT INTO source_subscriptions (org_id, source_id) VALUES (");
                sql.bind(host.to_string())
                    .push(", ")
                    .bind(id.to_string())
                    .push(") ON CONFLICT DO NOTHING");
                sql.execute(&mut tx.tx).await?;
            }
        }
        org_event(&mut tx.tx, "organization.created", id, &input.name).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "organization.create",
            "organization",
            Some(id),
            serde_json::json!({ "name": input.name, "kind": kind }),
        )
        .await?;
        Ok(id)
    }

    /// Replace an organization's name, details, contacts and constituency (platform admins).
    pub async fn update_organization(
        &self,
        id: Uuid,
        input: &OrganizationInput,
    ) -> StoreResult<Organization> {
        self.require_platform_admin()?;
        let input = input.check().map_err(StoreError::Invalid)?;
        let existing = self.get_organization(id).await?;
        if let Some(kind) = input.kind
            && kind != existing.kind
            && (kind == OrgKind::Host || existing.kind == OrgKind::Host)
        {
            return Err(StoreError::invalid(
                "kind",
                "the host organization's kind cannot change, nor can another become host",
            ));
        }
        let mut tx = self.store.write().await?;
        ensure_unique_name(&mut tx.tx, "organizations", &input.name, Some(id)).await?;
        let mut sql = Sql::new("UPDATE organizations SET name = ");
        sql.bind(input.name.clone())
            .push(", kind = ")
            .bind(input.kind.unwrap_or(existing.kind).as_str().to_string())
            .push(", sector = ")
            .bind(input.sector.clone())
            .push(", country = ")
            .bind(input.country.clone())
            .push(", description = ")
            .bind(input.description.clone())
            .push(", updated_at = ")
            .bind(micros(now()))
            .push(" WHERE id = ")
            .bind(id.to_string());
        sql.execute(&mut tx.tx).await?;
        write_org_lists(&mut tx.tx, id, &input.contacts, &input.constituency).await?;
        org_event(&mut tx.tx, "organization.updated", id, &input.name).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "organization.update",
            "organization",
            Some(id),
            serde_json::json!({ "name": input.name }),
        )
        .await?;
        tx.commit().await?;
        self.get_organization(id).await
    }

    /// One organization: platform admins see any, others only their own.
    pub async fn get_organization(&self, id: Uuid) -> StoreResult<Organization> {
        if !self.principal.is_platform_admin() && id != self.principal.org_id {
            return Err(StoreError::NotFound { what: "organization", id: id.to_string() });
        }
        let mut orgs = self.load_organizations(Some(id)).await?;
        orgs.pop().ok_or_else(|| StoreError::NotFound { what: "organization", id: id.to_string() })
    }

    /// Every organization (platform admins), or just one's own.
    pub async fn list_organizations(&self) -> StoreResult<Vec<Organization>> {
        if self.principal.is_platform_admin() {
            self.load_organizations(None).await
        } else {
            self.load_organizations(Some(self.principal.org_id)).await
        }
    }

    /// Find an organization by id or (case-insensitive) name.
    pub async fn find_organization(&self, key: &str) -> StoreResult<Organization> {
        if let Ok(id) = Uuid::parse_str(key) {
            return self.get_organization(id).await;
        }
        let orgs = self.list_organizations().await?;
        orgs.into_iter()
            .find(|o| o.name.eq_ignore_ascii_case(key.trim()))
            .ok_or_else(|| StoreError::NotFound { what: "organization", id: key.to_string() })
    }

    async fn load_organizations(&self, only: Option<Uuid>) -> StoreResult<Vec<Organization>> {
        let mut conn = self.store.pool().acquire().await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(ORG_COLUMNS).push(" FROM organizations o");
        if let Some(id) = only {
            sql.push(" WHERE o.id = ").bind(id.to_string());
        }
        sql.push(" ORDER BY o.kind, lower(o.name)");
        let rows: Vec<OrgRow> = sql.fetch_all(&mut conn).await?;
        let mut orgs = Vec::with_capacity(rows.len());
        let mut position = HashMap::new();
        for (id, name, kind, sector, country, description, created_at, updated_at) in rows {
            let id = uuid(&id)?;
            position.insert(id, orgs.len());
            orgs.push(Organization {
                id,
                name,
                kind: parse(&kind)?,
                sector,
                country,
                description,
                contacts: Vec::new(),
                constituency: Vec::new(),
                subscriptions: Vec::new(),
                created_at: from_micros(created_at),
                updated_at: from_micros(updated_at),
            });
        }
        let filter = |sql: &mut Sql| {
            if let Some(id) = only {
                sql.push(" WHERE org_id = ").bind(id.to_string());
            }
        };
        let mut sql = Sql::new("SELECT org_id, role, email FROM org_contacts");
        filter(&mut sql);
        sql.push(" ORDER BY role, email");
        for (org, role, email) in sql.fetch_all::<(String, String, String)>(&mut conn).await? {
            if let Some(&i) = position.get(&uuid(&org)?) {
                orgs[i].contacts.push(Contact { role: parse(&role)?, email });
            }
        }
        let mut sql = Sql::new("SELECT org_id, kind, value FROM org_constituency");
        filter(&mut sql);
        sql.push(" ORDER BY kind, value");
        for (org, kind, value) in sql.fetch_all::<(String, String, String)>(&mut conn).await? {
            if let Some(&i) = position.get(&uuid(&org)?) {
                orgs[i].constituency.push(ConstituencyEntry { kind: Some(parse(&kind)?), value });
            }
        }
        let mut sql = Sql::new("SELECT org_id, source_id, '' FROM source_subscriptions");
        filter(&mut sql);
        sql.push(" ORDER BY source_id");
        for (org, source, _) in sql.fetch_all::<(String, String, String)>(&mut conn).await? {
            if let Some(&i) = position.get(&uuid(&org)?) {
                orgs[i].subscriptions.push(uuid(&source)?);
            }
        }
        Ok(orgs)
    }

    /// Make `org_id` a subscriber of source organization `source_id` (platform admins):
    /// the source's GREEN and AMBER objects become visible to it.
    pub async fn subscribe(&self, org_id: Uuid, source_id: Uuid) -> StoreResult<Organization> {
        self.require_platform_admin()?;
        let source = self.get_organization(source_id).await.map_err(|_| {
            StoreError::invalid("source_id", format!("organization {source_id} does not exist"))
        })?;
        if source.kind != OrgKind::Source {
            return Err(StoreError::invalid(
                "source_id",
                format!("`{}` is a {} organization, not a source", source.name, source.kind),
            ));
        }
        self.get_organization(org_id).await?;
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("INSERT INTO source_subscriptions (org_id, source_id) VALUES (");
        sql.bind(org_id.to_string())
            .push(", ")
            .bind(source_id.to_string())
            .push(") ON CONFLICT DO NOTHING");
        sql.execute(&mut tx.tx).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "organization.subscribe",
            "organization",
            Some(org_id),
            serde_json::json!({ "source_id": source_id }),
        )
        .await?;
        tx.commit().await?;
        self.get_organization(org_id).await
    }

    /// End a subscription (platform admins).
    pub async fn unsubscribe(&self, org_id: Uuid, source_id: Uuid) -> StoreResult<Organization> {
        self.require_platform_admin()?;
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("DELETE FROM source_subscriptions WHERE org_id = ");
        sql.bind(org_id.to_string()).push(" AND source_id = ").bind(source_id.to_string());
        sql.execute(&mut tx.tx).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "organization.unsubscribe",
            "organization",
            Some(org_id),
            serde_json::json!({ "source_id": source_id }),
        )
        .await?;
        tx.commit().await?;
        self.get_organization(org_id).await
    }

    /// Create a community (platform admins).
    pub async fn create_community(&self, input: &CommunityInput) -> StoreResult<Community> {
        self.require_platform_admin()?;
        input.check().map_err(StoreError::Invalid)?;
        let mut tx = self.store.write().await?;
        let name = input.name.trim();
        ensure_unique_name(&mut tx.tx, "communities", name, None).await?;
        let id = new_id();
        let at = micros(now());
        let mut sql =
            Sql::new("INSERT INTO communities (id, name, description, created_at) VALUES (");
        sql.bind(id.to_string())
            .push(", ")
            .bind(name.to_string())
            .push(", ")
            .bind(input.description.clone())
            .push(", ")
            .bind(at)
            .push(")");
        sql.execute(&mut tx.tx).await?;
        for (i, member) in input.members.iter().enumerate() {
            add_member(&mut tx.tx, id, *member, at).await.map_err(|e| match e {
                StoreError::Invalid(errs) => StoreError::Invalid(
                    errs.into_iter().map(|e| e.under(&format!("members[{i}]"))).collect(),
                ),
                other => other,
            })?;
        }
        audit::record(
            &mut tx.tx,
            &self.principal,
            "community.create",
            "community",
            Some(id),
            serde_json::json!({ "name": name }),
        )
        .await?;
        tx.commit().await?;
        self.get_community(id).await
    }

    /// Communities: platform admins see all, others those their organization belongs to.
    pub async fn list_communities(&self) -> StoreResult<Vec<Community>> {
        self.load_communities(None).await
    }

    /// One community (if the caller may see it).
    pub async fn get_community(&self, id: Uuid) -> StoreResult<Community> {
        self.load_communities(Some(id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound { what: "community", id: id.to_string() })
    }

    /// Find a community by id or (case-insensitive) name.
    pub async fn find_community(&self, key: &str) -> StoreResult<Community> {
        if let Ok(id) = Uuid::parse_str(key) {
            return self.get_community(id).await;
        }
        self.list_communities()
            .await?
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(key.trim()))
            .ok_or_else(|| StoreError::NotFound { what: "community", id: key.to_string() })
    }

    async fn load_communities(&self, only: Option<Uuid>) -> StoreResult<Vec<Community>> {
        let mut conn = self.store.pool().acquire().await?;
        let mut sql = Sql::new(
            "SELECT c.id, c.name, c.description, c.created_at FROM communities c WHERE 1 = 1",
        );
        if let Some(id) = only {
            sql.push(" AND c.id = ").bind(id.to_string());
        }
        if !self.principal.is_platform_admin() {
            sql.push(" AND EXISTS (SELECT 1 FROM community_members m WHERE m.community_id = c.id AND m.org_id = ")
                .bind(self.org())
                .push(")");
        }
        sql.push(" ORDER BY lower(c.name)");
        let rows: Vec<(String, String, Option<String>, i64)> = sql.fetch_all(&mut conn).await?;
        let mut communities = Vec::with_capacity(rows.len());
        for (id, name, description, created_at) in rows {
            let mut sql = Sql::new("SELECT org_id FROM community_members WHERE community_id = ");
            sql.bind(id.clone()).push(" ORDER BY org_id");
            let members: Vec<(String,)> = sql.fetch_all(&mut conn).await?;
            communities.push(Community {
                id: uuid(&id)?,
                name,
                description,
                members: members.iter().map(|(m,)| uuid(m)).collect::<StoreResult<_>>()?,
                created_at: from_micros(created_at),
            });
        }
        Ok(communities)
    }

    /// Add an organization to a community (platform admins). Adding a member twice is not an error.
    pub async fn add_community_member(&self, community: Uuid, org: Uuid) -> StoreResult<Community> {
        self.require_platform_admin()?;
        self.get_community(community).await?;
        let mut tx = self.store.write().await?;
        add_member(&mut tx.tx, community, org, micros(now())).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "community.join",
            "community",
            Some(community),
            serde_json::json!({ "org_id": org }),
        )
        .await?;
        tx.commit().await?;
        self.get_community(community).await
    }

    /// Remove an organization from a community (platform admins).
    pub async fn remove_community_member(
        &self,
        community: Uuid,
        org: Uuid,
    ) -> StoreResult<Community> {
        self.require_platform_admin()?;
        self.get_community(community).await?;
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("DELETE FROM community_members WHERE community_id = ");
        sql.bind(community.to_string()).push(" AND org_id = ").bind(org.to_string());
        sql.execute(&mut tx.tx).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "community.leave",
            "community",
            Some(community),
            serde_json::json!({ "org_id": org }),
        )
        .await?;
        tx.commit().await?;
        self.get_community(community).await
    }

    /// Create a user in an organization the caller manages (its admins; platform admins: any).
    pub async fn create_user(&self, input: &UserInput) -> StoreResult<User> {
        let org_id = input.org_id.unwrap_or(self.principal.org_id);
        if !self.principal.can_manage_org(org_id) {
            return Err(StoreError::Forbidden(
                "only administrators may create users, in their own organization".into(),
            ));
        }
        let email =
            normalize_contact_email(&input.email).map_err(|r| StoreError::invalid("email", r))?;
        if let Some(name) = &input.name
            && name.len() > 200
        {
            return Err(StoreError::invalid("name", "longer than 200 bytes"));
        }
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("SELECT id FROM organizations WHERE id = ");
        sql.bind(org_id.to_string());
        if sql.fetch_optional::<(String,)>(&mut tx.tx).await?.is_none() {
            return Err(StoreError::invalid(
                "org_id",
                format!("organization {org_id} does not exist"),
            ));
        }
        let user = insert_user(
            &mut tx.tx,
            org_id,
            &email,
            input.name.as_deref(),
            input.role.unwrap_or(Role::Viewer),
        )
        .await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "user.create",
            "user",
            Some(user.id),
            serde_json::json!({ "email": user.email, "role": user.role, "org_id": org_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Users the caller may administer (platform admins: all; org admins: their org's;
    /// others: themselves).
    pub async fn list_users(&self) -> StoreResult<Vec<User>> {
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS).push(" FROM users u");
        if self.principal.is_platform_admin() {
        } else if self.principal.role == Role::Admin {
            sql.push(" WHERE u.org_id = ").bind(self.org());
        } else {
            sql.push(" WHERE u.id = ")
                .bind(self.principal.user_id.map(|u| u.to_string()).unwrap_or_default());
        }
        sql.push(" ORDER BY u.email");
        let rows: Vec<UserRow> = sql.fetch_all(&mut *self.store.pool().acquire().await?).await?;
        rows.into_iter().map(user_from_row).collect()
    }

    /// One user the caller may see (see [`Viewer::list_users`]).
    pub async fn get_user(&self, id: Uuid) -> StoreResult<User> {
        let mut conn = self.store.pool().acquire().await?;
        let user = self.user_in_tx(&mut conn, id).await?;
        if Some(id) == self.principal.user_id || self.principal.can_manage_org(user.org_id) {
            Ok(user)
        } else {
            Err(StoreError::NotFound { what: "user", id: id.to_string() })
        }
    }

    /// Find a user by id or email (see [`Viewer::get_user`] for who may).
    pub async fn find_user(&self, key: &str) -> StoreResult<User> {
        if let Ok(id) = Uuid::parse_str(key) {
            return self.get_user(id).await;
        }
        let email = key.trim().to_lowercase();
        self.list_users()
            .await?
            .into_iter()
            .find(|u| u.email == email)
            .ok_or_else(|| StoreError::NotFound { what: "user", id: key.to_string() })
    }

    pub(crate) async fn user_in_tx(&self, conn: &mut AnyConnection, id: Uuid) -> StoreResult<User> {
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS).push(" FROM users u WHERE u.id = ").bind(id.to_string());
        let row: Option<UserRow> = sql.fetch_optional(conn).await?;
        user_from_row(row.ok_or_else(|| StoreError::NotFound { what: "user", id: id.to_string() })?)
    }
}

async fn add_member(
    conn: &mut AnyConnection,
    community: Uuid,
    org: Uuid,
    at: i64,
) -> StoreResult<()> {
    let mut sql = Sql::new("SELECT id FROM organizations WHERE id = ");
    sql.bind(org.to_string());
    if sql.fetch_optional::<(String,)>(&mut *conn).await?.is_none() {
        return Err(StoreError::invalid("org_id", format!("organization {org} does not exist")));
    }
    let mut sql =
        Sql::new("INSERT INTO community_members (community_id, org_id, joined_at) VALUES (");
    sql.bind(community.to_string())
        .push(", ")
        .bind(org.to_string())
        .push(", ")
        .bind(at)
        .push(") ON CONFLICT DO NOTHING");
    sql.execute(conn).await?;
    Ok(())
}
