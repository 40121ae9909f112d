//! The audited contracts' events, decoded into one enum the checks and the timeline share.
//!
//! Each log is decoded with the ABI of the contract that emitted it (chosen by address), so an
//! event another contract happens to share a signature with is never mistaken for ours.

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    rpc::types::Log,
    sol_types::SolEventInterface,
};
use sankofa_abi::{
    governor::SankofaGovernor::SankofaGovernorEvents, rollout::Rollout::RolloutEvents,
    site_registry::SiteRegistry::SiteRegistryEvents,
    timelock::TimelockController::TimelockControllerEvents,
    validator_set::ValidatorSet::ValidatorSetEvents,
};
use serde::Serialize;

/// The audited contracts' addresses (governance ones absent when the deployment has none).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contracts {
    pub(crate) registry: Address,
    pub(crate) rollout: Address,
    pub(crate) validators: Option<Address>,
    pub(crate) council: Option<Address>,
    pub(crate) governor: Option<Address>,
    pub(crate) timelock: Option<Address>,
}

impl Contracts {
    /// Every address the scan reads logs from.
    pub(crate) fn all(&self) -> Vec<Address> {
        let mut v = vec![self.registry, self.rollout];
        v.extend(
            [self.validators, self.council, self.governor, self.timelock]
                .into_iter()
                .flatten(),
        );
        v
    }
}

/// One decoded event. Site ids stay `B256`; names are derived for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    SiteRegistered {
        site: B256,
        tier: u8,
        phase: u8,
        parent: B256,
        record_hash: B256,
    },
    KeyBound {
        site: B256,
        key: Address,
        previous: Address,
    },
    KeyRevoked {
        site: B256,
        key: Address,
    },
    StatusChanged {
        site: B256,
        from: u8,
        to: u8,
    },
    PhaseApproved {
        phase: u8,
    },
    CriteriaSet {
        phase: u8,
        criteria: [u16; 4],
    },
    WaveApproved {
        wave: u32,
        phase: u8,
        plan_hash: B256,
        plan_uri: String,
        not_before: u64,
        expiry: u64,
        max_concurrent: u16,
        step_count: u16,
        site_count: U256,
    },
    DeploymentApproved {
        site: B256,
        wave: u32,
        plan_hash: B256,
    },
    DeploymentCancelled {
        site: B256,
        wave: u32,
        reason: u8,
    },
    RollbackOrdered {
        site: B256,
        wave: u32,
        reason: u8,
    },
    StepReported {
        site: B256,
        wave: u32,
        step: u16,
        status: u8,
        plan_hash: B256,
        digest: B256,
    },
    RollbackStepReported {
        site: B256,
        wave: u32,
        step: u16,
        status: u8,
        digest: B256,
    },
    ProposalCreated {
        id: U256,
        proposer: Address,
        targets: Vec<Address>,
        description: String,
        vote_start: U256,
        vote_end: U256,
    },
    VoteCast {
        voter: Address,
        id: U256,
        support: u8,
        weight: U256,
        reason: String,
    },
    ProposalQueued {
        id: U256,
        eta: U256,
    },
    ProposalExecuted {
        id: U256,
    },
    CallExecuted {
        id: B256,
        index: U256,
        target: Address,
        data: Bytes,
    },
    ValidatorAdded {
        validator: Address,
        site: B256,
    },
    ValidatorRemoved {
        validator: Address,
        site: B256,
    },
    /// An event of an audited contract that no check needs (role grants, pauses, ...).
    Other,
}

impl Event {
    /// The site an event is about, if any.
    pub(crate) fn site(&self) -> Option<B256> {
        match self {
            Self::SiteRegistered { site, .. }
            | Self::KeyBound { site, .. }
            | Self::KeyRevoked { site, .. }
            | Self::StatusChanged { site, .. }
            | Self::DeploymentApproved { site, .. }
            | Self::DeploymentCancelled { site, .. }
            | Self::RollbackOrdered { site, .. }
            | Self::StepReported { site, .. }
            | Self::RollbackStepReported { site, .. } => Some(*site),
            _ => None,
        }
    }

    /// Whether the event records a governed decision (whose provenance the audit traces).
    pub(crate) fn is_governed(&self) -> bool {
        matches!(
            self,
            Self::KeyBound { .. }
                | Self::KeyRevoked { .. }
                | Self::PhaseApproved { .. }
                | Self::CriteriaSet { .. }
                | Self::WaveApproved { .. }
                | Self::DeploymentApproved { .. }
                | Self::RollbackOrdered { .. }
        )
    }
}

