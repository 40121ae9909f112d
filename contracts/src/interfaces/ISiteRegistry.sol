// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @notice Site tiers. The ABI carries them as `uint8`; the enum names the values.
enum Tier {
    None,
    Core,
    Regional,
    Edge
}

/// @notice Site lifecycle. The ABI carries it as `uint8`; legal transitions are listed on
///         {ISiteRegistry} and enforced by {SiteRegistry}.
enum SiteStatus {
    None,
    Planned,
    Approved,
    Deploying,
    Operational,
    Degraded,
    RolledBack,
    Decommissioned
}

/// @title ISiteRegistry
/// @notice The sites of the rollout plan: tier, phase, parent, the governed agent key and a status
///         lifecycle with exact per-(tier, status) counters, so phase criteria are O(1) reads.
/// @dev Legal transitions: Planned->Approved; Degraded|RolledBack->Approved; Approved->Planned;
///      Approved->Deploying; Deploying->Operational; Deploying->Degraded; Operational->Degraded;
///      Approved|Deploying|Degraded|Operational->RolledBack; any but Decommissioned->Decommissioned.
///      The Rollout drives every transition except ->Decommissioned (governance only);
///      Operational->Degraded is open to both governance (`markDegraded`) and the Rollout (a failed
///      rollback step).
interface ISiteRegistry {
    /// @notice One row of the inventory as registered on chain.
    /// @param id the site name, UTF-8, left-aligned and zero-padded (1..31 bytes of [a-z0-9-])
    /// @param tier 1 Core, 2 Regional, 3 Edge
    /// @param phase rollout phase 1..3
    /// @param parent zero for a core site; a registered core (regional) or regional (edge) site
    /// @param recordHash keccak256 of the site's CSV line (exact bytes, no line ending)
    struct SiteInput {
        bytes32 id;
        uint8 tier;
        uint8 phase;
        bytes32 parent;
        bytes32 recordHash;
    }

    /// @notice A registered site; exactly one storage slot. `tier == 0` means unknown.
    struct Site {
        uint8 tier;
        uint8 phase;
        uint8 status;
        address agent;
    }

    /// @notice A site was registered; the inventory detail lives here, not in storage.
    event SiteRegistered(
        bytes32 indexed site, uint8 tier, uint8 phase, bytes32 indexed parent, bytes32 recordHash
    );
    /// @notice Governance bound `key` as the site's agent key (`previous` non-zero: a rotation).
    event AgentKeyBound(bytes32 indexed site, address indexed key, address previous);
    /// @notice The site's agent key was revoked (by governance, or by decommissioning the site).
    event AgentKeyRevoked(bytes32 indexed site, address indexed key);
    /// @notice The site moved from status `from` to status `to`.
    event SiteStatusChanged(bytes32 indexed site, uint8 from, uint8 to);
    /// @notice The Rollout contract was wired in and holds ROLLOUT_ROLE.
    event RolloutSet(address indexed rollout);

    /// @notice The caller lacks `role`.
    error SiteRegistryUnauthorized(address account, bytes32 role);
    /// @notice A zero address was given where an account is required.
    error SiteRegistryZeroAddress();
    /// @notice `registerSites` was called with no sites.
    error SiteRegistryEmptyBatch();
    /// @notice `registerSites` was called with more than `max` sites.
    error SiteRegistryBatchTooLarge(uint256 size, uint256 max);
    /// @notice The id is zero, longer than 31 bytes, not left-aligned, or has a byte outside [a-z0-9-].
    error SiteRegistryInvalidId(bytes32 site);
    /// @notice The site is already registered.
    error SiteRegistryDuplicateSite(bytes32 site);
    /// @notice The tier is not 1..3.
    error SiteRegistryInvalidTier(bytes32 site, uint8 tier);
    /// @notice The phase is not 1..3.
    error SiteRegistryInvalidPhase(bytes32 site, uint8 phase);
    /// @notice A core site was given a parent (core sites have none).
    error SiteRegistryUnexpectedParent(bytes32 site, bytes32 parent);
    /// @notice The parent is zero or not registered.
    error SiteRegistryUnknownParent(bytes32 site, bytes32 parent);
    /// @notice The parent is not one tier above the site (regional->core, edge->regional).
    error SiteRegistryWrongParentTier(bytes32 site, bytes32 parent);
    /// @notice The parent is rolled out in a later phase than the site.
    error SiteRegistryParentPhaseLater(bytes32 site, bytes32 parent, uint8 parentPhase, uint8 phase);
    /// @notice The site is not registered.
    error SiteRegistryUnknownSite(bytes32 site);
    /// @notice The site is decommissioned; nothing about it may change any more.
    error SiteRegistrySiteDecommissioned(bytes32 site);
    /// @notice The site already has exactly this agent key.
    error SiteRegistryKeyUnchanged(bytes32 site, address key);
    /// @notice The site has no agent key to revoke.
    error SiteRegistryKeyNotBound(bytes32 site);
    /// @notice `from -> to` is not a legal transition for this caller.
    error SiteRegistryIllegalTransition(bytes32 site, uint8 from, uint8 to);
    /// @notice The status value is outside 1..7.
    error SiteRegistryInvalidStatus(uint8 status);
    /// @notice `initRollout` was already called.
    error SiteRegistryRolloutAlreadySet(address rollout);

    /// @notice Registers 1..100 sites (REGISTRAR_ROLE). Parents may be earlier in the same batch.
    function registerSites(SiteInput[] calldata sites) external;
    /// @notice Binds (or rotates) the site's agent key (GOVERNANCE_ROLE).
    function bindAgentKey(bytes32 site, address key) external;
    /// @notice Revokes the site's agent key (GOVERNANCE_ROLE); its reports revert from then on.
    function revokeAgentKey(bytes32 site) external;
    /// @notice Decommissions the site and revokes its key (GOVERNANCE_ROLE).
    function decommission(bytes32 site) external;
    /// @notice Operational -> Degraded (GOVERNANCE_ROLE).
    function markDegraded(bytes32 site) external;
    /// @notice Moves every site to status `to` (ROLLOUT_ROLE); each transition must be legal.
    function setStatus(bytes32[] calldata sites, uint8 to) external;
    /// @notice Grants ROLLOUT_ROLE to `rollout`, once (REGISTRAR_ROLE).
    function initRollout(address rollout) external;

    /// @notice The site record (`tier == 0`: unknown).
    function site(bytes32 id) external view returns (Site memory);
    /// @notice The site's bound agent key (zero: unbound or revoked).
    function agentOf(bytes32 id) external view returns (address);
    /// @notice How many sites of `tier` are in `status` (0 for values out of range).
    function count(uint8 tier, uint8 status) external view returns (uint256);
    /// @notice How many sites are registered.
    function siteCount() external view returns (uint256);
    /// @notice The Rollout wired in by `initRollout` (zero before).
    function rollout() external view returns (address);
}
