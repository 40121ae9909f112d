//! The planner: turns the log stream into durable journal entries, then moves the cursor.
//!
//! Each log is recorded in the journal's `events` table keyed by (block hash, tx hash, log
//! index) together with its effect (an approval, a cancel flag, a rollback flag) in one
//! transaction; only then, at the stream's next checkpoint, is the cursor persisted. A repeated
//! log (after a restart or a failover) finds its key and changes nothing.

use std::sync::Arc;
use std::time::Duration;

use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use sankofa_abi::Rollout;
use sankofa_chain::StreamEvent;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::sdnotify::Notifier;

/// A Rollout event about this site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteEvent {
    /// `DeploymentApproved`.
    Approved {
        /// Wave.
        wave: u32,
        /// Plan hash.
        plan_hash: alloy::primitives::B256,
    },
    /// `DeploymentCancelled`.
    Cancelled {
        /// Wave.
        wave: u32,
        /// Reason code.
        reason: u8,
    },
    /// `RollbackOrdered`.
    RollbackOrdered {
        /// Wave.
        wave: u32,
        /// Reason code.
        reason: u8,
    },
    /// `StepReported` (our own report, seen on chain).
    StepReported {
        /// Wave.
        wave: u32,
        /// Step.
        step: u16,
        /// Status.
        status: u8,
    },
    /// `RollbackStepReported`.
    RollbackStepReported {
        /// Wave.
        wave: u32,
        /// Step.
        step: u16,
        /// Status.
        status: u8,
    },
}

/// Decodes a Rollout log; `None` for events the agent does not act on.
pub fn decode(log: &Log) -> Option<SiteEvent> {
    let topic0 = *log.topic0()?;
    let inner = &log.inner;
    Some(match topic0 {
        t if t == Rollout::DeploymentApproved::SIGNATURE_HASH => {
            let e = Rollout::DeploymentApproved::decode_log(inner).ok()?;
            SiteEvent::Approved {
                wave: e.waveId,
                plan_hash: e.planHash,
            }
        }
        t if t == Rollout::DeploymentCancelled::SIGNATURE_HASH => {
            let e = Rollout::DeploymentCancelled::decode_log(inner).ok()?;
            SiteEvent::Cancelled {
                wave: e.waveId,
                reason: e.reason,
            }
        }
        t if t == Rollout::RollbackOrdered::SIGNATURE_HASH => {
            let e = Rollout::RollbackOrdered::decode_log(inner).ok()?;
            SiteEvent::RollbackOrdered {
                wave: e.waveId,
                reason: e.reason,
            }
        }
        t if t == Rollout::StepReported::SIGNATURE_HASH => {
            let e = Rollout::StepReported::decode_log(inner).ok()?;
            SiteEvent::StepReported {
                wave: e.waveId,
                step: e.step,
                status: e.status,
            }
        }
        t if t == Rollout::RollbackStepReported::SIGNATURE_HASH => {
            let e = Rollout::RollbackStepReported::decode_log(inner).ok()?;
            SiteEvent::RollbackStepReported {
                wave: e.waveId,
                step: e.step,
                status: e.status,
            }
        }
        _ => return None,
    })
}

/// The planner service.
#[derive(Debug)]
pub struct Planner {
    /// Stream events in.
    pub rx: mpsc::Receiver<StreamEvent>,
    /// The journal.
    pub journal: Arc<Journal>,
    /// Wakes the runner after a change.
    pub wake: Arc<Notify>,
    /// Set once the stream is live.
    pub ready: watch::Sender<bool>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// systemd notifications (the watchdog is fed from this loop).
    pub notifier: Arc<Notifier>,
}

impl Planner {
    /// Runs until shutdown; the stream ending is an error (a critical task died).
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<()> {
        let period = self
            .notifier
            .watchdog_interval()
            .unwrap_or(Duration::from_secs(5));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.metrics.touch();
            let ev = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => {
                    // Fed from this loop, so a wedged loop stops the pings and systemd restarts us.
                    if self.notifier.watchdog_interval().is_some() {
                        self.notifier.notify("WATCHDOG=1");
                    }
                    continue;
                }
                ev = self.rx.recv() => ev,
            };
            let Some(ev) = ev else {
                if shutdown.is_cancelled() {
                    return Ok(());
                }
                return Err(Error::Exec {
                    step: "events".into(),
                    message: "the log stream stopped".into(),
                });
            };
            match ev {
                StreamEvent::Log(log) => {
                    self.metrics.events_seen.inc();
                    self.handle(*log).await?;
                }
                StreamEvent::Checkpoint { block, head } => {
                    self.journal.call(move |j| j.set_cursor(block)).await?;
                    self.metrics.head.set(head);
                    self.metrics.cursor.set(block.number);
                }
                StreamEvent::Reorg { ancestor } => {
                    self.metrics.reorgs.inc();
                    tracing::warn!(target: "agent::events", ancestor = ancestor.number, "reorg: rewinding the cursor");
                    self.journal.call(move |j| j.set_cursor(ancestor)).await?;
                }
                StreamEvent::Ready => {
                    self.metrics.ready.set(1);
                    let _ = self.ready.send(true);
                    self.wake.notify_one();
                }
            }
        }
    }

    async fn handle(&self, log: Log) -> Result<()> {
        let Some(ev) = decode(&log) else {
            tracing::debug!(target: "agent::events", topic0 = ?log.topic0(), "ignoring event");
            return Ok(());
        };
        let key = (
            log.block_hash.unwrap_or_default(),
            log.transaction_hash.unwrap_or_default(),
            log.log_index.unwrap_or_default(),
        );
        let block = log.block_number.unwrap_or_default();
        let new = self
            .journal
            .call(move |j| j.handle_event(key, block, ev))
            .await?;
        if new {
            tracing::info!(target: "agent::events", ?ev, block, "event handled");
            self.wake.notify_one();
        } else {
            tracing::debug!(target: "agent::events", ?ev, block, "event already handled");
        }
        Ok(())
    }
}
