//! Fixtures for the agent's end-to-end tests: anvil, the real contracts deployed from the
//! `sankofa-abi` bindings (an EOA plays governance, registrar and guardian), agent configs, and
//! real `sankofa-agent` processes.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use sankofa_abi::ids::site_id;
use sankofa_abi::{Rollout, SiteRegistry, ValidatorSet};

sol! {
    // The registry's admin calls with their struct argument (same ABI as ISiteRegistry).
    #[sol(rpc)]
    interface IRegistryAdmin {
        struct SiteInput { bytes32 id; uint8 tier; uint8 phase; bytes32 parent; bytes32 recordHash; }
        function registerSites(SiteInput[] calldata sites) external;
    }
}

pub fn anvil_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/anvil")
}

pub struct Net {
    pub anvil: AnvilInstance,
    pub gov: DynProvider,
    pub rollout: Address,
    pub registry: Address,
    pub deploy_block: u64,
}

/// The agent keys: anvil accounts 5.. (funded).
pub fn agent_key(anvil: &AnvilInstance, i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from(anvil.keys()[5 + i].clone())
}

pub fn id(name: &str) -> B256 {
    site_id(name).expect("site name")
}

impl Net {
    /// anvil + contracts + sites `core-a` (core), `reg-a` (regional), and the given edge sites
    /// under `reg-a`, each bound to agent key i; phase 1 approved.
    pub async fn start(edges: &[&str]) -> Self {
        Self::start_with(edges, &[]).await
    }

    /// Like [`Net::start`], with extra anvil arguments.
    pub async fn start_with(edges: &[&str], anvil_args: &[&str]) -> Self {
        // Deriving many accounts takes anvil a while before it listens.
        let anvil = Anvil::at(anvil_bin())
            .args(anvil_args.iter().copied())
            .timeout(120_000)
            .spawn();
        let gov_signer = PrivateKeySigner::from(anvil.keys()[0].clone());
        let me = gov_signer.address();
        let gov = ProviderBuilder::new()
            .wallet(EthereumWallet::from(gov_signer))
            .connect_http(anvil.endpoint_url())
            .erased();
        let registry = SiteRegistry::deploy(gov.clone(), me, me)
            .await
            .expect("deploy registry");
        let vset =
            ValidatorSet::deploy(gov.clone(), me, Address::ZERO, vec![me], vec![id("core-a")])
                .await
                .expect("deploy validator set");
        // All-zero criteria (the struct type is not exported by the bindings: decode zeros into it).
        let criteria = alloy::sol_types::SolValue::abi_decode(&[0u8; 384]).expect("zero criteria");
        let rollout = Rollout::deploy(
            gov.clone(),
            me,
            me,
            *registry.address(),
            *vset.address(),
            criteria,
        )
        .await
        .expect("deploy rollout");
        let deploy_block = gov.get_block_number().await.unwrap();
        registry
            .initRollout(*rollout.address())
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        let admin = IRegistryAdmin::new(*registry.address(), gov.clone());
        let mut sites = vec![
            IRegistryAdmin::SiteInput {
                id: id("core-a"),
                tier: 1,
                phase: 1,
                parent: B256::ZERO,
                recordHash: keccak256("core-a"),
            },
            IRegistryAdmin::SiteInput {
                id: id("reg-a"),
                tier: 2,
                phase: 1,
                parent: id("core-a"),
                recordHash: keccak256("reg-a"),
            },
        ];
        for e in edges {
            sites.push(IRegistryAdmin::SiteInput {
                id: id(e),
                tier: 3,
                phase: 1,
                parent: id("reg-a"),
                recordHash: keccak256(e),
            });
        }
        for batch in sites.chunks(100) {
            let r = admin
                .registerSites(batch.to_vec())
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            assert!(r.status(), "registerSites reverted");
        }
        for (i, e) in edges.iter().enumerate() {
            let key = agent_key(&anvil, i).address();
            let r = registry
                .bindAgentKey(id(e), key)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            assert!(r.status());
        }
        let r = rollout
            .approvePhase(1)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
        Self {
            rollout: *rollout.address(),
            registry: *registry.address(),
            anvil,
            gov,
            deploy_block,
        }
    }

    pub fn rollout(&self) -> Rollout::RolloutInstance<DynProvider> {
        Rollout::new(self.rollout, self.gov.clone())
    }

    pub fn registry(&self) -> SiteRegistry::SiteRegistryInstance<DynProvider> {
        SiteRegistry::new(self.registry, self.gov.clone())
    }

    pub async fn now(&self) -> u64 {
        let b = self
            .gov
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .unwrap();
        b.header.timestamp
    }

