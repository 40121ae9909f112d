// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IRollout} from "../src/interfaces/IRollout.sol";
import {ISiteRegistry} from "../src/interfaces/ISiteRegistry.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice The deployment ledger of the Rollout: `reportStep` and `reportRollbackStep`.
contract RolloutLedgerTest is Fixture {
    bytes32 internal edgeA = id("edge-a");
    bytes32 internal edgeB = id("edge-b");

    function setUp() public override {
        super.setUp();
        readyPhase1();
    }

    // ------------------------------------------------------------------ reportStep: success paths

    function test_reportStep_fullSequenceReachesOperational() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        bytes32 digest = keccak256("out-0");
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(edgeA, APPROVED, DEPLOYING);
        vm.expectEmit(address(rollout));
        emit IRollout.StepReported(edgeA, w, 0, OK, PLAN, digest);
        vm.prank(keyOf(edgeA));
        rollout.reportStep(edgeA, w, 0, OK, digest);
        assertEq(statusOf(edgeA), DEPLOYING);
        assertEq(rollout.wave(w).deploying, 1);

        report(edgeA, w, 1, SKIP);
        assertEq(statusOf(edgeA), DEPLOYING);
        assertEq(rollout.deployment(edgeA).nextStep, 2);

        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(edgeA, DEPLOYING, OPERATIONAL);
        report(edgeA, w, 2, OK);
        assertEq(statusOf(edgeA), OPERATIONAL);
        assertEq(registry.count(EDGE, OPERATIONAL), 1);
        assertEq(registry.count(EDGE, DEPLOYING), 0);
        assertEq(rollout.wave(w).deploying, 0);
        assertEq(rollout.deployment(edgeA).nextStep, 3);
    }

    function test_reportStep_singleStepWave() public {
        uint32 w = approveWave(list(edgeA), 1, 1);
        report(edgeA, w, 0, SKIP);
        assertEq(statusOf(edgeA), OPERATIONAL);
        assertEq(rollout.wave(w).deploying, 0);
    }

    function test_reportStep_failureDegradesAndCloses() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(edgeA, DEPLOYING, DEGRADED);
        report(edgeA, w, 1, FAIL);
        assertEq(statusOf(edgeA), DEGRADED);
        assertEq(rollout.deployment(edgeA).nextStep, 2, "the failed step counts as run");
        assertEq(rollout.wave(w).deploying, 0);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutDeploymentClosed.selector, edgeA, w));
        report(edgeA, w, 2, OK);
    }

    function test_reportStep_failureOnFirstStep() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, FAIL);
        assertEq(statusOf(edgeA), DEGRADED);
        assertEq(registry.count(EDGE, DEPLOYING), 0);
        assertEq(rollout.wave(w).deploying, 0);
    }

    function test_reportStep_rotatedKeyTakesOver() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        address next = makeAddr("rotated");
        vm.prank(gov);
        registry.bindAgentKey(edgeA, next);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, edgeA, keyOf(edgeA)));
        report(edgeA, w, 1, OK);
        vm.prank(next);
        rollout.reportStep(edgeA, w, 1, OK, bytes32(0));
        assertEq(rollout.deployment(edgeA).nextStep, 2);
    }

    // ------------------------------------------------------------------ reportStep: reverts

    function test_reportStep_revertsForStranger() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, edgeA, stranger));
        vm.prank(stranger);
        rollout.reportStep(edgeA, w, 0, OK, bytes32(0));
        assertEq(statusOf(edgeA), APPROVED);
    }

    function test_reportStep_revertsForOtherSitesAgent() public {
        uint32 w = approveWave(list(edgeA, edgeB), 2, 2);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, edgeA, keyOf(edgeB)));
        vm.prank(keyOf(edgeB));
        rollout.reportStep(edgeA, w, 0, OK, bytes32(0));
    }

    function test_reportStep_revertsForRevokedKey() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        vm.prank(gov);
        registry.revokeAgentKey(edgeA);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, edgeA, keyOf(edgeA)));
        report(edgeA, w, 0, OK);
    }

    function test_reportStep_revertsOnWrongWave() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutWrongWave.selector, edgeA, w, w + 1));
        report(edgeA, w + 1, 0, OK);
    }

    function test_reportStep_revertsWithoutApproval() public {
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutWrongWave.selector, edgeA, 0, 1));
        report(edgeA, 1, 0, OK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutDeploymentClosed.selector, edgeA, 0));
        report(edgeA, 0, 0, OK);
    }

    function test_reportStep_revertsBeforeWindow() public {
        uint64 nb = uint64(block.timestamp + 100);
        vm.prank(gov);
        uint32 w = rollout.approveWave(1, PLAN, PLAN_URI, list(edgeA), nb, nb + 100, 1, 2);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutWaveNotStarted.selector, w, nb));
        report(edgeA, w, 0, OK);
        vm.warp(nb);
        report(edgeA, w, 0, OK);
    }

    function test_reportStep_revertsAtExpiry() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        uint64 ex = rollout.wave(w).expiry;
        vm.warp(ex);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutApprovalExpired.selector, w, ex));
        report(edgeA, w, 1, OK);
        assertEq(rollout.deployment(edgeA).nextStep, 1);
    }

    function test_reportStep_revertsOnRepeat() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutStepOutOfOrder.selector, edgeA, 1, 0));
        report(edgeA, w, 0, OK);
    }

    function test_reportStep_revertsOnGap() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutStepOutOfOrder.selector, edgeA, 0, 1));
        report(edgeA, w, 1, OK);
        assertEq(statusOf(edgeA), APPROVED);
    }

    function test_reportStep_revertsAfterCompletion() public {
        uint32 w = approveWave(list(edgeA), 1, 1);
        report(edgeA, w, 0, OK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutDeploymentClosed.selector, edgeA, w));
        report(edgeA, w, 1, OK);
    }

    function test_reportStep_revertsOnInvalidStatus() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidStepStatus.selector, 0));
        report(edgeA, w, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidStepStatus.selector, 4));
        report(edgeA, w, 0, 4);
    }

    function test_reportStep_revertsWhilePaused() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        vm.prank(guardian);
        rollout.pause();
        vm.expectRevert(IRollout.RolloutPaused.selector);
        report(edgeA, w, 0, OK);
        vm.prank(gov);
        rollout.unpause();
        report(edgeA, w, 0, OK);
    }

    function test_reportStep_revertsAfterCancel() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        vm.prank(guardian);
        rollout.cancelDeployments(list(edgeA), 0);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutDeploymentClosed.selector, edgeA, w));
        report(edgeA, w, 0, OK);
    }

    function test_reportStep_revertsAfterRollbackOrder() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 2);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutRollbackOrdered.selector, edgeA, w));
        report(edgeA, w, 1, OK);
    }

    function test_reportStep_enforcesMaxConcurrent() public {
        uint32 w = approveWave(list(edgeA, edgeB), 2, 1);
        report(edgeA, w, 0, OK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutMaxConcurrent.selector, w, 1));
        report(edgeB, w, 0, OK);
        assertEq(statusOf(edgeB), APPROVED);
        report(edgeA, w, 1, OK);
        report(edgeB, w, 0, OK);
        assertEq(statusOf(edgeB), DEPLOYING);
    }

    // ------------------------------------------------------------------ reportRollbackStep

    function test_reportRollbackStep_undoesInReverse() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        report(edgeA, w, 1, OK);
        report(edgeA, w, 2, OK);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        bytes32 digest = keccak256("undo-2");
        vm.expectEmit(address(rollout));
        emit IRollout.RollbackStepReported(edgeA, w, 2, OK, digest);
        vm.prank(keyOf(edgeA));
        rollout.reportRollbackStep(edgeA, w, 2, OK, digest);
        reportRollback(edgeA, w, 1, SKIP);
        assertEq(statusOf(edgeA), OPERATIONAL);
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(edgeA, OPERATIONAL, ROLLED_BACK);
        reportRollback(edgeA, w, 0, OK);
        assertEq(statusOf(edgeA), ROLLED_BACK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNoRollback.selector, edgeA, w));
        reportRollback(edgeA, w, 0, OK);
    }

    function test_reportRollbackStep_allowedAfterExpiryAndWhilePaused() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        report(edgeA, w, 1, FAIL);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 4);
        vm.warp(rollout.wave(w).expiry + 1);
        vm.prank(guardian);
        rollout.pause();
        reportRollback(edgeA, w, 1, OK);
        reportRollback(edgeA, w, 0, OK);
        assertEq(statusOf(edgeA), ROLLED_BACK);
    }

    function test_reportRollbackStep_failureStopsAndResumes() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        report(edgeA, w, 1, OK);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(edgeA, DEPLOYING, DEGRADED);
        reportRollback(edgeA, w, 1, FAIL);
        assertEq(statusOf(edgeA), DEGRADED);
        assertTrue(rollout.deployment(edgeA).rollbackOrdered);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNoRollback.selector, edgeA, w));
        reportRollback(edgeA, w, 0, OK);
        // A new order resumes at the step whose undo failed.
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        assertEq(rollout.deployment(edgeA).rollbackNext, 1);
        reportRollback(edgeA, w, 1, OK);
        reportRollback(edgeA, w, 0, OK);
        assertEq(statusOf(edgeA), ROLLED_BACK);
    }

    function test_reportRollbackStep_failureOnDegradedSiteKeepsStatus() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, FAIL);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        reportRollback(edgeA, w, 0, FAIL);
        assertEq(statusOf(edgeA), DEGRADED);
        assertEq(registry.count(EDGE, DEGRADED), 1);
    }

    function test_reportRollbackStep_revertsWithoutOrder() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNoRollback.selector, edgeA, w));
        reportRollback(edgeA, w, 0, OK);
    }

    function test_reportRollbackStep_revertsOutOfOrder() public {
        uint32 w = approveWave(list(edgeA), 3, 1);
        report(edgeA, w, 0, OK);
        report(edgeA, w, 1, OK);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutStepOutOfOrder.selector, edgeA, 1, 0));
        reportRollback(edgeA, w, 0, OK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutStepOutOfOrder.selector, edgeA, 1, 2));
        reportRollback(edgeA, w, 2, OK);
    }

    function test_reportRollbackStep_revertsForStranger() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        report(edgeA, w, 0, OK);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, edgeA, stranger));
        vm.prank(stranger);
        rollout.reportRollbackStep(edgeA, w, 0, OK, bytes32(0));
    }

    function test_reportRollbackStep_revertsOnWrongWave() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        report(edgeA, w, 0, OK);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutWrongWave.selector, edgeA, w, 7));
        reportRollback(edgeA, 7, 0, OK);
    }

    function test_reportRollbackStep_revertsOnInvalidStatus() public {
        uint32 w = approveWave(list(edgeA), 2, 1);
        report(edgeA, w, 0, OK);
        vm.prank(gov);
        rollout.orderRollback(list(edgeA), 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutInvalidStepStatus.selector, 9));
        reportRollback(edgeA, w, 0, 9);
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Random step outcomes: the site ends Operational exactly when every step of the wave
    ///      succeeded or was skipped, Degraded at the first failure; the ledger matches.
    function testFuzz_reportStep_randomOutcomes(uint8 steps, uint256 seed) public {
        uint16 n = uint16(bound(steps, 1, 24));
        uint32 w = approveWave(list(edgeA), n, 1);
        uint16 ran;
        bool failed;
        for (uint16 s; s < n; ++s) {
            uint8 st = uint8(1 + uint256(keccak256(abi.encode(seed, s))) % 3);
            // Make failures rare enough that complete runs happen too.
            if (st == FAIL && uint256(keccak256(abi.encode(seed, s, "f"))) % 4 != 0) st = OK;
            report(edgeA, w, s, st);
            ++ran;
            if (st == FAIL) {
                failed = true;
                break;
            }
        }
        assertEq(rollout.deployment(edgeA).nextStep, ran);
        assertEq(statusOf(edgeA), failed ? DEGRADED : OPERATIONAL);
        assertEq(rollout.wave(w).deploying, 0);
        assertEq(registry.count(EDGE, DEPLOYING), 0);
    }

    /// @dev Any step other than the next one reverts and changes nothing.
    function testFuzz_reportStep_outOfOrderReverts(uint16 step, uint8 done) public {
        uint16 n = 20;
        uint32 w = approveWave(list(edgeA), n, 1);
        uint16 next = uint16(bound(done, 0, n - 1));
        for (uint16 s; s < next; ++s) {
            report(edgeA, w, s, OK);
        }
        vm.assume(step != next);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutStepOutOfOrder.selector, edgeA, next, step));
        report(edgeA, w, step, OK);
        assertEq(rollout.deployment(edgeA).nextStep, next);
    }

    /// @dev Nobody but the bound key can report, whatever they send.
    function testFuzz_reportStep_strangerReverts(address sender, uint16 step, uint8 status, bytes32 digest)
        public
    {
        vm.assume(sender != keyOf(edgeA));
        uint32 w = approveWave(list(edgeA), 3, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, edgeA, sender));
        vm.prank(sender);
        rollout.reportStep(edgeA, w, step, status, digest);
        assertEq(statusOf(edgeA), APPROVED);
    }
}
