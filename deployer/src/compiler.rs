//! Compiling the contracts with foundry-compilers and the pinned solc-js, and writing `abi/artifacts`.
//!
//! The settings are read from `foundry.toml` (`[profile.default]`) and set explicitly, because
//! foundry-compilers' defaults differ from forge's (optimizer off): one source of settings means
//! `sankofa compile` and `forge build` produce identical bytecode.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use foundry_compilers::{
    Project, ProjectBuilder, ProjectPathsConfig,
    artifacts::{
        BytecodeHash, EvmVersion, Optimizer, Remapping, Settings, SettingsMetadata,
        output_selection::OutputSelection,
    },
    compilers::solc::{Solc, SolcCompiler, SolcSettings},
};
use serde::{Deserialize, Serialize};

use crate::workspace::Workspace;

/// Contracts compiled from dependencies that the deployer deploys as they are.
const DEPENDENCY_CONTRACTS: &[&str] = &["TimelockController"];

/// The compiler settings of `foundry.toml`'s default profile that affect bytecode.
#[derive(Debug, Deserialize)]
struct FoundryToml {
    profile: BTreeMap<String, FoundryProfile>,
}

#[derive(Debug, Deserialize)]
struct FoundryProfile {
    remappings: Vec<String>,
    evm_version: String,
    optimizer: bool,
    optimizer_runs: usize,
    via_ir: bool,
    bytecode_hash: String,
    cbor_metadata: bool,
}

/// One committed artifact: `abi/artifacts/<contractName>.json`.
///
/// The `abi` + `bytecode.object` + `deployedBytecode.object` shape is the one alloy's `sol!` reads.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Artifact {
    pub(crate) contract_name: String,
    pub(crate) source_name: String,
    pub(crate) compiler_version: String,
    pub(crate) abi: serde_json::Value,
    pub(crate) bytecode: Code,
    pub(crate) deployed_bytecode: Code,
    pub(crate) method_identifiers: BTreeMap<String, String>,
}

/// Hex bytecode with its `0x` prefix.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Code {
    pub(crate) object: String,
}

/// The compiled artifacts, by file name, as the exact bytes to be written.
pub(crate) type ArtifactFiles = BTreeMap<String, Vec<u8>>;

/// Checks that the pinned toolchain is present before anything else, so the error says what to do.
fn check_toolchain(ws: &Workspace) -> anyhow::Result<String> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => bail!(
            "`node` is not on PATH; the pinned solc-js needs Node.js >= 18 (Debian: apt-get install nodejs), \
             then run scripts/setup"
        ),
    }
    let package_json = ws.root().join("package.json");
    let manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(&package_json).with_context(|| format!("reading {}", package_json.display()))?,
    )
    .with_context(|| format!("{} is not valid JSON", package_json.display()))?;
    let pinned = manifest["dependencies"]["solc"]
        .as_str()
        .with_context(|| {
            format!(
                "{}: no exact `dependencies.solc` pin",
                package_json.display()
            )
        })?
        .to_string();
    let installed = ws.node_modules().join("solc").join("package.json");
    let installed: serde_json::Value = match fs::read(&installed) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", installed.display()))?,
        Err(_) => bail!(
            "the pinned compiler solc-js {pinned} is not installed ({} missing); run scripts/setup",
            installed.display()
        ),
    };
    if installed["version"].as_str() != Some(pinned.as_str()) {
        bail!(
            "node_modules has solc-js {} but package.json pins {pinned}; run scripts/setup to reinstall",
            installed["version"].as_str().unwrap_or("(unknown)")
        );
    }
    Ok(pinned)
}

fn read_profile(ws: &Workspace) -> anyhow::Result<FoundryProfile> {
    let path = ws.root().join("foundry.toml");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut parsed: FoundryToml = toml::from_str(&text).with_context(|| {
        format!(
            "{}: [profile.default] lacks a compiler setting sankofa needs",
            path.display()
        )
    })?;
    parsed
        .profile
        .remove("default")
        .with_context(|| format!("{}: no [profile.default] table", path.display()))
}

