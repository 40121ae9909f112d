//! `sankofa deploy`: deploy and wire every contract (docs/contracts.md, "Deploy wiring"),
//! recording progress in `deployments/<network>.json` after each step.
//!
//! Idempotent: every step first looks at the file and the chain. A recorded contract is verified
//! (its code is still there and unchanged, and came from the current artifacts) rather than
//! deployed again; a wiring step that already took effect is skipped. So a re-run after a crash
//! finishes the job, and a re-run after success only verifies.

use alloy::providers::Provider;
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, U256},
    rpc::types::TransactionRequest,
    sol_types::SolValue,
};
use anyhow::{Context, bail};
use serde::Serialize;

use crate::{
    artifacts::{Artifacts, DEPLOYED},
    config::{ChainArgs, SignerArgs},
    contracts::{Criteria, ICouncil, ISiteRegistry, ITimelock, IValidatorSet},
    deployment::{DEFAULT_CRITERIA, DeployParams, Deployed, Deployment},
    in_flight::InFlight,
    inventory::site_id,
    output,
    rpc::Chain,
};

/// Deploy the contracts and hand every privileged role to the timelock.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    signer: SignerArgs,
    /// Timelock delay in seconds (default 3600).
    #[arg(long)]
    min_delay: Option<u64>,
    /// Seconds from proposal to the start of voting (default 60).
    #[arg(long)]
    voting_delay: Option<u64>,
    /// Voting period in seconds (default 86400).
    #[arg(long)]
    voting_period: Option<u64>,
    /// Quorum as a percentage of council members (default 50).
    #[arg(long)]
    quorum_percent: Option<u64>,
    /// The guardian (may pause and cancel; default: the deployer).
    #[arg(long)]
    guardian: Option<Address>,
    /// Initial council members (repeatable; default: the deployer).
    #[arg(long = "council", value_name = "ADDRESS")]
    council: Vec<Address>,
    /// Initial validator and its core site, `0xADDRESS=core-fra` (repeatable).
    #[arg(long = "validator", value_name = "ADDRESS=SITE")]
    validators: Vec<String>,
    /// Adopt the ValidatorSet preloaded in genesis at this address instead of deploying one
    /// (the deployer must be its genesis governance).
    #[arg(long)]
    validator_set: Option<Address>,
    /// Print the deployment as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    file: String,
    deployed: Vec<String>,
    verified: Vec<String>,
    wired: Vec<String>,
    deployment: Deployment,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        output::block_on(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<()> {
        let settings = self.chain.resolve(Some(&self.signer))?;
        let artifacts = Artifacts::locate(settings.artifacts.as_deref())?;
        for name in DEPLOYED {
            artifacts.get(name)?; // all present before the first transaction
        }
        let key = crate::signer::open_one(&settings).await?;
        let chain = Chain::connect(&settings, Some(key), artifacts.errors()).await?;
        let deployer = chain.sender()?;
        let path = settings.deployment.clone();

        let existing = if path.exists() {
            Some(Deployment::load(&path)?)
        } else {
            None
        };
        let params = self.params(&settings.deploy, deployer, existing.as_ref())?;
        let mut dep = match existing {
            Some(d) => {
                if d.chain_id != chain.chain_id {
                    bail!(
                        "{} is for chain id {}, but the RPC serves chain id {}; pass another --network or --deployment",
                        path.display(),
                        d.chain_id,
                        chain.chain_id
                    );
                }
                if d.deployer != deployer {
                    bail!(
                        "{} was deployed by {}, but the signer is {deployer}; resume with the same account",
                        path.display(),
                        d.deployer
                    );
                }
                d
            }
            None => {
                let fresh = Deployment {
                    network: settings.network.clone(),
                    chain_id: chain.chain_id,
                    deployer,
                    deployment_block: chain.provider.get_block_number().await?,
                    complete: false,
                    params: params.clone(),
                    contracts: Default::default(),
                };
                // Written before the first transaction: a path that cannot be written must
                // fail here, not after a contract is on chain with no record of where.
                fresh.save(&path).with_context(|| {
                    format!(
                        "the deployment file {} cannot be written; nothing was sent. \
                         Fix the path (--deployment / SANKOFA_DEPLOYMENT) or its permissions",
                        path.display()
                    )
                })?;
                fresh
            }
        };

        let mut report = Report {
            file: path.display().to_string(),
            deployed: vec![],
            verified: vec![],
            wired: vec![],
            deployment: dep.clone(),
        };
        // A genesis ValidatorSet is checked before the first transaction: found there, it is
        // adopted in the loop below instead of deployed.
        let genesis_validator_set = match params.validator_set {
            Some(address) if !dep.contracts.contains_key("ValidatorSet") => {
                let artifact = artifacts.get("ValidatorSet")?;
                let code_hash =
                    check_genesis_validator_set(&chain, address, deployer, artifact).await?;
                Some((address, code_hash))
            }
            _ => None,
        };
        for name in DEPLOYED {
            if let Some(recorded) = dep.contracts.get(name).cloned() {
                verify(&chain, &artifacts, name, &recorded).await?;
                report.verified.push(name.to_string());
                continue;
            }
            let artifact = artifacts.get(name)?;
            if name == "ValidatorSet"
                && let Some((address, code_hash)) = genesis_validator_set
            {
                dep.contracts.insert(
                    name.to_string(),
                    Deployed {
                        address,
                        block: 0,
                        tx: None,
                        artifact_hash: artifact.file_hash,
                        code_hash,
                    },
                );
                dep.save(&path)?;
                report
                    .deployed
                    .push(format!("{name} (adopted from genesis)"));
                continue;
            }
            // A run killed after sending this contract's creation left it on chain, unrecorded.
            if let Some(sent) = InFlight::load(&path)?
                && sent.name == name
                && sent.deployer == deployer
                && sent.artifact_hash == artifact.file_hash
                && let Some(found) = sent
                    .adopt(&chain, dep.deployment_block, &artifact.bytecode)
                    .await?
            {
                dep.contracts.insert(
                    name.to_string(),
                    Deployed {
                        address: sent.address,
                        block: found.block,
                        tx: found.tx,
                        artifact_hash: artifact.file_hash,
                        code_hash: found.code_hash,
                    },
                );
                dep.save(&path)?;
                InFlight::clear(&path)?;
                report
                    .deployed
                    .push(format!("{name} (sent by an interrupted run, adopted)"));
                continue;
            }
            let args = constructor_args(name, &dep, &params)?;
            let code: Bytes = [artifact.bytecode.as_ref(), args.as_slice()]
                .concat()
                .into();
            // The nonce is fixed here so the address is known before sending (see in_flight.rs).
            let nonce = chain
                .provider
                .get_transaction_count(deployer)
                .pending()
                .await?;
            let sent = InFlight::new(name, deployer, nonce, artifact.file_hash);
            sent.save(&path)?;
            let tx = TransactionRequest::default()
                .with_deploy_code(code)
                .with_nonce(nonce);
            let receipt = chain.send(tx, &format!("deploying {name}")).await?;
            let address = receipt.contract_address.with_context(|| {
                format!("deploying {name}: the receipt has no contract address")
            })?;
            if address != sent.address {
                bail!(
                    "invariant: {name} was created at {address}, not at {} (nonce {nonce})",
                    sent.address
                );
            }
            let code_hash = chain
                .code_hash(address)
                .await?
                .with_context(|| format!("{name} at {address} has no code after deployment"))?;
            dep.contracts.insert(
                name.to_string(),
                Deployed {
                    address,
                    block: receipt.block_number.unwrap_or_default(),
                    tx: Some(receipt.transaction_hash),
                    artifact_hash: artifact.file_hash,
                    code_hash,
                },
            );
            // Saved after every contract: a crash leaves a file that a re-run resumes from.
            dep.save(&path)?;
            InFlight::clear(&path)?;
            report.deployed.push(name.to_string());
            tracing::info!(target: "deployer::deploy", name, %address, "deployed");
        }

        report.wired = wire(&chain, &dep, deployer).await?;
        dep.complete = true;
        dep.save(&path)?;
        check_wiring(&chain, &dep, deployer).await?;
        report.deployment = dep;
        if self.json {
            output::json(&report)?;
        } else {
            for name in &report.deployed {
                println!("deployed  {name}");
            }
            for name in &report.verified {
                println!("verified  {name}");
            }
            for step in &report.wired {
                println!("wired     {step}");
            }
            let mut t = output::Table::new(["contract", "address", "block"]);
            for (name, d) in &report.deployment.contracts {
                t.row([
                    name.clone(),
                    d.address.to_checksum(None),
                    d.block.to_string(),
                ]);
            }
            t.print();
            println!(
                "wrote {} (chain id {})",
                report.file, report.deployment.chain_id
            );
        }
        Ok(())
    }

    /// Flags over `[deploy]` over defaults; a re-run must not change what was recorded.
    fn params(
        &self,
        raw: &crate::deployment::RawDeployParams,
        deployer: Address,
        existing: Option<&Deployment>,
    ) -> anyhow::Result<DeployParams> {
        let validators_raw = if self.validators.is_empty() {
            &raw.validators
        } else {
            &self.validators
        };
        let validators = validators_raw
            .iter()
            .map(|v| {
                let (a, s) = v
                    .split_once('=')
                    .with_context(|| format!("validator `{v}`: expected ADDRESS=SITE"))?;
                let address: Address = a
                    .parse()
                    .with_context(|| format!("validator `{v}`: `{a}` is not an address"))?;
                site_id(s).with_context(|| format!("validator `{v}`: `{s}` is not a site name"))?;
                Ok((address, s.to_string()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let council = if self.council.is_empty() {
            raw.council.clone()
        } else {
            self.council.clone()
        };
        let given = DeployParams {
            min_delay: self.min_delay.or(raw.min_delay).unwrap_or(3600),
            voting_delay: self.voting_delay.or(raw.voting_delay).unwrap_or(60),
            voting_period: self.voting_period.or(raw.voting_period).unwrap_or(86_400),
            quorum_percent: self.quorum_percent.or(raw.quorum_percent).unwrap_or(50),
            guardian: self.guardian.or(raw.guardian).unwrap_or(deployer),
            registrar: raw.registrar.unwrap_or(deployer),
            council: if council.is_empty() {
                vec![deployer]
            } else {
                council
            },
            validators,
            validator_set: self.validator_set.or(raw.validator_set),
            criteria: raw.criteria.unwrap_or(DEFAULT_CRITERIA),
        };
        if let Some(existing) = existing {
            // Only what was explicitly asked for must match; the rest is taken from the file.
            let explicit = self.min_delay.is_some()
                || self.voting_delay.is_some()
                || self.voting_period.is_some()
                || self.quorum_percent.is_some()
                || self.guardian.is_some()
                || !self.council.is_empty()
                || !self.validators.is_empty()
                || self.validator_set.is_some();
            if explicit && given != existing.params {
                bail!(
                    "network {} was deployed with other parameters ({}); deploy under another --network, \
                     or re-run without parameter flags to verify it",
                    existing.network,
                    serde_json::to_string(&existing.params)?
                );
            }
            return Ok(existing.params.clone());
        }
        if given.registrar != deployer {
            bail!(
                "the registrar must be the deploying account (it calls initRollout during deploy)"
            );
        }
        if given.validator_set.is_none() && given.validators.is_empty() {
            bail!(
                "give the initial validators with --validator ADDRESS=CORE_SITE, or --validator-set for a genesis one"
            );
        }
        if !(1..=100).contains(&given.quorum_percent) {
            bail!(
                "--quorum-percent {} must be in 1..=100",
                given.quorum_percent
            );
        }
        // The contracts revert on these only after earlier contracts are on chain; named here,
        // by flag, before anything is sent.
        if given.guardian.is_zero() {
            bail!(
                "--guardian: the zero address cannot pause or cancel; give the guardian's address"
            );
        }
        if let Some(i) = given.council.iter().position(|m| m.is_zero()) {
            bail!(
                "--council #{}: the zero address cannot be a council member",
                i + 1
            );
        }
        if let Some((i, m)) = given
            .council
            .iter()
            .enumerate()
            .find(|(i, m)| given.council[..*i].contains(m))
        {
            bail!("--council #{}: {m} is listed twice", i + 1);
        }
        for (i, (address, site)) in given.validators.iter().enumerate() {
            if address.is_zero() {
                bail!(
                    "--validator #{} ({site}): the zero address cannot be a validator",
                    i + 1
                );
            }
            if given.validators[..i].iter().any(|(a, _)| a == address) {
                bail!("--validator #{}: {address} is listed twice", i + 1);
            }
        }
        if given.voting_period == 0 || given.voting_period > u64::from(u32::MAX) {
            bail!(
                "--voting-period {} must be in 1..=4294967295 seconds",
                given.voting_period
            );
        }
        Ok(given)
    }
}

/// The ValidatorSet a genesis preloaded must be there, be the current artifact, and be governed
/// by the deployer (who hands it to the timelock), or wiring would revert after every other
/// contract is deployed. Returns its code hash.
async fn check_genesis_validator_set(
    chain: &Chain,
    address: Address,
    deployer: Address,
    artifact: &crate::artifacts::Artifact,
) -> anyhow::Result<B256> {
    let code_hash = chain.code_hash(address).await?.with_context(|| {
        format!(
            "--validator-set {address}: no contract there; was the chain started from the genesis \
             (`sankofa genesis besu`, then `sankofa devnet --init` or Besu)?"
        )
    })?;
    if code_hash != alloy::primitives::keccak256(&artifact.deployed_bytecode) {
        bail!("--validator-set {address}: the code there is not the current ValidatorSet artifact");
    }
    let governance = IValidatorSet::new(address, &chain.provider)
        .governance()
        .call()
        .await
        .map_err(|e| chain.explain_call("ValidatorSet.governance", e))?;
    if governance != deployer {
        bail!(
            "--validator-set {address}: its genesis governance is {governance}, not the deploying \
             account {deployer}; deploy with that account's key, or regenerate the genesis with \
             `sankofa genesis besu --governance {deployer}`"
        );
    }
    Ok(code_hash)
}

fn constructor_args(name: &str, dep: &Deployment, p: &DeployParams) -> anyhow::Result<Vec<u8>> {
    let addr = |n: &str| dep.address(n);
    Ok(match name {
        "TimelockController" => (
            U256::from(p.min_delay),
            Vec::<Address>::new(),
            vec![Address::ZERO],
            dep.deployer,
        )
            .abi_encode_params(),
        "Council" => (addr("TimelockController")?, p.council.clone()).abi_encode_params(),
        "SankofaGovernor" => (
            addr("Council")?,
            addr("TimelockController")?,
            U256::from(p.voting_delay),
            U256::from(p.voting_period),
            U256::from(p.quorum_percent),
        )
            .abi_encode_params(),
        "SiteRegistry" => (addr("TimelockController")?, p.registrar).abi_encode_params(),
        "ValidatorSet" => {
            let (validators, sites): (Vec<Address>, Vec<B256>) = p
                .validators
                .iter()
                .map(|(a, s)| (*a, site_id(s).unwrap_or_default()))
                .unzip();
            (
                addr("TimelockController")?,
                addr("SiteRegistry")?,
                validators,
                sites,
            )
                .abi_encode_params()
        }
        "Rollout" => {
            let criteria = p.criteria.map(|[c, r, e, v]| Criteria {
                minCore: c,
                minRegional: r,
                minEdge: e,
                minValidators: v,
            });
            (
                addr("TimelockController")?,
                p.guardian,
                addr("SiteRegistry")?,
                addr("ValidatorSet")?,
                criteria,
            )
                .abi_encode_params()
        }
        other => bail!("invariant: no constructor for {other}"),
    })
}

/// The recorded contract is still there, unchanged, and the current artifact is the one it
/// was deployed from.
async fn verify(
    chain: &Chain,
    artifacts: &Artifacts,
    name: &str,
    d: &Deployed,
) -> anyhow::Result<()> {
    match chain.code_hash(d.address).await? {
        None => bail!(
            "{name} is recorded at {} but there is no code there: is this the right chain (a restarted devnet?); \
             remove the deployment file to deploy afresh",
            d.address
        ),
        Some(h) if h != d.code_hash => {
            bail!(
                "{name} at {}: the code differs from what was deployed",
                d.address
            )
        }
        Some(_) => {}
    }
    let artifact = artifacts.get(name)?;
    if artifact.file_hash != d.artifact_hash {
        bail!(
            "{name} at {} was deployed from artifact {} but abi/artifacts now holds {}; \
             deploy the new contracts under another --network",
            d.address,
            d.artifact_hash,
            artifact.file_hash
        );
    }
    Ok(())
}

/// Steps 5 (genesis ValidatorSet hand-over), 7 and 8 of the deploy wiring, each skipped when
/// the chain shows it done.
async fn wire(chain: &Chain, dep: &Deployment, deployer: Address) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    let p = &chain.provider;
    let timelock_addr = dep.address("TimelockController")?;
    let governor = dep.address("SankofaGovernor")?;
    let registry_addr = dep.address("SiteRegistry")?;
    let rollout = dep.address("Rollout")?;
    let vset = IValidatorSet::new(dep.address("ValidatorSet")?, p);
    let registry = ISiteRegistry::new(registry_addr, p);
    let timelock = ITimelock::new(timelock_addr, p);
    let call_err = |what: &'static str| move |e| chain.explain_call(what, e);

    if vset
        .governance()
        .call()
        .await
        .map_err(call_err("ValidatorSet.governance"))?
        != timelock_addr
    {
        if vset
            .registry()
            .call()
            .await
            .map_err(call_err("ValidatorSet.registry"))?
            != registry_addr
        {
            let tx = vset.setRegistry(registry_addr).into_transaction_request();
            chain.send(tx, "ValidatorSet.setRegistry").await?;
            done.push("ValidatorSet.setRegistry(SiteRegistry)".into());
        }
        let tx = vset.setGovernance(timelock_addr).into_transaction_request();
        chain.send(tx, "ValidatorSet.setGovernance").await?;
        done.push("ValidatorSet.setGovernance(timelock)".into());
    }
    if registry
        .rollout()
        .call()
        .await
        .map_err(call_err("SiteRegistry.rollout"))?
        != rollout
    {
        chain
            .send(
                registry.initRollout(rollout).into_transaction_request(),
                "SiteRegistry.initRollout",
            )
            .await?;
        done.push("SiteRegistry.initRollout(Rollout)".into());
    }
    let proposer = timelock
        .PROPOSER_ROLE()
        .call()
        .await
        .map_err(call_err("PROPOSER_ROLE"))?;
    let canceller = timelock
        .CANCELLER_ROLE()
        .call()
        .await
        .map_err(call_err("CANCELLER_ROLE"))?;
    let admin = timelock
        .DEFAULT_ADMIN_ROLE()
        .call()
        .await
        .map_err(call_err("DEFAULT_ADMIN_ROLE"))?;
    for (role, role_name, account, who) in [
        (proposer, "PROPOSER", governor, "governor"),
        (canceller, "CANCELLER", governor, "governor"),
        (canceller, "CANCELLER", dep.params.guardian, "guardian"),
    ] {
        if !timelock
            .hasRole(role, account)
            .call()
            .await
            .map_err(call_err("hasRole"))?
        {
            let tx = timelock.grantRole(role, account).into_transaction_request();
            chain
                .send(tx, &format!("granting {role_name} to the {who}"))
                .await?;
            done.push(format!("timelock.grantRole({role_name}, {who})"));
        }
    }
    if timelock
        .hasRole(admin, deployer)
        .call()
        .await
        .map_err(call_err("hasRole"))?
    {
        let tx = timelock
            .renounceRole(admin, deployer)
            .into_transaction_request();
        chain.send(tx, "renouncing the timelock admin role").await?;
        done.push("timelock.renounceRole(DEFAULT_ADMIN, deployer)".into());
    }
    Ok(done)
}

/// The end state, checked on every run: only the timelock governs.
async fn check_wiring(chain: &Chain, dep: &Deployment, deployer: Address) -> anyhow::Result<()> {
    let p = &chain.provider;
    let timelock_addr = dep.address("TimelockController")?;
    let timelock = ITimelock::new(timelock_addr, p);
    let e = |what: &'static str| move |e| chain.explain_call(what, e);
    let admin = timelock
        .DEFAULT_ADMIN_ROLE()
        .call()
        .await
        .map_err(e("DEFAULT_ADMIN_ROLE"))?;
    let proposer = timelock
        .PROPOSER_ROLE()
        .call()
        .await
        .map_err(e("PROPOSER_ROLE"))?;
    let mut problems = Vec::new();
    if timelock
        .hasRole(admin, deployer)
        .call()
        .await
        .map_err(e("hasRole"))?
    {
        problems.push("the deployer still holds the timelock admin role".to_string());
    }
    if !timelock
        .hasRole(proposer, dep.address("SankofaGovernor")?)
        .call()
        .await
        .map_err(e("hasRole"))?
    {
        problems.push("the governor is not the timelock's proposer".to_string());
    }
    let council = ICouncil::new(dep.address("Council")?, p);
    if council
        .governance()
        .call()
        .await
        .map_err(e("Council.governance"))?
        != timelock_addr
    {
        problems.push("the Council is not governed by the timelock".to_string());
    }
    let vset = IValidatorSet::new(dep.address("ValidatorSet")?, p);
    if vset
        .governance()
        .call()
        .await
        .map_err(e("ValidatorSet.governance"))?
        != timelock_addr
    {
        problems.push("the ValidatorSet is not governed by the timelock".to_string());
    }
    let registry = ISiteRegistry::new(dep.address("SiteRegistry")?, p);
    if registry
        .rollout()
        .call()
        .await
        .map_err(e("SiteRegistry.rollout"))?
        != dep.address("Rollout")?
    {
        problems.push("the SiteRegistry's rollout is not the deployed Rollout".to_string());
    }
    if !problems.is_empty() {
        bail!("the deployment does not verify: {}", problems.join("; "));
    }
    Ok(())
}
