// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @dev The intrinsic cost of a plain call transaction.
uint256 constant TX_BASE = 21_000;

/// @dev Cancun calldata pricing: 4 per zero byte, 16 per non-zero byte.
function calldataGas(bytes memory data) pure returns (uint256 g) {
    for (uint256 i; i < data.length; ++i) {
        g += data[i] == 0 ? 4 : 16;
    }
}
