//! Importing what was extracted from a report: the report group, its indicators and the
//! vulnerabilities (CVE ids) it names, and an association from the report to each, all in
//! one transaction.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::AnyConnection;
use tipline_model::intel::{GroupInput, IndicatorInput, ObjectType};
use tipline_model::{GroupKind, RelationshipType, Tlp};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::objects::ExtrasWrite;
use crate::rows::uuid;
use crate::sql::{MAX_BINDS, Sql};
use crate::{StoreError, StoreResult, Viewer, audit, micros, new_id, now};

/// The relationship from a report to what it mentions. STIX `indicates` runs from an
/// indicator to malware, adversaries or campaigns, never to a report, so the generic
/// `related-to` is used, in the direction of the STIX report's `object_refs`.
pub const REPORT_RELATIONSHIP: RelationshipType = RelationshipType::RelatedTo;

/// A report and what was found in it.
#[derive(Debug, Clone, Default)]
pub struct ReportImport {
    /// The report group (its kind must be `report`). When the owner already has a report of
    /// this name, that report is reused.
    pub report: GroupInput,
    /// The indicators found, upserted for the report's owner.
    pub indicators: Vec<IndicatorInput>,
    /// CVE ids found: a vulnerability group each (reused when the owner has one).
    pub cves: Vec<String>,
}

/// What [`Viewer::import_report`] did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportImported {
    /// The report group.
    pub report_id: Uuid,
    /// Whether the report was created (false: an existing report of that name was reused).
    pub report_created: bool,
    /// Indicators that did not exist for the owner.
    pub indicators_created: u64,
    /// Indicators the owner already had (last seen moved, tags merged).
    pub indicators_updated: u64,
    /// Vulnerability groups created for CVE ids.
    pub vulnerabilities_created: u64,
    /// Vulnerability groups the owner already had.
    pub vulnerabilities_reused: u64,
    /// New associations from the report (existing ones are kept).
    pub associations_created: u64,
    /// Their relationship type (`related-to`).
    pub relationship: RelationshipType,
}

