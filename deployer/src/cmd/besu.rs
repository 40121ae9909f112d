//! `sankofa besu config --site ID`: a Besu node's config TOML and its permissioning file,
//! rendered from the registry (Besu reads allowlists from files since on-chain permissioning
//! was removed in 25.6).

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use alloy::primitives::Address;
use anyhow::{Context, bail};
use serde::Serialize;

use crate::{
    config::ChainArgs,
    contracts::{ICouncil, IValidatorSet},
    deployment::Ctx,
    inventory::site_id,
    output, registry,
};

const DECOMMISSIONED: &str = "decommissioned";

/// Besu node configuration.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Render config.toml and permissions_config.toml for one site's node.
    Config(ConfigArgs),
}

#[derive(Debug, clap::Args)]
struct ConfigArgs {
    /// The site whose node is configured.
    #[arg(long)]
    site: String,
    /// `site,enode://…@host:port` per line: the nodes of the network (only registered,
    /// non-decommissioned sites are allowed in).
    #[arg(long)]
    enodes: PathBuf,
    /// Write config.toml and permissions_config.toml here (default: print both).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Where the node will find its files.
    #[arg(long, default_value = "/etc/besu")]
    etc_dir: String,
    #[arg(long, default_value = "/var/lib/besu")]
    data_path: String,
    #[arg(long, default_value_t = 30303)]
    p2p_port: u16,
    #[arg(long, default_value_t = 8545)]
    rpc_http_port: u16,
    #[arg(long, default_value_t = 8546)]
    rpc_ws_port: u16,
    #[command(flatten)]
    chain: ChainArgs,
    /// Print both files and the allowlists as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rendered {
    site: String,
    config_toml: String,
    permissions_toml: String,
    accounts: Vec<Address>,
    nodes: Vec<String>,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Config(a) => output::block_on(a.run()),
        }
    }
}

fn read_enodes(path: &Path) -> anyhow::Result<Vec<(usize, String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("site,")) {
            continue;
        }
        match line.split_once(',') {
            Some((site, enode)) if site_id(site.trim()).is_some() && valid_enode(enode.trim()) => {
                out.push((i + 1, site.trim().to_string(), enode.trim().to_string()))
            }
            _ => problems.push(format!(
                "{}:{}: expected `site,enode://<128 hex>@host:port`",
                path.display(),
                i + 1
            )),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(out)
}

fn valid_enode(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("enode://") else {
        return false;
    };
    let Some((key, addr)) = rest.split_once('@') else {
        return false;
    };
    key.len() == 128
        && key.bytes().all(|b| b.is_ascii_hexdigit())
        && addr
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
}

