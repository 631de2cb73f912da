//! Bootstrap, organizations, communities, users and tokens.

use tipline_model::admin::{ConstituencyEntry, Contact, OrganizationInput, TokenInput, UserInput};
use tipline_model::{ContactRole, OrgKind, Role};
use tipline_store::StoreError;
use tipline_testkit::{TestBackend, TestDb, backend_tests};

use crate::support::World;

backend_tests!(
    bootstrap_happens_once,
    organizations_are_validated_and_unique,
    partners_cannot_administer,
    tokens_authenticate_until_revoked,
    tokens_are_stored_hashed,
);

async fn bootstrap_happens_once(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    assert!(store.host_principal().await.unwrap().is_none());
    let first = store.bootstrap("CERT", "Admin@Cert.Example").await.unwrap().unwrap();
    assert_eq!(first.host.kind, OrgKind::Host);
    assert_eq!(first.admin.email, "admin@cert.example");
    assert!(first.token.secret.starts_with("tpl_"));
    assert!(store.bootstrap("Other", "x@y.example").await.unwrap().is_none());
    let principal = store.authenticate(&first.token.secret).await.unwrap().unwrap();
    assert_eq!(principal.org_id, first.host.id);
    assert!(principal.is_platform_admin());
    // Migrating again is harmless.
    store.migrate().await.unwrap();
    assert_eq!(store.viewer(principal).list_organizations().await.unwrap().len(), 1);
}

async fn organizations_are_validated_and_unique(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let org = admin
        .create_organization(&OrganizationInput {
            name: "Grid Operator".into(),
            kind: Some(OrgKind::Partner),
            country: Some("de".into()),
            contacts: vec![Contact {
                role: ContactRole::Security,
                email: "SOC@grid.example".into(),
            }],
            constituency: vec![
                ConstituencyEntry { kind: None, value: "192.0.2.0/24".into() },
                ConstituencyEntry { kind: None, value: "2001:DB8::/32".into() },
                ConstituencyEntry { kind: None, value: "AS64500".into() },
                ConstituencyEntry { kind: None, value: "Grid.Example".into() },
                ConstituencyEntry { kind: None, value: "198.51.100.7".into() },
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(org.country.as_deref(), Some("DE"));
    assert_eq!(org.contacts[0].email, "soc@grid.example");
    let values: Vec<_> =
        org.constituency.iter().map(|c| (c.kind.unwrap().as_str(), c.value.as_str())).collect();
    assert_eq!(
        values,
        [
            ("asn", "AS64500"),
            ("cidr", "192.0.2.0/24"),
            ("cidr", "198.51.100.7/32"),
            ("cidr", "2001:db8::/32"),
            ("domain", "grid.example"),
        ]
    );
    let duplicate = admin
        .create_organization(&OrganizationInput {
            name: "grid operator".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        duplicate.to_string(),
        "conflict: an organization named `grid operator` already exists"
    );
    let host = admin
        .create_organization(&OrganizationInput {
            name: "Second host".into(),
            kind: Some(OrgKind::Host),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(host, StoreError::Invalid(ref e) if e[0].field == "kind"), "{host}");
}

async fn partners_cannot_administer(backend: TestBackend) {
    let world = World::new(backend).await;
    let mut partner_admin = world.alpha.clone();
    partner_admin.role = Role::Admin;
    let viewer = world.store.viewer(partner_admin.clone());
    let err = viewer
        .create_organization(&OrganizationInput { name: "Rogue".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
    // A partner sees only its own organization.
    let orgs = viewer.list_organizations().await.unwrap();
    assert_eq!(orgs.iter().map(|o| o.id).collect::<Vec<_>>(), [partner_admin.org_id]);
    assert!(matches!(
        viewer.get_organization(world.beta.org_id).await,
        Err(StoreError::NotFound { .. })
    ));
    // It may create users in its own organization, not in another.
    let user = viewer
        .create_user(&UserInput {
            org_id: None,
            email: "analyst@alpha.example".into(),
            name: None,
            role: Some(Role::Analyst),
        })
        .await
        .unwrap();
    assert_eq!(user.org_id, partner_admin.org_id);
    let err = viewer
        .create_user(&UserInput {
            org_id: Some(world.beta.org_id),
            email: "x@beta.example".into(),
            name: None,
            role: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
    // Only communities it belongs to are listed.
    let gamma = world.store.viewer(world.gamma.clone());
    assert!(gamma.list_communities().await.unwrap().is_empty());
    assert_eq!(viewer.list_communities().await.unwrap().len(), 1);
}

async fn tokens_authenticate_until_revoked(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let user = admin
        .create_user(&UserInput {
            org_id: Some(world.alpha.org_id),
            email: "a@alpha.example".into(),
            name: None,
            role: Some(Role::Viewer),
        })
        .await
        .unwrap();
    let token = admin
        .create_token(&TokenInput {
            name: "siem".into(),
            user_id: Some(user.id),
            expires_in_days: Some(30),
        })
        .await
        .unwrap();
    let principal = world.store.authenticate(&token.secret).await.unwrap().unwrap();
    assert_eq!(
        (principal.org_id, principal.role, principal.user_id),
        (world.alpha.org_id, Role::Viewer, Some(user.id))
    );
    // A wrong secret with the right prefix does not authenticate.
    let mut forged = token.secret.clone();
    forged.pop();
    forged.push(if token.secret.ends_with('A') { 'B' } else { 'A' });
    assert!(world.store.authenticate(&forged).await.unwrap().is_none());
    assert!(world.store.authenticate("tpl_nothing").await.unwrap().is_none());
    // The user can list its token; the listing never includes the secret.
    let own = world.store.viewer(principal.clone());
    let listed = own.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].prefix, &token.secret[..12]);
    // Another partner cannot revoke it (and is told it does not exist).
    let beta = world.store.viewer(world.beta.clone());
    assert!(matches!(beta.revoke_token(token.token.id).await, Err(StoreError::NotFound { .. })));
    let revoked = own.revoke_token(token.token.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(world.store.authenticate(&token.secret).await.unwrap().is_none());
}

async fn tokens_are_stored_hashed(backend: TestBackend) {
    let world = World::new(backend).await;
    let token = world
        .store
        .viewer(world.host.clone())
        .create_token(&TokenInput {
            name: "probe".into(),
            user_id: world.host.user_id,
            expires_in_days: None,
        })
        .await
        .unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&world.db.url).await.unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT name, prefix, hash FROM api_tokens").fetch_all(&pool).await.unwrap();
    let dump = format!("{rows:?}");
    assert!(!dump.contains(&token.secret), "the secret is stored in clear");
    assert!(dump.contains(&tipline_store::hash_token(&token.secret)));
}
