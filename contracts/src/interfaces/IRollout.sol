// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @notice Outcome of one step. Skipped = its check showed it already satisfied (counts as success).
enum StepStatus {
    None,
    Succeeded,
    Failed,
    Skipped
}

/// @notice Why deployments are cancelled or rolled back (the plan's rollback triggers).
enum RollbackReason {
    Operator,
    SecurityVulnerability,
    PerformanceDegradation,
    DataIntegrity,
    ServiceUnavailability,
    ComplianceViolation
}

/// @notice Which phase criterion is unmet (see {IRollout-RolloutPhaseCriteriaUnmet}).
enum CriterionKind {
    CoreOperational,
    RegionalOperational,
    EdgeOperational,
    Validators
}

/// @title IRollout
/// @notice Phases with success criteria, governed waves of site approvals, and the deployment
///         ledger: every step an agent reports, under a live approval, in order.
/// @dev Agents filter `DeploymentApproved`, `DeploymentCancelled` and `RollbackOrdered` on topic1
///      (the site id). The ledger keeps only the latest deployment per site; the events keep all.
interface IRollout {
    /// @notice Success criteria of a phase: minimum Operational sites per tier and validators.
    struct Criteria {
        uint16 minCore;
        uint16 minRegional;
        uint16 minEdge;
        uint16 minValidators;
    }

    /// @notice A governed wave: which plan may run where and when.
    /// @dev `deploying`: sites of the wave now in status Deploying (bounded by `maxConcurrent`).
    ///      `cancelled`: a cancellation left no site of the wave Approved or Deploying.
    struct Wave {
        uint8 phase;
        uint64 notBefore;
        uint64 expiry;
        uint16 maxConcurrent;
        uint16 stepCount;
        uint16 deploying;
        bool cancelled;
        bytes32 planHash;
    }

    /// @notice The latest deployment of a site. `nextStep`: the step the agent must report next
    ///         (= steps that ran). `rollbackNext`: the rollback step expected next (meaningful while
    ///         a rollback is ordered and unfinished).
    struct Deployment {
        uint32 waveId;
        uint16 nextStep;
        uint16 rollbackNext;
        bool rollbackOrdered;
    }

    /// @notice Phase `phase` was approved; waves of it (and earlier phases) may now be approved.
    event PhaseApproved(uint8 indexed phase);
    /// @notice The success criteria of `phase` were set.
    event CriteriaSet(uint8 indexed phase, Criteria criteria);
    /// @notice A wave was approved; one `DeploymentApproved` per site follows.
    event WaveApproved(
        uint32 indexed waveId,
        uint8 indexed phase,
        bytes32 planHash,
        string planUri,
        uint64 notBefore,
        uint64 expiry,
        uint16 maxConcurrent,
        uint16 stepCount,
        uint256 siteCount
    );
    /// @notice `site` may run plan `planHash` under wave `waveId`.
    event DeploymentApproved(bytes32 indexed site, uint32 indexed waveId, bytes32 planHash);
    /// @notice The site's deployment under `waveId` was cancelled; the agent must stop.
    event DeploymentCancelled(bytes32 indexed site, uint32 indexed waveId, uint8 reason);
    /// @notice The agent must undo the steps that ran, in reverse, reporting each.
    event RollbackOrdered(bytes32 indexed site, uint32 indexed waveId, uint8 reason);
    /// @notice The agent of `site` reported `step` of wave `waveId`.
    event StepReported(
        bytes32 indexed site,
        uint32 indexed waveId,
        uint16 indexed step,
        uint8 status,
        bytes32 planHash,
        bytes32 outputDigest
    );
    /// @notice The agent of `site` reported undoing `step` of wave `waveId`.
    event RollbackStepReported(
        bytes32 indexed site, uint32 indexed waveId, uint16 indexed step, uint8 status, bytes32 outputDigest
    );
    /// @notice The guardian or governance paused forward steps.
    event Paused(address account);
    /// @notice Governance resumed forward steps.
    event Unpaused(address account);

