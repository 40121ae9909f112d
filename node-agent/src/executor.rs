//! Running one command of a step: no shell unless the plan asked for one, a cleared environment
//! plus the site variables, a per-step log file (stdout and stderr, every attempt), a timeout that
//! kills the whole process group, retries with exponential backoff, and a grace period on
//! shutdown. The digest reported on chain is keccak256 of the step's log file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use alloy::primitives::{B256, keccak256};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::plan::Resolved;

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Exit status 0.
    Success,
    /// Non-zero exit or killed by a signal.
    Failed(String),
    /// Killed after the timeout.
    TimedOut,
}

/// The outcome of a command with its retries.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The last attempt's exit.
    pub exit: Exit,
    /// Attempts made.
    pub attempts: u32,
    /// keccak256 of the log file.
    pub digest: B256,
    /// The log file.
    pub log: PathBuf,
}

/// What to run and how.
#[derive(Debug)]
pub struct Job<'a> {
    /// The step's name (for errors).
    pub step: &'a str,
    /// The resolved command.
    pub cmd: &'a Resolved,
    /// Working directory (the sandbox root).
    pub cwd: &'a Path,
    /// Environment besides the command's own (the site variables).
    pub base_env: &'a BTreeMap<String, String>,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Extra attempts.
    pub retries: u32,
    /// First backoff.
    pub backoff: Duration,
    /// The log file (truncated first).
    pub log: &'a Path,
    /// Time a running attempt gets to finish after shutdown is requested.
    pub grace: Duration,
}

fn exec_err(step: &str, message: String) -> Error {
    Error::Exec {
        step: step.to_owned(),
        message,
    }
}

/// Runs a job to completion. `Err(Error::Shutdown)` if shutdown interrupted an attempt beyond
/// the grace period (the step then counts as interrupted, never as finished).
pub async fn run(job: &Job<'_>, shutdown: &CancellationToken) -> Result<Outcome> {
    if let Some(dir) = job.log.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|source| Error::Io {
                what: "creating log directory",
                path: dir.to_owned(),
                source,
            })?;
    }
    let file = std::fs::File::create(job.log).map_err(|source| Error::Io {
        what: "creating step log",
        path: job.log.to_owned(),
        source,
    })?;
    drop(file);
    let mut attempts = 0;
    let mut backoff = job.backoff;
    let exit = loop {
        attempts += 1;
        append(
            job.log,
            &format!(
                "# attempt {attempts}: {} {:?}\n",
                job.cmd.program, job.cmd.args
            ),
        )?;
        let exit = attempt(job, shutdown).await?;
        append(job.log, &format!("# attempt {attempts} ended: {exit:?}\n"))?;
        if exit == Exit::Success || attempts > job.retries || shutdown.is_cancelled() {
            break exit;
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
    };
    let bytes = tokio::fs::read(job.log).await.map_err(|source| Error::Io {
        what: "reading step log",
        path: job.log.to_owned(),
        source,
    })?;
    Ok(Outcome {
        exit,
        attempts,
        digest: keccak256(&bytes),
        log: job.log.to_owned(),
    })
}

fn append(path: &Path, line: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|source| Error::Io {
            what: "opening step log",
            path: path.to_owned(),
            source,
        })?;
    f.write_all(line.as_bytes()).map_err(|source| Error::Io {
        what: "writing step log",
        path: path.to_owned(),
        source,
    })
}

