//! The bench report: the machine and commit it ran on, and every figure beside its reference,
//! as markdown (docs/benchmarks.md) and JSON.

use std::{fmt::Write as _, path::Path, process::Command};

use serde::Serialize;

use super::{
    gas::GasRow,
    scenario::{Mode, Outcome},
    stats::Summary,
};

/// Where the figures were measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    /// Logical CPUs.
    pub(crate) cores: usize,
    /// CPU model name.
    pub(crate) cpu: String,
    /// Total memory in GiB.
    pub(crate) memory_gib: f64,
    /// 1-minute load average when the bench started (the machine may be shared).
    pub(crate) load_at_start: f64,
    /// `git rev-parse --short HEAD`, with `+dirty` when the tree had changes.
    pub(crate) commit: String,
    /// UTC start time.
    pub(crate) date: String,
}

impl Machine {
    /// Reads /proc and git.
    pub(crate) fn probe(root: &Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        let load_at_start = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        let git = |args: &[&str]| {
            Command::new("git")
                .current_dir(root)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let mut commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
        if git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()) {
            commit.push_str("+dirty");
        }
        Self {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu,
            memory_gib: kib / 1024.0 / 1024.0,
            load_at_start,
            commit,
            date: jiff::Timestamp::now()
                .strftime("%Y-%m-%d %H:%M UTC")
                .to_string(),
        }
    }
}

/// A one-off timing of a CLI command.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ToolTiming {
    /// What ran.
    pub(crate) command: String,
    /// Its size (sites).
    pub(crate) sites: usize,
    /// Wall time in seconds.
    pub(crate) seconds: f64,
}

/// Everything one `sankofa bench` run measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// The machine and commit.
    pub(crate) machine: Machine,
    /// `--quick`.
    pub(crate) quick: bool,
    /// Which agent binary ran (`release`, `debug` or its path).
    pub(crate) agent_build: String,
    /// This process's build (the bare subscribers run in it).
    pub(crate) bench_build: &'static str,
    /// Gas rows.
    pub(crate) gas: Vec<GasRow>,
    /// Latency, throughput and resources per scenario.
    pub(crate) scenarios: Vec<Outcome>,
    /// CLI timings.
    pub(crate) tools: Vec<ToolTiming>,
    /// Parts that failed (the rest of the report stands).
    pub(crate) failures: Vec<String>,
}

