//! Batch imports: group references found or created, links, versions.

use tipline_model::import::{Endpoint, GroupLookup, GroupRef, IntelBatch, Link, SourceVersion};
use tipline_model::intel::{GroupInput, IndicatorInput};
use tipline_model::{GroupKind, RelationshipType, Tlp};
use tipline_store::groups::GroupQuery;
use tipline_store::{StoreError, Tally, owner_scope};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::World;

backend_tests!(imports_find_or_create_groups_and_link_once, invalid_batches_write_nothing);

fn group(kind: GroupKind, name: &str, aliases: &[&str], lookup: GroupLookup) -> GroupRef {
    GroupRef {
        lookup,
        input: GroupInput {
            kind: Some(kind),
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            tlp: Some(Tlp::Green),
            stix_id: (kind == GroupKind::Report)
                .then(|| "report--5a0d5bf4-99c8-4f15-9879-22b1950d210f".to_string()),
            ..Default::default()
        },
    }
}

fn batch() -> IntelBatch {
    let link = |source, relationship, target| Link {
        source,
        relationship,
        target,
        owner_id: None,
        tlp: Tlp::Green,
        shared_to: Vec::new(),
    };
    IntelBatch {
        indicators: ["192.0.2.1", "evil.example", "192.0.2.1"]
            .iter()
            .map(|v| IndicatorInput {
                value: v.to_string(),
                tlp: Some(Tlp::Green),
                ..Default::default()
            })
            .collect(),
        groups: vec![
            group(GroupKind::Report, "Sednit update", &[], GroupLookup::ByStixId),
            group(GroupKind::Adversary, "Sofacy", &["Fancy Bear"], GroupLookup::ByName),
            group(GroupKind::Adversary, "APT 29", &["Cozy Bear"], GroupLookup::ByName),
        ],
        links: vec![
            link(Endpoint::Indicator(0), RelationshipType::Indicates, Endpoint::Group(1)),
            link(Endpoint::Indicator(2), RelationshipType::Indicates, Endpoint::Group(1)),
            link(Endpoint::Indicator(1), RelationshipType::Indicates, Endpoint::Group(2)),
            link(Endpoint::Group(0), RelationshipType::RelatedTo, Endpoint::Indicator(0)),
        ],
        versions: vec![SourceVersion { key: "event-1".into(), version: 100, label: None }],
    }
}

async fn imports_find_or_create_groups_and_link_once(backend: TestBackend) {
    let world = World::new(backend).await;
    // Beta already knows APT28 (as ATT&CK names it) and shares it with the community.
    let beta = world.store.viewer(world.beta.clone());
    let apt28 = beta
        .create_group(&GroupInput {
            kind: Some(GroupKind::Adversary),
            name: "APT28".into(),
            aliases: vec!["Sofacy".into(), "Pawn Storm".into()],
            tlp: Some(Tlp::Green),
            shared_to: vec![world.community],
            ..Default::default()
        })
        .await
        .unwrap();
    // Alpha owns a report with the same title, which must not be taken for this one.
    let alpha = world.store.viewer(world.alpha.clone());
    alpha
        .create_group(&GroupInput {
            kind: Some(GroupKind::Report),
            name: "Sednit update".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let summary =
        alpha.import_batch(&batch(), &owner_scope(world.alpha.org_id), None).await.unwrap();
    assert_eq!(summary.indicators["ipv4"], Tally { created: 1, existing: 0 });
    assert_eq!(summary.indicators["domain"], Tally { created: 1, existing: 0 });
    assert_eq!(summary.groups["adversary"], Tally { created: 1, existing: 1 }, "Sofacy is APT28");
    assert_eq!(summary.groups["report"], Tally { created: 1, existing: 0 });
    assert_eq!(summary.associations, 3, "the repeated indicator links once");
    assert_eq!(summary.documents, 1);

    let neighbours = alpha.associations_of(apt28.id).await.unwrap();
    assert_eq!(neighbours.len(), 1, "linked to beta's adversary, not a copy");
    let created = alpha
        .search_groups(&GroupQuery { name: Some("cozy bear".into()), ..Default::default() })
        .await
        .unwrap()
        .items;
    assert_eq!((created.len(), created[0].owner_id), (1, world.alpha.org_id));
    let reports = alpha
        .search_groups(&GroupQuery { kind: Some(GroupKind::Report), ..Default::default() })
        .await
        .unwrap()
        .items;
    let mut names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Sednit update", "Sednit update (5a0d5bf4-99c8-4f15-9879-22b1950d210f)"]);
    let versions = alpha
        .import_versions(&owner_scope(world.alpha.org_id), &["event-1".into(), "event-2".into()])
        .await
        .unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions["event-1"], 100);

    // The same batch again: everything exists, nothing is linked twice.
    let again = alpha.import_batch(&batch(), &owner_scope(world.alpha.org_id), None).await.unwrap();
    assert_eq!(again.indicators["ipv4"], Tally { created: 0, existing: 1 });
    assert_eq!(again.groups["adversary"], Tally { created: 0, existing: 2 });
    assert_eq!(again.groups["report"], Tally { created: 0, existing: 1 }, "found by STIX id");
    assert_eq!(again.associations, 0);
    let events = world.store.events_after(0, 10_000).await.unwrap();
    let created_associations = events.iter().filter(|e| e.kind == "association.created").count();
    assert_eq!(created_associations, 3);
}

async fn invalid_batches_write_nothing(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let mut bad = batch();
    bad.indicators[1].confidence = Some(900);
    bad.groups[2].input.name = String::new();
    bad.links.push(Link {
        source: Endpoint::Indicator(7),
        relationship: RelationshipType::Indicates,
        target: Endpoint::Group(0),
        owner_id: None,
        tlp: Tlp::Green,
        shared_to: Vec::new(),
    });
    let error = alpha.import_batch(&bad, &owner_scope(world.alpha.org_id), None).await.unwrap_err();
    let StoreError::Invalid(errors) = error else { panic!("{error}") };
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["items[1].confidence: must be between 0 and 100, got 900"],
        "indicators are checked first"
    );
    bad.indicators[1].confidence = None;
    let StoreError::Invalid(errors) =
        alpha.import_batch(&bad, &owner_scope(world.alpha.org_id), None).await.unwrap_err()
    else {
        panic!()
    };
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["groups[2].name: must not be empty", "links[4]: Indicator(7) is not in the batch"]
    );
    assert!(alpha.search_indicators(&Default::default()).await.unwrap().items.is_empty());
    // Writing for an organization one may not write for is refused as a whole.
    let mut foreign = batch();
    foreign.indicators[0].owner_id = Some(world.beta.org_id);
    assert!(matches!(alpha.import_batch(&foreign, "x", None).await, Err(StoreError::Forbidden(_))));
    assert!(alpha.search_indicators(&Default::default()).await.unwrap().items.is_empty());
}
