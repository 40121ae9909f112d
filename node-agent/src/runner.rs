//! The runner: drives this site's current deployment from the journal and the chain.
//!
//! At every step boundary it re-reads the journal (cancel and rollback flags written by the
//! planner) and the ledger (`deployment(site)`: the next step it accepts, whether a rollback was
//! ordered), checks the approval window, then runs the *next* step exactly once: a step that is
//! journaled as finished is only (re-)reported; a step that was interrupted by a crash is re-run
//! only if the plan marks it idempotent, re-checked with its `check` command if it has one, and
//! otherwise reported as failed. Rollbacks run the plan's rollback commands in reverse order,
//! starting at the ledger's `rollbackNext`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, keccak256};
use sankofa_abi::ids::{SiteStatus, StepStatus};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tracing::instrument;

use crate::chainview::ChainView;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::executor::{self, Exit, Job};
use crate::fetch::{Fetched, fetch_plan};
use crate::journal::{DeployState, Deployment, Journal, Kind};
use crate::metrics::Metrics;
use crate::plan::{Cmd, LoadedPlan, Vars};
use crate::reporter::{Reported, Reporter};

/// What a turn of the runner achieved.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    /// Nothing to do until an event arrives.
    Idle,
    /// Check again after this delay (waiting for a window, a concurrency slot, a pause).
    WaitFor(Duration),
    /// Progress was made; go again at once.
    Again,
}

/// The runner service.
#[derive(Debug)]
pub struct Runner {
    /// Config.
    pub cfg: Arc<Config>,
    /// Journal.
    pub journal: Arc<Journal>,
    /// Contract reads.
    pub chain: ChainView,
    /// Report sender.
    pub reporter: Reporter,
    /// Woken by the planner.
    pub wake: Arc<Notify>,
    /// True once the stream is live.
    pub ready: watch::Receiver<bool>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The site's tier name (from the registry).
    pub tier: String,
    /// Verified plans by hash.
    pub plans: BTreeMap<B256, Arc<LoadedPlan>>,
}

