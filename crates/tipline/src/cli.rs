//! The command line: every command, flag and help text of `tipline`, parsed with clap.
//!
//! This module only describes and parses; the commands themselves live in `commands/`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tipline_formats::extract::HitKind;
use tipline_model::admin::{ConstituencyEntry, Contact};
use tipline_model::{ConstituencyKind, ContactRole, IndicatorKind, OrgKind, Role, Tlp};

use crate::config::LogFormat;

const TOP_EXAMPLES: &str = "\
Examples:
  tipline init                       create the data directory, database and first admin token
  tipline serve                      run the HTTP API on 127.0.0.1:8080
  tipline org add CERT-XY --contact security=soc@cert-xy.example --cidr 192.0.2.0/24
  tipline indicator add 198.51.100.7 --tlp green --tag botnet
  tipline --json org list            machine-readable output

Data directory: --data-dir, else TIPLINE_DATA_DIR, else $XDG_DATA_HOME/tipline, else
~/.local/share/tipline. Config file: --config, else TIPLINE_CONFIG, else tipline.toml in the
data directory. Log filter: TIPLINE_LOG (e.g. `debug`).";

/// tipline: a threat-intelligence platform with automation playbooks.
#[derive(Debug, Parser)]
#[command(name = "tipline", version, after_help = TOP_EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// Data directory (database, config file).
    #[arg(long, global = true, value_name = "DIR", help_heading = "Global options")]
    pub data_dir: Option<PathBuf>,

    /// Config file [default: tipline.toml in the data directory].
    #[arg(long, global = true, value_name = "FILE", help_heading = "Global options")]
    pub config: Option<PathBuf>,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    /// Format of log lines on standard error [config: log.format].
    #[arg(long, global = true, value_enum, value_name = "FORMAT", help_heading = "Global options")]
    pub log_format: Option<LogFormat>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `tipline`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory, config file and database, and the first admin token.
    #[command(after_help = "\
Examples:
  tipline init
  tipline init --org-name \"CERT-XY\" --admin-email soc-admin@cert-xy.example
  tipline --data-dir /var/lib/tipline init --json

Running init again changes nothing and prints no token.")]
    Init(InitArgs),

    /// Run the HTTP server (REST API, OpenAPI document, health checks) until Ctrl-C or SIGTERM.
    #[command(after_help = "\
Examples:
  tipline serve
  tipline serve --listen 0.0.0.0:8080
  TIPLINE_LOG=debug tipline serve --log-format json")]
    Serve(ServeArgs),

    /// Manage organizations: partners and feed sources.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline org add CERT-XY --sector energy --country DE --contact security=soc@cert-xy.example
  tipline org add abuse.ch --kind source
  tipline org list
  tipline org show CERT-XY
  tipline org subscribe CERT-XY abuse.ch"
    )]
    Org(OrgCommand),

    /// Manage communities: sharing groups of organizations.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline community add energy-isac --description \"Energy sector\" --member CERT-XY
  tipline community join energy-isac Grid-Co
  tipline community list"
    )]
    Community(CommunityCommand),

    /// Manage users of organizations.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline user add analyst@cert-xy.example --org CERT-XY --role analyst
  tipline user list"
    )]
    User(UserCommand),

    /// Manage API tokens.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline token create analyst@cert-xy.example --name siem --expires-in-days 90
  tipline token list
  tipline token revoke tpl_AbCdEfGh"
    )]
    Token(TokenCommand),

    /// Add and search indicators.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline indicator add evil.example --tlp green --tag phishing --share energy-isac
  tipline indicator search --tag phishing
  tipline indicator search --value 198.51.100.7 --as-org CERT-XY"
    )]
    Indicator(IndicatorCommand),

    /// Enrich an IP address or a domain with every configured provider (or the ones named):
    /// Shodan, Censys, GeoIP, RDAP, DNSBL, DNS. Answers are cached in the database.
    #[command(after_help = "\
Examples:
  tipline enrich 198.51.100.7
  tipline enrich 198.51.100.7 --provider shodan --provider geoip
  tipline enrich example.com --provider dns
  tipline --json enrich 198.51.100.7 --refresh     full normalized records, device identity included
  TIPLINE_SHODAN_API_KEY=... tipline enrich 198.51.100.7 --provider shodan

