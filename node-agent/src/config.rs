//! The agent's config file (`/etc/sankofa/agent.toml`): raw TOML with unknown keys rejected,
//! turned into a validated [`Config`] at start-up with the offending key named on error.
//! The format is documented in `node-agent/README.md`; `examples/agent.toml` is a full example.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::{Address, B256};
use sankofa_chain::{Endpoint, FeeMode, StreamMode};
use sankofa_keys::SignerConfig;
use serde::Deserialize;

use crate::error::{Error, Result};

/// `[site]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    parent: String,
}

/// `[chain]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChain {
    chain_id: u64,
    rollout: String,
    registry: String,
    #[serde(default)]
    from_block: u64,
}

/// One `[[rpc]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRpc {
    name: String,
    http: String,
    #[serde(default)]
    ws: Option<String>,
}

fn d_mode() -> String {
    "subscribe".into()
}
fn d_poll() -> u64 {
    2000
}
fn d_jitter() -> u64 {
    500
}
fn d_range() -> u64 {
    5000
}
fn d_block() -> u64 {
    2000
}
fn d_live() -> u32 {
    5
}
fn d_timeout() -> u64 {
    10
}
fn d_failback() -> u64 {
    60
}

/// `[events]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    #[serde(default = "d_mode")]
    mode: String,
    #[serde(default = "d_poll")]
    poll_interval_ms: u64,
    #[serde(default = "d_jitter")]
    poll_jitter_ms: u64,
    #[serde(default)]
    confirmations: u64,
    #[serde(default = "d_range")]
    max_logs_range: u64,
    #[serde(default = "d_block")]
    block_time_ms: u64,
    #[serde(default = "d_live")]
    liveness_periods: u32,
    #[serde(default = "d_timeout")]
    request_timeout_secs: u64,
    #[serde(default = "d_failback")]
    failback_secs: u64,
}

impl Default for RawEvents {
    fn default() -> Self {
        toml::from_str("").expect("invariant: every [events] key has a default")
    }
}

fn d_fee() -> String {
    "eip1559".into()
}
fn d_gas() -> u64 {
    500_000
}
fn d_receipt() -> u64 {
    30
}

/// `[tx]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTx {
    #[serde(default = "d_fee")]
    fee_mode: String,
    #[serde(default = "d_gas")]
    gas_limit_fallback: u64,
    #[serde(default = "d_receipt")]
    receipt_timeout_secs: u64,
}

impl Default for RawTx {
    fn default() -> Self {
        toml::from_str("").expect("invariant: every [tx] key has a default")
    }
}

fn d_grace() -> u64 {
    30
}

/// `[executor]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExecutor {
    #[serde(default)]
    sandbox_root: Option<PathBuf>,
    #[serde(default = "d_grace")]
    grace_period_secs: u64,
    #[serde(default)]
    plan_cache: Option<PathBuf>,
}

