// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title ICouncil
/// @notice Council membership as non-transferable votes: one member, one vote, always
///         self-delegated, on an ERC-6372 timestamp clock.
interface ICouncil {
    /// @notice `member` joined the council (and holds one vote from this timestamp).
    event MemberAdded(address indexed member);
    /// @notice `member` left the council (and lost its vote from this timestamp).
    event MemberRemoved(address indexed member);

    /// @notice The caller is not the governance account.
    error CouncilNotGovernance(address sender);
    /// @notice A zero address was given where a member is required.
    error CouncilZeroAddress();
    /// @notice The account is already a member.
    error CouncilAlreadyMember(address member);
    /// @notice The account is not a member.
    error CouncilNotMember(address member);
    /// @notice Removing the last member would leave nobody able to propose or vote.
    error CouncilLastMember(address member);
    /// @notice The constructor was given no members.
    error CouncilNoMembers();
    /// @notice Votes are membership: they cannot be delegated.
    error CouncilDelegationDisabled();

    /// @notice Adds `member` with one self-delegated vote (governance only).
    function addMember(address member) external;
    /// @notice Removes `member` and its vote (governance only).
    function removeMember(address member) external;
    /// @notice Whether `account` is a member.
    function isMember(address account) external view returns (bool);
    /// @notice Number of members.
    function memberCount() external view returns (uint256);
    /// @notice All members (unordered).
    function members() external view returns (address[] memory);
    /// @notice The governance account (the timelock).
    function governance() external view returns (address);
}
