//! The signing guard: slashing protection for step reports (the idea of lighthouse's
//! `slashing_protection`). Before a report is signed, its (site, approval, step, kind) and the hash
//! of its payload are checked and recorded in one exclusive SQLite transaction. Re-signing the
//! identical payload is allowed (a re-send after a crash or a dropped transaction); a different
//! payload for the same step is refused, across restarts, so a host can never put two different
//! stories about one step on chain.
//!
//! The database is opened in exclusive locking mode: while one process holds the guard, another
//! (a second agent started by mistake) cannot read or write it and gets a clear error instead.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Mutex,
};

use alloy::primitives::B256;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which contract call a report is for; a rollback report of step N is a different record from
/// the forward report of step N.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// `Rollout.reportStep`.
    Step,
    /// `Rollout.reportRollbackStep`.
    Rollback,
}

impl ReportKind {
    fn code(self) -> i64 {
        match self {
            Self::Step => 0,
            Self::Rollback => 1,
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Step => "step",
            Self::Rollback => "rollback",
        })
    }
}

/// What the guard decided; a conflicting report is an [`Error::GuardConflict`] instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardDecision {
    /// First time this step is signed: recorded, go ahead.
    New,
    /// The same payload was recorded before: signing it again is a harmless re-send.
    Repeat,
}

/// The guard store. `Sync`: calls are serialised on one connection.
pub struct SigningGuard {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl fmt::Debug for SigningGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningGuard")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS signed_reports (
    site         BLOB    NOT NULL CHECK (length(site) = 32),
    approval     INTEGER NOT NULL,
    step         INTEGER NOT NULL,
    kind         INTEGER NOT NULL,
    payload_hash BLOB    NOT NULL CHECK (length(payload_hash) = 32),
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (site, approval, step, kind)
) STRICT;
";

impl SigningGuard {
    /// Opens (creating if needed) the guard store at `path` and takes its exclusive lock.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let store = |source| Error::GuardStore {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(store)?;
        // Nobody else should ever hold this file: fail fast instead of rusqlite's 5 s wait.
        conn.busy_timeout(std::time::Duration::from_millis(250))
            .map_err(store)?;
        // EXCLUSIVE locking keeps the file lock after the first write for the life of the
        // connection; FULL sync makes a recorded report survive power loss before we sign.
        conn.execute_batch(
            "PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;",
        )
        .map_err(store)?;
        // Take the lock now (a write transaction), so a second process fails at start-up
        // rather than at its first report.
        conn.execute_batch(&format!("BEGIN EXCLUSIVE; {SCHEMA} COMMIT;"))
            .map_err(store)?;
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks and records one report before it is signed, in one exclusive transaction.
    ///
    /// Returns [`GuardDecision::New`] the first time, [`GuardDecision::Repeat`] for the identical
    /// payload again, and [`Error::GuardConflict`] for a different payload of the same step.
    pub fn check_and_record(
        &self,
        site: B256,
        approval: u32,
        step: u16,
        kind: ReportKind,
        payload_hash: B256,
    ) -> Result<GuardDecision> {
        let store = |source| Error::GuardStore {
            path: self.path.clone(),
            source,
        };
        let mut conn = self.conn.lock().map_err(|_| Error::LockPoisoned {
            device: format!("signing guard {}", self.path.display()),
        })?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(store)?;
        let recorded: Option<Vec<u8>> = tx
            .query_row(
                "SELECT payload_hash FROM signed_reports
                 WHERE site = ?1 AND approval = ?2 AND step = ?3 AND kind = ?4",
                params![site.as_slice(), approval, step, kind.code()],
                |row| row.get(0),
            )
            .optional()
            .map_err(store)?;
        let decision = match recorded {
            None => {
                tx.execute(
                    "INSERT INTO signed_reports (site, approval, step, kind, payload_hash, recorded_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, unixepoch())",
                    params![site.as_slice(), approval, step, kind.code(), payload_hash.as_slice()],
                )
                .map_err(store)?;
                GuardDecision::New
            }
            Some(bytes) => {
                let recorded =
                    B256::try_from(bytes.as_slice()).map_err(|_| Error::GuardCorrupt {
                        path: self.path.clone(),
                        reason: format!("a payload hash of {} bytes is recorded", bytes.len()),
                    })?;
                if recorded != payload_hash {
                    return Err(Error::GuardConflict {
                        site,
                        approval,
                        step,
                        kind,
                        recorded,
                        requested: payload_hash,
                    });
                }
                GuardDecision::Repeat
            }
        };
        tx.commit().map_err(store)?;
        if decision == GuardDecision::New {
            tracing::debug!(target: "keys::guard", %site, approval, step, %kind, "report recorded");
        }
        Ok(decision)
    }

