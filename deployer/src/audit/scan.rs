//! Reading the chain for an audit: every log of the audited contracts from the deployment block to
//! a pinned head, the transactions behind reports and approvals (signers recovered from their own
//! signatures), the receipts of every transaction seen, and the contracts' final state at the same
//! head. Nothing is judged here; `findings` does that from a [`Scan`].
//!
//! Logs are read in pages of at most `page_blocks` blocks (Besu's `--rpc-max-logs-range` defaults
//! to 5000), halving a page on a range error and never going below one block. Pages are recorded
//! so the caller can prove complete coverage without overlap ([`check_coverage`]).

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::{Duration, Instant},
};

use alloy::{
    consensus::Transaction as _,
    eips::{BlockId, eip2718::Encodable2718},
    primitives::{Address, B256, Bytes, keccak256},
    providers::Provider,
    rpc::types::{Filter, Log},
};
use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};

use super::events::{Contracts, Event, decode};
use crate::rpc::Chain;

/// Concurrent requests in flight (a local node answers each in well under a millisecond; more
/// only queues inside the node).
const CONCURRENCY: usize = 32;

/// One decoded log and where it sits in the chain.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) block: u64,
    pub(crate) timestamp: u64,
    pub(crate) tx: B256,
    pub(crate) log_index: u64,
    pub(crate) address: Address,
    pub(crate) event: Event,
    /// The raw topics and data, compared with the receipt's copy.
    pub(crate) topics: Vec<B256>,
    pub(crate) data: Bytes,
}

/// A transaction as the auditor checked it, independent of the node's `from` field.
#[derive(Debug, Clone)]
pub(crate) struct TxCheck {
    /// The signer recovered from the transaction's own signature (None: unrecoverable).
    pub(crate) signer: Option<Address>,
    /// keccak256 of the signed encoding equals the hash the log names.
    pub(crate) hash_ok: bool,
    pub(crate) to: Option<Address>,
    pub(crate) input: Bytes,
}

/// What a transaction's receipt says about the logs of the audited contracts.
#[derive(Debug, Clone)]
pub(crate) struct ReceiptLogs {
    pub(crate) success: bool,
    /// (log index, address, topics, data) of the audited contracts' logs.
    pub(crate) logs: Vec<(u64, Address, Vec<B256>, Bytes)>,
}

/// One site's record in the registry and ledger at the scan's head.
#[derive(Debug, Clone, Default)]
pub(crate) struct SiteState {
    pub(crate) tier: u8,
    pub(crate) phase: u8,
    pub(crate) status: u8,
    pub(crate) agent: Address,
    pub(crate) wave: u32,
    pub(crate) next_step: u16,
}

/// One wave as stored on chain.
#[derive(Debug, Clone)]
pub(crate) struct WaveState {
    pub(crate) phase: u8,
    pub(crate) plan_hash: B256,
    pub(crate) step_count: u16,
    pub(crate) not_before: u64,
    pub(crate) expiry: u64,
}

/// The contracts' state at the head the logs were read to.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChainState {
    pub(crate) site_count: u64,
    /// Keyed by the site ids the logs registered (plus none other: unknown ids read as tier 0).
    pub(crate) sites: BTreeMap<B256, SiteState>,
    /// (tier 1..3, status 1..7) -> count.
    pub(crate) counts: BTreeMap<(u8, u8), u64>,
    pub(crate) wave_count: u32,
    pub(crate) waves: BTreeMap<u32, WaveState>,
    pub(crate) current_phase: u8,
    pub(crate) validator_count: Option<u64>,
}

/// Everything an audit reads, pinned at one head block.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    pub(crate) contracts: Contracts,
    pub(crate) from_block: u64,
    pub(crate) to_block: u64,
    /// The pages actually read (inclusive ranges), in order.
    pub(crate) pages: Vec<(u64, u64)>,
    /// How often a page was halved after a range error.
    pub(crate) halvings: u32,
    /// Logs in chain order, exactly as the node returned them (duplicates kept for the checks).
    pub(crate) entries: Vec<Entry>,
    /// Logs the node returned outside the asked range or from another address.
    pub(crate) stray: Vec<(u64, B256, Address)>,
    pub(crate) txs: HashMap<B256, Option<TxCheck>>,
    pub(crate) receipts: HashMap<B256, Option<ReceiptLogs>>,
    pub(crate) state: ChainState,
    pub(crate) timings: Vec<(&'static str, Duration)>,
}

