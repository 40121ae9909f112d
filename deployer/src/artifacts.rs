//! The compiled contracts the deployer deploys and decodes errors with (`abi/artifacts/*.json`).

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use alloy::{
    dyn_abi::{DynSolValue, JsonAbiExt},
    json_abi::{Error as AbiError, JsonAbi},
    primitives::{B256, Bytes, FixedBytes, keccak256},
};
use anyhow::{Context, bail};
use serde::Deserialize;

use crate::inventory::site_name;

/// The contracts `sankofa deploy` deploys, in deploy order.
pub(crate) const DEPLOYED: [&str; 6] = [
    "TimelockController",
    "Council",
    "SankofaGovernor",
    "SiteRegistry",
    "ValidatorSet",
    "Rollout",
];

/// One artifact file, as far as the deployer needs it.
#[derive(Debug, Clone)]
pub(crate) struct Artifact {
    pub(crate) abi: JsonAbi,
    pub(crate) bytecode: Bytes,
    pub(crate) deployed_bytecode: Bytes,
    /// keccak256 of the artifact file's bytes, recorded in the deployment file.
    pub(crate) file_hash: B256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArtifact {
    abi: JsonAbi,
    bytecode: RawCode,
    deployed_bytecode: RawCode,
}

#[derive(Deserialize)]
struct RawCode {
    object: String,
}

/// Every artifact in a directory, by contract name.
#[derive(Debug, Clone)]
pub(crate) struct Artifacts {
    dir: PathBuf,
    by_name: BTreeMap<String, Artifact>,
}

impl Artifacts {
    /// `explicit` (a directory of artifact files), or the artifacts built into this binary from
    /// the committed `abi/artifacts` (so an installed `sankofa` needs no checkout).
    pub(crate) fn locate(explicit: Option<&Path>) -> anyhow::Result<Self> {
        match explicit {
            Some(dir) => Self::load(dir),
            None => Self::embedded(),
        }
    }

    /// The artifacts compiled into `sankofa-abi`.
    pub(crate) fn embedded() -> anyhow::Result<Self> {
        let mut by_name = BTreeMap::new();
        for a in sankofa_abi::artifacts::DEPLOYED {
            let path = PathBuf::from(format!("abi/artifacts/{}.json", a.name));
            by_name.insert(a.name.to_string(), parse(&path, a.json)?);
        }
        Ok(Self {
            dir: PathBuf::from("<built-in abi/artifacts>"),
            by_name,
        })
    }

    pub(crate) fn load(dir: &Path) -> anyhow::Result<Self> {
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!(
                "reading the artifacts directory {}; run `sankofa compile`",
                dir.display()
            )
        })?;
        let mut by_name = BTreeMap::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            by_name.insert(name.clone(), parse(&path, &bytes)?);
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            by_name,
        })
    }

    /// A deployable artifact by contract name.
    pub(crate) fn get(&self, name: &str) -> anyhow::Result<&Artifact> {
        match self.by_name.get(name) {
            Some(a) if !a.bytecode.is_empty() => Ok(a),
            Some(_) => bail!(
                "artifact {name} in {} has no bytecode (an interface?)",
                self.dir.display()
            ),
            None => bail!(
                "no artifact {name}.json in {}; run `sankofa compile` (or pass --artifacts)",
                self.dir.display()
            ),
        }
    }

    /// Every custom error of every artifact, by selector, for decoding reverts.
    pub(crate) fn errors(&self) -> ErrorDecoder {
        let mut by_selector = HashMap::new();
        for artifact in self.by_name.values() {
            for error in artifact.abi.errors() {
                by_selector
                    .entry(error.selector())
                    .or_insert_with(|| error.clone());
            }
        }
        ErrorDecoder { by_selector }
    }
}

fn parse(path: &Path, bytes: &[u8]) -> anyhow::Result<Artifact> {
    let raw: RawArtifact = serde_json::from_slice(bytes)
        .with_context(|| format!("{} is not a contract artifact", path.display()))?;
    let hex_field = |s: &str, what: &str| -> anyhow::Result<Bytes> {
        s.parse::<Bytes>()
            .with_context(|| format!("{}: {what} is not hex", path.display()))
    };
    Ok(Artifact {
        abi: raw.abi,
        bytecode: hex_field(&raw.bytecode.object, "bytecode.object")?,
        deployed_bytecode: hex_field(&raw.deployed_bytecode.object, "deployedBytecode.object")?,
        file_hash: keccak256(bytes),
    })
}

/// Decodes revert data into `Name(arg, ...)` using the artifacts' error ABIs.
#[derive(Debug, Clone, Default)]
pub(crate) struct ErrorDecoder {
    by_selector: HashMap<FixedBytes<4>, AbiError>,
}

