// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {SankofaGovernor} from "../src/SankofaGovernor.sol";
import {IRollout} from "../src/interfaces/IRollout.sol";
import {ISiteRegistry} from "../src/interfaces/ISiteRegistry.sol";
import {Stack} from "./utils/Stack.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

/// @dev A votes source on a block-number clock, which the Governor must refuse.
contract BlockNumberClock {
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=blocknumber&from=default";
    }
}

contract SankofaGovernorTest is Stack {
    uint8 internal constant AGAINST = 0;
    uint8 internal constant FOR = 1;
    uint8 internal constant ABSTAIN = 2;

    function setUp() public {
        vm.warp(1_700_000_000);
        deployStack(5);
    }

    // ------------------------------------------------------------------ wiring and clock

    function test_clockMode_matchesCouncil() public view {
        assertEq(governor.CLOCK_MODE(), "mode=timestamp");
        assertEq(governor.CLOCK_MODE(), council.CLOCK_MODE());
        assertEq(governor.clock(), council.clock());
        assertEq(governor.clock(), block.timestamp);
    }

    function test_constructor_revertsOnBlockNumberVotes() public {
        BlockNumberClock bad = new BlockNumberClock();
        vm.expectRevert(
            abi.encodeWithSelector(
                SankofaGovernor.SankofaGovernorClockMismatch.selector, "mode=blocknumber&from=default"
            )
        );
        new SankofaGovernor(IVotes(address(bad)), timelock, VOTING_DELAY, VOTING_PERIOD, QUORUM_PERCENT);
    }

    function test_settings() public view {
        assertEq(governor.votingDelay(), VOTING_DELAY);
        assertEq(governor.votingPeriod(), VOTING_PERIOD);
        assertEq(governor.proposalThreshold(), 1);
        assertEq(governor.quorum(block.timestamp - 1), 3); // 60% of 5
        assertEq(governor.timelock(), address(timelock));
    }

    function test_timelock_ownsEveryPrivilegedRole() public view {
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), address(governor)));
        assertFalse(timelock.hasRole(timelock.PROPOSER_ROLE(), guardian));
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), guardian));
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertTrue(registry.hasRole(registry.GOVERNANCE_ROLE(), address(timelock)));
        assertTrue(rollout.hasRole(rollout.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertTrue(rollout.hasRole(rollout.GOVERNANCE_ROLE(), address(timelock)));
        assertEq(validators.governance(), address(timelock));
        assertEq(council.governance(), address(timelock));
    }

    // ------------------------------------------------------------------ the full flow

    /// @dev propose -> vote -> queue -> execute, with time warps: binds an agent key and
    ///      approves phase 1 in one proposal.
    function test_proposeVoteQueueExecute() public {
        registerCore();
        (address[] memory t, uint256[] memory v, bytes[] memory d) = bindAndApprovePhase();
        string memory desc = "bind core-a key; approve phase 1";
        vm.prank(memberList[0]);
        uint256 pid = governor.propose(t, v, d, desc);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Pending));
        assertEq(governor.proposalSnapshot(pid), block.timestamp + VOTING_DELAY);

        vm.warp(block.timestamp + VOTING_DELAY + 1);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Active));
        vote(pid, 0, FOR);
        vote(pid, 1, FOR);
        vote(pid, 2, ABSTAIN);
        vote(pid, 3, AGAINST);
        (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(pid);
        assertEq(against, 1);
        assertEq(forVotes, 2);
        assertEq(abstain, 1);

        vm.warp(governor.proposalDeadline(pid) + 1);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Succeeded));
        bytes32 descHash = keccak256(bytes(desc));
        governor.queue(t, v, d, descHash);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Queued));
        assertEq(governor.proposalEta(pid), block.timestamp + MIN_DELAY);

        vm.expectRevert(); // the timelock's delay has not passed
        governor.execute(t, v, d, descHash);

        vm.warp(block.timestamp + MIN_DELAY);
        governor.execute(t, v, d, descHash);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Executed));
        // forge-lint: disable-next-line(unsafe-typecast)
        assertEq(registry.agentOf(bytes32("core-a")), makeAddr("agent-core-a"));
        assertEq(rollout.currentPhase(), 1);
    }

    function test_quorumNotReached_isDefeated() public {
        registerCore();
        (address[] memory t, uint256[] memory v, bytes[] memory d) = bindAndApprovePhase();
        vm.prank(memberList[0]);
        uint256 pid = governor.propose(t, v, d, "too few");
        vm.warp(block.timestamp + VOTING_DELAY + 1);
        vote(pid, 0, FOR);
        vote(pid, 1, FOR);
        vm.warp(governor.proposalDeadline(pid) + 1);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Defeated));
        vm.expectRevert();
        governor.queue(t, v, d, keccak256("too few"));
    }

    /// @dev A member added after the proposal's snapshot votes with weight 0.
    function test_lateJoiner_hasNoWeight() public {
        registerCore();
        (address[] memory t, uint256[] memory v, bytes[] memory d) = bindAndApprovePhase();
        vm.prank(memberList[0]);
        uint256 pid = governor.propose(t, v, d, "late joiner");
        vm.warp(governor.proposalSnapshot(pid) + 1);

        // A separate proposal adds the newcomer (executed quickly by pranking the timelock,
        // as its own proposal would after the snapshot).
        address newcomer = makeAddr("newcomer");
        vm.prank(address(timelock));
        council.addMember(newcomer);
        assertEq(council.getVotes(newcomer), 1, "a member now");

        vm.prank(newcomer);
        uint256 weight = governor.castVote(pid, FOR);
        assertEq(weight, 0);
        (, uint256 forVotes,) = governor.proposalVotes(pid);
        assertEq(forVotes, 0);
        assertTrue(governor.hasVoted(pid, newcomer));
        assertEq(governor.getVotes(newcomer, governor.proposalSnapshot(pid)), 0);
    }

    /// @dev The same, end to end: the addMember proposal is itself voted and executed.
    function test_lateJoiner_viaGovernance_hasNoWeight() public {
        address newcomer = makeAddr("newcomer");
        address[] memory t = new address[](1);
        uint256[] memory v = new uint256[](1);
        bytes[] memory d = new bytes[](1);
        t[0] = address(council);
        d[0] = abi.encodeCall(council.addMember, (newcomer));
        vm.prank(memberList[0]);
        uint256 addPid = governor.propose(t, v, d, "add newcomer");
        vm.warp(block.timestamp + VOTING_DELAY + 1);
        for (uint256 i; i < 3; ++i) {
            vote(addPid, i, FOR);
        }
        vm.warp(governor.proposalDeadline(addPid) + 1);
        governor.queue(t, v, d, keccak256("add newcomer"));
        // The second proposal's snapshot (an hour from now) predates the newcomer's joining
        // (when the queued addMember executes, a day from now).
        registerCore();
        (address[] memory t2, uint256[] memory v2, bytes[] memory d2) = bindAndApprovePhase();
        vm.prank(memberList[1]);
        uint256 pid = governor.propose(t2, v2, d2, "after");
        vm.warp(block.timestamp + MIN_DELAY);
        governor.execute(t, v, d, keccak256("add newcomer"));
        assertTrue(council.isMember(newcomer));
        assertGt(block.timestamp, governor.proposalSnapshot(pid));
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Active));
        vm.prank(newcomer);
        assertEq(governor.castVote(pid, FOR), 0);
        vm.prank(memberList[2]);
        assertEq(governor.castVote(pid, FOR), 1);
        (, uint256 forVotes,) = governor.proposalVotes(pid);
        assertEq(forVotes, 1);
    }

    function test_proposer_cancelsPendingProposal() public {
        (address[] memory t, uint256[] memory v, bytes[] memory d) = bindAndApprovePhase();
        vm.prank(memberList[0]);
        uint256 pid = governor.propose(t, v, d, "withdrawn");
        assertTrue(governor.proposalNeedsQueuing(pid));
        vm.prank(memberList[1]);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnableToCancel.selector, pid, memberList[1]));
        governor.cancel(t, v, d, keccak256("withdrawn"));
        vm.prank(memberList[0]);
        governor.cancel(t, v, d, keccak256("withdrawn"));
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Canceled));
    }

    // ------------------------------------------------------------------ who may do what

    function test_nonMember_cannotPropose() public {
        (address[] memory t, uint256[] memory v, bytes[] memory d) = bindAndApprovePhase();
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, guardian, 0, 1)
        );
        vm.prank(guardian);
        governor.propose(t, v, d, "guardian tries");
    }

    function test_guardian_cannotApprove() public {
        bytes32 gr = rollout.GOVERNANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutUnauthorized.selector, guardian, gr));
        vm.prank(guardian);
        rollout.approvePhase(1);
        bytes32 pr = timelock.PROPOSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, pr)
        );
        vm.prank(guardian);
        timelock.schedule(address(rollout), 0, abi.encodeCall(rollout.approvePhase, (1)), 0, 0, MIN_DELAY);
        bytes32 rg = registry.GOVERNANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, guardian, rg));
        vm.prank(guardian);
        // forge-lint: disable-next-line(unsafe-typecast)
        registry.bindAgentKey(bytes32("core-a"), guardian);
    }

    function test_guardian_cancelsQueuedProposal() public {
        registerCore();
        (address[] memory t, uint256[] memory v, bytes[] memory d) = bindAndApprovePhase();
        vm.prank(memberList[0]);
        uint256 pid = governor.propose(t, v, d, "to cancel");
        vm.warp(block.timestamp + VOTING_DELAY + 1);
        for (uint256 i; i < 3; ++i) {
            vote(pid, i, FOR);
        }
        vm.warp(governor.proposalDeadline(pid) + 1);
        bytes32 descHash = keccak256("to cancel");
        governor.queue(t, v, d, descHash);
        bytes32 opId = timelock.hashOperationBatch(t, v, d, 0, bytes20(address(governor)) ^ descHash);
        assertTrue(timelock.isOperationPending(opId));
        vm.prank(guardian);
        timelock.cancel(opId);
        vm.warp(block.timestamp + MIN_DELAY);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Canceled));
        vm.expectRevert();
        governor.execute(t, v, d, descHash);
        assertEq(rollout.currentPhase(), 0);
    }

    function test_guardian_pausesWithoutGovernance() public {
        vm.prank(guardian);
        rollout.pause();
        assertTrue(rollout.paused());
    }

    // ------------------------------------------------------------------ helpers

    function registerCore() internal {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](1);
        // forge-lint: disable-next-line(unsafe-typecast)
        b[0] = ISiteRegistry.SiteInput(bytes32("core-a"), 1, 1, 0, keccak256("core-a"));
        vm.prank(operator);
        registry.registerSites(b);
    }

    function bindAndApprovePhase()
        internal
        returns (address[] memory t, uint256[] memory v, bytes[] memory d)
    {
        t = new address[](2);
        v = new uint256[](2);
        d = new bytes[](2);
        t[0] = address(registry);
        // forge-lint: disable-next-line(unsafe-typecast)
        d[0] = abi.encodeCall(registry.bindAgentKey, (bytes32("core-a"), makeAddr("agent-core-a")));
        t[1] = address(rollout);
        d[1] = abi.encodeCall(rollout.approvePhase, (1));
    }

    function vote(uint256 pid, uint256 member, uint8 support) internal {
        vm.prank(memberList[member]);
        assertEq(governor.castVote(pid, support), 1);
    }
}
