// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Rollout} from "../../src/Rollout.sol";
import {SiteRegistry} from "../../src/SiteRegistry.sol";
import {ValidatorSet} from "../../src/ValidatorSet.sol";
import {IRollout} from "../../src/interfaces/IRollout.sol";
import {ISiteRegistry} from "../../src/interfaces/ISiteRegistry.sol";
import {IValidatorSet} from "../../src/interfaces/IValidatorSet.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Shared deployment for the registry/validator/rollout tests. `gov` stands in for the
///         timelock (the governance test drives the real Governor + TimelockController).
abstract contract Fixture is Test {
    uint8 internal constant CORE = 1;
    uint8 internal constant REGIONAL = 2;
    uint8 internal constant EDGE = 3;

    uint8 internal constant PLANNED = 1;
    uint8 internal constant APPROVED = 2;
    uint8 internal constant DEPLOYING = 3;
    uint8 internal constant OPERATIONAL = 4;
    uint8 internal constant DEGRADED = 5;
    uint8 internal constant ROLLED_BACK = 6;
    uint8 internal constant DECOMMISSIONED = 7;

    uint8 internal constant OK = 1;
    uint8 internal constant FAIL = 2;
    uint8 internal constant SKIP = 3;

    address internal gov = makeAddr("governance");
    address internal registrar = makeAddr("registrar");
    address internal guardian = makeAddr("guardian");
    address internal stranger = makeAddr("stranger");
    address internal validator0 = makeAddr("validator0");

    SiteRegistry internal registry;
    ValidatorSet internal validators;
    Rollout internal rollout;

    bytes32 internal constant PLAN = keccak256("plan-v1");
    string internal constant PLAN_URI = "ipfs://plan-v1";

    function setUp() public virtual {
        registry = new SiteRegistry(gov, registrar);
        address[] memory initial = new address[](1);
        initial[0] = validator0;
        bytes32[] memory sites = new bytes32[](1);
        sites[0] = id("core-a");
        validators = new ValidatorSet(gov, address(registry), initial, sites);
        rollout = new Rollout(gov, guardian, registry, validators, _criteria(1, 1, 1, 1));
        vm.prank(registrar);
        registry.initRollout(address(rollout));
    }

    // ------------------------------------------------------------------ builders

    function id(string memory name) internal pure returns (bytes32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes32(bytes(name));
    }

    function keyOf(bytes32 site) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("agent", site)))));
    }

    function _criteria(uint16 c, uint16 r, uint16 e, uint16 v)
        internal
        pure
        returns (IRollout.Criteria[3] memory all)
    {
        for (uint256 i; i < 3; ++i) {
            all[i] = IRollout.Criteria({minCore: c, minRegional: r, minEdge: e, minValidators: v});
        }
    }

    function input(string memory name, uint8 tier, uint8 phase, string memory parent)
        internal
        pure
        returns (ISiteRegistry.SiteInput memory)
    {
        return ISiteRegistry.SiteInput({
            id: id(name),
            tier: tier,
            phase: phase,
            parent: bytes(parent).length == 0 ? bytes32(0) : id(parent),
            recordHash: keccak256(bytes(name))
        });
    }

    function one(ISiteRegistry.SiteInput memory s)
        internal
        pure
        returns (ISiteRegistry.SiteInput[] memory b)
    {
        b = new ISiteRegistry.SiteInput[](1);
        b[0] = s;
    }

    function list(bytes32 a) internal pure returns (bytes32[] memory l) {
        l = new bytes32[](1);
        l[0] = a;
    }

    function list(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory l) {
        l = new bytes32[](2);
        l[0] = a;
        l[1] = b;
    }

    /// @dev core-a, core-b (phase 1), regional-a (core-a, phase 1), edge-a, edge-b (regional-a,
    ///      phase 1), edge-c (regional-a, phase 2).
    function registerTopology() internal {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](6);
        b[0] = input("core-a", CORE, 1, "");
        b[1] = input("core-b", CORE, 1, "");
        b[2] = input("regional-a", REGIONAL, 1, "core-a");
        b[3] = input("edge-a", EDGE, 1, "regional-a");
        b[4] = input("edge-b", EDGE, 1, "regional-a");
        b[5] = input("edge-c", EDGE, 2, "regional-a");
        vm.prank(registrar);
        registry.registerSites(b);
    }

    function bind(bytes32 site) internal {
        vm.prank(gov);
        registry.bindAgentKey(site, keyOf(site));
    }

    function approvePhase(uint8 phase) internal {
        vm.prank(gov);
        rollout.approvePhase(phase);
    }

    function approveWave(bytes32[] memory sites, uint16 steps, uint16 maxConcurrent)
        internal
        returns (uint32)
    {
        vm.prank(gov);
        return rollout.approveWave(
            1,
            PLAN,
            PLAN_URI,
            sites,
            uint64(block.timestamp),
            uint64(block.timestamp + 1 days),
            maxConcurrent,
            steps
        );
    }

    function report(bytes32 site, uint32 waveId, uint16 step, uint8 status) internal {
        vm.prank(keyOf(site));
        rollout.reportStep(site, waveId, step, status, keccak256(abi.encode(site, step)));
    }

    function reportRollback(bytes32 site, uint32 waveId, uint16 step, uint8 status) internal {
        vm.prank(keyOf(site));
        rollout.reportRollbackStep(site, waveId, step, status, keccak256(abi.encode("undo", site, step)));
    }

    /// @dev Topology registered, keys bound on every phase-1 site, phase 1 approved.
    function readyPhase1() internal {
        registerTopology();
        bind(id("core-a"));
        bind(id("core-b"));
        bind(id("regional-a"));
        bind(id("edge-a"));
        bind(id("edge-b"));
        bind(id("edge-c"));
        approvePhase(1);
    }

    function statusOf(bytes32 site) internal view returns (uint8) {
        return registry.site(site).status;
    }
}
