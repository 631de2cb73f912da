//! Imports: an [`IntelBatch`] written in one transaction, and the versions of source
//! documents already imported (so unchanged ones are skipped next time).
//!
//! Indicators are upserted as by [`Viewer::upsert_indicators`]. A group reference is
//! resolved to a group the importer can see (or one of the owner it writes for) with the
//! same kind and a matching name or alias (vulnerabilities also by CVE id), or by STIX id
//! among the owner's groups; only when none exists is one created, owned by the owner.
//! Links become associations unless the owner already has the same one. Everything writes
//! its outbox events and one audit entry, in the same transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tipline_model::import::{Endpoint, GroupLookup, IntelBatch};
use tipline_model::intel::{GroupInput, ObjectType};
use tipline_model::{GroupKind, Tlp};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::feeds::PullLease;
use crate::groups::{escape_like, insert_group};
use crate::objects::ExtrasWrite;
use crate::rows::uuid;
use crate::sql::{MAX_BINDS, Sql};
use crate::visibility::visible;
use crate::{StoreError, StoreResult, Viewer, audit, micros, new_id, now};

/// Created and already-present objects of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tally {
    /// New objects.
    pub created: u64,
    /// Objects that existed (indicators: updated; groups: found and reused).
    pub existing: u64,
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportSummary {
    /// Indicators per kind.
    pub indicators: BTreeMap<String, Tally>,
    /// Groups per kind.
    pub groups: BTreeMap<String, Tally>,
    /// Associations created (ones the owner already had are not counted).
    pub associations: u64,
    /// Source documents (MISP events) recorded as imported.
    pub documents: u64,
}

impl ImportSummary {
    /// Add `other`'s counts to these.
    pub fn add(&mut self, other: &ImportSummary) {
        for (mine, theirs) in
            [(&mut self.indicators, &other.indicators), (&mut self.groups, &other.groups)]
        {
            for (kind, tally) in theirs {
                let entry = mine.entry(kind.clone()).or_default();
                entry.created += tally.created;
                entry.existing += tally.existing;
            }
        }
        self.associations += other.associations;
        self.documents += other.documents;
    }
}

/// The import scope of a feed's documents.
pub fn feed_scope(feed_id: Uuid) -> String {
    format!("feed:{feed_id}")
}

/// The import scope of one-off imports owned by an organization.
pub fn owner_scope(org_id: Uuid) -> String {
    format!("owner:{org_id}")
}

