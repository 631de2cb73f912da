//! `tipline org`: create, list and show organizations, and subscribe them to sources.

use tipline_model::admin::{Organization, OrganizationInput};

use super::{Context, OrgNames, Session};
use crate::cli::{OrgAddArgs, OrgCommand};
use crate::output::{self, Table, or_dash};

pub async fn run(context: &Context, command: OrgCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = execute(context, &session, command).await;
    session.close().await;
    result
}

async fn execute(context: &Context, session: &Session, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Add(args) => {
            let org = session.admin().create_organization(&input(args)).await?;
            if context.json {
                output::json(&org)
            } else {
                output::lines([format!(
                    "created {} organization {} ({})",
                    org.kind, org.name, org.id
                )])
            }
        }
        OrgCommand::List => {
            let orgs = session.admin().list_organizations().await?;
            if context.json {
                return output::json(&orgs);
            }
            let mut table = Table::new(&["NAME", "KIND", "SECTOR", "COUNTRY", "ID"]);
            for org in orgs {
                table.row(vec![
                    org.name,
                    org.kind.to_string(),
                    or_dash(org.sector),
                    or_dash(org.country),
                    org.id.to_string(),
                ]);
            }
            table.print("no organizations")
        }
        OrgCommand::Show { org } => {
            let org = session.admin().find_organization(&org).await?;
            if context.json {
                return output::json(&org);
            }
            show(&org, &session.org_names().await?)
        }
        OrgCommand::Subscribe { org, source } => {
            let org_id = session.org_id(&org).await?;
            let source_id = session.org_id(&source).await?;
            let org = session.admin().subscribe(org_id, source_id).await?;
            if context.json {
                output::json(&org)
            } else {
                let names = session.org_names().await?;
                output::lines([format!("{} now subscribes to {}", org.name, names.name(source_id))])
            }
        }
    }
}

fn input(args: OrgAddArgs) -> OrganizationInput {
    OrganizationInput {
        name: args.name,
        kind: Some(args.kind),
        sector: args.sector,
        country: args.country,
        description: args.description,
        contacts: args.contacts,
        constituency: args.cidrs.into_iter().chain(args.asns).chain(args.domains).collect(),
    }
}

fn show(org: &Organization, names: &OrgNames) -> anyhow::Result<()> {
    let contacts: Vec<String> =
        org.contacts.iter().map(|c| format!("{} {}", c.role, c.email)).collect();
    let constituency: Vec<String> = org
        .constituency
        .iter()
        .map(|e| match e.kind {
            Some(kind) => format!("{kind} {}", e.value),
            None => e.value.clone(),
        })
        .collect();
    output::fields(&[
        ("name", org.name.clone()),
        ("id", org.id.to_string()),
        ("kind", org.kind.to_string()),
        ("sector", or_dash(org.sector.as_ref())),
        ("country", or_dash(org.country.as_ref())),
        ("description", or_dash(org.description.as_ref())),
        ("contacts", list(&contacts)),
        ("constituency", list(&constituency)),
        ("subscriptions", names.names(&org.subscriptions)),
        ("created", output::time(org.created_at)),
        ("updated", output::time(org.updated_at)),
    ])
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "-".into() } else { items.join(", ") }
}
