//! The local journal (SQLite, `synchronous = FULL`): the event cursor, the deployments the chain
//! approved for this site, each step's start and finish, and each report's signed transaction.
//!
//! It is written *before* anything is acted upon, so after a crash the agent resumes at the
//! first unfinished step, never re-runs a finished one (an interrupted, non-idempotent step is
//! reported as failed instead), and re-sends a recorded report whose transaction is missing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use alloy::primitives::B256;
use rusqlite::{Connection, OptionalExtension, params};
use sankofa_chain::{BlockRef, SignedTx};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::events::SiteEvent;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS deployments (
    wave               INTEGER PRIMARY KEY,
    plan_hash          TEXT    NOT NULL,
    approved_block     INTEGER NOT NULL,
    plan_uri           TEXT,
    step_count         INTEGER,
    not_before         INTEGER,
    expiry             INTEGER,
    state              TEXT    NOT NULL,
    cancel_requested   INTEGER NOT NULL DEFAULT 0,
    rollback_requested INTEGER NOT NULL DEFAULT 0,
    note               TEXT    NOT NULL DEFAULT '',
    updated_at         INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS events (
    block_hash TEXT    NOT NULL,
    tx_hash    TEXT    NOT NULL,
    log_index  INTEGER NOT NULL,
    block      INTEGER NOT NULL,
    event      TEXT    NOT NULL,
    PRIMARY KEY (block_hash, tx_hash, log_index)
) STRICT;
CREATE TABLE IF NOT EXISTS steps (
    wave        INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    step        INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    status      INTEGER,
    digest      TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    PRIMARY KEY (wave, kind, step)
) STRICT;
CREATE TABLE IF NOT EXISTS reports (
    wave     INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    step     INTEGER NOT NULL,
    status   INTEGER NOT NULL,
    digest   TEXT    NOT NULL,
    nonce    INTEGER NOT NULL,
    tx_hash  TEXT    NOT NULL,
    tx_json  TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    block    INTEGER,
    PRIMARY KEY (wave, kind, step)
) STRICT;
";

/// A deployment's journal state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployState {
    /// Approval seen, nothing run yet.
    Approved,
    /// Steps are running.
    Running,
    /// Every step reported successfully.
    Completed,
    /// A step failed (the site is Degraded until a rollback or a new wave).
    Failed,
    /// The plan was refused (hash mismatch or invalid).
    Rejected,
    /// Cancelled by governance or the guardian.
    Cancelled,
    /// The approval window passed.
    Expired,
    /// Rollback steps are running.
    RollingBack,
    /// Rollback finished.
    RolledBack,
    /// A rollback step failed.
    RollbackFailed,
    /// Superseded: the chain's current deployment is another wave.
    Closed,
}

impl DeployState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::RollingBack => "rolling-back",
            Self::RolledBack => "rolled-back",
            Self::RollbackFailed => "rollback-failed",
            Self::Closed => "closed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "rejected" => Self::Rejected,
            "cancelled" => Self::Cancelled,
            "expired" => Self::Expired,
            "rolling-back" => Self::RollingBack,
            "rolled-back" => Self::RolledBack,
            "rollback-failed" => Self::RollbackFailed,
            "closed" => Self::Closed,
            _ => Self::Approved,
        }
    }

    /// Whether forward execution is over.
    pub fn forward_done(self) -> bool {
        !matches!(self, Self::Approved | Self::Running)
    }
}

/// Forward step or rollback step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `reportStep`.
    Step,
    /// `reportRollbackStep`.
    Rollback,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Rollback => "rollback",
        }
    }
}

/// One deployment row.
#[derive(Clone, Debug, Serialize)]
pub struct Deployment {
    /// Wave id.
    pub wave: u32,
    /// Approved plan hash.
    pub plan_hash: B256,
    /// Block of the approval event.
    pub approved_block: u64,
    /// Plan uri (from `WaveApproved`), once looked up.
    pub plan_uri: Option<String>,
    /// Step count of the wave.
    pub step_count: Option<u16>,
    /// Window start (unix seconds).
    pub not_before: Option<u64>,
    /// Window end (unix seconds).
    pub expiry: Option<u64>,
    /// State.
    pub state: DeployState,
    /// A `DeploymentCancelled` was seen.
    pub cancel_requested: bool,
    /// A `RollbackOrdered` was seen.
    pub rollback_requested: bool,
    /// Why it is in its state.
    pub note: String,
}

