// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ISiteRegistry} from "../../src/interfaces/ISiteRegistry.sol";
import {Fixture} from "../utils/Fixture.sol";
import {Floor} from "./Floor.sol";
import {TX_BASE, calldataGas} from "./TxCost.sol";

/// @notice Gas measurements (never asserted): writes `contracts/snapshots/sankofa.json` and
///         `contracts/snapshots/floor.json` so `sankofa bench` can print ours/floor ratios.
/// @dev Every measured call starts from cold storage (`vm.cool`), as a fresh transaction does.
///      Keys ending in `_tx` add the intrinsic cost (21000 + calldata, Cancun pricing).
contract GasBench is Fixture {
    Floor internal floor;

    function setUp() public override {
        super.setUp();
        floor = new Floor(PLAN);
    }

    // ------------------------------------------------------------------ registration

    /// @dev The plan's shape: 15 core, 60 regional, 250 edge, in batches of 100.
    function test_gas_registerSites_inventory() public {
        ISiteRegistry.SiteInput[][] memory batches = inventoryBatches(100);
        (uint256 ours, uint256 oursTx) =
            registerAll(address(registry), batches, "sankofa", "registerSites_batch");
        (uint256 low, uint256 lowTx) = registerAll(address(floor), batches, "floor", "registerSites_batch");
        vm.snapshotValue("sankofa", "registerSites_perSite", ours / 325);
        vm.snapshotValue("sankofa", "registerSites_perSite_tx", oursTx / 325);
        vm.snapshotValue("floor", "registerSites_perSite", low / 325);
        vm.snapshotValue("floor", "registerSites_perSite_tx", lowTx / 325);
        emit log_named_uint("registerSites gas per site (incl. tx base + calldata)", oursTx / 325);
        emit log_named_uint("floor gas per site (incl. tx base + calldata)", lowTx / 325);
        emit log_named_uint("ratio x1000", oursTx * 1000 / lowTx);
        assertEq(registry.siteCount(), 325);
    }

    /// @dev The same inventory in batches of 50 (the size the issue's figures are quoted for).
    function test_gas_registerSites_inventory50() public {
        ISiteRegistry.SiteInput[][] memory batches = inventoryBatches(50);
        (, uint256 oursTx) = registerAll(address(registry), batches, "sankofa", "registerSites50_batch");
        (, uint256 lowTx) = registerAll(address(floor), batches, "floor", "registerSites50_batch");
        vm.snapshotValue("sankofa", "registerSites50_perSite_tx", oursTx / 325);
        vm.snapshotValue("floor", "registerSites50_perSite_tx", lowTx / 325);
        emit log_named_uint("registerSites (batches of 50) gas per site, tx total", oursTx / 325);
        emit log_named_uint("floor gas per site, tx total", lowTx / 325);
        assertEq(registry.siteCount(), 325);
    }

    /// @dev Binding a registered site's first key (governance's call, as the timelock makes it).
    function test_gas_bindAgentKey() public {
        registerTopology();
        bytes32 s = id("edge-a");
        bytes memory data = abi.encodeCall(registry.bindAgentKey, (s, keyOf(s)));
        uint256 ours = measure(address(registry), gov, data, "sankofa", "bindAgentKey");
        vm.snapshotValue("sankofa", "bindAgentKey_tx", ours);
        floor.registerSites(one(input("edge-a", EDGE, 1, "regional-a")));
        uint256 low = measure(address(floor), gov, data, "floor", "bindAgentKey");
        vm.snapshotValue("floor", "bindAgentKey_tx", low);
        assertEq(registry.agentOf(s), keyOf(s));
    }

    /// @dev One wave of 100 edge sites (the per-site cost of an approval, for planning waves).
    function test_gas_approveWave_100() public {
        ISiteRegistry.SiteInput[][] memory batches = inventoryBatches(100);
        for (uint256 i; i < batches.length; ++i) {
            vm.prank(registrar);
            registry.registerSites(batches[i]);
        }
        bytes32[] memory sites = new bytes32[](100);
        for (uint256 i; i < 100; ++i) {
            sites[i] = batches[1][i].id;
            bind(sites[i]);
        }
        approvePhase(1);
        bytes memory data = abi.encodeCall(
            rollout.approveWave,
            (1, PLAN, PLAN_URI, sites, uint64(block.timestamp), uint64(block.timestamp + 1 days), 10, 8)
        );
        uint256 total = measure(address(rollout), gov, data, "sankofa", "approveWave_100");
        vm.snapshotValue("sankofa", "approveWave_perSite_tx", total / 100);
        assertEq(registry.count(EDGE, APPROVED), 100);
        // The floor's sites exist too (their slots are written, not created).
        floor.registerSites(batches[1]);
        uint256 low = measure(address(floor), gov, data, "floor", "approveWave_100");
        vm.snapshotValue("floor", "approveWave_perSite_tx", low / 100);
    }

    // ------------------------------------------------------------------ step reports

    function test_gas_reportStep() public {
        registerTopology();
        bytes32 s = id("edge-a");
        bind(s);
        approvePhase(1);
        uint32 w = approveWave(list(s), 5, 1);

        uint256 first = measureStep(s, w, 0, OK, "reportStep_first");
        uint256 middle = measureStep(s, w, 1, OK, "reportStep_middle");
        measureStep(s, w, 2, SKIP, "reportStep_middle_skipped");
        measureStep(s, w, 3, OK, "reportStep_middle_again");
        uint256 last = measureStep(s, w, 4, OK, "reportStep_last");
        vm.snapshotValue("sankofa", "reportStep_first_tx", first);
        vm.snapshotValue("sankofa", "reportStep_middle_tx", middle);
        vm.snapshotValue("sankofa", "reportStep_last_tx", last);
        assertEq(statusOf(s), OPERATIONAL);

        // The floor: prime the slot (the ledger slot exists after approval), then a middle step.
        floor.reportStep(s, w, 0, OK, keccak256("d0"));
        uint256 low = measureFloorStep(s, w, 1);
        vm.snapshotValue("floor", "reportStep_middle_tx", low);
        emit log_named_uint("reportStep middle (tx total)", middle);
        emit log_named_uint("reportStep first (tx total)", first);
        emit log_named_uint("reportStep last (tx total)", last);
        emit log_named_uint("floor reportStep (tx total)", low);
        emit log_named_uint("ratio x1000", middle * 1000 / low);
    }

    function test_gas_reportStep_failed() public {
        registerTopology();
        bytes32 s = id("edge-a");
        bind(s);
        approvePhase(1);
        uint32 w = approveWave(list(s), 5, 1);
        report(s, w, 0, OK);
        uint256 failed = measureStep(s, w, 1, FAIL, "reportStep_failed");
        vm.snapshotValue("sankofa", "reportStep_failed_tx", failed);
        assertEq(statusOf(s), DEGRADED);
    }

    function test_gas_reportRollbackStep() public {
        registerTopology();
        bytes32 s = id("edge-a");
        bind(s);
        approvePhase(1);
        uint32 w = approveWave(list(s), 3, 1);
        report(s, w, 0, OK);
        report(s, w, 1, OK);
        report(s, w, 2, OK);
        vm.prank(gov);
        rollout.orderRollback(list(s), 1);
        bytes memory data =
            abi.encodeCall(rollout.reportRollbackStep, (s, w, 2, OK, keccak256(abi.encode("undo", s, 2))));
        uint256 middle = measure(address(rollout), keyOf(s), data, "sankofa", "reportRollbackStep_middle");
        vm.snapshotValue("sankofa", "reportRollbackStep_middle_tx", middle);
    }

    // ------------------------------------------------------------------ helpers

    function measureStep(bytes32 s, uint32 w, uint16 step, uint8 status, string memory name)
        internal
        returns (uint256)
    {
        bytes memory data =
            abi.encodeCall(rollout.reportStep, (s, w, step, status, keccak256(abi.encode(s, step))));
        return measure(address(rollout), keyOf(s), data, "sankofa", name);
    }

    function measureFloorStep(bytes32 s, uint32 w, uint16 step) internal returns (uint256) {
        bytes memory data = abi.encodeCall(floor.reportStep, (s, w, step, OK, keccak256(abi.encode(s, step))));
        return measure(address(floor), keyOf(s), data, "floor", "reportStep_middle");
    }

    /// @dev One call from cold storage; snapshots the execution gas and returns the tx total.
    function measure(address target, address from, bytes memory data, string memory group, string memory name)
        internal
        returns (uint256)
    {
        vm.cool(address(registry));
        vm.cool(address(rollout));
        vm.cool(address(floor));
        vm.prank(from);
        (bool ok,) = target.call(data);
        assertTrue(ok, name);
        uint256 exec = vm.snapshotGasLastCall(group, name);
        return exec + TX_BASE + calldataGas(data);
    }

    function registerAll(
        address target,
        ISiteRegistry.SiteInput[][] memory batches,
        string memory group,
        string memory prefix
    ) internal returns (uint256 exec, uint256 total) {
        for (uint256 i; i < batches.length; ++i) {
            bytes memory data = abi.encodeCall(ISiteRegistry.registerSites, (batches[i]));
            uint256 t = measure(target, registrar, data, group, string.concat(prefix, vm.toString(i)));
            total += t;
            exec += t - TX_BASE - calldataGas(data);
        }
    }

    /// @dev Names as long as the real inventory's (`core-iad`, `regional-atl`, `edge-xyz`),
    ///      parents spread over the tier above, record hashes random.
    function inventoryBatches(uint256 size)
        internal
        pure
        returns (ISiteRegistry.SiteInput[][] memory batches)
    {
        ISiteRegistry.SiteInput[] memory all = new ISiteRegistry.SiteInput[](325);
        for (uint256 i; i < 325; ++i) {
            uint8 tier = i < 15 ? CORE : (i < 75 ? REGIONAL : EDGE);
            string memory prefix = tier == CORE ? "core-" : (tier == REGIONAL ? "regional-" : "edge-");
            bytes32 parent;
            if (tier == REGIONAL) parent = all[(i - 15) % 15].id;
            if (tier == EDGE) parent = all[15 + (i - 75) % 60].id;
            all[i] = ISiteRegistry.SiteInput({
                id: bytes32(bytes(string.concat(prefix, code(i)))),
                tier: tier,
                phase: 1,
                parent: parent,
                recordHash: keccak256(abi.encode(i))
            });
        }
        uint256 count = (325 + size - 1) / size;
        batches = new ISiteRegistry.SiteInput[][](count);
        for (uint256 b; b < count; ++b) {
            uint256 n = b + 1 < count ? size : 325 - b * size;
            batches[b] = new ISiteRegistry.SiteInput[](n);
            for (uint256 j; j < n; ++j) {
                batches[b][j] = all[b * size + j];
            }
        }
    }

    /// @dev A three-letter code from an index.
    function code(uint256 i) internal pure returns (string memory) {
        bytes memory c = new bytes(3);
        c[0] = bytes1(uint8(97 + (i / 676) % 26));
        c[1] = bytes1(uint8(97 + (i / 26) % 26));
        // forge-lint: disable-next-line(unsafe-typecast)
        c[2] = bytes1(uint8(97 + i % 26));
        return string(c);
    }
}