Providers without credentials are reported as disabled. Configure them in [enrich.<provider>]
of the config file or with TIPLINE_<PROVIDER>_<KEY> variables (docs/enrichment.md).")]
    Enrich(EnrichArgs),

    /// Send test notifications, show notification rules, deliver what is due.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline notify test --to CERT-XY
  tipline notify rules show CERT-XY
  tipline notify deliver"
    )]
    Notify(NotifyCommand),

    /// The mail outbox: notifications written as .eml files because no SMTP server is set.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline outbox list
  tipline --json outbox list"
    )]
    Outbox(OutboxCommand),

    /// Manage feeds (blocklists, MISP feeds) and see their listings.
    #[command(
        subcommand,
        after_help = "Examples:\n  tipline feed add spamhaus-drop --url https://www.spamhaus.org/drop/drop.txt --format spamhaus\n  tipline feed list\n  tipline feed pull spamhaus-drop"
    )]
    Feed(crate::commands::feed::FeedCommand),

    /// Import a file of intelligence (one transaction; --lenient imports the valid part).
    #[command(
        after_help = "Examples:\n  tipline import event.json --format misp\n  tipline import ./misp-feed --format misp --owner CIRCL --tlp green\n  tipline import export.json --format misp --lenient"
    )]
    Import(crate::commands::import::ImportArgs),

    /// Find indicators in text (reports, emails, chat): JSON lines, or import them as a report.
    #[command(after_help = "\
Examples:
  tipline extract report.txt                      one JSON object per indicator found
  cat mail.eml | tipline extract -                read standard input
  tipline extract --unique --kind domain --kind url a.txt b.txt
  tipline extract report.txt --import --report-name \"Operation X\" --tlp green --tag apt

Finds IPv4/IPv6 addresses, CIDR networks, domains (checked against the public-suffix list),
URLs, emails, MD5/SHA-1/SHA-256 hashes, AS numbers and CVE ids, defanged forms included
(hxxp, [.], (.), [dot], [:], [@], [at]). Each line: file, kind, value (canonical), raw (as
written), offset, line, column. With --import, nothing is printed but a summary: the report
group, the indicators (upserted) and a vulnerability per CVE id are written in one
transaction, each associated with the report (related-to). Details: docs/extraction.md.")]
    Extract(ExtractArgs),

    /// Match records (log lines, alerts) against indicators, constituency and warninglists.
    #[command(after_help = MATCH_EXAMPLES)]
    Match(MatchArgs),

    /// Import and list MISP warninglists (known-benign values).
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline warninglist import misp-warninglists/lists
  tipline warninglist import lists/public-dns-v4/list.json
  tipline warninglist list"
    )]
    Warninglist(WarninglistCommand),
}

const MATCH_EXAMPLES: &str = "\
Examples:
  tipline match /var/log/fw.log                       against the configured database
  tipline match --format eve eve.json --as-org CERT-XY what CERT-XY may see
  tail -f fw.log | tipline match                      standard input, one JSON line per hit
  tipline match access.log --indicators firehol_level1.netset --indicators drop.txt \\
      --constituency members.txt --warninglists misp-warninglists/lists
  tipline match --format jsonl --field src.ip --field dns.query events.jsonl --all

