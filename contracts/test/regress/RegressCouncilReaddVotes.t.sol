// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Council} from "../../src/Council.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Pins the order of operations in `Council._addMember`: self-delegating before the
///         unit is minted counts it twice (once through `_delegate`, which already sees the
///         membership, once through `_transferVotingUnits`), giving a new member two votes.
///         Mint first, then delegate. Re-adding a removed member (still self-delegated) is covered too.
contract RegressCouncilReaddVotes is Test {
    function test_addRemoveReadd_alwaysOneVote() public {
        address gov = makeAddr("gov");
        address a = makeAddr("a");
        address b = makeAddr("b");
        address[] memory initial = new address[](1);
        initial[0] = a;
        vm.warp(1000);
        Council council = new Council(gov, initial);
        assertEq(council.getVotes(a), 1);
        vm.startPrank(gov);
        council.addMember(b);
        assertEq(council.getVotes(b), 1);
        council.removeMember(b);
        assertEq(council.getVotes(b), 0);
        council.addMember(b);
        vm.stopPrank();
        assertEq(council.getVotes(b), 1);
        vm.warp(1001);
        assertEq(council.getPastTotalSupply(1000), 2);
    }
}
