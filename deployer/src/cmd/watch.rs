//! `sankofa watch`: the rollout live — a progress bar per tier (operational out of the sites in
//! flight), failing sites named as they appear — until a condition holds on chain.

use std::time::{Duration, Instant};

use anyhow::bail;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    cmd::status::{Status, collect},
    config::ChainArgs,
    deployment::Ctx,
    output,
};

/// Follow the rollout until a condition holds (or a timeout passes).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    chain: ChainArgs,
    /// Stop when this phase's success criteria hold on chain.
    #[arg(long, value_name = "PHASE", conflicts_with = "until_settled")]
    until_criteria: Option<u8>,
    /// Stop when no site is Approved or Deploying any more (every site in flight has an outcome).
    #[arg(long)]
    until_settled: bool,
    /// Give up (exit 1) after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Seconds between polls.
    #[arg(long, default_value_t = 1.0)]
    interval: f64,
    /// Print the final status as JSON (no progress bars).
    #[arg(long)]
    json: bool,
}

/// Statuses of a site that has left `planned`: the bar's length.
const IN_FLIGHT: [&str; 5] = [
    "approved",
    "deploying",
    "operational",
    "degraded",
    "rolled-back",
];

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<()> {
        if self.until_criteria.is_none() && !self.until_settled {
            bail!("say when to stop: --until-criteria PHASE or --until-settled");
        }
        if let Some(phase) = self.until_criteria
            && !(1..=3).contains(&phase)
        {
            bail!("--until-criteria {phase}: phases are 1, 2 and 3");
        }
        let ctx = Ctx::open(&self.chain, None).await?;
        // One line up front: what is watched, and until when (also tells a script it is running).
        eprintln!(
            "watching until {} (timeout {}s)",
            self.condition(),
            self.timeout
        );
        let bars = Bars::new(self.json);
        let started = Instant::now();
        let mut reported_failures = std::collections::BTreeSet::new();
        let timeout = Duration::from_secs(self.timeout);
        let interval = Duration::from_secs_f64(self.interval.max(0.1));
        // Since when the chain could not be read.
        let mut outage: Option<Instant> = None;
        loop {
            let status = match collect(&ctx).await {
                Ok(status) => {
                    if let Some(since) = outage.take() {
                        bars.warn(format!(
                            "  the RPC answers again (after {:.0}s)",
                            since.elapsed().as_secs_f64()
                        ));
                    }
                    status
                }
                // A restarted node or a dropped connection says nothing about the rollout:
                // keep polling until the timeout, and say so once per outage.
                Err(e) => {
                    let error = format!("{e:#}");
                    let since = match outage {
                        Some(since) => since,
                        None => {
                            bars.warn(format!(
                                "  ! cannot read the chain: {error}; retrying until the timeout"
                            ));
                            Instant::now()
                        }
                    };
                    outage = Some(since);
                    if started.elapsed() > timeout {
                        bars.finish();
                        bail!(
                            "timed out after {}s waiting until {}: the chain has not answered for {:.0}s \
                             (last error: {error}); check the node and --rpc-url",
                            self.timeout,
                            self.condition(),
                            since.elapsed().as_secs_f64()
                        );
                    }
                    tokio::time::sleep(interval).await;
                    continue;
                }
            };
            bars.update(&status);
            for f in &status.failing {
                if reported_failures.insert((f.site.clone(), f.status, f.wave)) {
                    bars.println(format!(
                        "  ! {} ({}) is {} in wave {}",
                        f.site, f.tier, f.status, f.wave
                    ));
                }
            }
            if self.done(&status) {
                bars.finish();
                if self.json {
                    output::json(&status)?;
                } else {
                    println!(
                        "{} after {:.1}s at block {}",
                        self.condition(),
                        started.elapsed().as_secs_f64(),
                        status.block
                    );
                }
                return Ok(());
            }
            if started.elapsed() > timeout {
                bars.finish();
                let unmet = status
                    .phases
                    .iter()
                    .filter(|p| Some(p.phase) == self.until_criteria)
                    .flat_map(|p| p.criteria.iter().filter(|c| !c.met))
                    .map(|c| format!("{} {}/{}", c.what, c.have, c.need))
                    .collect::<Vec<_>>();
                bail!(
                    "timed out after {}s waiting until {}{}",
                    self.timeout,
                    self.condition(),
                    if unmet.is_empty() {
                        String::new()
                    } else {
                        format!(" (unmet: {})", unmet.join(", "))
                    }
                );
            }
            tokio::time::sleep(interval).await;
        }
    }

    fn done(&self, status: &Status) -> bool {
        match self.until_criteria {
            Some(phase) => status.phases.iter().any(|p| p.phase == phase && p.met),
            None => status
                .sites
                .iter()
                .all(|t| t.counts["approved"] + t.counts["deploying"] == 0),
        }
    }

    fn condition(&self) -> String {
        match self.until_criteria {
            Some(phase) => format!("phase {phase}'s criteria hold"),
            None => "every site in flight settled".to_string(),
        }
    }
}

/// One bar per tier; hidden (and silent) in JSON mode or when stderr is not a terminal's.
struct Bars {
    multi: MultiProgress,
    tiers: Vec<ProgressBar>,
    quiet: bool,
}

impl Bars {
    fn new(quiet: bool) -> Self {
        let multi = MultiProgress::with_draw_target(if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let style = ProgressStyle::with_template("{prefix:>9} [{bar:40}] {pos:>3}/{len:<3} {msg}")
            .expect("invariant: the template is valid")
            .progress_chars("=> ");
        let tiers = ["core", "regional", "edge"]
            .into_iter()
            .map(|tier| {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(style.clone());
                bar.set_prefix(tier);
                bar
            })
            .collect();
        Self {
            multi,
            tiers,
            quiet,
        }
    }

    fn update(&self, status: &Status) {
        for (bar, tier) in self.tiers.iter().zip(&status.sites) {
            let c = &tier.counts;
            bar.set_length(IN_FLIGHT.iter().map(|s| c[s]).sum());
            bar.set_position(c["operational"]);
            bar.set_message(format!(
                "operational; {} deploying, {} approved, {} degraded, {} rolled back",
                c["deploying"], c["approved"], c["degraded"], c["rolled-back"]
            ));
        }
    }

    fn println(&self, line: String) {
        if self.quiet {
            return;
        }
        // Through the MultiProgress so the line lands above the bars, not through them; when
        // stderr is no terminal (CI logs) indicatif draws nothing, so print it plainly.
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    /// A line an operator must see even in JSON mode (stdout stays machine-readable).
    fn warn(&self, line: String) {
        if self.quiet || self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    fn finish(&self) {
        for bar in &self.tiers {
            bar.abandon();
        }
    }
}
