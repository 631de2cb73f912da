//! MISP documents imported through the store: counts per kind, strict and lenient files,
//! incremental re-imports.

use tipline_feeds::{MispImport, Silent, import_document};
use tipline_formats::misp::MispOptions;
use tipline_model::{GroupKind, Tlp};
use tipline_store::groups::GroupQuery;
use tipline_store::{IndicatorQuery, Tally, owner_scope};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::{World, testdata};

backend_tests!(
    fixtures_import_with_their_counts,
    strict_files_import_nothing_lenient_ones_the_valid_part
);

fn import(world: &World, lenient: bool) -> MispImport {
    MispImport {
        options: MispOptions { tlp: Tlp::Amber, confidence: 60, ..Default::default() },
        scope: owner_scope(world.host.org_id),
        lenient,
    }
}

async fn fixtures_import_with_their_counts(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.admin();
    let read = |name: &str| std::fs::read(testdata(&format!("misp/{name}"))).unwrap();

    let report = import_document(
        &admin,
        &read("circl-fallchill-trimmed.json"),
        &import(&world, false),
        &Silent,
    )
    .await
    .unwrap();
    assert!(report.committed && report.rejected.is_empty(), "{report:?}");
    assert_eq!(report.documents, 1);
    let counts: Vec<(&str, u64)> =
        report.written.indicators.iter().map(|(k, t)| (k.as_str(), t.created)).collect();
    assert_eq!(counts, [("ipv4", 11), ("md5", 14), ("sha1", 2), ("sha256", 2)]);
    assert_eq!(report.written.groups["adversary"], Tally { created: 1, existing: 0 });
    assert_eq!(report.written.groups["malware"], Tally { created: 1, existing: 0 });
    assert_eq!(
        report.written.associations,
        29 * 2 + 29 + 2,
        "indicates ×2, report related-to each and to both groups"
    );
    assert_eq!(report.skipped["ssdeep"], 2);
    let clear = admin
        .search_indicators(&IndicatorQuery {
            tlp: Some(Tlp::Clear),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(clear.items.len(), 29, "tlp:white is CLEAR");

    // The ESET event names "APT 29"; an adversary known as APT29 is found through the
    // galaxy's synonyms instead of being duplicated.
    let apt29 = admin
        .create_group(&tipline_model::intel::GroupInput {
            kind: Some(GroupKind::Adversary),
            name: "APT29".into(),
            aliases: vec!["Cozy Bear".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let report =
        import_document(&admin, &read("eset-dukes-trimmed.json"), &import(&world, false), &Silent)
            .await
            .unwrap();
    assert_eq!(report.written.groups["adversary"], Tally { created: 0, existing: 1 });
    let indicated = admin.associations_of(apt29.id).await.unwrap();
    assert_eq!(indicated.len(), 15 + 1, "15 indicators indicate it, the report relates to it");
    let to_ids_false = admin
        .search_indicators(&IndicatorQuery {
            value: Some("4ba559c403ff3f5cc2571ae0961eaff6cf0a50f6".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(to_ids_false.items[0].confidence, 30, "to_ids false halves the confidence");

    // Importing the same events again: skipped as unchanged.
    let again = import_document(
        &admin,
        &read("circl-fallchill-trimmed.json"),
        &import(&world, false),
        &Silent,
    )
    .await
    .unwrap();
    assert_eq!((again.documents, again.unchanged), (1, 1));
    assert_eq!(again.written, Default::default());

    let reports = admin
        .search_groups(&GroupQuery { kind: Some(GroupKind::Report), ..Default::default() })
        .await
        .unwrap();
    let mut names: Vec<&str> = reports.items.iter().map(|g| g.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "OSINT - HIDDEN COBRA – North Korean Remote Administration Tool: FALLCHILL",
            "Operation Ghost - White Paper"
        ]
    );
}

async fn strict_files_import_nothing_lenient_ones_the_valid_part(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.admin();
    let document = r#"{"response": [
        {"Event": {"uuid": "6a10e5d8-f1cd-42b0-8240-a4650efd83d6", "timestamp": "5", "info": "mixed",
          "Attribute": [
            {"type": "ip-dst", "value": "192.0.2.1", "to_ids": true},
            {"type": "ip-dst", "value": "192.0.2.300", "to_ids": true},
            {"type": "domain", "value": ["not", "a", "string"]}]}},
        {"Event": {"info": "no uuid", "timestamp": "5"}}]}"#;
    let strict = import_document(&admin, document.as_bytes(), &import(&world, false), &Silent)
        .await
        .unwrap();
    assert!(!strict.committed);
    let rejected: Vec<String> = strict.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(
        rejected,
        [
            "event 6a10e5d8-f1cd-42b0-8240-a4650efd83d6: Attribute[2].value: expected a string, found a list",
            "event 6a10e5d8-f1cd-42b0-8240-a4650efd83d6: Attribute[1] (ip-dst `192.0.2.300`): invalid indicator `192.0.2.300`: ipv4: octet `300` is greater than 255",
            "response[1].uuid: required",
        ]
    );
    assert!(
        admin.search_indicators(&Default::default()).await.unwrap().items.is_empty(),
        "nothing imported"
    );
    let lenient =
        import_document(&admin, document.as_bytes(), &import(&world, true), &Silent).await.unwrap();
    assert!(lenient.committed);
    assert_eq!(lenient.rejected.len(), 3);
    assert_eq!(lenient.written.indicators["ipv4"], Tally { created: 1, existing: 0 });
    let malformed =
        import_document(&admin, b"{\"Event\": {", &import(&world, true), &Silent).await.unwrap();
    assert!(!malformed.committed);
    assert_eq!(
        malformed.rejected[0].to_string(),
        "line 1, column 11: malformed JSON: EOF while parsing an object"
    );
}