impl Runner {
    /// Runs until shutdown. Non-retryable errors of the journal end the process.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<()> {
        // Act only on a complete picture: a cancel may sit in the blocks not yet backfilled.
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            r = self.ready.wait_for(|r| *r) => { r.map_err(|_| Error::Shutdown)?; }
        }
        let mut delay = Duration::from_millis(500);
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            let turn = match self.turn(&shutdown).await {
                Ok(t) => {
                    delay = Duration::from_millis(500);
                    t
                }
                Err(Error::Shutdown) => return Ok(()),
                Err(e @ Error::Journal { .. }) => return Err(e),
                Err(e) => {
                    if e.is_retryable() {
                        tracing::warn!(target: "agent::runner", error = %e, retry_ms = delay.as_millis() as u64, "retrying");
                    } else {
                        tracing::error!(target: "agent::runner", error = %e, "deployment halted; operator action needed");
                        self.halt(&e).await?;
                    }
                    let t = Turn::WaitFor(delay);
                    delay = (delay * 2).min(Duration::from_secs(30));
                    t
                }
            };
            let wait = match turn {
                Turn::Again => continue,
                Turn::Idle => Duration::from_secs(3600),
                Turn::WaitFor(d) => d,
            };
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn halt(&self, e: &Error) -> Result<()> {
        let note = e.to_string();
        if let Some(d) = self.journal.call(|j| j.latest()).await? {
            let state = if d.state == DeployState::RollingBack {
                DeployState::RollbackFailed
            } else {
                DeployState::Failed
            };
            self.journal
                .call(move |j| j.set_state(d.wave, state, &note))
                .await?;
        }
        Ok(())
    }

    async fn turn(&mut self, shutdown: &CancellationToken) -> Result<Turn> {
        let Some(d) = self.journal.call(|j| j.latest()).await? else {
            return Ok(Turn::Idle);
        };
        if d.rollback_requested
            && !matches!(
                d.state,
                DeployState::RolledBack | DeployState::RollbackFailed | DeployState::Closed
            )
        {
            return self.rollback(d, shutdown).await;
        }
        if d.state.forward_done() {
            return Ok(Turn::Idle);
        }
        self.forward(d, shutdown).await
    }

    async fn set_state(
        &self,
        wave: u32,
        state: DeployState,
        note: impl Into<String>,
    ) -> Result<()> {
        let note = note.into();
        tracing::info!(target: "agent::runner", wave, state = ?state, %note, "deployment state");
        self.journal
            .call(move |j| j.set_state(wave, state, &note))
            .await
    }

    async fn details(&self, d: &Deployment) -> Result<(String, u16, u64, u64)> {
        if let (Some(uri), Some(n), Some(nb), Some(ex)) =
            (&d.plan_uri, d.step_count, d.not_before, d.expiry)
        {
            return Ok((uri.clone(), n, nb, ex));
        }
        let w = self.chain.wave_terms(d.wave, d.approved_block).await?;
        let (wave, u) = (d.wave, w.plan_uri.clone());
        self.journal
            .call(move |j| j.set_wave_details(wave, &u, w.step_count, w.not_before, w.expiry))
            .await?;
        Ok((w.plan_uri, w.step_count, w.not_before, w.expiry))
    }

    async fn plan(
        &mut self,
        d: &Deployment,
        uri: &str,
        step_count: u16,
    ) -> Result<std::result::Result<Arc<LoadedPlan>, (String, B256)>> {
        if let Some(p) = self.plans.get(&d.plan_hash) {
            return Ok(Ok(p.clone()));
        }
        let fetched = fetch_plan(
            uri,
            d.plan_hash,
            &self.cfg.plan_cache,
            self.cfg.request_timeout,
        )
        .await?;
        let loaded = match fetched {
            Fetched::Verified(p) => p,
            Fetched::HashMismatch { actual } => {
                return Ok(Err((
                    format!("plan {uri} hashes to {actual}, approved {}", d.plan_hash),
                    actual,
                )));
            }
            Fetched::Invalid { message, actual } => return Ok(Err((message, actual))),
        };
        if loaded.plan.steps.len() != step_count as usize {
            let msg = format!(
                "plan has {} steps, the wave approved {step_count}",
                loaded.plan.steps.len()
            );
            return Ok(Err((msg, loaded.hash)));
        }
        let p = Arc::new(*loaded);
        self.plans.insert(d.plan_hash, p.clone());
        Ok(Ok(p))
    }

    fn vars(&self, wave: u32, plan_hash: B256) -> Vars {
        let c = &self.cfg;
        let mut v = BTreeMap::new();
        v.insert("site".into(), c.site_name.clone());
        v.insert("site_id".into(), c.site_id.to_string());
        v.insert("tier".into(), self.tier.clone());
        v.insert("region".into(), c.region.clone());
        v.insert("parent".into(), c.parent.clone());
        v.insert(
            "rpc_url".into(),
            c.endpoints
                .first()
                .map(|e| e.http.to_string())
                .unwrap_or_default(),
        );
        v.insert("root".into(), c.sandbox_root.display().to_string());
        v.insert("wave".into(), wave.to_string());
        v.insert("plan_hash".into(), plan_hash.to_string());
        v.insert("chain_id".into(), c.chain_id.to_string());
        Vars(v)
    }

    async fn forward(&mut self, d: Deployment, shutdown: &CancellationToken) -> Result<Turn> {
        let wave = d.wave;
        let (uri, step_count, not_before, expiry) = self.details(&d).await?;
        // Step boundary checks, in order of precedence.
        let onchain = self.chain.deployment().await?;
        if onchain.wave != wave {
            self.set_state(
                wave,
                DeployState::Closed,
                format!("the ledger's deployment is wave {}", onchain.wave),
            )
            .await?;
            return Ok(Turn::Again);
        }
        if onchain.rollback_ordered {
            // The event is on its way (or was missed by a reorg): the ledger is the truth.
            self.journal
                .call(move |j| j.request_rollback(wave, 0))
                .await?;
            return Ok(Turn::Again);
        }
        if d.cancel_requested {
            self.set_state(
                wave,
                DeployState::Cancelled,
                "cancelled; stopped at a step boundary",
            )
            .await?;
            return Ok(Turn::Idle);
        }
        let now = self.chain.now().await?;
        if now >= expiry {
            self.set_state(
                wave,
                DeployState::Expired,
                format!("approval expired at {expiry}"),
            )
            .await?;
            return Ok(Turn::Idle);
        }
        if now < not_before {
            return Ok(Turn::WaitFor(Duration::from_secs(
                (not_before - now).min(30),
            )));
        }
        let next = onchain.next_step;
        if next >= step_count {
            self.set_state(wave, DeployState::Completed, "all steps reported")
                .await?;
            return Ok(Turn::Idle);
        }
        let plan = match self.plan(&d, &uri, step_count).await? {
            Ok(p) => p,
            Err((reason, actual)) => return self.reject(&d, next, reason, actual, shutdown).await,
        };
        if next == 0 && d.state == DeployState::Approved {
            let w = self.chain.wave(wave).await?;
            if w.deploying >= w.max_concurrent {
                tracing::info!(target: "agent::runner", wave, deploying = w.deploying, max = w.max_concurrent, "wave at its concurrency cap; waiting");
                return Ok(Turn::WaitFor(
                    self.cfg.block_time.max(Duration::from_secs(1)),
                ));
            }
        }
        if d.state == DeployState::Approved {
            self.set_state(wave, DeployState::Running, "running")
                .await?;
        }
        let (status, digest) = self
            .execute(&plan, wave, Kind::Step, next, shutdown)
            .await?;
        match self
            .reporter
            .report(wave, Kind::Step, next, status, digest, shutdown)
            .await?
        {
            Reported::Landed => {
                if status == StepStatus::Failed as u8 {
                    self.set_state(wave, DeployState::Failed, format!("step {next} failed"))
                        .await?;
                    return Ok(Turn::Idle);
                }
                Ok(Turn::Again)
            }
            Reported::Refused(reason) => self.refused(wave, &reason).await,
        }
    }

    async fn refused(&self, wave: u32, reason: &str) -> Result<Turn> {
        let wait = self.cfg.block_time.max(Duration::from_secs(1));
        if reason.starts_with("RolloutApprovalExpired") {
            self.set_state(wave, DeployState::Expired, reason).await?;
            Ok(Turn::Idle)
        } else if reason.starts_with("RolloutDeploymentClosed")
            || reason.starts_with("RolloutWrongWave")
        {
            let cancelled = self
                .journal
                .call(move |j| j.latest())
                .await?
                .is_some_and(|d| d.wave == wave && d.cancel_requested);
            let state = if cancelled {
                DeployState::Cancelled
            } else {
                DeployState::Closed
            };
            self.set_state(wave, state, reason).await?;
            Ok(Turn::Idle)
        } else if reason.starts_with("RolloutRollbackOrdered") {
            self.journal
                .call(move |j| j.request_rollback(wave, 0))
                .await?;
            Ok(Turn::Again)
        } else if reason.starts_with("RolloutMaxConcurrent")
            || reason.starts_with("RolloutPaused")
            || reason.starts_with("RolloutWaveNotStarted")
            || reason.starts_with("RolloutStepOutOfOrder")
        {
            tracing::info!(target: "agent::runner", wave, reason, "report not accepted yet; will retry");
            Ok(Turn::WaitFor(wait))
        } else {
            Err(Error::Contract {
                call: "report",
                message: reason.to_owned(),
            })
        }
    }

    async fn reject(
        &self,
        d: &Deployment,
        step: u16,
        reason: String,
        actual: B256,
        shutdown: &CancellationToken,
    ) -> Result<Turn> {
        self.metrics.plans_rejected.inc();
        tracing::error!(target: "agent::runner", wave = d.wave, %reason, "plan refused; reporting it as a failed step");
        let wave = d.wave;
        // The fetched content's hash is the digest, so the chain records what was refused.
        self.journal
            .call(move |j| {
                j.step_finished(
                    wave,
                    Kind::Step,
                    step,
                    "plan-rejected",
                    StepStatus::Failed as u8,
                    actual,
                )
            })
            .await?;
        let r = self
            .reporter
            .report(
                wave,
                Kind::Step,
                step,
                StepStatus::Failed as u8,
                actual,
                shutdown,
            )
            .await?;
        match r {
            Reported::Landed => {
                self.set_state(wave, DeployState::Rejected, reason).await?;
                Ok(Turn::Idle)
            }
            Reported::Refused(why) => self.refused(wave, &why).await,
        }
    }

    /// Runs (at most once) one step or rollback step and journals its outcome.
    #[instrument(skip_all, fields(site = %self.cfg.site_name, wave = wave, step = step, kind = ?kind))]
    async fn execute(
        &self,
        plan: &LoadedPlan,
        wave: u32,
        kind: Kind,
        step: u16,
        shutdown: &CancellationToken,
    ) -> Result<(u8, B256)> {
        let s = &plan.plan.steps[step as usize];
        let rec = self.journal.call(move |j| j.step(wave, kind, step)).await?;
        let cmd: Option<&Cmd> = match kind {
            Kind::Step => Some(&s.run),
            Kind::Rollback => s.rollback.as_ref(),
        };
        let log = self
            .cfg
            .log_dir()
            .join(format!("wave-{wave}"))
            .join(format!(
                "{}-{step:03}-{}.log",
                match kind {
                    Kind::Step => "step",
                    Kind::Rollback => "rollback",
                },
                s.name
            ));
        if let Some(r) = &rec
            && r.finished
        {
            let status = r.status.unwrap_or(StepStatus::Failed as u8);
            return Ok((status, r.digest.unwrap_or_default()));
        }
        let interrupted = rec.is_some();
        let name = s.name.clone();
        let Some(cmd) = cmd else {
            // Nothing to undo for this step.
            let digest = keccak256(b"no rollback command");
            self.journal
                .call(move |j| {
                    j.step_finished(wave, kind, step, &name, StepStatus::Skipped as u8, digest)
                })
                .await?;
            return Ok((StepStatus::Skipped as u8, digest));
        };
        let vars = self.vars(wave, plan.hash);
        let mut env: BTreeMap<String, String> = vars
            .0
            .iter()
            .map(|(k, v)| (format!("SANKOFA_{}", k.to_ascii_uppercase()), v.clone()))
            .collect();
        env.insert("SANKOFA_STEP".into(), step.to_string());
        env.insert("SANKOFA_STEP_NAME".into(), s.name.clone());
        env.insert(
            "SANKOFA_KIND".into(),
            format!("{kind:?}").to_ascii_lowercase(),
        );
        tokio::fs::create_dir_all(&self.cfg.sandbox_root)
            .await
            .map_err(|source| Error::Io {
                what: "creating sandbox root",
                path: self.cfg.sandbox_root.clone(),
                source,
            })?;
        let resolve = |c: &Cmd| {
            plan.plan.resolve(c, s, &vars).map_err(|m| Error::Plan {
                origin: format!("step `{}`", s.name),
                message: m,
            })
        };
        let run_cmd = resolve(cmd)?;
        let check_log = log.with_extension("check.log");
        let mk = |c, l, retries| job(&self.cfg, s, &env, c, l, retries);
        // The check: forward steps only (a rollback always undoes).
        let check = match (kind, &s.check) {
            (Kind::Step, Some(c)) => Some(resolve(c)?),
            _ => None,
        };
        if interrupted && !s.idempotent {
            let (status, digest) = match &check {
                Some(c) => {
                    let out = executor::run(&mk(c, &check_log, 0), shutdown).await?;
                    if out.exit == Exit::Success {
                        (StepStatus::Succeeded as u8, out.digest)
                    } else {
                        (StepStatus::Failed as u8, out.digest)
                    }
                }
                None => {
                    let bytes = tokio::fs::read(&log).await.unwrap_or_default();
                    (StepStatus::Failed as u8, keccak256(&bytes))
                }
            };
            tracing::warn!(target: "agent::runner", status, "step was interrupted by a restart; not running it again");
            self.journal
                .call(move |j| j.step_finished(wave, kind, step, &name, status, digest))
                .await?;
            self.count(kind, status);
            return Ok((status, digest));
        }
        {
            let name = name.clone();
            self.journal
                .call(move |j| j.step_started(wave, kind, step, &name))
                .await?;
        }
        if let Some(c) = &check {
            let out = executor::run(&mk(c, &check_log, 0), shutdown).await?;
            if out.exit == Exit::Success {
                let digest = out.digest;
                self.journal
                    .call(move |j| {
                        j.step_finished(wave, kind, step, &name, StepStatus::Skipped as u8, digest)
                    })
                    .await?;
                self.count(kind, StepStatus::Skipped as u8);
                tracing::info!(target: "agent::runner", "already satisfied; skipped");
                return Ok((StepStatus::Skipped as u8, digest));
            }
        }
        let out = executor::run(&mk(&run_cmd, &log, s.retries), shutdown).await?;
        let status = if out.exit == Exit::Success {
            StepStatus::Succeeded as u8
        } else {
            StepStatus::Failed as u8
        };
        let digest = out.digest;
        self.journal
            .call(move |j| j.step_finished(wave, kind, step, &name, status, digest))
            .await?;
        self.count(kind, status);
        tracing::info!(target: "agent::runner", status, attempts = out.attempts, exit = ?out.exit, log = %out.log.display(), "step finished");
        Ok((status, digest))
    }

    fn count(&self, kind: Kind, status: u8) {
        match (kind, status) {
            (Kind::Rollback, _) => self.metrics.rollback_steps.inc(),
            (_, 1) => self.metrics.steps_succeeded.inc(),
            (_, 3) => self.metrics.steps_skipped.inc(),
            _ => self.metrics.steps_failed.inc(),
        }
    }

    /// Undoes, locally and without a report, forward steps that ran here but never reached the
    /// ledger (a step that finished after the rollback was ordered, so its report was refused):
    /// the ledger's rollback only covers reported steps, the host must not keep the rest.
    async fn undo_unreported(
        &mut self,
        d: &Deployment,
        next_step: u16,
        shutdown: &CancellationToken,
    ) -> Result<()> {
        let wave = d.wave;
        let ran = self
            .journal
            .call(move |j| j.steps(wave, Kind::Step))
            .await?;
        let undone = self
            .journal
            .call(move |j| j.steps(wave, Kind::Rollback))
            .await?;
        let mut pending: Vec<u16> = ran
            .iter()
            .map(|s| s.step)
            .filter(|k| *k >= next_step && !undone.iter().any(|u| u.step == *k && u.finished))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        pending.sort_unstable_by(|a, b| b.cmp(a));
        let (uri, step_count, _, _) = self.details(d).await?;
        // A refused plan never ran anything.
        let Ok(plan) = self.plan(d, &uri, step_count).await? else {
            return Ok(());
        };
        for k in pending {
            let (status, _) = self
                .execute(&plan, wave, Kind::Rollback, k, shutdown)
                .await?;
            tracing::warn!(target: "agent::runner", wave, step = k, status, "undid a step the ledger never recorded (no report possible)");
        }
        Ok(())
    }

    async fn rollback(&mut self, d: Deployment, shutdown: &CancellationToken) -> Result<Turn> {
        let wave = d.wave;
        let onchain = self.chain.deployment().await?;
        if onchain.wave != wave {
            self.set_state(
                wave,
                DeployState::Closed,
                format!("the ledger's deployment is wave {}", onchain.wave),
            )
            .await?;
            return Ok(Turn::Again);
        }
        let (_, status, _) = self.chain.site().await?;
        if status == SiteStatus::RolledBack as u8 {
            self.undo_unreported(&d, onchain.next_step, shutdown)
                .await?;
            self.set_state(wave, DeployState::RolledBack, "rollback complete")
                .await?;
            return Ok(Turn::Idle);
        }
        if !onchain.rollback_ordered {
            // The order was reorged away or not yet visible on this endpoint.
            return Ok(Turn::WaitFor(self.cfg.block_time));
        }
        self.undo_unreported(&d, onchain.next_step, shutdown)
            .await?;
        if d.state != DeployState::RollingBack {
            self.set_state(wave, DeployState::RollingBack, "rolling back")
                .await?;
        }
        let (uri, step_count, _, _) = self.details(&d).await?;
        let plan = match self.plan(&d, &uri, step_count).await? {
            Ok(p) => p,
            Err((reason, _)) => {
                return Err(Error::Plan {
                    origin: uri,
                    message: format!("cannot roll back without the approved plan: {reason}"),
                });
            }
        };
        let step = onchain.rollback_next;
        let (status, digest) = self
            .execute(&plan, wave, Kind::Rollback, step, shutdown)
            .await?;
        match self
            .reporter
            .report(wave, Kind::Rollback, step, status, digest, shutdown)
            .await?
        {
            Reported::Landed => {
                if status == StepStatus::Failed as u8 {
                    self.set_state(
                        wave,
                        DeployState::RollbackFailed,
                        format!("rollback of step {step} failed"),
                    )
                    .await?;
                    return Ok(Turn::Idle);
                }
                Ok(Turn::Again)
            }
            Reported::Refused(reason) => {
                tracing::warn!(target: "agent::runner", wave, %reason, "rollback report refused; re-reading the ledger");
                Ok(Turn::WaitFor(
                    self.cfg.block_time.max(Duration::from_secs(1)),
                ))
            }
        }
    }
}

fn job<'a>(
    cfg: &'a Config,
    s: &'a crate::plan::Step,
    env: &'a BTreeMap<String, String>,
    cmd: &'a crate::plan::Resolved,
    log: &'a std::path::Path,
    retries: u32,
) -> Job<'a> {
    Job {
        step: &s.name,
        cmd,
        cwd: &cfg.sandbox_root,
        base_env: env,
        timeout: s.timeout(),
        retries,
        backoff: Duration::from_millis(s.retry_backoff_ms),
        log,
        grace: cfg.grace_period,
    }
}
