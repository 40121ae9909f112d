//! `sankofa propose phase|wave|rollback`: Rollout decisions as Governor proposals.
//!
//! Every propose prints the proposal id (`--json`: `proposalId`), and a retried propose with the
//! same arguments resumes the existing proposal (see `governance.rs`).

use std::path::PathBuf;

use alloy::primitives::B256;
use anyhow::{Context, bail};

use crate::{
    config::{ChainArgs, SignerArgs},
    contracts::IRollout,
    deployment::Ctx,
    governance::{Action, Proposal, propose_or_resume},
    inventory::site_id,
    output, registry,
};

/// What every proposing command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ProposeOpts {
    #[command(flatten)]
    pub(crate) chain: ChainArgs,
    #[command(flatten)]
    pub(crate) signer: SignerArgs,
    /// Distinguishes a deliberate repeat of the same proposal (e.g. after a defeat); keep it the
    /// same to resume a proposal whose propose was interrupted.
    #[arg(long, default_value = "1")]
    pub(crate) nonce: String,
    #[arg(long)]
    pub(crate) json: bool,
}

impl ProposeOpts {
    /// Proposes (or resumes) and prints the id.
    pub(crate) async fn submit(
        &self,
        ctx: &Ctx,
        title: &str,
        actions: Vec<Action>,
    ) -> anyhow::Result<()> {
        if actions.is_empty() {
            bail!("nothing to propose");
        }
        let proposal = Proposal::new(title, actions, &self.nonce);
        let result = propose_or_resume(&ctx.chain, &ctx.deployment, &proposal).await?;
        if self.json {
            output::json(&result)?;
        } else {
            let verb = if result.created {
                "proposed"
            } else {
                "already proposed"
            };
            println!("{verb}: {}", result.title);
            println!("proposal id: {}", result.proposal_id);
            println!("state: {}", result.state);
        }
        Ok(())
    }

    pub(crate) async fn open(&self) -> anyhow::Result<Ctx> {
        Ctx::open(&self.chain, Some(&self.signer)).await
    }
}

/// Propose a rollout decision.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Approve phase N (executes only if phase N-1's criteria hold then).
    Phase(PhaseArgs),
    /// Approve a wave: a plan (by hash) for a set of sites, in a time window.
    Wave(WaveArgs),
    /// Order the rollback of sites (their agents undo the steps that ran).
    Rollback(RollbackArgs),
}

#[derive(Debug, clap::Args)]
struct PhaseArgs {
    /// The phase to approve (1..=3).
    phase: u8,
    #[command(flatten)]
    opts: ProposeOpts,
}

#[derive(Debug, clap::Args)]
struct WaveArgs {
    #[arg(long)]
    phase: u8,
    /// The plan file; its keccak256 is the plan hash agents verify before running anything.
    #[arg(long)]
    plan: PathBuf,
    /// Where agents fetch the plan: an absolute path, file://, http:// or https:// (default:
    /// file:// and the --plan file's absolute path).
    #[arg(long)]
    plan_uri: Option<String>,
    /// Sites in the wave (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', required_unless_present = "sites_file")]
    sites: Vec<String>,
    /// A file with one site name per line (instead of, or besides, --sites).
    #[arg(long)]
    sites_file: Option<PathBuf>,
    /// Number of steps in the plan (default: its `[[step]]` count; if given, it must match).
    #[arg(long)]
    step_count: Option<u16>,
    /// How many sites may deploy at once.
    #[arg(long, default_value_t = 10)]
    max_concurrent: u16,
    /// Earliest start, unix seconds (default 0: as soon as approved).
    #[arg(long, default_value_t = 0)]
    not_before: u64,
    /// Approval expiry, unix seconds (default: now + --valid-for).
    #[arg(long)]
    expiry: Option<u64>,
    /// Seconds from now until the approval expires, when --expiry is not given.
    #[arg(long, default_value_t = 30 * 86_400)]
    valid_for: u64,
    #[command(flatten)]
    opts: ProposeOpts,
}

#[derive(Debug, clap::Args)]
struct RollbackArgs {
    /// Sites to roll back (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', required = true)]
    sites: Vec<String>,
    /// security, performance, data-integrity, unavailable, compliance (the plan's triggers).
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    opts: ProposeOpts,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Phase(a) => output::block_on(a.run()),
            Command::Wave(a) => output::block_on(a.run()),
            Command::Rollback(a) => output::block_on(a.run()),
        }
    }
}

