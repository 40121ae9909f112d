// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Council} from "../src/Council.sol";
import {ICouncil} from "../src/interfaces/ICouncil.sol";
import {Test} from "forge-std/Test.sol";

contract CouncilTest is Test {
    address internal gov = makeAddr("governance");
    address internal a = makeAddr("a");
    address internal b = makeAddr("b");
    address internal c = makeAddr("c");
    Council internal council;

    function setUp() public {
        vm.warp(1_000_000);
        council = new Council(gov, two(a, b));
    }

    // ------------------------------------------------------------------ constructor, clock

    function test_constructor_givesEachMemberOneVote() public {
        assertEq(council.memberCount(), 2);
        assertTrue(council.isMember(a));
        assertTrue(council.isMember(b));
        assertEq(council.getVotes(a), 1);
        assertEq(council.getVotes(b), 1);
        assertEq(council.delegates(a), a);
        assertEq(council.governance(), gov);
        vm.warp(block.timestamp + 1);
        assertEq(council.getPastTotalSupply(block.timestamp - 1), 2);
    }

    function test_constructor_revertsOnZeroGovernance() public {
        vm.expectRevert(ICouncil.CouncilZeroAddress.selector);
        new Council(address(0), two(a, b));
    }

    function test_constructor_revertsOnNoMembers() public {
        vm.expectRevert(ICouncil.CouncilNoMembers.selector);
        new Council(gov, new address[](0));
    }

    function test_constructor_revertsOnZeroMember() public {
        vm.expectRevert(ICouncil.CouncilZeroAddress.selector);
        new Council(gov, two(a, address(0)));
    }

    function test_constructor_revertsOnDuplicateMember() public {
        vm.expectRevert(abi.encodeWithSelector(ICouncil.CouncilAlreadyMember.selector, a));
        new Council(gov, two(a, a));
    }

    function test_clock_isTimestamp() public view {
        assertEq(council.CLOCK_MODE(), "mode=timestamp");
        assertEq(council.clock(), block.timestamp);
    }

    // ------------------------------------------------------------------ membership

    function test_addMember_addsOneSelfDelegatedVote() public {
        vm.expectEmit(address(council));
        emit ICouncil.MemberAdded(c);
        vm.prank(gov);
        council.addMember(c);
        assertTrue(council.isMember(c));
        assertEq(council.getVotes(c), 1);
        assertEq(council.memberCount(), 3);
        assertEq(council.members().length, 3);
    }

    function test_addMember_revertsOnDuplicate() public {
        vm.expectRevert(abi.encodeWithSelector(ICouncil.CouncilAlreadyMember.selector, a));
        vm.prank(gov);
        council.addMember(a);
        assertEq(council.getVotes(a), 1);
    }

    function test_addMember_revertsOnZero() public {
        vm.expectRevert(ICouncil.CouncilZeroAddress.selector);
        vm.prank(gov);
        council.addMember(address(0));
    }

    function test_addMember_revertsForMember() public {
        vm.expectRevert(abi.encodeWithSelector(ICouncil.CouncilNotGovernance.selector, a));
        vm.prank(a);
        council.addMember(c);
    }

    function test_removeMember_removesVote() public {
        vm.expectEmit(address(council));
        emit ICouncil.MemberRemoved(b);
        vm.prank(gov);
        council.removeMember(b);
        assertFalse(council.isMember(b));
        assertEq(council.getVotes(b), 0);
        assertEq(council.memberCount(), 1);
    }

    function test_removeMember_thenReaddHasOneVoteNotTwo() public {
        vm.startPrank(gov);
        council.removeMember(b);
        council.addMember(b);
        vm.stopPrank();
        assertEq(council.getVotes(b), 1);
        vm.warp(block.timestamp + 1);
        assertEq(council.getPastTotalSupply(block.timestamp - 1), 2);
    }

    function test_removeMember_revertsOnNonMember() public {
        vm.expectRevert(abi.encodeWithSelector(ICouncil.CouncilNotMember.selector, c));
        vm.prank(gov);
        council.removeMember(c);
    }

    function test_removeMember_revertsOnLastMember() public {
        vm.prank(gov);
        council.removeMember(a);
        vm.expectRevert(abi.encodeWithSelector(ICouncil.CouncilLastMember.selector, b));
        vm.prank(gov);
        council.removeMember(b);
        assertEq(council.getVotes(b), 1);
    }

    function test_removeMember_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(ICouncil.CouncilNotGovernance.selector, c));
        vm.prank(c);
        council.removeMember(a);
    }

    // ------------------------------------------------------------------ non-transferable

    function test_delegate_reverts() public {
        vm.expectRevert(ICouncil.CouncilDelegationDisabled.selector);
        vm.prank(a);
        council.delegate(b);
        assertEq(council.getVotes(b), 1);
    }

    function test_delegateBySig_reverts() public {
        vm.expectRevert(ICouncil.CouncilDelegationDisabled.selector);
        council.delegateBySig(b, 0, type(uint256).max, 27, bytes32(0), bytes32(0));
    }

    function test_pastVotes_followMembershipTimeline() public {
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 10);
        vm.prank(gov);
        council.addMember(c);
        vm.warp(t0 + 20);
        vm.prank(gov);
        council.removeMember(a);
        vm.warp(t0 + 30);
        assertEq(council.getPastVotes(c, t0 + 5), 0);
        assertEq(council.getPastVotes(c, t0 + 10), 1);
        assertEq(council.getPastVotes(a, t0 + 19), 1);
        assertEq(council.getPastVotes(a, t0 + 20), 0);
        assertEq(council.getPastTotalSupply(t0 + 15), 3);
        assertEq(council.getPastTotalSupply(t0 + 25), 2);
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Any add/remove sequence: votes are exactly membership, supply is the member count.
    function testFuzz_membership_oneMemberOneVote(uint256 seed) public {
        address[6] memory pool = [a, b, c, makeAddr("d"), makeAddr("e"), makeAddr("f")];
        vm.startPrank(gov);
        for (uint256 k; k < 30; ++k) {
            address m = pool[uint256(keccak256(abi.encode(seed, k))) % 6];
            if (council.isMember(m)) {
                if (council.memberCount() > 1) council.removeMember(m);
            } else {
                council.addMember(m);
            }
            vm.warp(block.timestamp + 1);
            uint256 total;
            for (uint256 i; i < 6; ++i) {
                uint256 v = council.getVotes(pool[i]);
                assertEq(v, council.isMember(pool[i]) ? 1 : 0);
                total += v;
            }
            assertEq(total, council.memberCount());
            assertEq(council.getPastTotalSupply(block.timestamp - 1), total);
        }
        vm.stopPrank();
    }

    function two(address x, address y) internal pure returns (address[] memory l) {
        l = new address[](2);
        l[0] = x;
        l[1] = y;
    }
}
