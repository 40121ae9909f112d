//! `sankofa audit`: provenance verified from the chain alone (see `crate::audit`).
//!
//! - `audit verify`: a full scan from the deployment block; exits non-zero on any finding.
//! - `audit site ID`: one site's timeline, every report's signer checked against its bound key.
//! - `audit phase N`: phase N's criteria when phase N+1 was approved, and who met them.
//! - `audit artifact --site ID --step N FILE`: does a local step log match the on-chain digest.

use std::{collections::BTreeMap, path::PathBuf, time::Instant};

use alloy::primitives::{B256, keccak256};
use anyhow::{Context, bail};
use sankofa_abi::ids::site_id;

use crate::{
    audit::{
        events::{Contracts, Event},
        html, phase,
        report::{self, ArtifactReport, PhaseProgress, SiteReport, VerifyReport},
        scan::{self, ScanOptions},
        verify::{self, status_name, tier_name},
    },
    config::ChainArgs,
    deployment::Ctx,
    output,
};

/// Verify rollout provenance from the chain: timelines, approvals, signers, digests.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Scan everything since the deployment block; non-zero exit on any finding.
    Verify {
        #[command(flatten)]
        common: Common,
        /// Also write a self-contained HTML report (map, statuses, phases, timelines).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// The inventory CSV with lat/lon for the HTML map (default: --inventory, else
        /// data/sites.csv if present).
        #[arg(long, value_name = "FILE")]
        sites: Option<PathBuf>,
        /// Check every registered site's record hash against its line in this inventory CSV.
        #[arg(long, value_name = "FILE")]
        inventory: Option<PathBuf>,
    },
    /// One site's timeline: registration, keys, approvals with votes, reports with signers.
    Site {
        /// The site name (e.g. core-fra).
        site: String,
        #[command(flatten)]
        common: Common,
    },
    /// Phase N's criteria at the moment phase N+1 was approved, and the sites that met them.
    Phase {
        /// The phase whose criteria gated the next one (1..=3).
        phase: u8,
        #[command(flatten)]
        common: Common,
    },
    /// Check a local step log (or other output) against the digest reported on chain.
    Artifact {
        /// The site name.
        #[arg(long)]
        site: String,
        /// The step number (0-based, as reported).
        #[arg(long)]
        step: u16,
        /// The wave (default: the latest wave in which the site reported that step).
        #[arg(long)]
        wave: Option<u32>,
        /// Check a rollback step's report instead of a forward step's.
        #[arg(long)]
        rollback: bool,
        /// The file whose keccak256 the agent reported (its step log).
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Clone, clap::Args)]
struct Common {
    #[command(flatten)]
    chain: ChainArgs,
    /// Machine-readable output (stable schema, see `schema` field).
    #[arg(long)]
    json: bool,
    /// Print wall time per scan stage (a benchmark figure; nothing is asserted).
    #[arg(long)]
    timings: bool,
    /// Governed events sent straight by an EOA are not findings (test fixtures only).
    #[arg(long)]
    allow_direct_governance: bool,
    /// Largest eth_getLogs range in blocks (Besu's default --rpc-max-logs-range is 5000).
    #[arg(long, default_value_t = 5000, value_name = "BLOCKS")]
    page_blocks: u64,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<()> {
        match self.command {
            Command::Verify {
                common,
                html,
                sites,
                inventory,
            } => run_verify(common, html, sites, inventory).await,
            Command::Site { site, common } => run_site(common, &site).await,
            Command::Phase { phase, common } => run_phase(common, phase).await,
            Command::Artifact {
                site,
                step,
                wave,
                rollback,
                file,
                common,
            } => run_artifact(common, &site, step, wave, rollback, file).await,
        }
    }
}

fn contracts(ctx: &Ctx) -> anyhow::Result<Contracts> {
    let d = &ctx.deployment;
    let opt = |name: &str| d.contracts.get(name).map(|c| c.address);
    Ok(Contracts {
        registry: d.address("SiteRegistry")?,
        rollout: d.address("Rollout")?,
        validators: opt("ValidatorSet"),
        council: opt("Council"),
        governor: opt("SankofaGovernor"),
        timelock: opt("TimelockController"),
    })
}

fn parse_site(name: &str) -> anyhow::Result<B256> {
    site_id(name).map_err(|e| anyhow::anyhow!("{e}; give the site's name, e.g. core-fra"))
}

