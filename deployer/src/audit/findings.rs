//! What an audit can find wrong. Every kind has a stable kebab-case name (the `--json` schema).

use alloy::primitives::B256;
use sankofa_abi::ids::site_name;
use serde::Serialize;

/// The kinds of finding, each a reason not to trust part of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// The receipt of a transaction holds a log of an audited contract that eth_getLogs omitted.
    LogMissing,
    /// A log from eth_getLogs differs from the receipt's copy, or the receipt does not have it.
    LogMismatch,
    /// eth_getLogs returned the same log twice.
    LogDuplicate,
    /// eth_getLogs returned a log outside the asked range or from another address.
    LogOutOfRange,
    /// A log names a transaction the node cannot produce, or one that reverted.
    TxMissing,
    /// The contracts' state differs from what the logs imply (a log dropped or invented).
    CountMismatch,
    /// A step report with no approval of that site in that wave.
    ReportWithoutApproval,
    /// A step report while the approval was not live (outside its window, cancelled, rolled back).
    ReportOutsideApproval,
    /// A report whose transaction signer is not the key bound to the site at that block.
    ReportUnboundSigner,
    /// A report whose transaction does not match the log (hash, target or calldata).
    ReportTxMismatch,
    /// A step number skipped in a site's sequence.
    StepGap,
    /// A step number reported twice (or going backwards).
    StepRepeat,
    /// A report or approval whose plan hash differs from the wave's approved one.
    PlanHashMismatch,
    /// A site Operational without a complete, successful step sequence of its approval.
    OperationalIncomplete,
    /// A status change whose `from` is not the status the history left the site in.
    StatusMismatch,
    /// A governed decision not made through the Governor and Timelock.
    DirectGovernance,
    /// A timelock execution whose proposal (creation, votes, queueing) cannot be found.
    ApprovalUnlinked,
    /// A site's inventory line does not hash to the record hash it was registered with.
    RecordMismatch,
}

impl Kind {
    /// The stable name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::LogMissing => "log-missing",
            Self::LogMismatch => "log-mismatch",
            Self::LogDuplicate => "log-duplicate",
            Self::LogOutOfRange => "log-out-of-range",
            Self::TxMissing => "tx-missing",
            Self::CountMismatch => "count-mismatch",
            Self::ReportWithoutApproval => "report-without-approval",
            Self::ReportOutsideApproval => "report-outside-approval",
            Self::ReportUnboundSigner => "report-unbound-signer",
            Self::ReportTxMismatch => "report-tx-mismatch",
            Self::StepGap => "step-gap",
            Self::StepRepeat => "step-repeat",
            Self::PlanHashMismatch => "plan-hash-mismatch",
            Self::OperationalIncomplete => "operational-incomplete",
            Self::StatusMismatch => "status-mismatch",
            Self::DirectGovernance => "direct-governance",
            Self::ApprovalUnlinked => "approval-unlinked",
            Self::RecordMismatch => "record-mismatch",
        }
    }
}

/// One finding: what, where, and a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Finding {
    pub(crate) kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) wave: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) step: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) block: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tx: Option<B256>,
    pub(crate) message: String,
}

impl Finding {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            site: None,
            wave: None,
            step: None,
            block: None,
            tx: None,
            message: message.into(),
        }
    }

    pub(crate) fn site(mut self, site: B256) -> Self {
        self.site = Some(site_name(site));
        self
    }

    pub(crate) fn wave(mut self, wave: u32) -> Self {
        self.wave = Some(wave);
        self
    }

    pub(crate) fn step(mut self, step: u16) -> Self {
        self.step = Some(step);
        self
    }

    pub(crate) fn at(mut self, block: u64, tx: B256) -> Self {
        self.block = Some(block);
        self.tx = Some(tx);
        self
    }
}