/// Decodes `log` with the ABI of the contract at its address.
pub(crate) fn decode(contracts: &Contracts, log: &Log) -> Event {
    let inner = &log.inner;
    let topics = inner.data.topics();
    let data = &inner.data.data;
    let addr = inner.address;
    if addr == contracts.registry {
        return match SiteRegistryEvents::decode_raw_log(topics, data) {
            Ok(SiteRegistryEvents::SiteRegistered(e)) => Event::SiteRegistered {
                site: e.site,
                tier: e.tier,
                phase: e.phase,
                parent: e.parent,
                record_hash: e.recordHash,
            },
            Ok(SiteRegistryEvents::AgentKeyBound(e)) => Event::KeyBound {
                site: e.site,
                key: e.key,
                previous: e.previous,
            },
            Ok(SiteRegistryEvents::AgentKeyRevoked(e)) => Event::KeyRevoked {
                site: e.site,
                key: e.key,
            },
            Ok(SiteRegistryEvents::SiteStatusChanged(e)) => Event::StatusChanged {
                site: e.site,
                from: e.from,
                to: e.to,
            },
            _ => Event::Other,
        };
    }
    if addr == contracts.rollout {
        return match RolloutEvents::decode_raw_log(topics, data) {
            Ok(RolloutEvents::PhaseApproved(e)) => Event::PhaseApproved { phase: e.phase },
            Ok(RolloutEvents::CriteriaSet(e)) => Event::CriteriaSet {
                phase: e.phase,
                criteria: [
                    e.criteria.minCore,
                    e.criteria.minRegional,
                    e.criteria.minEdge,
                    e.criteria.minValidators,
                ],
            },
            Ok(RolloutEvents::WaveApproved(e)) => Event::WaveApproved {
                wave: e.waveId,
                phase: e.phase,
                plan_hash: e.planHash,
                plan_uri: e.planUri,
                not_before: e.notBefore,
                expiry: e.expiry,
                max_concurrent: e.maxConcurrent,
                step_count: e.stepCount,
                site_count: e.siteCount,
            },
            Ok(RolloutEvents::DeploymentApproved(e)) => Event::DeploymentApproved {
                site: e.site,
                wave: e.waveId,
                plan_hash: e.planHash,
            },
            Ok(RolloutEvents::DeploymentCancelled(e)) => Event::DeploymentCancelled {
                site: e.site,
                wave: e.waveId,
                reason: e.reason,
            },
            Ok(RolloutEvents::RollbackOrdered(e)) => Event::RollbackOrdered {
                site: e.site,
                wave: e.waveId,
                reason: e.reason,
            },
            Ok(RolloutEvents::StepReported(e)) => Event::StepReported {
                site: e.site,
                wave: e.waveId,
                step: e.step,
                status: e.status,
                plan_hash: e.planHash,
                digest: e.outputDigest,
            },
            Ok(RolloutEvents::RollbackStepReported(e)) => Event::RollbackStepReported {
                site: e.site,
                wave: e.waveId,
                step: e.step,
                status: e.status,
                digest: e.outputDigest,
            },
            _ => Event::Other,
        };
    }
    if Some(addr) == contracts.governor {
        return match SankofaGovernorEvents::decode_raw_log(topics, data) {
            Ok(SankofaGovernorEvents::ProposalCreated(e)) => Event::ProposalCreated {
                id: e.proposalId,
                proposer: e.proposer,
                targets: e.targets,
                description: e.description,
                vote_start: e.voteStart,
                vote_end: e.voteEnd,
            },
            Ok(SankofaGovernorEvents::VoteCast(e)) => Event::VoteCast {
                voter: e.voter,
                id: e.proposalId,
                support: e.support,
                weight: e.weight,
                reason: e.reason,
            },
            Ok(SankofaGovernorEvents::ProposalQueued(e)) => Event::ProposalQueued {
                id: e.proposalId,
                eta: e.etaSeconds,
            },
            Ok(SankofaGovernorEvents::ProposalExecuted(e)) => {
                Event::ProposalExecuted { id: e.proposalId }
            }
            _ => Event::Other,
        };
    }
    if Some(addr) == contracts.timelock {
        return match TimelockControllerEvents::decode_raw_log(topics, data) {
            Ok(TimelockControllerEvents::CallExecuted(e)) => Event::CallExecuted {
                id: e.id,
                index: e.index,
                target: e.target,
                data: e.data,
            },
            _ => Event::Other,
        };
    }
    if Some(addr) == contracts.validators {
        return match ValidatorSetEvents::decode_raw_log(topics, data) {
            Ok(ValidatorSetEvents::ValidatorAdded(e)) => Event::ValidatorAdded {
                validator: e.validator,
                site: e.site,
            },
            Ok(ValidatorSetEvents::ValidatorRemoved(e)) => Event::ValidatorRemoved {
                validator: e.validator,
                site: e.site,
            },
            _ => Event::Other,
        };
    }
    // Council membership changes are shown by `sankofa council`; votes come from the Governor.
    Event::Other
}
