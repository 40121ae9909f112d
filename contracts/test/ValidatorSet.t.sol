// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ValidatorSet} from "../src/ValidatorSet.sol";
import {IValidatorSet} from "../src/interfaces/IValidatorSet.sol";
import {Fixture} from "./utils/Fixture.sol";

contract ValidatorSetTest is Fixture {
    address internal v1 = makeAddr("v1");
    address internal v2 = makeAddr("v2");

    function setUp() public override {
        super.setUp();
        registerTopology();
    }

    // ------------------------------------------------------------------ selector, layout, genesis

    function test_getValidators_selectorMatchesBesu() public pure {
        assertEq(ValidatorSet.getValidators.selector, bytes4(0xb7ab4db5));
    }

    function test_storageLayout_matchesDocs() public {
        vm.prank(gov);
        validators.addValidator(v1, id("core-b"));
        assertEq(uint256(vm.load(address(validators), bytes32(uint256(0)))), 2, "slot 0: length");
        bytes32 base = keccak256(abi.encode(uint256(0)));
        assertEq(address(uint160(uint256(vm.load(address(validators), base)))), validator0);
        assertEq(address(uint160(uint256(vm.load(address(validators), bytes32(uint256(base) + 1))))), v1);
        assertEq(uint256(vm.load(address(validators), keccak256(abi.encode(v1, uint256(1))))), 2, "slot 1");
        assertEq(vm.load(address(validators), keccak256(abi.encode(v1, uint256(2)))), id("core-b"), "slot 2");
        assertEq(address(uint160(uint256(vm.load(address(validators), bytes32(uint256(3)))))), gov, "slot 3");
        assertEq(
            address(uint160(uint256(vm.load(address(validators), bytes32(uint256(4)))))),
            address(registry),
            "slot 4"
        );
    }

    /// @dev What `sankofa genesis besu` does: runtime code plus storage, no constructor.
    function test_genesisPreload_worksWithoutConstructor() public {
        address at = makeAddr("genesis-validator-set");
        vm.etch(at, address(validators).code);
        address boot = makeAddr("bootstrap");
        vm.store(at, bytes32(uint256(0)), bytes32(uint256(2)));
        bytes32 base = keccak256(abi.encode(uint256(0)));
        vm.store(at, base, bytes32(uint256(uint160(v1))));
        vm.store(at, bytes32(uint256(base) + 1), bytes32(uint256(uint160(v2))));
        vm.store(at, keccak256(abi.encode(v1, uint256(1))), bytes32(uint256(1)));
        vm.store(at, keccak256(abi.encode(v2, uint256(1))), bytes32(uint256(2)));
        vm.store(at, keccak256(abi.encode(v1, uint256(2))), id("core-a"));
        vm.store(at, keccak256(abi.encode(v2, uint256(2))), id("core-b"));
        vm.store(at, bytes32(uint256(3)), bytes32(uint256(uint160(boot))));
        // slot 4 (registry) left zero: the core-site check is skipped until governance sets it.

        ValidatorSet g = ValidatorSet(at);
        address[] memory vs = g.getValidators();
        assertEq(vs.length, 2);
        assertEq(vs[0], v1);
        assertEq(vs[1], v2);
        assertEq(g.siteOf(v2), id("core-b"));
        assertEq(g.governance(), boot);

        vm.startPrank(boot);
        g.removeValidator(v1);
        g.setRegistry(address(registry));
        g.setGovernance(gov);
        vm.stopPrank();
        assertEq(g.getValidators()[0], v2);
        assertEq(g.governance(), gov);
        vm.expectRevert(
            abi.encodeWithSelector(IValidatorSet.ValidatorSetNotCoreSite.selector, id("edge-a"), 3, 1)
        );
        vm.prank(gov);
        g.addValidator(v1, id("edge-a"));
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_setsInitialSet() public view {
        address[] memory vs = validators.getValidators();
        assertEq(vs.length, 1);
        assertEq(vs[0], validator0);
        assertEq(validators.siteOf(validator0), id("core-a"));
        assertEq(validators.validatorCount(), 1);
        assertEq(validators.governance(), gov);
        assertEq(validators.registry(), address(registry));
    }

    function test_constructor_revertsOnZeroGovernance() public {
        vm.expectRevert(IValidatorSet.ValidatorSetZeroAddress.selector);
        new ValidatorSet(address(0), address(0), addrs(v1), sites1(id("core-a")));
    }

    function test_constructor_revertsOnEmpty() public {
        vm.expectRevert(IValidatorSet.ValidatorSetEmpty.selector);
        new ValidatorSet(gov, address(0), new address[](0), new bytes32[](0));
    }

    function test_constructor_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetLengthMismatch.selector, 1, 0));
        new ValidatorSet(gov, address(0), addrs(v1), new bytes32[](0));
    }

    function test_constructor_revertsOnZeroValidator() public {
        vm.expectRevert(IValidatorSet.ValidatorSetZeroAddress.selector);
        new ValidatorSet(gov, address(0), addrs(address(0)), sites1(id("core-a")));
    }

    function test_constructor_revertsOnZeroSite() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetZeroSite.selector, v1));
        new ValidatorSet(gov, address(0), addrs(v1), sites1(bytes32(0)));
    }

    function test_constructor_revertsOnDuplicate() public {
        address[] memory two = new address[](2);
        two[0] = v1;
        two[1] = v1;
        bytes32[] memory s = new bytes32[](2);
        s[0] = id("core-a");
        s[1] = id("core-b");
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetAlreadyValidator.selector, v1));
        new ValidatorSet(gov, address(0), two, s);
    }

    // ------------------------------------------------------------------ addValidator

    function test_addValidator_appendsAndEmits() public {
        vm.expectEmit(address(validators));
        emit IValidatorSet.ValidatorAdded(v1, id("core-b"));
        vm.prank(gov);
        validators.addValidator(v1, id("core-b"));
        address[] memory vs = validators.getValidators();
        assertEq(vs.length, 2);
        assertEq(vs[1], v1);
        assertEq(validators.siteOf(v1), id("core-b"));
    }

    function test_addValidator_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetNotGovernance.selector, stranger));
        vm.prank(stranger);
        validators.addValidator(v1, id("core-b"));
    }

    function test_addValidator_revertsOnZeroAddress() public {
        vm.expectRevert(IValidatorSet.ValidatorSetZeroAddress.selector);
        vm.prank(gov);
        validators.addValidator(address(0), id("core-b"));
    }

    function test_addValidator_revertsOnDuplicate() public {
        vm.expectRevert(
            abi.encodeWithSelector(IValidatorSet.ValidatorSetAlreadyValidator.selector, validator0)
        );
        vm.prank(gov);
        validators.addValidator(validator0, id("core-b"));
    }

    function test_addValidator_revertsOnUnknownSite() public {
        vm.expectRevert(
            abi.encodeWithSelector(IValidatorSet.ValidatorSetNotCoreSite.selector, id("core-z"), 0, 0)
        );
        vm.prank(gov);
        validators.addValidator(v1, id("core-z"));
    }

    function test_addValidator_revertsOnRegionalSite() public {
        vm.expectRevert(
            abi.encodeWithSelector(IValidatorSet.ValidatorSetNotCoreSite.selector, id("regional-a"), 2, 1)
        );
        vm.prank(gov);
        validators.addValidator(v1, id("regional-a"));
    }

    function test_addValidator_revertsOnDecommissionedCore() public {
        vm.prank(gov);
        registry.decommission(id("core-b"));
        vm.expectRevert(
            abi.encodeWithSelector(IValidatorSet.ValidatorSetNotCoreSite.selector, id("core-b"), 1, 7)
        );
        vm.prank(gov);
        validators.addValidator(v1, id("core-b"));
    }

    function test_addValidator_skipsCheckWithoutRegistry() public {
        vm.prank(gov);
        validators.setRegistry(address(0));
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetZeroSite.selector, v1));
        vm.prank(gov);
        validators.addValidator(v1, bytes32(0));
        vm.prank(gov);
        validators.addValidator(v1, id("not-registered"));
        assertEq(validators.validatorCount(), 2);
    }

    // ------------------------------------------------------------------ removeValidator

    function test_removeValidator_swapsAndPops() public {
        vm.startPrank(gov);
        validators.addValidator(v1, id("core-b"));
        validators.addValidator(v2, id("core-a"));
        vm.expectEmit(address(validators));
        emit IValidatorSet.ValidatorRemoved(validator0, id("core-a"));
        validators.removeValidator(validator0);
        vm.stopPrank();
        address[] memory vs = validators.getValidators();
        assertEq(vs.length, 2);
        assertEq(vs[0], v2);
        assertEq(vs[1], v1);
        assertEq(validators.siteOf(validator0), bytes32(0));
        // The moved validator's index was updated: removing it works and leaves v1.
        vm.prank(gov);
        validators.removeValidator(v2);
        assertEq(validators.getValidators()[0], v1);
    }

    function test_removeValidator_removesLastElement() public {
        vm.startPrank(gov);
        validators.addValidator(v1, id("core-b"));
        validators.removeValidator(v1);
        vm.stopPrank();
        assertEq(validators.validatorCount(), 1);
        assertEq(validators.getValidators()[0], validator0);
    }

    function test_removeValidator_revertsOnLastValidator() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetLastValidator.selector, validator0));
        vm.prank(gov);
        validators.removeValidator(validator0);
        assertEq(validators.validatorCount(), 1);
    }

    function test_removeValidator_revertsOnNonValidator() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetNotValidator.selector, v1));
        vm.prank(gov);
        validators.removeValidator(v1);
    }

    function test_removeValidator_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetNotGovernance.selector, validator0));
        vm.prank(validator0);
        validators.removeValidator(validator0);
    }

    // ------------------------------------------------------------------ governance, registry

    function test_setGovernance_transfers() public {
        vm.expectEmit(address(validators));
        emit IValidatorSet.GovernanceTransferred(gov, v1);
        vm.prank(gov);
        validators.setGovernance(v1);
        assertEq(validators.governance(), v1);
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetNotGovernance.selector, gov));
        vm.prank(gov);
        validators.addValidator(v2, id("core-b"));
    }

    function test_setGovernance_revertsOnZero() public {
        vm.expectRevert(IValidatorSet.ValidatorSetZeroAddress.selector);
        vm.prank(gov);
        validators.setGovernance(address(0));
    }

    function test_setGovernance_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetNotGovernance.selector, stranger));
        vm.prank(stranger);
        validators.setGovernance(stranger);
    }

    function test_setRegistry_sets() public {
        vm.expectEmit(address(validators));
        emit IValidatorSet.RegistrySet(address(registry), v1);
        vm.prank(gov);
        validators.setRegistry(v1);
        assertEq(validators.registry(), v1);
    }

    function test_setRegistry_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(IValidatorSet.ValidatorSetNotGovernance.selector, stranger));
        vm.prank(stranger);
        validators.setRegistry(address(0));
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Random add/remove sequences keep the array, the index and the count consistent and
    ///      never empty the set.
    function testFuzz_addRemove_keepsIndexConsistent(uint256 seed) public {
        address[8] memory pool;
        for (uint256 i; i < 8; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            pool[i] = address(uint160(0x1000 + i));
        }
        vm.startPrank(gov);
        validators.setRegistry(address(0));
        for (uint256 k; k < 40; ++k) {
            uint256 r = uint256(keccak256(abi.encode(seed, k)));
            address v = pool[r % 8];
            if (validators.siteOf(v) == 0) validators.addValidator(v, id("core-a"));
            else if (validators.validatorCount() > 1) validators.removeValidator(v);
            address[] memory vs = validators.getValidators();
            assertGt(vs.length, 0);
            for (uint256 i; i < vs.length; ++i) {
                assertEq(
                    uint256(vm.load(address(validators), keccak256(abi.encode(vs[i], uint256(1))))), i + 1
                );
            }
        }
        vm.stopPrank();
    }

    function addrs(address a) internal pure returns (address[] memory l) {
        l = new address[](1);
        l[0] = a;
    }

    function sites1(bytes32 s) internal pure returns (bytes32[] memory l) {
        l = new bytes32[](1);
        l[0] = s;
    }
}
