// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ISiteRegistry, SiteStatus, Tier} from "./interfaces/ISiteRegistry.sol";
import {IValidatorSet} from "./interfaces/IValidatorSet.sol";

/// @title ValidatorSet
/// @notice The QBFT validators Besu reads every block (validator-contract mode), each tied to a
///         core site, changed only by governance, never empty.
/// @dev The storage layout below is fixed (docs/contracts.md) because `sankofa genesis besu`
///      writes it directly into the genesis alloc: no inheritance with storage, no reordering.
///      slot 0 `_validators`, 1 `_index`, 2 `_siteOf`, 3 `_governance`, 4 `_registry`.
contract ValidatorSet is IValidatorSet {
    /// @dev slot 0: the validators; length at slot 0, element i at keccak256(pad32(0)) + i.
    address[] private _validators;
    /// @dev slot 1: validator => its index in `_validators` plus one (0: not a validator).
    mapping(address validator => uint256 indexPlusOne) private _index;
    /// @dev slot 2: validator => the core site it is tied to.
    mapping(address validator => bytes32 site) private _siteOf;
    /// @dev slot 3: the only account allowed to change anything (the timelock).
    address private _governance;
    /// @dev slot 4: the registry for the core-site check (zero: check skipped, e.g. in genesis).
    address private _registry;

    /// @param governance_ the timelock (or a bootstrap account that later calls `setGovernance`)
    /// @param registry_ the SiteRegistry for the core-site check of `addValidator` (may be zero)
    /// @param initial the first validators, non-empty, no duplicates
    /// @param sites the core site of each initial validator; not checked against the registry,
    ///        because at deploy time (and in genesis) the inventory is not registered yet
    constructor(address governance_, address registry_, address[] memory initial, bytes32[] memory sites) {
        if (governance_ == address(0)) revert ValidatorSetZeroAddress();
        if (initial.length == 0) revert ValidatorSetEmpty();
        if (initial.length != sites.length) revert ValidatorSetLengthMismatch(initial.length, sites.length);
        _governance = governance_;
        emit GovernanceTransferred(address(0), governance_);
        _registry = registry_;
        emit RegistrySet(address(0), registry_);
        for (uint256 i; i < initial.length; ++i) {
            _add(initial[i], sites[i]);
        }
    }

    /// @dev Everything that changes the set is governance-only.
    modifier onlyGovernance() {
        if (msg.sender != _governance) revert ValidatorSetNotGovernance(msg.sender);
        _;
    }

    /// @inheritdoc IValidatorSet
    function getValidators() external view returns (address[] memory) {
        return _validators;
    }

    /// @inheritdoc IValidatorSet
    function addValidator(address validator, bytes32 coreSite) external onlyGovernance {
        address reg = _registry;
        if (reg != address(0)) {
            ISiteRegistry.Site memory s = ISiteRegistry(reg).site(coreSite);
            if (s.tier != uint8(Tier.Core) || s.status == uint8(SiteStatus.Decommissioned)) {
                revert ValidatorSetNotCoreSite(coreSite, s.tier, s.status);
            }
        }
        _add(validator, coreSite);
    }

    /// @inheritdoc IValidatorSet
    function removeValidator(address validator) external onlyGovernance {
        uint256 indexPlusOne = _index[validator];
        if (indexPlusOne == 0) revert ValidatorSetNotValidator(validator);
        uint256 last = _validators.length - 1;
        if (last == 0) revert ValidatorSetLastValidator(validator);
        // Swap-and-pop keeps the array dense; Besu only needs the set, not an order.
        if (indexPlusOne - 1 != last) {
            address moved = _validators[last];
            _validators[indexPlusOne - 1] = moved;
            _index[moved] = indexPlusOne;
        }
        _validators.pop();
        delete _index[validator];
        bytes32 site = _siteOf[validator];
        delete _siteOf[validator];
        emit ValidatorRemoved(validator, site);
    }

    /// @inheritdoc IValidatorSet
    function setGovernance(address next) external onlyGovernance {
        if (next == address(0)) revert ValidatorSetZeroAddress();
        address previous = _governance;
        _governance = next;
        emit GovernanceTransferred(previous, next);
    }

    /// @inheritdoc IValidatorSet
    function setRegistry(address registry_) external onlyGovernance {
        address previous = _registry;
        _registry = registry_;
        emit RegistrySet(previous, registry_);
    }

    /// @inheritdoc IValidatorSet
    function validatorCount() external view returns (uint256) {
        return _validators.length;
    }

    /// @inheritdoc IValidatorSet
    function siteOf(address validator) external view returns (bytes32) {
        return _siteOf[validator];
    }

    /// @inheritdoc IValidatorSet
    function governance() external view returns (address) {
        return _governance;
    }

    /// @inheritdoc IValidatorSet
    function registry() external view returns (address) {
        return _registry;
    }

    /// @dev Appends a validator tied to `site` (checks common to constructor and governance).
    function _add(address validator, bytes32 site) private {
        if (validator == address(0)) revert ValidatorSetZeroAddress();
        if (site == 0) revert ValidatorSetZeroSite(validator);
        if (_index[validator] != 0) revert ValidatorSetAlreadyValidator(validator);
        _validators.push(validator);
        _index[validator] = _validators.length;
        _siteOf[validator] = site;
        emit ValidatorAdded(validator, site);
    }
}
