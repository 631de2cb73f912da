//! The real MISP documents of `testdata/misp/` (see testdata/PROVENANCE.md), read and
//! mapped with asserted counts.

use std::collections::BTreeMap;

use tipline_model::{GroupKind, RelationshipType, Tlp};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../testdata/misp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn events(name: &str) -> Vec<Event> {
    parse_document(&fixture(name)).unwrap().into_iter().map(|e| e.unwrap()).collect()
}

/// Indicators per kind, groups per kind, skipped attribute types and rejection count.
fn summary(mapped: &MappedEvent) -> String {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for i in &mapped.batch.indicators {
        *kinds.entry(i.kind.unwrap().to_string()).or_default() += 1;
    }
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for g in &mapped.batch.groups {
        *groups.entry(g.input.kind.unwrap().to_string()).or_default() += 1;
    }
    format!(
        "indicators {kinds:?} groups {groups:?} skipped {:?} rejected {}",
        mapped.skipped,
        mapped.rejected.len()
    )
}

fn one(name: &str) -> (Event, MappedEvent) {
    let mut events = events(name);
    assert_eq!(events.len(), 1, "{name}");
    let event = events.remove(0);
    let mapped = map_event(&event, &MispOptions::default());
    assert!(event.problems.is_empty(), "{name}: {:?}", event.problems);
    assert!(mapped.rejected.is_empty(), "{name}: {:?}", mapped.rejected);
    (event, mapped)
}

#[test]
fn circl_xorist_feed_event() {
    let (event, mapped) = one("57c4445b-c548-4654-af0b-4be3950d210f.json");
    assert_eq!(event.timestamp, 1_472_541_011);
    assert_eq!(
        summary(&mapped),
        "indicators {\"md5\": 1, \"sha1\": 1, \"sha256\": 1} groups {\"report\": 1} \
         skipped {\"comment\": 1, \"filename\": 1, \"regkey|value\": 1, \"text\": 1} rejected 0"
    );
    assert!(mapped.batch.indicators.iter().all(|i| i.tlp == Some(Tlp::Clear)), "tlp:white");
    let report = &mapped.batch.groups[0].input;
    assert_eq!(report.name, "Ransomware - Xorist");
    assert_eq!(report.attributes["misp_creator"], "CIRCL");
    assert_eq!(
        report.attributes["reference_2"],
        "http://www.xylibox.com/2011/06/have-fun-with-trojan-ransomwin32xorist.html"
    );
}

#[test]
fn circl_fallchill_with_threat_actor_and_objects() {
    let (event, mapped) = one("circl-fallchill-trimmed.json");
    assert_eq!(event.objects.len(), 5);
    assert_eq!(
        summary(&mapped),
        "indicators {\"ipv4\": 11, \"md5\": 14, \"sha1\": 2, \"sha256\": 2} \
         groups {\"adversary\": 1, \"malware\": 1, \"report\": 1} \
         skipped {\"attachment\": 1, \"comment\": 1, \"filename\": 2, \"float\": 2, \"port\": 3, \"size-in-bytes\": 1, \"ssdeep\": 2} rejected 0"
    );
    let groups = &mapped.batch.groups;
    assert_eq!(
        (groups[1].input.kind, groups[1].input.name.as_str()),
        (Some(GroupKind::Adversary), "Lazarus Group")
    );
    assert_eq!(
        (groups[2].input.kind, groups[2].input.name.as_str()),
        (Some(GroupKind::Malware), "FALLCHILL")
    );
    let indicates =
        mapped.batch.links.iter().filter(|l| l.relationship == RelationshipType::Indicates).count();
    assert_eq!(indicates, 29 * 2, "every indicator indicates the actor and the malware");
    let with_port =
        mapped.batch.indicators.iter().filter(|i| i.attributes.contains_key("port")).count();
    assert_eq!(with_port, 3, "ip-dst|port attributes, repeated as ip-port objects");
}

#[test]
fn eset_dukes_rest_response_to_ids_false() {
    let (event, mapped) = one("eset-dukes-trimmed.json");
    assert_eq!(event.uuid, "5d9b516c-e5f0-4e7c-a958-5d8c0a019371");
    assert_eq!(
        summary(&mapped),
        "indicators {\"domain\": 5, \"sha1\": 5, \"url\": 5} groups {\"adversary\": 1, \"report\": 1} \
         skipped {\"text\": 5} rejected 0"
    );
    assert!(
        mapped.batch.indicators.iter().all(|i| i.confidence == Some(25)),
        "to_ids false halves 50"
    );
    let actor = &mapped.batch.groups[1].input;
    assert_eq!(actor.name, "APT 29");
    assert!(
        actor.aliases.iter().any(|a| a == "APT29")
            && actor.aliases.iter().any(|a| a == "Cozy Bear")
    );
    assert_eq!(actor.country.as_deref(), Some("RU"));
}

#[test]
fn circl_sednit_bare_event_with_file_objects() {
    let (_, mapped) = one("circl-sednit-objects-trimmed.json");
    assert_eq!(
        summary(&mapped),
        "indicators {\"domain\": 7, \"sha1\": 10} groups {\"adversary\": 1, \"malware\": 11, \"report\": 1} \
         skipped {\"filename\": 9, \"text\": 11} rejected 0"
    );
    let named =
        mapped.batch.indicators.iter().filter(|i| i.attributes.contains_key("filename")).count();
    assert_eq!(named, 9, "file objects lend their file name to their hashes");
}

#[test]
fn crowdsec_feed_manifest_and_events() {
    let manifest = parse_manifest(&fixture("crowdsec-feed/manifest.json")).unwrap();
    let uuids: Vec<&str> = manifest.iter().map(|m| m.uuid.as_str()).collect();
    assert_eq!(
        uuids,
        [
            "8f09de10-6867-45c6-814d-3d91a33d3af7",
            "d177856e-6e46-44ee-8eb5-83ef1c7452c7",
            "6a10e5d8-f1cd-42b0-8240-a4650efd83d6"
        ]
    );
    for entry in &manifest {
        let (event, mapped) = one(&format!("crowdsec-feed/{}", entry.file_name()));
        assert_eq!(event.timestamp, entry.timestamp);
        assert_eq!(
            summary(&mapped),
            "indicators {\"ipv4\": 5} groups {\"report\": 1} skipped {} rejected 0"
        );
    }
}

#[test]
fn docs_list_every_mapped_type_and_galaxy() {
    let path = format!("{}/../../docs/feeds.md", env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(&path).unwrap();
    for (name, _) in mapping::ATTRIBUTE_TYPES {
        let written = format!("`{}`", name.replace('|', "\\|"));
        assert!(docs.contains(&written), "docs/feeds.md does not mention {written}");
    }
    for (galaxy, _) in mapping::GALAXY_GROUPS {
        assert!(docs.contains(&format!("`{galaxy}`")), "docs/feeds.md does not mention `{galaxy}`");
    }
}
