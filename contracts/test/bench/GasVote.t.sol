// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Stack} from "../utils/Stack.sol";
import {Floor} from "./Floor.sol";
import {TX_BASE, calldataGas} from "./TxCost.sol";

/// @notice Gas of a council vote on the wired Governor (never asserted), beside the floor's
///         vote (a receipt, a tally and the event); writes `castVote_tx` to both snapshot groups.
contract GasVoteBench is Stack {
    uint8 internal constant FOR = 1;
    Floor internal floor;

    function setUp() public {
        vm.warp(1_700_000_000);
        deployStack(5);
        floor = new Floor(keccak256("plan-v1"));
    }

    /// @dev The first vote on a fresh proposal, from cold storage.
    function test_gas_castVote() public {
        address[] memory t = new address[](1);
        uint256[] memory v = new uint256[](1);
        bytes[] memory d = new bytes[](1);
        t[0] = address(rollout);
        d[0] = abi.encodeCall(rollout.approvePhase, (1));
        vm.prank(memberList[0]);
        uint256 pid = governor.propose(t, v, d, "approve phase 1");
        vm.warp(block.timestamp + VOTING_DELAY + 1);

        bytes memory data = abi.encodeCall(governor.castVote, (pid, FOR));
        uint256 ours = measure(address(governor), data, "sankofa");
        uint256 low = measure(address(floor), data, "floor");
        vm.snapshotValue("sankofa", "castVote_tx", ours);
        vm.snapshotValue("floor", "castVote_tx", low);
        emit log_named_uint("castVote (tx total)", ours);
        emit log_named_uint("floor castVote (tx total)", low);
        assertTrue(governor.hasVoted(pid, memberList[1]));
    }

    function measure(address target, bytes memory data, string memory group) internal returns (uint256) {
        vm.cool(address(governor));
        vm.cool(address(council));
        vm.cool(address(floor));
        vm.prank(memberList[1]);
        (bool ok,) = target.call(data);
        assertTrue(ok, group);
        return vm.snapshotGasLastCall(group, "castVote") + TX_BASE + calldataGas(data);
    }
}
