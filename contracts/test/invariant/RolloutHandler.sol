// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Rollout} from "../../src/Rollout.sol";
import {SiteRegistry} from "../../src/SiteRegistry.sol";
import {ValidatorSet} from "../../src/ValidatorSet.sol";
import {IRollout} from "../../src/interfaces/IRollout.sol";
import {ISiteRegistry} from "../../src/interfaces/ISiteRegistry.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

/// @notice Drives the registry, validator set and rollout with mostly-valid random actions
///         (governance through the timelock's address, agents with their bound keys, strangers
///         trying privileged calls) and keeps ghost state the invariants compare against.
contract RolloutHandler is CommonBase, StdUtils {
    SiteRegistry internal immutable registry;
    ValidatorSet internal immutable validators;
    Rollout internal immutable rollout;
    address internal immutable timelock;
    address internal immutable registrar;
    address internal immutable guardian;

    bytes32[] public sites;
    /// @dev Sites that were ever part of a wave: agent, cancel and rollback actions aim here.
    bytes32[] internal deployed;
    mapping(bytes32 site => bool) internal isDeployed;
    uint256 internal nameCounter;
    uint256 internal keyCounter;

    /// @dev What the handler believes each site's key is (changed only by timelock calls).
    mapping(bytes32 site => address key) public expectedKey;
    /// @dev Successful (Succeeded/Skipped) forward steps per (site, wave), each checked by the
    ///      handler to be in order, inside the window, unpaused, before the call.
    mapping(bytes32 site => mapping(uint32 waveId => uint16 steps)) public okSteps;
    /// @dev The validators the handler believes are in the set.
    address[] public expectedValidators;

    /// @dev Set when something that must revert did not.
    bool public strangerSucceeded;
    bool public reportOutsideRules;
    bool public phaseApprovedWithoutCriteria;

    uint256 public calls;
    /// @dev Coverage counters: how often the interesting paths were actually reached.
    uint256 public wavesApproved;
    uint256 public stepsAccepted;
    uint256 public sitesCompleted;
    uint256 public rollbacksCompleted;

    constructor(
        SiteRegistry registry_,
        ValidatorSet validators_,
        Rollout rollout_,
        address timelock_,
        address registrar_,
        address guardian_,
        address initialValidator
    ) {
        registry = registry_;
        validators = validators_;
        rollout = rollout_;
        timelock = timelock_;
        registrar = registrar_;
        guardian = guardian_;
        expectedValidators.push(initialValidator);
    }

    function siteCount() external view returns (uint256) {
        return sites.length;
    }

    function validatorCount() external view returns (uint256) {
        return expectedValidators.length;
    }

    // ------------------------------------------------------------------ inventory and keys

    /// @dev Registers 1..8 sites, each under a random existing parent of the tier above.
    function registerBatch(uint256 seed, uint8 size) external {
        ++calls;
        uint256 n = bound(size, 1, 8);
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 tier = uint8(1 + r % 3);
            bytes32 parent;
            uint8 phase = uint8(1 + (r >> 8) % 3);
            if (tier != 1) {
                parent = _findTier(tier - 1, r >> 16);
                if (parent == 0) {
                    tier = 1;
                } else {
                    uint8 pp = registry.site(parent).phase;
                    if (pp > phase) phase = pp;
                }
            }
            bytes32 id = bytes32(bytes(string.concat("s-", vm.toString(nameCounter++))));
            b[i] = ISiteRegistry.SiteInput(id, tier, phase, parent, bytes32(r));
        }
        vm.prank(registrar);
        registry.registerSites(b);
        for (uint256 i; i < n; ++i) {
            sites.push(b[i].id);
        }
    }

    function bindKey(uint256 siteSeed) external {
        ++calls;
        bytes32 s = _site(siteSeed);
        if (s == 0 || registry.site(s).status == 7) return;
        // forge-lint: disable-next-line(unsafe-typecast)
        address key = address(uint160(0xA0000 + ++keyCounter));
        vm.prank(timelock);
        registry.bindAgentKey(s, key);
        expectedKey[s] = key;
    }

    function revokeKey(uint256 siteSeed) external {
        ++calls;
        bytes32 s = _site(siteSeed);
        if (s == 0 || registry.agentOf(s) == address(0)) return;
        vm.prank(timelock);
        registry.revokeAgentKey(s);
        expectedKey[s] = address(0);
    }

    function decommission(uint256 siteSeed) external {
        ++calls;
        bytes32 s = _site(siteSeed);
        // Rare: decommissioning shrinks the pool of sites the rollout can use.
        if (s == 0 || registry.site(s).status == 7 || siteSeed % 8 != 0) return;
        vm.prank(timelock);
        registry.decommission(s);
        expectedKey[s] = address(0);
    }

    function markDegraded(uint256 siteSeed) external {
        ++calls;
        bytes32 s = _site(siteSeed);
        if (s == 0 || registry.site(s).status != 4) return;
        vm.prank(timelock);
        registry.markDegraded(s);
    }

    // ------------------------------------------------------------------ validators

    function addValidator(uint256 seed) external {
        ++calls;
        bytes32 core = _findTier(1, seed);
        if (core == 0 || registry.site(core).status == 7) return;
        address v = address(uint160(0xB0000 + (seed % 64)));
        if (validators.siteOf(v) != 0) return;
        vm.prank(timelock);
        validators.addValidator(v, core);
        expectedValidators.push(v);
    }

    function removeValidator(uint256 seed) external {
        ++calls;
        uint256 n = expectedValidators.length;
        if (n <= 1) return;
        uint256 i = seed % n;
        address v = expectedValidators[i];
        vm.prank(timelock);
        validators.removeValidator(v);
        expectedValidators[i] = expectedValidators[n - 1];
        expectedValidators.pop();
    }

    /// @dev Strangers (including the guardian and agents) try every privileged key/validator call.
    function strangerTries(uint256 seed, address who) external {
        ++calls;
        if (who == timelock) return;
        // The guardian is the stranger most worth testing: it may pause and cancel, nothing more.
        if (seed % 3 == 0) who = guardian;
        bytes32 s = _site(seed);
        bytes[5] memory cs = [
            abi.encodeCall(registry.bindAgentKey, (s, who)),
            abi.encodeCall(registry.revokeAgentKey, (s)),
            abi.encodeCall(validators.addValidator, (who, s)),
            abi.encodeCall(validators.removeValidator, (expectedValidators[0])),
            abi.encodeCall(validators.setGovernance, (who))
        ];
        uint256 k = seed % 5;
        address target = k < 2 ? address(registry) : address(validators);
        vm.prank(who);
        (bool ok,) = target.call(cs[k]);
        if (ok) strangerSucceeded = true;
    }

    // ------------------------------------------------------------------ rollout

    function approvePhase() external {
        ++calls;
        uint8 next = rollout.currentPhase() + 1;
        if (next > 3) return;
        bool met = next == 1 || rollout.criteriaMet(next - 1);
        vm.prank(timelock);
        try rollout.approvePhase(next) {
            if (!met) phaseApprovedWithoutCriteria = true;
        } catch {}
    }

    function approveWave(uint256 seed, uint8 count, uint8 steps, uint8 maxConcurrent) external {
        ++calls;
        uint8 phase = rollout.currentPhase();
        if (phase == 0 || sites.length == 0) return;
        uint256 want = bound(count, 1, 6);
        bytes32[] memory picked = new bytes32[](want);
        uint256 n;
        for (uint256 k; k < sites.length && n < want; ++k) {
            bytes32 s = sites[(seed % sites.length + k) % sites.length];
            ISiteRegistry.Site memory st = registry.site(s);
            bool approvable = st.status == 1 || st.status == 5 || st.status == 6;
            if (!approvable || st.agent == address(0) || st.phase > phase) continue;
            IRollout.Deployment memory d = rollout.deployment(s);
            if (d.rollbackOrdered && (st.status == 5 && d.rollbackNext != 0)) continue;
            picked[n++] = s;
        }
        if (n == 0) return;
        assembly ("memory-safe") {
            mstore(picked, n)
        }
        // Arguments first: `bound` logs through a call, which would consume the prank.
        uint16 maxC = uint16(bound(maxConcurrent, 1, 4));
        uint16 stepCount = uint16(bound(steps, 1, 5));
        bytes32 planHash = keccak256(abi.encode(seed));
        uint64 start = uint64(block.timestamp);
        vm.prank(timelock);
        try rollout.approveWave(
            phase, planHash, "ipfs://plan", picked, start, start + 3 days, maxC, stepCount
        ) {
            ++wavesApproved;
            for (uint256 i; i < n; ++i) {
                if (!isDeployed[picked[i]]) {
                    isDeployed[picked[i]] = true;
                    deployed.push(picked[i]);
                }
            }
        } catch {}
    }

    /// @dev The site's agent reports its next step (mostly successes).
    /// @dev Aliases weight the agent's actions: the fuzzer picks selectors uniformly.
    function reportNextA(uint256 siteSeed, uint8 outcome) external {
        reportNext(siteSeed, outcome);
    }

    function reportNextB(uint256 siteSeed, uint8 outcome) external {
        reportNext(siteSeed, outcome);
    }

    function reportNextC(uint256 siteSeed, uint8 outcome) external {
        reportNext(siteSeed, outcome);
    }

    function reportRollbackNextA(uint256 siteSeed, uint8 outcome) external {
        reportRollbackNext(siteSeed, outcome);
    }

    function reportNext(uint256 siteSeed, uint8 outcome) public {
        ++calls;
        // Mostly aim at a site that can take a step; sometimes at any deployed site, so closed
        // deployments are probed too.
        bytes32 s = siteSeed % 4 == 0 ? _deployedSite(siteSeed) : _liveSite(siteSeed);
        if (s == 0) return;
        IRollout.Deployment memory d = rollout.deployment(s);
        address key = registry.agentOf(s);
        if (d.waveId == 0 || key == address(0)) return;
        IRollout.Wave memory w = rollout.wave(d.waveId);
        uint8 st = registry.site(s).status;
        uint8 status = outcome % 8 == 0 ? 2 : (outcome % 2 == 0 ? 1 : 3);
        // forge-lint: disable-next-line(block-timestamp)
        bool allowed = !rollout.paused() && block.timestamp >= w.notBefore && block.timestamp < w.expiry
            && d.nextStep < w.stepCount && !d.rollbackOrdered && (st == 2 || st == 3);
        vm.prank(key);
        try rollout.reportStep(s, d.waveId, d.nextStep, status, bytes32(siteSeed)) {
            if (!allowed) reportOutsideRules = true;
            if (status != 2) okSteps[s][d.waveId] += 1;
            ++stepsAccepted;
            if (registry.site(s).status == 4) ++sitesCompleted;
        } catch {}
    }

    /// @dev Anyone sends a random report; only the bound key with the exact next step may succeed.
    function reportRandom(uint256 siteSeed, address sender, uint16 step, uint8 status, uint32 waveId)
        external
    {
        ++calls;
        bytes32 s = _site(siteSeed);
        if (s == 0) return;
        IRollout.Deployment memory d = rollout.deployment(s);
        address key = registry.agentOf(s);
        vm.prank(sender);
        try rollout.reportStep(s, waveId, step, status, bytes32(0)) {
            if (sender != key || waveId != d.waveId || step != d.nextStep) reportOutsideRules = true;
            if (status != 2) okSteps[s][waveId] += 1;
        } catch {}
    }

    function cancel(uint256 siteSeed, uint8 reason) external {
        ++calls;
        bytes32 s = _deployedSite(siteSeed);
        if (s == 0) return;
        bytes32[] memory one = new bytes32[](1);
        one[0] = s;
        vm.prank(siteSeed % 2 == 0 ? guardian : timelock);
        try rollout.cancelDeployments(one, reason % 6) {} catch {}
    }

    function orderRollback(uint256 siteSeed, uint8 reason) external {
        ++calls;
        bytes32 s = _deployedSite(siteSeed);
        if (s == 0) return;
        bytes32[] memory one = new bytes32[](1);
        one[0] = s;
        vm.prank(timelock);
        try rollout.orderRollback(one, reason % 6) {} catch {}
    }

    function reportRollbackNext(uint256 siteSeed, uint8 outcome) public {
        ++calls;
        bytes32 s = _rollingBackSite(siteSeed);
        if (s == 0) return;
        IRollout.Deployment memory d = rollout.deployment(s);
        address key = registry.agentOf(s);
        if (key == address(0)) return;
        uint8 status = outcome % 10 == 0 ? 2 : 1;
        vm.prank(key);
        try rollout.reportRollbackStep(s, d.waveId, d.rollbackNext, status, bytes32(0)) {
            if (registry.site(s).status == 6) ++rollbacksCompleted;
        } catch {}
    }

    function togglePause(bool byGuardian, uint8 seed) external {
        ++calls;
        if (rollout.paused()) {
            vm.prank(timelock);
            rollout.unpause();
        } else if (seed % 4 == 0) {
            // Pause rarely, unpause on the next toggle: most of a run stays unpaused.
            vm.prank(byGuardian ? guardian : timelock);
            rollout.pause();
        }
    }

    function warp(uint32 secs) external {
        ++calls;
        vm.warp(block.timestamp + bound(secs, 1, 2 hours));
    }

    // ------------------------------------------------------------------ helpers

    function _site(uint256 seed) internal view returns (bytes32) {
        if (sites.length == 0) return 0;
        return sites[seed % sites.length];
    }

    function _deployedSite(uint256 seed) internal view returns (bytes32) {
        if (deployed.length == 0) return 0;
        return deployed[seed % deployed.length];
    }

    /// @dev A deployed site that is Approved or Deploying and not rolling back, if any.
    function _liveSite(uint256 seed) internal view returns (bytes32) {
        uint256 n = deployed.length;
        for (uint256 k; k < n; ++k) {
            bytes32 s = deployed[(seed % n + k) % n];
            uint8 st = registry.site(s).status;
            if ((st == 2 || st == 3) && !rollout.deployment(s).rollbackOrdered) return s;
        }
        return 0;
    }

    /// @dev A deployed site with an unfinished rollback, if any.
    function _rollingBackSite(uint256 seed) internal view returns (bytes32) {
        uint256 n = deployed.length;
        for (uint256 k; k < n; ++k) {
            bytes32 s = deployed[(seed % n + k) % n];
            IRollout.Deployment memory d = rollout.deployment(s);
            uint8 st = registry.site(s).status;
            if (d.rollbackOrdered && st != 6 && st != 7) return s;
        }
        return 0;
    }

    function _findTier(uint8 tier, uint256 seed) internal view returns (bytes32) {
        uint256 n = sites.length;
        for (uint256 k; k < n; ++k) {
            bytes32 s = sites[(seed % n + k) % n];
            if (registry.site(s).tier == tier) return s;
        }
        return 0;
    }
}
