// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Rollout} from "../src/Rollout.sol";
import {IRollout} from "../src/interfaces/IRollout.sol";
import {ISiteRegistry} from "../src/interfaces/ISiteRegistry.sol";
import {IValidatorSet} from "../src/interfaces/IValidatorSet.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice Phases, criteria, waves, cancellation, rollback orders, pause and the registry hook.
///         The step reports themselves are in RolloutLedger.t.sol.
contract RolloutTest is Fixture {
    bytes32 internal coreA = id("core-a");
    bytes32 internal coreB = id("core-b");
    bytes32 internal regA = id("regional-a");
    bytes32 internal edgeA = id("edge-a");
    bytes32 internal edgeB = id("edge-b");
    bytes32 internal edgeC = id("edge-c");

    // ------------------------------------------------------------------ constructor

    function test_constructor_setsRolesAndCriteria() public {
        assertTrue(rollout.hasRole(rollout.GOVERNANCE_ROLE(), gov));
        assertTrue(rollout.hasRole(rollout.DEFAULT_ADMIN_ROLE(), gov));
        assertTrue(rollout.hasRole(rollout.GUARDIAN_ROLE(), guardian));
        assertFalse(rollout.hasRole(rollout.GOVERNANCE_ROLE(), guardian));
        IRollout.Criteria[3] memory c;
        c[0] = IRollout.Criteria(3, 10, 100, 3);
        c[1] = IRollout.Criteria(6, 30, 150, 6);
        c[2] = IRollout.Criteria(10, 50, 250, 10);
        vm.expectEmit();
        emit IRollout.CriteriaSet(1, c[0]);
        Rollout r = new Rollout(gov, guardian, registry, validators, c);
        assertEq(r.criteria(2).minRegional, 30);
        assertEq(r.criteria(3).minEdge, 250);
        assertEq(r.currentPhase(), 0);
        assertEq(r.waveCount(), 0);
        assertFalse(r.paused());
    }

    function test_constructor_revertsOnZeroAddresses() public {
        IRollout.Criteria[3] memory c = _criteria(1, 1, 1, 1);
        vm.expectRevert(IRollout.RolloutZeroAddress.selector);
        new Rollout(address(0), guardian, registry, validators, c);
        vm.expectRevert(IRollout.RolloutZeroAddress.selector);
        new Rollout(gov, address(0), registry, validators, c);
        vm.expectRevert(IRollout.RolloutZeroAddress.selector);
        new Rollout(gov, guardian, ISiteRegistry(address(0)), validators, c);
        vm.expectRevert(IRollout.RolloutZeroAddress.selector);
        new Rollout(gov, guardian, registry, IValidatorSet(address(0)), c);
    }

    // ------------------------------------------------------------------ phases and criteria

    function test_approvePhase_firstNeedsNoCriteria() public {
        vm.expectEmit(address(rollout));
        emit IRollout.PhaseApproved(1);
        approvePhase(1);
        assertEq(rollout.currentPhase(), 1);
    }

    function test_approvePhase_revertsOutOfOrder() public {
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 2));
        vm.prank(gov);
        rollout.approvePhase(2);
        approvePhase(1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 1));
        vm.prank(gov);
        rollout.approvePhase(1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 0));
        vm.prank(gov);
        rollout.approvePhase(0);
    }

    function test_approvePhase_revertsBeyondLastPhase() public {
        vm.prank(gov);
        rollout.setCriteria(1, IRollout.Criteria(0, 0, 0, 0));
        vm.prank(gov);
        rollout.setCriteria(2, IRollout.Criteria(0, 0, 0, 0));
        approvePhase(1);
        approvePhase(2);
        approvePhase(3);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 4));
        vm.prank(gov);
        rollout.approvePhase(4);
    }

    function test_approvePhase_revertsForGuardian() public {
        bytes32 role = rollout.GOVERNANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, guardian, role));
        vm.prank(guardian);
        rollout.approvePhase(1);
    }

    /// @dev Each criterion in turn is the one named by the revert, with have/need.
    function test_approvePhase_namesEachUnmetCriterion() public {
        readyPhase1();
        vm.prank(gov);
        rollout.setCriteria(1, IRollout.Criteria(1, 1, 2, 2));
        expectUnmet(0, 0, 1);
        completeSite(coreA);
        expectUnmet(1, 0, 1);
        completeSite(regA);
        expectUnmet(2, 0, 2);
        completeSite(edgeA);
        expectUnmet(2, 1, 2);
        completeSite(edgeB);
        expectUnmet(3, 1, 2);
        vm.prank(gov);
        validators.addValidator(makeAddr("v1"), coreB);
        assertTrue(rollout.criteriaMet(1));
        approvePhase(2);
        assertEq(rollout.currentPhase(), 2);
    }

    function test_approvePhase_stateUnchangedOnUnmetCriteria() public {
        readyPhase1();
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutPhaseCriteriaUnmet.selector, 1, 0, 0, 1));
        rollout.approvePhase(2);
        assertEq(rollout.currentPhase(), 1);
    }

    function test_setCriteria_setsAndEmits() public {
        IRollout.Criteria memory c = IRollout.Criteria(7, 8, 9, 10);
        vm.expectEmit(address(rollout));
        emit IRollout.CriteriaSet(2, c);
        vm.prank(gov);
        rollout.setCriteria(2, c);
        IRollout.Criteria memory got = rollout.criteria(2);
        assertEq(got.minCore, 7);
        assertEq(got.minValidators, 10);
    }

    function test_setCriteria_revertsOnInvalidPhase() public {
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 4));
        vm.prank(gov);
        rollout.setCriteria(4, IRollout.Criteria(0, 0, 0, 0));
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 0));
        vm.prank(gov);
        rollout.setCriteria(0, IRollout.Criteria(0, 0, 0, 0));
    }

    function test_setCriteria_revertsForGuardian() public {
        bytes32 role = rollout.GOVERNANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, guardian, role));
        vm.prank(guardian);
        rollout.setCriteria(1, IRollout.Criteria(0, 0, 0, 0));
    }

    function test_criteriaViews_revertOnInvalidPhase() public {
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 0));
        rollout.criteria(0);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidPhase.selector, 4));
        rollout.criteriaMet(4);
    }

    // ------------------------------------------------------------------ approveWave

    function test_approveWave_approvesSitesAndEmitsPerSite() public {
        readyPhase1();
        bytes32[] memory sites = list(edgeA, edgeB);
        uint64 nb = uint64(block.timestamp + 10);
        uint64 ex = uint64(block.timestamp + 1 days);
        vm.expectEmit(address(rollout));
        emit IRollout.WaveApproved(1, 1, PLAN, PLAN_URI, nb, ex, 2, 5, 2);
        vm.expectEmit(address(rollout));
        emit IRollout.DeploymentApproved(edgeA, 1, PLAN);
        vm.expectEmit(address(rollout));
        emit IRollout.DeploymentApproved(edgeB, 1, PLAN);
        vm.prank(gov);
        uint32 w = rollout.approveWave(1, PLAN, PLAN_URI, sites, nb, ex, 2, 5);
        assertEq(w, 1);
        assertEq(rollout.waveCount(), 1);
        IRollout.Wave memory wv = rollout.wave(1);
        assertEq(wv.phase, 1);
        assertEq(wv.notBefore, nb);
        assertEq(wv.expiry, ex);
        assertEq(wv.maxConcurrent, 2);
        assertEq(wv.stepCount, 5);
        assertEq(wv.deploying, 0);
        assertFalse(wv.cancelled);
        assertEq(wv.planHash, PLAN);
        assertEq(statusOf(edgeA), APPROVED);
        assertEq(registry.count(EDGE, APPROVED), 2);
        IRollout.Deployment memory d = rollout.deployment(edgeA);
        assertEq(d.waveId, 1);
        assertEq(d.nextStep, 0);
        assertFalse(d.rollbackOrdered);
    }

    function test_approveWave_acceptsEarlierPhaseSiteInLaterWave() public {
        readyPhase1();
        vm.prank(gov);
        rollout.setCriteria(1, IRollout.Criteria(0, 0, 0, 0));
        approvePhase(2);
        vm.prank(gov);
        rollout.approveWave(
            2, PLAN, PLAN_URI, list(edgeA, edgeC), uint64(block.timestamp), uint64(block.timestamp + 1), 1, 1
        );
        assertEq(statusOf(edgeC), APPROVED);
    }

    function test_approveWave_revertsOnUnapprovedPhase() public {
        registerTopology();
        bind(edgeA);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutPhaseNotApproved.selector, 1, 0));
        approveWave(list(edgeA), 1, 1);
    }

    function test_approveWave_revertsOnPhaseZero() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutPhaseNotApproved.selector, 0, 1));
        vm.prank(gov);
        rollout.approveWave(0, PLAN, PLAN_URI, list(edgeA), 0, uint64(block.timestamp + 1), 1, 1);
    }

    function test_approveWave_revertsOnEmptyWave() public {
        readyPhase1();
        vm.expectRevert(IRollout.RolloutEmptyWave.selector);
        approveWave(new bytes32[](0), 1, 1);
    }

    function test_approveWave_revertsOnOversizeWave() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutWaveTooLarge.selector, 501, 500));
        approveWave(new bytes32[](501), 1, 1);
    }

    function test_approveWave_revertsOnZeroPlanHash() public {
        readyPhase1();
        vm.expectRevert(IRollout.RolloutInvalidPlan.selector);
        vm.prank(gov);
        rollout.approveWave(1, 0, PLAN_URI, list(edgeA), 0, uint64(block.timestamp + 1), 1, 1);
    }

    function test_approveWave_revertsOnEmptyUri() public {
        readyPhase1();
        vm.expectRevert(IRollout.RolloutInvalidPlan.selector);
        vm.prank(gov);
        rollout.approveWave(1, PLAN, "", list(edgeA), 0, uint64(block.timestamp + 1), 1, 1);
    }

    function test_approveWave_revertsOnEmptyWindow() public {
        readyPhase1();
        uint64 t = uint64(block.timestamp + 100);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidWindow.selector, t, t));
        vm.prank(gov);
        rollout.approveWave(1, PLAN, PLAN_URI, list(edgeA), t, t, 1, 1);
    }

    function test_approveWave_revertsOnPastExpiry() public {
        readyPhase1();
        vm.warp(1000);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidWindow.selector, 0, 1000));
        vm.prank(gov);
        rollout.approveWave(1, PLAN, PLAN_URI, list(edgeA), 0, 1000, 1, 1);
    }

    function test_approveWave_revertsOnZeroLimits() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidWaveLimits.selector, 0, 1));
        approveWave(list(edgeA), 0, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidWaveLimits.selector, 1, 0));
        approveWave(list(edgeA), 1, 0);
    }

    function test_approveWave_revertsOnUnknownSite() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnknownSite.selector, id("edge-z")));
        approveWave(list(edgeA, id("edge-z")), 1, 1);
        assertEq(statusOf(edgeA), PLANNED, "nothing half-applied");
        assertEq(rollout.waveCount(), 0);
    }

    function test_approveWave_revertsOnLaterPhaseSite() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutSitePhaseTooLate.selector, edgeC, 2, 1));
        approveWave(list(edgeC), 1, 1);
    }

    function test_approveWave_revertsOnUnboundKey() public {
        readyPhase1();
        vm.prank(gov);
        registry.revokeAgentKey(edgeA);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNoAgentKey.selector, edgeA));
        approveWave(list(edgeA), 1, 1);
    }

    function test_approveWave_revertsOnDuplicateSite() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutDuplicateSite.selector, edgeA));
        approveWave(list(edgeA, edgeA), 1, 1);
    }

    function test_approveWave_revertsOnAlreadyApprovedSite() public {
        readyPhase1();
        approveWave(list(edgeA), 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutSiteNotApprovable.selector, edgeA, APPROVED));
        approveWave(list(edgeA), 1, 1);
    }

    function test_approveWave_revertsOnOperationalSite() public {
        readyPhase1();
        completeSite(edgeA);
        vm.expectRevert(
            abi.encodeWithSelector(IRollout.RolloutSiteNotApprovable.selector, edgeA, OPERATIONAL)
        );
        approveWave(list(edgeA), 1, 1);
    }

    function test_approveWave_reapprovesDegradedSite() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA), 2, 1);
        report(edgeA, w, 0, FAIL);
        assertEq(statusOf(edgeA), DEGRADED);
        uint32 w2 = approveWave(list(edgeA), 2, 1);
        assertEq(statusOf(edgeA), APPROVED);
        assertEq(rollout.deployment(edgeA).waveId, w2);
        assertEq(rollout.deployment(edgeA).nextStep, 0);
    }

    function test_approveWave_revertsWhileRollingBack() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        report(edgeA, w, 1, FAIL);
        orderRollback(edgeA);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutRollbackInProgress.selector, edgeA));
        approveWave(list(edgeA), 1, 1);
    }

    function test_approveWave_revertsForGuardian() public {
        readyPhase1();
        bytes32 role = rollout.GOVERNANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, guardian, role));
        vm.prank(guardian);
        rollout.approveWave(1, PLAN, PLAN_URI, list(edgeA), 0, uint64(block.timestamp + 1), 1, 1);
    }

    // ------------------------------------------------------------------ cancelDeployments

    function test_cancelDeployments_approvedGoesBackToPlanned() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA, edgeB), 2, 1);
        vm.expectEmit(address(rollout));
        emit IRollout.DeploymentCancelled(edgeA, w, 2);
        vm.prank(guardian);
        rollout.cancelDeployments(list(edgeA), 2);
        assertEq(statusOf(edgeA), PLANNED);
        assertFalse(rollout.wave(w).cancelled, "edge-b is still open");
        vm.prank(gov);
        rollout.cancelDeployments(list(edgeB), 0);
        assertTrue(rollout.wave(w).cancelled);
        assertEq(registry.count(EDGE, APPROVED), 0);
        assertEq(registry.count(EDGE, PLANNED), 3);
    }

    function test_cancelDeployments_deployingGoesDegraded() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA, edgeB), 3, 1);
        report(edgeA, w, 0, OK);
        assertEq(rollout.wave(w).deploying, 1);
        vm.prank(guardian);
        rollout.cancelDeployments(list(edgeA, edgeB), 1);
        assertEq(statusOf(edgeA), DEGRADED);
        assertEq(statusOf(edgeB), PLANNED);
        IRollout.Wave memory wv = rollout.wave(w);
        assertEq(wv.deploying, 0);
        assertTrue(wv.cancelled);
    }

    function test_cancelDeployments_revertsOnClosedDeployment() public {
        readyPhase1();
        completeSite(edgeA);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotCancellable.selector, edgeA));
        vm.prank(guardian);
        rollout.cancelDeployments(list(edgeA), 0);
    }

    function test_cancelDeployments_revertsOnNeverApproved() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotCancellable.selector, edgeA));
        vm.prank(guardian);
        rollout.cancelDeployments(list(edgeA), 0);
    }

    function test_cancelDeployments_revertsOnDuplicateAndKeepsState() public {
        readyPhase1();
        approveWave(list(edgeA), 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotCancellable.selector, edgeA));
        vm.prank(guardian);
        rollout.cancelDeployments(list(edgeA, edgeA), 0);
        assertEq(statusOf(edgeA), APPROVED);
    }

    function test_cancelDeployments_revertsOnBadReason() public {
        readyPhase1();
        approveWave(list(edgeA), 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidReason.selector, 6));
        vm.prank(guardian);
        rollout.cancelDeployments(list(edgeA), 6);
    }

    function test_cancelDeployments_revertsForStranger() public {
        readyPhase1();
        approveWave(list(edgeA), 1, 1);
        bytes32 role = rollout.GUARDIAN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, stranger, role));
        vm.prank(stranger);
        rollout.cancelDeployments(list(edgeA), 0);
    }

    // ------------------------------------------------------------------ orderRollback

    function test_orderRollback_approvedSiteRollsBackAtOnce() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA), 3, 1);
        vm.expectEmit(address(rollout));
        emit IRollout.RollbackOrdered(edgeA, w, 3);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 3);
        assertEq(statusOf(edgeA), ROLLED_BACK);
        assertTrue(rollout.deployment(edgeA).rollbackOrdered);
        assertEq(rollout.wave(w).deploying, 0);
    }

    function test_orderRollback_deployingSiteAwaitsUndo() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA), 4, 1);
        report(edgeA, w, 0, OK);
        report(edgeA, w, 1, OK);
        orderRollback(edgeA);
        IRollout.Deployment memory d = rollout.deployment(edgeA);
        assertTrue(d.rollbackOrdered);
        assertEq(d.rollbackNext, 1);
        assertEq(statusOf(edgeA), DEPLOYING, "status changes when the undo completes");
        assertEq(rollout.wave(w).deploying, 0, "no longer running forward steps");
    }

    function test_orderRollback_operationalSite() public {
        readyPhase1();
        uint32 w = completeSite(edgeA);
        orderRollback(edgeA);
        assertEq(rollout.deployment(edgeA).rollbackNext, 1);
        reportRollback(edgeA, w, 1, OK);
        reportRollback(edgeA, w, 0, OK);
        assertEq(statusOf(edgeA), ROLLED_BACK);
        assertEq(registry.count(EDGE, OPERATIONAL), 0);
    }

    function test_orderRollback_revertsOnPlannedSite() public {
        readyPhase1();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotRollbackable.selector, edgeA, PLANNED));
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 0);
    }

    function test_orderRollback_revertsOnRolledBackSite() public {
        readyPhase1();
        approveWave(list(edgeA), 1, 1);
        orderRollback(edgeA);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotRollbackable.selector, edgeA, ROLLED_BACK));
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 0);
    }

    function test_orderRollback_revertsWhenInProgress() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA), 2, 1);
        report(edgeA, w, 0, OK);
        orderRollback(edgeA);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutRollbackInProgress.selector, edgeA));
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 0);
    }

    function test_orderRollback_revertsOnBadReason() public {
        readyPhase1();
        approveWave(list(edgeA), 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidReason.selector, 9));
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 9);
    }

    function test_orderRollback_revertsForGuardian() public {
        readyPhase1();
        approveWave(list(edgeA), 1, 1);
        bytes32 role = rollout.GOVERNANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, guardian, role));
        vm.prank(guardian);
        rollout.orderRollback(list(edgeA), 0);
    }

    // ------------------------------------------------------------------ pause

    function test_pause_byGuardianUnpauseByGovernance() public {
        vm.expectEmit(address(rollout));
        emit IRollout.Paused(guardian);
        vm.prank(guardian);
        rollout.pause();
        assertTrue(rollout.paused());
        bytes32 role = rollout.GOVERNANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, guardian, role));
        vm.prank(guardian);
        rollout.unpause();
        vm.expectEmit(address(rollout));
        emit IRollout.Unpaused(gov);
        vm.prank(gov);
        rollout.unpause();
        assertFalse(rollout.paused());
    }

    function test_pause_byGovernance() public {
        vm.prank(gov);
        rollout.pause();
        assertTrue(rollout.paused());
    }

    function test_pause_revertsWhenPaused() public {
        vm.prank(guardian);
        rollout.pause();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutPauseUnchanged.selector, true));
        vm.prank(guardian);
        rollout.pause();
    }

    function test_unpause_revertsWhenNotPaused() public {
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutPauseUnchanged.selector, false));
        vm.prank(gov);
        rollout.unpause();
    }

    function test_pause_revertsForStranger() public {
        bytes32 role = rollout.GUARDIAN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, stranger, role));
        vm.prank(stranger);
        rollout.pause();
    }

    // ------------------------------------------------------------------ registry hook

    function test_siteUpdated_revertsForNonRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotRegistry.selector, gov));
        vm.prank(gov);
        rollout.siteUpdated(edgeA, gov, false);
    }

    function test_siteUpdated_decommissionCancelsOpenDeployment() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        vm.expectEmit(address(rollout));
        emit IRollout.DeploymentCancelled(edgeA, w, 0);
        vm.prank(gov);
        registry.decommission(edgeA);
        IRollout.Wave memory wv = rollout.wave(w);
        assertEq(wv.deploying, 0);
        assertTrue(wv.cancelled);
        assertEq(rollout.agentOf(edgeA), address(0));
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, edgeA, keyOf(edgeA)));
        report(edgeA, w, 1, OK);
    }

    function test_siteUpdated_decommissionAbandonsRollback() public {
        readyPhase1();
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        orderRollback(edgeA);
        vm.prank(gov);
        registry.decommission(edgeA);
        assertFalse(rollout.deployment(edgeA).rollbackOrdered);
        assertEq(statusOf(edgeA), DECOMMISSIONED);
    }

    function test_siteUpdated_decommissionOfIdleSiteKeepsLedger() public {
        readyPhase1();
        uint32 w = completeSite(edgeA);
        vm.prank(gov);
        registry.decommission(edgeA);
        assertEq(rollout.deployment(edgeA).waveId, w);
        assertEq(rollout.deployment(edgeA).nextStep, 2);
    }

    // ------------------------------------------------------------------ helpers

    function expectUnmet(uint8 kind, uint256 have, uint256 need) internal {
        assertFalse(rollout.criteriaMet(1));
        vm.expectRevert(
            abi.encodeWithSelector(IRollout.RolloutPhaseCriteriaUnmet.selector, 1, kind, have, need)
        );
        vm.prank(gov);
        rollout.approvePhase(2);
    }

    /// @dev Runs a 2-step wave to completion on `site`.
    function completeSite(bytes32 site) internal returns (uint32 w) {
        w = approveWave(list(site), 2, 1);
        report(site, w, 0, OK);
        report(site, w, 1, SKIP);
        assertEq(statusOf(site), OPERATIONAL);
    }

    function orderRollback(bytes32 site) internal {
        vm.prank(gov);
        rollout.orderRollback(list(site), 1);
    }
}
