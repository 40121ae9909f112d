//! `sankofa queue ID`: put a succeeded proposal into the timelock.

use anyhow::bail;

use crate::{
    config::{ChainArgs, SignerArgs},
    contracts::{IGovernor, proposal_state_name},
    deployment::Ctx,
    governance::{find, resolve_id, seconds_until, state},
    output,
};

/// Queue a succeeded proposal in the timelock.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The proposal id (decimal or 0x-hex).
    proposal: String,
    /// On anvil only: move the clock past the end of the voting period first.
    #[arg(long)]
    advance_time: bool,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    signer: SignerArgs,
    #[arg(long)]
    json: bool,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<()> {
        let ctx = Ctx::open(&self.chain, Some(&self.signer)).await?;
        let (chain, dep) = (&ctx.chain, &ctx.deployment);
        let id = resolve_id(chain, dep, &self.proposal).await?;
        let mut p = find(chain, dep, id).await?;
        if matches!(p.state_code, state::PENDING | state::ACTIVE) {
            let wait = seconds_until(chain, p.vote_end).await?;
            if !self.advance_time {
                bail!(
                    "proposal {id} is still {}; voting ends in {wait} s (at {})",
                    p.state,
                    p.vote_end
                );
            }
            chain.advance_time(wait).await?;
            p = find(chain, dep, id).await?;
        }
        let tx = match p.state_code {
            state::SUCCEEDED => {
                let g = IGovernor::new(dep.address("SankofaGovernor")?, &chain.provider);
                let q = &p.proposal;
                let call = g.queue(
                    q.targets.clone(),
                    q.values.clone(),
                    q.calldatas.clone(),
                    q.description_hash(),
                );
                Some(
                    chain
                        .send(call.into_transaction_request(), "queue")
                        .await?
                        .transaction_hash,
                )
            }
            // A retried queue: already done.
            state::QUEUED | state::EXECUTED => None,
            other => bail!(
                "proposal {id} is {}; only a Succeeded proposal can be queued",
                proposal_state_name(other)
            ),
        };
        let p = find(chain, dep, id).await?;
        if self.json {
            return output::json(&serde_json::json!({
                "proposalId": p.id, "state": p.state, "eta": p.eta, "tx": tx,
            }));
        }
        println!(
            "proposal {} is {}; executable from {}",
            p.id, p.state, p.eta
        );
        Ok(())
    }
}
