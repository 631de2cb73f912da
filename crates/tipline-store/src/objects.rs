//! What every intelligence object has besides its own columns: tags, attributes,
//! community shares and explicit grants (tables `object_*`, keyed by object id).

use std::collections::{BTreeMap, HashMap};

use sqlx::AnyConnection;
use sqlx::FromRow;
use tipline_model::intel::Sharing;
use uuid::Uuid;

use crate::rows::uuid;
use crate::sql::{MAX_BINDS, Sql};
use crate::{StoreError, StoreResult, Viewer, micros, now};

/// Tags, attributes and (for the owner only) sharing of a set of objects.
#[derive(Default)]
pub(crate) struct Extras {
    pub tags: HashMap<Uuid, Vec<String>>,
    pub attributes: HashMap<Uuid, BTreeMap<String, String>>,
    pub sharing: HashMap<Uuid, Sharing>,
}

#[derive(FromRow)]
struct Pair {
    object_id: String,
    a: String,
    b: String,
}

impl Extras {
    /// Load tags and attributes of `ids`, and sharing of those in `owned` (objects the reader
    /// owns: only an owner sees whom an object is shared with).
    pub(crate) async fn load(
        conn: &mut AnyConnection,
        ids: &[Uuid],
        owned: &[Uuid],
        with_attributes: bool,
    ) -> StoreResult<Extras> {
        let mut extras = Extras::default();
        for chunk in ids.chunks(MAX_BINDS) {
            let keys = chunk.iter().map(Uuid::to_string);
            let mut sql = Sql::new(
                "SELECT object_id, tag AS a, '' AS b FROM object_tags WHERE object_id IN (",
            );
            sql.bind_list(keys.clone()).push(") ORDER BY object_id, tag");
            for pair in sql.fetch_all::<Pair>(&mut *conn).await? {
                extras.tags.entry(uuid(&pair.object_id)?).or_default().push(pair.a);
            }
            if with_attributes {
                let mut sql = Sql::new(
                    "SELECT object_id, key AS a, value AS b FROM object_attributes WHERE object_id IN (",
                );
                sql.bind_list(keys).push(")");
                for pair in sql.fetch_all::<Pair>(&mut *conn).await? {
                    extras
                        .attributes
                        .entry(uuid(&pair.object_id)?)
                        .or_default()
                        .insert(pair.a, pair.b);
                }
            }
        }
        for chunk in owned.chunks(MAX_BINDS / 2) {
            let keys: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
            let mut sql = Sql::new(
                "SELECT object_id, community_id AS a, 's' AS b FROM object_shares WHERE object_id IN (",
            );
            sql.bind_list(keys.clone())
                .push(") UNION ALL SELECT object_id, org_id AS a, 'g' AS b FROM object_grants WHERE object_id IN (")
                .bind_list(keys)
                .push(")");
            for id in chunk {
                extras.sharing.insert(*id, Sharing::default());
            }
            for pair in sql.fetch_all::<Pair>(&mut *conn).await? {
                let entry = extras.sharing.entry(uuid(&pair.object_id)?).or_default();
                let target = uuid(&pair.a)?;
                if pair.b == "s" {
                    entry.shared_to.push(target);
                } else {
                    entry.granted_to.push(target);
                }
            }
        }
        for sharing in extras.sharing.values_mut() {
            sharing.shared_to.sort();
            sharing.granted_to.sort();
        }
        Ok(extras)
    }
}

/// Rows to add to the `object_*` tables for many objects at once.
#[derive(Default)]
pub(crate) struct ExtrasWrite {
    pub tags: Vec<(String, String)>,
    pub attributes: Vec<(String, String, String)>,
    pub shares: Vec<(String, String)>,
    pub grants: Vec<(String, String)>,
}

impl ExtrasWrite {
    pub(crate) fn add(
        &mut self,
        id: Uuid,
        tags: &[String],
        attributes: &BTreeMap<String, String>,
        shared_to: &[Uuid],
        granted_to: &[Uuid],
    ) {
        let id = id.to_string();
        self.tags.extend(tags.iter().map(|t| (id.clone(), t.clone())));
        self.attributes.extend(attributes.iter().map(|(k, v)| (id.clone(), k.clone(), v.clone())));
        self.shares.extend(shared_to.iter().map(|c| (id.clone(), c.to_string())));
        self.grants.extend(granted_to.iter().map(|o| (id.clone(), o.to_string())));
    }

