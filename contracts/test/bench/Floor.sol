// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ISiteRegistry} from "../../src/interfaces/ISiteRegistry.sol";

/// @title Floor
/// @notice The gas floor for the benchmark: the same operations as SiteRegistry, Rollout and the
///         Governor (registration, key binding, wave approval, step report, vote) with only the
///         mandatory storage writes and one event each (per site where the operation is per
///         site), and no checks at all. Never deploy it; it only gives `ours / floor` a denominator.
contract Floor {
    /// @dev SiteRegistry's one-slot record, with the open deployment's wave packed into the
    ///      same slot (the cheapest layout: an approval then writes one existing slot per site).
    struct Site {
        uint8 tier;
        uint8 phase;
        uint8 status;
        address agent;
        uint32 waveId;
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

    event AgentKeyBound(bytes32 indexed site, address indexed key, address previous);
    event WaveApproved(
        uint32 indexed waveId,
        uint8 indexed phase,
        bytes32 planHash,
        string planUri,
        uint64 notBefore,
        uint64 expiry,
        uint16 maxConcurrent,
        uint16 stepCount,
        uint256 siteCount
    );
    event DeploymentApproved(bytes32 indexed site, uint32 indexed waveId, bytes32 planHash);
    event VoteCast(address indexed voter, uint256 proposalId, uint8 support, uint256 weight, string reason);

    /// @dev The wave record an agent and the ledger need (same packing as Rollout's).
    struct Wave {
        uint8 phase;
        uint64 notBefore;
        uint64 expiry;
        uint16 maxConcurrent;
        uint16 stepCount;
        bytes32 planHash;
    }

    bytes32 private immutable _planHash;
    mapping(bytes32 id => Site) private _sites;
    mapping(bytes32 site => uint256 nextStep) private _nextStep;
    mapping(uint32 waveId => Wave) private _waves;
    uint32 private _waveCount;
    mapping(uint256 proposalId => mapping(address voter => bool)) private _hasVoted;
    mapping(uint256 proposalId => uint256[3] tally) private _tally;

    constructor(bytes32 planHash) {
        _planHash = planHash;
    }

    /// @notice One slot and one event per site.
    function registerSites(ISiteRegistry.SiteInput[] calldata sites) external {
        for (uint256 i; i < sites.length; ++i) {
            ISiteRegistry.SiteInput calldata s = sites[i];
            _sites[s.id] = Site({tier: s.tier, phase: s.phase, status: 1, agent: address(0), waveId: 0});
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

    /// @notice One slot update and one event.
    function bindAgentKey(bytes32 site, address key) external {
        _sites[site].agent = key;
        emit AgentKeyBound(site, key, address(0));
    }

    /// @notice The wave record and its event, then per site one status write, one deployment
    ///         record and one event (agents filter on it).
    function approveWave(
        uint8 phase,
        bytes32 planHash,
        string calldata planUri,
        bytes32[] calldata sites,
        uint64 notBefore,
        uint64 expiry,
        uint16 maxConcurrent,
        uint16 stepCount
    ) external returns (uint32 waveId) {
        waveId = ++_waveCount;
        _waves[waveId] = Wave(phase, notBefore, expiry, maxConcurrent, stepCount, planHash);
        _announce(waveId, planUri, sites.length);
        for (uint256 i; i < sites.length; ++i) {
            Site storage site = _sites[sites[i]];
            (site.status, site.waveId) = (2, waveId);
            emit DeploymentApproved(sites[i], waveId, planHash);
        }
    }

    /// @dev A separate frame for the event (the external function's arguments fill the stack).
    function _announce(uint32 waveId, string calldata planUri, uint256 siteCount) private {
        Wave storage w = _waves[waveId];
        emit WaveApproved(
            waveId,
            w.phase,
            w.planHash,
            planUri,
            w.notBefore,
            w.expiry,
            w.maxConcurrent,
            w.stepCount,
            siteCount
        );
    }

    /// @notice The voter's receipt, the tally, and the event.
    function castVote(uint256 proposalId, uint8 support) external returns (uint256) {
        _hasVoted[proposalId][msg.sender] = true;
        _tally[proposalId][support] += 1;
        emit VoteCast(msg.sender, proposalId, support, 1, "");
        return 1;
    }
}
