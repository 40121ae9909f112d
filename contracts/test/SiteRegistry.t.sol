// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {SiteRegistry} from "../src/SiteRegistry.sol";
import {ISiteRegistry} from "../src/interfaces/ISiteRegistry.sol";
import {Fixture} from "./utils/Fixture.sol";

contract SiteRegistryTest is Fixture {
    address internal driver = makeAddr("driver");

    function setUp() public override {
        super.setUp();
        // A second ROLLOUT_ROLE holder lets the tests drive statuses directly.
        bytes32 role = registry.ROLLOUT_ROLE();
        vm.prank(gov);
        registry.grantRole(role, driver);
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_grantsRoles() public view {
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), gov));
        assertTrue(registry.hasRole(registry.GOVERNANCE_ROLE(), gov));
        assertTrue(registry.hasRole(registry.REGISTRAR_ROLE(), registrar));
        assertTrue(registry.hasRole(registry.ROLLOUT_ROLE(), address(rollout)));
        assertFalse(registry.hasRole(registry.GOVERNANCE_ROLE(), registrar));
    }

    function test_constructor_revertsOnZeroGovernance() public {
        vm.expectRevert(ISiteRegistry.SiteRegistryZeroAddress.selector);
        new SiteRegistry(address(0), registrar);
    }

    function test_constructor_revertsOnZeroRegistrar() public {
        vm.expectRevert(ISiteRegistry.SiteRegistryZeroAddress.selector);
        new SiteRegistry(gov, address(0));
    }

    // ------------------------------------------------------------------ registerSites

    function test_registerSites_storesSitesCountsAndEmits() public {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](3);
        b[0] = input("core-a", CORE, 1, "");
        b[1] = input("regional-a", REGIONAL, 2, "core-a"); // parent earlier in the same batch
        b[2] = input("edge-a", EDGE, 3, "regional-a");
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteRegistered(id("core-a"), CORE, 1, bytes32(0), keccak256("core-a"));
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteRegistered(
            id("regional-a"), REGIONAL, 2, id("core-a"), keccak256("regional-a")
        );
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteRegistered(id("edge-a"), EDGE, 3, id("regional-a"), keccak256("edge-a"));
        vm.prank(registrar);
        registry.registerSites(b);

        ISiteRegistry.Site memory s = registry.site(id("regional-a"));
        assertEq(s.tier, REGIONAL);
        assertEq(s.phase, 2);
        assertEq(s.status, PLANNED);
        assertEq(s.agent, address(0));
        assertEq(registry.siteCount(), 3);
        assertEq(registry.count(CORE, PLANNED), 1);
        assertEq(registry.count(REGIONAL, PLANNED), 1);
        assertEq(registry.count(EDGE, PLANNED), 1);
        assertEq(registry.count(EDGE, APPROVED), 0);
    }

    function test_registerSites_acceptsMaxBatch() public {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](100);
        for (uint256 i; i < 100; ++i) {
            b[i] = input(string.concat("core-", vm.toString(i)), CORE, 1, "");
        }
        vm.prank(registrar);
        registry.registerSites(b);
        assertEq(registry.siteCount(), 100);
        assertEq(registry.count(CORE, PLANNED), 100);
    }

    function test_registerSites_revertsForStranger() public {
        bytes32 role = registry.REGISTRAR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.registerSites(one(input("core-a", CORE, 1, "")));
    }

    function test_registerSites_revertsOnEmptyBatch() public {
        vm.expectRevert(ISiteRegistry.SiteRegistryEmptyBatch.selector);
        vm.prank(registrar);
        registry.registerSites(new ISiteRegistry.SiteInput[](0));
    }

    function test_registerSites_revertsOnOversizeBatch() public {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](101);
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryBatchTooLarge.selector, 101, 100));
        vm.prank(registrar);
        registry.registerSites(b);
    }

    function test_registerSites_revertsOnZeroId() public {
        ISiteRegistry.SiteInput memory s = input("core-a", CORE, 1, "");
        s.id = 0;
        expectRegisterRevert(
            s, abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidId.selector, bytes32(0))
        );
    }

    function test_registerSites_revertsOnUppercaseId() public {
        expectRegisterRevert(
            input("Core-a", CORE, 1, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidId.selector, id("Core-a"))
        );
    }

    function test_registerSites_revertsOnFullWidthId() public {
        string memory name = "core-abcdefghijklmnopqrstuvwxyz0"; // 32 bytes: no room for the zero pad
        expectRegisterRevert(
            input(name, CORE, 1, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidId.selector, id(name))
        );
    }

    function test_registerSites_revertsOnIdWithGap() public {
        ISiteRegistry.SiteInput memory s = input("core-a", CORE, 1, "");
        s.id = bytes32(bytes.concat("core", bytes1(0), "a"));
        expectRegisterRevert(s, abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidId.selector, s.id));
    }

    function test_registerSites_revertsOnTierZero() public {
        expectRegisterRevert(
            input("core-a", 0, 1, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidTier.selector, id("core-a"), 0)
        );
    }

    function test_registerSites_revertsOnTierFour() public {
        expectRegisterRevert(
            input("core-a", 4, 1, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidTier.selector, id("core-a"), 4)
        );
    }

    function test_registerSites_revertsOnPhaseZero() public {
        expectRegisterRevert(
            input("core-a", CORE, 0, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidPhase.selector, id("core-a"), 0)
        );
    }

    function test_registerSites_revertsOnPhaseFour() public {
        expectRegisterRevert(
            input("core-a", CORE, 4, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidPhase.selector, id("core-a"), 4)
        );
    }

    function test_registerSites_revertsOnDuplicateOfRegistered() public {
        vm.prank(registrar);
        registry.registerSites(one(input("core-a", CORE, 1, "")));
        expectRegisterRevert(
            input("core-a", CORE, 2, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryDuplicateSite.selector, id("core-a"))
        );
    }

    function test_registerSites_revertsOnDuplicateInBatchAndKeepsState() public {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](3);
        b[0] = input("core-a", CORE, 1, "");
        b[1] = input("core-b", CORE, 1, "");
        b[2] = input("core-a", CORE, 1, "");
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryDuplicateSite.selector, id("core-a"))
        );
        vm.prank(registrar);
        registry.registerSites(b);
        assertEq(registry.siteCount(), 0);
        assertEq(registry.count(CORE, PLANNED), 0);
        assertEq(registry.site(id("core-b")).tier, 0);
    }

    function test_registerSites_revertsOnCoreWithParent() public {
        vm.prank(registrar);
        registry.registerSites(one(input("core-a", CORE, 1, "")));
        expectRegisterRevert(
            input("core-b", CORE, 1, "core-a"),
            abi.encodeWithSelector(
                ISiteRegistry.SiteRegistryUnexpectedParent.selector, id("core-b"), id("core-a")
            )
        );
    }

    function test_registerSites_revertsOnUnknownParent() public {
        expectRegisterRevert(
            input("regional-a", REGIONAL, 1, "core-x"),
            abi.encodeWithSelector(
                ISiteRegistry.SiteRegistryUnknownParent.selector, id("regional-a"), id("core-x")
            )
        );
    }

    function test_registerSites_revertsOnMissingParent() public {
        expectRegisterRevert(
            input("edge-a", EDGE, 1, ""),
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnknownParent.selector, id("edge-a"), bytes32(0))
        );
    }

    function test_registerSites_revertsOnEdgeUnderCore() public {
        vm.prank(registrar);
        registry.registerSites(one(input("core-a", CORE, 1, "")));
        expectRegisterRevert(
            input("edge-a", EDGE, 1, "core-a"),
            abi.encodeWithSelector(
                ISiteRegistry.SiteRegistryWrongParentTier.selector, id("edge-a"), id("core-a")
            )
        );
    }

    function test_registerSites_revertsOnRegionalUnderRegional() public {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](2);
        b[0] = input("core-a", CORE, 1, "");
        b[1] = input("regional-a", REGIONAL, 1, "core-a");
        vm.prank(registrar);
        registry.registerSites(b);
        expectRegisterRevert(
            input("regional-b", REGIONAL, 1, "regional-a"),
            abi.encodeWithSelector(
                ISiteRegistry.SiteRegistryWrongParentTier.selector, id("regional-b"), id("regional-a")
            )
        );
    }

    function test_registerSites_revertsOnParentInLaterPhase() public {
        vm.prank(registrar);
        registry.registerSites(one(input("core-a", CORE, 2, "")));
        expectRegisterRevert(
            input("regional-a", REGIONAL, 1, "core-a"),
            abi.encodeWithSelector(
                ISiteRegistry.SiteRegistryParentPhaseLater.selector, id("regional-a"), id("core-a"), 2, 1
            )
        );
    }

    function test_registerSites_revertsOnParentLaterInBatch() public {
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](2);
        b[0] = input("regional-a", REGIONAL, 1, "core-a");
        b[1] = input("core-a", CORE, 1, "");
        vm.expectRevert(
            abi.encodeWithSelector(
                ISiteRegistry.SiteRegistryUnknownParent.selector, id("regional-a"), id("core-a")
            )
        );
        vm.prank(registrar);
        registry.registerSites(b);
    }

    // ------------------------------------------------------------------ agent keys

    function test_bindAgentKey_bindsRotatesAndSyncsRollout() public {
        registerTopology();
        bytes32 s = id("edge-a");
        address k1 = makeAddr("k1");
        address k2 = makeAddr("k2");
        vm.expectEmit(address(registry));
        emit ISiteRegistry.AgentKeyBound(s, k1, address(0));
        vm.prank(gov);
        registry.bindAgentKey(s, k1);
        assertEq(registry.agentOf(s), k1);
        assertEq(rollout.agentOf(s), k1);

        vm.expectEmit(address(registry));
        emit ISiteRegistry.AgentKeyBound(s, k2, k1);
        vm.prank(gov);
        registry.bindAgentKey(s, k2);
        assertEq(registry.agentOf(s), k2);
        assertEq(rollout.agentOf(s), k2);
        assertEq(registry.site(s).status, PLANNED, "binding leaves the status alone");
    }

    function test_bindAgentKey_revertsForStranger() public {
        registerTopology();
        bytes32 role = registry.GOVERNANCE_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, registrar, role)
        );
        vm.prank(registrar);
        registry.bindAgentKey(id("edge-a"), stranger);
    }

    function test_bindAgentKey_revertsOnZeroKey() public {
        registerTopology();
        vm.expectRevert(ISiteRegistry.SiteRegistryZeroAddress.selector);
        vm.prank(gov);
        registry.bindAgentKey(id("edge-a"), address(0));
    }

    function test_bindAgentKey_revertsOnUnknownSite() public {
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnknownSite.selector, id("edge-z")));
        vm.prank(gov);
        registry.bindAgentKey(id("edge-z"), stranger);
    }

    function test_bindAgentKey_revertsOnSameKey() public {
        registerTopology();
        bind(id("edge-a"));
        address k = keyOf(id("edge-a"));
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryKeyUnchanged.selector, id("edge-a"), k)
        );
        vm.prank(gov);
        registry.bindAgentKey(id("edge-a"), k);
    }

    function test_bindAgentKey_revertsOnDecommissioned() public {
        registerTopology();
        vm.prank(gov);
        registry.decommission(id("edge-a"));
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistrySiteDecommissioned.selector, id("edge-a"))
        );
        vm.prank(gov);
        registry.bindAgentKey(id("edge-a"), stranger);
    }

    function test_revokeAgentKey_revokesAndSyncsRollout() public {
        registerTopology();
        bind(id("edge-a"));
        vm.expectEmit(address(registry));
        emit ISiteRegistry.AgentKeyRevoked(id("edge-a"), keyOf(id("edge-a")));
        vm.prank(gov);
        registry.revokeAgentKey(id("edge-a"));
        assertEq(registry.agentOf(id("edge-a")), address(0));
        assertEq(rollout.agentOf(id("edge-a")), address(0));
    }

    function test_revokeAgentKey_revertsWhenUnbound() public {
        registerTopology();
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryKeyNotBound.selector, id("edge-a")));
        vm.prank(gov);
        registry.revokeAgentKey(id("edge-a"));
    }

    function test_revokeAgentKey_revertsOnUnknownSite() public {
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnknownSite.selector, id("edge-z")));
        vm.prank(gov);
        registry.revokeAgentKey(id("edge-z"));
    }

    function test_revokeAgentKey_revertsForStranger() public {
        registerTopology();
        bind(id("edge-a"));
        bytes32 role = registry.GOVERNANCE_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.revokeAgentKey(id("edge-a"));
    }

    // ------------------------------------------------------------------ decommission, markDegraded

    function test_decommission_movesCountersAndRevokesKey() public {
        registerTopology();
        bind(id("edge-a"));
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(id("edge-a"), PLANNED, DECOMMISSIONED);
        vm.expectEmit(address(registry));
        emit ISiteRegistry.AgentKeyRevoked(id("edge-a"), keyOf(id("edge-a")));
        vm.prank(gov);
        registry.decommission(id("edge-a"));
        assertEq(statusOf(id("edge-a")), DECOMMISSIONED);
        assertEq(registry.count(EDGE, PLANNED), 2);
        assertEq(registry.count(EDGE, DECOMMISSIONED), 1);
        assertEq(registry.agentOf(id("edge-a")), address(0));
        assertEq(rollout.agentOf(id("edge-a")), address(0));
    }

    function test_decommission_revertsWhenAlreadyDecommissioned() public {
        registerTopology();
        vm.prank(gov);
        registry.decommission(id("edge-a"));
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistrySiteDecommissioned.selector, id("edge-a"))
        );
        vm.prank(gov);
        registry.decommission(id("edge-a"));
    }

    function test_decommission_revertsOnUnknownSite() public {
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnknownSite.selector, id("edge-z")));
        vm.prank(gov);
        registry.decommission(id("edge-z"));
    }

    function test_decommission_revertsForStranger() public {
        registerTopology();
        bytes32 role = registry.GOVERNANCE_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.decommission(id("edge-a"));
    }

    function test_markDegraded_fromOperational() public {
        registerTopology();
        bytes32 s = id("edge-a");
        drive(s, OPERATIONAL);
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(s, OPERATIONAL, DEGRADED);
        vm.prank(gov);
        registry.markDegraded(s);
        assertEq(statusOf(s), DEGRADED);
        assertEq(registry.count(EDGE, OPERATIONAL), 0);
        assertEq(registry.count(EDGE, DEGRADED), 1);
    }

    function test_markDegraded_revertsWhenNotOperational() public {
        registerTopology();
        vm.expectRevert(
            abi.encodeWithSelector(
                ISiteRegistry.SiteRegistryIllegalTransition.selector, id("edge-a"), PLANNED, DEGRADED
            )
        );
        vm.prank(gov);
        registry.markDegraded(id("edge-a"));
    }

    function test_markDegraded_revertsOnUnknownSite() public {
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnknownSite.selector, id("edge-z")));
        vm.prank(gov);
        registry.markDegraded(id("edge-z"));
    }

    function test_markDegraded_revertsForStranger() public {
        registerTopology();
        bytes32 role = registry.GOVERNANCE_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.markDegraded(id("edge-a"));
    }

    // ------------------------------------------------------------------ setStatus

    /// @dev Every (from, to) pair: legal ones move the site and both counters, the rest revert
    ///      with the named error and change nothing.
    function test_setStatus_enforcesTransitionTable() public {
        registerTopology();
        bytes32 s = id("edge-a");
        for (uint8 from = 1; from <= 7; ++from) {
            for (uint8 to = 1; to <= 7; ++to) {
                uint256 snap = vm.snapshotState();
                drive(s, from);
                uint256 fromBefore = registry.count(EDGE, from);
                uint256 toBefore = registry.count(EDGE, to);
                vm.prank(driver);
                (bool ok, bytes memory ret) =
                    address(registry).call(abi.encodeCall(registry.setStatus, (list(s), to)));
                if (rolloutLegal(from, to)) {
                    assertTrue(ok, "legal transition reverted");
                    assertEq(statusOf(s), to);
                    assertEq(registry.count(EDGE, from), fromBefore - 1);
                    assertEq(registry.count(EDGE, to), toBefore + 1);
                } else {
                    assertFalse(ok, "illegal transition accepted");
                    assertEq(
                        ret,
                        abi.encodeWithSelector(
                            ISiteRegistry.SiteRegistryIllegalTransition.selector, s, from, to
                        )
                    );
                    assertEq(statusOf(s), from);
                    assertEq(registry.count(EDGE, from), fromBefore);
                }
                vm.revertToState(snap);
            }
        }
    }

    function test_setStatus_movesBatchAndEmits() public {
        registerTopology();
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(id("edge-a"), PLANNED, APPROVED);
        vm.expectEmit(address(registry));
        emit ISiteRegistry.SiteStatusChanged(id("core-a"), PLANNED, APPROVED);
        vm.prank(driver);
        registry.setStatus(list(id("edge-a"), id("core-a")), APPROVED);
        assertEq(registry.count(EDGE, APPROVED), 1);
        assertEq(registry.count(CORE, APPROVED), 1);
        assertEq(registry.count(CORE, PLANNED), 1);
    }

    function test_setStatus_revertsOnStatusZero() public {
        registerTopology();
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidStatus.selector, 0));
        vm.prank(driver);
        registry.setStatus(list(id("edge-a")), 0);
    }

    function test_setStatus_revertsOnStatusEight() public {
        registerTopology();
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidStatus.selector, 8));
        vm.prank(driver);
        registry.setStatus(list(id("edge-a")), 8);
    }

    function test_setStatus_revertsOnUnknownSiteAndKeepsBatch() public {
        registerTopology();
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnknownSite.selector, id("edge-z")));
        vm.prank(driver);
        registry.setStatus(list(id("edge-a"), id("edge-z")), APPROVED);
        assertEq(statusOf(id("edge-a")), PLANNED);
    }

    function test_setStatus_revertsForGovernance() public {
        registerTopology();
        bytes32 role = registry.ROLLOUT_ROLE();
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, gov, role));
        vm.prank(gov);
        registry.setStatus(list(id("edge-a")), APPROVED);
    }

    // ------------------------------------------------------------------ initRollout, views

    function test_initRollout_grantsRoleOnce() public {
        SiteRegistry fresh = new SiteRegistry(gov, registrar);
        address r = makeAddr("rollout");
        vm.expectEmit(address(fresh));
        emit ISiteRegistry.RolloutSet(r);
        vm.prank(registrar);
        fresh.initRollout(r);
        assertTrue(fresh.hasRole(fresh.ROLLOUT_ROLE(), r));
        assertEq(fresh.rollout(), r);

        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryRolloutAlreadySet.selector, r));
        vm.prank(registrar);
        fresh.initRollout(stranger);
    }

    function test_initRollout_revertsOnZero() public {
        SiteRegistry fresh = new SiteRegistry(gov, registrar);
        vm.expectRevert(ISiteRegistry.SiteRegistryZeroAddress.selector);
        vm.prank(registrar);
        fresh.initRollout(address(0));
    }

    function test_initRollout_revertsForStranger() public {
        SiteRegistry fresh = new SiteRegistry(gov, registrar);
        bytes32 role = fresh.REGISTRAR_ROLE();
        vm.expectRevert(abi.encodeWithSelector(ISiteRegistry.SiteRegistryUnauthorized.selector, gov, role));
        vm.prank(gov);
        fresh.initRollout(stranger);
    }

    function test_count_outOfRangeIsZero() public {
        registerTopology();
        assertEq(registry.count(0, PLANNED), 0);
        assertEq(registry.count(4, PLANNED), 0);
        assertEq(registry.count(CORE, 0), 0);
        assertEq(registry.count(CORE, 8), 0);
        assertEq(registry.count(CORE, PLANNED), 2);
    }

    function test_site_unknownIsZero() public view {
        ISiteRegistry.Site memory s = registry.site(id("nowhere"));
        assertEq(s.tier, 0);
        assertEq(registry.agentOf(id("nowhere")), address(0));
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Random trees: each site picks a tier and, for non-core, a parent among the earlier
    ///      sites of the tier above. Counters and records must match what was generated.
    function testFuzz_registerSites_randomTrees(uint256 seed, uint8 size) public {
        uint256 n = bound(size, 1, 60);
        ISiteRegistry.SiteInput[] memory b = new ISiteRegistry.SiteInput[](n);
        uint256[4] memory perTier;
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 tier = uint8(1 + r % 3);
            // Find a parent of the tier above among earlier sites, else fall back to core.
            bytes32 parent;
            uint8 parentPhase = 1;
            if (tier != CORE) {
                for (uint256 j = i; j > 0; --j) {
                    if (b[j - 1].tier == tier - 1) {
                        parent = b[j - 1].id;
                        parentPhase = b[j - 1].phase;
                        break;
                    }
                }
                if (parent == 0) tier = CORE;
            }
            uint8 phase = uint8(parentPhase + (r >> 8) % (4 - parentPhase));
            b[i] = ISiteRegistry.SiteInput({
                id: id(string.concat("s-", vm.toString(i))),
                tier: tier,
                phase: phase,
                parent: tier == CORE ? bytes32(0) : parent,
                recordHash: bytes32(r)
            });
            ++perTier[tier];
        }
        vm.prank(registrar);
        registry.registerSites(b);
        assertEq(registry.siteCount(), n);
        for (uint8 t = 1; t <= 3; ++t) {
            assertEq(registry.count(t, PLANNED), perTier[t]);
        }
        for (uint256 i; i < n; ++i) {
            ISiteRegistry.Site memory s = registry.site(b[i].id);
            assertEq(s.tier, b[i].tier);
            assertEq(s.phase, b[i].phase);
            assertEq(s.status, PLANNED);
        }
    }

    /// @dev Any id is accepted exactly when a plain reference check says it is well formed.
    function testFuzz_registerSites_idValidation(bytes32 raw) public {
        ISiteRegistry.SiteInput memory s = input("core-a", CORE, 1, "");
        s.id = raw;
        vm.prank(registrar);
        (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(registry.registerSites, (one(s))));
        if (wellFormed(raw)) {
            assertTrue(ok);
            assertEq(registry.site(raw).tier, CORE);
        } else {
            assertFalse(ok);
            assertEq(ret, abi.encodeWithSelector(ISiteRegistry.SiteRegistryInvalidId.selector, raw));
            assertEq(registry.siteCount(), 0);
        }
    }

    /// @dev Well-formed names of random length and charset always register.
    function testFuzz_registerSites_wellFormedNames(uint256 seed, uint8 len) public {
        uint256 n = bound(len, 1, 31);
        bytes memory alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
        bytes memory name = new bytes(n);
        for (uint256 i; i < n; ++i) {
            name[i] = alphabet[uint256(keccak256(abi.encode(seed, i))) % alphabet.length];
        }
        vm.prank(registrar);
        registry.registerSites(one(input(string(name), CORE, 1, "")));
        // forge-lint: disable-next-line(unsafe-typecast)
        assertEq(registry.site(bytes32(name)).tier, CORE);
    }

    // ------------------------------------------------------------------ helpers

    function expectRegisterRevert(ISiteRegistry.SiteInput memory s, bytes memory err) internal {
        uint256 before = registry.siteCount();
        vm.expectRevert(err);
        vm.prank(registrar);
        registry.registerSites(one(s));
        assertEq(registry.siteCount(), before);
    }

    /// @dev Moves `s` from Planned to `target` through legal transitions.
    function drive(bytes32 s, uint8 target) internal {
        if (target == PLANNED) return;
        if (target == DECOMMISSIONED) {
            vm.prank(gov);
            registry.decommission(s);
            return;
        }
        uint8[4] memory path;
        uint256 len;
        if (target == APPROVED) {
            (path[0], len) = (APPROVED, 1);
        } else if (target == DEPLOYING) {
            (path[0], path[1], len) = (APPROVED, DEPLOYING, 2);
        } else if (target == OPERATIONAL) {
            (path[0], path[1], path[2], len) = (APPROVED, DEPLOYING, OPERATIONAL, 3);
        } else if (target == DEGRADED) {
            (path[0], path[1], path[2], len) = (APPROVED, DEPLOYING, DEGRADED, 3);
        } else {
            (path[0], path[1], len) = (APPROVED, ROLLED_BACK, 2);
        }
        for (uint256 i; i < len; ++i) {
            vm.prank(driver);
            registry.setStatus(list(s), path[i]);
        }
        assertEq(statusOf(s), target);
    }

    /// @dev The transition table of docs/contracts.md, as the Rollout may use it.
    function rolloutLegal(uint8 from, uint8 to) internal pure returns (bool) {
        if (from == PLANNED) return to == APPROVED;
        if (from == APPROVED) return to == PLANNED || to == DEPLOYING || to == ROLLED_BACK;
        if (from == DEPLOYING) return to == OPERATIONAL || to == DEGRADED || to == ROLLED_BACK;
        if (from == OPERATIONAL) return to == DEGRADED || to == ROLLED_BACK;
        if (from == DEGRADED) return to == APPROVED || to == ROLLED_BACK;
        if (from == ROLLED_BACK) return to == APPROVED;
        return false;
    }

    function wellFormed(bytes32 raw) internal pure returns (bool) {
        if (raw == 0 || raw[31] != 0) return false;
        bool ended;
        for (uint256 i; i < 32; ++i) {
            bytes1 c = raw[i];
            if (c == 0) {
                ended = true;
            } else {
                if (ended) return false;
                bool ok = (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-";
                if (!ok) return false;
            }
        }
        return true;
    }
}
