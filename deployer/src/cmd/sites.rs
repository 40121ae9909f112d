//! `sankofa sites import|list|show`: the inventory on chain.

use std::path::PathBuf;

use alloy::primitives::B256;
use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::{
    config::{ChainArgs, SignerArgs},
    contracts::{IRollout, ISiteRegistry, SiteInput, site_status_name},
    deployment::Ctx,
    inventory::{self, Site, Tier, site_id},
    output, registry,
};

/// The registry accepts at most this many sites per `registerSites` call.
const MAX_BATCH: usize = 100;

/// Register and inspect sites.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Validate an inventory CSV, then register what is missing and verify what exists.
    Import(ImportArgs),
    /// Every registered site with its status.
    List(ListArgs),
    /// One site in detail.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The inventory (columns: site,tier,phase,parent,iata,city,country,lat,lon,tz).
    file: PathBuf,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    signer: SignerArgs,
    /// Sites per transaction (1..=100).
    #[arg(long, default_value_t = MAX_BATCH)]
    batch_size: usize,
    /// Only validate the file (no RPC).
    #[arg(long)]
    check: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[arg(long)]
    tier: Option<String>,
    #[arg(long)]
    phase: Option<u8>,
    /// planned, approved, deploying, operational, degraded, rolled-back, decommissioned
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The site name, e.g. core-fra.
    site: String,
    #[command(flatten)]
    chain: ChainArgs,
    #[arg(long)]
    json: bool,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Import(a) => output::block_on(a.run()),
            Command::List(a) => output::block_on(a.run()),
            Command::Show(a) => output::block_on(a.run()),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportReport {
    file: String,
    sites: usize,
    registered: usize,
    verified: usize,
    transactions: Vec<B256>,
}

fn bar(len: usize, hidden: bool, what: &str) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({elapsed})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

impl ImportArgs {
    async fn run(self) -> anyhow::Result<()> {
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            bail!(
                "--batch-size {} must be in 1..={MAX_BATCH}",
                self.batch_size
            );
        }
        // The whole file is validated before anything else, RPC included.
        let sites = inventory::load(&self.file)?;
        if self.check {
            println!("{}: {} sites, valid", self.file.display(), sites.len());
            return Ok(());
        }
        let ctx = Ctx::open(&self.chain, Some(&self.signer)).await?;
        let (chain, dep) = (&ctx.chain, &ctx.deployment);

        let ordered = inventory::registration_order(&sites);
        let ids: Vec<B256> = ordered.iter().map(|s| s.id).collect();
        let pb = bar(ids.len(), self.json, "checking");
        let states = registry::states(chain, dep, &ids, Some(&pb)).await?;
        pb.finish_and_clear();

        // What exists must be exactly what the file says, or nothing is sent.
        let existing: Vec<(&Site, registry::SiteState)> = ordered
            .iter()
            .zip(&states)
            .filter(|(_, st)| st.registered())
            .map(|(s, st)| (*s, *st))
            .collect();
        if !existing.is_empty() {
            let regs = registry::by_id(registry::registrations(chain, dep).await?);
            let mut problems = Vec::new();
            for (site, state) in &existing {
                let line = format!("{}:{}", self.file.display(), site.line);
                if state.tier != site.tier as u8 || state.phase != site.phase {
                    problems.push(format!(
                        "{line}: {} is registered as tier {} phase {}, the file says {} phase {}",
                        site.name, state.tier, state.phase, site.tier, site.phase
                    ));
                } else if let Some(reg) = regs.get(&site.id) {
                    if reg.record_hash != site.record_hash {
                        problems.push(format!(
                            "{line}: {} is registered with another record (recordHash {} on chain, {} for this line); \
                             the registry is append-only: restore the original line",
                            site.name, reg.record_hash, site.record_hash
                        ));
                    }
                    if reg.parent.as_deref() != site.parent.as_deref() {
                        problems.push(format!(
                            "{line}: {} is registered under parent {:?}, the file says {:?}",
                            site.name, reg.parent, site.parent
                        ));
                    }
                }
            }
            if !problems.is_empty() {
                bail!(
                    "{} does not match the chain ({} problem(s)); nothing was sent:\n  {}",
                    self.file.display(),
                    problems.len(),
                    problems.join("\n  ")
                );
            }
        }

        let missing: Vec<&Site> = ordered
            .iter()
            .zip(&states)
            .filter(|(_, st)| !st.registered())
            .map(|(s, _)| *s)
            .collect();
        let registry = ISiteRegistry::new(dep.address("SiteRegistry")?, &chain.provider);
        let pb = bar(missing.len(), self.json, "registering");
        let mut transactions = Vec::new();
        // Batches go out without waiting for each other unless one needs a parent that an
        // unconfirmed batch registers (gas estimation would then fail against the current
        // state): on a chain with a block time this needs one block per tier, not per batch.
        let mut in_flight: Vec<(crate::rpc::Submitted, usize)> = Vec::new();
        let mut unconfirmed: std::collections::HashSet<B256> = Default::default();
        for batch in missing.chunks(self.batch_size) {
            if batch.iter().any(|s| unconfirmed.contains(&s.parent_id())) {
                for (sub, n) in in_flight.drain(..) {
                    transactions.push(chain.confirm(sub).await?.transaction_hash);
                    pb.inc(n as u64);
                }
                unconfirmed.clear();
            }
            let inputs: Vec<SiteInput> = batch
                .iter()
                .map(|s| SiteInput {
                    id: s.id,
                    tier: s.tier as u8,
                    phase: s.phase,
                    parent: s.parent_id(),
                    recordHash: s.record_hash,
                })
                .collect();
            let what = format!(
                "registering {} sites ({}:{}..)",
                batch.len(),
                self.file.display(),
                batch.first().map(|s| s.line).unwrap_or_default()
            );
            let tx = registry.registerSites(inputs).into_transaction_request();
            in_flight.push((chain.submit(tx, &what).await?, batch.len()));
            unconfirmed.extend(batch.iter().map(|s| s.id));
        }
        for (sub, n) in in_flight {
            transactions.push(chain.confirm(sub).await?.transaction_hash);
            pb.inc(n as u64);
        }
        pb.finish_and_clear();
        let report = ImportReport {
            file: self.file.display().to_string(),
            sites: sites.len(),
            registered: missing.len(),
            verified: existing.len(),
            transactions,
        };
        if self.json {
            output::json(&report)?;
        } else {
            println!(
                "{}: {} sites; registered {} in {} transaction(s), verified {} already registered",
                report.file,
                report.sites,
                report.registered,
                report.transactions.len(),
                report.verified
            );
        }
        Ok(())
    }
}

