// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Council} from "../../src/Council.sol";
import {Rollout} from "../../src/Rollout.sol";
import {SankofaGovernor} from "../../src/SankofaGovernor.sol";
import {SiteRegistry} from "../../src/SiteRegistry.sol";
import {ValidatorSet} from "../../src/ValidatorSet.sol";
import {IRollout} from "../../src/interfaces/IRollout.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Test} from "forge-std/Test.sol";

/// @notice The whole system wired exactly as docs/contracts.md "Deploy wiring" says.
abstract contract Stack is Test {
    uint256 internal constant MIN_DELAY = 1 days;
    uint48 internal constant VOTING_DELAY = 1 hours;
    uint32 internal constant VOTING_PERIOD = 3 days;
    uint256 internal constant QUORUM_PERCENT = 60;

    address internal deployer = makeAddr("deployer");
    address internal operator = makeAddr("operator");
    address internal guardian = makeAddr("guardian");
    address internal validator0 = makeAddr("validator0");
    address[] internal memberList;

    TimelockController internal timelock;
    Council internal council;
    SankofaGovernor internal governor;
    SiteRegistry internal registry;
    ValidatorSet internal validators;
    Rollout internal rollout;

    function deployStack(uint256 memberCount) internal {
        for (uint256 i; i < memberCount; ++i) {
            memberList.push(makeAddr(string.concat("member", vm.toString(i))));
        }
        vm.startPrank(deployer);
        address[] memory executors = new address[](1); // address(0): anyone may execute
        timelock = new TimelockController(MIN_DELAY, new address[](0), executors, deployer);
        council = new Council(address(timelock), memberList);
        governor = new SankofaGovernor(council, timelock, VOTING_DELAY, VOTING_PERIOD, QUORUM_PERCENT);
        registry = new SiteRegistry(address(timelock), operator);
        address[] memory initial = new address[](1);
        initial[0] = validator0;
        bytes32[] memory sites = new bytes32[](1);
        // forge-lint: disable-next-line(unsafe-typecast)
        sites[0] = bytes32("core-a");
        validators = new ValidatorSet(address(timelock), address(registry), initial, sites);
        IRollout.Criteria[3] memory c;
        c[0] = IRollout.Criteria(3, 10, 100, 3);
        c[1] = IRollout.Criteria(6, 30, 150, 6);
        c[2] = IRollout.Criteria(10, 50, 250, 10);
        rollout = new Rollout(address(timelock), guardian, registry, validators, c);
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), guardian);
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer);
        vm.stopPrank();
        vm.prank(operator);
        registry.initRollout(address(rollout));
        // Checkpoints are read strictly in the past: move on from the membership's timestamp.
        vm.warp(block.timestamp + 1);
    }
}
