//! `tipline token`: create API tokens (the secret is printed once), list and revoke them.

use std::collections::HashMap;

use anyhow::bail;
use tipline_model::admin::{ApiToken, TokenInput};
use uuid::Uuid;

use super::{Context, Session};
use crate::cli::TokenCommand;
use crate::output::{self, Table, or_dash};

pub async fn run(context: &Context, command: TokenCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = execute(context, &session, command).await;
    session.close().await;
    result
}

async fn execute(
    context: &Context,
    session: &Session,
    command: TokenCommand,
) -> anyhow::Result<()> {
    let admin = session.admin();
    match command {
        TokenCommand::Create { user, name, expires_in_days } => {
            let user = admin.find_user(&user).await?;
            let input = TokenInput { name, user_id: Some(user.id), expires_in_days };
            let token = admin.create_token(&input).await?;
            if context.json {
                return output::json(&token);
            }
            let expires = match token.token.expires_at {
                Some(at) => format!("expires {}", output::time(at)),
                None => "does not expire".to_string(),
            };
            output::lines([
                format!(
                    "created token {} ({}) for {}; it {expires}",
                    token.token.name, token.token.prefix, user.email
                ),
                String::new(),
                format!("  {}", token.secret),
                String::new(),
                "This secret is shown only now and cannot be recovered: store it safely.".into(),
            ])
        }
        TokenCommand::List => {
            let tokens = admin.list_tokens().await?;
            if context.json {
                return output::json(&tokens);
            }
            let emails: HashMap<Uuid, String> =
                admin.list_users().await?.into_iter().map(|u| (u.id, u.email)).collect();
            let now = chrono::Utc::now();
            let mut table = Table::new(&[
                "PREFIX",
                "NAME",
                "USER",
                "STATUS",
                "CREATED",
                "EXPIRES",
                "LAST USED",
                "ID",
            ]);
            for token in tokens {
                let status = if token.revoked_at.is_some() {
                    "revoked"
                } else if token.expires_at.is_some_and(|at| at <= now) {
                    "expired"
                } else {
                    "active"
                };
                table.row(vec![
                    token.prefix,
                    token.name,
                    emails
                        .get(&token.user_id)
                        .cloned()
                        .unwrap_or_else(|| token.user_id.to_string()),
                    status.to_string(),
                    output::time(token.created_at),
                    or_dash(token.expires_at.map(output::time)),
                    or_dash(token.last_used_at.map(output::time)),
                    token.id.to_string(),
                ]);
            }
            table.print("no tokens")
        }
        TokenCommand::Revoke { token } => {
            let id = match Uuid::parse_str(token.trim()) {
                Ok(id) => id,
                Err(_) => by_prefix(&admin.list_tokens().await?, token.trim())?,
            };
            let token = admin.revoke_token(id).await?;
            if context.json {
                return output::json(&token);
            }
            output::lines([format!("revoked token {} ({})", token.name, token.prefix)])
        }
    }
}

/// The id of the one token whose prefix is `prefix`.
fn by_prefix(tokens: &[ApiToken], prefix: &str) -> anyhow::Result<Uuid> {
    let matching: Vec<&ApiToken> = tokens.iter().filter(|t| t.prefix == prefix).collect();
    match matching.as_slice() {
        [token] => Ok(token.id),
        [] => bail!("no token has the id or prefix `{prefix}`; `tipline token list` shows them"),
        several => bail!(
            "{} tokens have the prefix `{prefix}`; revoke by id: {}",
            several.len(),
            several.iter().map(|t| t.id.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}