Formats: plain (free text), jsonl (--field PATH, or every string), eve (Suricata), cef.
Indicator files: plain (netset, ipset, Spamhaus DROP, one value per line) and jsonl
({\"value\": ...}), chosen by extension or --indicators-format. A constituency file has one
`VALUE ORGANIZATION NAME` per line. Each output line: {\"line\", \"hits\", \"victims\",
\"warnings\"}; see docs/matching.md.";

/// Arguments of `tipline match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Input file; standard input when absent or `-`.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Record format: plain, jsonl, eve or cef.
    #[arg(long, value_name = "FORMAT", default_value = "plain")]
    pub format: String,

    /// A field (dotted path) to read observables from, for jsonl (repeatable; default: every string).
    #[arg(long = "field", value_name = "PATH")]
    pub fields: Vec<String>,

    /// Match against this indicator file instead of the database (repeatable).
    #[arg(long = "indicators", value_name = "FILE")]
    pub indicators: Vec<PathBuf>,

    /// Format of the --indicators files: plain or jsonl [default: by extension, else plain].
    #[arg(long, value_name = "FORMAT")]
    pub indicators_format: Option<String>,

    /// Constituency file for standalone matching: `VALUE ORGANIZATION NAME` per line.
    #[arg(long, value_name = "FILE")]
    pub constituency: Option<PathBuf>,

    /// Warninglist list.json file, or a directory of them, for standalone matching (repeatable).
    #[arg(long = "warninglists", value_name = "PATH")]
    pub warninglists: Vec<PathBuf>,

    /// TLP of indicators read from files without one [default: clear].
    #[arg(long, value_name = "TLP", value_parser = parse_tlp)]
    pub tlp: Option<Tlp>,

    /// Skip invalid lines of indicator files instead of refusing the file.
    #[arg(long)]
    pub lenient: bool,

    /// Print every record, not only those that hit an indicator.
    #[arg(long)]
    pub all: bool,

    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Match as this organization (only what it may see) instead of as the host's admin.
    #[arg(long, value_name = "ORG")]
    pub as_org: Option<String>,

    /// Print counts and timings as one JSON line on standard error at the end.
    #[arg(long)]
    pub stats: bool,
}

/// `tipline warninglist ...`.
#[derive(Debug, Subcommand)]
pub enum WarninglistCommand {
    /// Import list.json files, or directories of them (searched recursively); a list with the
    /// name of a stored one replaces it. All or nothing: one bad list imports none.
    #[command(after_help = "\
Examples:
  tipline warninglist import misp-warninglists/lists
  tipline warninglist import lists/public-dns-v4/list.json lists/rfc1918/list.json")]
    Import {
        /// list.json files or directories.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
    },

    /// List the stored warninglists.
    #[command(after_help = "\
Examples:
  tipline warninglist list
  tipline --json warninglist list")]
    List,
}

/// Arguments of `tipline extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Files to read; `-` (the default) reads standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub files: Vec<PathBuf>,

    /// Also report the host of every URL and the domain of every email address.
    #[arg(long)]
    pub hosts: bool,

    /// Report each kind and value once per file (the first occurrence).
    #[arg(long)]
    pub unique: bool,

    /// Only this kind (repeatable): an indicator kind or `cve`.
    #[arg(long = "kind", value_name = "KIND", value_parser = parse_hit_kind)]
    pub kinds: Vec<HitKind>,

    /// Import what was found as a report instead of printing it (needs `tipline init`).
    #[arg(long, requires = "report_name")]
    pub import: bool,

    /// Name of the report group to create (or reuse) with --import.
    #[arg(long, value_name = "NAME", requires = "import")]
    pub report_name: Option<String>,

    /// Description of the report.
    #[arg(long, value_name = "TEXT", requires = "import")]
    pub description: Option<String>,

    /// TLP of the report, its indicators and associations [default: amber].
    #[arg(long, value_name = "TLP", value_parser = parse_tlp, requires = "import")]
    pub tlp: Option<Tlp>,

    /// A tag for the report and its indicators (repeatable).
    #[arg(long = "tag", value_name = "TAG", requires = "import")]
    pub tags: Vec<String>,

    /// Share the report, its indicators and associations to a community (repeatable).
    #[arg(long = "share", value_name = "COMMUNITY", requires = "import")]
    pub share: Vec<String>,

    /// Owning organization [default: the acting organization].
    #[arg(long, value_name = "ORG", requires = "import")]
    pub owner: Option<String>,

    /// Act as this organization, with the analyst role, instead of as the host's admin.
    #[arg(long, value_name = "ORG", requires = "import")]
    pub as_org: Option<String>,
}

/// Arguments of `tipline enrich`.
#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// An IP address or a domain (defanged input such as 198.51.100[.]7 is accepted).
    pub value: String,

    /// Ask only this provider (repeatable): censys, dns, dnsbl, geoip, rdap, shodan.
    #[arg(long = "provider", value_name = "NAME")]
    pub providers: Vec<String>,

    /// Ask the providers even when a fresh answer is cached.
    #[arg(long)]
    pub refresh: bool,

    /// Include each provider's raw response (with --json).
    #[arg(long)]
    pub raw: bool,
}

/// `tipline notify ...`.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Render a template for an organization's contacts and send it (or write it to the
    /// outbox when no SMTP server is configured), through the organization's rules.
    #[command(after_help = "\
Examples:
  tipline notify test --to CERT-XY
  tipline notify test --to CERT-XY --template alert-triage --role abuse \\
      --data '{\"summary\": \"Test of the alert template\"}'")]
    Test(NotifyTestArgs),

    /// Notification rules.
    #[command(
        subcommand,
        after_help = "\
Examples:
  tipline notify rules show CERT-XY"
    )]
    Rules(NotifyRulesCommand),

    /// Print the HMAC key the receiver of webhooks at URL verifies signatures with.
    #[command(after_help = "\
