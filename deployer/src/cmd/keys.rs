//! `sankofa keys`: agent key bindings as proposals (`bind`, `rotate`, `revoke`), and the keys
//! crate's device commands (`generate`, `show`, `sign-message`, `import`) for the `[signer]` key.
//!
//! `bind --file` takes many (site, key) pairs so a whole fleet is bound by one proposal.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use anyhow::{Context, bail};
use serde::Deserialize;

use crate::{
    cmd::propose::ProposeOpts, contracts::ISiteRegistry, governance::Action, inventory::site_id,
    output, registry,
};

/// Agent keys: bindings (by proposal) and the local signing key.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Propose binding agent keys to sites that have none.
    Bind(BindArgs),
    /// Propose replacing sites' bound agent keys.
    Rotate(BindArgs),
    /// Propose revoking sites' agent keys.
    Revoke(RevokeArgs),
    #[command(flatten)]
    Device(sankofa_keys::cli::KeysCommand),
}

#[derive(Debug, clap::Args)]
struct BindArgs {
    /// One site (with --key).
    #[arg(long, requires = "key", conflicts_with = "file")]
    site: Option<String>,
    /// The agent key address for --site.
    #[arg(long)]
    key: Option<Address>,
    /// Many pairs: a CSV with columns `site,key` (header optional) or a JSON array of
    /// `{"site": .., "key": ..}`.
    #[arg(long, required_unless_present = "site")]
    file: Option<PathBuf>,
    #[command(flatten)]
    opts: ProposeOpts,
}

#[derive(Debug, clap::Args)]
struct RevokeArgs {
    /// Sites whose keys are revoked (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', required = true)]
    sites: Vec<String>,
    #[command(flatten)]
    opts: ProposeOpts,
}

/// One (site, key) pair and where it came from (for error messages).
#[derive(Debug, Clone)]
struct Pair {
    origin: String,
    site: String,
    id: B256,
    key: Address,
}

#[derive(Deserialize)]
struct JsonPair {
    site: String,
    key: Address,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Bind,
    Rotate,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Bind(a) => output::block_on(a.run(Mode::Bind)),
            Command::Rotate(a) => output::block_on(a.run(Mode::Rotate)),
            Command::Revoke(a) => output::block_on(a.run()),
            Command::Device(cmd) => output::block_on(async move {
                let (raw, file) = crate::config::load_file(
                    std::env::var_os("SANKOFA_CONFIG")
                        .map(PathBuf::from)
                        .as_deref(),
                )?;
                let signer = raw.signer.with_context(|| match file {
                    Some(f) => format!(
                        "{} has no [signer] section (the key these commands manage)",
                        f.display()
                    ),
                    None => "no sankofa.toml with a [signer] section here (or set SANKOFA_CONFIG)"
                        .to_string(),
                })?;
                cmd.run(&signer).await.map_err(anyhow::Error::from)
            }),
        }
    }
}

