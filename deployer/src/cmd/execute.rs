//! `sankofa execute ID`: run a queued proposal once the timelock delay has passed.

use anyhow::bail;

use crate::{
    config::{ChainArgs, SignerArgs},
    contracts::{IGovernor, proposal_state_name},
    deployment::Ctx,
    governance::{find, resolve_id, state},
    output,
};

/// Execute a queued proposal.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The proposal id (decimal or 0x-hex).
    proposal: String,
    /// On anvil only: move the clock past the timelock delay first.
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
        let p = find(chain, dep, id).await?;
        let tx = match p.state_code {
            state::QUEUED => {
                let now = chain.now().await?;
                if now < p.eta {
                    let wait = p.eta - now;
                    if !self.advance_time {
                        bail!(
                            "proposal {id} is queued; the timelock releases it in {wait} s (at {})",
                            p.eta
                        );
                    }
                    chain.advance_time(wait).await?;
                }
                let g = IGovernor::new(dep.address("SankofaGovernor")?, &chain.provider);
                let q = &p.proposal;
                let call = g.execute(
                    q.targets.clone(),
                    q.values.clone(),
                    q.calldatas.clone(),
                    q.description_hash(),
                );
                Some(
                    chain
                        .send(call.into_transaction_request(), "execute")
                        .await?
                        .transaction_hash,
                )
            }
            state::EXECUTED => None, // a retried execute
            other => bail!(
                "proposal {id} is {}; only a Queued proposal can be executed (run `sankofa queue` first)",
                proposal_state_name(other)
            ),
        };
        if self.json {
            return output::json(
                &serde_json::json!({ "proposalId": p.id, "state": "Executed", "tx": tx }),
            );
        }
        match tx {
            Some(tx) => println!("executed proposal {} ({}) in {tx}", p.id, p.title),
            None => println!("proposal {} was already executed", p.id),
        }
        Ok(())
    }
}