fn solc_settings(ws: &Workspace, profile: &FoundryProfile) -> anyhow::Result<SolcSettings> {
    let remappings = profile
        .remappings
        .iter()
        .map(|r| {
            r.parse::<Remapping>()
                .map_err(|e| anyhow::anyhow!("foundry.toml: remapping `{r}` is invalid: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let evm_version: EvmVersion = profile
        .evm_version
        .parse()
        .map_err(|e| anyhow::anyhow!("foundry.toml: evm_version `{}`: {e}", profile.evm_version))?;
    let bytecode_hash: BytecodeHash = profile.bytecode_hash.parse().map_err(|e| {
        anyhow::anyhow!(
            "foundry.toml: bytecode_hash `{}`: {e}",
            profile.bytecode_hash
        )
    })?;
    let settings = Settings {
        remappings,
        optimizer: Optimizer {
            enabled: Some(profile.optimizer),
            runs: Some(profile.optimizer_runs),
            details: None,
        },
        metadata: Some(SettingsMetadata::new(bytecode_hash, profile.cbor_metadata)),
        evm_version: Some(evm_version),
        via_ir: Some(profile.via_ir),
        output_selection: OutputSelection::default_output_selection(),
        ..Default::default()
    };
    let mut solc = SolcSettings {
        settings,
        ..Default::default()
    };
    solc.cli_settings.base_path = Some(ws.root().to_path_buf());
    solc.cli_settings.include_paths.insert(ws.node_modules());
    solc.cli_settings
        .allow_paths
        .insert(ws.root().to_path_buf());
    Ok(solc)
}

/// Compiles `contracts/src` and renders every artifact. Touches nothing on disk but a temp dir.
pub(crate) fn compile(ws: &Workspace) -> anyhow::Result<ArtifactFiles> {
    let pinned = check_toolchain(ws)?;
    let profile = read_profile(ws)?;
    let settings = solc_settings(ws, &profile)?;

    let solc = Solc::new(ws.solc_shim()).with_context(|| {
        format!(
            "running the solc shim {} --version; run scripts/setup",
            ws.solc_shim().display()
        )
    })?;
    if solc.version.to_string().split('+').next() != Some(pinned.as_str()) {
        bail!(
            "{} reports solc {} but package.json pins {pinned}",
            ws.solc_shim().display(),
            solc.version
        );
    }

    // Build in a scratch directory: cache and artifact files of foundry-compilers never land in
    // the checkout, and a failed compile leaves abi/ untouched.
    let scratch = tempfile_dir()?;
    let paths = ProjectPathsConfig::builder()
        .root(ws.root())
        .sources(ws.contract_sources())
        .tests(ws.root().join("contracts").join("test"))
        .scripts(ws.root().join("contracts").join("script"))
        .libs([ws.node_modules()])
        .remappings(settings.settings.remappings.clone())
        .artifacts(scratch.join("out"))
        .cache(scratch.join("cache").join("solidity-files-cache.json"))
        .build()
        .context("laying out the Solidity project")?;
    let project: Project<SolcCompiler> = ProjectBuilder::<SolcCompiler>::new(Default::default())
        .paths(paths)
        .settings(settings)
        .ephemeral()
        .no_artifacts()
        .offline()
        .single_solc_jobs()
        .build(SolcCompiler::Specific(solc))
        .context("configuring foundry-compilers")?;

    let output = project.compile();
    let _ = fs::remove_dir_all(&scratch);
    let output = output.context("compiling contracts/src")?;
    if output.has_compiler_errors() {
        bail!("contracts/src does not compile:\n{output}");
    }

    let sources = ws.contract_sources();
    let mut files = ArtifactFiles::new();
    for (id, artifact) in output.into_artifacts() {
        let source = if id.source.is_absolute() {
            id.source.clone()
        } else {
            ws.root().join(&id.source)
        };
        let ours = source.starts_with(&sources);
        if !ours && !DEPENDENCY_CONTRACTS.contains(&id.name.as_str()) {
            continue;
        }
        let source_name = relative(ws.root(), &source);
        let hex_of = |code: Option<alloy::primitives::Bytes>| match code {
            Some(bytes) => format!("0x{}", hex::encode(bytes)),
            None => "0x".to_string(),
        };
        let bytecode = hex_of(artifact.bytecode.and_then(|b| b.object.into_bytes()));
        let deployed = hex_of(
            artifact
                .deployed_bytecode
                .and_then(|d| d.bytecode)
                .and_then(|b| b.object.into_bytes()),
        );
        let rendered = Artifact {
            contract_name: id.name.clone(),
            source_name,
            compiler_version: id.version.to_string(),
            abi: serde_json::to_value(artifact.abi.unwrap_or_default())?,
            bytecode: Code { object: bytecode },
            deployed_bytecode: Code { object: deployed },
            method_identifiers: artifact.method_identifiers.unwrap_or_default(),
        };
        let mut bytes = serde_json::to_vec_pretty(&rendered)?;
        bytes.push(b'\n');
        let name = format!("{}.json", id.name);
        if files.insert(name.clone(), bytes).is_some() {
            bail!(
                "two contracts are named {}; contract names must be unique across contracts/src",
                id.name
            );
        }
    }
    if files.is_empty() {
        bail!("no contracts found under {}", sources.display());
    }
    Ok(files)
}

/// Replaces `abi/artifacts` with `files` as a whole: written beside it, then swapped in.
pub(crate) fn write_artifacts(ws: &Workspace, files: &ArtifactFiles) -> anyhow::Result<()> {
    let dir = ws.artifacts_dir();
    let staging = dir.with_extension("staging");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    for (name, bytes) in files {
        fs::write(staging.join(name), bytes).with_context(|| format!("writing {name}"))?;
    }
    let old = dir.with_extension("old");
    let _ = fs::remove_dir_all(&old);
    if dir.exists() {
        fs::rename(&dir, &old).with_context(|| format!("moving aside {}", dir.display()))?;
    }
    fs::rename(&staging, &dir).with_context(|| format!("installing {}", dir.display()))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// Differences between freshly compiled `files` and what is committed in `abi/artifacts`.
pub(crate) fn drift(ws: &Workspace, files: &ArtifactFiles) -> anyhow::Result<Vec<String>> {
    let dir = ws.artifacts_dir();
    let mut problems = Vec::new();
    let mut committed = BTreeMap::new();
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                committed.insert(name, fs::read(entry.path())?);
            }
        }
    }
    for (name, bytes) in files {
        match committed.remove(name) {
            None => problems.push(format!("abi/artifacts/{name} is missing")),
            Some(old) if &old != bytes => problems.push(format!("abi/artifacts/{name} differs")),
            Some(_) => {}
        }
    }
    problems.extend(
        committed
            .into_keys()
            .map(|name| format!("abi/artifacts/{name} is stale (no such contract)")),
    );
    Ok(problems)
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("sankofa-compile-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
