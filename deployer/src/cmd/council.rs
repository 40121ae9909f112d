//! `sankofa council list|propose-add|propose-remove`.

use alloy::primitives::Address;
use anyhow::bail;

use crate::{
    cmd::propose::ProposeOpts, config::ChainArgs, contracts::ICouncil, deployment::Ctx,
    governance::Action, output,
};

/// The council (one member, one vote).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The members.
    List {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        json: bool,
    },
    /// Propose adding members (one proposal for all of them).
    ProposeAdd {
        #[arg(required = true)]
        members: Vec<Address>,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Propose removing members.
    ProposeRemove {
        #[arg(required = true)]
        members: Vec<Address>,
        #[command(flatten)]
        opts: ProposeOpts,
    },
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(async move {
            match self.command {
                Command::List { chain, json } => {
                    let ctx = Ctx::open(&chain, None).await?;
                    let members = members(&ctx).await?;
                    if json {
                        return output::json(&members);
                    }
                    for m in &members {
                        println!("{m}");
                    }
                    println!("{} member(s)", members.len());
                    Ok(())
                }
                Command::ProposeAdd { members: new, opts } => {
                    let ctx = opts.open().await?;
                    let current = members(&ctx).await?;
                    if let Some(m) = new.iter().find(|m| current.contains(m)) {
                        bail!("{m} is already a council member");
                    }
                    let council = ctx.deployment.address("Council")?;
                    let actions = new
                        .iter()
                        .map(|&member| Action::new(council, ICouncil::addMemberCall { member }))
                        .collect();
                    let title = format!("Add council member(s) {}", join(&new));
                    opts.submit(&ctx, &title, actions).await
                }
                Command::ProposeRemove {
                    members: gone,
                    opts,
                } => {
                    let ctx = opts.open().await?;
                    let current = members(&ctx).await?;
                    if let Some(m) = gone.iter().find(|m| !current.contains(m)) {
                        bail!("{m} is not a council member");
                    }
                    let council = ctx.deployment.address("Council")?;
                    let actions = gone
                        .iter()
                        .map(|&member| Action::new(council, ICouncil::removeMemberCall { member }))
                        .collect();
                    let title = format!("Remove council member(s) {}", join(&gone));
                    opts.submit(&ctx, &title, actions).await
                }
            }
        })
    }
}

fn join(list: &[Address]) -> String {
    list.iter()
        .map(|a| a.to_checksum(None))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn members(ctx: &Ctx) -> anyhow::Result<Vec<Address>> {
    let council = ICouncil::new(ctx.deployment.address("Council")?, &ctx.chain.provider);
    council
        .members()
        .call()
        .await
        .map_err(|e| ctx.chain.explain_call("Council.members", e))
}
