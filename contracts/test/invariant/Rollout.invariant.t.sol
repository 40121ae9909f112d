// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IRollout} from "../../src/interfaces/IRollout.sol";
import {Stack} from "../utils/Stack.sol";
import {RolloutHandler} from "./RolloutHandler.sol";

/// @notice System invariants under random governance, agent and stranger actions.
contract RolloutInvariantTest is Stack {
    RolloutHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        deployStack(3);
        // Criteria low enough that random runs cross phases; the handler checks the gate itself.
        vm.startPrank(address(timelock));
        rollout.setCriteria(1, IRollout.Criteria(1, 1, 1, 1));
        rollout.setCriteria(2, IRollout.Criteria(2, 2, 2, 2));
        vm.stopPrank();
        handler = new RolloutHandler(
            registry, validators, rollout, address(timelock), operator, guardian, validator0
        );
        handler.registerBatch(1, 8);
        handler.registerBatch(2, 8);
        // Start with keys bound and phase 1 open so runs reach waves, steps and rollbacks.
        for (uint256 i; i < handler.siteCount(); ++i) {
            handler.bindKey(i);
        }
        handler.approvePhase();
        targetContract(address(handler));
    }

    /// @dev Counters equal a recount of every site's status.
    function invariant_countersEqualRecount() public view {
        uint256[8][4] memory recount;
        uint256 n = handler.siteCount();
        for (uint256 i; i < n; ++i) {
            (uint8 tier,, uint8 status,) = siteOf(handler.sites(i));
            ++recount[tier][status];
        }
        for (uint8 t = 1; t <= 3; ++t) {
            for (uint8 s = 1; s <= 7; ++s) {
                assertEq(registry.count(t, s), recount[t][s], "counter drift");
            }
        }
        assertEq(registry.siteCount(), n);
    }

    /// @dev No site is Operational without a complete, in-order, in-window step sequence under
    ///      its current approval.
    function invariant_operationalHasCompleteSequence() public view {
        uint256 n = handler.siteCount();
        for (uint256 i; i < n; ++i) {
            bytes32 s = handler.sites(i);
            (,, uint8 status,) = siteOf(s);
            if (status != 4) continue;
            IRollout.Deployment memory d = rollout.deployment(s);
            assertGt(d.waveId, 0, "operational without approval");
            uint16 steps = rollout.wave(d.waveId).stepCount;
            assertEq(d.nextStep, steps, "operational with steps missing");
            assertEq(handler.okSteps(s, d.waveId), steps, "ghost saw fewer successful steps");
            // (It may be rolling back: the status changes only when the undo completes.)
        }
        assertFalse(handler.reportOutsideRules(), "a report broke the rules and was accepted");
    }

    /// @dev Only the timelock changes keys and validators; the ledger's key copy is exact.
    function invariant_onlyTimelockChangesKeysAndValidators() public view {
        assertFalse(handler.strangerSucceeded(), "a stranger changed keys or validators");
        uint256 n = handler.siteCount();
        for (uint256 i; i < n; ++i) {
            bytes32 s = handler.sites(i);
            assertEq(registry.agentOf(s), handler.expectedKey(s), "key changed outside governance");
            assertEq(rollout.agentOf(s), registry.agentOf(s), "ledger key copy drifted");
        }
        address[] memory vs = validators.getValidators();
        assertEq(vs.length, handler.validatorCount());
        for (uint256 i; i < vs.length; ++i) {
            assertGt(uint256(validators.siteOf(vs[i])), 0, "validator without a site");
        }
        assertEq(validators.governance(), address(timelock));
    }

    /// @dev getValidators never returns an empty list.
    function invariant_validatorsNeverEmpty() public view {
        assertGt(validators.getValidators().length, 0);
    }

    /// @dev Each wave's `deploying` equals the sites running its forward steps, within the limit.
    function invariant_waveConcurrencyExact() public view {
        uint32 waves = rollout.waveCount();
        uint256 n = handler.siteCount();
        for (uint32 w = 1; w <= waves; ++w) {
            uint256 running;
            for (uint256 i; i < n; ++i) {
                bytes32 s = handler.sites(i);
                IRollout.Deployment memory d = rollout.deployment(s);
                (,, uint8 status,) = siteOf(s);
                if (d.waveId == w && status == 3 && !d.rollbackOrdered) ++running;
            }
            IRollout.Wave memory wv = rollout.wave(w);
            assertEq(wv.deploying, running, "deploying counter drift");
            assertLe(wv.deploying, wv.maxConcurrent);
        }
    }

    /// @dev A phase is approved only once the previous phase's criteria held.
    function invariant_phaseGate() public view {
        assertFalse(handler.phaseApprovedWithoutCriteria());
    }

    /// @dev Shows how much of the state space a run reached (visible with -vv).
    function afterInvariant() public {
        emit log_named_uint("handler calls", handler.calls());
        emit log_named_uint("sites", handler.siteCount());
        emit log_named_uint("waves approved", handler.wavesApproved());
        emit log_named_uint("steps accepted", handler.stepsAccepted());
        emit log_named_uint("sites completed", handler.sitesCompleted());
        emit log_named_uint("rollbacks completed", handler.rollbacksCompleted());
        emit log_named_uint("phase", rollout.currentPhase());
    }

    function siteOf(bytes32 s) internal view returns (uint8, uint8, uint8, address) {
        (uint8 tier, uint8 phase, uint8 status, address agent) =
            abi.decode(abi.encode(registry.site(s)), (uint8, uint8, uint8, address));
        return (tier, phase, status, agent);
    }
}