/// Scan options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanOptions {
    /// Largest eth_getLogs range in blocks.
    pub(crate) page_blocks: u64,
    /// Fetch report transactions of this site only (None: all).
    pub(crate) site: Option<B256>,
}

/// Reads everything from `from_block` to the current head.
pub(crate) async fn scan(
    chain: &Chain,
    contracts: Contracts,
    from_block: u64,
    opts: ScanOptions,
) -> anyhow::Result<Scan> {
    let p = &chain.provider;
    let mut timings = Vec::new();
    let t = Instant::now();
    let to_block = p.get_block_number().await.context("eth_blockNumber")?;
    if from_block > to_block {
        bail!(
            "the deployment block {from_block} is beyond the chain's head {to_block}; wrong --rpc-url or --deployment"
        );
    }
    let addresses = contracts.all();
    let (raw, pages, halvings) =
        read_logs(chain, &addresses, from_block, to_block, opts.page_blocks).await?;
    timings.push(("logs", t.elapsed()));

    let t = Instant::now();
    let mut stray = Vec::new();
    let mut kept = Vec::with_capacity(raw.len());
    for log in raw {
        let block = log.block_number.unwrap_or(u64::MAX);
        let tx = log.transaction_hash.unwrap_or_default();
        if block < from_block || block > to_block || !addresses.contains(&log.inner.address) {
            stray.push((block, tx, log.inner.address));
            continue;
        }
        kept.push(log);
    }
    let timestamps = block_timestamps(chain, &kept).await?;
    let mut entries: Vec<Entry> = kept
        .iter()
        .map(|log| {
            let block = log.block_number.unwrap_or_default();
            Entry {
                block,
                timestamp: log
                    .block_timestamp
                    .or_else(|| timestamps.get(&block).copied())
                    .unwrap_or_default(),
                tx: log.transaction_hash.unwrap_or_default(),
                log_index: log.log_index.unwrap_or_default(),
                address: log.inner.address,
                event: decode(&contracts, log),
                topics: log.inner.data.topics().to_vec(),
                data: log.inner.data.data.clone(),
            }
        })
        .collect();
    // Chain order; a stable sort keeps duplicates next to each other for the checks.
    entries.sort_by_key(|e| (e.block, e.log_index));
    timings.push(("decode", t.elapsed()));

    // Transactions, receipts and state are independent: fetch them side by side, on separate
    // tasks so signature recovery and JSON decoding use every core.
    let mut want_tx: BTreeSet<B256> = BTreeSet::new();
    for e in &entries {
        let report = matches!(
            e.event,
            Event::StepReported { .. } | Event::RollbackStepReported { .. }
        );
        let wanted = match (opts.site, e.event.site()) {
            (Some(only), Some(site)) => site == only || !report,
            _ => true,
        };
        if wanted && (report || e.event.is_governed()) {
            want_tx.insert(e.tx);
        }
    }
    let all_txs: BTreeSet<B256> = entries
        .iter()
        .filter(|e| match opts.site {
            Some(only) => e.event.site().is_none_or(|s| s == only),
            None => true,
        })
        .map(|e| e.tx)
        .collect();
    let registered: Vec<B256> = entries
        .iter()
        .filter_map(|e| match e.event {
            Event::SiteRegistered { site, .. } => Some(site),
            _ => None,
        })
        .filter(|s| opts.site.is_none_or(|only| only == *s))
        .collect();
    let t = Instant::now();
    let c = chain.clone();
    let txs_task = tokio::spawn(async move {
        let t = Instant::now();
        (fetch_txs(&c, want_tx).await, t.elapsed())
    });
    let (c, a) = (chain.clone(), addresses.clone());
    let receipts_task = tokio::spawn(async move {
        let t = Instant::now();
        (fetch_receipts(&c, all_txs, &a).await, t.elapsed())
    });
    let state_started = Instant::now();
    let state = read_state(chain, &contracts, to_block, registered).await?;
    timings.push(("state", state_started.elapsed()));
    let (txs, took) = txs_task
        .await
        .context("the transaction fetch task failed")?;
    let txs = txs?;
    timings.push(("transactions", took));
    let (receipts, took) = receipts_task
        .await
        .context("the receipt fetch task failed")?;
    let receipts = receipts?;
    timings.push(("receipts", took));
    timings.push(("fetch (parallel)", t.elapsed()));

    Ok(Scan {
        contracts,
        from_block,
        to_block,
        pages,
        halvings,
        entries,
        stray,
        txs,
        receipts,
        state,
        timings,
    })
}