impl ListArgs {
    async fn run(self) -> anyhow::Result<()> {
        let tier =
            match &self.tier {
                Some(t) => Some(Tier::parse(t).ok_or_else(|| {
                    anyhow::anyhow!("--tier {t}: expected core, regional or edge")
                })?),
                None => None,
            };
        if let Some(s) = &self.status
            && !(0..=7).any(|i| site_status_name(i) == s)
        {
            bail!(
                "--status {s}: expected planned, approved, deploying, operational, degraded, rolled-back or decommissioned"
            );
        }
        let ctx = Ctx::open(&self.chain, None).await?;
        let sites: Vec<registry::SiteView> = registry::list(&ctx.chain, &ctx.deployment)
            .await?
            .into_iter()
            .filter(|s| tier.is_none_or(|t| s.tier == t.name()))
            .filter(|s| self.phase.is_none_or(|p| s.phase == p))
            .filter(|s| self.status.as_deref().is_none_or(|st| s.status == st))
            .collect();
        if self.json {
            return output::json(&sites);
        }
        let mut t = output::Table::new(["site", "tier", "phase", "status", "parent", "agent"]);
        for s in &sites {
            t.row([
                s.site.clone(),
                s.tier.clone(),
                s.phase.to_string(),
                s.status.to_string(),
                s.parent.clone().unwrap_or_default(),
                s.agent.map(|a| a.to_checksum(None)).unwrap_or_default(),
            ]);
        }
        t.print();
        println!("{} site(s)", sites.len());
        Ok(())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SiteDetail {
    site: String,
    id: B256,
    tier: String,
    phase: u8,
    status: &'static str,
    agent: Option<alloy::primitives::Address>,
    parent: Option<String>,
    record_hash: B256,
    registered_block: u64,
    registered_tx: Option<B256>,
    wave: u32,
    next_step: u16,
    rollback_ordered: bool,
}

impl ShowArgs {
    async fn run(self) -> anyhow::Result<()> {
        let id = site_id(&self.site).ok_or_else(|| {
            anyhow::anyhow!("`{}` is not a site name (1..31 of a-z, 0-9, -)", self.site)
        })?;
        let ctx = Ctx::open(&self.chain, None).await?;
        let (chain, dep) = (&ctx.chain, &ctx.deployment);
        let state = registry::states(chain, dep, &[id], None).await?[0];
        if !state.registered() {
            bail!(
                "site {} is not registered; run `sankofa sites import` first",
                self.site
            );
        }
        let regs = registry::by_id(registry::registrations(chain, dep).await?);
        let reg = regs.get(&id);
        let rollout = IRollout::new(dep.address("Rollout")?, &chain.provider);
        let d = rollout
            .deployment(id)
            .call()
            .await
            .map_err(|e| chain.explain_call("Rollout.deployment", e))?;
        let detail = SiteDetail {
            site: self.site.clone(),
            id,
            tier: Tier::from_u8(state.tier)
                .map(|t| t.name().to_string())
                .unwrap_or_default(),
            phase: state.phase,
            status: site_status_name(state.status),
            agent: (!state.agent.is_zero()).then_some(state.agent),
            parent: reg.and_then(|r| r.parent.clone()),
            record_hash: reg.map(|r| r.record_hash).unwrap_or_default(),
            registered_block: reg.map(|r| r.block).unwrap_or_default(),
            registered_tx: reg.and_then(|r| r.tx),
            wave: d.waveId,
            next_step: d.nextStep,
            rollback_ordered: d.rollbackOrdered,
        };
        if self.json {
            return output::json(&detail);
        }
        let d = &detail;
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
        for (k, v) in [
            ("site", d.site.clone()),
            ("id", d.id.to_string()),
            ("tier", d.tier.clone()),
            ("phase", d.phase.to_string()),
            ("status", d.status.to_string()),
            ("parent", opt(d.parent.clone())),
            ("agent", opt(d.agent.map(|a| a.to_checksum(None)))),
            ("record hash", d.record_hash.to_string()),
            (
                "registered",
                format!(
                    "block {} tx {}",
                    d.registered_block,
                    opt(d.registered_tx.map(|t| t.to_string()))
                ),
            ),
            ("wave", d.wave.to_string()),
            ("next step", d.next_step.to_string()),
            ("rollback", d.rollback_ordered.to_string()),
        ] {
            println!("{k:12} {v}");
        }
        Ok(())
    }
}