fn summary(s: Option<Summary>) -> String {
    s.map_or_else(
        || "—".to_owned(),
        |s| format!("{:.0} / {:.0} / {:.0}", s.p50, s.p99, s.max),
    )
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.digits$}"))
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    /// The markdown page (docs/benchmarks.md).
    pub(crate) fn markdown(&self) -> String {
        let m = &self.machine;
        let mut s = String::new();
        // `write!` to a String cannot fail.
        let _ = writeln!(s, "# Benchmarks\n");
        let _ = writeln!(
            s,
            "Written by `scripts/bench` (`sankofa bench{}`); rerun it instead of editing. Every figure \
             stands beside a reference measured in the same run; nothing here is asserted in tests.\n",
            if self.quick { " --quick" } else { "" }
        );
        let _ = writeln!(
            s,
            "Machine: {} cores ({}), {:.1} GiB memory, 1-min load {:.2} at start (shared machine); \
             commit `{}`; {}. Agents: {} build; bench process (bare subscribers): {} build.\n",
            m.cores,
            m.cpu,
            m.memory_gib,
            m.load_at_start,
            m.commit,
            m.date,
            self.agent_build,
            self.bench_build
        );
        if !self.failures.is_empty() {
            let _ = writeln!(s, "**Failed parts of this run:**\n");
            for f in &self.failures {
                let _ = writeln!(s, "- {}", f.replace('\n', " "));
            }
            let _ = writeln!(s);
        }
        self.aims_md(&mut s);
        self.gas_md(&mut s);
        self.latency_md(&mut s);
        self.throughput_md(&mut s);
        self.resources_md(&mut s);
        self.tools_md(&mut s);
        s.push_str(METHOD);
        s
    }

    fn aims_md(&self, s: &mut String) {
        let gas = |key: &str| self.gas.iter().find(|r| r.key == key).and_then(|r| r.ratio);
        let largest = self
            .scenarios
            .iter()
            .filter(|o| o.mode == Mode::WsAutomine)
            .max_by_key(|o| o.agents);
        let idle_rss = self
            .scenarios
            .iter()
            .filter_map(|o| o.idle.as_ref().map(|u| u.rss_mib_max))
            .reduce(f64::max);
        let verdict = |v: Option<f64>, limit: f64| match v {
            Some(v) if v <= limit => "met",
            Some(_) => "**not met**",
            None => "not measured",
        };
        let _ = writeln!(s, "## Aims\n");
        let _ = writeln!(s, "| aim | measured | |\n|---|---:|---|");
        let mut row = |aim: String, v: Option<f64>, unit: &str, limit: f64| {
            let shown = v.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}{unit}"));
            let _ = writeln!(s, "| {aim} | {shown} | {} |", verdict(v, limit));
        };
        row(
            "site registration (batches of 50) within 1.3x of the floor".into(),
            gas("registerSites50_perSite_tx"),
            "x",
            1.3,
        );
        row(
            "step report (whole tx) within 1.3x of the floor".into(),
            gas("reportStep_middle_tx"),
            "x",
            1.3,
        );
        row(
            format!(
                "agent p99 within 2x of the bare subscriber ({} agents, ws-automine; the aim is \
                 set at 325)",
                largest.map_or(0, |o| o.agents)
            ),
            largest.and_then(|o| o.ratio_p99),
            "x",
            2.0,
        );
        row(
            "idle agent RSS under 20 MiB (largest seen)".into(),
            idle_rss,
            " MiB",
            20.0,
        );
        let _ = writeln!(s);
    }

    fn gas_md(&self, s: &mut String) {
        let _ = writeln!(s, "## Gas: ours against a floor contract\n");
        let _ = writeln!(
            s,
            "Whole transactions (21,000 + calldata + execution), each call from cold storage, from \
             the forge snapshots (`contracts/test/bench/`). The floor (`Floor.sol`) does only the \
             mandatory storage writes and one event, no checks. Aim: registration and step report \
             within 1.3x.\n"
        );
        let _ = writeln!(
            s,
            "| operation | ours | floor | ours/floor |\n|---|---:|---:|---:|"
        );
        for r in &self.gas {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                r.operation,
                thousands(r.ours),
                r.floor.map_or_else(|| "—".to_owned(), thousands),
                opt(r.ratio, 2)
            );
        }
        let _ = writeln!(s);
    }

    fn latency_md(&self, s: &mut String) {
        let _ = writeln!(s, "## Event-to-action latency against a bare subscriber\n");
        let _ = writeln!(
            s,
            "From the approval being mined to each agent's first step process running, and in the \
             same run to the same log's arrival at a bare WebSocket subscriber per site (the \
             node's own delivery floor). p50 / p99 / max in ms. Aim: agent p99 within 2x of the \
             floor at 325 agents.\n"
        );
        let _ = writeln!(
            s,
            "| scenario | agents | measured from | agent p50 / p99 / max | bare p50 / p99 / max | \
             ratio p50 | ratio p99 | agent p99 / poll period |\n|---|---:|---|---:|---:|---:|---:|---:|"
        );
        for o in &self.scenarios {
            let missing = if o.missing_agents + o.missing_bare > 0 {
                format!(
                    " (missing: {} agents, {} bare)",
                    o.missing_agents, o.missing_bare
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "| {}{} | {} | {} | {} | {} | {} | {} | {} |",
                o.mode.name(),
                missing,
                o.agents,
                o.t0,
                summary(o.agent_ms),
                summary(o.bare_ms),
                opt(o.ratio_p50, 2),
                opt(o.ratio_p99, 2),
                match o.poll_period_ms {
                    Some(p) => format!("{} (of {p} ms)", opt(o.ratio_p99_poll, 2)),
                    None => "—".to_owned(),
                }
            );
        }
        let _ = writeln!(s);
    }

    fn throughput_md(&self, s: &mut String) {
        let _ = writeln!(s, "## Throughput and rollout wall time\n");
        let _ = writeln!(
            s,
            "Every agent runs the bench plan (step 0 prints the time, the others run `true`) and \
             reports each step; reports/s is counted between the first and the last report. The \
             gas ceiling is the block gas limit over the mean report's gas, per second of block \
             time (automine has no ceiling: a block per transaction). Rollout wall time runs from \
             the approval to the last site's last report: 113 agents are phase 1, 325 all sites.\n"
        );
        let _ = writeln!(
            s,
            "| scenario | agents | reports | reports/s | gas per report | gas ceiling reports/s | rollout wall time (s) | agent start-up (s) |\n|---|---:|---:|---:|---:|---:|---:|---:|"
        );
        for o in &self.scenarios {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {:.1} |",
                o.mode.name(),
                o.agents,
                o.reports,
                opt(o.reports_per_sec, 1),
                opt(o.report_gas_mean, 0),
                opt(o.gas_ceiling_per_sec, 0),
                opt(o.rollout_secs, 1),
                o.startup_secs
            );
        }
        let notes: Vec<_> = self
            .scenarios
            .iter()
            .filter_map(|o| o.note.as_ref().map(|n| format!("- {}: {n}", o.name)))
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(s, "\n{}", notes.join("\n"));
        }
        let _ = writeln!(s);
    }

    fn resources_md(&self, s: &mut String) {
        let _ = writeln!(s, "## Agent resources\n");
        let _ = writeln!(
            s,
            "Per agent process ({} build): RSS median / max in MiB, CPU mean / max in % of one \
             core (step processes included). Idle: live stream, nothing approved. Busy: from the \
             approval to the last report. Aim: idle RSS under 20 MiB.\n",
            self.agent_build
        );
        let _ = writeln!(
            s,
            "| scenario | agents | idle RSS | idle CPU | busy RSS | busy CPU | idle RPC calls per agent per block |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for o in &self.scenarios {
            let rss = |u: &Option<super::resources::Usage>| {
                u.as_ref().map_or_else(
                    || "—".to_owned(),
                    |u| format!("{:.1} / {:.1}", u.rss_mib_p50, u.rss_mib_max),
                )
            };
            let cpu = |u: &Option<super::resources::Usage>| {
                u.as_ref().map_or_else(
                    || "—".to_owned(),
                    |u| format!("{:.2} / {:.2}", u.cpu_pct_mean, u.cpu_pct_max),
                )
            };
            let rpc = if o.mode == Mode::PollBlock1s {
                opt(o.idle_rpc_per_agent_per_block, 2)
            } else {
                "— (push)".to_owned()
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                o.mode.name(),
                o.agents,
                rss(&o.idle),
                cpu(&o.idle),
                rss(&o.busy),
                cpu(&o.busy),
                rpc
            );
        }
        let _ = writeln!(s);
    }

    fn tools_md(&self, s: &mut String) {
        if self.tools.is_empty() {
            return;
        }
        let _ = writeln!(s, "## Operator and auditor commands\n");
        let _ = writeln!(s, "| command | sites | wall time (s) |\n|---|---:|---:|");
        for t in &self.tools {
            let _ = writeln!(s, "| `{}` | {} | {:.2} |", t.command, t.sites, t.seconds);
        }
        let _ = writeln!(s);
    }
}