/// Whether a JSON-RPC error asks for a smaller range (Besu -32005, geth/erigon/infura wording).
pub(crate) fn is_range_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("-32005")
        || m.contains("range")
        || m.contains("too many")
        || m.contains("limit exceeded")
        || m.contains("response size")
        || m.contains("query returned more than")
}

async fn read_logs(
    chain: &Chain,
    addresses: &[Address],
    from: u64,
    to: u64,
    max_page: u64,
) -> anyhow::Result<(Vec<Log>, Vec<(u64, u64)>, u32)> {
    let filter = Filter::new().address(addresses.to_vec());
    let mut out = Vec::new();
    let mut pages = Vec::new();
    let mut halvings = 0;
    let mut page = max_page.max(1);
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(page - 1));
        match chain
            .provider
            .get_logs(&filter.clone().from_block(start).to_block(end))
            .await
        {
            Ok(logs) => {
                out.extend(logs);
                pages.push((start, end));
                start = end + 1;
            }
            Err(e) if page > 1 && is_range_error(&e.to_string()) => {
                tracing::debug!(target: "deployer::audit", %e, page, "range error; halving the page");
                page = (page / 2).max(1);
                halvings += 1;
            }
            Err(e) => bail!("eth_getLogs for blocks {start}..={end}: {e}"),
        }
    }
    Ok((out, pages, halvings))
}

/// Whether `pages` cover `from..=to` exactly once, in order. Returns the first problem.
pub(crate) fn check_coverage(pages: &[(u64, u64)], from: u64, to: u64) -> Result<(), String> {
    let mut next = from;
    for &(a, b) in pages {
        if a != next {
            return Err(format!(
                "page {a}..={b} does not start at block {next} (gap or overlap)"
            ));
        }
        if b < a {
            return Err(format!("page {a}..={b} is empty"));
        }
        next = b + 1;
    }
    if next != to + 1 {
        return Err(format!(
            "pages end at block {}, not at the head {to}",
            next.saturating_sub(1)
        ));
    }
    Ok(())
}

/// Timestamps for the blocks whose logs came without `blockTimestamp` (older nodes, Besu).
async fn block_timestamps(chain: &Chain, logs: &[Log]) -> anyhow::Result<HashMap<u64, u64>> {
    let missing: Vec<u64> = logs
        .iter()
        .filter(|l| l.block_timestamp.is_none())
        .filter_map(|l| l.block_number)
        .collect::<BTreeSet<u64>>()
        .into_iter()
        .collect();
    let params: Vec<(alloy::primitives::U64, bool)> = missing
        .iter()
        .map(|n| (alloy::primitives::U64::from(*n), false))
        .collect();
    let blocks: Vec<Option<alloy::rpc::types::Block>> =
        batched(chain, "eth_getBlockByNumber", &params).await?;
    missing
        .into_iter()
        .zip(blocks)
        .map(|(n, b)| {
            let b = b.with_context(|| format!("the node has no block {n}"))?;
            Ok((n, b.header.timestamp))
        })
        .collect()
}

/// JSON-RPC batches of this many calls (Besu's default `--rpc-http-max-batch-size` is 1024).
const BATCH: usize = 100;

/// Calls `method(p)` for every `p` in batches, several batches in flight; answers in order.
async fn batched<P, R>(chain: &Chain, method: &'static str, params: &[P]) -> anyhow::Result<Vec<R>>
where
    P: alloy::rpc::json_rpc::RpcSend + Clone + std::fmt::Debug,
    R: alloy::rpc::json_rpc::RpcRecv,
{
    let chunks: Vec<Vec<P>> = params.chunks(BATCH).map(<[P]>::to_vec).collect();
    let answers: Vec<Vec<R>> = futures::stream::iter(chunks)
        .map(|chunk: Vec<P>| async move {
            let client = chain.provider.client();
            let mut batch = alloy::rpc::client::BatchRequest::new(client);
            let waiters = chunk
                .iter()
                .map(|p| batch.add_call::<_, R>(method, p))
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("building a {method} batch"))?;
            batch
                .send()
                .await
                .with_context(|| format!("{method} batch"))?;
            let mut out = Vec::with_capacity(chunk.len());
            for (w, h) in waiters.into_iter().zip(&chunk) {
                out.push(w.await.with_context(|| format!("{method} {h:?}"))?);
            }
            Ok::<_, anyhow::Error>(out)
        })
        .buffered(CONCURRENCY / 8)
        .try_collect()
        .await?;
    Ok(answers.into_iter().flatten().collect())
}

