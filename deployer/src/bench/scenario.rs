//! One latency/throughput scenario: a fresh anvil with the contracts and the whole inventory,
//! N real agents, N bare subscribers; an idle window, then one wave approving all N sites.
//!
//! Event-to-action latency runs from the approval being mined to each agent's first step
//! process running (the bench plan's step 0 prints `date +%s.%N`), and in the same run to the
//! arrival of the same `DeploymentApproved` log at the site's bare subscriber. "Mined" is, on
//! automine, when `eth_sendRawTransaction` returned (anvil mines inside the call) or the block's
//! `newHeads` announcement arrived, whichever was first; with a block time, the announcement.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime},
};

use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    primitives::{B256, U256, keccak256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context, bail, ensure};
use sankofa_abi::ids::{Tier, site_id};
use sankofa_testkit::{AgentConfig, EventMode, SiteSpec, System, agent::keystore_signer};
use serde::Serialize;

use super::{
    fleet::{Fleet, Keys},
    proxy::CountingProxy,
    report::ToolTiming,
    resources::{Sampler, Usage},
    stats::{Summary, ratio},
    tools,
    watch::{BareSubscribers, Heads, Reports},
};
use crate::inventory::Site;

/// How agents hear about events and how the chain makes blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Mode {
    /// WebSocket subscriptions; a block per transaction.
    WsAutomine,
    /// WebSocket subscriptions; a block every second.
    WsBlock1s,
    /// HTTP polling (2 s + up to 0.5 s jitter, the agent's defaults); a block every second.
    PollBlock1s,
}

impl Mode {
    /// Every mode, in report order.
    pub(crate) const ALL: [Self; 3] = [Self::WsAutomine, Self::WsBlock1s, Self::PollBlock1s];

    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::WsAutomine => "ws-automine",
            Self::WsBlock1s => "ws-block-1s",
            Self::PollBlock1s => "poll-block-1s",
        }
    }

    fn block_time(self) -> Option<u64> {
        match self {
            Self::WsAutomine => None,
            Self::WsBlock1s | Self::PollBlock1s => Some(1),
        }
    }

    fn events(self) -> EventMode {
        match self {
            Self::WsAutomine | Self::WsBlock1s => EventMode::Subscribe,
            Self::PollBlock1s => EventMode::Poll {
                interval_ms: POLL_INTERVAL_MS,
                jitter_ms: POLL_JITTER_MS,
            },
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|m| m.name()).collect();
                format!("`{s}` is not a mode; expected one of: {}", names.join(", "))
            })
    }
}

/// The agent's default polling period (node-agent/README.md).
const POLL_INTERVAL_MS: u64 = 2000;
const POLL_JITTER_MS: u64 = 500;

/// What every scenario shares.
#[derive(Debug)]
pub(crate) struct Env<'a> {
    /// node_modules/.bin/anvil.
    pub(crate) anvil: PathBuf,
    /// The `sankofa-agent` binary.
    pub(crate) agent: PathBuf,
    /// Scratch space (one directory per scenario).
    pub(crate) work: PathBuf,
    /// The inventory, in registration order.
    pub(crate) inventory: Vec<&'a Site>,
    /// Agent keys (at least as many as the largest fleet).
    pub(crate) keys: &'a Keys,
    /// Steps in the bench plan.
    pub(crate) steps: u16,
    /// Seconds of the idle window.
    pub(crate) idle_secs: u64,
}

/// Figures of one scenario.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Outcome {
    /// `<mode>-<agents>`.
    pub(crate) name: String,
    /// Agents (and bare subscribers).
    pub(crate) agents: usize,
    /// The mode.
    pub(crate) mode: Mode,
    /// What latency is measured from.
    pub(crate) t0: &'static str,
    /// Seconds until every agent's stream was live.
    pub(crate) startup_secs: f64,
    /// Approval -> agent's first step process running (ms).
    pub(crate) agent_ms: Option<Summary>,
    /// Approval -> log at the bare subscriber (ms).
    pub(crate) bare_ms: Option<Summary>,
    /// agent p50 / bare p50.
    pub(crate) ratio_p50: Option<f64>,
    /// agent p99 / bare p99.
    pub(crate) ratio_p99: Option<f64>,
    /// Polling mode: the poll period (interval + jitter) in ms.
    pub(crate) poll_period_ms: Option<u64>,
    /// Polling mode: agent p99 / poll period.
    pub(crate) ratio_p99_poll: Option<f64>,
    /// Agents that never started step 0, or bare subscribers that saw nothing.
    pub(crate) missing_agents: usize,
    /// See `missing_agents`.
    pub(crate) missing_bare: usize,
    /// Approval -> the last step report of the last site (s).
    pub(crate) rollout_secs: Option<f64>,
    /// Step reports seen.
    pub(crate) reports: usize,
    /// Reports per second between the first and the last.
    pub(crate) reports_per_sec: Option<f64>,
    /// Mean gas of a step report transaction (a sample of receipts).
    pub(crate) report_gas_mean: Option<f64>,
    /// Reports per second the block gas limit allows at this block time.
    pub(crate) gas_ceiling_per_sec: Option<f64>,
    /// Agents at idle.
    pub(crate) idle: Option<Usage>,
    /// Agents from the approval until the last report.
    pub(crate) busy: Option<Usage>,
    /// Polling mode: JSON-RPC calls per agent per block at idle.
    pub(crate) idle_rpc_per_agent_per_block: Option<f64>,
    /// `sankofa audit verify` over this scenario's history, when asked for.
    pub(crate) audit: Option<ToolTiming>,
    /// What went wrong, if the scenario did not complete.
    pub(crate) note: Option<String>,
}