Examples:
  tipline notify webhook-key https://soar.cert-xy.example/hooks/tipline")]
    WebhookKey {
        /// The webhook URL exactly as notifications are sent to it.
        url: String,
    },

    /// Run one pass of the delivery worker: make due digests, deliver due notifications.
    #[command(after_help = "\
Examples:
  tipline notify deliver
  tipline --json notify deliver")]
    Deliver,
}

/// `tipline notify rules ...`.
#[derive(Debug, Subcommand)]
pub enum NotifyRulesCommand {
    /// Every rule that applies to an organization, in the order they are tried.
    #[command(after_help = "\
Examples:
  tipline notify rules show CERT-XY
  tipline --json notify rules show CERT-XY")]
    Show {
        /// Organization name or id.
        org: String,
    },
}

/// Arguments of `tipline notify test`.
#[derive(Debug, Args)]
pub struct NotifyTestArgs {
    /// The recipient organization (name or id).
    #[arg(long = "to", value_name = "ORG")]
    pub to: String,

    /// Template name.
    #[arg(long, value_name = "NAME", default_value = "test")]
    pub template: String,

    /// Contact role to send to instead of the rules' (repeatable): security, abuse, noc.
    #[arg(long = "role", value_name = "ROLE", value_parser = parse_contact_role)]
    pub roles: Vec<ContactRole>,

    /// Template variables (`data`) as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
}

/// `tipline outbox ...`.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List the mail in the outbox with its files.
    #[command(after_help = "\
Examples:
  tipline outbox list
  tipline --json outbox list")]
    List,
}

/// Arguments of `tipline init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of the host organization (the team running this platform).
    #[arg(long, value_name = "NAME", default_value = "Host")]
    pub org_name: String,

    /// Email of the first administrator.
    #[arg(long, value_name = "EMAIL", default_value = "admin@tipline.local")]
    pub admin_email: String,
}

/// Arguments of `tipline serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port [config: server.listen].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// `tipline org ...`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create a partner or source organization.
    #[command(after_help = "\
Examples:
  tipline org add CERT-XY --sector energy --country DE \\
      --contact security=soc@cert-xy.example --contact abuse=abuse@cert-xy.example \\
      --cidr 192.0.2.0/24 --asn AS64500 --domain cert-xy.example
  tipline org add abuse.ch --kind source")]
    Add(OrgAddArgs),

    /// List organizations.
    #[command(after_help = "\
Examples:
  tipline org list
  tipline --json org list")]
    List,

    /// Show one organization with its contacts, constituency and subscriptions.
    #[command(after_help = "\
Examples:
  tipline org show CERT-XY
  tipline --json org show 01920000-0000-7000-8000-000000000000")]
    Show {
        /// Organization name or id.
        #[arg(value_name = "NAME_OR_ID")]
        org: String,
    },

    /// Subscribe an organization to a source: the source's GREEN and AMBER data becomes visible to it.
    #[command(after_help = "\
Examples:
  tipline org subscribe CERT-XY abuse.ch")]
    Subscribe {
        /// The subscribing organization (name or id).
        org: String,
        /// The source organization (name or id).
        source: String,
    },
}

/// Arguments of `tipline org add`.
#[derive(Debug, Args)]
pub struct OrgAddArgs {
    /// Unique name.
    pub name: String,

    /// `partner` (an organization that shares and receives) or `source` (a feed).
    #[arg(long, value_name = "KIND", default_value = "partner", value_parser = parse_org_kind)]
    pub kind: OrgKind,

    /// Sector, e.g. `energy`.
    #[arg(long, value_name = "SECTOR")]
    pub sector: Option<String>,

    /// ISO 3166-1 alpha-2 country code, e.g. `DE`.
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,

    /// Free-text description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// A contact address, ROLE one of security, abuse, noc (repeatable).
    #[arg(long = "contact", value_name = "ROLE=EMAIL", value_parser = parse_contact)]
    pub contacts: Vec<Contact>,

    /// A network of the organization's constituency, e.g. 192.0.2.0/24 (repeatable).
    #[arg(long = "cidr", value_name = "CIDR", value_parser = constituency(ConstituencyKind::Cidr))]
    pub cidrs: Vec<ConstituencyEntry>,

