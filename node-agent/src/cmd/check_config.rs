//! `sankofa-agent check-config`.

use sankofa_keys::SignerConfig;
use serde_json::json;

use crate::config::Config;
use crate::error::Error;
use crate::preflight;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Validates the config and the local files it references, and prints the resolved config.
    /// As the systemd start gate it must fail whenever `run` would fail before touching the
    /// chain: `state_dir` and the signer's files are checked, and a keystore is decrypted (the
    /// only way to catch a wrong password). Nothing else is contacted: no RPC, no HSM session.
    pub async fn run(&self, cfg: &Config) -> anyhow::Result<()> {
        preflight::check_state_dir(&cfg.path, &cfg.state_dir)?;
        let mut notes = preflight::check_signer_files(&cfg.path, &cfg.signer)?;
        let mut signer_address = None;
        if let SignerConfig::Keystore(_) = cfg.signer {
            let signer = cfg.signer.open().await.map_err(|e| Error::Config {
                path: cfg.path.clone(),
                key: "signer".into(),
                message: format!("cannot open the keystore: {e}"),
            })?;
            signer_address = Some(signer.address().to_string());
        } else {
            notes.push(format!(
                "signer ({}) not opened: offline check, no HSM session",
                cfg.signer.backend()
            ));
        }
        notes.push(
            "chain not contacted: offline check, no RPC (`run` checks chain id and contracts)"
                .into(),
        );
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
            "signer_address": signer_address,
            "metrics": cfg.metrics.map(|m| m.to_string()),
            "notes": notes,
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
