//! `tipline import FILE --format FORMAT`: read a file of intelligence and write it in one
//! transaction, as the host administrator or (`--as-org`) another organization's analyst.
//!
//! The formats are the [`ImportFormat`] list (alphabetical; one variant and one dispatch
//! line per format, the format's code in its own `import_<format>.rs`). A problem rejects
//! the whole file unless `--lenient` imports the valid part and lists what was left out.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tipline_model::Tlp;
use uuid::Uuid;

use super::{Context, Session, import_misp};

/// Arguments of `tipline import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import (`misp`: an event JSON file, or a MISP feed directory holding
    /// `manifest.json` and its event files).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// What the file is.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ImportFormat,

    /// Import the valid part of a file with problems and list what was rejected (default:
    /// one problem rejects the whole file and nothing is imported).
    #[arg(long)]
    pub lenient: bool,

    /// Owning organization of what is imported, name or id [default: the acting
    /// organization]; the host may import for source organizations.
    #[arg(long, value_name = "ORG")]
    pub owner: Option<String>,

    /// Act as this organization, with the analyst role, instead of as the host's admin.
    #[arg(long, value_name = "ORG")]
    pub as_org: Option<String>,

    /// TLP when the file does not say (MISP: no `tlp:` tag): clear, green, amber,
    /// amber+strict or red [default: amber].
    #[arg(long, value_name = "TLP", value_parser = parse_tlp)]
    pub tlp: Option<Tlp>,

    /// Confidence 0-100 of imported indicators (MISP: halved for `to_ids: false`) [default: 50].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..=100))]
    pub confidence: Option<i64>,

    /// A tag added to everything imported (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Share what is imported with this community, name or id (repeatable; MISP events of
    /// distribution 0 or 4 are never shared).
    #[arg(long = "share", value_name = "COMMUNITY")]
    pub share: Vec<String>,
}

/// Every importable format, alphabetical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// MISP event JSON ({"Event": …}, a REST response, a list) or a MISP feed directory.
    Misp,
}

/// What every format's import needs, resolved from the arguments.
#[derive(Debug)]
pub struct Resolved {
    /// Owner of the imported objects, when not the acting organization.
    pub owner_id: Option<Uuid>,
    /// The acting organization (for the incremental scope when no owner is given).
    pub acting_org: Uuid,
    /// Communities to share to.
    pub shared_to: Vec<Uuid>,
}

pub async fn run(context: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = execute(context, &session, args).await;
    session.close().await;
    result
}

async fn execute(context: &Context, session: &Session, args: ImportArgs) -> anyhow::Result<()> {
    let viewer = session.acting(args.as_org.as_deref()).await?;
    let owner_id = session.optional_org_id(args.owner.as_deref()).await?;
    let shared_to = session.community_ids(&args.share).await?;
    let resolved = Resolved { owner_id, acting_org: viewer.principal().org_id, shared_to };
    match args.format {
        ImportFormat::Misp => import_misp::run(context, &viewer, &args, &resolved).await,
    }
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}