async fn attempt(job: &Job<'_>, shutdown: &CancellationToken) -> Result<Exit> {
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(job.log)
        .map_err(|source| Error::Io {
            what: "opening step log",
            path: job.log.to_owned(),
            source,
        })?;
    let log2 = log.try_clone().map_err(|source| Error::Io {
        what: "opening step log",
        path: job.log.to_owned(),
        source,
    })?;
    let mut cmd = tokio::process::Command::new(&job.cmd.program);
    cmd.args(&job.cmd.args)
        .current_dir(job.cwd)
        .env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        )
        .env("LANG", "C.UTF-8")
        .envs(job.base_env)
        .envs(&job.cmd.env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        // Its own process group, so a timeout kills everything the step started.
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of the parent.
    // If the agent dies (even by SIGKILL) the step dies with it, so a crash never leaves a step
    // running unobserved next to the restarted agent.
    #[cfg(target_os = "linux")]
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            // A missing or non-executable program is the step failing, reported as such.
            let msg = format!("cannot start `{}`: {e}", job.cmd.program);
            append(job.log, &format!("{msg}\n"))?;
            return Ok(Exit::Failed(msg));
        }
    };
    let pid = child.id();
    let started = Instant::now();
    let deadline = tokio::time::sleep(job.timeout);
    tokio::pin!(deadline);
    let grace = async {
        shutdown.cancelled().await;
        tokio::time::sleep(job.grace).await;
    };
    tokio::pin!(grace);
    let status = tokio::select! {
        s = child.wait() => s.map_err(|e| exec_err(job.step, format!("waiting for the process: {e}")))?,
        _ = &mut deadline => {
            kill_group(pid);
            let _ = child.wait().await;
            tracing::warn!(target: "agent::executor", step = job.step, secs = started.elapsed().as_secs(), "step timed out; killed");
            return Ok(Exit::TimedOut);
        }
        _ = &mut grace => {
            kill_group(pid);
            let _ = child.wait().await;
            tracing::warn!(target: "agent::executor", step = job.step, "grace period over; step killed for shutdown");
            return Err(Error::Shutdown);
        }
    };
    Ok(if status.success() {
        Exit::Success
    } else {
        Exit::Failed(status.to_string())
    })
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid {
        // SAFETY: kill(2) with a negative pid signals the process group we created for the child;
        // it has no memory-safety preconditions.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn resolved(script: &str) -> Resolved {
        Resolved {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn retries_then_succeeds_and_digest_covers_output() {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("n");
        let cmd = resolved(&format!(
            "echo run >> {0}; test $(wc -l < {0}) -ge 2",
            counter.display()
        ));
        let log = dir.path().join("s.log");
        let env = BTreeMap::new();
        let job = Job {
            step: "s",
            cmd: &cmd,
            cwd: dir.path(),
            base_env: &env,
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(1),
            log: &log,
            grace: Duration::from_secs(1),
        };
        let out = run(&job, &CancellationToken::new()).await.unwrap();
        assert_eq!(out.exit, Exit::Success);
        assert_eq!(out.attempts, 2);
        assert_eq!(out.digest, keccak256(std::fs::read(&log).unwrap()));
    }

    #[tokio::test]
    async fn a_missing_program_is_a_failed_step_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = Resolved {
            program: "/nonexistent/tool".into(),
            args: vec![],
            env: BTreeMap::new(),
        };
        let log = dir.path().join("s.log");
        let env = BTreeMap::new();
        let job = Job {
            step: "s",
            cmd: &cmd,
            cwd: dir.path(),
            base_env: &env,
            timeout: Duration::from_secs(5),
            retries: 0,
            backoff: Duration::from_millis(1),
            log: &log,
            grace: Duration::from_secs(1),
        };
        let out = run(&job, &CancellationToken::new()).await.unwrap();
        assert!(
            matches!(out.exit, Exit::Failed(ref m) if m.contains("cannot start")),
            "{:?}",
            out.exit
        );
        assert!(
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("/nonexistent/tool")
        );
    }

    #[tokio::test]
    async fn timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let cmd = resolved(&format!("(sleep 2; touch {}) & wait", marker.display()));
        let log = dir.path().join("s.log");
        let env = BTreeMap::new();
        let job = Job {
            step: "s",
            cmd: &cmd,
            cwd: dir.path(),
            base_env: &env,
            timeout: Duration::from_millis(200),
            retries: 0,
            backoff: Duration::from_millis(1),
            log: &log,
            grace: Duration::from_secs(1),
        };
        let out = run(&job, &CancellationToken::new()).await.unwrap();
        assert_eq!(out.exit, Exit::TimedOut);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            !marker.exists(),
            "the background child survived the timeout"
        );
    }
}
