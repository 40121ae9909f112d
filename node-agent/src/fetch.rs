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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const PLAN: &str = "name = \"p\"\n[[step]]\nname = \"a\"\nrun = { program = \"/bin/true\" }\n";

    async fn serve_once(body: &'static str) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await.unwrap();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(resp.as_bytes()).await.unwrap();
        });
        format!("http://{addr}/plans/p.toml")
    }

    #[tokio::test]
    async fn http_plans_are_verified_and_cached_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let uri = serve_once(PLAN).await;
        let want = plan_hash(PLAN.as_bytes());
        let got = fetch_plan(&uri, want, dir.path(), Duration::from_secs(5))
            .await
            .unwrap();
        assert!(matches!(got, Fetched::Verified(p) if p.hash == want));
        // The cache answers now, even with the server gone.
        let again = fetch_plan(&uri, want, dir.path(), Duration::from_secs(5))
            .await
            .unwrap();
        assert!(matches!(again, Fetched::Verified(_)));
    }

    #[tokio::test]
    async fn a_different_body_is_a_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let uri = serve_once(PLAN).await;
        let other = plan_hash(b"something else");
        let got = fetch_plan(&uri, other, dir.path(), Duration::from_secs(5))
            .await
            .unwrap();
        assert!(
            matches!(got, Fetched::HashMismatch { actual } if actual == plan_hash(PLAN.as_bytes()))
        );
        assert!(
            !dir.path().join(format!("{other}.toml")).exists(),
            "a refused plan is not cached"
        );
    }
}
