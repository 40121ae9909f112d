//! The bench's own observers of the chain, each on its own WebSocket connection: bare log
//! subscribers (the node's delivery floor, one per site as each agent has one), a head watcher
//! (when each block was announced) and a step-report watcher (throughput and completion).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use alloy::{
    primitives::{Address, B256},
    providers::{Provider, ProviderBuilder, WsConnect},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use anyhow::Context;
use futures::StreamExt;
use sankofa_abi::rollout::Rollout::{DeploymentApproved, StepReported};
use tokio::task::JoinSet;

/// Subscription buffer: more than any burst of logs a scenario produces (325 sites x steps).
const CHANNEL: usize = 1 << 16;

/// Shared arrival records, filled by the watcher tasks.
type Slots<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A watcher task that panicked leaves valid data behind; keep reading it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Bare subscribers: one WebSocket connection per site, each subscribed to its site's
/// `DeploymentApproved`, recording when the first one arrives. Nothing else runs in them.
#[derive(Debug)]
pub(crate) struct BareSubscribers {
    arrivals: Slots<Vec<Option<SystemTime>>>,
    _tasks: JoinSet<()>,
}

impl BareSubscribers {
    /// Connects and subscribes all of them (returns once every subscription is in place).
    pub(crate) async fn start(ws: &str, rollout: Address, sites: &[B256]) -> anyhow::Result<Self> {
        let arrivals: Slots<Vec<Option<SystemTime>>> =
            Arc::new(Mutex::new(vec![None; sites.len()]));
        let mut tasks = JoinSet::new();
        for (i, site) in sites.iter().enumerate() {
            let provider = ProviderBuilder::new()
                .connect_ws(WsConnect::new(ws))
                .await
                .with_context(|| format!("bare subscriber {i}: connecting {ws}"))?;
            let filter = Filter::new()
                .address(rollout)
                .event_signature(DeploymentApproved::SIGNATURE_HASH)
                .topic1(*site);
            let sub = provider
                .subscribe_logs(&filter)
                // A block can carry hundreds of reports: a small channel would drop some.
                .channel_size(CHANNEL)
                .await
                .with_context(|| format!("bare subscriber {i}: eth_subscribe logs"))?;
            let arrivals = arrivals.clone();
            tasks.spawn(async move {
                let mut stream = sub.into_stream();
                if stream.next().await.is_some() {
                    lock(&arrivals)[i] = Some(SystemTime::now());
                }
                // Keep the connection open until the scenario drops the set.
                drop(stream);
                let _keep = provider;
                std::future::pending::<()>().await;
            });
        }
        Ok(Self {
            arrivals,
            _tasks: tasks,
        })
    }

    /// Arrival times so far, by site index.
    pub(crate) fn arrivals(&self) -> Vec<Option<SystemTime>> {
        lock(&self.arrivals).clone()
    }
}

/// When each new block was announced on a WebSocket `newHeads` subscription.
#[derive(Debug)]
pub(crate) struct Heads {
    seen: Slots<HashMap<u64, SystemTime>>,
    _task: JoinSet<()>,
}

impl Heads {
    /// Subscribes to new heads.
    pub(crate) async fn start(ws: &str) -> anyhow::Result<Self> {
        let provider = ProviderBuilder::new()
            .connect_ws(WsConnect::new(ws))
            .await
            .with_context(|| format!("head watcher: connecting {ws}"))?;
        let sub = provider
            .subscribe_blocks()
            .channel_size(CHANNEL)
            .await
            .context("head watcher: eth_subscribe newHeads")?;
        let seen: Slots<HashMap<u64, SystemTime>> = Arc::default();
        let record = seen.clone();
        let mut task = JoinSet::new();
        task.spawn(async move {
            let _keep = provider;
            let mut stream = sub.into_stream();
            while let Some(header) = stream.next().await {
                lock(&record)
                    .entry(header.number)
                    .or_insert_with(SystemTime::now);
            }
        });
        Ok(Self { seen, _task: task })
    }

    /// When block `number` was announced, waiting up to `limit` for it.
    pub(crate) async fn announced(
        &self,
        number: u64,
        limit: Duration,
    ) -> anyhow::Result<SystemTime> {
        let start = std::time::Instant::now();
        loop {
            if let Some(t) = lock(&self.seen).get(&number) {
                return Ok(*t);
            }
            anyhow::ensure!(
                start.elapsed() < limit,
                "block {number} was not announced on newHeads within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Every `StepReported` of the Rollout with its arrival time and transaction.
#[derive(Debug)]
pub(crate) struct Reports {
    seen: Slots<Vec<(SystemTime, B256)>>,
    _task: JoinSet<()>,
}

impl Reports {
    /// Subscribes to the Rollout's `StepReported` logs.
    pub(crate) async fn start(ws: &str, rollout: Address) -> anyhow::Result<Self> {
        let provider = ProviderBuilder::new()
            .connect_ws(WsConnect::new(ws))
            .await
            .with_context(|| format!("report watcher: connecting {ws}"))?;
        let filter = Filter::new()
            .address(rollout)
            .event_signature(StepReported::SIGNATURE_HASH);
        let sub = provider
            .subscribe_logs(&filter)
            // A block can carry hundreds of reports: a small channel would drop some.
            .channel_size(CHANNEL)
            .await
            .context("report watcher: eth_subscribe logs")?;
        let seen: Slots<Vec<(SystemTime, B256)>> = Arc::default();
        let record = seen.clone();
        let mut task = JoinSet::new();
        task.spawn(async move {
            let _keep = provider;
            let mut stream = sub.into_stream();
            while let Some(log) = stream.next().await {
                let tx = log.transaction_hash.unwrap_or_default();
                lock(&record).push((SystemTime::now(), tx));
            }
        });
        Ok(Self { seen, _task: task })
    }

    /// Reports seen so far.
    pub(crate) fn count(&self) -> usize {
        lock(&self.seen).len()
    }

    /// (arrival, transaction) of every report seen so far.
    pub(crate) fn all(&self) -> Vec<(SystemTime, B256)> {
        lock(&self.seen).clone()
    }
}
