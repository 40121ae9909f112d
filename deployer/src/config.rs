//! Layered settings: defaults -> `sankofa.toml` -> `SANKOFA_*` environment -> flags.
//!
//! Flags and environment variables are read by clap into the same `Option` (a flag wins over its
//! variable); only what both leave unset is taken from the file, then from the defaults. The raw
//! file is parsed with `deny_unknown_fields`, so a typo fails with the file and key named.

use std::path::{Path, PathBuf};

use alloy::transports::http::reqwest::Url;
use anyhow::{Context, bail};
use serde::Deserialize;

/// The file read when `--config` is not given (if it exists in the current directory).
pub(crate) const DEFAULT_FILE: &str = "sankofa.toml";
/// Where a devnet listens unless told otherwise.
pub(crate) const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8545";
pub(crate) const DEFAULT_NETWORK: &str = "devnet";

/// `sankofa.toml`, as written by the operator.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    /// The network name; selects `deployments/<network>.json`.
    pub(crate) network: Option<String>,
    pub(crate) rpc_url: Option<String>,
    /// The chain id the RPC must report (refuses to talk to the wrong chain).
    pub(crate) chain_id: Option<u64>,
    pub(crate) deployment: Option<PathBuf>,
    /// Where the contract artifacts are (default: the checkout's abi/artifacts).
    pub(crate) artifacts: Option<PathBuf>,
    /// The signing key, in the keys crate's format (`backend = "keystore" | "yubihsm" | "pkcs11"`).
    pub(crate) signer: Option<sankofa_keys::SignerConfig>,
    #[serde(default)]
    pub(crate) deploy: crate::deployment::RawDeployParams,
}

/// Reads the config file: `explicit` must exist; the default one may be absent.
pub(crate) fn load_file(explicit: Option<&Path>) -> anyhow::Result<(RawConfig, Option<PathBuf>)> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_FILE), false),
    };
    if !path.exists() {
        if required {
            bail!(
                "config file {} does not exist; fix --config / SANKOFA_CONFIG",
                path.display()
            );
        }
        return Ok((RawConfig::default(), None));
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    let raw: RawConfig = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("config file {}: {}", path.display(), e.to_string().trim()))?;
    Ok((raw, Some(path)))
}

/// The options every chain-facing command takes (flattened into its `Args`).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ChainArgs {
    /// The settings file (default: ./sankofa.toml if present).
    #[arg(long, env = "SANKOFA_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// The network name; the deployment file defaults to deployments/<network>.json.
    #[arg(long, env = "SANKOFA_NETWORK")]
    pub(crate) network: Option<String>,
    /// JSON-RPC endpoint (default http://127.0.0.1:8545).
    #[arg(long, env = "SANKOFA_RPC_URL")]
    pub(crate) rpc_url: Option<String>,
    /// Refuse to run unless the RPC reports this chain id.
    #[arg(long, env = "SANKOFA_CHAIN_ID")]
    pub(crate) chain_id: Option<u64>,
    /// The deployment file (addresses of the contracts).
    #[arg(long, env = "SANKOFA_DEPLOYMENT")]
    pub(crate) deployment: Option<PathBuf>,
    /// The contract artifacts directory (default: the checkout's abi/artifacts).
    #[arg(long, env = "SANKOFA_ARTIFACTS")]
    pub(crate) artifacts: Option<PathBuf>,
}

/// Who signs: a keystore (+ password file), or a raw private key file. Repeat for several
/// signers where a command accepts them (`vote`).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct SignerArgs {
    /// An encrypted JSON keystore (repeatable where several signers make sense).
    #[arg(long, env = "SANKOFA_KEYSTORE", value_delimiter = ',')]
    pub(crate) keystore: Vec<PathBuf>,
    /// The keystore password file: one for all keystores, or one per keystore in the same order.
    #[arg(long, env = "SANKOFA_PASSWORD_FILE", value_delimiter = ',')]
    pub(crate) password_file: Vec<PathBuf>,
    /// A file holding a hex private key (dev and test networks).
    #[arg(long, env = "SANKOFA_PRIVATE_KEY_FILE", value_delimiter = ',')]
    pub(crate) private_key_file: Vec<PathBuf>,
}

