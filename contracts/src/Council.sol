// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ICouncil} from "./interfaces/ICouncil.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title Council
/// @notice Council membership as non-transferable votes: each member holds exactly one voting
///         unit, always delegated to itself, checkpointed on a timestamp clock (ERC-6372), so the
///         Governor weighs a vote by membership at the proposal's snapshot.
contract Council is ICouncil, Votes {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @dev The current members.
    EnumerableSet.AddressSet private _members;
    /// @dev The only account that may change membership (the timelock).
    address private immutable _governance;

    /// @param governance_ the timelock
    /// @param initialMembers the first members (non-empty, no duplicates, no zero address)
    constructor(address governance_, address[] memory initialMembers) EIP712("Sankofa Council", "1") {
        if (governance_ == address(0)) revert CouncilZeroAddress();
        if (initialMembers.length == 0) revert CouncilNoMembers();
        _governance = governance_;
        for (uint256 i; i < initialMembers.length; ++i) {
            _addMember(initialMembers[i]);
        }
    }

    /// @dev Membership changes are governance-only.
    modifier onlyGovernance() {
        if (msg.sender != _governance) revert CouncilNotGovernance(msg.sender);
        _;
    }

    /// @inheritdoc ICouncil
    function addMember(address member) external onlyGovernance {
        _addMember(member);
    }

    /// @inheritdoc ICouncil
    function removeMember(address member) external onlyGovernance {
        if (!_members.contains(member)) revert CouncilNotMember(member);
        if (_members.length() == 1) revert CouncilLastMember(member);
        // Moves the unit (and, through the self-delegation, the vote) away before the set changes,
        // so `_getVotingUnits` still reports 1 while the checkpoint is written.
        _transferVotingUnits(member, address(0), 1);
        _members.remove(member);
        emit MemberRemoved(member);
    }

    /// @inheritdoc ICouncil
    function isMember(address account) external view returns (bool) {
        return _members.contains(account);
    }

    /// @inheritdoc ICouncil
    function memberCount() external view returns (uint256) {
        return _members.length();
    }

    /// @inheritdoc ICouncil
    function members() external view returns (address[] memory) {
        return _members.values();
    }

    /// @inheritdoc ICouncil
    function governance() external view returns (address) {
        return _governance;
    }

    /// @notice Votes are membership: delegation is disabled.
    function delegate(address) public pure override {
        revert CouncilDelegationDisabled();
    }

    /// @notice Votes are membership: delegation is disabled.
    function delegateBySig(address, uint256, uint256, uint8, bytes32, bytes32) public pure override {
        revert CouncilDelegationDisabled();
    }

    /// @notice ERC-6372 clock: block timestamp (the Governor's voting delay/period are seconds).
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock mode, matching `clock()`.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @dev One unit per member, none otherwise.
    function _getVotingUnits(address account) internal view override returns (uint256) {
        return _members.contains(account) ? 1 : 0;
    }

    /// @dev Adds a member with one unit, self-delegated (checks shared with the constructor).
    function _addMember(address member) private {
        if (member == address(0)) revert CouncilZeroAddress();
        if (!_members.add(member)) revert CouncilAlreadyMember(member);
        // Unit first (its delegate is still unset, or already `member` after a removal), then the
        // self-delegation, which moves exactly the one unit: one vote, never two (RegressCouncilReaddVotes).
        _transferVotingUnits(address(0), member, 1);
        if (delegates(member) != member) _delegate(member, member);
        emit MemberAdded(member);
    }
}