impl Default for RawExecutor {
    fn default() -> Self {
        toml::from_str("").expect("invariant: every [executor] key has a default")
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    #[serde(default)]
    listen: Option<String>,
}

fn d_format() -> String {
    "text".into()
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    #[serde(default = "d_format")]
    format: String,
    #[serde(default)]
    filter: Option<String>,
}

impl Default for RawLog {
    fn default() -> Self {
        toml::from_str("").expect("invariant: every [log] key has a default")
    }
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    state_dir: PathBuf,
    site: RawSite,
    chain: RawChain,
    rpc: Vec<RawRpc>,
    #[serde(default)]
    events: RawEvents,
    #[serde(default)]
    tx: RawTx,
    #[serde(default)]
    executor: RawExecutor,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    log: RawLog,
    signer: SignerConfig,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (journald adds its own timestamps).
    Text,
    /// One JSON object per line.
    Json,
}

/// The validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Journal, guard, plan cache, step logs.
    pub state_dir: PathBuf,
    /// Site name.
    pub site_name: String,
    /// Site id (bytes32).
    pub site_id: B256,
    /// Region (substituted into plans as `{{region}}`).
    pub region: String,
    /// Parent site name (substituted as `{{parent}}`).
    pub parent: String,
    /// Expected chain id.
    pub chain_id: u64,
    /// Rollout contract.
    pub rollout: Address,
    /// SiteRegistry contract.
    pub registry: Address,
    /// First block to scan when there is no cursor.
    pub from_block: u64,
    /// Ordered endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Subscribe or poll.
    pub mode: StreamMode,
    /// Confirmation depth.
    pub confirmations: u64,
    /// Max blocks per `eth_getLogs`.
    pub max_logs_range: u64,
    /// Block period.
    pub block_time: Duration,
    /// Block periods without a head before resubscribing.
    pub liveness_periods: u32,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Time on a fallback endpoint before trying the preferred one.
    pub failback: Duration,
    /// Fee mode.
    pub fee_mode: FeeMode,
    /// Gas limit when estimation fails.
    pub gas_limit_fallback: u64,
    /// One receipt wait.
    pub receipt_timeout: Duration,
    /// Root under which plan steps do their work (`{{root}}`).
    pub sandbox_root: PathBuf,
    /// Where fetched plans are cached by hash.
    pub plan_cache: PathBuf,
    /// How long a running step may finish after SIGTERM.
    pub grace_period: Duration,
    /// Metrics/health listener.
    pub metrics: Option<SocketAddr>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (`RUST_LOG` syntax); `RUST_LOG` wins if set.
    pub log_filter: String,
    /// The signer.
    pub signer: SignerConfig,
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.to_owned(),
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Parses and validates config text (`path` is only used in messages).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_owned(),
            key: String::new(),
            message: e.to_string(),
        })?;
        let bad = |key: &str, message: String| Error::Config {
            path: path.to_owned(),
            key: key.to_owned(),
            message,
        };
        let site_id = sankofa_abi::ids::site_id(&raw.site.name)
            .map_err(|e| bad("site.name", e.to_string()))?;
        if !raw.site.parent.is_empty() {
            sankofa_abi::ids::site_id(&raw.site.parent)
                .map_err(|e| bad("site.parent", e.to_string()))?;
        }
        let addr = |key: &str, v: &str| -> Result<Address> {
            v.parse::<Address>()
                .map_err(|e| bad(key, format!("`{v}` is not an address: {e}")))
        };
        let rollout = addr("chain.rollout", &raw.chain.rollout)?;
        let registry = addr("chain.registry", &raw.chain.registry)?;
        if raw.chain.chain_id == 0 {
            return Err(bad(
                "chain.chain_id",
                "must be the network's chain id (non-zero)".into(),
            ));
        }
        if raw.rpc.is_empty() {
            return Err(bad(
                "rpc",
                "add at least one [[rpc]] endpoint with an `http` url".into(),
            ));
        }
        let mut endpoints = Vec::new();
        for (i, r) in raw.rpc.iter().enumerate() {
            endpoints.push(
                Endpoint::parse(&r.name, &r.http, r.ws.as_deref())
                    .map_err(|e| bad(&format!("rpc[{i}]"), e.to_string()))?,
            );
        }
        let ev = &raw.events;
        let mode = match ev.mode.as_str() {
            "subscribe" => {
                if !endpoints.iter().any(|e| e.ws.is_some()) {
                    return Err(bad(
                        "events.mode",
                        "`subscribe` needs a `ws` url on at least one [[rpc]]; or use `poll`"
                            .into(),
                    ));
                }
                StreamMode::Subscribe
            }
            "poll" => {
                if ev.poll_interval_ms == 0 {
                    return Err(bad("events.poll_interval_ms", "must be > 0".into()));
                }
                StreamMode::Poll {
                    interval: Duration::from_millis(ev.poll_interval_ms),
                    jitter: Duration::from_millis(ev.poll_jitter_ms),
                }
            }
            other => {
                return Err(bad(
                    "events.mode",
                    format!("`{other}`: expected `subscribe` or `poll`"),
                ));
            }
        };
        if ev.max_logs_range == 0 {
            return Err(bad("events.max_logs_range", "must be >= 1".into()));
        }
        if ev.block_time_ms == 0 {
            return Err(bad("events.block_time_ms", "must be > 0".into()));
        }
        if ev.request_timeout_secs == 0 {
            return Err(bad("events.request_timeout_secs", "must be > 0".into()));
        }
        let fee_mode = match raw.tx.fee_mode.as_str() {
            "eip1559" => FeeMode::Eip1559,
            "legacy" => FeeMode::Legacy,
            "legacy-zero" => FeeMode::LegacyZero,
            other => {
                return Err(bad(
                    "tx.fee_mode",
                    format!("`{other}`: expected `eip1559`, `legacy` or `legacy-zero`"),
                ));
            }
        };
        if raw.tx.gas_limit_fallback < 21_000 {
            return Err(bad(
                "tx.gas_limit_fallback",
                "must be at least 21000".into(),
            ));
        }
        if raw.tx.receipt_timeout_secs == 0 {
            return Err(bad("tx.receipt_timeout_secs", "must be > 0".into()));
        }
        if !raw.state_dir.is_absolute() {
            return Err(bad(
                "state_dir",
                format!("`{}` must be an absolute path", raw.state_dir.display()),
            ));
        }
        let sandbox_root = raw
            .executor
            .sandbox_root
            .clone()
            .unwrap_or_else(|| raw.state_dir.join("sandbox"));
        if !sandbox_root.is_absolute() {
            return Err(bad(
                "executor.sandbox_root",
                "must be an absolute path".into(),
            ));
        }
        let plan_cache = raw
            .executor
            .plan_cache
            .clone()
            .unwrap_or_else(|| raw.state_dir.join("plans"));
        let metrics = raw
            .metrics
            .listen
            .as_deref()
            .map(|l| {
                l.parse::<SocketAddr>()
                    .map_err(|e| bad("metrics.listen", format!("`{l}`: {e} (use host:port)")))
            })
            .transpose()?;
        let log_format = match raw.log.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(bad(
                    "log.format",
                    format!("`{other}`: expected `text` or `json`"),
                ));
            }
        };
        raw.signer
            .validate()
            .map_err(|e| bad("signer", e.to_string()))?;
        Ok(Self {
            path: path.to_owned(),
            state_dir: raw.state_dir,
            site_name: raw.site.name,
            site_id,
            region: raw.site.region,
            parent: raw.site.parent,
            chain_id: raw.chain.chain_id,
            rollout,
            registry,
            from_block: raw.chain.from_block,
            endpoints,
            mode,
            confirmations: ev.confirmations,
            max_logs_range: ev.max_logs_range,
            block_time: Duration::from_millis(ev.block_time_ms),
            liveness_periods: ev.liveness_periods,
            request_timeout: Duration::from_secs(ev.request_timeout_secs),
            failback: Duration::from_secs(ev.failback_secs),
            fee_mode,
            gas_limit_fallback: raw.tx.gas_limit_fallback,
            receipt_timeout: Duration::from_secs(raw.tx.receipt_timeout_secs),
            sandbox_root,
            plan_cache,
            grace_period: Duration::from_secs(raw.executor.grace_period_secs),
            metrics,
            log_format,
            log_filter: raw.log.filter.unwrap_or_else(|| "info".into()),
            signer: raw.signer,
        })
    }

    /// The journal database.
    pub fn journal_path(&self) -> PathBuf {
        self.state_dir.join("journal.sqlite")
    }

    /// The signing guard database.
    pub fn guard_path(&self) -> PathBuf {
        self.state_dir.join("guard.sqlite")
    }

    /// Per-step logs.
    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