/// Validated settings for a chain-facing command.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) network: String,
    pub(crate) rpc_url: Url,
    pub(crate) chain_id: Option<u64>,
    pub(crate) deployment: PathBuf,
    pub(crate) artifacts: Option<PathBuf>,
    /// `[signer]` from the file (used when no signer flag is given).
    pub(crate) signer_config: Option<sankofa_keys::SignerConfig>,
    /// Signer flags / SANKOFA_* variables (win over `[signer]`).
    pub(crate) signer_flags: SignerArgs,
    pub(crate) deploy: crate::deployment::RawDeployParams,
}

impl ChainArgs {
    /// Applies the layers and validates the result.
    pub(crate) fn resolve(&self, signer: Option<&SignerArgs>) -> anyhow::Result<Settings> {
        let (raw, file) = load_file(self.config.as_deref())?;
        let origin = |key: &str| match &file {
            Some(f) => format!("`{key}` (flag, SANKOFA_ env or {})", f.display()),
            None => format!("`{key}` (flag or SANKOFA_ env)"),
        };
        let network = self
            .network
            .clone()
            .or(raw.network)
            .unwrap_or_else(|| DEFAULT_NETWORK.to_string());
        if network.is_empty()
            || !network
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!(
                "{}: `{network}` is not a valid network name (letters, digits, - and _)",
                origin("network")
            );
        }
        let rpc = self
            .rpc_url
            .clone()
            .or(raw.rpc_url)
            .unwrap_or_else(|| DEFAULT_RPC_URL.to_string());
        let rpc_url: Url = rpc
            .parse()
            .with_context(|| format!("{}: `{rpc}` is not a URL", origin("rpc_url")))?;
        if !matches!(rpc_url.scheme(), "http" | "https") {
            bail!("{}: `{rpc}` must be an http(s) URL", origin("rpc_url"));
        }
        let deployment = self
            .deployment
            .clone()
            .or(raw.deployment)
            .unwrap_or_else(|| Path::new("deployments").join(format!("{network}.json")));
        Ok(Settings {
            network,
            rpc_url,
            chain_id: self.chain_id.or(raw.chain_id),
            deployment,
            artifacts: self.artifacts.clone().or(raw.artifacts),
            signer_config: raw.signer,
            signer_flags: signer.cloned().unwrap_or_default(),
            deploy: raw.deploy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("sankofa.toml");
        std::fs::write(&path, "rpc_url = \"http://x\"\nrpc_ulr = \"oops\"\n").expect("write");
        let err = load_file(Some(&path)).expect_err("unknown key");
        let msg = format!("{err:#}");
        assert!(
            msg.contains("rpc_ulr") && msg.contains("sankofa.toml"),
            "{msg}"
        );
    }

    #[test]
    fn flags_beat_file_and_file_beats_defaults() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "network = \"staging\"\nrpc_url = \"http://10.0.0.1:8545\"\nchain_id = 7\n",
        )
        .expect("write");
        let args = ChainArgs {
            config: Some(path),
            rpc_url: Some("http://127.0.0.1:9999".into()),
            ..Default::default()
        };
        let s = args.resolve(None).expect("valid");
        assert_eq!(s.rpc_url.as_str(), "http://127.0.0.1:9999/");
        assert_eq!(s.network, "staging");
        assert_eq!(s.chain_id, Some(7));
        assert_eq!(s.deployment, Path::new("deployments/staging.json"));
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let args = ChainArgs {
            config: Some("/nonexistent/s.toml".into()),
            ..Default::default()
        };
        let msg = format!("{:#}", args.resolve(None).expect_err("missing"));
        assert!(msg.contains("/nonexistent/s.toml"), "{msg}");
    }

    #[test]
    fn bad_url_names_the_key() {
        let args = ChainArgs {
            rpc_url: Some("not a url".into()),
            ..Default::default()
        };
        let msg = format!("{:#}", args.resolve(None).expect_err("bad"));
        assert!(msg.contains("rpc_url"), "{msg}");
    }
}