    /// The payload hash recorded for a step, if any (for status output and audits).
    pub fn recorded(
        &self,
        site: B256,
        approval: u32,
        step: u16,
        kind: ReportKind,
    ) -> Result<Option<B256>> {
        let store = |source| Error::GuardStore {
            path: self.path.clone(),
            source,
        };
        let conn = self.conn.lock().map_err(|_| Error::LockPoisoned {
            device: format!("signing guard {}", self.path.display()),
        })?;
        let bytes: Option<Vec<u8>> = conn
            .query_row(
                "SELECT payload_hash FROM signed_reports
                 WHERE site = ?1 AND approval = ?2 AND step = ?3 AND kind = ?4",
                params![site.as_slice(), approval, step, kind.code()],
                |row| row.get(0),
            )
            .optional()
            .map_err(store)?;
        bytes
            .map(|b| {
                B256::try_from(b.as_slice()).map_err(|_| Error::GuardCorrupt {
                    path: self.path.clone(),
                    reason: format!("a payload hash of {} bytes is recorded", b.len()),
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str) -> B256 {
        let mut b = [0u8; 32];
        b[..name.len()].copy_from_slice(name.as_bytes());
        B256::from(b)
    }

    #[test]
    fn same_payload_repeats_different_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let guard = SigningGuard::open(dir.path().join("guard.sqlite")).unwrap();
        let (a, b) = (B256::repeat_byte(0xaa), B256::repeat_byte(0xbb));
        let s = site("core-fra");
        assert_eq!(
            guard
                .check_and_record(s, 1, 0, ReportKind::Step, a)
                .unwrap(),
            GuardDecision::New
        );
        assert_eq!(
            guard
                .check_and_record(s, 1, 0, ReportKind::Step, a)
                .unwrap(),
            GuardDecision::Repeat
        );
        let err = guard
            .check_and_record(s, 1, 0, ReportKind::Step, b)
            .unwrap_err();
        assert!(matches!(err, Error::GuardConflict { step: 0, .. }), "{err}");
        assert!(err.to_string().contains("refusing"), "{err}");
        // Other step, approval, kind or site are independent records.
        for (site_, approval, step, kind) in [
            (s, 1, 1, ReportKind::Step),
            (s, 2, 0, ReportKind::Step),
            (s, 1, 0, ReportKind::Rollback),
            (site("edge-lag-1"), 1, 0, ReportKind::Step),
        ] {
            assert_eq!(
                guard
                    .check_and_record(site_, approval, step, kind, b)
                    .unwrap(),
                GuardDecision::New
            );
        }
        assert_eq!(guard.recorded(s, 1, 0, ReportKind::Step).unwrap(), Some(a));
    }

    #[test]
    fn refusal_survives_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("guard.sqlite");
        let s = site("core-fra");
        {
            let guard = SigningGuard::open(&path).unwrap();
            guard
                .check_and_record(s, 7, 3, ReportKind::Step, B256::repeat_byte(1))
                .unwrap();
        }
        let guard = SigningGuard::open(&path).unwrap();
        let err = guard
            .check_and_record(s, 7, 3, ReportKind::Step, B256::repeat_byte(2))
            .unwrap_err();
        assert!(matches!(err, Error::GuardConflict { .. }), "{err}");
        assert_eq!(
            guard
                .check_and_record(s, 7, 3, ReportKind::Step, B256::repeat_byte(1))
                .unwrap(),
            GuardDecision::Repeat
        );
    }

    #[test]
    fn racing_reports_for_one_step_sign_once() {
        // Eight threads race different payloads for the same step: exactly one may win.
        let dir = tempfile::tempdir().unwrap();
        let guard = std::sync::Arc::new(SigningGuard::open(dir.path().join("g.sqlite")).unwrap());
        let s = site("edge-1");
        let results: Vec<_> = (0..8u8)
            .map(|i| {
                let guard = guard.clone();
                std::thread::spawn(move || {
                    guard.check_and_record(s, 1, 4, ReportKind::Step, B256::repeat_byte(i))
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let won = results
            .iter()
            .filter(|r| matches!(r, Ok(GuardDecision::New)))
            .count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(Error::GuardConflict { .. })))
            .count();
        assert_eq!((won, refused), (1, 7), "{results:?}");
    }

    #[test]
    fn second_holder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("guard.sqlite");
        let _first = SigningGuard::open(&path).unwrap();
        let err = SigningGuard::open(&path).unwrap_err();
        assert!(matches!(err, Error::GuardStore { .. }), "{err}");
    }
}
