//! Revert data -> a readable error: the custom error's name and arguments, whichever Sankofa
//! contract (or OpenZeppelin base) raised it, so a reverted tx is never just "execution reverted".

use alloy::sol_types::{Panic, Revert, SolError, SolInterface};

use crate::{Council, Rollout, SankofaGovernor, SiteRegistry, TimelockController, ValidatorSet};

/// Decodes `data` (the revert payload) into `ErrorName { arg: value, .. }`, or `None` if no Sankofa
/// contract declares its selector.
pub fn decode(data: &[u8]) -> Option<String> {
    if data.len() < 4 {
        return None;
    }
    macro_rules! try_decode {
        ($($errors:ty),+) => {
            $(
                if let Ok(err) = <$errors>::abi_decode(data) {
                    return Some(unwrap_variant(&format!("{err:?}")));
                }
            )+
        };
    }
    if let Ok(revert) = Revert::abi_decode(data) {
        return Some(format!("Error({:?})", revert.reason));
    }
    if let Ok(panic) = Panic::abi_decode(data) {
        return Some(format!("Panic({})", panic.code));
    }
    try_decode!(
        Rollout::RolloutErrors,
        SiteRegistry::SiteRegistryErrors,
        ValidatorSet::ValidatorSetErrors,
        Council::CouncilErrors,
        SankofaGovernor::SankofaGovernorErrors,
        TimelockController::TimelockControllerErrors
    );
    None
}

/// `Name(Name { a: 1 })` (the Debug of an errors-enum variant) -> `Name { a: 1 }`.
fn unwrap_variant(debug: &str) -> String {
    match (debug.find('('), debug.rfind(')')) {
        (Some(open), Some(close)) if open < close => debug[open + 1..close].to_string(),
        _ => debug.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::B256;

    use super::*;

    #[test]
    fn decodes_a_custom_error_with_its_arguments() {
        let err = SiteRegistry::SiteRegistryUnknownSite {
            site: B256::repeat_byte(0xab),
        };
        let text = decode(&err.abi_encode()).expect("known selector");
        assert!(text.starts_with("SiteRegistryUnknownSite {"), "{text}");
        assert!(text.contains("abab"), "{text}");
    }

    #[test]
    fn decodes_revert_strings_and_rejects_unknown_selectors() {
        let revert = Revert {
            reason: "nope".into(),
        };
        assert_eq!(
            decode(&revert.abi_encode()).as_deref(),
            Some("Error(\"nope\")")
        );
        assert_eq!(decode(&[0xde, 0xad, 0xbe, 0xef]), None);
        assert_eq!(decode(&[1, 2]), None);
    }
}
