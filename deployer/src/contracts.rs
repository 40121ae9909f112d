//! The contract bindings the deployer drives, under the names its commands use.
//!
//! They are the `sol!` bindings of `sankofa-abi`, generated from the committed artifacts that the
//! drift test keeps equal to `contracts/src`: a contract change that breaks a call here fails the
//! build instead of failing on chain.

pub(crate) use sankofa_abi::{
    Council as ICouncil, IRollout::Criteria, ISiteRegistry::SiteInput, Rollout as IRollout,
    SankofaGovernor as IGovernor, SiteRegistry as ISiteRegistry, TimelockController as ITimelock,
    ValidatorSet as IValidatorSet,
};

/// The Governor's proposal states (OpenZeppelin `IGovernor.ProposalState`).
pub(crate) fn proposal_state_name(state: u8) -> &'static str {
    match state {
        0 => "Pending",
        1 => "Active",
        2 => "Canceled",
        3 => "Defeated",
        4 => "Succeeded",
        5 => "Queued",
        6 => "Expired",
        7 => "Executed",
        _ => "Unknown",
    }
}

/// The contracts' `SiteStatus` names.
pub(crate) fn site_status_name(status: u8) -> &'static str {
    match status {
        0 => "none",
        1 => "planned",
        2 => "approved",
        3 => "deploying",
        4 => "operational",
        5 => "degraded",
        6 => "rolled-back",
        7 => "decommissioned",
        _ => "unknown",
    }
}