impl ConfigArgs {
    async fn run(self) -> anyhow::Result<()> {
        site_id(&self.site).with_context(|| format!("`{}` is not a site name", self.site))?;
        let enodes = read_enodes(&self.enodes)?;
        let ctx = Ctx::open(&self.chain, None).await?;
        let (chain, dep) = (&ctx.chain, &ctx.deployment);
        let sites: HashMap<String, registry::SiteView> = registry::list(chain, dep)
            .await?
            .into_iter()
            .map(|s| (s.site.clone(), s))
            .collect();
        match sites.get(&self.site) {
            None => bail!(
                "site {} is not registered; run `sankofa sites import` first",
                self.site
            ),
            Some(s) if s.status == DECOMMISSIONED => {
                bail!("site {} is decommissioned; it runs no node", self.site)
            }
            Some(_) => {}
        }
        let mut problems = Vec::new();
        let mut nodes = BTreeSet::new();
        for (line, site, enode) in &enodes {
            match sites.get(site) {
                None => problems.push(format!(
                    "{}:{line}: site {site} is not registered",
                    self.enodes.display()
                )),
                // Decommissioned sites are left out on purpose: that is how a node is expelled.
                Some(s) if s.status == DECOMMISSIONED => {}
                Some(_) => {
                    nodes.insert(enode.clone());
                }
            }
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
        if !enodes.iter().any(|(_, s, _)| s == &self.site) {
            bail!(
                "{} has no enode for {} itself",
                self.enodes.display(),
                self.site
            );
        }

        // Accounts that may send transactions: agents of live sites, validators, the council,
        // the operator (registrar) and the guardian.
        let mut accounts: BTreeSet<Address> = sites
            .values()
            .filter(|s| s.status != DECOMMISSIONED)
            .filter_map(|s| s.agent)
            .collect();
        let vset = IValidatorSet::new(dep.address("ValidatorSet")?, &chain.provider);
        accounts.extend(
            vset.getValidators()
                .call()
                .await
                .map_err(|e| chain.explain_call("getValidators", e))?,
        );
        let council = ICouncil::new(dep.address("Council")?, &chain.provider);
        accounts.extend(
            council
                .members()
                .call()
                .await
                .map_err(|e| chain.explain_call("members", e))?,
        );
        accounts.insert(dep.params.registrar);
        accounts.insert(dep.params.guardian);
        accounts.insert(dep.deployer);

        let permissions_path = format!("{}/permissions_config.toml", self.etc_dir);
        let mut cfg = toml::Table::new();
        let s = |v: &str| toml::Value::String(v.to_string());
        let list = |v: &[&str]| toml::Value::Array(v.iter().map(|x| s(x)).collect());
        cfg.insert("identity".into(), s(&self.site));
        cfg.insert("data-path".into(), s(&self.data_path));
        cfg.insert(
            "genesis-file".into(),
            s(&format!("{}/genesis.json", self.etc_dir)),
        );
        cfg.insert(
            "node-private-key-file".into(),
            s(&format!("{}/key", self.data_path)),
        );
        cfg.insert(
            "p2p-port".into(),
            toml::Value::Integer(self.p2p_port.into()),
        );
        // Free gas: agents and council members hold no ether of value.
        cfg.insert("min-gas-price".into(), toml::Value::Integer(0));
        cfg.insert("rpc-http-enabled".into(), toml::Value::Boolean(true));
        cfg.insert("rpc-http-host".into(), s("127.0.0.1"));
        cfg.insert(
            "rpc-http-port".into(),
            toml::Value::Integer(self.rpc_http_port.into()),
        );
        cfg.insert("rpc-http-api".into(), list(&["ETH", "NET", "WEB3", "QBFT"]));
        // The agent subscribes to DeploymentApproved over WebSocket.
        cfg.insert("rpc-ws-enabled".into(), toml::Value::Boolean(true));
        cfg.insert("rpc-ws-host".into(), s("127.0.0.1"));
        cfg.insert(
            "rpc-ws-port".into(),
            toml::Value::Integer(self.rpc_ws_port.into()),
        );
        cfg.insert("rpc-ws-api".into(), list(&["ETH", "NET", "WEB3", "QBFT"]));
        cfg.insert("host-allowlist".into(), list(&["localhost", "127.0.0.1"]));
        cfg.insert(
            "permissions-nodes-config-file-enabled".into(),
            toml::Value::Boolean(true),
        );
        cfg.insert("permissions-nodes-config-file".into(), s(&permissions_path));
        cfg.insert(
            "permissions-accounts-config-file-enabled".into(),
            toml::Value::Boolean(true),
        );
        cfg.insert(
            "permissions-accounts-config-file".into(),
            s(&permissions_path),
        );
        let config_toml = format!(
            "# Besu config for site {} (chain id {}), rendered by `sankofa besu config`\n{}",
            self.site,
            dep.chain_id,
            toml::to_string(&cfg)?
        );

        let mut perm = toml::Table::new();
        perm.insert(
            "accounts-allowlist".into(),
            toml::Value::Array(
                accounts
                    .iter()
                    .map(|a| s(&a.to_string().to_lowercase()))
                    .collect(),
            ),
        );
        perm.insert(
            "nodes-allowlist".into(),
            toml::Value::Array(nodes.iter().map(|n| s(n)).collect()),
        );
        let permissions_toml = format!(
            "# Allowlists from the SiteRegistry at block {}, rendered by `sankofa besu config`\n{}",
            alloy::providers::Provider::get_block_number(&chain.provider).await?,
            toml::to_string(&perm)?
        );

        let rendered = Rendered {
            site: self.site.clone(),
            config_toml,
            permissions_toml,
            accounts: accounts.into_iter().collect(),
            nodes: nodes.into_iter().collect(),
        };
        if let Some(dir) = &self.out_dir {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            std::fs::write(dir.join("config.toml"), &rendered.config_toml)?;
            std::fs::write(
                dir.join("permissions_config.toml"),
                &rendered.permissions_toml,
            )?;
        }
        if self.json {
            output::json(&rendered)?;
        } else if self.out_dir.is_none() {
            println!("### config.toml\n{}", rendered.config_toml);
            println!("### permissions_config.toml\n{}", rendered.permissions_toml);
        } else {
            println!(
                "wrote config.toml and permissions_config.toml ({} accounts, {} nodes)",
                rendered.accounts.len(),
                rendered.nodes.len()
            );
        }
        Ok(())
    }
}
