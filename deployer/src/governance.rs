//! Governor proposals: building them, their locally computed id, finding them on chain, and
//! moving them through vote -> queue -> execute.
//!
//! The id is `hashProposal(targets, values, calldatas, keccak256(description))`, computed here
//! before anything is sent, so a retried `propose` (after a timeout, a crash, a lost receipt)
//! finds the proposal it already made and resumes instead of failing or duplicating it. The
//! description ends with a nonce line: the same action proposed again on purpose (after a
//! defeat) takes a new `--nonce`.

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent, SolValue},
};
use anyhow::{Context, bail};
use serde::Serialize;

use crate::{
    contracts::{ICouncil, IGovernor, proposal_state_name},
    deployment::Deployment,
    rpc::Chain,
};

/// The Governor's `ProposalState` values the CLI acts on.
pub(crate) mod state {
    pub(crate) const PENDING: u8 = 0;
    pub(crate) const ACTIVE: u8 = 1;
    pub(crate) const CANCELED: u8 = 2;
    pub(crate) const DEFEATED: u8 = 3;
    pub(crate) const SUCCEEDED: u8 = 4;
    pub(crate) const QUEUED: u8 = 5;
    pub(crate) const EXPIRED: u8 = 6;
    pub(crate) const EXECUTED: u8 = 7;
}

/// One call the timelock will make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Action {
    pub(crate) target: Address,
    pub(crate) calldata: Bytes,
}

impl Action {
    pub(crate) fn new(target: Address, call: impl SolCall) -> Self {
        Self {
            target,
            calldata: call.abi_encode().into(),
        }
    }
}

/// A proposal: actions plus a description (whose last line is the nonce).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proposal {
    pub(crate) targets: Vec<Address>,
    pub(crate) values: Vec<U256>,
    pub(crate) calldatas: Vec<Bytes>,
    pub(crate) description: String,
}

impl Proposal {
    pub(crate) fn new(title: &str, actions: Vec<Action>, nonce: &str) -> Self {
        let (targets, calldatas) = actions
            .into_iter()
            .map(|a| (a.target, a.calldata))
            .unzip::<_, _, Vec<_>, Vec<_>>();
        Self {
            values: vec![U256::ZERO; targets.len()],
            targets,
            calldatas,
            description: format!("{title}\n\nsankofa-nonce: {nonce}"),
        }
    }

    pub(crate) fn description_hash(&self) -> B256 {
        keccak256(self.description.as_bytes())
    }

    /// OpenZeppelin's `hashProposal`: keccak256(abi.encode(targets, values, calldatas, descHash)).
    pub(crate) fn id(&self) -> U256 {
        let encoded = (
            self.targets.clone(),
            self.values.clone(),
            self.calldatas.clone(),
            self.description_hash(),
        )
            .abi_encode_params();
        U256::from_be_bytes(keccak256(encoded).0)
    }

    /// The title: the description without the nonce line.
    pub(crate) fn title(&self) -> &str {
        self.description
            .split("\n\nsankofa-nonce:")
            .next()
            .unwrap_or(&self.description)
    }
}

/// Parses a proposal id given in decimal or 0x-hex.
pub(crate) fn parse_id(s: &str) -> anyhow::Result<U256> {
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => U256::from_str_radix(hex, 16),
        None => U256::from_str_radix(s, 10),
    };
    parsed.map_err(|_| anyhow::anyhow!("`{s}` is not a proposal id (decimal or 0x-hex)"))
}

