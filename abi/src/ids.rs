//! The on-chain encodings every part shares: site ids, tiers, statuses, step statuses, reasons.
//! They mirror the enums of `contracts/src/interfaces` (see docs/contracts.md).

use std::fmt;

use alloy::primitives::B256;

/// Why a site name cannot be a site id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteIdError {
    /// The name is empty or longer than 31 bytes.
    #[error("site name `{0}` must be 1 to 31 bytes long")]
    Length(String),
    /// The name has a byte outside `[a-z0-9-]`.
    #[error("site name `{0}` may only contain a-z, 0-9 and '-'")]
    Charset(String),
}

/// The site id of `name`: its bytes left-aligned in a bytes32, zero-padded (`core-fra` ->
/// `0x636f72652d667261…00`). Readable in logs and reversible with [`site_name`].
pub fn site_id(name: &str) -> Result<B256, SiteIdError> {
    if name.is_empty() || name.len() > 31 {
        return Err(SiteIdError::Length(name.to_string()));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(SiteIdError::Charset(name.to_string()));
    }
    let mut id = [0u8; 32];
    id[..name.len()].copy_from_slice(name.as_bytes());
    Ok(B256::from(id))
}

/// The site name inside a site id (bytes up to the first zero; non-UTF-8 shown as hex).
pub fn site_name(id: B256) -> String {
    let bytes = id.as_slice();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    match std::str::from_utf8(&bytes[..end]) {
        Ok(name) if !name.is_empty() => name.to_string(),
        _ => format!("{id}"),
    }
}

macro_rules! onchain_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $(
                #[doc = $text]
                $variant = $value,
            )+
        }

        impl $name {
            /// Every value, in on-chain order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The lower-case name used in CLIs, configs and JSON.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl TryFrom<u8> for $name {
            type Error = u8;
            fn try_from(value: u8) -> Result<Self, u8> {
                match value { $($value => Ok($name::$variant),)+ other => Err(other) }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 { value as u8 }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{other}` is not a {}; expected one of: {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

onchain_enum!(
    /// A site's tier (`Tier` in ISiteRegistry.sol).
    Tier { Core = 1 => "core", Regional = 2 => "regional", Edge = 3 => "edge" }
);

onchain_enum!(
    /// A site's lifecycle status (`SiteStatus` in ISiteRegistry.sol).
    SiteStatus {
        Planned = 1 => "planned",
        Approved = 2 => "approved",
        Deploying = 3 => "deploying",
        Operational = 4 => "operational",
        Degraded = 5 => "degraded",
        RolledBack = 6 => "rolled-back",
        Decommissioned = 7 => "decommissioned",
    }
);

onchain_enum!(
    /// The outcome of one step, as reported on chain.
    StepStatus { Succeeded = 1 => "succeeded", Failed = 2 => "failed", Skipped = 3 => "skipped" }
);

onchain_enum!(
    /// Why a deployment was cancelled or rolled back (the plan's rollback triggers).
    RollbackReason {
        Operator = 0 => "operator",
        SecurityVulnerability = 1 => "security-vulnerability",
        PerformanceDegradation = 2 => "performance-degradation",
        DataIntegrity = 3 => "data-integrity",
        ServiceUnavailability = 4 => "service-unavailability",
        ComplianceViolation = 5 => "compliance-violation",
    }
);

onchain_enum!(
    /// Which phase criterion a `RolloutPhaseCriteriaUnmet` error names.
    CriterionKind {
        CoreOperational = 0 => "core-operational",
        RegionalOperational = 1 => "regional-operational",
        EdgeOperational = 2 => "edge-operational",
        Validators = 3 => "validators",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_id_is_left_aligned_name_bytes() {
        let id = site_id("core-fra").unwrap();
        assert_eq!(&id[..8], b"core-fra");
        assert!(id[8..].iter().all(|&b| b == 0));
        assert_eq!(site_name(id), "core-fra");
    }

    #[test]
    fn site_id_rejects_bad_names() {
        assert_eq!(site_id(""), Err(SiteIdError::Length(String::new())));
        assert!(matches!(
            site_id(&"a".repeat(32)),
            Err(SiteIdError::Length(_))
        ));
        assert!(matches!(site_id("Core-FRA"), Err(SiteIdError::Charset(_))));
        assert!(matches!(site_id("core fra"), Err(SiteIdError::Charset(_))));
        assert!(site_id(&"a".repeat(31)).is_ok());
    }

    #[test]
    fn enums_round_trip() {
        for s in SiteStatus::ALL {
            assert_eq!(SiteStatus::try_from(u8::from(*s)), Ok(*s));
            assert_eq!(s.as_str().parse::<SiteStatus>(), Ok(*s));
        }
        assert_eq!(Tier::try_from(0), Err(0));
        assert!(
            "moon"
                .parse::<Tier>()
                .unwrap_err()
                .contains("core, regional, edge")
        );
    }
}