state_dir = "/var/lib/sankofa-agent"
[site]
name = "edge-lagos-01"
region = "africa-west"
parent = "reg-lagos"
[chain]
chain_id = 31337
rollout = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
registry = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
[[rpc]]
name = "reg-lagos-replica"
http = "http://127.0.0.1:8545"
ws = "ws://127.0.0.1:8545"
[signer]
backend = "keystore"
path = "/etc/sankofa/agent.key.json"
password_file = "credential:agent-key-password"
"#;

    #[test]
    fn good_config_parses_with_defaults() {
        let c = Config::parse(Path::new("agent.toml"), GOOD).unwrap();
        assert_eq!(c.site_name, "edge-lagos-01");
        assert_eq!(c.mode, StreamMode::Subscribe);
        assert_eq!(c.max_logs_range, 5000);
        assert_eq!(
            c.sandbox_root,
            PathBuf::from("/var/lib/sankofa-agent/sandbox")
        );
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let text = GOOD.replace("[site]", "[site]\ncolour = \"red\"");
        let err = Config::parse(Path::new("agent.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("colour") && err.contains("agent.toml"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        for (from, to, key) in [
            ("chain_id = 31337", "chain_id = 0", "chain.chain_id"),
            (
                "rollout = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"",
                "rollout = \"nope\"",
                "chain.rollout",
            ),
            (
                "name = \"edge-lagos-01\"",
                "name = \"Edge Lagos\"",
                "site.name",
            ),
            ("ws = \"ws://127.0.0.1:8545\"", "", "events.mode"),
        ] {
            let err = Config::parse(Path::new("agent.toml"), &GOOD.replace(from, to))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }
}
