// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IRollout} from "./interfaces/IRollout.sol";
import {ISiteRegistry, SiteStatus, Tier} from "./interfaces/ISiteRegistry.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title SiteRegistry
/// @notice The sites of the rollout plan, their governed agent keys and their status lifecycle,
///         with exact per-(tier, status) counters kept on every transition.
/// @dev One storage slot per site; the inventory detail (the CSV line's hash) lives only in the
///      `SiteRegistered` event. Every agent-key change is pushed to the Rollout (`siteUpdated`)
///      so its ledger can check a report's sender without an external call.
contract SiteRegistry is ISiteRegistry, AccessControl {
    /// @notice The timelock: binds, rotates and revokes agent keys, decommissions sites.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice The operator that imports the inventory and wires the Rollout in once.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice The Rollout contract: drives status transitions.
    bytes32 public constant ROLLOUT_ROLE = keccak256("ROLLOUT_ROLE");
    /// @notice Most sites per `registerSites` call (bounds the transaction's gas).
    uint256 public constant MAX_BATCH = 100;

    /// @dev Bit `from * 8 + to` is set when the Rollout may move a site from `from` to `to`.
    uint256 private constant _ROLLOUT_TRANSITIONS = (uint256(1) << (1 * 8 + 2)) // Planned -> Approved
        | (uint256(1) << (2 * 8 + 1)) // Approved -> Planned
        | (uint256(1) << (2 * 8 + 3)) // Approved -> Deploying
        | (uint256(1) << (2 * 8 + 6)) // Approved -> RolledBack
        | (uint256(1) << (3 * 8 + 4)) // Deploying -> Operational
        | (uint256(1) << (3 * 8 + 5)) // Deploying -> Degraded
        | (uint256(1) << (3 * 8 + 6)) // Deploying -> RolledBack
        | (uint256(1) << (4 * 8 + 5)) // Operational -> Degraded (a failed rollback step)
        | (uint256(1) << (4 * 8 + 6)) // Operational -> RolledBack
        | (uint256(1) << (5 * 8 + 2)) // Degraded -> Approved
        | (uint256(1) << (5 * 8 + 6)) // Degraded -> RolledBack
        | (uint256(1) << (6 * 8 + 2)); // RolledBack -> Approved

    /// @dev Site id => record (one slot).
    mapping(bytes32 id => Site) private _sites;
    /// @dev [tier][status] => number of sites; one slot per tier.
    uint32[8][4] private _counts;
    /// @dev Number of registered sites.
    uint256 private _siteCount;
    /// @dev The Rollout wired in by `initRollout`; receives agent-key updates.
    address private _rollout;

    /// @param governance the TimelockController (DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE)
    /// @param registrar the operator account that imports the inventory (REGISTRAR_ROLE)
    constructor(address governance, address registrar) {
        if (governance == address(0) || registrar == address(0)) revert SiteRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    /// @inheritdoc ISiteRegistry
    function registerSites(SiteInput[] calldata sites) external onlyRole(REGISTRAR_ROLE) {
        uint256 n = sites.length;
        if (n == 0) revert SiteRegistryEmptyBatch();
        if (n > MAX_BATCH) revert SiteRegistryBatchTooLarge(n, MAX_BATCH);
        // Planned counters per tier, written once after the loop instead of once per site.
        uint256[4] memory added;
        for (uint256 i; i < n;) {
            SiteInput calldata s = sites[i];
            bytes32 id = s.id;
            uint8 tier = s.tier;
            uint8 phase = s.phase;
            if (!_isValidId(id)) revert SiteRegistryInvalidId(id);
            if (tier == 0 || tier > uint8(Tier.Edge)) revert SiteRegistryInvalidTier(id, tier);
            if (phase == 0 || phase > 3) revert SiteRegistryInvalidPhase(id, phase);
            if (_sites[id].tier != 0) revert SiteRegistryDuplicateSite(id);
            bytes32 parent = s.parent;
            if (tier == uint8(Tier.Core)) {
                if (parent != 0) revert SiteRegistryUnexpectedParent(id, parent);
            } else {
                Site memory p = _sites[parent];
                if (p.tier == 0) revert SiteRegistryUnknownParent(id, parent);
                if (p.tier + 1 != tier) revert SiteRegistryWrongParentTier(id, parent);
                if (p.phase > phase) revert SiteRegistryParentPhaseLater(id, parent, p.phase, phase);
            }
            _sites[id] =
                Site({tier: tier, phase: phase, status: uint8(SiteStatus.Planned), agent: address(0)});
            emit SiteRegistered(id, tier, phase, parent, s.recordHash);
            // Cannot overflow: i < n <= MAX_BATCH and each counter is bounded by n.
            unchecked {
                ++added[tier];
                ++i;
            }
        }
        for (uint256 t = 1; t < 4; ++t) {
            if (added[t] != 0) _counts[t][uint8(SiteStatus.Planned)] += uint32(added[t]);
        }
        _siteCount += n;
    }

    /// @inheritdoc ISiteRegistry
    function bindAgentKey(bytes32 site_, address key) external onlyRole(GOVERNANCE_ROLE) {
        if (key == address(0)) revert SiteRegistryZeroAddress();
        Site storage s = _knownSite(site_);
        if (s.status == uint8(SiteStatus.Decommissioned)) revert SiteRegistrySiteDecommissioned(site_);
        address previous = s.agent;
        if (previous == key) revert SiteRegistryKeyUnchanged(site_, key);
        s.agent = key;
        emit AgentKeyBound(site_, key, previous);
        _notifyRollout(site_, key, false);
    }

    /// @inheritdoc ISiteRegistry
    function revokeAgentKey(bytes32 site_) external onlyRole(GOVERNANCE_ROLE) {
        Site storage s = _knownSite(site_);
        address key = s.agent;
        if (key == address(0)) revert SiteRegistryKeyNotBound(site_);
        s.agent = address(0);
        emit AgentKeyRevoked(site_, key);
        _notifyRollout(site_, address(0), false);
    }

    /// @inheritdoc ISiteRegistry
    function decommission(bytes32 site_) external onlyRole(GOVERNANCE_ROLE) {
        Site storage s = _knownSite(site_);
        uint8 from = s.status;
        if (from == uint8(SiteStatus.Decommissioned)) revert SiteRegistrySiteDecommissioned(site_);
        _move(s, site_, from, uint8(SiteStatus.Decommissioned));
        address key = s.agent;
        if (key != address(0)) {
            s.agent = address(0);
            emit AgentKeyRevoked(site_, key);
        }
        _notifyRollout(site_, address(0), true);
    }

    /// @inheritdoc ISiteRegistry
    function markDegraded(bytes32 site_) external onlyRole(GOVERNANCE_ROLE) {
        Site storage s = _knownSite(site_);
        uint8 from = s.status;
        if (from != uint8(SiteStatus.Operational)) {
            revert SiteRegistryIllegalTransition(site_, from, uint8(SiteStatus.Degraded));
        }
        _move(s, site_, from, uint8(SiteStatus.Degraded));
    }

    /// @inheritdoc ISiteRegistry
    function setStatus(bytes32[] calldata sites, uint8 to) external onlyRole(ROLLOUT_ROLE) {
        if (to == 0 || to > uint8(SiteStatus.Decommissioned)) revert SiteRegistryInvalidStatus(to);
        uint256 n = sites.length;
        for (uint256 i; i < n;) {
            bytes32 id = sites[i];
            Site storage s = _knownSite(id);
            uint8 from = s.status;
            if (_ROLLOUT_TRANSITIONS & (uint256(1) << (uint256(from) * 8 + to)) == 0) {
                revert SiteRegistryIllegalTransition(id, from, to);
            }
            _move(s, id, from, to);
            // Cannot overflow: i < n, a calldata length.
            unchecked {
                ++i;
            }
        }
    }

    /// @inheritdoc ISiteRegistry
    function initRollout(address rollout_) external onlyRole(REGISTRAR_ROLE) {
        if (rollout_ == address(0)) revert SiteRegistryZeroAddress();
        address current = _rollout;
        if (current != address(0)) revert SiteRegistryRolloutAlreadySet(current);
        _rollout = rollout_;
        _grantRole(ROLLOUT_ROLE, rollout_);
        emit RolloutSet(rollout_);
    }

    /// @inheritdoc ISiteRegistry
    function site(bytes32 id) external view returns (Site memory) {
        return _sites[id];
    }

    /// @inheritdoc ISiteRegistry
    function agentOf(bytes32 id) external view returns (address) {
        return _sites[id].agent;
    }

    /// @inheritdoc ISiteRegistry
    function count(uint8 tier, uint8 status) external view returns (uint256) {
        if (tier == 0 || tier > uint8(Tier.Edge) || status == 0 || status > uint8(SiteStatus.Decommissioned))
        {
            return 0;
        }
        return _counts[tier][status];
    }

    /// @inheritdoc ISiteRegistry
    function siteCount() external view returns (uint256) {
        return _siteCount;
    }

    /// @inheritdoc ISiteRegistry
    function rollout() external view returns (address) {
        return _rollout;
    }

    /// @dev Reverts with the contract's own error so every revert names this contract.
    function _checkRole(bytes32 role, address account) internal view override {
        if (!hasRole(role, account)) revert SiteRegistryUnauthorized(account, role);
    }

    /// @dev The storage record of a registered site; reverts for an unknown id.
    function _knownSite(bytes32 id) private view returns (Site storage s) {
        s = _sites[id];
        if (s.tier == 0) revert SiteRegistryUnknownSite(id);
    }

    /// @dev Moves a site between statuses, keeping both counters exact.
    function _move(Site storage s, bytes32 id, uint8 from, uint8 to) private {
        uint8 tier = s.tier;
        s.status = to;
        uint32[8] storage c = _counts[tier];
        // Cannot underflow: the site is counted under `from` since registration or its last move.
        unchecked {
            --c[from];
        }
        ++c[to];
        emit SiteStatusChanged(id, from, to);
    }

    /// @dev Pushes an agent-key change (or a decommissioning) to the Rollout's ledger.
    function _notifyRollout(bytes32 id, address key, bool decommissioned) private {
        address r = _rollout;
        if (r != address(0)) IRollout(r).siteUpdated(id, key, decommissioned);
    }

    /// @dev 1..31 bytes of [a-z0-9-], left-aligned, zero-padded, no byte after the first zero.
    function _isValidId(bytes32 id) private pure returns (bool) {
        if (id == 0 || uint8(uint256(id)) != 0) return false;
        uint256 word = uint256(id);
        uint256 i;
        // Cannot overflow: i < 31.
        unchecked {
            for (; i < 31; ++i) {
                uint256 c = (word >> (248 - 8 * i)) & 0xff;
                if (c == 0) break;
                bool ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d;
                if (!ok) return false;
            }
            // Bytes after the first zero must all be zero (left-aligned, reversible).
            return (word << (8 * i)) == 0;
        }
    }
}