/// One step row.
#[derive(Clone, Debug, Serialize)]
pub struct StepRec {
    /// Step index.
    pub step: u16,
    /// Step name.
    pub name: String,
    /// `started` or `finished`.
    pub finished: bool,
    /// Reported status (1 ok, 2 failed, 3 skipped) once finished.
    pub status: Option<u8>,
    /// Output digest once finished.
    pub digest: Option<B256>,
}

/// One report row.
#[derive(Clone, Debug, Serialize)]
pub struct ReportRec {
    /// Status reported.
    pub status: u8,
    /// Digest reported.
    pub digest: B256,
    /// The last signed transaction.
    pub tx: SignedTx,
    /// Mined (in `block`).
    pub mined: bool,
    /// The block it was mined in.
    pub block: Option<u64>,
}

/// The journal. Calls are short SQLite transactions; call them through [`Journal::call`] from
/// async code so the fsync never blocks the runtime.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Journal {
    /// Opens or creates the journal.
    pub fn open(path: &Path) -> Result<Self> {
        let err = |source| Error::Journal {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing journal read-only (for `status` while the agent runs).
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let err = |source| Error::Journal {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(err)?;
        let initialised: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if initialised == 0 {
            // The agent created the file but not its tables yet: an empty journal.
            let empty = Connection::open_in_memory().map_err(err)?;
            empty.execute_batch(SCHEMA).map_err(err)?;
            return Ok(Self {
                path: path.to_owned(),
                conn: Mutex::new(empty),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` on the blocking pool.
    pub async fn call<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Journal) -> Result<T> + Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&me))
            .await
            .map_err(|e| Error::Exec {
                step: "journal".into(),
                message: format!("journal task failed: {e}"),
            })?
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|source| Error::Journal {
            path: self.path.clone(),
            source,
        })
    }

    /// Ties this journal to one chain and Rollout (`identity`) on first use; afterwards returns
    /// the recorded identity when it differs, so the caller can refuse to run. A journal's waves,
    /// steps and cursor mean nothing on another chain: a fresh devnet deployed from the same key
    /// reuses the Rollout's address and its wave numbers, and an old "completed" wave 1 would
    /// silently swallow the new one.
    pub fn bind_chain(&self, identity: &str) -> Result<Option<String>> {
        self.with(|c| {
            let tx = c.transaction()?;
            let recorded: Option<String> = tx
                .query_row("SELECT value FROM meta WHERE key = 'chain'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let mismatch = match recorded {
                Some(r) if r != identity => Some(r),
                Some(_) => None,
                None => {
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ('chain', ?1)",
                        [identity],
                    )?;
                    None
                }
            };
            tx.commit()?;
            Ok(mismatch)
        })
    }

    /// The persisted cursor.
    pub fn cursor(&self) -> Result<Option<BlockRef>> {
        let v: Option<String> = self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get(0)
            })
            .optional()
        })?;
        Ok(v.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Persists the cursor (only after everything before it is durable).
    pub fn set_cursor(&self, b: BlockRef) -> Result<()> {
        let v = serde_json::to_string(&b).unwrap_or_default();
        self.with(|c| {
            c.execute("INSERT INTO meta (key, value) VALUES ('cursor', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1", [v])
                .map(|_| ())
        })
    }

    /// Records an approval; false if it was already known (a repeated event).
    pub fn record_approval(&self, wave: u32, plan_hash: B256, block: u64) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO deployments (wave, plan_hash, approved_block, state, updated_at)
                 VALUES (?1, ?2, ?3, 'approved', ?4)",
                params![wave, plan_hash.to_string(), block as i64, now()],
            )
            .map(|n| n == 1)
        })
    }

    /// Records a log and applies its effect in one transaction; false if the log was handled
    /// before (same block hash, tx hash and log index).
    pub fn handle_event(&self, key: (B256, B256, u64), block: u64, ev: SiteEvent) -> Result<bool> {
        let ts = now();
        self.with(|c| {
            let tx = c.transaction()?;
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO events (block_hash, tx_hash, log_index, block, event) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.0.to_string(), key.1.to_string(), key.2 as i64, block as i64, format!("{ev:?}")],
            )? == 1;
            if inserted {
                match ev {
                    SiteEvent::Approved { wave, plan_hash } => {
                        // The chain allows one deployment per site at a time: older ones are over.
                        tx.execute(
                            "UPDATE deployments SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'closed' END,
                                 updated_at = ?2
                             WHERE wave < ?1 AND state IN ('approved', 'running')",
                            params![wave, ts],
                        )?;
                        tx.execute(
                            // Seen again in another block (a reorg moved it): look the wave's
                            // details up in the new block unless they are already known.
                            "INSERT INTO deployments (wave, plan_hash, approved_block, state, updated_at)
                             VALUES (?1, ?2, ?3, 'approved', ?4)
                             ON CONFLICT(wave) DO UPDATE SET approved_block = excluded.approved_block
                             WHERE plan_uri IS NULL",
                            params![wave, plan_hash.to_string(), block as i64, ts],
                        )?;
                    }
                    SiteEvent::Cancelled { wave, reason } => {
                        tx.execute(
                            "UPDATE deployments SET cancel_requested = 1, note = ?2, updated_at = ?3 WHERE wave = ?1",
                            params![wave, format!("cancel ordered (reason {reason})"), ts],
                        )?;
                    }
                    SiteEvent::RollbackOrdered { wave, reason } => {
                        tx.execute(
                            "UPDATE deployments SET rollback_requested = 1, note = ?2, updated_at = ?3 WHERE wave = ?1",
                            params![wave, format!("rollback ordered (reason {reason})"), ts],
                        )?;
                    }
                    SiteEvent::StepReported { .. } | SiteEvent::RollbackStepReported { .. } => {}
                }
            }
            tx.commit()?;
            Ok(inserted)
        })
    }

    /// Number of distinct logs handled (for status and tests).
    pub fn events_handled(&self) -> Result<u64> {
        self.with(|c| {
            c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
    }

    /// Flags a cancel; false if unknown wave or already flagged.
    pub fn request_cancel(&self, wave: u32, reason: u8) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "UPDATE deployments SET cancel_requested = 1, note = ?2, updated_at = ?3
                 WHERE wave = ?1 AND cancel_requested = 0",
                params![wave, format!("cancel ordered (reason {reason})"), now()],
            )
            .map(|n| n == 1)
        })
    }

    /// Flags a rollback order; false if unknown wave or already flagged.
    pub fn request_rollback(&self, wave: u32, reason: u8) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "UPDATE deployments SET rollback_requested = 1, note = ?2, updated_at = ?3
                 WHERE wave = ?1 AND rollback_requested = 0",
                params![wave, format!("rollback ordered (reason {reason})"), now()],
            )
            .map(|n| n == 1)
        })
    }

    /// Stores the wave details looked up on chain.
    pub fn set_wave_details(
        &self,
        wave: u32,
        uri: &str,
        step_count: u16,
        not_before: u64,
        expiry: u64,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE deployments SET plan_uri = ?2, step_count = ?3, not_before = ?4, expiry = ?5, updated_at = ?6
                 WHERE wave = ?1",
                params![wave, uri, step_count, not_before as i64, expiry as i64, now()],
            )
            .map(|_| ())
        })
    }

    /// Sets a deployment's state and note.
    pub fn set_state(&self, wave: u32, state: DeployState, note: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE deployments SET state = ?2, note = ?3, updated_at = ?4 WHERE wave = ?1",
                params![wave, state.as_str(), note, now()],
            )
            .map(|_| ())
        })
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Deployment> {
        let hash: String = r.get(1)?;
        Ok(Deployment {
            wave: r.get(0)?,
            plan_hash: hash.parse().unwrap_or_default(),
            approved_block: r.get::<_, i64>(2)? as u64,
            plan_uri: r.get(3)?,
            step_count: r.get(4)?,
            not_before: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
            expiry: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
            state: DeployState::parse(&r.get::<_, String>(7)?),
            cancel_requested: r.get::<_, i64>(8)? != 0,
            rollback_requested: r.get::<_, i64>(9)? != 0,
            note: r.get(10)?,
        })
    }

    const COLS: &'static str =
        "wave, plan_hash, approved_block, plan_uri, step_count, not_before, expiry, state,
                                cancel_requested, rollback_requested, note";

    /// The newest deployment (the chain allows one at a time per site).
    pub fn latest(&self) -> Result<Option<Deployment>> {
        let q = format!(
            "SELECT {} FROM deployments ORDER BY wave DESC LIMIT 1",
            Self::COLS
        );
        self.with(|c| c.query_row(&q, [], Self::row).optional())
    }

    /// Every deployment, newest first.
    pub fn all(&self) -> Result<Vec<Deployment>> {
        let q = format!("SELECT {} FROM deployments ORDER BY wave DESC", Self::COLS);
        self.with(|c| c.prepare(&q)?.query_map([], Self::row)?.collect())
    }

    /// One step's record.
    pub fn step(&self, wave: u32, kind: Kind, step: u16) -> Result<Option<StepRec>> {
        self.with(|c| {
            c.query_row(
                "SELECT step, name, state, status, digest FROM steps WHERE wave = ?1 AND kind = ?2 AND step = ?3",
                params![wave, kind.as_str(), step],
                Self::step_row,
            )
            .optional()
        })
    }

    fn step_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StepRec> {
        Ok(StepRec {
            step: r.get(0)?,
            name: r.get(1)?,
            finished: r.get::<_, String>(2)? == "finished",
            status: r.get(3)?,
            digest: r.get::<_, Option<String>>(4)?.and_then(|s| s.parse().ok()),
        })
    }

    /// Every step of a wave.
    pub fn steps(&self, wave: u32, kind: Kind) -> Result<Vec<StepRec>> {
        self.with(|c| {
            c.prepare("SELECT step, name, state, status, digest FROM steps WHERE wave = ?1 AND kind = ?2 ORDER BY step")?
                .query_map(params![wave, kind.as_str()], Self::step_row)?
                .collect()
        })
    }

    /// Records that a step is about to run (before the process starts).
    pub fn step_started(&self, wave: u32, kind: Kind, step: u16, name: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO steps (wave, kind, step, name, state, started_at) VALUES (?1, ?2, ?3, ?4, 'started', ?5)
                 ON CONFLICT(wave, kind, step) DO UPDATE SET state = 'started', started_at = ?5",
                params![wave, kind.as_str(), step, name, now()],
            )
            .map(|_| ())
        })
    }

    /// Records a step's outcome (before it is reported).
    pub fn step_finished(
        &self,
        wave: u32,
        kind: Kind,
        step: u16,
        name: &str,
        status: u8,
        digest: B256,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO steps (wave, kind, step, name, state, status, digest, started_at, finished_at)
                 VALUES (?1, ?2, ?3, ?4, 'finished', ?5, ?6, ?7, ?7)
                 ON CONFLICT(wave, kind, step) DO UPDATE SET state = 'finished', status = ?5, digest = ?6, finished_at = ?7",
                params![wave, kind.as_str(), step, name, status, digest.to_string(), now()],
            )
            .map(|_| ())
        })
    }

    /// The report of a step, if one was signed.
    pub fn report(&self, wave: u32, kind: Kind, step: u16) -> Result<Option<ReportRec>> {
        self.with(|c| {
            c.query_row(
                "SELECT status, digest, tx_json, state, block FROM reports WHERE wave = ?1 AND kind = ?2 AND step = ?3",
                params![wave, kind.as_str(), step],
                |r| {
                    let tx: String = r.get(2)?;
                    let digest: String = r.get(1)?;
                    Ok((r.get::<_, u8>(0)?, digest, tx, r.get::<_, String>(3)?, r.get::<_, Option<i64>>(4)?))
                },
            )
            .optional()
        })
        .map(|o| {
            o.and_then(|(status, digest, tx, state, block)| {
                Some(ReportRec {
                    status,
                    digest: digest.parse().ok()?,
                    tx: serde_json::from_str(&tx).ok()?,
                    mined: state == "mined",
                    block: block.map(|b| b as u64),
                })
            })
        })
    }

    /// Records a signed report transaction before it is broadcast.
    pub fn report_signed(
        &self,
        wave: u32,
        kind: Kind,
        step: u16,
        status: u8,
        digest: B256,
        tx: &SignedTx,
    ) -> Result<()> {
        let json = serde_json::to_string(tx).unwrap_or_default();
        self.with(|c| {
            c.execute(
                "INSERT INTO reports (wave, kind, step, status, digest, nonce, tx_hash, tx_json, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'signed')
                 ON CONFLICT(wave, kind, step) DO UPDATE SET nonce = ?6, tx_hash = ?7, tx_json = ?8, state = 'signed'",
                params![wave, kind.as_str(), step, status, digest.to_string(), tx.nonce as i64, tx.hash.to_string(), json],
            )
            .map(|_| ())
        })
    }

    /// Marks a report mined.
    pub fn report_mined(&self, wave: u32, kind: Kind, step: u16, block: Option<u64>) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE reports SET state = 'mined', block = ?4 WHERE wave = ?1 AND kind = ?2 AND step = ?3",
                params![wave, kind.as_str(), step, block.map(|b| b as i64)],
            )
            .map(|_| ())
        })
    }

    /// Counts of reports by state (for status output).
    pub fn report_count(&self, wave: u32) -> Result<(u64, u64)> {
        self.with(|c| {
            c.query_row(
                "SELECT COALESCE(SUM(state = 'mined'), 0), COUNT(*) FROM reports WHERE wave = ?1",
                [wave],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
        })
    }
}

/// Used by [`sankofa_chain::TxSender`] to record a report's signed transaction before broadcast.
#[derive(Debug)]
pub struct ReportJournal {
    /// The journal.
    pub journal: Arc<Journal>,
    /// Wave.
    pub wave: u32,
    /// Kind.
    pub kind: Kind,
    /// Step.
    pub step: u16,
    /// Status.
    pub status: u8,
    /// Digest.
    pub digest: B256,
}

impl sankofa_chain::TxJournal for ReportJournal {
    async fn record(&self, tx: &SignedTx) -> std::result::Result<(), String> {
        let (wave, kind, step, status, digest, tx) = (
            self.wave,
            self.kind,
            self.step,
            self.status,
            self.digest,
            tx.clone(),
        );
        self.journal
            .call(move |j| j.report_signed(wave, kind, step, status, digest, &tx))
            .await
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn approvals_are_idempotent_and_steps_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        assert!(j.record_approval(1, B256::repeat_byte(1), 10).unwrap());
        assert!(!j.record_approval(1, B256::repeat_byte(1), 10).unwrap());
        assert!(j.request_cancel(1, 0).unwrap());
        assert!(!j.request_cancel(1, 0).unwrap());
        j.step_started(1, Kind::Step, 0, "a").unwrap();
        assert!(!j.step(1, Kind::Step, 0).unwrap().unwrap().finished);
        j.step_finished(1, Kind::Step, 0, "a", 1, B256::repeat_byte(2))
            .unwrap();
        let s = j.step(1, Kind::Step, 0).unwrap().unwrap();
        assert!(s.finished && s.status == Some(1) && s.digest == Some(B256::repeat_byte(2)));
        let b = BlockRef {
            number: 5,
            hash: B256::repeat_byte(3),
        };
        j.set_cursor(b).unwrap();
        assert_eq!(j.cursor().unwrap(), Some(b));
        let first = j.all().unwrap().into_iter().find(|d| d.wave == 1).unwrap();
        assert!(first.cancel_requested);
    }
}
