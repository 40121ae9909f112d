//! `sankofa validators list|propose-add|propose-remove`.

use alloy::primitives::Address;
use anyhow::{Context, bail};
use serde::Serialize;

use crate::{
    cmd::propose::ProposeOpts,
    config::ChainArgs,
    contracts::IValidatorSet,
    deployment::Ctx,
    governance::Action,
    inventory::{Tier, site_id, site_name},
    output, registry,
};

/// The QBFT validator set.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The current validators and their core sites.
    List {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        json: bool,
    },
    /// Propose adding a validator that runs at a core site.
    ProposeAdd {
        validator: Address,
        /// The core site it runs at.
        #[arg(long)]
        site: String,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Propose removing a validator.
    ProposeRemove {
        validator: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
}

#[derive(Debug, Serialize)]
struct Row {
    validator: Address,
    site: String,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(async move {
            match self.command {
                Command::List { chain, json } => {
                    let ctx = Ctx::open(&chain, None).await?;
                    let rows = list(&ctx).await?;
                    if json {
                        return output::json(&rows);
                    }
                    let mut t = output::Table::new(["validator", "site"]);
                    for r in &rows {
                        t.row([r.validator.to_checksum(None), r.site.clone()]);
                    }
                    t.print();
                    Ok(())
                }
                Command::ProposeAdd {
                    validator,
                    site,
                    opts,
                } => {
                    let id =
                        site_id(&site).with_context(|| format!("`{site}` is not a site name"))?;
                    let ctx = opts.open().await?;
                    let state =
                        registry::states(&ctx.chain, &ctx.deployment, &[id], None).await?[0];
                    if state.tier != Tier::Core as u8 {
                        bail!("{site} is not a registered core site; validators run at core sites");
                    }
                    if list(&ctx).await?.iter().any(|r| r.validator == validator) {
                        bail!("{validator} is already a validator");
                    }
                    let vset = ctx.deployment.address("ValidatorSet")?;
                    let call = IValidatorSet::addValidatorCall {
                        validator,
                        coreSite: id,
                    };
                    opts.submit(
                        &ctx,
                        &format!("Add validator {validator} at {site}"),
                        vec![Action::new(vset, call)],
                    )
                    .await
                }
                Command::ProposeRemove { validator, opts } => {
                    let ctx = opts.open().await?;
                    let rows = list(&ctx).await?;
                    if !rows.iter().any(|r| r.validator == validator) {
                        bail!("{validator} is not a validator");
                    }
                    if rows.len() == 1 {
                        bail!("{validator} is the last validator; add another before removing it");
                    }
                    let vset = ctx.deployment.address("ValidatorSet")?;
                    let call = IValidatorSet::removeValidatorCall { validator };
                    opts.submit(
                        &ctx,
                        &format!("Remove validator {validator}"),
                        vec![Action::new(vset, call)],
                    )
                    .await
                }
            }
        })
    }
}

async fn list(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    let chain = &ctx.chain;
    let vset = IValidatorSet::new(ctx.deployment.address("ValidatorSet")?, &chain.provider);
    let validators = vset
        .getValidators()
        .call()
        .await
        .map_err(|e| chain.explain_call("getValidators", e))?;
    let mut rows = Vec::new();
    for v in validators {
        let site = vset
            .siteOf(v)
            .call()
            .await
            .map_err(|e| chain.explain_call("siteOf", e))?;
        rows.push(Row {
            validator: v,
            site: site_name(&site),
        });
    }
    Ok(rows)
}
