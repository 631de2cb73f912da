//! Property test of tenant isolation and TLP: random organizations, communities,
//! memberships, subscriptions and objects with random owners, markings, shares and grants;
//! for every principal, what the API returns (search, get, owners, match, associations,
//! neighbourhood) is exactly what `tipline_model::visibility::is_visible` allows.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use tipline_model::admin::{CommunityInput, OrganizationInput, TokenInput, UserInput};
use tipline_model::intel::{AssociationInput, GroupInput, IndicatorInput};
use tipline_model::visibility::{ObjectFacts, ReaderFacts, is_visible};
use tipline_model::{GroupKind, OrgKind, Principal, RelationshipType, Role, Tlp};
use tipline_testkit::TestBackend;
use uuid::Uuid;

use crate::support::TestApp;

const VALUES: [&str; 4] =
    ["192.0.2.1", "198.51.100.2", "evil.example", "d41d8cd98f00b204e9800998ecf8427e"];

#[derive(Debug, Clone)]
struct ObjectSpec {
    owner: usize,
    tlp: usize,
    shares: u8,
    grants: u8,
}

#[derive(Debug, Clone)]
struct WorldSpec {
    partners: usize,
    sources: usize,
    /// membership[c] is a bit mask over organizations (index 0 is the host).
    membership: Vec<u8>,
    /// Bit mask over sources, per organization.
    subscriptions: Vec<u8>,
    indicators: Vec<(ObjectSpec, usize)>,
    groups: Vec<ObjectSpec>,
    associations: Vec<(ObjectSpec, usize, usize)>,
}

fn object_spec() -> impl Strategy<Value = ObjectSpec> {
    (0usize..8, 0usize..5, any::<u8>(), any::<u8>())
        .prop_map(|(owner, tlp, shares, grants)| ObjectSpec { owner, tlp, shares, grants })
}

fn world_spec() -> impl Strategy<Value = WorldSpec> {
    (
        2usize..=4,
        0usize..=2,
        prop::collection::vec(any::<u8>(), 1..=3),
        prop::collection::vec(any::<u8>(), 7),
        prop::collection::vec((object_spec(), 0usize..VALUES.len()), 1..=10),
        prop::collection::vec(object_spec(), 0..=3),
        prop::collection::vec((object_spec(), 0usize..13, 0usize..13), 0..=6),
    )
        .prop_map(
            |(partners, sources, membership, subscriptions, indicators, groups, associations)| {
                WorldSpec {
                    partners,
                    sources,
                    membership,
                    subscriptions,
                    indicators,
                    groups,
                    associations,
                }
            },
        )
}

/// One organization of a built world, as the oracle sees it.
struct Reader {
    org: Uuid,
    communities: Vec<Uuid>,
    sources: Vec<Uuid>,
}

impl ReaderFacts for Reader {
    fn org(&self) -> Uuid {
        self.org
    }
    fn is_member(&self, community: Uuid) -> bool {
        self.communities.contains(&community)
    }
    fn subscribes_to(&self, source: Uuid) -> bool {
        self.sources.contains(&source)
    }
}

struct Object {
    id: Uuid,
    owner: Uuid,
    tlp: Tlp,
    shared_to: Vec<Uuid>,
    granted_to: Vec<Uuid>,
}

impl Object {
    fn facts(&self) -> ObjectFacts<'_> {
        ObjectFacts {
            owner: self.owner,
            tlp: self.tlp,
            shared_to: &self.shared_to,
            granted_to: &self.granted_to,
        }
    }
}

struct World {
    readers: Vec<(Reader, String)>,
    indicators: Vec<(Object, &'static str)>,
    groups: Vec<Object>,
    associations: Vec<(Object, Uuid, Uuid)>,
}

fn pick<T: Copy>(mask: u8, items: &[T]) -> Vec<T> {
    items.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, t)| *t).collect()
}