async fn run_verify(
    common: Common,
    html_out: Option<PathBuf>,
    sites_csv: Option<PathBuf>,
    inventory: Option<PathBuf>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    // Read the inventory before touching the chain: a bad path is the more useful error.
    let records = match &inventory {
        Some(p) => Some(crate::audit::inventory::record_hashes(p)?),
        None => None,
    };
    let ctx = Ctx::open(&common.chain, None).await?;
    let contracts = contracts(&ctx)?;
    let opts = ScanOptions {
        page_blocks: common.page_blocks,
        site: None,
    };
    let scan = scan::scan(
        &ctx.chain,
        contracts.clone(),
        ctx.deployment.deployment_block,
        opts,
    )
    .await?;
    let t = Instant::now();
    let mut audit = verify::replay(&scan, common.allow_direct_governance);
    if let (Some(path), Some(records)) = (&inventory, &records) {
        let found = crate::audit::inventory::check(path, records, &audit.sites);
        audit.findings.extend(found);
    }
    let verify_time = t.elapsed();

    let mut phases = Vec::new();
    for p in 1..=3u8 {
        let approved = scan
            .entries
            .iter()
            .any(|e| matches!(e.event, Event::PhaseApproved { phase } if phase == p));
        let criteria = phase::audit_phase(&ctx.chain, &scan, p, true)
            .await
            .map(|a| a.criteria)
            .unwrap_or_default();
        phases.push(PhaseProgress {
            phase: p,
            approved,
            criteria,
        });
    }
    // Progress is "now": audit_phase evaluates at the approval of p+1 when there was one, so
    // recompute `have` from the current history for the table.
    let mut operational = [0u64; 4];
    let mut by_status: BTreeMap<&'static str, BTreeMap<&'static str, u64>> = BTreeMap::new();
    for h in audit.sites.values() {
        *by_status
            .entry(tier_name(h.tier))
            .or_default()
            .entry(status_name(h.status))
            .or_default() += 1;
        if h.status == 4 {
            operational[usize::from(h.tier).min(3)] += 1;
        }
    }
    for p in &mut phases {
        for (i, c) in p.criteria.iter_mut().enumerate().take(3) {
            c.have = operational[i + 1];
            c.on_chain = None;
            c.met = c.have >= c.need;
        }
        if let (Some(c), Some(v)) = (p.criteria.get_mut(3), scan.state.validator_count) {
            c.have = v;
            c.on_chain = Some(v);
            c.met = v >= c.need;
        }
    }

    let timings_ms = common.timings.then(|| {
        let mut m: BTreeMap<&'static str, u128> = scan
            .timings
            .iter()
            .map(|(k, d)| (*k, d.as_millis()))
            .collect();
        m.insert("verify", verify_time.as_millis());
        m.insert("total", started.elapsed().as_millis());
        m
    });
    let report = VerifyReport {
        schema: "sankofa-audit-verify/1",
        network: ctx.deployment.network.clone(),
        chain_id: ctx.chain.chain_id,
        contracts,
        from_block: scan.from_block,
        to_block: scan.to_block,
        pages: scan.pages.len(),
        halvings: scan.halvings,
        logs: scan.entries.len(),
        transactions: scan.txs.len(),
        receipts: scan.receipts.len(),
        sites: audit.sites.len(),
        reports_checked: audit.reports_checked,
        governed_txs: audit.governed_txs,
        governed_via_timelock: audit.governed_via_timelock,
        ok: audit.findings.is_empty(),
        findings: audit.findings.clone(),
        phases,
        sites_by_status: by_status,
        timings_ms,
    };
    if let Some(path) = &html_out {
        let csv = sites_csv.or(inventory).or_else(|| {
            let default = PathBuf::from("data/sites.csv");
            default.exists().then_some(default)
        });
        let coords = match csv {
            Some(p) => html::load_coordinates(&p)?,
            None => BTreeMap::new(),
        };
        std::fs::write(path, html::render(&report, &audit.sites, &coords))
            .with_context(|| format!("writing the HTML report {}", path.display()))?;
    }
    if common.json {
        output::json(&report)?;
    } else {
        report::print_verify(&report);
        if let Some(t) = &report.timings_ms {
            let cells: Vec<String> = t.iter().map(|(k, v)| format!("{k} {v} ms")).collect();
            println!("timings: {}", cells.join(", "));
        }
    }
    if !report.ok {
        bail!(
            "audit found {} finding(s); the history cannot be trusted as is",
            report.findings.len()
        );
    }
    Ok(())
}

async fn run_site(common: Common, name: &str) -> anyhow::Result<()> {
    let id = parse_site(name)?;
    let ctx = Ctx::open(&common.chain, None).await?;
    let opts = ScanOptions {
        page_blocks: common.page_blocks,
        site: Some(id),
    };
    let scan = scan::scan(
        &ctx.chain,
        contracts(&ctx)?,
        ctx.deployment.deployment_block,
        opts,
    )
    .await?;
    let mut audit = verify::replay(&scan, common.allow_direct_governance);
    let Some(history) = audit.sites.remove(&id) else {
        bail!(
            "site {name} has no history on chain since block {}: it was never registered",
            scan.from_block
        );
    };
    // Findings about this site, or about the transactions in its timeline (approvals).
    let txs: std::collections::BTreeSet<B256> = history.timeline.iter().map(|t| t.tx).collect();
    let findings: Vec<_> = audit
        .findings
        .into_iter()
        .filter(|f| {
            f.site.as_deref() == Some(name)
                || (f.site.is_none() && f.tx.is_some_and(|t| txs.contains(&t)))
        })
        .collect();
    let report = SiteReport {
        schema: "sankofa-audit-site/1",
        chain_id: ctx.chain.chain_id,
        to_block: scan.to_block,
        ok: findings.is_empty(),
        history,
        findings,
    };
    if common.json {
        output::json(&report)?;
    } else {
        report::print_site(&report);
    }
    if !report.ok {
        bail!("{} finding(s) for site {name}", report.findings.len());
    }
    Ok(())
}

