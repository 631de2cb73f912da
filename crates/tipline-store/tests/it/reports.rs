//! Importing extracted reports: one transaction, owner and sharing, idempotent re-imports.

use tipline_model::intel::{GroupInput, IndicatorInput};
use tipline_model::{GroupKind, IndicatorKind, RelationshipType, Tlp};
use tipline_store::groups::GroupQuery;
use tipline_store::{IndicatorQuery, ReportImport, StoreError};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::World;

backend_tests!(
    a_report_is_imported_with_its_indicators_and_vulnerabilities,
    a_bad_item_imports_nothing
);

fn report(name: &str, values: &[&str], cves: &[&str]) -> ReportImport {
    ReportImport {
        report: GroupInput {
            kind: Some(GroupKind::Report),
            name: name.into(),
            tlp: Some(Tlp::Green),
            ..Default::default()
        },
        indicators: values
            .iter()
            .map(|v| IndicatorInput {
                value: (*v).into(),
                tlp: Some(Tlp::Green),
                ..Default::default()
            })
            .collect(),
        cves: cves.iter().map(|c| (*c).to_string()).collect(),
    }
}

async fn a_report_is_imported_with_its_indicators_and_vulnerabilities(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let mut input = report(
        "Operation Example",
        &["evil.example", "192.0.2.7", "evil.example"],
        &["cve-2021-44228"],
    );
    input.report.shared_to = vec![world.community];
    let imported = alpha.import_report(&input).await.unwrap();
    assert!(imported.report_created);
    assert_eq!((imported.indicators_created, imported.vulnerabilities_created), (2, 1));
    assert_eq!(imported.associations_created, 3);
    assert_eq!(imported.relationship, RelationshipType::RelatedTo);

    let group = alpha.get_group(imported.report_id).await.unwrap();
    assert_eq!(
        (group.kind, group.owner_id, group.tlp),
        (GroupKind::Report, world.alpha.org_id, Tlp::Green)
    );
    let edges = alpha.associations_of(imported.report_id).await.unwrap();
    assert_eq!(edges.len(), 3);
    assert!(
        edges.iter().all(|a| a.source_id == imported.report_id && a.owner_id == world.alpha.org_id)
    );
    let vulns = alpha
        .search_groups(&GroupQuery { kind: Some(GroupKind::Vulnerability), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(vulns.items.len(), 1);
    assert_eq!(vulns.items[0].cve.as_deref(), Some("CVE-2021-44228"));

    // Beta, in the community the report is shared to, sees the report and the edge to the
    // vulnerability (shared like the report), not the edges to the unshared indicators.
    let beta = world.store.viewer(world.beta.clone());
    assert_eq!(beta.get_group(imported.report_id).await.unwrap().name, "Operation Example");
    assert_eq!(beta.associations_of(imported.report_id).await.unwrap().len(), 1);

    // Importing again under the same name reuses the report and adds only what is new.
    let again = alpha
        .import_report(&report(
            "operation example",
            &["evil.example", "hxxp://evil[.]example/x"],
            &["CVE-2021-44228"],
        ))
        .await
        .unwrap();
    assert_eq!(again.report_id, imported.report_id);
    assert!(!again.report_created);
    assert_eq!((again.indicators_created, again.indicators_updated), (1, 1));
    assert_eq!((again.vulnerabilities_created, again.vulnerabilities_reused), (0, 1));
    assert_eq!(again.associations_created, 1);
    let urls = alpha
        .search_indicators(&IndicatorQuery { kind: Some(IndicatorKind::Url), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(urls.items[0].value, "http://evil.example/x");

    // A viewer may not import.
    let mut viewer = world.alpha.clone();
    viewer.role = tipline_model::Role::Viewer;
    let error = world.store.viewer(viewer).import_report(&report("x", &[], &[])).await.unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
}

async fn a_bad_item_imports_nothing(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let error = alpha
        .import_report(&report("Broken", &["evil.example", "10.0.0.1/8"], &[]))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("items[1]"), "{error}");
    let error =
        alpha.import_report(&report("Broken", &["evil.example"], &["CVE-21-1"])).await.unwrap_err();
    assert!(error.to_string().contains("cves[0]"), "{error}");
    let groups = alpha.search_groups(&GroupQuery::default()).await.unwrap();
    assert!(groups.items.is_empty());
    let indicators = alpha.search_indicators(&IndicatorQuery::default()).await.unwrap();
    assert!(indicators.items.is_empty());
}
