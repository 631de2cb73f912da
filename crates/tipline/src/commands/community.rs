//! `tipline community`: create communities, add members, list them.

use tipline_model::admin::CommunityInput;

use super::{Context, Session};
use crate::cli::CommunityCommand;
use crate::output::{self, Table, or_dash};

pub async fn run(context: &Context, command: CommunityCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = execute(context, &session, command).await;
    session.close().await;
    result
}

async fn execute(
    context: &Context,
    session: &Session,
    command: CommunityCommand,
) -> anyhow::Result<()> {
    {
        match command {
            CommunityCommand::Add { name, description, members } => {
                let mut member_ids = Vec::with_capacity(members.len());
                for member in &members {
                    member_ids.push(session.org_id(member).await?);
                }
                let input = CommunityInput { name, description, members: member_ids };
                let community = session.admin().create_community(&input).await?;
                if context.json {
                    return output::json(&community);
                }
                output::lines([format!(
                    "created community {} with {} member(s) ({})",
                    community.name,
                    community.members.len(),
                    community.id
                )])
            }
            CommunityCommand::Join { community, org } => {
                let community_id = session.community_id(&community).await?;
                let org_id = session.org_id(&org).await?;
                let community = session.admin().add_community_member(community_id, org_id).await?;
                if context.json {
                    return output::json(&community);
                }
                let names = session.org_names().await?;
                output::lines([format!(
                    "{} is a member of community {}",
                    names.name(org_id),
                    community.name
                )])
            }
            CommunityCommand::List => {
                let communities = session.admin().list_communities().await?;
                if context.json {
                    return output::json(&communities);
                }
                let names = session.org_names().await?;
                let mut table = Table::new(&["NAME", "MEMBERS", "DESCRIPTION", "ID"]);
                for community in communities {
                    table.row(vec![
                        community.name,
                        names.names(&community.members),
                        or_dash(community.description),
                        community.id.to_string(),
                    ]);
                }
                table.print("no communities")
            }
        }
    }
}
