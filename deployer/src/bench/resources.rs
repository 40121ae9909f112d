//! Process resources from `/proc` (Linux): resident memory and CPU time of the agents.

use std::time::Instant;

use serde::Serialize;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reading {
    /// VmRSS in KiB.
    pub(crate) rss_kib: u64,
    /// utime + stime + the reaped children's (step processes), in clock ticks.
    pub(crate) cpu_ticks: u64,
}

/// Reads `/proc/<pid>/status` and `/proc/<pid>/stat`; `None` once the process is gone.
pub(crate) fn read(pid: u32) -> Option<Reading> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(Reading {
        rss_kib,
        cpu_ticks: cpu_ticks(&stat)?,
    })
}

/// utime, stime, cutime, cstime (fields 14..17) from a `/proc/<pid>/stat` line. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted after its last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ")" come field 3 (state) onwards: field k is at index k - 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    (11..=14).map(|i| fields.get(i)?.parse::<u64>().ok()).sum()
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Resource figures over a window, per agent.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Usage {
    /// Median RSS at the end of the window (MiB).
    pub(crate) rss_mib_p50: f64,
    /// Largest RSS seen in the window (MiB).
    pub(crate) rss_mib_max: f64,
    /// Mean CPU per agent over the window, percent of one core.
    pub(crate) cpu_pct_mean: f64,
    /// Busiest agent's CPU over the window, percent of one core.
    pub(crate) cpu_pct_max: f64,
    /// The window's length in seconds.
    pub(crate) seconds: f64,
}

/// Samples a set of processes over a window: CPU from the first and last reading, RSS at each
/// [`Sampler::sample`].
#[derive(Debug)]
pub(crate) struct Sampler {
    pids: Vec<u32>,
    start: Instant,
    first: Vec<Option<Reading>>,
    last: Vec<Option<Reading>>,
    rss_max_kib: u64,
}

impl Sampler {
    /// Takes the first reading now.
    pub(crate) fn start(pids: Vec<u32>) -> Self {
        let first: Vec<_> = pids.iter().map(|p| read(*p)).collect();
        let rss_max_kib = first.iter().flatten().map(|r| r.rss_kib).max().unwrap_or(0);
        Self {
            last: first.clone(),
            pids,
            start: Instant::now(),
            first,
            rss_max_kib,
        }
    }

    /// Another reading (keeps the last one and the peak RSS).
    pub(crate) fn sample(&mut self) {
        for (i, pid) in self.pids.iter().enumerate() {
            if let Some(r) = read(*pid) {
                self.rss_max_kib = self.rss_max_kib.max(r.rss_kib);
                self.last[i] = Some(r);
            }
        }
    }

    /// Ends the window with a final reading.
    pub(crate) fn finish(mut self) -> Option<Usage> {
        self.sample();
        let seconds = self.start.elapsed().as_secs_f64();
        let hz = ticks_per_second();
        let mut cpu = Vec::new();
        let mut rss = Vec::new();
        for (a, b) in self.first.iter().zip(&self.last) {
            if let (Some(a), Some(b)) = (a, b) {
                let ticks = b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64;
                cpu.push(100.0 * ticks / hz / seconds.max(1e-3));
                rss.push(b.rss_kib as f64 / 1024.0);
            }
        }
        if cpu.is_empty() {
            return None;
        }
        rss.sort_by(f64::total_cmp);
        Some(Usage {
            rss_mib_p50: super::stats::percentile(&rss, 50.0),
            rss_mib_max: self.rss_max_kib as f64 / 1024.0,
            cpu_pct_mean: cpu.iter().sum::<f64>() / cpu.len() as f64,
            cpu_pct_max: cpu.iter().copied().fold(0.0, f64::max),
            seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_tricky_command_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime ...
        let line = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0";
        assert_eq!(cpu_ticks(line), Some(13));
    }

    #[test]
    fn reads_this_process() {
        let r = read(std::process::id()).expect("own /proc entry");
        assert!(r.rss_kib > 0);
    }
}