fn read_pairs(path: &Path) -> anyhow::Result<Vec<Pair>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut problems = Vec::new();
    let mut pairs = Vec::new();
    let mut push =
        |origin: String, site: &str, key: Result<Address, String>| match (site_id(site), key) {
            (Some(id), Ok(key)) => pairs.push(Pair {
                origin,
                site: site.to_string(),
                id,
                key,
            }),
            (None, _) => problems.push(format!("{origin}: `{site}` is not a site name")),
            (_, Err(k)) => problems.push(format!("{origin}: `{k}` is not an address")),
        };
    if text.trim_start().starts_with('[') {
        let list: Vec<JsonPair> = serde_json::from_str(&text).with_context(|| {
            format!("{}: expected [{{\"site\", \"key\"}}, ...]", path.display())
        })?;
        for (i, p) in list.iter().enumerate() {
            push(format!("{}[{i}]", path.display()), &p.site, Ok(p.key));
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("site")) {
                continue;
            }
            let origin = format!("{}:{}", path.display(), i + 1);
            match line.split_once(',') {
                Some((site, key)) => {
                    let key = key.trim();
                    push(
                        origin,
                        site.trim(),
                        key.parse::<Address>().map_err(|_| key.to_string()),
                    )
                }
                None => push(origin, line, Err("(missing `,key`)".to_string())),
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "{} has {} problem(s); nothing was proposed:\n  {}",
            path.display(),
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(pairs)
}

impl BindArgs {
    async fn run(self, mode: Mode) -> anyhow::Result<()> {
        let pairs = match (&self.file, &self.site, self.key) {
            (Some(f), _, _) => read_pairs(f)?,
            (None, Some(site), Some(key)) => {
                let id = site_id(site).with_context(|| format!("`{site}` is not a site name"))?;
                vec![Pair {
                    origin: "--site".into(),
                    site: site.clone(),
                    id,
                    key,
                }]
            }
            _ => bail!("give --site NAME --key ADDRESS, or --file PAIRS"),
        };
        if pairs.is_empty() {
            bail!("no (site, key) pairs given");
        }
        let mut seen = std::collections::HashMap::new();
        for p in &pairs {
            if p.key.is_zero() {
                bail!(
                    "{}: the key for site {} is the zero address; give the agent's address \
                     (`sankofa-agent keys show` on its host); nothing was proposed",
                    p.origin,
                    p.site
                );
            }
            if let Some(first) = seen.insert(p.id, p.origin.clone()) {
                bail!("{}: site {} is also listed at {first}", p.origin, p.site);
            }
        }
        let ctx = self.opts.open().await?;
        let ids: Vec<B256> = pairs.iter().map(|p| p.id).collect();
        let states = registry::states(&ctx.chain, &ctx.deployment, &ids, None).await?;
        let mut problems = Vec::new();
        for (p, s) in pairs.iter().zip(&states) {
            if !s.registered() {
                problems.push(format!("{}: site {} is not registered", p.origin, p.site));
            } else if s.status == 7 {
                problems.push(format!("{}: site {} is decommissioned", p.origin, p.site));
            } else if mode == Mode::Bind && !s.agent.is_zero() && s.agent != p.key {
                problems.push(format!(
                    "{}: site {} already has key {}; use `keys rotate`",
                    p.origin, p.site, s.agent
                ));
            } else if mode == Mode::Rotate && s.agent.is_zero() {
                problems.push(format!(
                    "{}: site {} has no key to rotate; use `keys bind`",
                    p.origin, p.site
                ));
            } else if mode == Mode::Rotate && s.agent == p.key {
                problems.push(format!(
                    "{}: site {} already uses key {}",
                    p.origin, p.site, p.key
                ));
            }
        }
        if !problems.is_empty() {
            bail!(
                "{} problem(s); nothing was proposed:\n  {}",
                problems.len(),
                problems.join("\n  ")
            );
        }
        let registry = ctx.deployment.address("SiteRegistry")?;
        // A binding already in place (a retried bind) needs no action.
        let actions: Vec<Action> = pairs
            .iter()
            .zip(&states)
            .filter(|(p, s)| s.agent != p.key)
            .map(|(p, _)| {
                Action::new(
                    registry,
                    ISiteRegistry::bindAgentKeyCall {
                        site_: p.id,
                        key: p.key,
                    },
                )
            })
            .collect();
        if actions.is_empty() {
            println!("every key is already bound as given; nothing to propose");
            return Ok(());
        }
        let verb = if mode == Mode::Bind { "Bind" } else { "Rotate" };
        let title = format!("{verb} {} agent key(s): {}", actions.len(), summary(&pairs));
        self.opts.submit(&ctx, &title, actions).await
    }
}

fn summary(pairs: &[Pair]) -> String {
    let names: Vec<&str> = pairs.iter().take(5).map(|p| p.site.as_str()).collect();
    if pairs.len() > 5 {
        format!("{}, … (+{})", names.join(", "), pairs.len() - 5)
    } else {
        names.join(", ")
    }
}

impl RevokeArgs {
    async fn run(self) -> anyhow::Result<()> {
        let ids = crate::cmd::propose::site_ids(&self.sites)?;
        let ctx = self.opts.open().await?;
        let states = registry::states(&ctx.chain, &ctx.deployment, &ids, None).await?;
        let unbound: Vec<&str> = self
            .sites
            .iter()
            .zip(&states)
            .filter(|(_, s)| s.agent.is_zero())
            .map(|(n, _)| n.as_str())
            .collect();
        if !unbound.is_empty() {
            bail!(
                "no key is bound (or the site is unknown): {}",
                unbound.join(", ")
            );
        }
        let registry = ctx.deployment.address("SiteRegistry")?;
        let actions = ids
            .iter()
            .map(|&site| Action::new(registry, ISiteRegistry::revokeAgentKeyCall { site_: site }))
            .collect();
        self.opts
            .submit(
                &ctx,
                &format!("Revoke the agent key(s) of {}", self.sites.join(", ")),
                actions,
            )
            .await
    }
}
