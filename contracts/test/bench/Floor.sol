// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ISiteRegistry} from "../../src/interfaces/ISiteRegistry.sol";

/// @title Floor
/// @notice The gas floor for the benchmark: the same registration and step-report operations as
///         SiteRegistry and Rollout with only the mandatory storage writes and one event each,
///         and no checks at all. Never deploy it; it only gives `ours / floor` a denominator.
contract Floor {
    /// @dev The same one-slot record as SiteRegistry.
    struct Site {
        uint8 tier;
        uint8 phase;
        uint8 status;
        address agent;
    }

    event SiteRegistered(
        bytes32 indexed site, uint8 tier, uint8 phase, bytes32 indexed parent, bytes32 recordHash
    );
    event StepReported(
        bytes32 indexed site,
        uint32 indexed waveId,
        uint16 indexed step,
        uint8 status,
        bytes32 planHash,
        bytes32 outputDigest
    );

    bytes32 private immutable _planHash;
    mapping(bytes32 id => Site) private _sites;
    mapping(bytes32 site => uint256 nextStep) private _nextStep;

    constructor(bytes32 planHash) {
        _planHash = planHash;
    }

    /// @notice One slot and one event per site.
    function registerSites(ISiteRegistry.SiteInput[] calldata sites) external {
        for (uint256 i; i < sites.length; ++i) {
            ISiteRegistry.SiteInput calldata s = sites[i];
            _sites[s.id] = Site({tier: s.tier, phase: s.phase, status: 1, agent: address(0)});
            emit SiteRegistered(s.id, s.tier, s.phase, s.parent, s.recordHash);
        }
    }

    /// @notice One slot update and one event per step.
    function reportStep(bytes32 site, uint32 waveId, uint16 step, uint8 status, bytes32 outputDigest)
        external
    {
        _nextStep[site] = uint256(step) + 1;
        emit StepReported(site, waveId, step, status, _planHash, outputDigest);
    }
}