impl Viewer<'_> {
    /// Import a report and everything found in it in one transaction: the report group
    /// (reused if the owner has one of the same name), the indicators (upserted), a
    /// vulnerability group per CVE id, and a `related-to` association from the report to
    /// each of them, owned by the report's owner with the report's TLP and shares. Any
    /// invalid item rejects the whole import.
    pub async fn import_report(&self, input: &ReportImport) -> StoreResult<ReportImported> {
        self.require_write()?;
        if input.report.kind != Some(GroupKind::Report) {
            return Err(StoreError::invalid("report.kind", "must be `report`"));
        }
        let mut cves = BTreeSet::new();
        for (i, cve) in input.cves.iter().enumerate() {
            let cve = cve.trim().to_ascii_uppercase();
            if !tipline_model::group::is_cve_id(&cve) {
                return Err(StoreError::invalid(format!("cves[{i}]"), "not a CVE id"));
            }
            cves.insert(cve);
        }
        let mut tx = self.store.write().await?;
        let conn: &mut AnyConnection = &mut tx.tx;
        let owner = self.resolve_owner(conn, input.report.owner_id).await?;
        let mut report = input.report.clone();
        report.owner_id = Some(owner);
        let existing = self.owned_group(conn, owner, GroupKind::Report, &report.name).await?;
        let (report_id, report_created) = match existing {
            Some(id) => (id, false),
            None => (self.create_group_in(conn, &report).await?, true),
        };
        let mut indicators = input.indicators.clone();
        for indicator in &mut indicators {
            indicator.owner_id = Some(owner);
        }
        let upserted = self.upsert_in(conn, &indicators, true).await?;
        let mut targets: Vec<(Uuid, ObjectType)> = Vec::new();
        let mut seen = BTreeSet::new();
        for id in &upserted.ids {
            if seen.insert(*id) {
                targets.push((*id, ObjectType::Indicator));
            }
        }
        let (mut vulnerabilities_created, mut vulnerabilities_reused) = (0, 0);
        for cve in &cves {
            let id = match self.owned_group(conn, owner, GroupKind::Vulnerability, cve).await? {
                Some(id) => {
                    vulnerabilities_reused += 1;
                    id
                }
                None => {
                    let vulnerability = GroupInput {
                        kind: Some(GroupKind::Vulnerability),
                        name: cve.clone(),
                        cve: Some(cve.clone()),
                        owner_id: Some(owner),
                        tlp: report.tlp,
                        shared_to: report.shared_to.clone(),
                        ..Default::default()
                    };
                    vulnerabilities_created += 1;
                    self.create_group_in(conn, &vulnerability).await?
                }
            };
            if seen.insert(id) {
                targets.push((id, ObjectType::Group));
            }
        }
        let associations_created =
            self.associate_report(conn, owner, report_id, &report, &targets).await?;
        audit::record(
            conn,
            &self.principal,
            "report.import",
            "group",
            Some(report_id),
            serde_json::json!({
                "indicators": targets.len() - cves.len(),
                "cves": cves.len(),
                "associations_created": associations_created,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(ReportImported {
            report_id,
            report_created,
            indicators_created: upserted.created,
            indicators_updated: upserted.updated,
            vulnerabilities_created,
            vulnerabilities_reused,
            associations_created,
            relationship: REPORT_RELATIONSHIP,
        })
    }

    /// The group of this owner, kind and name (case-insensitive), if any.
    async fn owned_group(
        &self,
        conn: &mut AnyConnection,
        owner: Uuid,
        kind: GroupKind,
        name: &str,
    ) -> StoreResult<Option<Uuid>> {
        let mut sql = Sql::new("SELECT id FROM intel_groups WHERE owner_id = ");
        sql.bind(owner.to_string())
            .push(" AND kind = ")
            .bind(kind.as_str().to_string())
            .push(" AND lower(name) = lower(")
            .bind(name.trim().to_string())
            .push(")");
        match sql.fetch_optional::<(String,)>(conn).await? {
            Some((id,)) => Ok(Some(uuid(&id)?)),
            None => Ok(None),
        }
    }

    /// Insert the associations report → target that do not exist yet; returns how many.
    async fn associate_report(
        &self,
        conn: &mut AnyConnection,
        owner: Uuid,
        report_id: Uuid,
        report: &GroupInput,
        targets: &[(Uuid, ObjectType)],
    ) -> StoreResult<u64> {
        let mut sql = Sql::new("SELECT target_id FROM associations WHERE owner_id = ");
        sql.bind(owner.to_string())
            .push(" AND source_id = ")
            .bind(report_id.to_string())
            .push(" AND relationship = ")
            .bind(REPORT_RELATIONSHIP.as_str().to_string());
        let existing: BTreeSet<String> =
            sql.fetch_all::<(String,)>(&mut *conn).await?.into_iter().map(|(t,)| t).collect();
        let new: Vec<&(Uuid, ObjectType)> =
            targets.iter().filter(|(id, _)| !existing.contains(&id.to_string())).collect();
        let at = micros(now());
        let tlp = report.tlp.unwrap_or(Tlp::Amber);
        let mut events = EventWrite::default();
        let mut extras = ExtrasWrite::default();
        for chunk in new.chunks(MAX_BINDS / 12) {
            let mut sql = Sql::new(
                "INSERT INTO associations (id, owner_id, source_id, source_type, relationship, \
                 target_id, target_type, tlp, confidence, description, stix_id, created_at, \
                 updated_at) VALUES ",
            );
            for (i, (target, target_type)) in chunk.iter().enumerate() {
                let id = new_id();
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(id.to_string())
                    .push(", ")
                    .bind(owner.to_string())
                    .push(", ")
                    .bind(report_id.to_string())
                    .push(", ")
                    .bind(ObjectType::Group.as_str().to_string())
                    .push(", ")
                    .bind(REPORT_RELATIONSHIP.as_str().to_string())
                    .push(", ")
                    .bind(target.to_string())
                    .push(", ")
                    .bind(target_type.as_str().to_string())
                    .push(", ")
                    .bind(tlp.as_str().to_string())
                    .push(", ")
                    .bind(50i64)
                    .push(", NULL, NULL, ")
                    .bind(at)
                    .push(", ")
                    .bind(at)
                    .push(")");
                extras.add(id, &[], &Default::default(), &report.shared_to, &report.granted_to);
                events.add(
                    "association.created",
                    Some(id),
                    Some(owner),
                    serde_json::json!({ "id": id, "source_id": report_id, "relationship": REPORT_RELATIONSHIP, "target_id": target }),
                    at,
                );
            }
            sql.execute(&mut *conn).await?;
        }
        extras.write(conn).await?;
        events.write(conn).await?;
        Ok(new.len() as u64)
    }
}
