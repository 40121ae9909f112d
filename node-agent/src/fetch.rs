//! Fetching a plan from its URI (a file path, `file://`, or `http(s)://`) and verifying its hash.
//! Verified plans are cached by hash, so a restart needs neither the network nor the file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::B256;
use alloy::transports::http::reqwest;

use crate::error::{Error, Result};
use crate::plan::{LoadedPlan, Plan, plan_hash};

/// Largest plan accepted.
const MAX_PLAN_BYTES: usize = 1 << 20;

/// Reads the raw bytes behind `uri`.
pub async fn fetch_bytes(uri: &str, timeout: Duration) -> Result<Vec<u8>> {
    let err = |message: String| Error::PlanFetch {
        uri: uri.to_owned(),
        message,
    };
    if uri.starts_with("http://") || uri.starts_with("https://") {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| err(e.to_string()))?;
        let resp = client
            .get(uri)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(err(format!("HTTP {}", resp.status())));
        }
        let bytes = resp.bytes().await.map_err(|e| err(e.to_string()))?;
        if bytes.len() > MAX_PLAN_BYTES {
            return Err(err(format!("larger than {MAX_PLAN_BYTES} bytes")));
        }
        return Ok(bytes.to_vec());
    }
    let path = PathBuf::from(uri.strip_prefix("file://").unwrap_or(uri));
    if !path.is_absolute() {
        return Err(err(
            "a plan uri must be an absolute path, file://, http:// or https://".into(),
        ));
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| err(e.to_string()))?;
    if bytes.len() > MAX_PLAN_BYTES {
        return Err(err(format!("larger than {MAX_PLAN_BYTES} bytes")));
    }
    Ok(bytes)
}

/// The outcome of fetching an approved plan.
#[derive(Debug)]
pub enum Fetched {
    /// The bytes hash to the approved hash and parse as a valid plan.
    Verified(Box<LoadedPlan>),
    /// The bytes hash to something else (tampered, or the wrong file).
    HashMismatch {
        /// keccak256 of what was fetched.
        actual: B256,
    },
    /// The hash matches but the plan is invalid (refused as well).
    Invalid {
        /// Why.
        message: String,
        /// keccak256 of what was fetched (= the approved hash).
        actual: B256,
    },
}

/// Fetches the plan approved as `expected`, using and filling the cache in `cache_dir`.
pub async fn fetch_plan(
    uri: &str,
    expected: B256,
    cache_dir: &Path,
    timeout: Duration,
) -> Result<Fetched> {
    let cached = cache_dir.join(format!("{expected}.toml"));
    let bytes = match tokio::fs::read(&cached).await {
        Ok(b) if plan_hash(&b) == expected => b,
        _ => fetch_bytes(uri, timeout).await?,
    };
    let actual = plan_hash(&bytes);
    if actual != expected {
        return Ok(Fetched::HashMismatch { actual });
    }
    let loaded = match Plan::parse(uri, &bytes) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Fetched::Invalid {
                message: e.to_string(),
                actual,
            });
        }
    };
    tokio::fs::create_dir_all(cache_dir)
        .await
        .map_err(|source| Error::Io {
            what: "creating plan cache",
            path: cache_dir.to_owned(),
            source,
        })?;
    let tmp = cache_dir.join(format!(".{expected}.tmp"));
    tokio::fs::write(&tmp, &bytes)
        .await
        .map_err(|source| Error::Io {
            what: "writing",
            path: tmp.clone(),
            source,
        })?;
    tokio::fs::rename(&tmp, &cached)
        .await
        .map_err(|source| Error::Io {
            what: "renaming",
            path: cached.clone(),
            source,
        })?;
    Ok(Fetched::Verified(Box::new(loaded)))
}
