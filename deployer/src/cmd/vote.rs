//! `sankofa vote ID`: cast votes, from one or several council members' keys in one go.

use anyhow::bail;
use serde::Serialize;

use crate::{
    config::{ChainArgs, SignerArgs},
    contracts::{IGovernor, proposal_state_name},
    deployment::Ctx,
    governance::{resolve_id, state, state_of},
    output,
};

/// Vote on a proposal (every given signer votes; those who already voted are skipped).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The proposal id (decimal or 0x-hex), as printed by `propose`.
    proposal: String,
    /// for, against or abstain.
    #[arg(long, default_value = "for")]
    support: String,
    /// On anvil only: move the clock past the voting delay if voting has not started.
    #[arg(long)]
    advance_time: bool,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    signer: SignerArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Cast {
    voter: alloy::primitives::Address,
    /// "voted" or "already-voted".
    outcome: &'static str,
    tx: Option<alloy::primitives::B256>,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<()> {
        let support: u8 = match self.support.as_str() {
            "against" => 0,
            "for" => 1,
            "abstain" => 2,
            other => bail!("--support {other}: expected for, against or abstain"),
        };
        let settings = self.chain.resolve(Some(&self.signer))?;
        let keys = crate::signer::open_all(&settings).await?;
        if keys.is_empty() {
            bail!(
                "vote needs at least one signer: --keystore FILE (repeatable) --password-file FILE, or --private-key-file"
            );
        }
        let ctx = Ctx::open(&self.chain, None).await?;
        let (chain, dep) = (&ctx.chain, &ctx.deployment);
        let id = resolve_id(chain, dep, &self.proposal).await?;
        let governor = dep.address("SankofaGovernor")?;
        let g = IGovernor::new(governor, &chain.provider);
        let mut s = state_of(chain, dep, id).await?.ok_or_else(|| {
            anyhow::anyhow!("proposal {id} does not exist; check the id (`sankofa proposals list`)")
        })?;
        if s == state::PENDING {
            let snapshot: u64 = g
                .proposalSnapshot(id)
                .call()
                .await
                .map_err(|e| chain.explain_call("proposalSnapshot", e))?
                .saturating_to();
            let wait = crate::governance::seconds_until(chain, snapshot).await?;
            if !self.advance_time {
                bail!(
                    "voting on proposal {id} has not started; it opens in {wait} s (at {snapshot})"
                );
            }
            chain.advance_time(wait).await?;
            s = state_of(chain, dep, id).await?.unwrap_or(s);
        }
        if s != state::ACTIVE {
            bail!(
                "proposal {id} is {}; votes are only accepted while it is Active",
                proposal_state_name(s)
            );
        }
        // Zero-weight votes are accepted by the Governor but count for nothing: refuse them
        // (before any vote is sent) so a wrong key does not look like a vote.
        let snapshot = g
            .proposalSnapshot(id)
            .call()
            .await
            .map_err(|e| chain.explain_call("proposalSnapshot", e))?;
        for key in &keys {
            let weight = g
                .getVotes(key.address, snapshot)
                .call()
                .await
                .map_err(|e| chain.explain_call("getVotes", e))?;
            if weight.is_zero() {
                bail!(
                    "{} had no vote when proposal {id} was made (not a council member then); nothing was sent",
                    key.address
                );
            }
        }
        let mut casts = Vec::new();
        let mut pending = Vec::new();
        for key in keys {
            let voter = key.address;
            // Settled first: a vote an earlier run left in the pool must count as cast.
            let signer_chain = chain.with_signer(key)?;
            signer_chain.settle_pending().await?;
            if g.hasVoted(id, voter)
                .call()
                .await
                .map_err(|e| chain.explain_call("hasVoted", e))?
            {
                // A Governor vote is final: a re-run with another --support changes nothing.
                eprintln!(
                    "note: {voter} has already voted on this proposal; a cast vote cannot be \
                     changed, so its first choice stands"
                );
                casts.push(Cast {
                    voter,
                    outcome: "already-voted",
                    tx: None,
                });
                continue;
            }
            // Each voter has its own account and nonce: send all, then wait once.
            let tx = IGovernor::new(governor, &signer_chain.provider)
                .castVote(id, support)
                .into_transaction_request();
            let submitted = signer_chain.submit(tx, &format!("vote by {voter}")).await?;
            pending.push((voter, signer_chain, submitted));
        }
        for (voter, signer_chain, submitted) in pending {
            let receipt = signer_chain.confirm(submitted).await?;
            casts.push(Cast {
                voter,
                outcome: "voted",
                tx: Some(receipt.transaction_hash),
            });
        }
        let votes = g
            .proposalVotes(id)
            .call()
            .await
            .map_err(|e| chain.explain_call("proposalVotes", e))?;
        if self.json {
            return output::json(&serde_json::json!({
                "proposalId": id.to_string(),
                "casts": casts,
                "for": votes.forVotes.to_string(),
                "against": votes.againstVotes.to_string(),
                "abstain": votes.abstainVotes.to_string(),
            }));
        }
        for c in &casts {
            println!("{} {}", c.voter, c.outcome);
        }
        println!(
            "tally: for {} against {} abstain {}",
            votes.forVotes, votes.againstVotes, votes.abstainVotes
        );
        Ok(())
    }
}