    /// @notice The caller lacks `role`.
    error RolloutUnauthorized(address account, bytes32 role);
    /// @notice Only the site registry may call this.
    error RolloutNotRegistry(address sender);
    /// @notice A zero address was given where an account or contract is required.
    error RolloutZeroAddress();
    /// @notice The phase is not 1..3, or not the next one to approve.
    error RolloutInvalidPhase(uint8 phase);
    /// @notice Phase `phase`'s criterion `kind` is unmet: `have` < `need`.
    error RolloutPhaseCriteriaUnmet(uint8 phase, uint8 kind, uint256 have, uint256 need);
    /// @notice The wave's phase is not approved yet (`current` is the latest approved phase).
    error RolloutPhaseNotApproved(uint8 phase, uint8 current);
    /// @notice The wave has no sites.
    error RolloutEmptyWave();
    /// @notice The wave has more than `max` sites.
    error RolloutWaveTooLarge(uint256 size, uint256 max);
    /// @notice The plan hash is zero or the plan URI empty.
    error RolloutInvalidPlan();
    /// @notice The window is empty (`notBefore >= expiry`) or already over (`expiry <= now`).
    error RolloutInvalidWindow(uint64 notBefore, uint64 expiry);
    /// @notice `stepCount` or `maxConcurrent` is zero.
    error RolloutInvalidWaveLimits(uint16 stepCount, uint16 maxConcurrent);
    /// @notice The site is not registered.
    error RolloutUnknownSite(bytes32 site);
    /// @notice The site appears twice in the wave.
    error RolloutDuplicateSite(bytes32 site);
    /// @notice The site belongs to a later phase than the wave.
    error RolloutSitePhaseTooLate(bytes32 site, uint8 sitePhase, uint8 wavePhase);
    /// @notice The site has no agent key bound.
    error RolloutNoAgentKey(bytes32 site);
    /// @notice The site's status does not allow this (`status` as found).
    error RolloutSiteNotApprovable(bytes32 site, uint8 status);
    /// @notice The site's rollback is ordered and unfinished.
    error RolloutRollbackInProgress(bytes32 site);
    /// @notice The reason code is not 0..5.
    error RolloutInvalidReason(uint8 reason);
    /// @notice The site has no deployment that could be cancelled (not Approved or Deploying).
    error RolloutNotCancellable(bytes32 site);
    /// @notice The site's status does not allow a rollback (`status` as found).
    error RolloutNotRollbackable(bytes32 site, uint8 status);
    /// @notice The sender is not the site's bound agent key.
    error RolloutNotSiteAgent(bytes32 site, address sender);
    /// @notice The report names another wave than the site's latest deployment.
    error RolloutWrongWave(bytes32 site, uint32 expected, uint32 got);
    /// @notice Forward steps are paused.
    error RolloutPaused();
    /// @notice The wave's window has not opened yet.
    error RolloutWaveNotStarted(uint32 waveId, uint64 notBefore);
    /// @notice The wave's approval expired.
    error RolloutApprovalExpired(uint32 waveId, uint64 expiry);
    /// @notice The deployment is no longer open for steps: cancelled, failed, completed or rolled back.
    error RolloutDeploymentClosed(bytes32 site, uint32 waveId);
    /// @notice A rollback was ordered; only rollback steps are accepted.
    error RolloutRollbackOrdered(bytes32 site, uint32 waveId);
    /// @notice No rollback is in progress for the site.
    error RolloutNoRollback(bytes32 site, uint32 waveId);
    /// @notice Steps must come in order: `expected` is next.
    error RolloutStepOutOfOrder(bytes32 site, uint16 expected, uint16 got);
    /// @notice The status is not 1 Succeeded, 2 Failed or 3 Skipped.
    error RolloutInvalidStepStatus(uint8 status);
    /// @notice The wave already has `maxConcurrent` sites deploying.
    error RolloutMaxConcurrent(uint32 waveId, uint16 maxConcurrent);
    /// @notice Not paused (for `unpause`) or already paused (for `pause`).
    error RolloutPauseUnchanged(bool paused);

    /// @notice Approves `phase` (governance); it must be the next phase and the previous phase's
    ///         criteria must hold on chain.
    function approvePhase(uint8 phase) external;
    /// @notice Sets `phase`'s success criteria (governance).
    function setCriteria(uint8 phase, Criteria calldata c) external;
    /// @notice Approves a wave (governance); returns its id (from 1).
    function approveWave(
        uint8 phase,
        bytes32 planHash,
        string calldata planUri,
        bytes32[] calldata sites,
        uint64 notBefore,
        uint64 expiry,
        uint16 maxConcurrent,
        uint16 stepCount
    ) external returns (uint32 waveId);
    /// @notice Cancels the sites' open deployments (governance or guardian): Approved -> Planned,
    ///         Deploying -> Degraded.
    function cancelDeployments(bytes32[] calldata sites, uint8 reason) external;
    /// @notice Orders the sites' agents to undo the steps that ran (governance).
    function orderRollback(bytes32[] calldata sites, uint8 reason) external;
    /// @notice Records one forward step (the site's agent key only).
    function reportStep(bytes32 site, uint32 waveId, uint16 step, uint8 status, bytes32 outputDigest) external;
    /// @notice Records one rollback step (the site's agent key only); allowed after expiry and
    ///         while paused, because undoing must always be possible.
    function reportRollbackStep(bytes32 site, uint32 waveId, uint16 step, uint8 status, bytes32 outputDigest)
        external;
    /// @notice Pauses forward steps (guardian or governance).
    function pause() external;
    /// @notice Resumes forward steps (governance).
    function unpause() external;
    /// @notice Registry hook: the site's agent key changed, or the site was decommissioned.
    /// @dev Only the SiteRegistry calls it; it keeps the ledger's copy of the key exact.
    function siteUpdated(bytes32 site, address agent, bool decommissioned) external;

    /// @notice The latest approved phase (0: none).
    function currentPhase() external view returns (uint8);
    /// @notice Whether forward steps are paused.
    function paused() external view returns (bool);
    /// @notice `phase`'s success criteria.
    function criteria(uint8 phase) external view returns (Criteria memory);
    /// @notice Whether `phase`'s criteria hold now.
    function criteriaMet(uint8 phase) external view returns (bool);
    /// @notice Wave `waveId` (all zero if unknown).
    function wave(uint32 waveId) external view returns (Wave memory);
    /// @notice Number of waves approved so far (= the latest wave id).
    function waveCount() external view returns (uint32);
    /// @notice The site's latest deployment (waveId 0: none).
    function deployment(bytes32 site) external view returns (Deployment memory);
    /// @notice The agent key the ledger accepts for `site` (mirrors the registry).
    function agentOf(bytes32 site) external view returns (address);
}
