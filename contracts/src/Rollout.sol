// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IRollout, RollbackReason, StepStatus} from "./interfaces/IRollout.sol";
import {ISiteRegistry, SiteStatus, Tier} from "./interfaces/ISiteRegistry.sol";
import {IValidatorSet} from "./interfaces/IValidatorSet.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Rollout
/// @notice Phases gated by on-chain success criteria, governed waves of site approvals, and the
///         deployment ledger (every step a site's agent reports, in order, under a live approval).
/// @dev The ledger keeps one slot per site holding the latest deployment and a copy of the
///      site's agent key (kept exact by the registry's `siteUpdated` hook), so a step report
///      costs no external call unless the site's status changes.
contract Rollout is IRollout, AccessControl {
    /// @notice The timelock: approves phases and waves, orders rollbacks, sets criteria, unpauses.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice May pause forward steps and cancel deployments; never approves anything.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Most sites per wave (bounds `approveWave`'s gas).
    uint256 public constant MAX_WAVE_SITES = 500;
    /// @notice Number of rollout phases in the plan.
    uint8 public constant PHASES = 3;

    /// @dev Where a site's latest deployment stands.
    enum LedgerState {
        None,
        Active, // approved; steps may be reported (site Approved or Deploying)
        Completed, // the last step succeeded (site Operational)
        Failed, // a step failed (site Degraded)
        Cancelled, // cancelled by governance/guardian, or the site was decommissioned
        RollingBack, // rollback ordered and unfinished
        RolledBack, // rollback finished (site RolledBack)
        RollbackFailed // a rollback step failed (site Degraded); a new order resumes at that step
    }

    /// @dev One slot per site (29 bytes).
    struct Ledger {
        uint32 waveId;
        uint16 nextStep;
        uint16 rollbackNext;
        LedgerState state;
        address agent;
    }

    /// @dev A wave in two slots: the packed header, then the plan hash.
    struct WaveRecord {
        uint8 phase;
        uint64 notBefore;
        uint64 expiry;
        uint16 maxConcurrent;
        uint16 stepCount;
        uint16 deploying; // Active deployments past step 0
        uint16 open; // Active deployments
        bool cancelled;
        bytes32 planHash;
    }

    /// @dev The site registry (statuses, counters, keys).
    ISiteRegistry private immutable _registry;
    /// @dev The validator set (for the Validators criterion).
    IValidatorSet private immutable _validators;

    /// @dev Latest approved phase, pause flag and wave counter share one slot.
    uint8 private _currentPhase;
    bool private _paused;
    uint32 private _waveCount;
    /// @dev phase (1..3) => criteria; index 0 unused.
    Criteria[4] private _criteria;
    /// @dev wave id => wave.
    mapping(uint32 waveId => WaveRecord) private _waves;
    /// @dev site id => latest deployment and the accepted agent key.
    mapping(bytes32 site => Ledger) private _ledger;

    /// @param governance the TimelockController (DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE)
    /// @param guardian the account that may pause and cancel (GUARDIAN_ROLE)
    /// @param registry_ the SiteRegistry (this contract needs its ROLLOUT_ROLE: `initRollout`)
    /// @param validators_ the ValidatorSet
    /// @param criteria_ success criteria of phases 1..3
    constructor(
        address governance,
        address guardian,
        ISiteRegistry registry_,
        IValidatorSet validators_,
        Criteria[3] memory criteria_
    ) {
        if (
            governance == address(0) || guardian == address(0) || address(registry_) == address(0)
                || address(validators_) == address(0)
        ) revert RolloutZeroAddress();
        _registry = registry_;
        _validators = validators_;
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
        _grantRole(GUARDIAN_ROLE, guardian);
        for (uint8 p = 1; p <= PHASES; ++p) {
            _criteria[p] = criteria_[p - 1];
            emit CriteriaSet(p, criteria_[p - 1]);
        }
    }

    // ---------------------------------------------------------------- governance: phases

    /// @inheritdoc IRollout
    function approvePhase(uint8 phase) external onlyRole(GOVERNANCE_ROLE) {
        if (phase == 0 || phase > PHASES || phase != _currentPhase + 1) revert RolloutInvalidPhase(phase);
        if (phase > 1) {
            (bool ok, uint8 kind, uint256 have, uint256 need) = _checkCriteria(phase - 1);
            if (!ok) revert RolloutPhaseCriteriaUnmet(phase - 1, kind, have, need);
        }
        _currentPhase = phase;
        emit PhaseApproved(phase);
    }

    /// @inheritdoc IRollout
    function setCriteria(uint8 phase, Criteria calldata c) external onlyRole(GOVERNANCE_ROLE) {
        if (phase == 0 || phase > PHASES) revert RolloutInvalidPhase(phase);
        _criteria[phase] = c;
        emit CriteriaSet(phase, c);
    }

    // ---------------------------------------------------------------- governance: waves

    /// @inheritdoc IRollout
    function approveWave(
        uint8 phase,
        bytes32 planHash,
        string calldata planUri,
        bytes32[] calldata sites,
        uint64 notBefore,
        uint64 expiry,
        uint16 maxConcurrent,
        uint16 stepCount
    ) external onlyRole(GOVERNANCE_ROLE) returns (uint32 waveId) {
        waveId = _openWave(
            phase, planHash, planUri, sites.length, notBefore, expiry, maxConcurrent, stepCount
        );
        _approveSites(sites, waveId, phase, planHash);
    }

    /// @inheritdoc IRollout
    function cancelDeployments(bytes32[] calldata sites, uint8 reason) external {
        if (!hasRole(GOVERNANCE_ROLE, msg.sender)) _checkRole(GUARDIAN_ROLE, msg.sender);
        if (reason > uint8(RollbackReason.ComplianceViolation)) revert RolloutInvalidReason(reason);
        uint256 n = sites.length;
        bytes32[] memory toPlanned = new bytes32[](n);
        bytes32[] memory toDegraded = new bytes32[](n);
        uint256 planned;
        uint256 degraded;
        for (uint256 i; i < n; ++i) {
            bytes32 id = sites[i];
            Ledger storage l = _ledger[id];
            if (l.state != LedgerState.Active) revert RolloutNotCancellable(id);
            uint32 waveId = l.waveId;
            bool started = l.nextStep != 0;
            l.state = LedgerState.Cancelled;
            _closeOnWave(waveId, started, true);
            emit DeploymentCancelled(id, waveId, reason);
            // Cannot overflow: both counters are at most i < n.
            unchecked {
                if (started) toDegraded[degraded++] = id;
                else toPlanned[planned++] = id;
            }
        }
        _setStatuses(toPlanned, planned, uint8(SiteStatus.Planned));
        _setStatuses(toDegraded, degraded, uint8(SiteStatus.Degraded));
    }

    /// @inheritdoc IRollout
    function orderRollback(bytes32[] calldata sites, uint8 reason) external onlyRole(GOVERNANCE_ROLE) {
        if (reason > uint8(RollbackReason.ComplianceViolation)) revert RolloutInvalidReason(reason);
        uint256 n = sites.length;
        bytes32[] memory done = new bytes32[](n);
        uint256 doneCount;
        for (uint256 i; i < n; ++i) {
            bytes32 id = sites[i];
            uint8 st = _registry.site(id).status;
            if (
                st != uint8(SiteStatus.Approved) && st != uint8(SiteStatus.Deploying)
                    && st != uint8(SiteStatus.Degraded) && st != uint8(SiteStatus.Operational)
            ) revert RolloutNotRollbackable(id, st);
            Ledger storage l = _ledger[id];
            LedgerState state = l.state;
            if (state == LedgerState.RollingBack) revert RolloutRollbackInProgress(id);
            uint32 waveId = l.waveId;
            // Defensive: those statuses are only reachable through a wave of this contract.
            if (waveId == 0) revert RolloutNotRollbackable(id, st);
            uint16 ran = l.nextStep;
            if (state == LedgerState.Active) _closeOnWave(waveId, ran != 0, false);
            if (ran == 0) {
                // Nothing ran (an Approved site): nothing to undo.
                l.state = LedgerState.RolledBack;
                // Cannot overflow: doneCount <= i < n.
                unchecked {
                    done[doneCount++] = id;
                }
            } else {
                // A failed rollback resumes at the step that failed; otherwise start at the last step run.
                if (state != LedgerState.RollbackFailed) l.rollbackNext = ran - 1;
                l.state = LedgerState.RollingBack;
            }
            emit RollbackOrdered(id, waveId, reason);
        }
        _setStatuses(done, doneCount, uint8(SiteStatus.RolledBack));
    }

    // ---------------------------------------------------------------- the ledger

    /// @inheritdoc IRollout
    function reportStep(bytes32 site, uint32 waveId, uint16 step, uint8 status, bytes32 outputDigest)
        external
    {
        Ledger memory l = _ledger[site];
        if (msg.sender != l.agent) revert RolloutNotSiteAgent(site, msg.sender);
        if (waveId != l.waveId) revert RolloutWrongWave(site, l.waveId, waveId);
        if (l.state != LedgerState.Active) {
            if (l.state == LedgerState.RollingBack) revert RolloutRollbackOrdered(site, waveId);
            revert RolloutDeploymentClosed(site, waveId);
        }
        if (_paused) revert RolloutPaused();
        WaveRecord storage w = _waves[waveId];
        uint64 notBefore = w.notBefore;
        uint64 expiry = w.expiry;
        // Windows are minutes to hours wide and the validators are governed; seconds of skew are harmless.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < notBefore) revert RolloutWaveNotStarted(waveId, notBefore);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= expiry) revert RolloutApprovalExpired(waveId, expiry);
        if (step != l.nextStep) revert RolloutStepOutOfOrder(site, l.nextStep, step);
        if (status == 0 || status > uint8(StepStatus.Skipped)) revert RolloutInvalidStepStatus(status);

        // Cannot overflow: step < stepCount <= type(uint16).max while the deployment is Active.
        unchecked {
            l.nextStep = step + 1;
        }
        bool failed = status == uint8(StepStatus.Failed);
        bool last = l.nextStep == w.stepCount;
        if (failed) l.state = LedgerState.Failed;
        else if (last) l.state = LedgerState.Completed;
        _ledger[site] = l;

        if (step == 0) {
            uint16 maxConcurrent = w.maxConcurrent;
            if (w.deploying >= maxConcurrent) revert RolloutMaxConcurrent(waveId, maxConcurrent);
            // Cannot overflow: deploying < maxConcurrent.
            unchecked {
                ++w.deploying;
            }
            _setStatus(site, uint8(SiteStatus.Deploying));
        }
        if (failed || last) {
            _closeOnWave(waveId, true, false);
            _setStatus(site, failed ? uint8(SiteStatus.Degraded) : uint8(SiteStatus.Operational));
        }
        emit StepReported(site, waveId, step, status, w.planHash, outputDigest);
    }

    /// @inheritdoc IRollout
    function reportRollbackStep(bytes32 site, uint32 waveId, uint16 step, uint8 status, bytes32 outputDigest)
        external
    {
        Ledger memory l = _ledger[site];
        if (msg.sender != l.agent) revert RolloutNotSiteAgent(site, msg.sender);
        if (waveId != l.waveId) revert RolloutWrongWave(site, l.waveId, waveId);
        if (l.state != LedgerState.RollingBack) revert RolloutNoRollback(site, waveId);
        if (step != l.rollbackNext) revert RolloutStepOutOfOrder(site, l.rollbackNext, step);
        if (status == 0 || status > uint8(StepStatus.Skipped)) revert RolloutInvalidStepStatus(status);

        uint8 to;
        if (status == uint8(StepStatus.Failed)) {
            // The undo failed: the site is in an unknown state. A new order resumes at this step.
            l.state = LedgerState.RollbackFailed;
            uint8 st = _registry.site(site).status;
            if (st == uint8(SiteStatus.Deploying) || st == uint8(SiteStatus.Operational)) {
                to = uint8(SiteStatus.Degraded);
            }
        } else if (step == 0) {
            l.state = LedgerState.RolledBack;
            to = uint8(SiteStatus.RolledBack);
        } else {
            // Cannot underflow: step > 0 here.
            unchecked {
                l.rollbackNext = step - 1;
            }
        }
        _ledger[site] = l;
        if (to != 0) _setStatus(site, to);
        emit RollbackStepReported(site, waveId, step, status, outputDigest);
    }

    // ---------------------------------------------------------------- pause and registry hook

    /// @inheritdoc IRollout
    function pause() external {
        if (!hasRole(GOVERNANCE_ROLE, msg.sender)) _checkRole(GUARDIAN_ROLE, msg.sender);
        if (_paused) revert RolloutPauseUnchanged(true);
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IRollout
    function unpause() external onlyRole(GOVERNANCE_ROLE) {
        if (!_paused) revert RolloutPauseUnchanged(false);
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IRollout
    function siteUpdated(bytes32 site, address agent, bool decommissioned) external {
        if (msg.sender != address(_registry)) revert RolloutNotRegistry(msg.sender);
        Ledger storage l = _ledger[site];
        l.agent = agent;
        if (!decommissioned) return;
        LedgerState state = l.state;
        if (state == LedgerState.Active || state == LedgerState.RollingBack) {
            uint32 waveId = l.waveId;
            if (state == LedgerState.Active) _closeOnWave(waveId, l.nextStep != 0, true);
            l.state = LedgerState.Cancelled;
            emit DeploymentCancelled(site, waveId, uint8(RollbackReason.Operator));
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IRollout
    function currentPhase() external view returns (uint8) {
        return _currentPhase;
    }

    /// @inheritdoc IRollout
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @inheritdoc IRollout
    function criteria(uint8 phase) external view returns (Criteria memory) {
        if (phase == 0 || phase > PHASES) revert RolloutInvalidPhase(phase);
        return _criteria[phase];
    }

    /// @inheritdoc IRollout
    function criteriaMet(uint8 phase) external view returns (bool ok) {
        if (phase == 0 || phase > PHASES) revert RolloutInvalidPhase(phase);
        (ok,,,) = _checkCriteria(phase);
    }

    /// @inheritdoc IRollout
    function wave(uint32 waveId) external view returns (Wave memory) {
        WaveRecord storage w = _waves[waveId];
        return Wave({
            phase: w.phase,
            notBefore: w.notBefore,
            expiry: w.expiry,
            maxConcurrent: w.maxConcurrent,
            stepCount: w.stepCount,
            deploying: w.deploying,
            cancelled: w.cancelled,
            planHash: w.planHash
        });
    }

    /// @inheritdoc IRollout
    function waveCount() external view returns (uint32) {
        return _waveCount;
    }

    /// @inheritdoc IRollout
    function deployment(bytes32 site) external view returns (Deployment memory) {
        Ledger storage l = _ledger[site];
        LedgerState state = l.state;
        return Deployment({
            waveId: l.waveId,
            nextStep: l.nextStep,
            rollbackNext: l.rollbackNext,
            rollbackOrdered: state == LedgerState.RollingBack || state == LedgerState.RolledBack
                || state == LedgerState.RollbackFailed
        });
    }

    /// @inheritdoc IRollout
    function agentOf(bytes32 site) external view returns (address) {
        return _ledger[site].agent;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Reverts with the contract's own error so every revert names this contract.
    function _checkRole(bytes32 role, address account) internal view override {
        if (!hasRole(role, account)) revert RolloutUnauthorized(account, role);
    }

    /// @dev Validates a wave's header and stores it; returns the new wave id.
    function _openWave(
        uint8 phase,
        bytes32 planHash,
        string calldata planUri,
        uint256 n,
        uint64 notBefore,
        uint64 expiry,
        uint16 maxConcurrent,
        uint16 stepCount
    ) private returns (uint32 waveId) {
        if (phase == 0 || phase > _currentPhase) {
            revert RolloutPhaseNotApproved(phase, _currentPhase);
        }
        if (n == 0) revert RolloutEmptyWave();
        if (n > MAX_WAVE_SITES) revert RolloutWaveTooLarge(n, MAX_WAVE_SITES);
        if (planHash == 0 || bytes(planUri).length == 0) revert RolloutInvalidPlan();
        // forge-lint: disable-next-line(block-timestamp)
        if (notBefore >= expiry || expiry <= block.timestamp) revert RolloutInvalidWindow(notBefore, expiry);
        if (stepCount == 0 || maxConcurrent == 0) revert RolloutInvalidWaveLimits(stepCount, maxConcurrent);
        waveId = _waveCount + 1;
        _waveCount = waveId;
        _waves[waveId] = WaveRecord({
            phase: phase,
            notBefore: notBefore,
            expiry: expiry,
            maxConcurrent: maxConcurrent,
            stepCount: stepCount,
            deploying: 0,
            // casting to 'uint16' is safe because n <= MAX_WAVE_SITES < 2**16
            // forge-lint: disable-next-line(unsafe-typecast)
            open: uint16(n),
            cancelled: false,
            planHash: planHash
        });
        emit WaveApproved(waveId, phase, planHash, planUri, notBefore, expiry, maxConcurrent, stepCount, n);
    }

    /// @dev Checks every site of a new wave, opens its deployment, then marks all Approved.
    function _approveSites(bytes32[] calldata sites, uint32 waveId, uint8 phase, bytes32 planHash) private {
        uint256 n = sites.length;
        for (uint256 i; i < n;) {
            _approveSite(sites[i], waveId, phase, planHash);
            // Cannot overflow: i < n, a calldata length.
            unchecked {
                ++i;
            }
        }
        _registry.setStatus(sites, uint8(SiteStatus.Approved));
    }

    /// @dev Checks one site of a new wave and opens its deployment.
    function _approveSite(bytes32 id, uint32 waveId, uint8 phase, bytes32 planHash) private {
        ISiteRegistry.Site memory s = _registry.site(id);
        if (s.tier == 0) revert RolloutUnknownSite(id);
        if (s.phase > phase) revert RolloutSitePhaseTooLate(id, s.phase, phase);
        if (s.agent == address(0)) revert RolloutNoAgentKey(id);
        uint8 st = s.status;
        if (
            st != uint8(SiteStatus.Planned) && st != uint8(SiteStatus.Degraded)
                && st != uint8(SiteStatus.RolledBack)
        ) {
            revert RolloutSiteNotApprovable(id, st);
        }
        Ledger storage l = _ledger[id];
        if (l.waveId == waveId) revert RolloutDuplicateSite(id);
        if (l.state == LedgerState.RollingBack) revert RolloutRollbackInProgress(id);
        _ledger[id] =
            Ledger({waveId: waveId, nextStep: 0, rollbackNext: 0, state: LedgerState.Active, agent: s.agent});
        emit DeploymentApproved(id, waveId, planHash);
    }

    /// @dev The first unmet criterion of `phase` (kind, have, need), or ok.
    function _checkCriteria(uint8 phase) private view returns (bool, uint8, uint256, uint256) {
        Criteria memory c = _criteria[phase];
        uint8 operational = uint8(SiteStatus.Operational);
        uint256 have = _registry.count(uint8(Tier.Core), operational);
        if (have < c.minCore) return (false, 0, have, c.minCore);
        have = _registry.count(uint8(Tier.Regional), operational);
        if (have < c.minRegional) return (false, 1, have, c.minRegional);
        have = _registry.count(uint8(Tier.Edge), operational);
        if (have < c.minEdge) return (false, 2, have, c.minEdge);
        have = _validators.validatorCount();
        if (have < c.minValidators) return (false, 3, have, c.minValidators);
        return (true, 0, 0, 0);
    }

    /// @dev An Active deployment of `waveId` ends: it stops counting as open (and as deploying if
    ///      `started`). A cancellation that leaves nothing open marks the wave cancelled.
    function _closeOnWave(uint32 waveId, bool started, bool byCancel) private {
        WaveRecord storage w = _waves[waveId];
        // Cannot underflow: every Active deployment is counted in `open`, and in `deploying`
        // once its step 0 was recorded; each is closed exactly once (it leaves Active here).
        unchecked {
            uint16 open = w.open - 1;
            w.open = open;
            if (started) --w.deploying;
            if (byCancel && open == 0) w.cancelled = true;
        }
    }

    /// @dev Moves one site in the registry.
    function _setStatus(bytes32 site, uint8 to) private {
        bytes32[] memory one = new bytes32[](1);
        one[0] = site;
        _registry.setStatus(one, to);
    }

    /// @dev Moves the first `n` sites of `list` in the registry (no call when `n == 0`).
    function _setStatuses(bytes32[] memory list, uint256 n, uint8 to) private {
        if (n == 0) return;
        // Shrinks the array in place to its used length; memory beyond stays allocated, unused.
        assembly ("memory-safe") {
            mstore(list, n)
        }
        _registry.setStatus(list, to);
    }
}
