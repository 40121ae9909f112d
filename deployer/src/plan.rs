//! What `propose wave` checks in a step plan before putting it to a vote.
//!
//! A wave approval carries the plan's hash, its URI and its step count; every agent fetches the
//! plan from the URI and refuses it unless the hash matches, the URI is one it can fetch and the
//! plan has exactly the approved number of steps. A mistake in any of them is only found after
//! the vote and the timelock delay, by every agent at once, so it is refused here instead. The
//! full plan validation (commands, variables) stays with the agent, which owns the format.

use std::path::Path;

use alloy::primitives::{B256, keccak256};
use anyhow::{Context, bail};

/// The largest plan an agent fetches (node-agent's limit).
const MAX_PLAN_BYTES: usize = 1 << 20;

/// A plan file as the approval will describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanFacts {
    pub(crate) hash: B256,
    /// The number of `[[step]]` tables.
    pub(crate) steps: u16,
    /// Where agents fetch it.
    pub(crate) uri: String,
}

/// Reads the plan at `path`, counts its steps and settles the URI agents will fetch it from.
pub(crate) fn inspect(
    path: &Path,
    step_count: Option<u16>,
    uri: Option<&str>,
) -> anyhow::Result<PlanFacts> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading the plan {}", path.display()))?;
    facts(path, &bytes, step_count, uri)
}

fn facts(
    path: &Path,
    bytes: &[u8],
    step_count: Option<u16>,
    uri: Option<&str>,
) -> anyhow::Result<PlanFacts> {
    let shown = path.display();
    if bytes.len() > MAX_PLAN_BYTES {
        bail!(
            "the plan {shown} is {} bytes; agents fetch at most {MAX_PLAN_BYTES}",
            bytes.len()
        );
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("the plan {shown} is not UTF-8 (byte {})", e.valid_up_to()))?;
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "the plan {shown} is not valid TOML: {}",
            e.to_string().trim()
        )
    })?;
    let steps = match doc.get("step") {
        None => 0,
        Some(toml::Value::Array(steps)) => steps.len(),
        Some(_) => bail!("the plan {shown}: `step` must be an array of [[step]] tables"),
    };
    if steps == 0 {
        bail!("the plan {shown} has no [[step]]; a wave needs at least one step");
    }
    let steps = u16::try_from(steps)
        .with_context(|| format!("the plan {shown} has {steps} steps; at most 65535"))?;
    if let Some(given) = step_count
        && given != steps
    {
        bail!(
            "--step-count {given}, but the plan {shown} has {steps} [[step]] table(s); agents refuse \
             a wave whose step count differs from its plan. Drop --step-count (it defaults to the plan's)"
        );
    }
    let hash = keccak256(bytes);
    let uri = match uri {
        Some(uri) => check_uri(uri, &hash)?,
        None => {
            // Agents refuse relative paths: they run elsewhere, in another directory.
            let absolute = std::fs::canonicalize(path)
                .with_context(|| format!("resolving the plan path {shown}"))?;
            format!("file://{}", absolute.display())
        }
    };
    Ok(PlanFacts { hash, steps, uri })
}

/// A URI an agent can fetch; a local file it names must be the plan being approved.
fn check_uri(uri: &str, hash: &B256) -> anyhow::Result<String> {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        return Ok(uri.to_string());
    }
    let local = Path::new(uri.strip_prefix("file://").unwrap_or(uri));
    if !local.is_absolute() {
        bail!(
            "--plan-uri {uri}: agents fetch only an absolute path, file://, http:// or https:// URI"
        );
    }
    // The file may exist only on the agents' hosts; if it is here too, it must be this plan.
    if let Ok(there) = std::fs::read(local)
        && keccak256(&there) != *hash
    {
        bail!(
            "--plan-uri {uri}: that file is not the --plan file (keccak256 {} there, {hash} approved); \
             agents would refuse it",
            keccak256(&there)
        );
    }
    Ok(uri.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "name = \"p\"\n[[step]]\nname = \"a\"\nrun = { program = \"true\" }\n\
                        [[step]]\nname = \"b\"\nrun = { program = \"true\" }\n";

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn regress_step_count_mismatch_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let plan = write(dir.path(), "p.toml", PLAN);
        let err = inspect(&plan, Some(3), None).expect_err("3 != 2");
        let msg = format!("{err:#}");
        assert!(
            msg.contains("--step-count 3") && msg.contains("p.toml") && msg.contains("2 [[step]]"),
            "{msg}"
        );
        let facts = inspect(&plan, None, None).expect("defaults to the plan's count");
        assert_eq!(facts.steps, 2);
        assert_eq!(facts.hash, keccak256(PLAN.as_bytes()));
        assert_eq!(inspect(&plan, Some(2), None).expect("matches"), facts);
    }

    #[test]
    fn regress_relative_plan_uri_is_never_approved() {
        let dir = tempfile::tempdir().expect("tmp");
        let plan = write(dir.path(), "p.toml", PLAN);
        let facts = inspect(&plan, None, None).expect("default uri");
        let absolute = std::fs::canonicalize(&plan).expect("canonical");
        assert_eq!(facts.uri, format!("file://{}", absolute.display()));
        let err = inspect(&plan, None, Some("plans/p.toml")).expect_err("relative");
        assert!(format!("{err:#}").contains("absolute path"), "{err:#}");
        for ok in ["https://plans.example/p.toml", "/srv/plans/not-here.toml"] {
            assert_eq!(inspect(&plan, None, Some(ok)).expect(ok).uri, ok);
        }
    }

    #[test]
    fn regress_plan_uri_naming_another_local_file_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let plan = write(dir.path(), "p.toml", PLAN);
        let other = write(dir.path(), "q.toml", &format!("{PLAN}# edited\n"));
        let uri = format!("file://{}", other.display());
        let err = inspect(&plan, None, Some(&uri)).expect_err("different file");
        assert!(
            format!("{err:#}").contains("not the --plan file"),
            "{err:#}"
        );
    }

    #[test]
    fn regress_unparsable_or_empty_plan_is_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let broken = write(dir.path(), "broken.toml", "[[step]\nname = 1\n");
        let msg = format!("{:#}", inspect(&broken, None, None).expect_err("bad TOML"));
        assert!(
            msg.contains("broken.toml") && msg.contains("not valid TOML"),
            "{msg}"
        );
        let empty = write(dir.path(), "empty.toml", "name = \"p\"\n");
        let msg = format!("{:#}", inspect(&empty, None, None).expect_err("no steps"));
        assert!(
            msg.contains("empty.toml") && msg.contains("no [[step]]"),
            "{msg}"
        );
        let missing = dir.path().join("missing.toml");
        let msg = format!("{:#}", inspect(&missing, None, None).expect_err("missing"));
        assert!(msg.contains("missing.toml"), "{msg}");
    }
}
