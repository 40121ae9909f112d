//! [`AgentConfig`]: a `sankofa-agent` config file for tests and benchmarks that run real agent
//! processes (the format is documented in `node-agent/README.md`).
//!
//! The signer section is passed in whole, so a debug-build test can use `mockhsm` and a
//! release-build benchmark a keystore (the yubihsm crate refuses `mockhsm` in release builds).

use std::{fmt::Write as _, path::PathBuf};

use alloy::primitives::Address;

/// How the agent learns about new logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventMode {
    /// `eth_subscribe` over WebSocket (needs [`AgentConfig::ws`]).
    Subscribe,
    /// HTTP polling every `interval_ms` plus up to `jitter_ms`.
    Poll {
        /// `events.poll_interval_ms`.
        interval_ms: u64,
        /// `events.poll_jitter_ms`.
        jitter_ms: u64,
    },
}

/// One agent's config; [`AgentConfig::render`] gives the TOML.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// `state_dir` (absolute).
    pub state_dir: PathBuf,
    /// `site.name`.
    pub site: String,
    /// `site.parent` (plan variable only).
    pub parent: String,
    /// `chain.chain_id`.
    pub chain_id: u64,
    /// `chain.rollout`.
    pub rollout: Address,
    /// `chain.registry`.
    pub registry: Address,
    /// `chain.from_block`.
    pub from_block: u64,
    /// The one `[[rpc]]` endpoint's HTTP URL.
    pub http: String,
    /// Its WebSocket URL.
    pub ws: Option<String>,
    /// `events.mode` and its polling period.
    pub mode: EventMode,
    /// `events.block_time_ms` (liveness: resubscribe after 5 silent periods).
    pub block_time_ms: u64,
    /// `log.filter`.
    pub log_filter: String,
    /// The whole `[signer]` table, header included.
    pub signer: String,
}

impl AgentConfig {
    /// The config file's text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        // `write!` to a String cannot fail.
        let _ = writeln!(
            s,
            "state_dir = {}",
            quote(&self.state_dir.display().to_string())
        );
        let _ = writeln!(s, "\n[site]\nname = {}", quote(&self.site));
        let _ = writeln!(s, "parent = {}", quote(&self.parent));
        let _ = writeln!(
            s,
            "\n[chain]\nchain_id = {}\nrollout = \"{}\"\nregistry = \"{}\"\nfrom_block = {}",
            self.chain_id, self.rollout, self.registry, self.from_block
        );
        let _ = writeln!(
            s,
            "\n[[rpc]]\nname = \"bench\"\nhttp = {}",
            quote(&self.http)
        );
        if let Some(ws) = &self.ws {
            let _ = writeln!(s, "ws = {}", quote(ws));
        }
        let _ = writeln!(s, "\n[events]");
        match self.mode {
            EventMode::Subscribe => {
                let _ = writeln!(s, "mode = \"subscribe\"");
            }
            EventMode::Poll {
                interval_ms,
                jitter_ms,
            } => {
                let _ = writeln!(
                    s,
                    "mode = \"poll\"\npoll_interval_ms = {interval_ms}\npoll_jitter_ms = {jitter_ms}"
                );
            }
        }
        let _ = writeln!(s, "block_time_ms = {}", self.block_time_ms);
        let _ = writeln!(s, "\n[log]\nfilter = {}", quote(&self.log_filter));
        let _ = writeln!(s, "\n{}", self.signer.trim_end());
        s
    }
}

/// A `[signer]` table for an encrypted JSON keystore.
pub fn keystore_signer(path: &std::path::Path, password_file: &std::path::Path) -> String {
    format!(
        "[signer]\nbackend = \"keystore\"\npath = {}\npassword_file = {}\n",
        quote(&path.display().to_string()),
        quote(&password_file.display().to_string())
    )
}

/// A TOML basic string (paths and URLs may hold quotes or backslashes).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_poll_mode_and_escapes_paths() {
        let cfg = AgentConfig {
            state_dir: PathBuf::from("/tmp/a \"b\""),
            site: "edge-abc".into(),
            parent: "regional-x".into(),
            chain_id: 31337,
            rollout: Address::repeat_byte(1),
            registry: Address::repeat_byte(2),
            from_block: 3,
            http: "http://127.0.0.1:1".into(),
            ws: None,
            mode: EventMode::Poll {
                interval_ms: 1000,
                jitter_ms: 0,
            },
            block_time_ms: 1000,
            log_filter: "info".into(),
            signer: keystore_signer("/k.json".as_ref(), "/k.pw".as_ref()),
        };
        let text = cfg.render();
        assert!(text.contains("state_dir = \"/tmp/a \\\"b\\\"\""), "{text}");
        assert!(
            text.contains("mode = \"poll\"\npoll_interval_ms = 1000"),
            "{text}"
        );
        assert!(!text.contains("ws ="), "{text}");
        assert!(text.contains("backend = \"keystore\""), "{text}");
    }
}