    /// Approves a wave of `plan` (hash of its bytes) for `sites`; returns the wave id.
    pub async fn approve(&self, plan: &Path, sites: &[&str], window: (u64, u64)) -> u32 {
        let bytes = std::fs::read(plan).unwrap();
        let steps = sankofa_agent::plan::Plan::parse("test", &bytes)
            .map(|p| p.plan.steps.len() as u16)
            .unwrap_or(1);
        self.approve_hash(
            keccak256(&bytes),
            &plan.display().to_string(),
            sites,
            window,
            steps,
        )
        .await
    }

    pub async fn approve_hash(
        &self,
        hash: B256,
        uri: &str,
        sites: &[&str],
        window: (u64, u64),
        steps: u16,
    ) -> u32 {
        let ids: Vec<B256> = sites.iter().map(|s| id(s)).collect();
        let r = self
            .rollout()
            .approveWave(
                1,
                hash,
                uri.to_owned(),
                ids,
                window.0,
                window.1,
                1000,
                steps,
            )
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status(), "approveWave reverted");
        self.rollout().waveCount().call().await.unwrap()
    }

    /// A window from now-60s to now+1h.
    pub async fn open_window(&self) -> (u64, u64) {
        let now = self.now().await.max(wall());
        (now - 60, now + 3600)
    }

    pub async fn cancel(&self, site: &str) {
        let r = self
            .rollout()
            .cancelDeployments(vec![id(site)], 0)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status(), "cancel reverted");
    }

    pub async fn order_rollback(&self, site: &str) {
        let r = self
            .rollout()
            .orderRollback(vec![id(site)], 2)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status(), "orderRollback reverted");
    }

    pub async fn status(&self, site: &str) -> u8 {
        self.registry().site(id(site)).call().await.unwrap().status
    }

    pub async fn next_step(&self, site: &str) -> u16 {
        self.rollout()
            .deployment(id(site))
            .call()
            .await
            .unwrap()
            .nextStep
    }

    /// Every `StepReported` for `site`: (wave, step, status, digest).
    pub async fn step_reports_full(&self, site: &str) -> Vec<(u32, u16, u8, B256)> {
        let logs = self
            .rollout()
            .StepReported_filter()
            .topic1(id(site))
            .from_block(0)
            .query()
            .await
            .unwrap();
        logs.into_iter()
            .map(|(e, _)| (e.waveId, e.step, e.status, e.outputDigest))
            .collect()
    }

    /// A new governance provider (its nonce cache would hold a nonce a reorg took back).
    pub fn fresh_gov(&mut self) {
        let signer = PrivateKeySigner::from(self.anvil.keys()[0].clone());
        self.gov = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(self.anvil.endpoint_url())
            .erased();
    }

    /// `anvil_reorg`: replaces the last `depth` blocks with empty ones.
    pub async fn reorg(&self, depth: u64) {
        let _: serde_json::Value = self
            .gov
            .raw_request(
                "anvil_reorg".into(),
                serde_json::json!({ "depth": depth, "tx_block_pairs": [] }),
            )
            .await
            .unwrap();
    }

    /// Mines `n` empty blocks.
    pub async fn mine(&self, n: u64) {
        for _ in 0..n {
            let _: serde_json::Value = self.gov.raw_request("evm_mine".into(), ()).await.unwrap();
        }
    }

    /// Advances chain time by `secs` and mines a block.
    pub async fn warp(&self, secs: u64) {
        let _: serde_json::Value = self
            .gov
            .raw_request("evm_increaseTime".into(), (secs,))
            .await
            .unwrap();
        let _: serde_json::Value = self.gov.raw_request("evm_mine".into(), ()).await.unwrap();
    }

    /// Every `StepReported` for `site`: (wave, step, status).
    pub async fn step_reports(&self, site: &str) -> Vec<(u32, u16, u8)> {
        let logs = self
            .rollout()
            .StepReported_filter()
            .topic1(id(site))
            .from_block(0)
            .query()
            .await
            .unwrap();
        logs.into_iter()
            .map(|(e, _)| (e.waveId, e.step, e.status))
            .collect()
    }

    pub async fn rollback_reports(&self, site: &str) -> Vec<(u32, u16, u8)> {
        let logs = self
            .rollout()
            .RollbackStepReported_filter()
            .topic1(id(site))
            .from_block(0)
            .query()
            .await
            .unwrap();
        logs.into_iter()
            .map(|(e, _)| (e.waveId, e.step, e.status))
            .collect()
    }
}

pub fn wall() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Polls `f` until it returns Some, failing after `limit` (a liveness bound, not a timing claim).
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One agent's files and process.
pub struct Agent {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub child: Option<Child>,
    pub runs: u32,
}

