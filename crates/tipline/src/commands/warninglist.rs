//! `tipline warninglist`: import MISP warninglists into the database (as the host admin)
//! and list them.

use serde_json::json;

use super::Context;
use super::matching::sources::load_warninglists;
use crate::cli::WarninglistCommand;
use crate::output::{self, Table};

pub async fn run(context: &Context, command: WarninglistCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let viewer = session.admin();
    let result = match command {
        WarninglistCommand::Import { paths } => {
            // Parse every list before storing any: one bad list imports none.
            let lists = load_warninglists(&paths)?;
            let mut imported = Vec::with_capacity(lists.len());
            for (path, list) in &lists {
                let (summary, created) = viewer.import_warninglist(list).await?;
                imported.push((path, summary, created));
            }
            if context.json {
                output::json(&imported
                    .iter()
                    .map(|(path, summary, created)| json!({ "file": path, "created": created, "list": summary }))
                    .collect::<Vec<_>>())
            } else {
                output::lines(imported.iter().map(|(path, summary, created)| {
                    format!(
                        "{} '{}' ({}, {} entries, version {}) from {}",
                        if *created { "imported" } else { "replaced" },
                        summary.name,
                        summary.list_type,
                        summary.entry_count,
                        summary.version,
                        path.display()
                    )
                }))
            }
        }
        WarninglistCommand::List => {
            let lists = viewer.list_warninglists().await?;
            if context.json {
                output::json(&lists)
            } else {
                let mut table = Table::new(&["NAME", "TYPE", "ENTRIES", "VERSION", "UPDATED"]);
                for list in lists {
                    table.row(vec![
                        list.name,
                        list.list_type,
                        list.entry_count.to_string(),
                        list.version.to_string(),
                        output::time(list.updated_at),
                    ]);
                }
                table.print("no warninglists; import some with `tipline warninglist import PATH`")
            }
        }
    };
    session.close().await;
    result
}