async fn run_phase(common: Common, n: u8) -> anyhow::Result<()> {
    let ctx = Ctx::open(&common.chain, None).await?;
    let opts = ScanOptions {
        page_blocks: common.page_blocks,
        site: Some(B256::ZERO),
    };
    let scan = scan::scan(
        &ctx.chain,
        contracts(&ctx)?,
        ctx.deployment.deployment_block,
        opts,
    )
    .await?;
    let a = phase::audit_phase(&ctx.chain, &scan, n, common.allow_direct_governance).await?;
    if common.json {
        output::json(&a)?;
    } else {
        match (&a.next_approved, &a.approval) {
            (Some(at), Some(p)) => println!(
                "phase {} approved at block {} ({}) tx {}: {}\nphase {n}'s criteria as of block {}:",
                n + 1,
                at.block,
                report::iso_time(at.time),
                at.tx,
                p.summary(),
                a.evaluated_at_block
            ),
            _ => println!(
                "phase {} is not approved yet; phase {n}'s criteria now (block {}):",
                n + 1,
                a.evaluated_at_block
            ),
        }
        let mut t = output::Table::new(["CRITERION", "NEED", "HAVE", "ON CHAIN", "MET"]);
        for c in &a.criteria {
            t.row([
                c.what.to_string(),
                c.need.to_string(),
                c.have.to_string(),
                c.on_chain.map(|v| v.to_string()).unwrap_or_default(),
                if c.met { "yes" } else { "NO" }.to_string(),
            ]);
        }
        t.print();
        for (tier, names) in &a.sites {
            println!("{tier} operational ({}): {}", names.len(), names.join(" "));
        }
        if !a.findings.is_empty() {
            report::print_findings(&a.findings);
        }
    }
    if !a.findings.is_empty() {
        bail!("{} finding(s) for phase {n}", a.findings.len());
    }
    Ok(())
}

async fn run_artifact(
    common: Common,
    name: &str,
    step: u16,
    wave: Option<u32>,
    rollback: bool,
    file: PathBuf,
) -> anyhow::Result<()> {
    let id = parse_site(name)?;
    let bytes =
        std::fs::read(&file).with_context(|| format!("reading the artifact {}", file.display()))?;
    // The agent's digest: keccak256 of the step's whole log file (node-agent executor).
    let file_digest = keccak256(&bytes);
    let ctx = Ctx::open(&common.chain, None).await?;
    let opts = ScanOptions {
        page_blocks: common.page_blocks,
        site: Some(id),
    };
    let scan = scan::scan(
        &ctx.chain,
        contracts(&ctx)?,
        ctx.deployment.deployment_block,
        opts,
    )
    .await?;
    let audit = verify::replay(&scan, true);
    let kind = if rollback { "rollback-step" } else { "step" };
    let entry = audit
        .sites
        .get(&id)
        .into_iter()
        .flat_map(|h| h.timeline.iter())
        .rfind(|t| t.kind == kind && t.step == Some(step) && wave.is_none_or(|w| t.wave == Some(w)))
        .with_context(|| {
            format!(
                "site {name} has no {kind} {step} reported{}; check --site/--step/--wave",
                wave.map(|w| format!(" in wave {w}")).unwrap_or_default()
            )
        })?;
    let on_chain = entry.digest.unwrap_or_default();
    let report = ArtifactReport {
        schema: "sankofa-audit-artifact/1",
        site: name.to_string(),
        wave: entry.wave.unwrap_or_default(),
        step,
        rollback,
        file: file.display().to_string(),
        file_digest,
        on_chain_digest: on_chain,
        matches: file_digest == on_chain,
        block: entry.block,
        tx: entry.tx,
        signer: entry.signer,
        report_verified: entry.verified,
    };
    if common.json {
        output::json(&report)?;
    } else {
        println!(
            "{name} wave {} {kind} {step}: reported at block {} tx {} by {}{}",
            report.wave,
            report.block,
            report.tx,
            report
                .signer
                .map(|a| a.to_string())
                .unwrap_or_else(|| "?".into()),
            match report.report_verified {
                Some(true) => " (the key bound at that block)",
                Some(false) => " (NOT the key bound at that block)",
                None => "",
            }
        );
        println!("on chain: {on_chain}\nfile:     {file_digest}");
        println!(
            "{}",
            if report.matches {
                "MATCH: the file is the output the agent reported"
            } else {
                "MISMATCH: the file is not the output the agent reported"
            }
        );
    }
    if !report.matches {
        bail!(
            "{} does not match the digest reported for {name} {kind} {step}",
            file.display()
        );
    }
    if report.report_verified == Some(false) {
        bail!("the report itself failed verification; run `sankofa audit site {name}`");
    }
    Ok(())
}