async fn fetch_txs(
    chain: &Chain,
    hashes: BTreeSet<B256>,
) -> anyhow::Result<HashMap<B256, Option<TxCheck>>> {
    let hashes: Vec<B256> = hashes.into_iter().collect();
    let params: Vec<(B256,)> = hashes.iter().map(|h| (*h,)).collect();
    let txs: Vec<Option<alloy::rpc::types::Transaction>> =
        batched(chain, "eth_getTransactionByHash", &params).await?;
    Ok(hashes
        .into_iter()
        .zip(txs)
        .map(|(hash, tx)| {
            let check = tx.map(|tx| {
                let envelope = tx.inner.inner();
                TxCheck {
                    // Recovered from the signature, not taken from the node's `from` field.
                    signer: recover(envelope.signature(), envelope.signature_hash()),
                    hash_ok: keccak256(envelope.encoded_2718()) == hash,
                    to: envelope.to(),
                    input: envelope.input().clone(),
                }
            });
            (hash, check)
        })
        .collect())
}

async fn fetch_receipts(
    chain: &Chain,
    hashes: BTreeSet<B256>,
    addresses: &[Address],
) -> anyhow::Result<HashMap<B256, Option<ReceiptLogs>>> {
    let hashes: Vec<B256> = hashes.into_iter().collect();
    let params: Vec<(B256,)> = hashes.iter().map(|h| (*h,)).collect();
    let receipts: Vec<Option<alloy::rpc::types::TransactionReceipt>> =
        batched(chain, "eth_getTransactionReceipt", &params).await?;
    Ok(hashes
        .into_iter()
        .zip(receipts)
        .map(|(hash, receipt)| {
            let logs = receipt.map(|r| ReceiptLogs {
                success: r.status(),
                logs: r
                    .inner
                    .logs()
                    .iter()
                    .filter(|l| addresses.contains(&l.inner.address))
                    .map(|l| {
                        (
                            l.log_index.unwrap_or_default(),
                            l.inner.address,
                            l.inner.data.topics().to_vec(),
                            l.inner.data.data.clone(),
                        )
                    })
                    .collect(),
            });
            (hash, logs)
        })
        .collect())
}

/// The address that signed `hash` (None for an invalid or high-s signature, which Ethereum
/// rejects since EIP-2). libsecp256k1 rather than k256: an audit recovers thousands of signers
/// and the C library is fast even in unoptimised builds.
pub(crate) fn recover(sig: &alloy::primitives::Signature, hash: B256) -> Option<Address> {
    use secp256k1::{
        Message, SECP256K1,
        ecdsa::{RecoverableSignature, RecoveryId},
    };
    if sig.normalize_s().is_some() {
        return None;
    }
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&sig.s().to_be_bytes::<32>());
    let id = RecoveryId::try_from(i32::from(sig.v())).ok()?;
    let sig = RecoverableSignature::from_compact(&compact, id).ok()?;
    let key = SECP256K1
        .recover_ecdsa(&Message::from_digest(hash.0), &sig)
        .ok()?;
    Some(Address::from_raw_public_key(
        &key.serialize_uncompressed()[1..],
    ))
}