const METHOD: &str = "## Method\n
- Each scenario starts a fresh anvil (the pinned one), deploys SiteRegistry, ValidatorSet and \
Rollout with an EOA as governance (`sankofa-testkit`), registers the whole inventory \
(`data/sites.csv`, 325 sites), approves phases 1-3 with zero criteria, binds one fresh keystore \
key per chosen site and starts one real `sankofa-agent` process per site \
(phase-1 sites first: 113 agents are exactly phase 1).
- The bare subscribers are one WebSocket connection each, subscribed to their site's \
`DeploymentApproved`, in the bench process; the agents and they share the machine's cores.
- Latency is measured from the approval being mined: on automine, when `eth_sendRawTransaction` \
returned (anvil mines inside the call) or the block's `newHeads` notification reached the bench, \
whichever came first (anvil may push notifications before the call's response); with a 1 s block \
time, the `newHeads` notification. The agent's figure ends when its step 0 process runs \
`date +%s.%N`; the bare subscriber's when the log reached it.
- Polling agents use the agent's defaults (2000 ms + up to 500 ms jitter) through a counting \
proxy, which also gives the idle RPC calls per agent per block.
- `scripts/bench --quick` runs 13 agents only.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aims_name_what_was_not_met_and_what_was_not_measured() {
        let report = Report {
            machine: Machine {
                cores: 2,
                cpu: "cpu".into(),
                memory_gib: 1.0,
                load_at_start: 0.5,
                commit: "abc".into(),
                date: "today".into(),
            },
            quick: true,
            agent_build: "release".into(),
            bench_build: "release",
            gas: vec![GasRow {
                operation: "step report, a middle step",
                key: "reportStep_middle_tx",
                ours: 40_000,
                floor: Some(30_000),
                ratio: Some(40_000.0 / 30_000.0),
            }],
            scenarios: Vec::new(),
            tools: Vec::new(),
            failures: vec!["poll-block-1s-13: boom".into()],
        };
        let md = report.markdown();
        assert!(
            md.contains(
                "| step report (whole tx) within 1.3x of the floor | 1.33x | **not met** |"
            ),
            "{md}"
        );
        assert!(md.contains("| 30,000 | 1.33 |"), "{md}");
        assert!(
            md.contains("within 1.3x of the floor | — | not measured"),
            "{md}"
        );
        assert!(md.contains("- poll-block-1s-13: boom"), "{md}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(31_273), "31,273");
        assert_eq!(thousands(1_987_003), "1,987,003");
    }
}
