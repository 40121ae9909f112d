//! `sankofa proposals list|show`: the Governor's proposals with state and tally.

use crate::{
    config::ChainArgs,
    deployment::Ctx,
    governance::{all, find, resolve_id},
    output,
};

/// Inspect proposals.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Every proposal since the deployment.
    List {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        json: bool,
    },
    /// One proposal with its actions.
    Show {
        /// The proposal id (decimal or 0x-hex).
        proposal: String,
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        json: bool,
    },
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(async move {
            match self.command {
                Command::List { chain, json } => {
                    let ctx = Ctx::open(&chain, None).await?;
                    let list = all(&ctx.chain, &ctx.deployment).await?;
                    if json {
                        return output::json(&list);
                    }
                    let mut t =
                        output::Table::new(["id", "state", "for", "against", "abstain", "title"]);
                    for p in &list {
                        let short = if p.id.len() > 12 {
                            format!("{}…", &p.id[..12])
                        } else {
                            p.id.clone()
                        };
                        t.row([
                            short,
                            p.state.to_string(),
                            p.votes_for.clone(),
                            p.votes_against.clone(),
                            p.votes_abstain.clone(),
                            p.title.clone(),
                        ]);
                    }
                    t.print();
                    Ok(())
                }
                Command::Show {
                    proposal,
                    chain,
                    json,
                } => {
                    let ctx = Ctx::open(&chain, None).await?;
                    let id = resolve_id(&ctx.chain, &ctx.deployment, &proposal).await?;
                    let p = find(&ctx.chain, &ctx.deployment, id).await?;
                    if json {
                        return output::json(&p);
                    }
                    println!("id:        {}", p.id);
                    println!("title:     {}", p.title);
                    println!("state:     {}", p.state);
                    println!("proposer:  {}", p.proposer);
                    println!("voting:    {} .. {}", p.vote_start, p.vote_end);
                    println!("eta:       {}", p.eta);
                    println!(
                        "tally:     for {} against {} abstain {}",
                        p.votes_for, p.votes_against, p.votes_abstain
                    );
                    for (i, (target, data)) in p.targets.iter().zip(&p.calldatas).enumerate() {
                        let selector = data
                            .get(..4)
                            .map(alloy::hex::encode_prefixed)
                            .unwrap_or_default();
                        println!(
                            "action {i}: {target} selector {selector} ({} bytes)",
                            data.len()
                        );
                    }
                    Ok(())
                }
            }
        })
    }
}
