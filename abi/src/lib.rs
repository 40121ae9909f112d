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

// Each contract in its own module: the JSON ABI puts structs declared in an interface (e.g.
// `IRollout.Criteria`) into a library module of that name, and two contracts using the same
// interface would otherwise both declare it.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod site_registry {
    //! Bindings generated from `abi/artifacts/SiteRegistry.json`.
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        SiteRegistry,
        "artifacts/SiteRegistry.json"
    );
}
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod validator_set {
    //! Bindings generated from `abi/artifacts/ValidatorSet.json`.
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        ValidatorSet,
        "artifacts/ValidatorSet.json"
    );
}
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod council {
    //! Bindings generated from `abi/artifacts/Council.json`.
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        Council,
        "artifacts/Council.json"
    );
}
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod governor {
    //! Bindings generated from `abi/artifacts/SankofaGovernor.json`.
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        SankofaGovernor,
        "artifacts/SankofaGovernor.json"
    );
}
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod rollout {
    //! Bindings generated from `abi/artifacts/Rollout.json`.
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        Rollout,
        "artifacts/Rollout.json"
    );
}
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod timelock {
    //! Bindings generated from `abi/artifacts/TimelockController.json`.
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        TimelockController,
        "artifacts/TimelockController.json"
    );
}

pub use council::Council;
pub use governor::SankofaGovernor;
pub use rollout::{IRollout, Rollout};
pub use site_registry::{ISiteRegistry, SiteRegistry};
pub use timelock::TimelockController;
pub use validator_set::ValidatorSet;