    /// An autonomous system of its constituency, e.g. AS64500 (repeatable).
    #[arg(long = "asn", value_name = "ASN", value_parser = constituency(ConstituencyKind::Asn))]
    pub asns: Vec<ConstituencyEntry>,

    /// A domain of its constituency, covering its subdomains (repeatable).
    #[arg(long = "domain", value_name = "DOMAIN", value_parser = constituency(ConstituencyKind::Domain))]
    pub domains: Vec<ConstituencyEntry>,
}

/// `tipline community ...`.
#[derive(Debug, Subcommand)]
pub enum CommunityCommand {
    /// Create a community.
    #[command(after_help = "\
Examples:
  tipline community add energy-isac --description \"Energy sector\" --member CERT-XY --member Grid-Co")]
    Add {
        /// Unique name.
        name: String,
        /// Free-text description.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// A member organization, name or id (repeatable).
        #[arg(long = "member", value_name = "ORG")]
        members: Vec<String>,
    },

    /// Add an organization to a community.
    #[command(after_help = "\
Examples:
  tipline community join energy-isac Grid-Co")]
    Join {
        /// Community name or id.
        community: String,
        /// Organization name or id.
        org: String,
    },

    /// List communities and their members.
    #[command(after_help = "\
Examples:
  tipline community list
  tipline --json community list")]
    List,
}

/// `tipline user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user in an organization.
    #[command(after_help = "\
Examples:
  tipline user add analyst@cert-xy.example --org CERT-XY --role analyst --name \"Ana Lyst\"
  tipline user add ops@tipline.local --org Host --role admin")]
    Add {
        /// Login email (unique).
        email: String,
        /// The user's organization (name or id).
        #[arg(long, value_name = "ORG")]
        org: String,
        /// admin, analyst or viewer.
        #[arg(long, value_name = "ROLE", default_value = "viewer", value_parser = parse_role)]
        role: Role,
        /// Display name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },

    /// List users.
    #[command(after_help = "\
Examples:
  tipline user list
  tipline --json user list")]
    List,
}

/// `tipline token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print its secret (shown only this once).
    #[command(after_help = "\
Examples:
  tipline token create analyst@cert-xy.example --name siem --expires-in-days 90
  tipline --json token create admin@tipline.local")]
    Create {
        /// The user (email or id) the token acts as.
        #[arg(value_name = "USER_EMAIL_OR_ID")]
        user: String,
        /// A label for the token.
        #[arg(long, value_name = "NAME", default_value = "cli")]
        name: String,
        /// Lifetime in days (1-3650); no expiry when omitted.
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },

    /// List tokens (never their secrets).
    #[command(after_help = "\
Examples:
  tipline token list
  tipline --json token list")]
    List,

    /// Revoke a token by id or by its prefix (`tpl_` and 8 characters, as `token list` shows).
    #[command(after_help = "\
Examples:
  tipline token revoke tpl_AbCdEfGh
  tipline token revoke 01920000-0000-7000-8000-000000000000")]
    Revoke {
        /// Token id or prefix.
        #[arg(value_name = "ID_OR_PREFIX")]
        token: String,
    },
}

/// `tipline indicator ...`.
#[derive(Debug, Subcommand)]
pub enum IndicatorCommand {
    /// Create an indicator, or update the one with the same owner, kind and value.
    #[command(after_help = "\
Examples:
  tipline indicator add 198.51.100.7 --tlp green --confidence 80 --tag botnet --tag c2
  tipline indicator add hxxp://evil[.]example/x --share energy-isac --grant CERT-XY
  tipline indicator add evil.example --as-org CERT-XY")]
    Add(IndicatorAddArgs),

    /// Search the indicators visible to the acting organization.
    #[command(after_help = "\
Examples:
  tipline indicator search --tag botnet --limit 20
  tipline indicator search --value 198.51.100.7
  tipline --json indicator search --owner CERT-XY --tlp amber --as-org CERT-XY")]
    Search(IndicatorSearchArgs),
}

/// Arguments of `tipline indicator add`.
#[derive(Debug, Args)]
pub struct IndicatorAddArgs {
    /// The value (defanged input such as hxxp://evil[.]example is accepted).
    pub value: String,

    /// What the value is; guessed when omitted.
    #[arg(long, value_name = "KIND", value_parser = parse_indicator_kind, long_help = kind_help())]
    pub kind: Option<IndicatorKind>,

