//! Transaction sending: nonces, fees, gas, signing, broadcast and receipts with timeouts.
//!
//! Nonces are leased from a local counter seeded from the node's pending count. A lease whose
//! transaction the node definitively rejected goes back to a free list and is reused first, so a
//! failed send leaves no permanent gap. An ambiguous failure (connection dropped after the request
//! may have reached the node) re-broadcasts the *same* signed bytes, never a second transaction
//! with that nonce. "nonce too low" means the nonce was used, by this transaction (then its
//! receipt exists) or by an outside one from the same key: the counter is re-synchronised and the
//! call is signed again with a fresh nonce. Every wait for a receipt has a timeout, after which
//! the receipt and the account nonce are checked again (replaced or dropped transactions).
//!
//! Callers that must survive restarts pass a [`TxJournal`]: it records each signed transaction
//! before it is broadcast, and [`TxSender::resume`] continues from such a record.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use serde::{Deserialize, Serialize};

use crate::endpoint::Endpoints;
use crate::error::{Error, Result, is_transport_failure, rpc_error_message};

/// How fees are set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeeMode {
    /// Legacy transactions with gas price 0 (Besu free-gas networks with `zeroBaseFee`).
    LegacyZero,
    /// Legacy transactions at the node's `eth_gasPrice`.
    Legacy,
    /// EIP-1559 transactions with the node's fee estimate.
    Eip1559,
}

/// Sender settings.
#[derive(Clone, Debug)]
pub struct TxConfig {
    /// The chain id the transactions are signed for (checked against the node at start).
    pub chain_id: u64,
    /// Fee mode.
    pub fee_mode: FeeMode,
    /// Gas limit used when `eth_estimateGas` fails (e.g. because an earlier report of ours is
    /// still pending, so the estimate runs against state where this one would revert).
    pub gas_limit_fallback: u64,
    /// Percent added to a successful estimate.
    pub gas_margin_percent: u64,
    /// How long one wait for a receipt lasts before the nonce is re-checked.
    pub receipt_timeout: Duration,
    /// Receipt polling interval.
    pub poll_interval: Duration,
    /// How many timed-out waits (each followed by a re-broadcast) before giving up.
    pub max_waits: u32,
}

impl TxConfig {
    /// Defaults for a chain id.
    pub fn new(chain_id: u64) -> Self {
        Self {
            chain_id,
            fee_mode: FeeMode::Eip1559,
            gas_limit_fallback: 500_000,
            gas_margin_percent: 25,
            receipt_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(250),
            max_waits: 4,
        }
    }
}

/// A signed transaction as recorded before broadcast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// Its nonce.
    pub nonce: u64,
    /// Its hash.
    pub hash: B256,
    /// The EIP-2718 encoded bytes, re-broadcast as they are.
    pub raw: Bytes,
    /// The call target.
    pub to: Address,
    /// The call data (to sign again with another nonce if this one was taken).
    pub input: Bytes,
}

/// Durable record of signed transactions (implemented by the agent's journal).
pub trait TxJournal: Sync {
    /// Records `tx` durably before it is broadcast.
    fn record(&self, tx: &SignedTx)
    -> impl Future<Output = std::result::Result<(), String>> + Send;
}

/// No journal: for callers that do not resume after restarts.
impl TxJournal for () {
    async fn record(&self, _tx: &SignedTx) -> std::result::Result<(), String> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Nonces {
    next: Option<u64>,
    free: BTreeSet<u64>,
}

enum Broadcast {
    Mined(Box<TransactionReceipt>),
    /// The nonce went to another transaction: sign again with a new one.
    NonceTaken,
}

/// Signs and sends transactions from one key.
#[derive(Debug, Clone)]
pub struct TxSender {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoints: Arc<Endpoints>,
    wallet: EthereumWallet,
    from: Address,
    cfg: TxConfig,
    nonces: tokio::sync::Mutex<Nonces>,
}

/// Checks that every reachable endpoint serves `expected`; unreachable ones are skipped with a
/// warning, but at least one must answer.
pub async fn check_chain_id(endpoints: &Endpoints, expected: u64) -> Result<()> {
    let mut answered = false;
    let mut last = String::new();
    for i in 0..endpoints.len() {
        let c = endpoints.nth(i);
        match c.provider.get_chain_id().await {
            Ok(actual) if actual == expected => answered = true,
            Ok(actual) => {
                return Err(Error::ChainIdMismatch {
                    endpoint: c.endpoint.name.clone(),
                    expected,
                    actual,
                });
            }
            Err(e) => {
                tracing::warn!(target: "chain::tx", endpoint = %c.endpoint.name, error = %e, "could not read the chain id");
                last = e.to_string();
            }
        }
    }
    if answered {
        Ok(())
    } else {
        Err(Error::AllEndpointsFailed {
            count: endpoints.len(),
            last,
        })
    }
}

impl TxSender {
    /// Creates a sender after checking the chain id against every reachable endpoint.
    pub async fn new(
        endpoints: Arc<Endpoints>,
        wallet: EthereumWallet,
        cfg: TxConfig,
    ) -> Result<Self> {
        check_chain_id(&endpoints, cfg.chain_id).await?;
        let from =
            alloy::network::NetworkWallet::<alloy::network::Ethereum>::default_signer_address(
                &wallet,
            );
        Ok(Self {
            inner: Arc::new(Inner {
                endpoints,
                wallet,
                from,
                cfg,
                nonces: tokio::sync::Mutex::new(Nonces::default()),
            }),
        })
    }