/// Runs one scenario; the anvil and every process it started are gone when it returns.
/// With `audit`, times `sankofa audit verify` over the history once the agents are stopped.
pub(crate) async fn run(
    env: &Env<'_>,
    mode: Mode,
    n: usize,
    audit: bool,
) -> anyhow::Result<Outcome> {
    ensure!(
        n <= env.inventory.len() && n <= env.keys.keys.len(),
        "{n} agents: the inventory has {} sites and {} keys were made",
        env.inventory.len(),
        env.keys.keys.len()
    );
    let name = format!("{}-{n}", mode.name());
    let dir = env.work.join(&name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    // Not `--silent`: alloy learns the port and keys from anvil's banner.
    let anvil = Anvil::at(&env.anvil)
        .timeout(30_000)
        .try_spawn()
        .context("starting anvil")?;
    let gov_key = PrivateKeySigner::from_signing_key(anvil.keys()[0].clone().into());
    let provider = sankofa_testkit::provider(&anvil, &gov_key);
    eprintln!("  {name}: deploying");
    let system = System::deploy(provider.clone(), gov_key.address(), [(0, 0, 0, 0); 3]).await?;
    eprintln!("  {name}: registering");
    let specs = env
        .inventory
        .iter()
        .map(|s| {
            let tier = Tier::try_from(s.tier as u8).map_err(|t| anyhow::anyhow!("tier {t}"))?;
            Ok(SiteSpec::new(&s.name, tier, s.phase, s.parent.as_deref()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    system
        .register(&specs)
        .await
        .context("registering the inventory")?;
    for phase in 1..=3 {
        system.approve_phase(phase).await?;
    }
    // Phase 1 first, then 2, then 3: 113 agents are exactly phase 1, 325 are everyone.
    let mut chosen: Vec<&Site> = env.inventory.clone();
    chosen.sort_by_key(|s| s.phase);
    chosen.truncate(n);
    let keys = &env.keys.keys[..n];
    eprintln!("  {name}: binding {n} keys");
    bind_and_fund(&system, &provider, &chosen, keys).await?;

    let plan = write_plan(&dir, env.steps)?;
    let plan_hash = keccak256(std::fs::read(&plan)?);
    if let Some(seconds) = mode.block_time() {
        let _: serde_json::Value = provider
            .raw_request("evm_setIntervalMining".into(), (seconds,))
            .await
            .context("evm_setIntervalMining")?;
    }
    let heads = Heads::start(&anvil.ws_endpoint()).await?;
    let proxy = match mode.events() {
        EventMode::Poll { .. } => Some(CountingProxy::start(anvil_addr(&anvil)?).await?),
        EventMode::Subscribe => None,
    };
    let http = match &proxy {
        Some(p) => format!("http://{}", p.addr),
        None => anvil.endpoint(),
    };
    let configs = chosen
        .iter()
        .zip(keys)
        .map(|(site, (_, keystore, password))| AgentConfig {
            state_dir: dir.join(&site.name).join("state"),
            site: site.name.clone(),
            parent: site.parent.clone().unwrap_or_default(),
            chain_id: anvil.chain_id(),
            rollout: system.rollout,
            registry: system.registry,
            from_block: system.deploy_block,
            http: http.clone(),
            ws: (mode.events() == EventMode::Subscribe).then(|| anvil.ws_endpoint()),
            mode: mode.events(),
            block_time_ms: 1000,
            log_filter: "info".into(),
            signer: keystore_signer(keystore, password),
        })
        .collect();
    let mut fleet = Fleet::start(&env.agent, &dir, configs)?;
    let ready_limit = Duration::from_secs(60 + n as u64);
    let startup = fleet.wait_ready(ready_limit).await?;
    eprintln!(
        "  {name}: {n} agents live after {:.1} s",
        startup.as_secs_f64()
    );

    let ids: Vec<B256> = chosen
        .iter()
        .map(|s| site_id(&s.name))
        .collect::<Result<_, _>>()?;
    let bare = BareSubscribers::start(&anvil.ws_endpoint(), system.rollout, &ids).await?;
    let reports = Reports::start(&anvil.ws_endpoint(), system.rollout).await?;

    // Idle: nothing approved yet; agents only follow the chain.
    let rpc_before = proxy.as_ref().map(CountingProxy::requests);
    let block_before = provider.get_block_number().await?;
    let mut idle = Sampler::start(fleet.pids());
    for _ in 0..env.idle_secs * 2 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        idle.sample();
    }
    let idle = idle.finish();
    let blocks = provider
        .get_block_number()
        .await?
        .saturating_sub(block_before);
    let idle_rpc_per_agent_per_block = match (&proxy, rpc_before) {
        (Some(p), Some(before)) if blocks > 0 => {
            Some((p.requests() - before) as f64 / n as f64 / blocks as f64)
        }
        _ => None,
    };

    // The approval.
    let now = chain_now(&provider).await?;
    let rollout = system.rollout();
    let call = rollout.approveWave(
        3,
        plan_hash,
        plan.display().to_string(),
        ids.clone(),
        now.saturating_sub(60),
        now + 7200,
        u16::try_from(n)?,
        env.steps,
    );
    let gas = call
        .estimate_gas()
        .await
        .context("approveWave (estimate)")?;
    let mut busy = Sampler::start(fleet.pids());
    let pending = call
        .gas(gas + gas / 4)
        .send()
        .await
        .context("approveWave")?;
    let sent = SystemTime::now();
    let tx = *pending.tx_hash();
    let block = receipt_block(&provider, tx).await.context("approveWave")?;
    let announced = heads.announced(block, Duration::from_secs(10)).await?;
    // On automine the node mines inside eth_sendRawTransaction and may push the block's
    // notifications before the call's response reaches us: the earlier of the two is "mined".
    let (t0, t0_label) = match mode.block_time() {
        None => (
            sent.min(announced),
            "mined: eth_sendRawTransaction returned or newHeads, the earlier",
        ),
        Some(_) => (announced, "mined: the block's newHeads announcement"),
    };

    // Until every site reported every step (or the limit).
    let expected = n * usize::from(env.steps);
    let limit = Duration::from_secs(120 + (expected as u64) / 5);
    let start = Instant::now();
    let mut note = None;
    while reports.count() < expected {
        if start.elapsed() > limit {
            note = Some(format!(
                "{} of {expected} step reports after {limit:?}",
                reports.count()
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        busy.sample();
    }
    let busy = busy.finish();

    let agent_ms: Vec<f64> = fleet
        .first_step_starts()
        .into_iter()
        .flatten()
        .map(|t| ms_between(t0, t))
        .collect();
    let bare_ms: Vec<f64> = bare
        .arrivals()
        .into_iter()
        .flatten()
        .map(|t| ms_between(t0, t))
        .collect();
    let agent = Summary::of(&agent_ms);
    let floor = Summary::of(&bare_ms);
    let mut seen = reports.all();
    seen.sort_by_key(|(t, _)| *t);
    let rollout_secs = seen.last().map(|(t, _)| ms_between(t0, *t) / 1000.0);
    let reports_per_sec = match (seen.first(), seen.last()) {
        (Some((a, _)), Some((b, _))) if seen.len() > 1 => {
            let secs = ms_between(*a, *b) / 1000.0;
            (secs > 0.0).then(|| (seen.len() - 1) as f64 / secs)
        }
        _ => None,
    };
    let report_gas_mean = mean_gas(&provider, &seen).await?;
    let gas_ceiling_per_sec = match (mode.block_time(), report_gas_mean) {
        (Some(bt), Some(g)) => Some(block_gas_limit(&provider).await? as f64 / g / bt as f64),
        _ => None,
    };
    // Close the bench's own connections before the node goes away (no reconnect attempts).
    drop((bare, reports, heads, proxy));
    fleet.stop(Duration::from_secs(10));
    let audit = if audit {
        eprintln!("  {name}: sankofa audit verify");
        match tools::audit_verify(&anvil, &system, &dir, n, env.steps).await {
            Ok(t) => Some(t),
            Err(err) => {
                let text = format!("audit verify: {err:#}");
                note = Some(note.map_or(text.clone(), |n| format!("{n}; {text}")));
                None
            }
        }
    } else {
        None
    };
    drop(anvil);

    let poll_period_ms = match mode.events() {
        EventMode::Poll {
            interval_ms,
            jitter_ms,
        } => Some(interval_ms + jitter_ms),
        EventMode::Subscribe => None,
    };
    Ok(Outcome {
        name,
        agents: n,
        mode,
        t0: t0_label,
        startup_secs: startup.as_secs_f64(),
        ratio_p50: agent.zip(floor).and_then(|(a, b)| ratio(a.p50, b.p50)),
        ratio_p99: agent.zip(floor).and_then(|(a, b)| ratio(a.p99, b.p99)),
        ratio_p99_poll: agent
            .zip(poll_period_ms)
            .and_then(|(a, p)| ratio(a.p99, p as f64)),
        poll_period_ms,
        missing_agents: n - agent_ms.len(),
        missing_bare: n - bare_ms.len(),
        agent_ms: agent,
        bare_ms: floor,
        rollout_secs,
        reports: seen.len(),
        reports_per_sec,
        report_gas_mean,
        gas_ceiling_per_sec,
        idle,
        busy,
        idle_rpc_per_agent_per_block,
        audit,
        note,
    })
}

/// Binds each chosen site to its agent key (sent back to back, then every receipt checked) and
/// gives each key ether for its reports.
async fn bind_and_fund(
    system: &System,
    provider: &DynProvider,
    sites: &[&Site],
    keys: &[(PrivateKeySigner, PathBuf, PathBuf)],
) -> anyhow::Result<()> {
    let registry = system.registry();
    let mut sent = Vec::with_capacity(sites.len());
    for (site, (key, _, _)) in sites.iter().zip(keys) {
        let pending = registry
            .bindAgentKey(site_id(&site.name)?, key.address())
            .gas(300_000)
            .send()
            .await
            .with_context(|| format!("bindAgentKey {}", site.name))?;
        sent.push((site.name.as_str(), *pending.tx_hash()));
        let wei = U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64));
        let _: serde_json::Value = provider
            .raw_request("anvil_setBalance".into(), (key.address(), wei))
            .await
            .context("anvil_setBalance")?;
    }
    for (site, tx) in sent {
        receipt_block(provider, tx)
            .await
            .with_context(|| format!("bindAgentKey {site}"))?;
    }
    Ok(())
}

/// The bench plan: step 0 prints the time it started (the "action" latency ends there), the
/// rest do nothing, so the figures are the agent's and the chain's, not the steps'.
fn write_plan(dir: &Path, steps: u16) -> anyhow::Result<PathBuf> {
    ensure!(steps >= 1, "the bench plan needs at least one step");
    let date = ["/usr/bin/date", "/bin/date"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .context("no date(1) in /usr/bin or /bin")?;
    let truth = ["/usr/bin/true", "/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .context("no true(1) in /usr/bin or /bin")?;
    let mut plan = format!(
        "name = \"bench\"\n\n[[step]]\nname = \"start\"\nrun = {{ program = \"{date}\", args = [\"+%s.%N\"] }}\n"
    );
    for i in 1..steps {
        plan.push_str(&format!(
            "\n[[step]]\nname = \"s{i}\"\nrun = {{ program = \"{truth}\" }}\n"
        ));
    }
    let path = dir.join("plan.toml");
    std::fs::write(&path, plan).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Signed milliseconds from `a` to `b`.
fn ms_between(a: SystemTime, b: SystemTime) -> f64 {
    match b.duration_since(a) {
        Ok(d) => d.as_secs_f64() * 1000.0,
        Err(e) => -e.duration().as_secs_f64() * 1000.0,
    }
}

fn anvil_addr(anvil: &AnvilInstance) -> anyhow::Result<std::net::SocketAddr> {
    Ok(std::net::SocketAddr::from(([127, 0, 0, 1], anvil.port())))
}

async fn chain_now(provider: &DynProvider) -> anyhow::Result<u64> {
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .context("no latest block")?;
    Ok(block.header.timestamp)
}

async fn block_gas_limit(provider: &DynProvider) -> anyhow::Result<u64> {
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .context("no latest block")?;
    Ok(block.header.gas_limit)
}

/// Waits for `tx`'s receipt (at most 30 s), fails if it reverted; returns its block. Even on
/// automine the call can return before the block is stored, so this polls.
async fn receipt_block(provider: &DynProvider, tx: B256) -> anyhow::Result<u64> {
    let start = Instant::now();
    loop {
        if let Some(r) = provider.get_transaction_receipt(tx).await? {
            ensure!(r.status(), "transaction {tx} reverted");
            return r.block_number.context("receipt without a block number");
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("transaction {tx}: no receipt after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Mean gas used by (up to 200 of) the report transactions.
async fn mean_gas(
    provider: &DynProvider,
    reports: &[(SystemTime, B256)],
) -> anyhow::Result<Option<f64>> {
    let step = (reports.len() / 200).max(1);
    let mut total = 0u64;
    let mut count = 0u64;
    for (_, tx) in reports.iter().step_by(step) {
        if let Some(r) = provider.get_transaction_receipt(*tx).await? {
            total += r.gas_used;
            count += 1;
        }
    }
    Ok((count > 0).then(|| total as f64 / count as f64))
}
