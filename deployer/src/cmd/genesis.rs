//! `sankofa genesis besu`: a Besu QBFT genesis, validator-contract mode by default.

use std::path::PathBuf;

use alloy::primitives::{Address, U256, address};
use anyhow::{Context, bail};

use crate::{
    artifacts::Artifacts,
    genesis::{GenesisSpec, InitialValidator, Mode, render},
    inventory::site_id,
};

/// Where the ValidatorSet lives in genesis unless told otherwise (Besu's documented example).
const DEFAULT_VALIDATOR_SET: Address = address!("0000000000000000000000000000000000008888");

/// Generate chain genesis files.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// A Besu QBFT genesis.json with the ValidatorSet (or the validators) built in.
    Besu(BesuArgs),
}

#[derive(Debug, clap::Args)]
struct BesuArgs {
    /// An initial validator and its core site: `0xADDRESS=core-fra` (repeatable, at least one).
    #[arg(long = "validator", required = true, value_name = "ADDRESS=SITE")]
    validators: Vec<String>,
    #[arg(long, default_value_t = 2025)]
    chain_id: u64,
    /// Validators in the genesis header (block-header mode) instead of the ValidatorSet contract.
    #[arg(long)]
    validators_in_header: bool,
    /// The ValidatorSet's governance in genesis: the bootstrap account that `sankofa deploy
    /// --validator-set` later uses to hand it to the timelock. Required in contract mode.
    #[arg(long)]
    governance: Option<Address>,
    /// The SiteRegistry address, if already known (usually zero: `deploy` sets it).
    #[arg(long, default_value_t = Address::ZERO)]
    registry: Address,
    #[arg(long, default_value_t = DEFAULT_VALIDATOR_SET)]
    validator_set_address: Address,
    #[arg(long, default_value_t = 2)]
    block_period_seconds: u64,
    #[arg(long, default_value_t = 30_000)]
    epoch_length: u64,
    #[arg(long, default_value_t = 4)]
    request_timeout_seconds: u64,
    #[arg(long, default_value_t = 0x1f_ffff_ffff_ffff)]
    gas_limit: u64,
    #[arg(long, default_value_t = 0)]
    timestamp: u64,
    /// Pre-fund an account: `0xADDRESS` (1,000,000 ether) or `0xADDRESS=WEI` (repeatable).
    #[arg(long = "fund", value_name = "ADDRESS[=WEI]")]
    fund: Vec<String>,
    /// The artifacts directory (ValidatorSet.json; default: the checkout's abi/artifacts).
    #[arg(long, env = "SANKOFA_ARTIFACTS")]
    artifacts: Option<PathBuf>,
    /// Write here instead of stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Besu(args) => args.run(),
        }
    }
}

impl BesuArgs {
    fn run(self) -> anyhow::Result<()> {
        let validators = self
            .validators
            .iter()
            .map(|v| parse_validator(v))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut seen = std::collections::HashSet::new();
        for v in &validators {
            if !seen.insert(v.address) {
                bail!("--validator {} is given twice", v.address);
            }
        }
        if let Some(v) = validators.iter().find(|v| v.address.is_zero()) {
            bail!(
                "--validator {}: the zero address cannot be a validator",
                v.address
            );
        }
        // Besu starts from any of these as given and stalls or misbehaves later: refused here.
        for (flag, value) in [
            ("--chain-id", self.chain_id),
            ("--block-period-seconds", self.block_period_seconds),
            ("--epoch-length", self.epoch_length),
            ("--request-timeout-seconds", self.request_timeout_seconds),
            ("--gas-limit", self.gas_limit),
        ] {
            if value == 0 {
                bail!("{flag} 0: it must be at least 1");
            }
        }
        let mode = if self.validators_in_header {
            Mode::Header
        } else {
            Mode::Contract
        };
        let (code, governance) = match mode {
            Mode::Contract => {
                let governance = self.governance.context(
                    "--governance is required in contract mode: the bootstrap account that hands the \
                     ValidatorSet to the timelock during `sankofa deploy --validator-set`",
                )?;
                if governance.is_zero() {
                    bail!(
                        "--governance: the zero address could never hand the ValidatorSet to the \
                         timelock; give the account `sankofa deploy` will sign with"
                    );
                }
                // The precompiles (0x01.., and the newer ones up to 0x100) hold no storage of ours.
                if U256::from_be_slice(self.validator_set_address.as_slice()) <= U256::from(0x1ff) {
                    bail!(
                        "--validator-set-address {}: that is a precompile's address (or zero); use \
                         another, e.g. the default {DEFAULT_VALIDATOR_SET}",
                        self.validator_set_address
                    );
                }
                let artifacts = Artifacts::locate(self.artifacts.as_deref())?;
                (
                    artifacts.get("ValidatorSet")?.deployed_bytecode.clone(),
                    governance,
                )
            }
            Mode::Header => (Default::default(), Address::ZERO),
        };
        let funded = self
            .fund
            .iter()
            .map(|f| parse_fund(f))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut funded_once = std::collections::HashSet::new();
        for (address, _) in &funded {
            if !funded_once.insert(*address) {
                bail!("--fund {address} is given twice; give each account once with its total");
            }
            if mode == Mode::Contract && *address == self.validator_set_address {
                bail!(
                    "--fund {address}: that is the ValidatorSet's address; its genesis entry is the \
                     contract (balance 0)"
                );
            }
        }
        let spec = GenesisSpec {
            chain_id: self.chain_id,
            mode,
            validators,
            validator_set_code: code,
            validator_set_address: self.validator_set_address,
            governance,
            registry: self.registry,
            block_period_seconds: self.block_period_seconds,
            epoch_length: self.epoch_length,
            request_timeout_seconds: self.request_timeout_seconds,
            gas_limit: self.gas_limit,
            timestamp: self.timestamp,
            funded,
        };
        let mut text = serde_json::to_string_pretty(&render(&spec))?;
        text.push('\n');
        match self.out {
            Some(path) => std::fs::write(&path, text)
                .with_context(|| format!("writing {}", path.display()))?,
            None => print!("{text}"),
        }
        Ok(())
    }
}

fn parse_validator(s: &str) -> anyhow::Result<InitialValidator> {
    let (addr, site) = s.split_once('=').with_context(|| {
        format!("--validator `{s}`: expected ADDRESS=SITE, e.g. 0xabc…=core-fra")
    })?;
    let address: Address = addr
        .parse()
        .with_context(|| format!("--validator `{s}`: `{addr}` is not an address"))?;
    let site = site_id(site)
        .with_context(|| format!("--validator `{s}`: `{site}` is not a site name (a-z, 0-9, -)"))?;
    Ok(InitialValidator { address, site })
}

fn parse_fund(s: &str) -> anyhow::Result<(Address, U256)> {
    let (addr, wei) = match s.split_once('=') {
        Some((a, w)) => (a, Some(w)),
        None => (s, None),
    };
    let address: Address = addr
        .parse()
        .with_context(|| format!("--fund `{s}`: `{addr}` is not an address"))?;
    let wei = match wei {
        Some(w) => w
            .parse::<U256>()
            .with_context(|| format!("--fund `{s}`: `{w}` is not an amount in wei"))?,
        None => U256::from(10u64).pow(U256::from(24)),
    };
    Ok((address, wei))
}