    /// The sending address.
    pub fn address(&self) -> Address {
        self.inner.from
    }

    /// The account's mined nonce (`latest`).
    pub async fn latest_nonce(&self) -> Result<u64> {
        let from = self.inner.from;
        self.inner
            .endpoints
            .call("eth_getTransactionCount", |p| async move {
                p.get_transaction_count(from).latest().await
            })
            .await
    }

    /// The receipt of `hash`, if mined.
    pub async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>> {
        self.inner
            .endpoints
            .call("eth_getTransactionReceipt", |p| async move {
                p.get_transaction_receipt(hash).await
            })
            .await
    }

    async fn lease(&self) -> Result<u64> {
        let mut n = self.inner.nonces.lock().await;
        if let Some(free) = n.free.pop_first() {
            return Ok(free);
        }
        let next = match n.next {
            Some(v) => v,
            None => {
                let from = self.inner.from;
                self.inner
                    .endpoints
                    .call("eth_getTransactionCount", |p| async move {
                        p.get_transaction_count(from).pending().await
                    })
                    .await?
            }
        };
        n.next = Some(next + 1);
        Ok(next)
    }

    async fn release(&self, nonce: u64) {
        let mut n = self.inner.nonces.lock().await;
        if n.next.is_some_and(|next| nonce < next) {
            n.free.insert(nonce);
        }
    }

    /// Forgets the local counter; the next lease asks the node.
    async fn resync(&self) {
        let mut n = self.inner.nonces.lock().await;
        tracing::info!(target: "chain::tx", "re-synchronising the nonce from the node");
        *n = Nonces::default();
    }

    async fn sign(&self, to: Address, input: Bytes, nonce: u64) -> Result<SignedTx> {
        let cfg = &self.inner.cfg;
        let mut req = TransactionRequest::default()
            .with_from(self.inner.from)
            .with_to(to)
            .with_input(input.clone())
            .with_nonce(nonce)
            .with_chain_id(cfg.chain_id);
        let est_req = req.clone();
        let gas = match self
            .inner
            .endpoints
            .call("eth_estimateGas", |p| {
                let r = est_req.clone();
                async move { p.estimate_gas(r).await }
            })
            .await
        {
            Ok(g) => g.saturating_mul(100 + cfg.gas_margin_percent) / 100,
            Err(e) => {
                tracing::debug!(target: "chain::tx", nonce, error = %e, fallback = cfg.gas_limit_fallback, "gas estimation failed; using the fallback limit");
                cfg.gas_limit_fallback
            }
        };
        req = req.with_gas_limit(gas);
        req = match cfg.fee_mode {
            FeeMode::LegacyZero => req.with_gas_price(0),
            FeeMode::Legacy => {
                let price = self
                    .inner
                    .endpoints
                    .call("eth_gasPrice", |p| async move { p.get_gas_price().await })
                    .await?;
                req.with_gas_price(price)
            }
            FeeMode::Eip1559 => {
                let fees = self
                    .inner
                    .endpoints
                    .call("eth_feeHistory", |p| async move {
                        p.estimate_eip1559_fees().await
                    })
                    .await?;
                req.with_max_fee_per_gas(fees.max_fee_per_gas)
                    .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
            }
        };
        let env: TxEnvelope = <TransactionRequest as NetworkTransactionBuilder<
            alloy::network::Ethereum,
        >>::build(req, &self.inner.wallet)
        .await
        .map_err(|e| Error::Signing {
            nonce,
            message: e.to_string(),
        })?;
        Ok(SignedTx {
            nonce,
            hash: *env.tx_hash(),
            raw: env.encoded_2718().into(),
            to,
            input,
        })
    }

    /// Signs, records, broadcasts and waits: returns the receipt of a *successful* transaction
    /// (a revert is [`Error::Reverted`]).
    pub async fn send(
        &self,
        to: Address,
        input: Bytes,
        journal: &impl TxJournal,
    ) -> Result<TransactionReceipt> {
        self.drive(None, to, input, journal).await
    }

    /// Continues a transaction recorded by a previous run: waits for / re-broadcasts it, or signs
    /// the same call again with a new nonce if its nonce went to another transaction.
    pub async fn resume(
        &self,
        prev: SignedTx,
        journal: &impl TxJournal,
    ) -> Result<TransactionReceipt> {
        let (to, input) = (prev.to, prev.input.clone());
        self.drive(Some(prev), to, input, journal).await
    }

