//! The auditor: provenance verified from the chain alone.
//!
//! - [`scan`] reads every log of the audited contracts since the deployment block (paged, with
//!   complete coverage and no overlap), the transactions behind reports and approvals (signers
//!   recovered from the signatures), every receipt seen, and the final contract state.
//! - [`verify`] replays the logs in chain order into per-site timelines and [`findings`], then
//!   cross-checks them against the receipts and the final state, so a node that drops or alters
//!   a log shows up as a finding rather than as a clean report.
//! - [`provenance`] links governed events to their proposal, votes, queue and execute txs.
//! - [`phase`] answers "were phase N's criteria met when phase N+1 was approved".
//! - [`inventory`] checks registered record hashes against the operator's inventory CSV.
//! - [`report`] and [`html`] present the results (tables, `--json`, a self-contained page).

pub(crate) mod crosscheck;
pub(crate) mod events;
pub(crate) mod findings;
pub(crate) mod html;
pub(crate) mod inventory;
pub(crate) mod phase;
pub(crate) mod provenance;
pub(crate) mod report;
pub(crate) mod scan;
pub(crate) mod verify;

#[cfg(test)]
mod tests;