async fn build(app: &TestApp, spec: &WorldSpec) -> World {
    let host = app.store.authenticate(&app.admin_token).await.unwrap().unwrap();
    let admin = app.store.viewer(host.clone());
    let mut orgs: Vec<(Uuid, OrgKind)> = vec![(host.org_id, OrgKind::Host)];
    for i in 0..spec.partners + spec.sources {
        let kind = if i < spec.partners { OrgKind::Partner } else { OrgKind::Source };
        let org = admin
            .create_organization(&OrganizationInput {
                name: format!("org{i}"),
                kind: Some(kind),
                ..Default::default()
            })
            .await
            .unwrap();
        orgs.push((org.id, kind));
    }
    let org_ids: Vec<Uuid> = orgs.iter().map(|o| o.0).collect();
    let source_ids: Vec<Uuid> =
        orgs.iter().filter(|o| o.1 == OrgKind::Source).map(|o| o.0).collect();
    let mut communities = Vec::new();
    for (c, mask) in spec.membership.iter().enumerate() {
        let members = pick(*mask, &org_ids);
        let community = admin
            .create_community(&CommunityInput { name: format!("c{c}"), description: None, members })
            .await
            .unwrap();
        communities.push(community);
    }
    let mut subscriptions: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (i, &(org, kind)) in orgs.iter().enumerate() {
        let mut subscribed = pick(spec.subscriptions[i], &source_ids);
        subscribed.retain(|s| *s != org);
        if kind == OrgKind::Host {
            // The host is subscribed to every source when the source is created.
            subscribed = source_ids.clone();
        }
        for source in &subscribed {
            admin.subscribe(org, *source).await.unwrap();
        }
        subscriptions.insert(org, subscribed);
    }
    let principal = |org: Uuid, kind: OrgKind| Principal {
        user_id: None,
        org_id: org,
        org_kind: kind,
        role: Role::Analyst,
    };
    let mut readers = Vec::new();
    for (i, &(org, _)) in orgs.iter().enumerate() {
        let user = admin
            .create_user(&UserInput {
                org_id: Some(org),
                email: format!("reader{i}@test.example"),
                name: None,
                role: Some(Role::Viewer),
            })
            .await
            .unwrap();
        let token = admin
            .create_token(&TokenInput {
                name: "t".into(),
                user_id: Some(user.id),
                expires_in_days: None,
            })
            .await
            .unwrap();
        let member_of =
            communities.iter().filter(|c| c.members.contains(&org)).map(|c| c.id).collect();
        readers.push((
            Reader { org, communities: member_of, sources: subscriptions[&org].clone() },
            token.secret,
        ));
    }
    let owner_of = |spec: &ObjectSpec| orgs[spec.owner % orgs.len()];
    let sharing = |spec: &ObjectSpec, owner: Uuid| {
        let allowed: Vec<Uuid> =
            communities.iter().filter(|c| c.members.contains(&owner)).map(|c| c.id).collect();
        let tlp = Tlp::ALL[spec.tlp % Tlp::ALL.len()];
        (tlp, pick(spec.shares, &allowed), pick(spec.grants, &org_ids))
    };
    let mut indicators: Vec<(Object, &'static str)> = Vec::new();
    let mut taken = BTreeSet::new();
    for (spec, value) in &spec.indicators {
        let (owner, kind) = owner_of(spec);
        if !taken.insert((owner, *value)) {
            continue;
        }
        let (tlp, shared_to, granted_to) = sharing(spec, owner);
        let (indicator, _) = app
            .store
            .viewer(principal(owner, kind))
            .upsert_indicator(&IndicatorInput {
                value: VALUES[*value].into(),
                tlp: Some(tlp),
                shared_to: shared_to.clone(),
                granted_to: granted_to.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        indicators
            .push((Object { id: indicator.id, owner, tlp, shared_to, granted_to }, VALUES[*value]));
    }
    let mut groups = Vec::new();
    for (i, spec) in spec.groups.iter().enumerate() {
        let (owner, kind) = owner_of(spec);
        let (tlp, shared_to, granted_to) = sharing(spec, owner);
        let group = app
            .store
            .viewer(principal(owner, kind))
            .create_group(&GroupInput {
                kind: Some(GroupKind::Adversary),
                name: format!("g{i}"),
                tlp: Some(tlp),
                shared_to: shared_to.clone(),
                granted_to: granted_to.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        groups.push(Object { id: group.id, owner, tlp, shared_to, granted_to });
    }
    let mut associations = Vec::new();
    let mut edges = BTreeSet::new();
    for (spec, a, b) in &spec.associations {
        let objects: Vec<&Object> =
            indicators.iter().map(|(o, _)| o).chain(groups.iter()).collect();
        let (source, target) = (objects[a % objects.len()], objects[b % objects.len()]);
        let (owner, kind) = owner_of(spec);
        let reader = &readers.iter().find(|(r, _)| r.org == owner).unwrap().0;
        if source.id == target.id
            || !is_visible(reader, &source.facts())
            || !is_visible(reader, &target.facts())
            || !edges.insert((owner, source.id, target.id))
        {
            continue;
        }
        let (tlp, shared_to, granted_to) = sharing(spec, owner);
        let association = app
            .store
            .viewer(principal(owner, kind))
            .create_association(&AssociationInput {
                source_id: source.id,
                target_id: target.id,
                relationship: Some(RelationshipType::RelatedTo),
                tlp: Some(tlp),
                shared_to: shared_to.clone(),
                granted_to: granted_to.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        associations.push((
            Object { id: association.id, owner, tlp, shared_to, granted_to },
            source.id,
            target.id,
        ));
    }
    World { readers, indicators, groups, associations }
}

fn ids(value: &serde_json::Value, key: &str) -> BTreeSet<String> {
    value.as_array().unwrap().iter().map(|item| item[key].as_str().unwrap().to_string()).collect()
}

fn set<'a>(items: impl IntoIterator<Item = &'a Uuid>) -> BTreeSet<String> {
    items.into_iter().map(Uuid::to_string).collect()
}

async fn check(app: &TestApp, world: &World) -> Result<(), TestCaseError> {
    for (reader, token) in &world.readers {
        let sees = |o: &Object| is_visible(reader, &o.facts());
        let visible_indicators: Vec<&Object> =
            world.indicators.iter().map(|(o, _)| o).filter(|o| sees(o)).collect();
        let visible_groups: Vec<&Object> = world.groups.iter().filter(|o| sees(o)).collect();
        let object_visible = |id: Uuid| {
            visible_indicators.iter().any(|o| o.id == id)
                || visible_groups.iter().any(|o| o.id == id)
        };
        let visible_edges: Vec<&(Object, Uuid, Uuid)> = world
            .associations
            .iter()
            .filter(|(a, s, t)| sees(a) && object_visible(*s) && object_visible(*t))
            .collect();

        let page = app.get("/api/v1/indicators?limit=1000", token).await;
        prop_assert_eq!(
            ids(&page.body["items"], "id"),
            set(visible_indicators.iter().map(|o| &o.id)),
            "indicator search"
        );
        let page = app.get("/api/v1/groups?limit=1000", token).await;
        prop_assert_eq!(
            ids(&page.body["items"], "id"),
            set(visible_groups.iter().map(|o| &o.id)),
            "group search"
        );

        for (object, _) in &world.indicators {
            let reply = app.get(&format!("/api/v1/indicators/{}", object.id), token).await;
            let expected = if sees(object) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            prop_assert_eq!(reply.status, expected, "get indicator");
            if sees(object) {
                prop_assert_eq!(
                    reply.body.get("sharing").is_some(),
                    object.owner == reader.org,
                    "sharing shown to owner only"
                );
            }
        }
        for object in &world.groups {
            let reply = app.get(&format!("/api/v1/groups/{}", object.id), token).await;
            let expected = if sees(object) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            prop_assert_eq!(reply.status, expected, "get group");
        }
        for value in VALUES {
            let reply = app.get(&format!("/api/v1/owners?value={value}"), token).await;
            let expected =
                world.indicators.iter().filter(|(o, v)| *v == value && sees(o)).map(|(o, _)| &o.id);
            prop_assert_eq!(ids(&reply.body, "indicator_id"), set(expected), "owners of {}", value);
        }
        // The shared matching index holds every indicator; match results must not.
        let reply = app.post("/api/v1/match", token, serde_json::json!({ "values": VALUES })).await;
        prop_assert_eq!(reply.status, StatusCode::OK, "match: {:?}", reply);
        for (n, value) in VALUES.iter().enumerate() {
            let expected =
                world.indicators.iter().filter(|(o, v)| v == value && sees(o)).map(|(o, _)| &o.id);
            prop_assert_eq!(
                ids(&reply.body["results"][n]["hits"], "indicator_id"),
                set(expected),
                "match of {}",
                value
            );
        }
        for (association, _, _) in &world.associations {
            let reply = app.get(&format!("/api/v1/associations/{}", association.id), token).await;
            let visible = visible_edges.iter().any(|(a, _, _)| a.id == association.id);
            prop_assert_eq!(
                reply.status,
                if visible { StatusCode::OK } else { StatusCode::NOT_FOUND },
                "get association"
            );
        }
        let roots = world.indicators.iter().map(|(o, _)| o).chain(world.groups.iter());
        for root in roots {
            let reply =
                app.get(&format!("/api/v1/objects/{}/neighbourhood?depth=2", root.id), token).await;
            if !object_visible(root.id) {
                prop_assert_eq!(
                    reply.status,
                    StatusCode::NOT_FOUND,
                    "neighbourhood of a hidden root"
                );
                continue;
            }
            prop_assert_eq!(reply.status, StatusCode::OK);
            let mut reached = BTreeSet::from([root.id]);
            let mut walked = BTreeSet::new();
            let mut frontier = vec![root.id];
            for _ in 0..2 {
                let mut next = Vec::new();
                for (a, s, t) in &visible_edges {
                    if frontier.contains(s) || frontier.contains(t) {
                        walked.insert(a.id);
                        for end in [*s, *t] {
                            if reached.insert(end) {
                                next.push(end);
                            }
                        }
                    }
                }
                frontier = next;
            }
            let expected_indicators =
                visible_indicators.iter().filter(|o| reached.contains(&o.id)).map(|o| &o.id);
            let expected_groups =
                visible_groups.iter().filter(|o| reached.contains(&o.id)).map(|o| &o.id);
            prop_assert_eq!(
                ids(&reply.body["indicators"], "id"),
                set(expected_indicators),
                "neighbourhood indicators"
            );
            prop_assert_eq!(
                ids(&reply.body["groups"], "id"),
                set(expected_groups),
                "neighbourhood groups"
            );
            prop_assert_eq!(
                ids(&reply.body["associations"], "id"),
                set(walked.iter()),
                "neighbourhood associations"
            );
        }
    }
    Ok(())
}

fn run(backend: TestBackend) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cases = std::env::var("TIPLINE_TEST_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24);
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&world_spec(), |spec| {
        runtime.block_on(async {
            let app = TestApp::spawn(backend).await;
            let world = build(&app, &spec).await;
            check(&app, &world).await
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

mod sqlite {
    #[test]
    fn api_returns_exactly_what_the_rule_allows() {
        super::run(tipline_testkit::TestBackend::Sqlite);
    }
}

mod postgres {
    #[test]
    fn api_returns_exactly_what_the_rule_allows() {
        super::run(tipline_testkit::TestBackend::Postgres);
    }
}
