//! Compiled Sankofa contract artifacts and their alloy `sol!` bindings.
//!
//! `artifacts/*.json` is written by `sankofa compile` from `contracts/src` and committed, so building
//! any Rust crate needs neither Node.js nor solc; a test in the deployer fails if it drifts. The
//! bindings below are generated from those files at compile time (`#[sol(rpc)]`: typed calls,
//! `deploy`, events and custom errors). [`ids`] holds the on-chain encodings shared by every
//! part (site ids, tiers, statuses), and [`revert`] turns revert data into a readable error.

pub mod artifacts;
pub mod ids;
pub mod revert;

#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
mod bindings {
    use alloy::sol;

    sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        SiteRegistry,
        "artifacts/SiteRegistry.json"
    );
    sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        ValidatorSet,
        "artifacts/ValidatorSet.json"
    );
    sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        Council,
        "artifacts/Council.json"
    );
    sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        SankofaGovernor,
        "artifacts/SankofaGovernor.json"
    );
    sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        Rollout,
        "artifacts/Rollout.json"
    );
    sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        TimelockController,
        "artifacts/TimelockController.json"
    );
}

pub use bindings::{
    Council, Rollout, SankofaGovernor, SiteRegistry, TimelockController, ValidatorSet,
};