impl PhaseArgs {
    async fn run(self) -> anyhow::Result<()> {
        if !(1..=3).contains(&self.phase) {
            bail!("phase {} does not exist; phases are 1, 2 and 3", self.phase);
        }
        let ctx = self.opts.open().await?;
        let rollout_addr = ctx.deployment.address("Rollout")?;
        let rollout = IRollout::new(rollout_addr, &ctx.chain.provider);
        let current = rollout
            .currentPhase()
            .call()
            .await
            .map_err(|e| ctx.chain.explain_call("currentPhase", e))?;
        if self.phase <= current {
            bail!(
                "phase {} is already approved (current phase {current})",
                self.phase
            );
        }
        if self.phase > current + 1 {
            bail!(
                "phase {} cannot be approved before phase {} (current phase {current})",
                self.phase,
                current + 1
            );
        }
        if self.phase > 1 {
            let met = rollout
                .criteriaMet(self.phase - 1)
                .call()
                .await
                .map_err(|e| ctx.chain.explain_call("criteriaMet", e))?;
            if !met {
                // Not an error: the criteria are checked when the proposal executes, not now.
                eprintln!(
                    "warning: phase {}'s criteria are not met yet; the proposal can only execute once they are \
                     (see `sankofa status`)",
                    self.phase - 1
                );
            }
        }
        let action = Action::new(
            rollout_addr,
            IRollout::approvePhaseCall { phase: self.phase },
        );
        self.opts
            .submit(&ctx, &format!("Approve phase {}", self.phase), vec![action])
            .await
    }
}

/// Site names -> ids, rejecting bad names and duplicates with the offending name.
pub(crate) fn site_ids(names: &[String]) -> anyhow::Result<Vec<B256>> {
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(|n| {
            let id = site_id(n)
                .with_context(|| format!("`{n}` is not a site name (1..31 of a-z, 0-9, -)"))?;
            if !seen.insert(id) {
                bail!("site {n} is listed twice");
            }
            Ok(id)
        })
        .collect()
}

/// Fails (naming every one) if any site is not registered.
pub(crate) async fn require_registered(
    ctx: &Ctx,
    names: &[String],
    ids: &[B256],
) -> anyhow::Result<()> {
    let states = registry::states(&ctx.chain, &ctx.deployment, ids, None).await?;
    let missing: Vec<&str> = names
        .iter()
        .zip(&states)
        .filter(|(_, s)| !s.registered())
        .map(|(n, _)| n.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "not registered: {}; run `sankofa sites import` first",
            missing.join(", ")
        );
    }
    Ok(())
}

/// What `approveWave` will check at execution time, reported now as warnings: a key binding
/// or a rollback may legitimately be executed between this proposal and its execution.
async fn warn_unready(ctx: &Ctx, names: &[String], ids: &[B256], phase: u8) -> anyhow::Result<()> {
    let states = registry::states(&ctx.chain, &ctx.deployment, ids, None).await?;
    for (name, s) in names.iter().zip(&states) {
        if s.agent.is_zero() {
            eprintln!(
                "warning: {name} has no agent key bound yet; the wave can only execute once it has"
            );
        }
        if s.phase > phase {
            eprintln!(
                "warning: {name} belongs to phase {}, later than the wave's phase {phase}",
                s.phase
            );
        }
        // Planned, Degraded and RolledBack sites may join a wave.
        if !matches!(s.status, 1 | 5 | 6) {
            eprintln!(
                "warning: {name} is {}; only planned, degraded or rolled-back sites can join a wave",
                crate::contracts::site_status_name(s.status)
            );
        }
    }
    Ok(())
}

