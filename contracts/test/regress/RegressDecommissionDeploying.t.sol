// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IRollout} from "../../src/interfaces/IRollout.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Pins a design fault found while writing the ledger: decommissioning a site in the
///         middle of its deployment left it counted in its wave's `deploying`, so with
///         `maxConcurrent` reached the rest of the wave could never start, and the stale key
///         copy in the ledger kept accepting its reports. The registry now tells the Rollout
///         (`siteUpdated`), which closes the deployment.
contract RegressDecommissionDeploying is Fixture {
    function test_decommissionMidDeployment_freesConcurrencySlotAndKey() public {
        readyPhase1();
        bytes32 a = id("edge-a");
        bytes32 b = id("edge-b");
        uint32 w = approveWave(list(a, b), 3, 1);
        report(a, w, 0, OK);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutMaxConcurrent.selector, w, 1));
        report(b, w, 0, OK);

        vm.prank(gov);
        registry.decommission(a);

        report(b, w, 0, OK);
        assertEq(rollout.wave(w).deploying, 1);
        vm.expectRevert(abi.encodeWithSelector(IRollout.RolloutNotSiteAgent.selector, a, keyOf(a)));
        report(a, w, 1, OK);
    }
}
