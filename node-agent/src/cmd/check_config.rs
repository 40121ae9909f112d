//! `sankofa-agent check-config`.

use serde_json::json;

use crate::config::Config;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Validates and prints the resolved config.
    pub fn run(&self, cfg: &Config) -> anyhow::Result<()> {
        let summary = json!({
            "config": cfg.path,
            "site": cfg.site_name,
            "site_id": cfg.site_id.to_string(),
            "region": cfg.region,
            "parent": cfg.parent,
            "chain_id": cfg.chain_id,
            "rollout": cfg.rollout.to_string(),
            "registry": cfg.registry.to_string(),
            "rpc": cfg.endpoints.iter().map(|e| json!({"name": e.name, "http": e.http.as_str(), "ws": e.ws.as_ref().map(|w| w.as_str())})).collect::<Vec<_>>(),
            "mode": format!("{:?}", cfg.mode),
            "confirmations": cfg.confirmations,
            "state_dir": cfg.state_dir,
            "sandbox_root": cfg.sandbox_root,
            "signer": cfg.signer.backend(),
            "metrics": cfg.metrics.map(|m| m.to_string()),
        });
        if self.json {
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            println!("{}: ok", cfg.path.display());
            if let Some(obj) = summary.as_object() {
                for (k, v) in obj {
                    println!("  {k:<14} {v}");
                }
            }
        }
        Ok(())
    }
}
