//! `sankofa devnet`: a local anvil (the pinned one from node_modules) for development and demos.

use std::{path::PathBuf, time::Duration};

use alloy::{
    node_bindings::Anvil,
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context, bail};
use serde::Serialize;

use crate::{output, workspace::Workspace};

/// Start a local chain and print its endpoints; runs until Ctrl-C or SIGTERM.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The Sankofa checkout (for node_modules/.bin/anvil; default: found from here).
    #[arg(long)]
    root: Option<PathBuf>,
    #[arg(long, default_value_t = 8545)]
    port: u16,
    /// Seconds between blocks (default: a block per transaction).
    #[arg(long)]
    block_time: Option<u64>,
    /// Chain id (default: anvil's 31337, or the genesis file's with --init).
    #[arg(long)]
    chain_id: Option<u64>,
    /// Boot from a genesis file (e.g. `sankofa genesis besu` output).
    #[arg(long, value_name = "GENESIS_JSON")]
    init: Option<PathBuf>,
    /// Load the chain from this state file if it exists, and dump it there on exit.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["load_state", "dump_state"])]
    state: Option<PathBuf>,
    /// Load the chain from a state dump.
    #[arg(long, value_name = "FILE")]
    load_state: Option<PathBuf>,
    /// Dump the chain state here on exit.
    #[arg(long, value_name = "FILE")]
    dump_state: Option<PathBuf>,
    /// Number of funded dev accounts.
    #[arg(long, default_value_t = 10)]
    accounts: u32,
    /// Write each dev account's private key to DIR/<index>.key (mode 0600) for --private-key-file.
    #[arg(long, value_name = "DIR")]
    keys_dir: Option<PathBuf>,
    /// Print the endpoints as one JSON line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoints {
    http: String,
    ws: String,
    chain_id: u64,
    accounts: Vec<String>,
    keys_dir: Option<PathBuf>,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<()> {
        let ws = Workspace::locate(self.root.as_deref())?;
        let bin = ws.foundry_bin("anvil");
        if !bin.is_file() {
            bail!(
                "{} is missing; run scripts/setup (npm ci) first",
                bin.display()
            );
        }
        let mut anvil = Anvil::at(&bin).port(self.port).timeout(30_000).args([
            "--host",
            "127.0.0.1",
            "--accounts",
            &self.accounts.to_string(),
        ]);
        if let Some(t) = self.block_time {
            anvil = anvil.block_time(t);
        }
        if let Some(id) = self.chain_id {
            anvil = anvil.chain_id(id);
        }
        if let Some(genesis) = &self.init {
            if !genesis.is_file() {
                bail!("--init {}: no such file", genesis.display());
            }
            anvil = anvil.arg("--init").arg(genesis.display().to_string());
        }
        if let Some(state) = &self.state {
            anvil = anvil.arg("--state").arg(state.display().to_string());
            // A periodic dump too, so a killed (not interrupted) devnet loses at most seconds.
            anvil = anvil.args(["--state-interval", "5"]);
        }
        if let Some(load) = &self.load_state {
            if !load.is_file() {
                bail!("--load-state {}: no such file", load.display());
            }
            anvil = anvil.arg("--load-state").arg(load.display().to_string());
        }
        if let Some(dump) = &self.dump_state {
            anvil = anvil.arg("--dump-state").arg(dump.display().to_string());
        }
        // Decided before anvil starts: with --state it may write the file soon after.
        let loaded = self.load_state.is_some() || self.state.as_ref().is_some_and(|s| s.is_file());
        let mut instance = anvil
            .try_spawn()
            .with_context(|| format!("starting {} on 127.0.0.1:{}", bin.display(), self.port))?;

        if let Some(dir) = &self.keys_dir {
            write_keys(dir, instance.keys())?;
        }
        if loaded {
            keep_clock_monotonic(&instance.endpoint_url()).await?;
        }
        // Asked of the node, not the builder: with --init the genesis file decides the chain id.
        let chain_id = ProviderBuilder::new()
            .connect_http(instance.endpoint_url())
            .get_chain_id()
            .await
            .context("asking the devnet for its chain id")?;
        let endpoints = Endpoints {
            http: format!("http://127.0.0.1:{}", instance.port()),
            ws: format!("ws://127.0.0.1:{}", instance.port()),
            chain_id,
            accounts: instance
                .addresses()
                .iter()
                .map(|a| a.to_checksum(None))
                .collect(),
            keys_dir: self.keys_dir.clone(),
        };
        if self.json {
            println!("{}", serde_json::to_string(&endpoints)?);
        } else {
            println!("devnet running (chain id {})", endpoints.chain_id);
            println!("  http: {}", endpoints.http);
            println!("  ws:   {}", endpoints.ws);
            for (i, a) in endpoints.accounts.iter().enumerate() {
                println!("  account {i}: {a}");
            }
            println!(
                "Ctrl-C to stop{}",
                if self.state.is_some() {
                    " (state is saved)"
                } else {
                    ""
                }
            );
        }

        // Until Ctrl-C/SIGTERM, or until anvil itself dies: a dead chain must not look alive.
        let died = tokio::select! {
            r = wait_for_shutdown() => { r?; None }
            status = wait_for_exit(instance.child_mut()) => Some(status?),
        };
        if let Some(status) = died {
            bail!(
                "anvil exited on its own ({status}); the devnet is gone{}. See anvil's output above",
                if self.state.is_some() || self.dump_state.is_some() {
                    ", and its state was not saved on the way out"
                } else {
                    ""
                }
            );
        }
        // Anvil dumps its state on SIGINT/SIGTERM, not on SIGKILL (which dropping the instance
        // sends), so ask it to stop and give it time to write.
        let pid = instance.child().id();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        for _ in 0..100 {
            if instance.child_mut().try_wait()?.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

/// Anvil does not save the offset `evm_increaseTime` (`--advance-time`) adds to its clock, so a
/// chain reloaded from a dump would mine blocks older than its last one: queued proposals would
/// turn Pending again and approvals would be "not yet valid". The clock is set to continue from
/// the last block, before the first new block is mined.
async fn keep_clock_monotonic(url: &alloy::transports::http::reqwest::Url) -> anyhow::Result<()> {
    let provider = ProviderBuilder::new().connect_http(url.clone());
    let latest = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .context("reading the reloaded chain's last block")?
        .context("the reloaded chain has no latest block")?;
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    if latest.header.timestamp >= wall {
        let _: serde_json::Value = provider
            .raw_request("evm_setTime".into(), (latest.header.timestamp + 1,))
            .await
            .context("evm_setTime (continuing the reloaded chain's clock)")?;
    }
    Ok(())
}

/// Resolves when the child process has exited.
async fn wait_for_exit(
    child: &mut std::process::Child,
) -> anyhow::Result<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().context("waiting for anvil")? {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn wait_for_shutdown() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}

fn write_keys(
    dir: &std::path::Path,
    keys: &[alloy::signers::k256::SecretKey],
) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (i, key) in keys.iter().enumerate() {
        let signer = PrivateKeySigner::from_signing_key(key.into());
        let path = dir.join(format!("{i}.key"));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(f, "{}", alloy::hex::encode_prefixed(signer.to_bytes()))?;
    }
    Ok(())
}
