//! A fleet of real `sankofa-agent` processes: one keystore key, config, state directory and
//! process per site, started and stopped together.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime},
};

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};
use sankofa_testkit::AgentConfig;
use zeroize::Zeroizing;

/// The bench keystores' password: not a secret (throw-away keys on a local anvil).
const PASSWORD: &str = "sankofa-bench";

/// The log line the agent prints once its event stream is live (node-agent/src/service.rs).
const READY: &str = "event stream live; ready";

/// Keys for the agents, as keystore files the agents open themselves (release builds refuse
/// the in-process MockHsm). Made once per bench run and reused by every scenario.
#[derive(Debug)]
pub(crate) struct Keys {
    /// (signer, keystore file, password file), by agent index.
    pub(crate) keys: Vec<(PrivateKeySigner, PathBuf, PathBuf)>,
}

impl Keys {
    /// Creates `n` fresh keystores in `dir` (scrypt runs on the blocking pool, both cores).
    pub(crate) async fn create(dir: &Path, n: usize) -> anyhow::Result<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let password_file = dir.join("password");
        std::fs::write(&password_file, PASSWORD)
            .with_context(|| format!("writing {}", password_file.display()))?;
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let path = dir.join(format!("agent-{i}.json"));
            tasks.push(async move {
                let signer = sankofa_keys::keystore::create(
                    &path,
                    Zeroizing::new(PASSWORD.to_owned()),
                    None,
                )
                .await
                .with_context(|| format!("creating keystore {}", path.display()))?;
                anyhow::Ok((signer, path))
            });
        }
        let mut keys = Vec::with_capacity(n);
        for made in futures::future::join_all(tasks).await {
            let (signer, path) = made?;
            keys.push((signer, path, password_file.clone()));
        }
        Ok(Self { keys })
    }
}

/// One running agent.
#[derive(Debug)]
pub(crate) struct Agent {
    /// Its site.
    pub(crate) site: String,
    /// Its state directory.
    pub(crate) state_dir: PathBuf,
    /// Its stderr (tracing) log.
    pub(crate) log: PathBuf,
    child: Option<Child>,
}

impl Agent {
    /// The process id while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

/// The agents of one scenario.
#[derive(Debug)]
pub(crate) struct Fleet {
    /// In site order.
    pub(crate) agents: Vec<Agent>,
}

impl Fleet {
    /// Writes each config under `dir/<site>/` and starts the processes.
    pub(crate) fn start(bin: &Path, dir: &Path, configs: Vec<AgentConfig>) -> anyhow::Result<Self> {
        let mut agents = Vec::with_capacity(configs.len());
        for cfg in configs {
            let home = dir.join(&cfg.site);
            std::fs::create_dir_all(&home)
                .with_context(|| format!("creating {}", home.display()))?;
            let config = home.join("agent.toml");
            std::fs::write(&config, cfg.render())
                .with_context(|| format!("writing {}", config.display()))?;
            let log = home.join("agent.log");
            let stderr = std::fs::File::create(&log)
                .with_context(|| format!("creating {}", log.display()))?;
            let child = Command::new(bin)
                .args(["run", "--config"])
                .arg(&config)
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            agents.push(Agent {
                site: cfg.site,
                state_dir: cfg.state_dir,
                log,
                child: Some(child),
            });
        }
        Ok(Self { agents })
    }

    /// Process ids of the running agents.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.agents.iter().filter_map(Agent::pid).collect()
    }

    /// Waits until every agent logged that its stream is live; fails naming an agent that
    /// exited or stayed silent (with the tail of its log).
    pub(crate) async fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let mut ready = vec![false; self.agents.len()];
        loop {
            for (i, agent) in self.agents.iter_mut().enumerate() {
                if ready[i] {
                    continue;
                }
                let text = std::fs::read_to_string(&agent.log).unwrap_or_default();
                if text.contains(READY) {
                    ready[i] = true;
                    continue;
                }
                if let Some(child) = agent.child.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    bail!(
                        "agent {} exited ({status}) before it was ready; its log {}:\n{}",
                        agent.site,
                        agent.log.display(),
                        tail(&text, 15)
                    );
                }
            }
            if ready.iter().all(|r| *r) {
                return Ok(start.elapsed());
            }
            if start.elapsed() > limit {
                let slow = ready.iter().position(|r| !*r).unwrap_or(0);
                let agent = &self.agents[slow];
                bail!(
                    "{} of {} agents not ready after {limit:?}; e.g. {} ({}):\n{}",
                    ready.iter().filter(|r| !**r).count(),
                    ready.len(),
                    agent.site,
                    agent.log.display(),
                    tail(&std::fs::read_to_string(&agent.log).unwrap_or_default(), 15)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// When each agent's first step started (unix time), as written by the bench plan's step 0
    /// (`date +%s.%N` into its step log); `None` for agents that have not started it yet.
    pub(crate) fn first_step_starts(&self) -> Vec<Option<SystemTime>> {
        self.agents
            .iter()
            .map(|a| first_step_start(&a.state_dir.join("logs")))
            .collect()
    }

    /// SIGTERM to every agent, then waits up to `grace` before killing what is left.
    pub(crate) fn stop(&mut self, grace: Duration) {
        for agent in &self.agents {
            if let Some(child) = &agent.child {
                // SAFETY: kill(2) on our own child's pid; no memory is touched.
                unsafe {
                    libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
                }
            }
        }
        let deadline = Instant::now() + grace;
        for agent in &mut self.agents {
            if let Some(mut child) = agent.child.take() {
                loop {
                    match child.try_wait() {
                        Ok(Some(_)) => break,
                        Ok(None) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        _ => {
                            let _ = child.kill();
                            let _ = child.wait();
                            break;
                        }
                    }
                }
            }
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// Finds `wave-*/step-000-*.log` under `logs` and reads the first `secs.nanos` token in it.
fn first_step_start(logs: &Path) -> Option<SystemTime> {
    for wave in std::fs::read_dir(logs).ok()?.flatten() {
        for entry in std::fs::read_dir(wave.path()).ok()?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("step-000")
                && name.ends_with(".log")
                && !name.ends_with(".check.log")
            {
                let text = std::fs::read_to_string(entry.path()).ok()?;
                return text.split_whitespace().find_map(parse_unix);
            }
        }
    }
    None
}

/// `1733250000.123456789` -> that instant.
fn parse_unix(token: &str) -> Option<SystemTime> {
    let (secs, nanos) = token.split_once('.')?;
    if secs.len() < 9 || nanos.len() != 9 {
        return None;
    }
    let d = Duration::new(secs.parse().ok()?, nanos.parse().ok()?);
    Some(SystemTime::UNIX_EPOCH + d)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_date_output() {
        let t = parse_unix("1733250000.123456789").expect("a time");
        let d = t
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after epoch");
        assert_eq!(
            (d.as_secs(), d.subsec_nanos()),
            (1_733_250_000, 123_456_789)
        );
        assert_eq!(parse_unix("# attempt 1"), None);
        assert_eq!(parse_unix("12.5"), None);
    }

    #[test]
    fn finds_step_zero_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wave = dir.path().join("wave-1");
        std::fs::create_dir_all(&wave).expect("mkdir");
        std::fs::write(wave.join("step-000-start.check.log"), "1.000000000").expect("write");
        assert_eq!(first_step_start(dir.path()), None);
        std::fs::write(wave.join("step-000-start.log"), "1733250000.000000001\n").expect("write");
        assert!(first_step_start(dir.path()).is_some());
    }
}
