//! Step plans: the TOML format, validation, variable substitution and the plan hash.
//!
//! A plan's keccak256 over its exact bytes is the plan hash in the on-chain approval. Commands
//! run without a shell (`program` + `args`) unless a step asks for one (`shell = "..."`, run as
//! `/bin/sh -c`, with the plan's `shell_prelude` in front). `{{name}}` is replaced by a site
//! variable (see [`Vars`]); `{{{{` is a literal `{{`. Unknown variables are rejected when the plan
//! is loaded, before anything runs.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::primitives::{B256, keccak256};
use serde::Deserialize;

use crate::error::{Error, Result};

/// A command: exactly one of `program` (+ `args`) or `shell`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cmd {
    /// Program to execute directly (no shell).
    #[serde(default)]
    pub program: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// A shell script, run with `/bin/sh -c` (only when the plan asks for it).
    #[serde(default)]
    pub shell: Option<String>,
}

fn d_timeout() -> u64 {
    60
}
fn d_backoff() -> u64 {
    200
}

/// One `[[step]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique name (used in logs and the step log file name).
    pub name: String,
    /// What the step does.
    #[serde(default)]
    pub description: String,
    /// The command.
    pub run: Cmd,
    /// If it exits 0 the step is already satisfied: reported as Skipped without running.
    #[serde(default)]
    pub check: Option<Cmd>,
    /// Undoes the step when a rollback is ordered (absent: nothing to undo, reported Skipped).
    #[serde(default)]
    pub rollback: Option<Cmd>,
    /// Extra environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds before the attempt is killed.
    #[serde(default = "d_timeout")]
    pub timeout_secs: u64,
    /// Extra attempts after a failure.
    #[serde(default)]
    pub retries: u32,
    /// First delay between attempts (doubles each time).
    #[serde(default = "d_backoff")]
    pub retry_backoff_ms: u64,
    /// May run again after an interrupted run (a crash mid-step).
    #[serde(default)]
    pub idempotent: bool,
}

impl Step {
    /// The attempt timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// A plan file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Plan name.
    pub name: String,
    /// Which tier it is for (informational).
    #[serde(default)]
    pub tier: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// Prepended to every `shell` command (helpers such as the fail-on-purpose check).
    #[serde(default)]
    pub shell_prelude: String,
    /// Environment for every step.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The steps, in order (step index = position).
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// Site variables substituted into plans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars(pub BTreeMap<String, String>);

impl Vars {
    /// The names every plan may use.
    pub const NAMES: &'static [&'static str] = &[
        "site",
        "site_id",
        "tier",
        "region",
        "parent",
        "rpc_url",
        "root",
        "wave",
        "plan_hash",
        "chain_id",
    ];

    /// Variables with placeholder values, to validate a plan before the real ones are known.
    pub fn placeholders() -> Self {
        Self(
            Self::NAMES
                .iter()
                .map(|n| ((*n).to_owned(), format!("<{n}>")))
                .collect(),
        )
    }

    /// Replaces `{{name}}`; `{{{{` stays a literal `{{`.
    pub fn substitute(&self, s: &str) -> std::result::Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            if let Some(stripped) = after.strip_prefix("{{") {
                out.push_str("{{");
                rest = stripped;
                continue;
            }
            let Some(end) = after.find("}}") else {
                return Err(format!("unclosed `{{{{` in {s:?}"));
            };
            let name = after[..end].trim();
            match self.0.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    return Err(format!(
                        "unknown variable `{{{{{name}}}}}`; known: {}",
                        Self::NAMES.join(", ")
                    ));
                }
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A command with variables substituted, ready to spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Program.
    pub program: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Environment (plan-wide, then step).
    pub env: BTreeMap<String, String>,
}

/// A plan with its hash and the bytes it was parsed from.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    /// The parsed plan.
    pub plan: Plan,
    /// keccak256 of `bytes`.
    pub hash: B256,
}

/// keccak256 of the plan's exact bytes.
pub fn plan_hash(bytes: &[u8]) -> B256 {
    keccak256(bytes)
}