/// A proposal id as typed: a full id (decimal or 0x-hex), or the shortened decimal form that
/// `proposals list` prints (`843294313121…`, also with `...`), resolved against the proposals
/// on chain when it names exactly one.
pub(crate) async fn resolve_id(chain: &Chain, dep: &Deployment, s: &str) -> anyhow::Result<U256> {
    let Some(prefix) = s.strip_suffix('…').or_else(|| s.strip_suffix("...")) else {
        return parse_id(s);
    };
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        bail!("`{s}` is not a proposal id (decimal or 0x-hex, or a decimal prefix ending in …)");
    }
    let matching: Vec<String> = all(chain, dep)
        .await?
        .into_iter()
        .map(|p| p.id)
        .filter(|id| id.starts_with(prefix))
        .collect();
    match matching.as_slice() {
        [one] => parse_id(one),
        [] => bail!("no proposal id starts with {prefix}; check it (`sankofa proposals list`)"),
        many => bail!(
            "{} proposals start with {prefix}; give more digits or the full id ({})",
            many.len(),
            many.join(", ")
        ),
    }
}

/// A proposal as found on chain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OnChain {
    /// Decimal, as the Governor emits it.
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) proposer: Address,
    pub(crate) state: &'static str,
    #[serde(skip)]
    pub(crate) state_code: u8,
    pub(crate) vote_start: u64,
    pub(crate) vote_end: u64,
    pub(crate) eta: u64,
    pub(crate) votes_for: String,
    pub(crate) votes_against: String,
    pub(crate) votes_abstain: String,
    pub(crate) targets: Vec<Address>,
    pub(crate) calldatas: Vec<Bytes>,
    pub(crate) created_block: u64,
    #[serde(skip)]
    pub(crate) proposal: Proposal,
}

fn governor<'a>(
    chain: &'a Chain,
    dep: &Deployment,
) -> anyhow::Result<IGovernor::SankofaGovernorInstance<&'a alloy::providers::DynProvider>> {
    Ok(IGovernor::new(
        dep.address("SankofaGovernor")?,
        &chain.provider,
    ))
}

/// The proposal's state, or `None` if the Governor does not know the id.
pub(crate) async fn state_of(
    chain: &Chain,
    dep: &Deployment,
    id: U256,
) -> anyhow::Result<Option<u8>> {
    let g = governor(chain, dep)?;
    let snapshot = g
        .proposalSnapshot(id)
        .call()
        .await
        .map_err(|e| chain.explain_call("proposalSnapshot", e))?;
    if snapshot.is_zero() {
        return Ok(None);
    }
    Ok(Some(
        g.state(id)
            .call()
            .await
            .map_err(|e| chain.explain_call("state", e))?,
    ))
}

/// Every `ProposalCreated` since the deployment, with current state and votes.
pub(crate) async fn all(chain: &Chain, dep: &Deployment) -> anyhow::Result<Vec<OnChain>> {
    let address = dep.address("SankofaGovernor")?;
    let head = chain.provider.get_block_number().await?;
    let filter = Filter::new()
        .address(address)
        .event_signature(IGovernor::ProposalCreated::SIGNATURE_HASH);
    let logs = chain.logs(filter, dep.deployment_block, head).await?;
    let g = governor(chain, dep)?;
    let mut out = Vec::new();
    for log in logs {
        let block = log.block_number.unwrap_or_default();
        let ev = log.log_decode::<IGovernor::ProposalCreated>()?.inner.data;
        let proposal = Proposal {
            targets: ev.targets.clone(),
            values: ev.values.clone(),
            calldatas: ev.calldatas.clone(),
            description: ev.description.clone(),
        };
        let id = ev.proposalId;
        let state_code = g
            .state(id)
            .call()
            .await
            .map_err(|e| chain.explain_call("state", e))?;
        let votes = g
            .proposalVotes(id)
            .call()
            .await
            .map_err(|e| chain.explain_call("proposalVotes", e))?;
        let eta = g
            .proposalEta(id)
            .call()
            .await
            .map_err(|e| chain.explain_call("proposalEta", e))?;
        out.push(OnChain {
            id: id.to_string(),
            title: proposal.title().to_string(),
            description: ev.description,
            proposer: ev.proposer,
            state: proposal_state_name(state_code),
            state_code,
            vote_start: ev.voteStart.saturating_to(),
            vote_end: ev.voteEnd.saturating_to(),
            eta: eta.saturating_to(),
            votes_for: votes.forVotes.to_string(),
            votes_against: votes.againstVotes.to_string(),
            votes_abstain: votes.abstainVotes.to_string(),
            targets: ev.targets,
            calldatas: ev.calldatas,
            created_block: block,
            proposal,
        });
    }
    Ok(out)
}