pub struct AgentOpts<'a> {
    pub site: &'a str,
    pub key_index: usize,
    pub http: String,
    pub ws: Option<String>,
    pub mode: &'a str,
    pub extra: &'a str,
}

impl AgentOpts<'static> {
    /// Agent i=0's key, straight to the net's anvil (HTTP + WebSocket), in `mode`.
    pub fn direct(net: &Net, site: &'static str, mode: &'static str) -> Self {
        AgentOpts {
            site,
            key_index: 0,
            http: net.anvil.endpoint(),
            ws: Some(net.anvil.ws_endpoint()),
            mode,
            extra: "",
        }
    }
}

impl Agent {
    pub fn new(dir: &Path, net: &Net, o: AgentOpts<'_>) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let key = agent_key(&net.anvil, o.key_index);
        let key_file = dir.join("agent.key");
        std::fs::write(&key_file, alloy::hex::encode(key.to_bytes())).unwrap();
        let ws = o.ws.map(|w| format!("ws = \"{w}\"\n")).unwrap_or_default();
        let config = format!(
            r#"state_dir = "{state}"
[site]
name = "{site}"
region = "test-region"
parent = "reg-a"
[chain]
chain_id = {chain_id}
rollout = "{rollout}"
registry = "{registry}"
from_block = {from}
[[rpc]]
name = "anvil"
http = "{http}"
{ws}
[events]
mode = "{mode}"
poll_interval_ms = 200
poll_jitter_ms = 50
block_time_ms = 1000
request_timeout_secs = 3
[tx]
receipt_timeout_secs = 5
[executor]
grace_period_secs = 5
[signer]
backend = "mockhsm"
key_id = 1
secret_key_file = "{key}"
{extra}"#,
            state = dir.join("state").display(),
            site = o.site,
            chain_id = net.anvil.chain_id(),
            rollout = net.rollout,
            registry = net.registry,
            from = net.deploy_block,
            http = o.http,
            mode = o.mode,
            key = key_file.display(),
            extra = o.extra,
        );
        let path = dir.join("agent.toml");
        std::fs::write(&path, config).unwrap();
        Self {
            dir: dir.to_owned(),
            config: path,
            child: None,
            runs: 0,
        }
    }

    pub fn sandbox(&self) -> PathBuf {
        self.dir.join("state").join("sandbox")
    }

    pub fn start(&mut self) {
        self.start_with_env(&[]);
    }

    pub fn start_with_env(&mut self, env: &[(&str, String)]) {
        self.runs += 1;
        let log = std::fs::File::create(self.dir.join(format!("agent-{}.log", self.runs))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_sankofa-agent"))
            .args(["run", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "info,agent=debug")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn agent");
        self.child = Some(child);
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn sigterm(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        c.wait().unwrap()
    }

    /// All agent logs so far.
    pub fn logs(&self) -> String {
        (1..=self.runs)
            .map(|i| {
                std::fs::read_to_string(self.dir.join(format!("agent-{i}.log"))).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Number of log lines containing `needle` over all runs.
    pub fn count_logs(&self, needle: &str) -> usize {
        self.logs().lines().filter(|l| l.contains(needle)).count()
    }

    /// The status, or None while the agent has not created its journal yet.
    pub fn try_status(&self) -> Option<serde_json::Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_sankofa-agent"))
            .args(["status", "--json", "--config"])
            .arg(&self.config)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    pub fn status_json(&self) -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_sankofa-agent"))
            .args(["status", "--json", "--config"])
            .arg(&self.config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "status failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A plan whose steps count their own runs in `{{root}}/runs/<step>` (one line per run).
pub fn counting_plan(dir: &Path, steps: usize, fail_step: Option<usize>) -> PathBuf {
    let mut s = String::from("name = \"counting\"\nshell_prelude = \"set -eu\"\n");
    for i in 0..steps {
        let fail = if fail_step == Some(i) { "; exit 3" } else { "" };
        s.push_str(&format!(
            "[[step]]\nname = \"s{i}\"\nrun = {{ shell = \"mkdir -p {{{{root}}}}/runs && echo run >> {{{{root}}}}/runs/s{i}{fail}\" }}\nrollback = {{ shell = \"echo undo >> {{{{root}}}}/runs/undo-s{i}\" }}\n"
        ));
    }
    let path = dir.join(format!("plan-{steps}-{fail_step:?}.toml"));
    std::fs::write(&path, s).unwrap();
    path
}

pub fn runs(sandbox: &Path, file: &str) -> usize {
    std::fs::read_to_string(sandbox.join("runs").join(file))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}
