//! `tipline user`: create and list users.

use tipline_model::admin::UserInput;

use super::{Context, Session};
use crate::cli::UserCommand;
use crate::output::{self, Table, or_dash};

pub async fn run(context: &Context, command: UserCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = execute(context, &session, command).await;
    session.close().await;
    result
}

async fn execute(context: &Context, session: &Session, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { email, org, role, name } => {
            let org_id = session.org_id(&org).await?;
            let input = UserInput { org_id: Some(org_id), email, name, role: Some(role) };
            let user = session.admin().create_user(&input).await?;
            if context.json {
                return output::json(&user);
            }
            let names = session.org_names().await?;
            output::lines([format!(
                "created user {} ({}) in {} ({})",
                user.email,
                user.role,
                names.name(user.org_id),
                user.id
            )])
        }
        UserCommand::List => {
            let users = session.admin().list_users().await?;
            if context.json {
                return output::json(&users);
            }
            let names = session.org_names().await?;
            let mut table = Table::new(&["EMAIL", "ROLE", "ORGANIZATION", "NAME", "STATUS", "ID"]);
            for user in users {
                table.row(vec![
                    user.email,
                    user.role.to_string(),
                    names.name(user.org_id),
                    or_dash(user.name),
                    if user.disabled { "disabled" } else { "active" }.to_string(),
                    user.id.to_string(),
                ]);
            }
            table.print("no users")
        }
    }
}
