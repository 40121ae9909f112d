//! Prometheus metrics and the health endpoint, served on a local port (`[metrics] listen`).
//!
//! Plain atomics rendered in the text exposition format: a handful of series does not need a
//! metrics framework, and the agent's memory footprint matters (113 of them run on one host in
//! the demo).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Sets it.
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Every metric the agent exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Logs received from the stream.
    pub events_seen: Counter,
    /// Reorgs detected.
    pub reorgs: Counter,
    /// Chain head at the last checkpoint.
    pub head: Gauge,
    /// Cursor block.
    pub cursor: Gauge,
    /// Steps succeeded.
    pub steps_succeeded: Counter,
    /// Steps failed.
    pub steps_failed: Counter,
    /// Steps skipped by their check.
    pub steps_skipped: Counter,
    /// Rollback steps run.
    pub rollback_steps: Counter,
    /// Plans refused (hash mismatch or invalid).
    pub plans_rejected: Counter,
    /// Reports mined.
    pub reports_sent: Counter,
    /// Report attempts that failed.
    pub reports_failed: Counter,
    /// Signatures of a new report.
    pub signatures_new: Counter,
    /// Signatures of a report signed before (re-sends).
    pub signatures_repeat: Counter,
    /// Signatures the guard refused (a different payload for a signed step).
    pub signatures_refused: Counter,
    /// 1 once the first backfill finished and the stream is live.
    pub ready: Gauge,
    /// Unix seconds of the last event-loop turn (health).
    pub last_loop: Gauge,
}

impl Metrics {
    /// Records an event-loop turn.
    pub fn touch(&self) {
        self.last_loop.set(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
    }

    /// The text exposition.
    pub fn render(&self, site: &str) -> String {
        let mut s = String::new();
        let mut put = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            s.push_str(&format!(
                "# HELP sankofa_agent_{name} {help}\n# TYPE sankofa_agent_{name} {kind}\n"
            ));
            for (labels, v) in samples {
                let sep = if labels.is_empty() { "" } else { "," };
                s.push_str(&format!(
                    "sankofa_agent_{name}{{site=\"{site}\"{sep}{labels}}} {v}\n"
                ));
            }
        };
        put(
            "events_seen_total",
            "counter",
            "Contract logs received for this site.",
            &[("", self.events_seen.get())],
        );
        put(
            "reorgs_total",
            "counter",
            "Chain reorganisations detected.",
            &[("", self.reorgs.get())],
        );
        put(
            "chain_head",
            "gauge",
            "Chain head at the last checkpoint.",
            &[("", self.head.get())],
        );
        put(
            "cursor_block",
            "gauge",
            "Last block whose events are handled durably.",
            &[("", self.cursor.get())],
        );
        put(
            "lag_blocks",
            "gauge",
            "Blocks between the head and the cursor.",
            &[("", self.head.get().saturating_sub(self.cursor.get()))],
        );
        put(
            "steps_total",
            "counter",
            "Plan steps by outcome.",
            &[
                ("outcome=\"succeeded\"", self.steps_succeeded.get()),
                ("outcome=\"failed\"", self.steps_failed.get()),
                ("outcome=\"skipped\"", self.steps_skipped.get()),
                ("outcome=\"rollback\"", self.rollback_steps.get()),
            ],
        );
        put(
            "plans_rejected_total",
            "counter",
            "Plans refused (hash mismatch or invalid).",
            &[("", self.plans_rejected.get())],
        );
        put(
            "reports_sent_total",
            "counter",
            "Step reports mined.",
            &[("", self.reports_sent.get())],
        );
        put(
            "reports_failed_total",
            "counter",
            "Step report attempts that failed.",
            &[("", self.reports_failed.get())],
        );
        put(
            "signatures_total",
            "counter",
            "Report signatures by guard outcome.",
            &[
                ("outcome=\"new\"", self.signatures_new.get()),
                ("outcome=\"repeat\"", self.signatures_repeat.get()),
                ("outcome=\"refused\"", self.signatures_refused.get()),
            ],
        );
        put(
            "ready",
            "gauge",
            "1 once the event stream is live.",
            &[("", self.ready.get())],
        );
        s
    }

    /// Healthy: ready and the event loop turned within `stale`.
    pub fn healthy(&self, stale: Duration) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.ready.get() == 1 && now.saturating_sub(self.last_loop.get()) <= stale.as_secs()
    }
}

/// Serves `GET /metrics` and `GET /health` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    site: String,
    stale: Duration,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    loop {
        let (mut sock, _) = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            a = listener.accept() => a?,
        };
        let (m, site) = (metrics.clone(), site.clone());
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let n = match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let req = String::from_utf8_lossy(&buf[..n]);
            let path = req.split_whitespace().nth(1).unwrap_or("/");
            let (code, body) = match path {
                "/metrics" => ("200 OK", m.render(&site)),
                "/health" if m.healthy(stale) => ("200 OK", "ok\n".to_owned()),
                "/health" => (
                    "503 Service Unavailable",
                    "not ready or event loop stalled\n".to_owned(),
                ),
                _ => ("404 Not Found", "try /metrics or /health\n".to_owned()),
            };
            let resp = format!(
                "HTTP/1.1 {code}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}

/// Binds the metrics listener (at start-up, so a busy port is a clear start-up error).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
