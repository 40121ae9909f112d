//! `sankofa status`: the rollout at a glance — phase criteria against current counts, sites by
//! tier and status, waves in flight, failing sites, validators.

use alloy::primitives::{Address, B256};
use serde::Serialize;

use crate::{
    config::ChainArgs,
    contracts::{IRollout, ISiteRegistry, IValidatorSet, site_status_name},
    deployment::Ctx,
    inventory::{Tier, site_name},
    output, registry,
};

/// The status values the registry counts (1 Planned ..= 7 Decommissioned).
const STATUSES: std::ops::RangeInclusive<u8> = 1..=7;
const OPERATIONAL: u8 = 4;
const DEGRADED: u8 = 5;
const ROLLED_BACK: u8 = 6;

/// Show the rollout at a glance.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) chain: ChainArgs,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Status {
    pub(crate) chain_id: u64,
    pub(crate) block: u64,
    pub(crate) timestamp: u64,
    pub(crate) current_phase: u8,
    pub(crate) paused: bool,
    pub(crate) phases: Vec<PhaseStatus>,
    /// tier -> status -> count
    pub(crate) sites: Vec<TierCounts>,
    pub(crate) waves_in_flight: Vec<WaveStatus>,
    pub(crate) failing: Vec<Failing>,
    pub(crate) validators: Vec<Validator>,
    /// Proposals not yet executed, defeated, cancelled or expired.
    pub(crate) open_proposals: Vec<OpenProposal>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OpenProposal {
    pub(crate) id: String,
    pub(crate) state: &'static str,
    pub(crate) title: String,
    pub(crate) vote_end: u64,
    pub(crate) eta: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhaseStatus {
    pub(crate) phase: u8,
    pub(crate) approved: bool,
    pub(crate) criteria: Vec<Criterion>,
    pub(crate) met: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Criterion {
    pub(crate) what: &'static str,
    pub(crate) need: u64,
    pub(crate) have: u64,
    pub(crate) met: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct TierCounts {
    pub(crate) tier: &'static str,
    pub(crate) counts: std::collections::BTreeMap<&'static str, u64>,
    pub(crate) total: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WaveStatus {
    pub(crate) wave_id: u32,
    pub(crate) phase: u8,
    pub(crate) plan_hash: B256,
    pub(crate) not_before: u64,
    pub(crate) expiry: u64,
    pub(crate) max_concurrent: u16,
    pub(crate) step_count: u16,
    pub(crate) deploying: u16,
}

#[derive(Debug, Serialize)]
pub(crate) struct Failing {
    pub(crate) site: String,
    pub(crate) tier: String,
    pub(crate) status: &'static str,
    pub(crate) wave: u32,
}

#[derive(Debug, Serialize)]
pub(crate) struct Validator {
    pub(crate) address: Address,
    pub(crate) site: String,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<()> {
        let ctx = Ctx::open(&self.chain, None).await?;
        let status = collect(&ctx).await?;
        if self.json {
            return output::json(&status);
        }
        print_human(&status);
        Ok(())
    }
}

pub(crate) async fn collect(ctx: &Ctx) -> anyhow::Result<Status> {
    let (chain, dep) = (&ctx.chain, &ctx.deployment);
    let p = &chain.provider;
    let e = |what: &'static str| move |err| chain.explain_call(what, err);
    let rollout = IRollout::new(dep.address("Rollout")?, p);
    let reg = ISiteRegistry::new(dep.address("SiteRegistry")?, p);
    let vset = IValidatorSet::new(dep.address("ValidatorSet")?, p);
    let block = alloy::providers::Provider::get_block_number(p).await?;
    let timestamp = chain.now().await?;

    let current_phase = rollout
        .currentPhase()
        .call()
        .await
        .map_err(e("currentPhase"))?;
    let paused = rollout.paused().call().await.map_err(e("paused"))?;
    let mut sites = Vec::new();
    let mut operational = [0u64; 4];
    for tier in Tier::ALL {
        let mut counts = std::collections::BTreeMap::new();
        let mut total = 0;
        for status in STATUSES {
            let n: u64 = reg
                .count(tier as u8, status)
                .call()
                .await
                .map_err(e("count"))?
                .saturating_to();
            if status == OPERATIONAL {
                operational[tier as usize] = n;
            }
            total += n;
            counts.insert(site_status_name(status), n);
        }
        sites.push(TierCounts {
            tier: tier.name(),
            counts,
            total,
        });
    }
    let validator_count: u64 = vset
        .validatorCount()
        .call()
        .await
        .map_err(e("validatorCount"))?
        .saturating_to();

    let mut phases = Vec::new();
    for phase in 1..=3u8 {
        let c = rollout
            .criteria(phase)
            .call()
            .await
            .map_err(e("criteria"))?;
        let criteria: Vec<Criterion> = [
            (
                "core operational",
                c.minCore,
                operational[Tier::Core as usize],
            ),
            (
                "regional operational",
                c.minRegional,
                operational[Tier::Regional as usize],
            ),
            (
                "edge operational",
                c.minEdge,
                operational[Tier::Edge as usize],
            ),
            ("validators", c.minValidators, validator_count),
        ]
        .into_iter()
        .map(|(what, need, have)| Criterion {
            what,
            need: u64::from(need),
            have,
            met: have >= u64::from(need),
        })
        .collect();
        let met = rollout
            .criteriaMet(phase)
            .call()
            .await
            .map_err(e("criteriaMet"))?;
        phases.push(PhaseStatus {
            phase,
            approved: phase <= current_phase,
            criteria,
            met,
        });
    }

    let wave_count = rollout.waveCount().call().await.map_err(e("waveCount"))?;
    let mut waves_in_flight = Vec::new();
    for wave_id in 1..=wave_count {
        let w = rollout.wave(wave_id).call().await.map_err(e("wave"))?;
        if !w.cancelled && timestamp < w.expiry {
            waves_in_flight.push(WaveStatus {
                wave_id,
                phase: w.phase,
                plan_hash: w.planHash,
                not_before: w.notBefore,
                expiry: w.expiry,
                max_concurrent: w.maxConcurrent,
                step_count: w.stepCount,
                deploying: w.deploying,
            });
        }
    }

    let failing_count: u64 = sites
        .iter()
        .map(|t| t.counts["degraded"] + t.counts["rolled-back"])
        .sum();
    let mut failing = Vec::new();
    if failing_count > 0 {
        for s in registry::list(chain, dep).await? {
            if s.status == site_status_name(DEGRADED) || s.status == site_status_name(ROLLED_BACK) {
                let id = crate::inventory::site_id(&s.site).unwrap_or_default();
                let d = rollout
                    .deployment(id)
                    .call()
                    .await
                    .map_err(e("deployment"))?;
                failing.push(Failing {
                    site: s.site,
                    tier: s.tier,
                    status: s.status,
                    wave: d.waveId,
                });
            }
        }
    }

    let open_proposals = crate::governance::all(chain, dep)
        .await?
        .into_iter()
        .filter(|p| {
            use crate::governance::state::*;
            matches!(p.state_code, PENDING | ACTIVE | SUCCEEDED | QUEUED)
        })
        .map(|p| OpenProposal {
            id: p.id,
            state: p.state,
            title: p.title,
            vote_end: p.vote_end,
            eta: p.eta,
        })
        .collect();
    let mut validators = Vec::new();
    for v in vset
        .getValidators()
        .call()
        .await
        .map_err(e("getValidators"))?
    {
        let site = vset.siteOf(v).call().await.map_err(e("siteOf"))?;
        validators.push(Validator {
            address: v,
            site: site_name(&site),
        });
    }
    Ok(Status {
        chain_id: chain.chain_id,
        block,
        timestamp,
        current_phase,
        paused,
        phases,
        sites,
        waves_in_flight,
        failing,
        validators,
        open_proposals,
    })
}

fn print_human(s: &Status) {
    println!(
        "chain {} at block {}; current phase {}{}",
        s.chain_id,
        s.block,
        s.current_phase,
        if s.paused { " (PAUSED)" } else { "" }
    );
    println!();
    let mut t = output::Table::new(["phase", "approved", "criterion", "have", "need", "met"]);
    for p in &s.phases {
        for (i, c) in p.criteria.iter().enumerate() {
            t.row([
                if i == 0 {
                    p.phase.to_string()
                } else {
                    String::new()
                },
                if i == 0 {
                    yes(p.approved).into()
                } else {
                    String::new()
                },
                c.what.to_string(),
                c.have.to_string(),
                c.need.to_string(),
                (if c.met { "met" } else { "not met" }).to_string(),
            ]);
        }
    }
    t.print();
    println!();
    let mut header = vec!["tier".to_string()];
    header.extend(STATUSES.map(|st| site_status_name(st).to_string()));
    header.push("total".into());
    let mut t = output::Table::new(header);
    for tier in &s.sites {
        let mut row = vec![tier.tier.to_string()];
        row.extend(STATUSES.map(|st| tier.counts[site_status_name(st)].to_string()));
        row.push(tier.total.to_string());
        t.row(row);
    }
    t.print();
    println!();
    if s.waves_in_flight.is_empty() {
        println!("no waves in flight");
    } else {
        let mut t = output::Table::new([
            "wave",
            "phase",
            "deploying",
            "max",
            "steps",
            "window",
            "plan",
        ]);
        for w in &s.waves_in_flight {
            t.row([
                w.wave_id.to_string(),
                w.phase.to_string(),
                w.deploying.to_string(),
                w.max_concurrent.to_string(),
                w.step_count.to_string(),
                format!("{}..{}", w.not_before, w.expiry),
                w.plan_hash.to_string(),
            ]);
        }
        t.print();
    }
    println!();
    if s.failing.is_empty() {
        println!("no failing sites");
    } else {
        let mut t = output::Table::new(["failing site", "tier", "status", "wave"]);
        for f in &s.failing {
            t.row([
                f.site.clone(),
                f.tier.clone(),
                f.status.to_string(),
                f.wave.to_string(),
            ]);
        }
        t.print();
    }
    println!();
    let mut t = output::Table::new(["validator", "site"]);
    for v in &s.validators {
        t.row([v.address.to_checksum(None), v.site.clone()]);
    }
    t.print();
    println!();
    if s.open_proposals.is_empty() {
        println!("no open proposals");
    } else {
        let mut t = output::Table::new(["proposal", "state", "title"]);
        for p in &s.open_proposals {
            t.row([p.id.clone(), p.state.to_string(), p.title.clone()]);
        }
        t.print();
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
