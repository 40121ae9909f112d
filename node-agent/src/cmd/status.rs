//! `sankofa-agent status`: what the journal says (readable while the agent runs).

use serde_json::json;

use crate::config::Config;
use crate::journal::{Journal, Kind};

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Prints the journal's state.
    pub fn run(&self, cfg: &Config) -> anyhow::Result<()> {
        let path = cfg.journal_path();
        if !path.exists() {
            anyhow::bail!(
                "no journal at {}: the agent has not run with this config yet",
                path.display()
            );
        }
        let j = Journal::open_read_only(&path)?;
        let cursor = j.cursor()?;
        let mut deployments = Vec::new();
        for d in j.all()? {
            let steps = j.steps(d.wave, Kind::Step)?;
            let rollback = j.steps(d.wave, Kind::Rollback)?;
            let (mined, signed) = j.report_count(d.wave)?;
            deployments.push(json!({
                "deployment": d,
                "steps": steps,
                "rollback_steps": rollback,
                "reports_mined": mined,
                "reports_signed": signed,
            }));
        }
        let out = json!({
            "site": cfg.site_name,
            "cursor": cursor,
            "events_handled": j.events_handled()?,
            "deployments": deployments,
        });
        if self.json {
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        println!("site    {}", cfg.site_name);
        match cursor {
            Some(c) => println!("cursor  {c}"),
            None => println!("cursor  (none yet)"),
        }
        println!("events  {}", j.events_handled()?);
        println!(
            "{:<6} {:<16} {:>5} {:>7}  note",
            "wave", "state", "steps", "reports"
        );
        for d in j.all()? {
            let steps = j.steps(d.wave, Kind::Step)?;
            let done = steps.iter().filter(|s| s.finished).count();
            let (mined, _) = j.report_count(d.wave)?;
            println!(
                "{:<6} {:<16} {:>2}/{:<2} {:>7}  {}",
                d.wave,
                serde_json::to_value(d.state)?.as_str().unwrap_or("?"),
                done,
                d.step_count.map_or("?".into(), |n| n.to_string()),
                mined,
                d.note
            );
        }
        Ok(())
    }
}
