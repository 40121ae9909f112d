//! The committed artifacts as bytes, for hashing into deployment records and for tools that
//! need the raw ABI or bytecode (the genesis builder preloads `ValidatorSet`'s runtime code).

use alloy::primitives::{B256, keccak256};

/// One committed artifact file.
#[derive(Debug, Clone, Copy)]
pub struct Artifact {
    /// The contract name (file `abi/artifacts/<name>.json`).
    pub name: &'static str,
    /// The exact committed JSON bytes.
    pub json: &'static [u8],
}

impl Artifact {
    /// keccak256 of the artifact file: recorded in `deployments/<network>.json` so a later run can
    /// tell whether what is deployed was built from the same artifacts.
    pub fn hash(&self) -> B256 {
        keccak256(self.json)
    }

    /// The deployed (runtime) bytecode, decoded from the artifact.
    pub fn deployed_bytecode(&self) -> Result<Vec<u8>, String> {
        let value: serde_json::Value = serde_json::from_slice(self.json)
            .map_err(|e| format!("abi/artifacts/{}.json is not valid JSON: {e}", self.name))?;
        let hex = value["deployedBytecode"]["object"]
            .as_str()
            .ok_or_else(|| {
                format!(
                    "abi/artifacts/{}.json has no deployedBytecode.object",
                    self.name
                )
            })?;
        alloy::hex::decode(hex)
            .map_err(|e| format!("abi/artifacts/{}.json: bad bytecode hex: {e}", self.name))
    }
}

macro_rules! artifacts {
    ($($konst:ident => $name:literal),+ $(,)?) => {
        $(
            #[doc = concat!("`abi/artifacts/", $name, ".json`")]
            pub const $konst: Artifact =
                Artifact { name: $name, json: include_bytes!(concat!("../artifacts/", $name, ".json")) };
        )+
        /// Every artifact the deployer deploys, in deployment order.
        pub const DEPLOYED: &[Artifact] = &[$($konst),+];
    };
}

artifacts!(
    TIMELOCK_CONTROLLER => "TimelockController",
    COUNCIL => "Council",
    SANKOFA_GOVERNOR => "SankofaGovernor",
    SITE_REGISTRY => "SiteRegistry",
    VALIDATOR_SET => "ValidatorSet",
    ROLLOUT => "Rollout",
);
