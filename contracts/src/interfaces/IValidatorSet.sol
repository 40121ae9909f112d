// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title IValidatorSet
/// @notice The QBFT validator list read by Besu in validator-contract mode (`getValidators()`,
///         selector 0xb7ab4db5). Every validator is tied to a core site; the list is never empty.
/// @dev The storage layout is part of the interface (docs/contracts.md): `sankofa genesis besu`
///      preloads it into the genesis alloc, where no constructor runs.
interface IValidatorSet {
    /// @notice `validator` joined the set, tied to core site `site`.
    event ValidatorAdded(address indexed validator, bytes32 indexed site);
    /// @notice `validator` left the set; it was tied to `site`.
    event ValidatorRemoved(address indexed validator, bytes32 indexed site);
    /// @notice The governance account changed (genesis bootstrap -> timelock).
    event GovernanceTransferred(address indexed previous, address indexed next);
    /// @notice The site registry used for the core-site check changed.
    event RegistrySet(address indexed previous, address indexed next);

    /// @notice The caller is not the governance account.
    error ValidatorSetNotGovernance(address sender);
    /// @notice A zero address was given where an account is required.
    error ValidatorSetZeroAddress();
    /// @notice The constructor was given no validators.
    error ValidatorSetEmpty();
    /// @notice The constructor's validator and site arrays differ in length.
    error ValidatorSetLengthMismatch(uint256 validators, uint256 sites);
    /// @notice The site id is zero.
    error ValidatorSetZeroSite(address validator);
    /// @notice The address is already a validator.
    error ValidatorSetAlreadyValidator(address validator);
    /// @notice The address is not a validator.
    error ValidatorSetNotValidator(address validator);
    /// @notice Removing the last validator would halt the chain.
    error ValidatorSetLastValidator(address validator);
    /// @notice The site is not a registered, non-decommissioned core site (`tier`, `status` as found).
    error ValidatorSetNotCoreSite(bytes32 site, uint8 tier, uint8 status);

    /// @notice The current validators, in insertion order (swap-and-pop on removal); never empty.
    function getValidators() external view returns (address[] memory);
    /// @notice Adds `validator` tied to core site `coreSite` (governance only).
    function addValidator(address validator, bytes32 coreSite) external;
    /// @notice Removes `validator` (governance only); never the last one.
    function removeValidator(address validator) external;
    /// @notice Hands governance to `next` (governance only).
    function setGovernance(address next) external;
    /// @notice Sets the registry used for the core-site check (governance only; zero disables it).
    function setRegistry(address registry) external;
    /// @notice Number of validators.
    function validatorCount() external view returns (uint256);
    /// @notice The core site `validator` is tied to (zero if not a validator).
    function siteOf(address validator) external view returns (bytes32);
    /// @notice The governance account.
    function governance() external view returns (address);
    /// @notice The registry used for the core-site check (zero: check skipped).
    function registry() external view returns (address);
}