/// One proposal by id, with an error that says what to do if it is unknown.
pub(crate) async fn find(chain: &Chain, dep: &Deployment, id: U256) -> anyhow::Result<OnChain> {
    all(chain, dep)
        .await?
        .into_iter()
        .find(|p| p.id == id.to_string())
        .with_context(|| format!("proposal {id} does not exist on this governor; check the id (`sankofa proposals list`)"))
}

/// What `propose` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Proposed {
    pub(crate) proposal_id: String,
    pub(crate) proposal_id_hex: String,
    pub(crate) state: &'static str,
    /// False when the proposal already existed (a retried propose).
    pub(crate) created: bool,
    pub(crate) tx: Option<B256>,
    pub(crate) title: String,
}

/// Sends `propose` unless the proposal already exists; either way returns its id and state.
pub(crate) async fn propose_or_resume(
    chain: &Chain,
    dep: &Deployment,
    p: &Proposal,
) -> anyhow::Result<Proposed> {
    let id = p.id();
    let g = governor(chain, dep)?;
    // The local id must equal the Governor's, or resuming would look for the wrong proposal.
    let remote = g
        .hashProposal(
            p.targets.clone(),
            p.values.clone(),
            p.calldatas.clone(),
            p.description_hash(),
        )
        .call()
        .await
        .map_err(|e| chain.explain_call("hashProposal", e))?;
    if remote != id {
        bail!("invariant: the governor's hashProposal {remote} differs from the local id {id}");
    }
    let (created, tx) = match state_of(chain, dep, id).await? {
        Some(s) if matches!(s, state::CANCELED | state::DEFEATED | state::EXPIRED) => bail!(
            "this exact proposal already exists and is {} (id {id}); to propose it again pass a new --nonce",
            proposal_state_name(s)
        ),
        Some(_) => (false, None),
        None => {
            check_proposer(chain, dep, &g, p).await?;
            let call = g.propose(
                p.targets.clone(),
                p.values.clone(),
                p.calldatas.clone(),
                p.description.clone(),
            );
            let receipt = chain
                .send(call.into_transaction_request(), "propose")
                .await?;
            (true, Some(receipt.transaction_hash))
        }
    };
    let s = state_of(chain, dep, id)
        .await?
        .context("the proposal is not on chain after propose")?;
    Ok(Proposed {
        proposal_id: id.to_string(),
        proposal_id_hex: format!("{id:#x}"),
        state: proposal_state_name(s),
        created,
        tx,
        title: p.title().to_string(),
    })
}

