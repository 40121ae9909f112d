//! The inventory check (`audit verify --inventory FILE`): each registered site's `recordHash` is
//! keccak256 of its exact CSV line (no line ending), so an auditor holding the inventory can
//! prove the details they read are the ones registered on chain.

use std::{collections::BTreeMap, path::Path};

use alloy::primitives::{B256, keccak256};
use anyhow::Context;

use super::{
    findings::{Finding, Kind},
    verify::SiteHistory,
};

/// Site name -> (line number, keccak256 of the line's exact bytes), header skipped.
pub(crate) fn record_hashes(path: &Path) -> anyhow::Result<BTreeMap<String, (usize, B256)>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading the inventory {}", path.display()))?;
    let mut out = BTreeMap::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate().skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let name = line.split(|b| *b == b',').next().unwrap_or_default();
        let name = std::str::from_utf8(name)
            .with_context(|| format!("{}:{}: the site name is not UTF-8", path.display(), i + 1))?;
        out.insert(name.to_string(), (i + 1, keccak256(line)));
    }
    Ok(out)
}

/// A finding for every registered site whose inventory line does not hash to its record hash.
pub(crate) fn check(
    path: &Path,
    records: &BTreeMap<String, (usize, B256)>,
    sites: &BTreeMap<B256, SiteHistory>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (id, h) in sites {
        let Some((line, hash)) = records.get(&h.site) else {
            continue;
        };
        if *hash != h.record_hash {
            findings.push(
                Finding::new(
                    Kind::RecordMismatch,
                    format!(
                        "{}:{line} hashes to {hash}, but {} was registered with record hash {}",
                        path.display(),
                        h.site,
                        h.record_hash
                    ),
                )
                .site(*id),
            );
        }
    }
    findings
}