    async fn drive(
        &self,
        mut prev: Option<SignedTx>,
        to: Address,
        input: Bytes,
        journal: &impl TxJournal,
    ) -> Result<TransactionReceipt> {
        loop {
            let signed = match prev.take() {
                Some(p) => p,
                None => {
                    let nonce = self.lease().await?;
                    let signed = match self.sign(to, input.clone(), nonce).await {
                        Ok(s) => s,
                        Err(e) => {
                            self.release(nonce).await;
                            return Err(e);
                        }
                    };
                    if let Err(msg) = journal.record(&signed).await {
                        self.release(nonce).await;
                        return Err(Error::Hook(msg));
                    }
                    signed
                }
            };
            match self.broadcast_and_wait(&signed).await {
                Ok(Broadcast::Mined(receipt)) => {
                    let receipt = *receipt;
                    if receipt.status() {
                        return Ok(receipt);
                    }
                    return Err(Error::Reverted {
                        tx_hash: signed.hash,
                        block: receipt.block_number.unwrap_or_default(),
                    });
                }
                Ok(Broadcast::NonceTaken) => {
                    tracing::warn!(target: "chain::tx", nonce = signed.nonce, tx = %signed.hash, "nonce taken by another transaction; signing again");
                    self.resync().await;
                }
                Err(e @ Error::TxRejected { .. }) => {
                    self.release(signed.nonce).await;
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn broadcast_and_wait(&self, s: &SignedTx) -> Result<Broadcast> {
        let cfg = &self.inner.cfg;
        let started = Instant::now();
        for _ in 0..cfg.max_waits.max(1) {
            match self.broadcast(s).await? {
                Some(Broadcast::NonceTaken) => {
                    // Ours may be the one that took it.
                    return Ok(match self.receipt(s.hash).await? {
                        Some(r) => Broadcast::Mined(Box::new(r)),
                        None => Broadcast::NonceTaken,
                    });
                }
                Some(b) => return Ok(b),
                None => {}
            }
            let deadline = Instant::now() + cfg.receipt_timeout;
            while Instant::now() < deadline {
                match self.receipt(s.hash).await {
                    Ok(Some(r)) => return Ok(Broadcast::Mined(Box::new(r))),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::debug!(target: "chain::tx", error = %e, "receipt lookup failed")
                    }
                }
                tokio::time::sleep(cfg.poll_interval).await;
            }
            let latest = self.latest_nonce().await?;
            if latest > s.nonce {
                // Mined by now, or replaced by another transaction with our nonce.
                return Ok(match self.receipt(s.hash).await? {
                    Some(r) => Broadcast::Mined(Box::new(r)),
                    None => Broadcast::NonceTaken,
                });
            }
            tracing::warn!(target: "chain::tx", nonce = s.nonce, tx = %s.hash, latest, "no receipt yet; re-broadcasting");
        }
        Err(Error::ReceiptTimeout {
            tx_hash: s.hash,
            nonce: s.nonce,
            waited_secs: started.elapsed().as_secs(),
        })
    }

    /// Broadcasts the signed bytes. `Ok(None)`: accepted (or already known); the caller waits.
    async fn broadcast(&self, s: &SignedTx) -> Result<Option<Broadcast>> {
        let mut delay = Duration::from_millis(100);
        let mut tries = 0u32;
        loop {
            let raw = s.raw.clone();
            let c = self.inner.endpoints.pick();
            let res = c.provider.send_raw_transaction(&raw).await;
            let source = match res {
                Ok(_) => return Ok(None),
                Err(e) => e,
            };
            if is_transport_failure(&source) {
                // Ambiguous: the node may have it. Same bytes again (same hash), maybe elsewhere.
                self.inner.endpoints.report_failure(c.index);
                tries += 1;
                tracing::warn!(target: "chain::tx", nonce = s.nonce, tx = %s.hash, error = %source, tries, "broadcast failed; retrying the same transaction");
                if tries >= 8 {
                    return Err(Error::Rpc {
                        endpoint: c.endpoint.name.clone(),
                        method: "eth_sendRawTransaction",
                        source,
                    });
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
            let (_, message) = rpc_error_message(&source).unwrap_or_default();
            let m = message.to_ascii_lowercase();
            if m.contains("already known")
                || m.contains("known transaction")
                || m.contains("already imported")
            {
                return Ok(None);
            }
            if m.contains("nonce too low")
                || m.contains("nonce is too low")
                || m.contains("replacement transaction")
            {
                return Ok(Some(Broadcast::NonceTaken));
            }
            return Err(Error::TxRejected {
                from: self.inner.from,
                nonce: s.nonce,
                message,
            });
        }
    }
}