    /// Insert everything, merging with what is there (existing tags and shares stay;
    /// attributes with the same key are overwritten).
    pub(crate) async fn write(self, conn: &mut AnyConnection) -> StoreResult<()> {
        for chunk in self.tags.chunks(MAX_BINDS / 2) {
            let mut sql = Sql::new("INSERT INTO object_tags (object_id, tag) VALUES ");
            for (i, (id, tag)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(id.clone()).push(", ").bind(tag.clone()).push(")");
            }
            sql.push(" ON CONFLICT DO NOTHING");
            sql.execute(&mut *conn).await?;
        }
        for chunk in self.attributes.chunks(MAX_BINDS / 3) {
            let mut sql = Sql::new("INSERT INTO object_attributes (object_id, key, value) VALUES ");
            for (i, (id, key, value)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(id.clone())
                    .push(", ")
                    .bind(key.clone())
                    .push(", ")
                    .bind(value.clone())
                    .push(")");
            }
            sql.push(" ON CONFLICT (object_id, key) DO UPDATE SET value = excluded.value");
            sql.execute(&mut *conn).await?;
        }
        for chunk in self.shares.chunks(MAX_BINDS / 2) {
            let mut sql = Sql::new("INSERT INTO object_shares (object_id, community_id) VALUES ");
            for (i, (id, community)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(id.clone()).push(", ").bind(community.clone()).push(")");
            }
            sql.push(" ON CONFLICT DO NOTHING");
            sql.execute(&mut *conn).await?;
        }
        let at = micros(now());
        for chunk in self.grants.chunks(MAX_BINDS / 3) {
            let mut sql =
                Sql::new("INSERT INTO object_grants (object_id, org_id, granted_at) VALUES ");
            for (i, (id, org)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(id.clone()).push(", ").bind(org.clone()).push(", ").bind(at).push(")");
            }
            sql.push(" ON CONFLICT DO NOTHING");
            sql.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Remove one `object_*` table's rows of an object (before replacing them).
pub(crate) async fn clear(conn: &mut AnyConnection, table: Table, id: Uuid) -> StoreResult<()> {
    let mut sql = Sql::new(match table {
        Table::Tags => "DELETE FROM object_tags WHERE object_id = ",
        Table::Attributes => "DELETE FROM object_attributes WHERE object_id = ",
        Table::Shares => "DELETE FROM object_shares WHERE object_id = ",
        Table::Grants => "DELETE FROM object_grants WHERE object_id = ",
    });
    sql.bind(id.to_string());
    sql.execute(conn).await?;
    Ok(())
}

/// One of the `object_*` tables.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Tags,
    Attributes,
    Shares,
    Grants,
}

impl Viewer<'_> {
    /// Resolve who owns a new object: the caller's organization unless `owner_id` names
    /// another one the caller may write for (host analysts may write for source
    /// organizations, e.g. when curating a feed).
    pub(crate) async fn resolve_owner(
        &self,
        conn: &mut AnyConnection,
        owner_id: Option<Uuid>,
    ) -> StoreResult<Uuid> {
        self.require_write()?;
        let Some(owner) = owner_id else {
            return Ok(self.principal.org_id);
        };
        if owner == self.principal.org_id {
            return Ok(owner);
        }
        let mut sql = Sql::new("SELECT kind FROM organizations WHERE id = ");
        sql.bind(owner.to_string());
        let kind: Option<(String,)> = sql.fetch_optional(&mut *conn).await?;
        match kind {
            None => {
                Err(StoreError::invalid("owner_id", format!("organization {owner} does not exist")))
            }
            Some((kind,))
                if kind == "source" && self.principal.org_kind == tipline_model::OrgKind::Host =>
            {
                Ok(owner)
            }
            Some(_) => Err(StoreError::Forbidden(format!(
                "you may not write intelligence owned by organization {owner}"
            ))),
        }
    }

    /// Check that the caller may share to these communities (it, or the owner it writes
    /// for, is a member; platform admins may share anywhere) and that granted organizations
    /// exist. Field names point into the input (`shared_to[1]`).
    pub(crate) async fn check_sharing(
        &self,
        conn: &mut AnyConnection,
        owner: Uuid,
        shared_to: &[Uuid],
        granted_to: &[Uuid],
        field_prefix: &str,
    ) -> StoreResult<()> {
        let mut errors = Vec::new();
        if !shared_to.is_empty() {
            let mut sql = Sql::new(
                "SELECT c.id, (SELECT COUNT(*) FROM community_members m WHERE m.community_id = c.id AND m.org_id = ",
            );
            sql.bind(owner.to_string()).push(") FROM communities c WHERE c.id IN (");
            sql.bind_list(shared_to.iter().map(Uuid::to_string)).push(")");
            let found: Vec<(String, i64)> = sql.fetch_all(&mut *conn).await?;
            for (i, community) in shared_to.iter().enumerate() {
                let field = format!("{field_prefix}shared_to[{i}]");
                match found.iter().find(|(id, _)| *id == community.to_string()) {
                    None => errors.push(tipline_model::validate::FieldError::new(
                        field,
                        format!("community {community} does not exist"),
                    )),
                    Some((_, 0)) if !self.principal.is_platform_admin() => {
                        errors.push(tipline_model::validate::FieldError::new(
                            field,
                            format!("the owner is not a member of community {community}"),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        if !granted_to.is_empty() {
            let mut sql = Sql::new("SELECT id FROM organizations WHERE id IN (");
            sql.bind_list(granted_to.iter().map(Uuid::to_string)).push(")");
            let found: Vec<(String,)> = sql.fetch_all(&mut *conn).await?;
            for (i, org) in granted_to.iter().enumerate() {
                if !found.iter().any(|(id,)| *id == org.to_string()) {
                    errors.push(tipline_model::validate::FieldError::new(
                        format!("{field_prefix}granted_to[{i}]"),
                        format!("organization {org} does not exist"),
                    ));
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(StoreError::Invalid(errors)) }
    }
}
