// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IRollout} from "../src/interfaces/IRollout.sol";
import {ISiteRegistry} from "../src/interfaces/ISiteRegistry.sol";
import {Stack} from "./utils/Stack.sol";

/// @notice Phase 1 -> 2 with the plan's default criteria (3 core, 10 regional, 100 edge, 3
///         validators), on the fully wired stack (governance calls come from the timelock).
contract RolloutPlanTest is Stack {
    bytes32[] internal phase1;

    function setUp() public {
        vm.warp(1_700_000_000);
        deployStack(3);
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](100);
        // Batch 1: 3 core, 10 regional, 87 edge; batch 2: 13 edge.
        for (uint256 i; i < 113; ++i) {
            (uint8 tier, string memory name, bytes32 parent) = shape(i);
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes32 siteId = bytes32(bytes(name));
            if (i == 100) {
                vm.prank(operator);
                registry.registerSites(b);
                b = new ISiteRegistry.SiteInput[](13);
            }
            b[i < 100 ? i : i - 100] =
                ISiteRegistry.SiteInput(siteId, tier, 1, parent, keccak256(bytes(name)));
            phase1.push(siteId);
        }
        vm.prank(operator);
        registry.registerSites(b);
        vm.startPrank(address(timelock));
        for (uint256 i; i < phase1.length; ++i) {
            registry.bindAgentKey(phase1[i], agent(i));
        }
        rollout.approvePhase(1);
        vm.stopPrank();
    }

    function test_phase2_needsPhase1CriteriaFromThePlan() public {
        IRollout.Criteria memory c = rollout.criteria(1);
        assertEq(c.minCore, 3);
        assertEq(c.minRegional, 10);
        assertEq(c.minEdge, 100);
        assertEq(c.minValidators, 3);

        vm.prank(address(timelock));
        uint32 w = rollout.approveWave(
            1,
            keccak256("plan"),
            "ipfs://plan",
            phase1,
            uint64(block.timestamp),
            uint64(block.timestamp + 1 days),
            200,
            1
        );
        expectUnmet(0, 0, 3);
        // Everything but the last edge site completes.
        for (uint256 i; i < phase1.length - 1; ++i) {
            vm.prank(agent(i));
            rollout.reportStep(phase1[i], w, 0, 1, bytes32(i));
        }
        expectUnmet(2, 99, 100);
        vm.prank(agent(phase1.length - 1));
        rollout.reportStep(phase1[phase1.length - 1], w, 0, 3, bytes32(0));
        expectUnmet(3, 1, 3);

        vm.startPrank(address(timelock));
        validators.addValidator(makeAddr("v1"), phase1[1]);
        validators.addValidator(makeAddr("v2"), phase1[2]);
        assertTrue(rollout.criteriaMet(1));
        rollout.approvePhase(2);
        vm.stopPrank();
        assertEq(rollout.currentPhase(), 2);
        assertEq(registry.count(1, 4), 3);
        assertEq(registry.count(2, 4), 10);
        assertEq(registry.count(3, 4), 100);
    }

    function expectUnmet(uint8 kind, uint256 have, uint256 need) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IRollout.RolloutPhaseCriteriaUnmet.selector, 1, kind, have, need)
        );
        vm.prank(address(timelock));
        rollout.approvePhase(2);
    }

    function shape(uint256 i) internal pure returns (uint8 tier, string memory name, bytes32 parent) {
        if (i < 3) return (1, string.concat("core-", vm.toString(i)), 0);
        if (i < 13) {
            return (
                2,
                string.concat("regional-", vm.toString(i)),
                bytes32(bytes(string.concat("core-", vm.toString(i % 3))))
            );
        }
        return (
            3,
            string.concat("edge-", vm.toString(i)),
            bytes32(bytes(string.concat("regional-", vm.toString(3 + i % 10))))
        );
    }

    function agent(uint256 i) internal pure returns (address) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0xA6E000 + i));
    }
}