/// The Governor counts the proposer's votes at `clock() - 1` of the block that includes the
/// propose. Checked here to say so plainly instead of a bare threshold revert.
///
/// Votes checkpointed in the latest second do not count yet: anvil's automine puts the next
/// block in the same second as the one that seated the member (`deploy`, then `propose` at
/// once), so a propose sent now would revert. Fresh power is waited out by simulating the
/// propose until the chain's clock has passed the checkpoint (Besu's blocks always advance the
/// clock, so there it passes at once).
async fn check_proposer(
    chain: &Chain,
    dep: &Deployment,
    g: &IGovernor::SankofaGovernorInstance<&alloy::providers::DynProvider>,
    p: &Proposal,
) -> anyhow::Result<()> {
    /// Longer than any block period a Sankofa chain runs with.
    const FRESH_POWER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
    let proposer = chain.sender()?;
    let council = ICouncil::new(dep.address("Council")?, &chain.provider);
    let votes = council
        .getVotes(proposer)
        .call()
        .await
        .map_err(|e| chain.explain_call("Council.getVotes", e))?;
    let threshold = g
        .proposalThreshold()
        .call()
        .await
        .map_err(|e| chain.explain_call("proposalThreshold", e))?;
    if votes < threshold {
        bail!(
            "{proposer} cannot propose: it has {votes} vote(s) and proposing needs {threshold}; \
             sign with a council member's key (`sankofa council list`)"
        );
    }
    let started = std::time::Instant::now();
    loop {
        let simulated = g
            .propose(
                p.targets.clone(),
                p.values.clone(),
                p.calldatas.clone(),
                p.description.clone(),
            )
            .from(proposer)
            // The block the propose would go into, with its clock (not the latest block's).
            .block(alloy::eips::BlockId::pending())
            .call()
            .await;
        let too_fresh = simulated.as_ref().err().is_some_and(|e| {
            e.as_decoded_error::<IGovernor::GovernorInsufficientProposerVotes>()
                .is_some()
        });
        // Any other outcome is the send's to report (it decodes reverts by name).
        if !too_fresh {
            return Ok(());
        }
        if started.elapsed() > FRESH_POWER_WAIT {
            bail!(
                "{proposer} has {votes} vote(s) now, but the chain's clock has not moved past the \
                 block that gave them for {}s (the Governor counts votes at clock() - 1); check \
                 that the chain is producing blocks, then retry",
                FRESH_POWER_WAIT.as_secs()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// The least time from a propose to its execution: voting delay + voting period + the
/// timelock's minimum delay, in seconds, as the contracts hold them now.
pub(crate) async fn least_time_to_execute(chain: &Chain, dep: &Deployment) -> anyhow::Result<u64> {
    let g = governor(chain, dep)?;
    let delay = g
        .votingDelay()
        .call()
        .await
        .map_err(|e| chain.explain_call("votingDelay", e))?;
    let period = g
        .votingPeriod()
        .call()
        .await
        .map_err(|e| chain.explain_call("votingPeriod", e))?;
    let timelock =
        crate::contracts::ITimelock::new(dep.address("TimelockController")?, &chain.provider);
    let min_delay = timelock
        .getMinDelay()
        .call()
        .await
        .map_err(|e| chain.explain_call("getMinDelay", e))?;
    let seconds = delay
        .saturating_add(U256::from(period))
        .saturating_add(min_delay);
    Ok(u64::try_from(seconds).unwrap_or(u64::MAX))
}

/// Seconds the chain clock must move so that `target` (a timestamp) is strictly in the past.
pub(crate) async fn seconds_until(chain: &Chain, target: u64) -> anyhow::Result<u64> {
    let now = chain.now().await?;
    Ok((target + 1).saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use alloy::primitives::address;

    use super::*;
    use crate::contracts::IRollout;

    fn phase(n: u8, nonce: &str) -> Proposal {
        let rollout = address!("5FC8d32690cc91D4c39d9d3abcBD16989F875707");
        Proposal::new(
            &format!("Approve phase {n}"),
            vec![Action::new(
                rollout,
                IRollout::approvePhaseCall { phase: n },
            )],
            nonce,
        )
    }

    #[test]
    fn the_id_is_stable_for_a_retry_and_changes_with_the_nonce() {
        assert_eq!(phase(1, "1").id(), phase(1, "1").id());
        assert_ne!(phase(1, "1").id(), phase(1, "2").id());
        assert_ne!(phase(1, "1").id(), phase(2, "1").id());
        assert_eq!(phase(1, "7").title(), "Approve phase 1");
        assert!(phase(1, "7").description.ends_with("sankofa-nonce: 7"));
    }

    #[test]
    fn ids_parse_in_decimal_and_hex() {
        assert_eq!(parse_id("255").expect("dec"), U256::from(255));
        assert_eq!(parse_id("0xff").expect("hex"), U256::from(255));
        let err = parse_id("0xzz").expect_err("bad");
        assert!(err.to_string().contains("0xzz"));
    }
}
