//! A small world of organizations for store tests.

use tipline_model::admin::{CommunityInput, OrganizationInput};
use tipline_model::{OrgKind, Principal, Role};
use tipline_store::Store;
use tipline_testkit::{TestBackend, TestDb};

pub struct World {
    pub db: TestDb,
    pub store: Store,
    pub host: Principal,
    pub alpha: Principal,
    pub beta: Principal,
    pub gamma: Principal,
    pub source: Principal,
    pub community: uuid::Uuid,
}

impl World {
    /// Host, partners alpha, beta (in community "sector") and gamma (not), and a source.
    pub async fn new(backend: TestBackend) -> World {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let boot = store.bootstrap("CERT", "admin@cert.example").await.unwrap().unwrap();
        let host = Principal {
            user_id: Some(boot.admin.id),
            org_id: boot.host.id,
            org_kind: OrgKind::Host,
            role: Role::Admin,
        };
        let admin = store.viewer(host.clone());
        let partner = |name: &str, kind: OrgKind| OrganizationInput {
            name: name.into(),
            kind: Some(kind),
            ..Default::default()
        };
        let alpha = admin.create_organization(&partner("Alpha", OrgKind::Partner)).await.unwrap();
        let beta = admin.create_organization(&partner("Beta", OrgKind::Partner)).await.unwrap();
        let gamma = admin.create_organization(&partner("Gamma", OrgKind::Partner)).await.unwrap();
        let source = admin.create_organization(&partner("Feed", OrgKind::Source)).await.unwrap();
        let community = admin
            .create_community(&CommunityInput {
                name: "sector".into(),
                description: None,
                members: vec![alpha.id, beta.id],
            })
            .await
            .unwrap();
        let principal = |org: &tipline_model::admin::Organization| Principal {
            user_id: None,
            org_id: org.id,
            org_kind: org.kind,
            role: Role::Analyst,
        };
        World {
            host,
            alpha: principal(&alpha),
            beta: principal(&beta),
            gamma: principal(&gamma),
            source: principal(&source),
            community: community.id,
            db,
            store,
        }
    }
}