impl ErrorDecoder {
    /// `Some("RolloutPhaseCriteriaUnmet(phase: 1, kind: 0, have: 0, need: 3)")`, or a
    /// description of what the data is when no artifact knows the selector.
    pub(crate) fn decode(&self, data: &[u8]) -> String {
        if data.len() < 4 {
            return if data.is_empty() {
                "reverted without data".to_string()
            } else {
                format!(
                    "reverted with malformed data {}",
                    Bytes::copy_from_slice(data)
                )
            };
        }
        let selector = FixedBytes::<4>::from_slice(&data[..4]);
        // Error(string) and Panic(uint256) are Solidity's built-ins.
        if selector == FixedBytes([0x08, 0xc3, 0x79, 0xa0])
            && let Ok(DynSolValue::String(s)) =
                alloy::dyn_abi::DynSolType::String.abi_decode(&data[4..])
        {
            return format!("Error({s:?})");
        }
        let Some(error) = self.by_selector.get(&selector) else {
            return format!(
                "unknown custom error {selector} (data {})",
                Bytes::copy_from_slice(data)
            );
        };
        match error.abi_decode_input(&data[4..]) {
            Ok(values) => {
                let args: Vec<String> = error
                    .inputs
                    .iter()
                    .zip(values.iter())
                    .map(|(param, value)| {
                        if param.name.is_empty() {
                            show(value)
                        } else {
                            format!("{}: {}", param.name, show(value))
                        }
                    })
                    .collect();
                format!("{}({})", error.name, args.join(", "))
            }
            Err(_) => format!("{} (undecodable arguments)", error.name),
        }
    }
}

/// AccessControl role ids are keccak256 of their names: show the name.
fn role_name(word: &B256) -> Option<&'static str> {
    const ROLES: [&str; 7] = [
        "GOVERNANCE_ROLE",
        "REGISTRAR_ROLE",
        "ROLLOUT_ROLE",
        "GUARDIAN_ROLE",
        "PROPOSER_ROLE",
        "CANCELLER_ROLE",
        "EXECUTOR_ROLE",
    ];
    if word.is_zero() {
        return Some("DEFAULT_ADMIN_ROLE");
    }
    ROLES.into_iter().find(|r| keccak256(r.as_bytes()) == *word)
}

/// Human form of an error argument: site ids as names, addresses checksummed.
fn show(value: &DynSolValue) -> String {
    match value {
        DynSolValue::FixedBytes(word, 32) => {
            if let Some(role) = role_name(word) {
                return role.to_string();
            }
            let name = site_name(word);
            if name.starts_with("0x") {
                word.to_string()
            } else {
                format!("\"{name}\"")
            }
        }
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Uint(v, _) => v.to_string(),
        DynSolValue::Int(v, _) => v.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Bytes(b) => Bytes::copy_from_slice(b).to_string(),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use alloy::{json_abi::Error, primitives::U256, sol_types::SolValue};

    use super::*;

    #[test]
    fn decodes_a_custom_error_by_name_with_arguments() {
        let error = Error::parse(
            "RolloutPhaseCriteriaUnmet(uint8 phase, uint8 kind, uint256 have, uint256 need)",
        )
        .expect("signature");
        let mut decoder = ErrorDecoder::default();
        decoder.by_selector.insert(error.selector(), error.clone());
        let mut data = error.selector().to_vec();
        data.extend((U256::from(1), U256::ZERO, U256::from(2), U256::from(3)).abi_encode_params());
        assert_eq!(
            decoder.decode(&data),
            "RolloutPhaseCriteriaUnmet(phase: 1, kind: 0, have: 2, need: 3)"
        );
    }

    #[test]
    fn roles_are_shown_by_name() {
        let error = Error::parse("SiteRegistryUnauthorized(address account, bytes32 role)")
            .expect("signature");
        let mut decoder = ErrorDecoder::default();
        decoder.by_selector.insert(error.selector(), error.clone());
        let mut data = error.selector().to_vec();
        data.extend(
            (
                alloy::primitives::Address::ZERO,
                keccak256("REGISTRAR_ROLE"),
            )
                .abi_encode_params(),
        );
        assert!(
            decoder.decode(&data).ends_with("role: REGISTRAR_ROLE)"),
            "{}",
            decoder.decode(&data)
        );
    }

    #[test]
    fn site_ids_are_shown_as_names() {
        let error = Error::parse("SiteRegistryUnknownSite(bytes32 site)").expect("signature");
        let mut decoder = ErrorDecoder::default();
        decoder.by_selector.insert(error.selector(), error.clone());
        let mut data = error.selector().to_vec();
        data.extend(
            crate::inventory::site_id("core-fra")
                .expect("name")
                .abi_encode(),
        );
        assert_eq!(
            decoder.decode(&data),
            "SiteRegistryUnknownSite(site: \"core-fra\")"
        );
    }
}