    /// TLP marking: clear, green, amber, amber+strict or red [default: amber].
    #[arg(long, value_name = "TLP", value_parser = parse_tlp)]
    pub tlp: Option<Tlp>,

    /// Confidence, 0-100 [default: 50].
    #[arg(long, value_name = "N")]
    pub confidence: Option<i64>,

    /// A tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Share to a community, name or id (repeatable).
    #[arg(long = "share", value_name = "COMMUNITY")]
    pub share: Vec<String>,

    /// Grant an organization access at any TLP, name or id (repeatable).
    #[arg(long = "grant", value_name = "ORG")]
    pub grant: Vec<String>,

    /// Owning organization [default: the acting organization].
    #[arg(long, value_name = "ORG")]
    pub owner: Option<String>,

    /// Act as this organization, with the analyst role, instead of as the host's admin.
    #[arg(long, value_name = "ORG")]
    pub as_org: Option<String>,
}

/// Arguments of `tipline indicator search`.
#[derive(Debug, Args)]
pub struct IndicatorSearchArgs {
    /// Exact value (canonicalized first, so defanged input matches).
    #[arg(long, value_name = "VALUE")]
    pub value: Option<String>,

    /// Only this kind.
    #[arg(long, value_name = "KIND", value_parser = parse_indicator_kind, long_help = kind_help())]
    pub kind: Option<IndicatorKind>,

    /// Only indicators carrying this tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// Only indicators owned by this organization (name or id).
    #[arg(long, value_name = "ORG")]
    pub owner: Option<String>,

    /// Only this TLP: clear, green, amber, amber+strict or red.
    #[arg(long, value_name = "TLP", value_parser = parse_tlp)]
    pub tlp: Option<Tlp>,

    /// Most results to print.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,

    /// Search as this organization, with the analyst role, instead of as the host's admin.
    #[arg(long, value_name = "ORG")]
    pub as_org: Option<String>,
}

fn kind_help() -> String {
    format!(
        "What the value is, one of: {}.\nGuessed from the value when omitted.",
        IndicatorKind::NAMES
    )
}

fn parse_org_kind(s: &str) -> Result<OrgKind, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}

fn parse_contact_role(s: &str) -> Result<ContactRole, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}

fn parse_hit_kind(s: &str) -> Result<HitKind, String> {
    HitKind::parse(s).ok_or_else(|| {
        format!("unknown kind `{s}`; expected one of: {}, cve", IndicatorKind::NAMES)
    })
}

fn parse_indicator_kind(s: &str) -> Result<IndicatorKind, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}

fn parse_contact(s: &str) -> Result<Contact, String> {
    let (role, email) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ROLE=EMAIL, e.g. security=soc@example.org, got `{s}`"))?;
    let role: ContactRole = role.parse().map_err(|e: tipline_model::UnknownName| e.to_string())?;
    Ok(Contact { role, email: email.trim().to_string() })
}

fn constituency(
    kind: ConstituencyKind,
) -> impl Fn(&str) -> Result<ConstituencyEntry, String> + Clone {
    move |value: &str| {
        ConstituencyEntry { kind: Some(kind), value: value.trim().to_string() }.canonical()
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples() {
        fn walk(command: &clap::Command, path: &str) {
            let path = format!("{path} {}", command.get_name());
            let after = command.get_after_help().map(ToString::to_string).unwrap_or_default();
            assert!(after.contains("Examples:"), "`{path}` has no examples");
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &path);
            }
        }
        walk(&Cli::command(), "");
    }

    #[test]
    fn values_are_parsed_into_domain_types() {
        let cli = Cli::try_parse_from([
            "tipline",
            "org",
            "add",
            "X",
            "--kind",
            "source",
            "--contact",
            "abuse=A@B.example",
            "--cidr",
            "192.0.2.1",
            "--asn",
            "64500",
        ])
        .unwrap();
        let Command::Org(OrgCommand::Add(args)) = cli.command else { panic!("not org add") };
        assert_eq!(args.kind, OrgKind::Source);
        assert_eq!(args.contacts[0].role, ContactRole::Abuse);
        assert_eq!(args.cidrs[0].value, "192.0.2.1/32");
        assert_eq!(args.asns[0].value, "AS64500");

        let error = Cli::try_parse_from(["tipline", "org", "add", "X", "--contact", "boss=a@b.c"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown contact role `boss`"), "{error}");
        let error = Cli::try_parse_from(["tipline", "indicator", "add", "x", "--tlp", "purple"])
            .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }
}