impl Viewer<'_> {
    /// The recorded versions of `keys` in `scope` (keys never imported are absent).
    pub async fn import_versions(
        &self,
        scope: &str,
        keys: &[String],
    ) -> StoreResult<HashMap<String, i64>> {
        self.require_write()?;
        let mut conn = self.store.pool().acquire().await?;
        let mut versions = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BINDS - 1) {
            let mut sql = Sql::new("SELECT key, version FROM import_versions WHERE scope = ");
            sql.bind(scope.to_string())
                .push(" AND key IN (")
                .bind_list(chunk.iter().cloned())
                .push(")");
            versions.extend(sql.fetch_all::<(String, i64)>(&mut conn).await?);
        }
        Ok(versions)
    }

    /// Write `batch` in one transaction, recording its versions under `scope`. With a
    /// lease (a feed pull), the lease is checked and renewed in the same transaction, so a
    /// node that lost its lease writes nothing. If anything is invalid nothing is written.
    pub async fn import_batch(
        &self,
        batch: &IntelBatch,
        scope: &str,
        lease: Option<&PullLease>,
    ) -> StoreResult<ImportSummary> {
        let checked = self.check_indicators(&batch.indicators, true)?;
        let mut groups = Vec::with_capacity(batch.groups.len());
        let mut errors = Vec::new();
        for (i, group) in batch.groups.iter().enumerate() {
            match group.input.check() {
                Ok(input) => groups.push((group.lookup, input)),
                Err(errs) => {
                    errors.extend(errs.into_iter().map(|e| e.under(&format!("groups[{i}]"))))
                }
            }
        }
        for (i, link) in batch.links.iter().enumerate() {
            for end in [link.source, link.target] {
                let valid = match end {
                    Endpoint::Indicator(j) => j < batch.indicators.len(),
                    Endpoint::Group(j) => j < batch.groups.len(),
                };
                if !valid {
                    errors.push(tipline_model::validate::FieldError::new(
                        format!("links[{i}]"),
                        format!("{end:?} is not in the batch"),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(errors));
        }
        let at = micros(now());
        let mut tx = self.store.write().await?;
        let conn: &mut AnyConnection = &mut tx.tx;
        if let Some(lease) = lease {
            self.renew_lease(conn, lease, lease.duration_secs).await?;
        }
        let mut summary = ImportSummary::default();
        let (upserted, created) = self.upsert_checked(conn, &checked, true).await?;
        let mut counted: HashSet<Uuid> = HashSet::new();
        for ((c, id), created) in checked.iter().zip(&upserted.ids).zip(created) {
            if counted.insert(*id) {
                let tally =
                    summary.indicators.entry(c.canonical.kind.as_str().to_string()).or_default();
                if created {
                    tally.created += 1;
                } else {
                    tally.existing += 1;
                }
            }
        }

        let mut events = EventWrite::default();
        let mut owners: HashMap<Option<Uuid>, Uuid> = HashMap::new();
        let mut sharing_checked: Vec<(Uuid, Vec<Uuid>)> = Vec::new();
        let mut group_ids: Vec<Uuid> = Vec::with_capacity(groups.len());
        let mut resolved: HashMap<(GroupKind, String, Uuid), Uuid> = HashMap::new();
        for (i, (lookup, input)) in groups.iter().enumerate() {
            let owner = self.owner_of(conn, &mut owners, input.owner_id).await?;
            self.check_shares(
                conn,
                &mut sharing_checked,
                owner,
                &input.shared_to,
                &format!("groups[{i}]."),
            )
            .await?;
            let kind = input.kind.expect("checked");
            let key = (kind, input.name.to_lowercase(), owner);
            if let Some(id) = resolved.get(&key) {
                group_ids.push(*id);
                continue;
            }
            let found = match lookup {
                GroupLookup::ByName => self.find_group_by_name(conn, owner, input).await?,
                GroupLookup::ByStixId => self.find_group_by_stix_id(conn, owner, input).await?,
            };
            let tally = summary.groups.entry(kind.as_str().to_string()).or_default();
            let id = match found {
                Some(id) => {
                    tally.existing += 1;
                    if *lookup == GroupLookup::ByStixId {
                        // The same document again: keep what it says now.
                        let mut extras = ExtrasWrite::default();
                        extras.add(id, &input.tags, &input.attributes, &input.shared_to, &[]);
                        extras.write(conn).await?;
                    }
                    id
                }
                None => {
                    tally.created += 1;
                    let input = self.free_name(conn, owner, input).await?;
                    insert_group(conn, owner, &input, at, &mut events).await?
                }
            };
            resolved.insert(key, id);
            group_ids.push(id);
        }

        let end = |endpoint: Endpoint| match endpoint {
            Endpoint::Indicator(i) => (upserted.ids[i], ObjectType::Indicator),
            Endpoint::Group(i) => (group_ids[i], ObjectType::Group),
        };
        let mut edges: Vec<Edge> = Vec::new();
        for (i, link) in batch.links.iter().enumerate() {
            let owner = self.owner_of(conn, &mut owners, link.owner_id).await?;
            self.check_shares(
                conn,
                &mut sharing_checked,
                owner,
                &link.shared_to,
                &format!("links[{i}]."),
            )
            .await?;
            let (source, source_type) = end(link.source);
            let (target, target_type) = end(link.target);
            if source == target {
                continue;
            }
            edges.push(Edge {
                owner,
                source,
                source_type,
                relationship: link.relationship.as_str().to_string(),
                target,
                target_type,
                tlp: link.tlp,
                shared_to: link.shared_to.clone(),
            });
        }
        let existing = existing_edges(conn, &edges).await?;
        let mut seen: HashSet<(Uuid, Uuid, String, Uuid)> = existing;
        let mut extras = ExtrasWrite::default();
        let new_edges: Vec<_> = edges
            .into_iter()
            .filter(|e| seen.insert((e.owner, e.source, e.relationship.clone(), e.target)))
            .collect();
        for chunk in new_edges.chunks(MAX_BINDS / 13) {
            let mut sql = Sql::new(
                "INSERT INTO associations (id, owner_id, source_id, source_type, relationship, target_id, \
                 target_type, tlp, confidence, description, stix_id, created_at, updated_at) VALUES ",
            );
            for (j, edge) in chunk.iter().enumerate() {
                let Edge {
                    owner,
                    source,
                    source_type,
                    relationship,
                    target,
                    target_type,
                    tlp,
                    shared_to,
                } = edge;
                let id = new_id();
                sql.push(if j == 0 { "(" } else { ", (" })
                    .bind(id.to_string())
                    .push(", ")
                    .bind(owner.to_string())
                    .push(", ")
                    .bind(source.to_string())
                    .push(", ")
                    .bind(source_type.as_str().to_string())
                    .push(", ")
                    .bind(relationship.clone())
                    .push(", ")
                    .bind(target.to_string())
                    .push(", ")
                    .bind(target_type.as_str().to_string())
                    .push(", ")
                    .bind(tlp.as_str().to_string())
                    .push(", 50, NULL, NULL, ")
                    .bind(at)
                    .push(", ")
                    .bind(at)
                    .push(")");
                extras.add(id, &[], &BTreeMap::new(), shared_to, &[]);
                events.add(
                    "association.created",
                    Some(id),
                    Some(*owner),
                    serde_json::json!({ "id": id, "source_id": source, "relationship": relationship, "target_id": target }),
                    at,
                );
            }
            sql.push(" ON CONFLICT (owner_id, source_id, relationship, target_id) DO NOTHING");
            sql.execute(&mut *conn).await?;
            summary.associations += chunk.len() as u64;
        }
        extras.write(conn).await?;

        for chunk in batch.versions.chunks(MAX_BINDS / 5) {
            let mut sql = Sql::new(
                "INSERT INTO import_versions (scope, key, version, label, imported_at) VALUES ",
            );
            for (j, version) in chunk.iter().enumerate() {
                sql.push(if j == 0 { "(" } else { ", (" })
                    .bind(scope.to_string())
                    .push(", ")
                    .bind(version.key.clone())
                    .push(", ")
                    .bind(version.version)
                    .push(", ")
                    .bind(version.label.clone())
                    .push(", ")
                    .bind(at)
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (scope, key) DO UPDATE SET version = excluded.version, \
                 label = excluded.label, imported_at = excluded.imported_at",
            );
            sql.execute(&mut *conn).await?;
        }
        summary.documents = batch.versions.len() as u64;
        events.write(conn).await?;
        audit::record(
            conn,
            &self.principal,
            "import",
            "import",
            None,
            serde_json::json!({ "scope": scope, "summary": summary }),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn owner_of(
        &self,
        conn: &mut AnyConnection,
        owners: &mut HashMap<Option<Uuid>, Uuid>,
        owner_id: Option<Uuid>,
    ) -> StoreResult<Uuid> {
        if let Some(owner) = owners.get(&owner_id) {
            return Ok(*owner);
        }
        let owner = self.resolve_owner(conn, owner_id).await?;
        owners.insert(owner_id, owner);
        Ok(owner)
    }

    async fn check_shares(
        &self,
        conn: &mut AnyConnection,
        checked: &mut Vec<(Uuid, Vec<Uuid>)>,
        owner: Uuid,
        shared_to: &[Uuid],
        field_prefix: &str,
    ) -> StoreResult<()> {
        if shared_to.is_empty() || checked.iter().any(|(o, s)| *o == owner && s == shared_to) {
            return Ok(());
        }
        self.check_sharing(conn, owner, shared_to, &[], field_prefix).await?;
        checked.push((owner, shared_to.to_vec()));
        Ok(())
    }

    /// A group of the input's kind, visible to the importer or owned by `owner`, named or
    /// aliased like the input's name or one of its aliases; the owner's own first.
    async fn find_group_by_name(
        &self,
        conn: &mut AnyConnection,
        owner: Uuid,
        input: &GroupInput,
    ) -> StoreResult<Option<Uuid>> {
        let mut names: Vec<String> = std::iter::once(&input.name)
            .chain(&input.aliases)
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT g.id FROM intel_groups g WHERE g.kind = ")
            .bind(input.kind.expect("checked").as_str().to_string())
            .push(" AND (g.owner_id = ")
            .bind(owner.to_string())
            .push(" OR ")
            .push(&visible("g"))
            .push(") AND (lower(g.name) IN (")
            .bind_list(names.iter().cloned())
            .push(")");
        for name in names.iter().take(50) {
            let quoted = serde_json::to_string(name).expect("string serializes");
            sql.push(" OR lower(g.aliases) LIKE ")
                .bind(format!("%{}%", escape_like(&quoted)))
                .push(" ESCAPE '\\'");
        }
        if let Some(cve) = &input.cve {
            sql.push(" OR upper(g.cve) = ").bind(cve.to_uppercase());
        }
        sql.push(") ORDER BY CASE WHEN g.owner_id = ")
            .bind(owner.to_string())
            .push(" THEN 0 ELSE 1 END, g.created_at, g.id LIMIT 1");
        let found: Option<(String,)> = sql.fetch_optional(conn).await?;
        found.map(|(id,)| uuid(&id)).transpose()
    }

    /// The owner's group of the input's kind with the input's STIX id.
    async fn find_group_by_stix_id(
        &self,
        conn: &mut AnyConnection,
        owner: Uuid,
        input: &GroupInput,
    ) -> StoreResult<Option<Uuid>> {
        let Some(stix_id) = &input.stix_id else { return Ok(None) };
        let mut sql = Sql::new("SELECT id FROM intel_groups WHERE owner_id = ");
        sql.bind(owner.to_string())
            .push(" AND kind = ")
            .bind(input.kind.expect("checked").as_str().to_string())
            .push(" AND stix_id = ")
            .bind(stix_id.clone());
        let found: Option<(String,)> = sql.fetch_optional(conn).await?;
        found.map(|(id,)| uuid(&id)).transpose()
    }

    /// The input, renamed `name (id)` when the owner already has a group of that kind and
    /// name (two reports with the same title stay two reports).
    async fn free_name(
        &self,
        conn: &mut AnyConnection,
        owner: Uuid,
        input: &GroupInput,
    ) -> StoreResult<GroupInput> {
        let mut sql = Sql::new("SELECT id FROM intel_groups WHERE owner_id = ");
        sql.bind(owner.to_string())
            .push(" AND kind = ")
            .bind(input.kind.expect("checked").as_str().to_string())
            .push(" AND lower(name) = lower(")
            .bind(input.name.clone())
            .push(")");
        if sql.fetch_optional::<(String,)>(conn).await?.is_none() {
            return Ok(input.clone());
        }
        let suffix = input
            .stix_id
            .as_deref()
            .and_then(|s| s.split_once("--"))
            .map(|(_, u)| u.to_string())
            .unwrap_or_else(|| new_id().to_string());
        let mut name = input.name.clone();
        let room = 300 - suffix.len() - 3;
        while name.len() > room {
            name.pop();
        }
        Ok(GroupInput { name: format!("{name} ({suffix})"), ..input.clone() })
    }
}

/// An association to create.
struct Edge {
    owner: Uuid,
    source: Uuid,
    source_type: ObjectType,
    relationship: String,
    target: Uuid,
    target_type: ObjectType,
    tlp: Tlp,
    shared_to: Vec<Uuid>,
}

/// Of the candidate edges, those their owner already has: (owner, source, relationship, target).
async fn existing_edges(
    conn: &mut AnyConnection,
    edges: &[Edge],
) -> StoreResult<HashSet<(Uuid, Uuid, String, Uuid)>> {
    let mut sources: Vec<String> = edges.iter().map(|e| e.source.to_string()).collect();
    sources.sort();
    sources.dedup();
    let mut found = HashSet::new();
    for chunk in sources.chunks(MAX_BINDS - 1) {
        let mut sql = Sql::new(
            "SELECT owner_id, source_id, relationship, target_id FROM associations WHERE source_id IN (",
        );
        sql.bind_list(chunk.iter().cloned()).push(")");
        for (owner, source, relationship, target) in
            sql.fetch_all::<(String, String, String, String)>(&mut *conn).await?
        {
            found.insert((uuid(&owner)?, uuid(&source)?, relationship, uuid(&target)?));
        }
    }
    Ok(found)
}
