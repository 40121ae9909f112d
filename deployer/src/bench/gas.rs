//! Gas per operation, ours beside the floor contract's, from the forge snapshots that
//! `contracts/test/bench/Gas.t.sol` writes (`contracts/snapshots/{sankofa,floor}.json`).

use std::{collections::BTreeMap, path::Path, process::Command};

use anyhow::{Context, bail};
use serde::Serialize;

use super::stats::ratio;

/// The operations the bench reports: (label, snapshot key). Keys ending in `_tx` are whole
/// transactions: 21000 + calldata + execution, every call from cold storage.
const ROWS: &[(&str, &str)] = &[
    (
        "site registration, per site (batches of 50)",
        "registerSites50_perSite_tx",
    ),
    (
        "site registration, per site (batches of 100)",
        "registerSites_perSite_tx",
    ),
    ("agent key binding", "bindAgentKey_tx"),
    (
        "wave approval, per site (100 sites)",
        "approveWave_perSite_tx",
    ),
    ("step report, a middle step", "reportStep_middle_tx"),
    (
        "step report, first step (Approved->Deploying)",
        "reportStep_first_tx",
    ),
    (
        "step report, last step (->Operational)",
        "reportStep_last_tx",
    ),
    ("council vote", "castVote_tx"),
];

/// One operation's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GasRow {
    /// What was measured.
    pub(crate) operation: &'static str,
    /// The snapshot key.
    pub(crate) key: &'static str,
    /// Our contracts.
    pub(crate) ours: u64,
    /// The floor contract, where it has the operation.
    pub(crate) floor: Option<u64>,
    /// ours / floor.
    pub(crate) ratio: Option<f64>,
}

/// Runs the gas bench with forge (unless `run_forge` is false: then the committed snapshots
/// are read as they are) and returns the rows found in the snapshots.
pub(crate) fn measure(root: &Path, forge: &Path, run_forge: bool) -> anyhow::Result<Vec<GasRow>> {
    if run_forge {
        if !forge.is_file() {
            bail!(
                "{} is missing; run scripts/setup (npm ci) first",
                forge.display()
            );
        }
        let out = Command::new(forge)
            .current_dir(root)
            .args([
                "test",
                "--match-path",
                "contracts/test/bench/*",
                "--summary",
            ])
            .output()
            .with_context(|| format!("running {}", forge.display()))?;
        if !out.status.success() {
            bail!(
                "forge test (gas bench) failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let dir = root.join("contracts").join("snapshots");
    let ours = read(&dir.join("sankofa.json"))?;
    let floor = read(&dir.join("floor.json"))?;
    Ok(rows(&ours, &floor))
}

fn rows(ours: &BTreeMap<String, u64>, floor: &BTreeMap<String, u64>) -> Vec<GasRow> {
    ROWS.iter()
        .filter_map(|(operation, key)| {
            let o = *ours.get(*key)?;
            let f = floor.get(*key).copied();
            Some(GasRow {
                operation,
                key,
                ours: o,
                floor: f,
                ratio: f.and_then(|f| ratio(o as f64, f as f64)),
            })
        })
        .collect()
}

/// A forge `snapshotValue` group file: `{ "name": "123", ... }`.
fn read(path: &Path) -> anyhow::Result<BTreeMap<String, u64>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (written by `forge test --match-path 'contracts/test/bench/*'`)",
            path.display()
        )
    })?;
    let raw: BTreeMap<String, String> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a forge snapshot group", path.display()))?;
    raw.into_iter()
        .map(|(k, v)| {
            let n = v
                .parse()
                .with_context(|| format!("{}: `{k}` = `{v}` is not a number", path.display()))?;
            Ok((k, n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pair_ours_with_floor_and_skip_unmeasured() {
        let ours = BTreeMap::from([
            ("reportStep_middle_tx".to_owned(), 39_000),
            ("reportStep_first_tx".to_owned(), 60_000),
        ]);
        let floor = BTreeMap::from([("reportStep_middle_tx".to_owned(), 30_000)]);
        let r = rows(&ours, &floor);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].key, "reportStep_middle_tx");
        assert_eq!(r[0].ratio, Some(1.3));
        assert_eq!((r[1].floor, r[1].ratio), (None, None));
    }
}
