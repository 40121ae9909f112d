//! Approval provenance: which proposal, votes, queue and execute transactions led to a governed
//! event.
//!
//! In a real deployment governance is the TimelockController: the tx carrying e.g.
//! `DeploymentApproved` is the Governor's `execute`, which in the same receipt also emits the
//! timelock's `CallExecuted(id, index, target, ...)` and the Governor's
//! `ProposalExecuted(proposalId)`. From the proposal id the Governor's `ProposalCreated`,
//! `VoteCast` and `ProposalQueued` logs complete the story.

use std::collections::HashMap;

use alloy::primitives::{Address, B256, U256};
use serde::Serialize;

use super::{events::Event, scan::Scan};

/// A point in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TxRef {
    pub(crate) block: u64,
    pub(crate) time: u64,
    pub(crate) tx: B256,
}

/// One council vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Vote {
    pub(crate) voter: Address,
    /// `for`, `against` or `abstain`.
    pub(crate) support: &'static str,
    pub(crate) weight: U256,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) reason: String,
    #[serde(flatten)]
    pub(crate) at: TxRef,
}

/// How a governed event came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "camelCase")]
pub(crate) enum Provenance {
    /// Through the Governor and the timelock.
    #[serde(rename_all = "camelCase")]
    Governance {
        proposal_id: U256,
        proposer: Option<Address>,
        description: Option<String>,
        created: Option<TxRef>,
        votes: Vec<Vote>,
        queued: Option<TxRef>,
        executed: TxRef,
    },
    /// Set by a contract's constructor, in its deployment transaction (e.g. the initial criteria).
    #[serde(rename_all = "camelCase")]
    Constructor { tx: TxRef },
    /// Sent straight to the contract by an account holding the governance role.
    #[serde(rename_all = "camelCase")]
    Direct {
        /// The sender, recovered from the transaction's signature.
        from: Option<Address>,
        tx: TxRef,
    },
}

impl Provenance {
    /// One line for tables.
    pub(crate) fn summary(&self) -> String {
        match self {
            Self::Governance {
                proposal_id,
                votes,
                queued,
                created,
                ..
            } => {
                let fors = votes.iter().filter(|v| v.support == "for").count();
                let id = proposal_id.to_string();
                let short = if id.len() > 12 {
                    format!("{}…", &id[..12])
                } else {
                    id
                };
                format!(
                    "proposal {short}: {} vote(s) ({fors} for){}{}",
                    votes.len(),
                    if created.is_none() {
                        ", creation NOT FOUND"
                    } else {
                        ""
                    },
                    if queued.is_none() {
                        ", queue NOT FOUND"
                    } else {
                        ", queued, executed"
                    }
                )
            }
            Self::Constructor { .. } => "set at deployment (constructor)".to_string(),
            Self::Direct { from, .. } => match from {
                Some(a) => format!("DIRECT by {a}: not through the Governor/Timelock"),
                None => "DIRECT: not through the Governor/Timelock".to_string(),
            },
        }
    }
}

/// The governance logs indexed by proposal and by transaction.
#[derive(Debug, Default)]
pub(crate) struct GovernanceIndex {
    created: HashMap<U256, (TxRef, Address, String)>,
    votes: HashMap<U256, Vec<Vote>>,
    queued: HashMap<U256, TxRef>,
    /// tx -> proposals executed in it.
    executed_in: HashMap<B256, Vec<U256>>,
    /// tx -> targets the timelock called in it.
    timelock_calls: HashMap<B256, Vec<Address>>,
}

impl GovernanceIndex {
    pub(crate) fn build(scan: &Scan) -> Self {
        let mut ix = Self::default();
        for e in &scan.entries {
            let at = TxRef {
                block: e.block,
                time: e.timestamp,
                tx: e.tx,
            };
            match &e.event {
                Event::ProposalCreated {
                    id,
                    proposer,
                    description,
                    ..
                } => {
                    ix.created.insert(*id, (at, *proposer, description.clone()));
                }
                Event::VoteCast {
                    voter,
                    id,
                    support,
                    weight,
                    reason,
                } => ix.votes.entry(*id).or_default().push(Vote {
                    voter: *voter,
                    support: match support {
                        0 => "against",
                        1 => "for",
                        _ => "abstain",
                    },
                    weight: *weight,
                    reason: reason.clone(),
                    at,
                }),
                Event::ProposalQueued { id, .. } => {
                    ix.queued.insert(*id, at);
                }
                Event::ProposalExecuted { id } => ix.executed_in.entry(e.tx).or_default().push(*id),
                Event::CallExecuted { target, .. } => {
                    ix.timelock_calls.entry(e.tx).or_default().push(*target)
                }
                _ => {}
            }
        }
        ix
    }

    /// The provenance of a governed event emitted by `emitter` in `at.tx`; `sender` is the tx's
    /// recovered signer (for the direct case), `creation` whether the tx deployed a contract.
    pub(crate) fn provenance(
        &self,
        emitter: Address,
        at: TxRef,
        sender: Option<Address>,
        creation: bool,
    ) -> Provenance {
        if creation {
            return Provenance::Constructor { tx: at };
        }
        let through_timelock = self
            .timelock_calls
            .get(&at.tx)
            .is_some_and(|targets| targets.contains(&emitter));
        let proposal = self.executed_in.get(&at.tx).and_then(|ids| ids.first());
        match (through_timelock, proposal) {
            (true, Some(id)) => {
                let created = self.created.get(id);
                Provenance::Governance {
                    proposal_id: *id,
                    proposer: created.map(|c| c.1),
                    description: created.map(|c| c.2.clone()),
                    created: created.map(|c| c.0.clone()),
                    votes: self.votes.get(id).cloned().unwrap_or_default(),
                    queued: self.queued.get(id).cloned(),
                    executed: at,
                }
            }
            _ => Provenance::Direct {
                from: sender,
                tx: at,
            },
        }
    }
}
