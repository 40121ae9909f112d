//! Reporting a step on chain: check-and-record with the signing guard, simulate, sign and send
//! through the nonce-managed sender (the signed tx is journaled before broadcast), and resume a
//! journaled report after a restart instead of signing a different one.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, Bytes, keccak256};
use alloy::sol_types::SolCall;
use sankofa_abi::Rollout;
use sankofa_chain::TxSender;
use sankofa_keys::{GuardDecision, ReportKind, SigningGuard};
use tokio_util::sync::CancellationToken;

use crate::chainview::ChainView;
use crate::error::{Error, Result};
use crate::journal::{Journal, Kind, ReportJournal};
use crate::metrics::Metrics;

/// How a report ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reported {
    /// Mined successfully (now or in an earlier run).
    Landed,
    /// The contract refuses it; the decoded custom error (e.g. `RolloutApprovalExpired { .. }`).
    Refused(String),
}

/// Sends reports for one site.
#[derive(Debug, Clone)]
pub struct Reporter {
    /// Site id.
    pub site: B256,
    /// The contracts.
    pub chain: ChainView,
    /// Rollout address.
    pub rollout: alloy::primitives::Address,
    /// The sender (holds the signer).
    pub sender: TxSender,
    /// The signing guard.
    pub guard: Arc<SigningGuard>,
    /// The journal.
    pub journal: Arc<Journal>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

/// The payload the guard records: everything the report says.
pub fn payload_hash(
    site: B256,
    wave: u32,
    step: u16,
    kind: Kind,
    status: u8,
    digest: B256,
) -> B256 {
    let k: u8 = match kind {
        Kind::Step => 0,
        Kind::Rollback => 1,
    };
    // Packed: site(32) | wave(4) | step(2) | kind(1) | status(1) | digest(32).
    let mut b = Vec::with_capacity(72);
    b.extend_from_slice(site.as_slice());
    b.extend_from_slice(&wave.to_be_bytes());
    b.extend_from_slice(&step.to_be_bytes());
    b.push(k);
    b.push(status);
    b.extend_from_slice(digest.as_slice());
    keccak256(&b)
}

impl Reporter {
    fn calldata(&self, wave: u32, step: u16, kind: Kind, status: u8, digest: B256) -> Bytes {
        match kind {
            Kind::Step => Rollout::reportStepCall {
                site: self.site,
                waveId: wave,
                step,
                status,
                outputDigest: digest,
            }
            .abi_encode()
            .into(),
            Kind::Rollback => Rollout::reportRollbackStepCall {
                site: self.site,
                waveId: wave,
                step,
                status,
                outputDigest: digest,
            }
            .abi_encode()
            .into(),
        }
    }

    /// Reports `(wave, kind, step)` with `status` and `digest` until it lands or is refused.
    /// Retryable failures are retried with backoff until `shutdown`.
    #[tracing::instrument(skip_all, fields(site = %sankofa_abi::ids::site_name(self.site), wave = wave, step = step, kind = ?kind))]
    pub async fn report(
        &self,
        wave: u32,
        kind: Kind,
        step: u16,
        status: u8,
        digest: B256,
        shutdown: &CancellationToken,
    ) -> Result<Reported> {
        let mut delay = Duration::from_millis(250);
        loop {
            match self.try_report(wave, kind, step, status, digest).await {
                Ok(r) => return Ok(r),
                Err(e) if e.is_retryable() => {
                    self.metrics.reports_failed.inc();
                    tracing::warn!(target: "agent::reporter", error = %e, retry_ms = delay.as_millis() as u64, "report failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return Err(Error::Shutdown),
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(15));
                }
                Err(e) => {
                    self.metrics.reports_failed.inc();
                    return Err(e);
                }
            }
        }
    }

    async fn try_report(
        &self,
        wave: u32,
        kind: Kind,
        step: u16,
        status: u8,
        digest: B256,
    ) -> Result<Reported> {
        let j = self.journal.clone();
        let prev = j.call(move |j| j.report(wave, kind, step)).await?;
        if let Some(p) = &prev {
            if p.mined {
                return Ok(Reported::Landed);
            }
            // A recorded tx: did it land while we were away?
            if let Some(r) = self.sender.receipt(p.tx.hash).await?
                && r.status()
            {
                let block = r.block_number;
                j.call(move |j| j.report_mined(wave, kind, step, block))
                    .await?;
                return Ok(Reported::Landed);
            }
        }
        if kind == Kind::Step {
            let d = self.chain.deployment().await?;
            if d.wave == wave && d.next_step > step {
                // The ledger has it (our earlier tx, under a hash we no longer track).
                j.call(move |j| j.report_mined(wave, kind, step, None))
                    .await?;
                return Ok(Reported::Landed);
            }
        }
        let data = self.calldata(wave, step, kind, status, digest);
        // Simulate first: a refusal costs no nonce and has a readable reason.
        if let Err(revert) = self
            .chain
            .call_raw(self.rollout, Some(self.sender.address()), data.clone())
            .await?
        {
            let reason = sankofa_abi::revert::decode(&revert)
                .unwrap_or_else(|| format!("reverted with {revert}"));
            tracing::info!(target: "agent::reporter", %reason, "report refused by the contract");
            return Ok(Reported::Refused(reason));
        }
        let guard_kind = match kind {
            Kind::Step => ReportKind::Step,
            Kind::Rollback => ReportKind::Rollback,
        };
        let payload = payload_hash(self.site, wave, step, kind, status, digest);
        let guard = self.guard.clone();
        let site = self.site;
        let decision = tokio::task::spawn_blocking(move || {
            guard.check_and_record(site, wave, step, guard_kind, payload)
        })
        .await
        .map_err(|e| Error::Exec {
            step: "guard".into(),
            message: e.to_string(),
        })?;
        match &decision {
            Ok(GuardDecision::New) => self.metrics.signatures_new.inc(),
            Ok(GuardDecision::Repeat) => self.metrics.signatures_repeat.inc(),
            Err(_) => self.metrics.signatures_refused.inc(),
        }
        decision?;
        let rj = ReportJournal {
            journal: j.clone(),
            wave,
            kind,
            step,
            status,
            digest,
        };
        let result = match prev {
            Some(p) if p.status == status && p.digest == digest => {
                self.sender.resume(p.tx, &rj).await
            }
            _ => self.sender.send(self.rollout, data.clone(), &rj).await,
        };
        match result {
            Ok(r) => {
                self.metrics.reports_sent.inc();
                let block = r.block_number;
                j.call(move |j| j.report_mined(wave, kind, step, block))
                    .await?;
                tracing::info!(target: "agent::reporter", tx = %r.transaction_hash, block, status, "report landed");
                Ok(Reported::Landed)
            }
            Err(sankofa_chain::Error::Reverted { tx_hash, .. }) => {
                // State changed between simulation and inclusion: simulate again for the reason.
                match self
                    .chain
                    .call_raw(self.rollout, Some(self.sender.address()), data)
                    .await?
                {
                    Err(revert) => Ok(Reported::Refused(
                        sankofa_abi::revert::decode(&revert)
                            .unwrap_or_else(|| format!("reverted with {revert}")),
                    )),
                    Ok(_) => Err(Error::Contract {
                        call: "report",
                        message: format!(
                            "transaction {tx_hash} reverted but simulates fine now; retrying"
                        ),
                    }),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}
