//! Groups, associations, neighbourhoods and sightings under the visibility rule.

use tipline_model::intel::{AssociationInput, GroupInput, IndicatorInput, SightingInput};
use tipline_model::{GroupKind, RelationshipType, Tlp};
use tipline_store::StoreError;
use tipline_store::groups::GroupQuery;
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::World;

backend_tests!(
    neighbourhood_never_reveals_hidden_objects,
    groups_are_unique_and_searchable,
    sightings_follow_their_indicator
);

async fn neighbourhood_never_reveals_hidden_objects(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let shared = |tlp| (Some(tlp), vec![world.community]);
    let (tlp, shared_to) = shared(Tlp::Green);
    let adversary = alpha
        .create_group(&GroupInput {
            kind: Some(GroupKind::Adversary),
            name: "APT Example".into(),
            tlp,
            shared_to: shared_to.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (visible, _) = alpha
        .upsert_indicator(&IndicatorInput {
            value: "evil.example".into(),
            tlp: Some(Tlp::Green),
            shared_to: shared_to.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (hidden, _) = alpha
        .upsert_indicator(&IndicatorInput {
            value: "secret.example".into(),
            tlp: Some(Tlp::Red),
            ..Default::default()
        })
        .await
        .unwrap();
    let link = |source, target, tlp| AssociationInput {
        source_id: source,
        target_id: target,
        relationship: Some(RelationshipType::Indicates),
        tlp: Some(tlp),
        shared_to: shared_to.clone(),
        ..Default::default()
    };
    alpha.create_association(&link(visible.id, adversary.id, Tlp::Green)).await.unwrap();
    // A GREEN association to a RED indicator: beta must see neither.
    alpha.create_association(&link(hidden.id, adversary.id, Tlp::Green)).await.unwrap();

    let own = alpha.neighbourhood(adversary.id, 1).await.unwrap();
    assert_eq!((own.indicators.len(), own.associations.len()), (2, 2));

    let beta = world.store.viewer(world.beta.clone());
    let seen = beta.neighbourhood(adversary.id, 2).await.unwrap();
    assert_eq!(seen.groups.iter().map(|g| g.id).collect::<Vec<_>>(), [adversary.id]);
    assert_eq!(seen.indicators.iter().map(|i| i.id).collect::<Vec<_>>(), [visible.id]);
    assert_eq!(seen.associations.len(), 1);
    assert!(seen.associations.iter().all(|a| a.source_id != hidden.id));
    assert_eq!(beta.associations_of(hidden.id).await.unwrap().len(), 0);

    let gamma = world.store.viewer(world.gamma.clone());
    assert!(matches!(gamma.neighbourhood(adversary.id, 1).await, Err(StoreError::NotFound { .. })));
    // Nobody can associate with what they cannot see.
    let err = beta
        .create_association(&AssociationInput {
            source_id: hidden.id,
            target_id: adversary.id,
            relationship: Some(RelationshipType::RelatedTo),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid input: source_id: no indicator or group {} visible to you", hidden.id)
    );
    assert!(matches!(alpha.neighbourhood(adversary.id, 3).await, Err(StoreError::Invalid(_))));
}

async fn groups_are_unique_and_searchable(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let group = alpha
        .create_group(&GroupInput {
            kind: Some(GroupKind::Adversary),
            name: "Sandworm Team".into(),
            aliases: vec!["ELECTRUM".into(), "Voodoo Bear".into(), "sandworm team".into()],
            adversary_kind: Some(tipline_model::AdversaryKind::NationState),
            country: Some("ru".into()),
            motivations: vec!["Espionage".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(group.aliases, ["ELECTRUM", "Voodoo Bear"]);
    assert_eq!(group.country.as_deref(), Some("RU"));
    assert_eq!(group.motivations, ["espionage"]);
    let err = alpha
        .create_group(&GroupInput {
            kind: Some(GroupKind::Adversary),
            name: "SANDWORM TEAM".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let by_alias = alpha
        .search_groups(&GroupQuery { name: Some("voodoo bear".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(by_alias.items.len(), 1);
    let none = alpha
        .search_groups(&GroupQuery { name: Some("voodoo".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(none.items.is_empty(), "alias match is exact, not a substring");
}

async fn sightings_follow_their_indicator(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let (indicator, _) = alpha
        .upsert_indicator(&IndicatorInput {
            value: "192.0.2.66".into(),
            tlp: Some(Tlp::Green),
            shared_to: vec![world.community],
            ..Default::default()
        })
        .await
        .unwrap();
    let beta = world.store.viewer(world.beta.clone());
    let sighting = beta
        .create_sighting(&SightingInput {
            indicator_id: indicator.id,
            count: Some(3),
            tlp: Some(Tlp::Clear),
            source: Some("ids".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alpha.get_indicator(indicator.id).await.unwrap().observation_count, 3);
    assert_eq!(alpha.list_sightings(Some(indicator.id), None).await.unwrap().len(), 1);
    // Gamma cannot see the indicator, so not the (CLEAR) sighting of it either.
    let gamma = world.store.viewer(world.gamma.clone());
    assert!(matches!(gamma.get_sighting(sighting.id).await, Err(StoreError::NotFound { .. })));
    let err = gamma
        .create_sighting(&SightingInput { indicator_id: indicator.id, ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}