async fn read_state(
    chain: &Chain,
    contracts: &Contracts,
    head: u64,
    sites: Vec<B256>,
) -> anyhow::Result<ChainState> {
    let p = &chain.provider;
    let at = BlockId::from(head);
    let reg = sankofa_abi::SiteRegistry::new(contracts.registry, p);
    let rollout = sankofa_abi::Rollout::new(contracts.rollout, p);
    let e = |what: &'static str| move |err| chain.explain_call(what, err);
    let site_count: u64 = reg
        .siteCount()
        .block(at)
        .call()
        .await
        .map_err(e("siteCount"))?
        .saturating_to();
    let keys: Vec<(u8, u8)> = (1..=3u8)
        .flat_map(|t| (1..=7u8).map(move |s| (t, s)))
        .collect();
    let counts: BTreeMap<(u8, u8), u64> =
        futures::future::try_join_all(keys.iter().map(|&(tier, status)| {
            let reg = &reg;
            async move {
                let n = reg
                    .count(tier, status)
                    .block(at)
                    .call()
                    .await
                    .map_err(e("count"))?;
                Ok::<_, anyhow::Error>(((tier, status), n.saturating_to::<u64>()))
            }
        }))
        .await?
        .into_iter()
        .collect();
    let wave_count = rollout
        .waveCount()
        .block(at)
        .call()
        .await
        .map_err(e("waveCount"))?;
    let current_phase = rollout
        .currentPhase()
        .block(at)
        .call()
        .await
        .map_err(e("currentPhase"))?;
    let waves = futures::stream::iter(1..=wave_count)
        .map(|id| {
            let rollout = &rollout;
            async move {
                let w = rollout.wave(id).block(at).call().await.map_err(e("wave"))?;
                Ok::<_, anyhow::Error>((
                    id,
                    WaveState {
                        phase: w.phase,
                        plan_hash: w.planHash,
                        step_count: w.stepCount,
                        not_before: w.notBefore,
                        expiry: w.expiry,
                    },
                ))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    // Two eth_calls per site, in JSON-RPC batches (hundreds of sites).
    let sites = site_states(chain, contracts, at, sites).await?;
    let validator_count = match contracts.validators {
        Some(v) => Some(
            sankofa_abi::ValidatorSet::new(v, p)
                .validatorCount()
                .block(at)
                .call()
                .await
                .map_err(e("validatorCount"))?
                .saturating_to(),
        ),
        None => None,
    };
    Ok(ChainState {
        site_count,
        sites,
        counts,
        wave_count,
        waves,
        current_phase,
        validator_count,
    })
}

/// `site(id)` and `deployment(id)` of every site at `at`, as raw batched eth_calls.
async fn site_states(
    chain: &Chain,
    contracts: &Contracts,
    at: BlockId,
    sites: Vec<B256>,
) -> anyhow::Result<BTreeMap<B256, SiteState>> {
    use alloy::{rpc::types::TransactionRequest, sol_types::SolCall};
    use sankofa_abi::{rollout::Rollout::deploymentCall, site_registry::SiteRegistry::siteCall};
    let call =
        |to: Address, data: Vec<u8>| (TransactionRequest::default().to(to).input(data.into()), at);
    let mut params = Vec::with_capacity(sites.len() * 2);
    for id in &sites {
        params.push(call(contracts.registry, siteCall { id: *id }.abi_encode()));
        params.push(call(
            contracts.rollout,
            deploymentCall { site: *id }.abi_encode(),
        ));
    }
    let answers: Vec<Bytes> = batched(chain, "eth_call", &params).await?;
    let mut out = BTreeMap::new();
    for (id, pair) in sites.into_iter().zip(answers.chunks(2)) {
        let [site, deployment] = pair else {
            bail!("the node answered an odd number of eth_calls");
        };
        let s =
            siteCall::abi_decode_returns(site).with_context(|| format!("decoding site({id})"))?;
        let d = deploymentCall::abi_decode_returns(deployment)
            .with_context(|| format!("decoding deployment({id})"))?;
        out.insert(
            id,
            SiteState {
                tier: s.tier,
                phase: s.phase,
                status: s.status,
                agent: s.agent,
                wave: d.waveId,
                next_step: d.nextStep,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_accepts_contiguous_pages_only() {
        assert!(check_coverage(&[(5, 9), (10, 10), (11, 20)], 5, 20).is_ok());
        assert!(check_coverage(&[(5, 9), (11, 20)], 5, 20).is_err(), "gap");
        assert!(
            check_coverage(&[(5, 10), (10, 20)], 5, 20).is_err(),
            "overlap"
        );
        assert!(check_coverage(&[(5, 9)], 5, 20).is_err(), "short");
        assert!(check_coverage(&[(6, 20)], 5, 20).is_err(), "late start");
    }

    #[test]
    fn recovers_the_signer_of_a_signed_hash() {
        use alloy::signers::{SignerSync, local::PrivateKeySigner};
        let key = PrivateKeySigner::random();
        let hash = keccak256(b"a report");
        let sig = key.sign_hash_sync(&hash).unwrap();
        assert_eq!(recover(&sig, hash), Some(key.address()));
        assert_ne!(recover(&sig, keccak256(b"another")), Some(key.address()));
    }

    #[test]
    fn range_errors_are_recognised() {
        assert!(is_range_error(
            "server returned an error response: error code -32005: Exceeds max range of 5000"
        ));
        assert!(is_range_error("block range too large"));
        assert!(!is_range_error("execution reverted"));
    }
}