impl WaveArgs {
    async fn run(self) -> anyhow::Result<()> {
        // Checked before any RPC: a plan its agents would refuse is never put to a vote.
        if !(1..=3).contains(&self.phase) {
            bail!("--phase {}: phases are 1, 2 and 3", self.phase);
        }
        let plan = crate::plan::inspect(&self.plan, self.step_count, self.plan_uri.as_deref())?;
        let plan_hash = plan.hash;
        let mut names = self.sites.clone();
        if let Some(file) = &self.sites_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the sites file {}", file.display()))?;
            names.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from),
            );
        }
        if names.is_empty() {
            bail!("a wave needs at least one site (--sites or --sites-file)");
        }
        let ids = site_ids(&names)?;
        if self.max_concurrent == 0 {
            bail!("--max-concurrent must be at least 1");
        }
        let ctx = self.opts.open().await?;
        require_registered(&ctx, &names, &ids).await?;
        warn_unready(&ctx, &names, &ids, self.phase).await?;
        let rollout_addr = ctx.deployment.address("Rollout")?;
        let title = format!(
            "Approve a phase {} wave of {} site(s), plan {plan_hash}",
            self.phase,
            names.len()
        );
        let call = |expiry| IRollout::approveWaveCall {
            phase: self.phase,
            planHash: plan_hash,
            planUri: plan.uri.clone(),
            sites: ids.clone(),
            notBefore: self.not_before,
            expiry,
            maxConcurrent: self.max_concurrent,
            stepCount: plan.steps,
        };
        let now = ctx.chain.now().await?;
        let resumed = match self.expiry {
            Some(_) => None,
            None => resumable_expiry(&ctx, rollout_addr, &title, &self.opts.nonce, &call).await?,
        };
        let expiry = match (self.expiry, resumed) {
            (Some(e), _) => e,
            // A retry of this very proposal: its expiry was fixed when it was first proposed.
            (None, Some(e)) => e,
            (None, None) => now.saturating_add(self.valid_for),
        };
        // approveWave reverts once the expiry has passed: an approval that expires before
        // governance can execute it would only fail after the whole vote and timelock.
        let least = crate::governance::least_time_to_execute(&ctx.chain, &ctx.deployment).await?;
        if resumed.is_none() && expiry <= now.saturating_add(least) {
            bail!(
                "the approval would expire at {expiry}, but governance cannot execute it before {} \
                 (now {now} + {least} s of voting delay, voting period and timelock delay); pass a \
                 later --expiry or a --valid-for above {least}",
                now.saturating_add(least)
            );
        }
        if self.not_before >= expiry {
            bail!(
                "--not-before {} must be before the expiry {expiry}",
                self.not_before
            );
        }
        let call = call(expiry);
        if !self.opts.json {
            eprintln!(
                "plan hash: {plan_hash} (keccak256 of {})",
                self.plan.display()
            );
            let local = plan.uri.strip_prefix("file://").unwrap_or(&plan.uri);
            if local.starts_with('/') && !std::path::Path::new(local).exists() {
                eprintln!(
                    "note: {} does not exist on this machine; it must exist, with these exact bytes, \
                     on every agent host of the wave",
                    plan.uri
                );
            }
        }
        self.opts
            .submit(&ctx, &title, vec![Action::new(rollout_addr, call)])
            .await
    }
}

/// The expiry of an in-flight proposal (not yet executed, not dead) that is exactly this wave
/// (same title, nonce and every other argument), if one exists: without `--expiry` the expiry is "now + --valid-for", so a retried
/// `propose wave` would otherwise build a new proposal instead of resuming the first.
async fn resumable_expiry(
    ctx: &Ctx,
    rollout: alloy::primitives::Address,
    title: &str,
    nonce: &str,
    call: &impl Fn(u64) -> IRollout::approveWaveCall,
) -> anyhow::Result<Option<u64>> {
    use crate::governance::state;
    use alloy::sol_types::SolCall;
    for p in crate::governance::all(&ctx.chain, &ctx.deployment).await? {
        if matches!(
            p.state_code,
            state::CANCELED | state::DEFEATED | state::EXPIRED | state::EXECUTED
        ) || p.targets != [rollout]
            || p.calldatas.len() != 1
        {
            continue;
        }
        let Ok(existing) = IRollout::approveWaveCall::abi_decode(&p.calldatas[0]) else {
            continue;
        };
        let ours = Proposal::new(
            title,
            vec![Action::new(rollout, call(existing.expiry))],
            nonce,
        );
        if ours.id().to_string() == p.id {
            return Ok(Some(existing.expiry));
        }
    }
    Ok(None)
}

fn reason_code(reason: &str) -> anyhow::Result<u8> {
    Ok(match reason {
        "security" | "security-vulnerability" => 1,
        "performance" | "performance-degradation" => 2,
        "data-integrity" => 3,
        "unavailable" | "service-unavailability" => 4,
        "compliance" | "compliance-violation" => 5,
        other => bail!(
            "--reason {other}: expected security, performance, data-integrity, unavailable or compliance"
        ),
    })
}

impl RollbackArgs {
    async fn run(self) -> anyhow::Result<()> {
        let reason = reason_code(&self.reason)?;
        let ids = site_ids(&self.sites)?;
        let ctx = self.opts.open().await?;
        require_registered(&ctx, &self.sites, &ids).await?;
        let rollout_addr = ctx.deployment.address("Rollout")?;
        let call = IRollout::orderRollbackCall { sites: ids, reason };
        let title = format!("Roll back {} ({})", self.sites.join(", "), self.reason);
        self.opts
            .submit(&ctx, &title, vec![Action::new(rollout_addr, call)])
            .await
    }
}