impl Plan {
    /// Parses and validates plan bytes; `origin` names the source in errors.
    pub fn parse(origin: &str, bytes: &[u8]) -> Result<LoadedPlan> {
        let bad = |message: String| Error::Plan {
            origin: origin.to_owned(),
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        let plan: Plan = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        plan.validate(origin)?;
        Ok(LoadedPlan {
            plan,
            hash: plan_hash(bytes),
        })
    }

    fn validate(&self, origin: &str) -> Result<()> {
        let bad = |message: String| Error::Plan {
            origin: origin.to_owned(),
            message,
        };
        if self.steps.is_empty() {
            return Err(bad("has no [[step]]".into()));
        }
        if self.steps.len() > u16::MAX as usize {
            return Err(bad("has more steps than a uint16 step index allows".into()));
        }
        let mut seen = std::collections::HashSet::new();
        let vars = Vars::placeholders();
        for (i, s) in self.steps.iter().enumerate() {
            let at = format!("step {i} `{}`", s.name);
            if s.name.is_empty()
                || !s
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(bad(format!(
                    "step {i}: name must be non-empty [A-Za-z0-9_-]"
                )));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(bad(format!("{at}: duplicate step name")));
            }
            if s.timeout_secs == 0 {
                return Err(bad(format!("{at}: timeout_secs must be > 0")));
            }
            for (field, cmd) in [
                ("run", Some(&s.run)),
                ("check", s.check.as_ref()),
                ("rollback", s.rollback.as_ref()),
            ] {
                let Some(cmd) = cmd else { continue };
                self.resolve(cmd, s, &vars)
                    .map_err(|m| bad(format!("{at}: {field}: {m}")))?;
            }
        }
        Ok(())
    }

    /// Builds the process for `cmd` of `step` with `vars` substituted.
    pub fn resolve(
        &self,
        cmd: &Cmd,
        step: &Step,
        vars: &Vars,
    ) -> std::result::Result<Resolved, String> {
        let (program, args) = match (&cmd.program, &cmd.shell) {
            (Some(p), None) => {
                let args = cmd
                    .args
                    .iter()
                    .map(|a| vars.substitute(a))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                (vars.substitute(p)?, args)
            }
            (None, Some(sh)) => {
                if !cmd.args.is_empty() {
                    return Err("`args` goes with `program`, not with `shell`".into());
                }
                let script = if self.shell_prelude.is_empty() {
                    vars.substitute(sh)?
                } else {
                    format!(
                        "{}\n{}",
                        vars.substitute(&self.shell_prelude)?,
                        vars.substitute(sh)?
                    )
                };
                ("/bin/sh".to_owned(), vec!["-c".to_owned(), script])
            }
            _ => return Err("set exactly one of `program` or `shell`".into()),
        };
        let mut env = BTreeMap::new();
        for (k, v) in self.env.iter().chain(step.env.iter()) {
            env.insert(k.clone(), vars.substitute(v)?);
        }
        Ok(Resolved { program, args, env })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const PLAN: &str = r#"
name = "t"
shell_prelude = "set -eu"
[[step]]
name = "a"
run = { program = "/bin/echo", args = ["{{site}}", "{{{{literal}}"] }
check = { shell = "test -f {{root}}/a" }
[[step]]
name = "b"
run = { shell = "echo {{region}}" }
"#;

    #[test]
    fn parses_hashes_and_substitutes() {
        let p = Plan::parse("t.toml", PLAN.as_bytes()).unwrap();
        assert_eq!(p.hash, keccak256(PLAN.as_bytes()));
        let mut vars = Vars::placeholders();
        vars.0.insert("site".into(), "edge-1".into());
        let r = p
            .plan
            .resolve(&p.plan.steps[0].run, &p.plan.steps[0], &vars)
            .unwrap();
        assert_eq!(r.args, vec!["edge-1".to_owned(), "{{literal}}".to_owned()]);
        let r = p
            .plan
            .resolve(&p.plan.steps[1].run, &p.plan.steps[1], &vars)
            .unwrap();
        assert_eq!(r.program, "/bin/sh");
        assert_eq!(r.args[1], "set -eu\necho <region>");
    }

    #[test]
    fn one_byte_changes_the_hash() {
        let tampered = PLAN.replace("echo {{region}}", "echo {{region}} ");
        assert_ne!(plan_hash(PLAN.as_bytes()), plan_hash(tampered.as_bytes()));
    }

    #[test]
    fn unknown_variable_and_bad_steps_are_rejected_with_the_step_named() {
        let e = Plan::parse("t.toml", PLAN.replace("{{region}}", "{{zone}}").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("step 1 `b`") && e.contains("zone"), "{e}");
        let e = Plan::parse(
            "t.toml",
            PLAN.replace("name = \"b\"", "name = \"a\"").as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("duplicate"), "{e}");
        let e = Plan::parse("t.toml", b"name = \"x\"\nstep = []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no [[step]]"), "{e}");
        let e = Plan::parse(
            "t.toml",
            PLAN.replace(
                "[[step]]\nname = \"b\"",
                "[[step]]\nname = \"b\"\ncolour = 1",
            )
            .as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("colour"), "{e}");
    }
}
