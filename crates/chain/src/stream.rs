//! The log stream: backfill + live (subscription or polling), paging, de-duplication, reorgs.
//!
//! # Model
//! The stream owns a cursor (the last block whose matching logs were all delivered, as number +
//! hash). Everything it emits comes from `eth_getLogs` over HTTP for the range just past the
//! cursor up to the *safe head* (head minus the confirmation depth), checked against block
//! hashes fetched around the query, so nothing can be lost across reconnects, failovers or
//! restarts: a new session simply continues from the cursor.
//!
//! In [`StreamMode::Subscribe`] the stream subscribes to `newHeads` and to the filtered logs over
//! WebSocket *before* backfilling. A subscription never backfills (it ignores `fromBlock`), so
//! heads only trigger a sync round; live logs are buffered and merged with the queried ones,
//! de-duplicated by (block hash, tx hash, log index), and dropped when their block is not
//! canonical. A liveness check forces a fresh subscription when no head arrived for
//! `liveness_periods` block periods although the chain advanced (probed over HTTP).
//! [`StreamMode::Poll`] uses HTTP only, with jitter, for nodes that limit WebSocket connections.
//!
//! Reorgs are detected from hashes, not from `removed: true` logs (anvil does not send them):
//! the first new block's parent hash must equal the cursor's hash, the head chain must be
//! parent-hash continuous (subscription mode) and the cursor's hash is re-checked when a poll
//! finds no new block. On a reorg the stream walks its recent checkpoints back to the newest one
//! still canonical, emits [`StreamEvent::Reorg`] and continues from there.
//!
//! The consumer persists [`StreamEvent::Checkpoint`] only after handling everything before it
//! durably; after a restart it passes that checkpoint back as the start.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::providers::{Provider, ProviderBuilder, RootProvider, WsConnect};
use alloy::rpc::types::{Filter, Log};
use futures::StreamExt;
use rand::Rng;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cursor::BlockRef;
use crate::endpoint::{Connected, Endpoints, rpc_err};
use crate::error::{Error, Result, rpc_error_message};
use crate::paging::{PageSize, is_range_error};

/// How the stream learns about new blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamMode {
    /// WebSocket `eth_subscribe` (newHeads + logs); endpoints without a ws url are polled.
    Subscribe,
    /// HTTP polling every `interval`, plus a random delay of up to `jitter`.
    Poll {
        /// Base interval.
        interval: Duration,
        /// Maximum random extra delay, so many agents do not poll in lockstep.
        jitter: Duration,
    },
}

/// Where a stream starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Continue after a persisted cursor.
    After(BlockRef),
    /// Start at this block number (e.g. the block the contracts were deployed in).
    At(u64),
}

/// Stream settings.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// Address and topics; any block range in it is ignored.
    pub filter: Filter,
    /// Blocks to wait behind the head before delivering (0 on QBFT, which has instant finality).
    pub confirmations: u64,
    /// Maximum blocks per `eth_getLogs` (halved on range errors).
    pub max_page: u64,
    /// Subscription or polling.
    pub mode: StreamMode,
    /// The chain's block period, for the liveness check.
    pub block_time: Duration,
    /// Block periods without a head (while the chain advanced) before resubscribing.
    pub liveness_periods: u32,
    /// How far behind the oldest remembered checkpoint to rewind after an unexpectedly deep reorg.
    pub reorg_window: u64,
    /// Time allowed for the WebSocket connection and subscriptions to be set up.
    pub connect_timeout: Duration,
    /// First reconnect delay; doubles up to `backoff_max`, with jitter.
    pub backoff_initial: Duration,
    /// Maximum reconnect delay.
    pub backoff_max: Duration,
}

impl StreamConfig {
    /// Defaults for a filter: subscribe, no confirmations, 5000-block pages.
    pub fn new(filter: Filter) -> Self {
        Self {
            filter,
            confirmations: 0,
            max_page: 5000,
            mode: StreamMode::Subscribe,
            block_time: Duration::from_secs(2),
            liveness_periods: 5,
            reorg_window: 64,
            connect_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// What the stream delivers, in chain order.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// A matching log from a canonical block at or below the safe head.
    Log(Box<Log>),
    /// Every matching log up to and including `block` has been delivered.
    Checkpoint {
        /// The new cursor.
        block: BlockRef,
        /// The chain head when it was reached (for lag metrics).
        head: u64,
    },
    /// Blocks after `ancestor` were replaced; logs delivered from them may be gone and the same
    /// events may come again from the new blocks. The cursor is now `ancestor`.
    Reorg {
        /// The newest block still canonical.
        ancestor: BlockRef,
    },
    /// The first backfill finished and the stream is live (sent once per stream).
    Ready,
}

type LogKey = (B256, B256, u64);

fn log_key(log: &Log) -> Option<(u64, LogKey)> {
    Some((
        log.block_number?,
        (log.block_hash?, log.transaction_hash?, log.log_index?),
    ))
}

#[derive(Clone, Copy, Debug)]
struct Hdr {
    number: u64,
    hash: B256,
    parent: B256,
}

/// The log stream service. Build it, then `run` it on a task.
#[derive(Debug)]
pub struct LogStream {
    endpoints: std::sync::Arc<Endpoints>,
    cfg: StreamConfig,
    start: Start,
    /// None until the start block is resolved; `Some(None)` = before genesis.
    cursor: Option<Option<BlockRef>>,
    history: VecDeque<BlockRef>,
    live: BTreeMap<u64, Vec<Log>>,
    delivered: BTreeMap<u64, HashSet<LogKey>>,
    page: PageSize,
    last_head: Option<BlockRef>,
    head_seen: u64,
    verify_cursor: bool,
    ready_sent: bool,
    out: mpsc::Sender<StreamEvent>,
}

const HISTORY: usize = 128;

impl LogStream {
    /// Creates the stream; events go to `out` (a bounded channel: a slow consumer slows the
    /// stream down instead of growing memory).
    pub fn new(
        endpoints: std::sync::Arc<Endpoints>,
        cfg: StreamConfig,
        start: Start,
        out: mpsc::Sender<StreamEvent>,
    ) -> Self {
        let page = PageSize::new(cfg.max_page);
        Self {
            endpoints,
            cfg,
            start,
            cursor: None,
            history: VecDeque::new(),
            live: BTreeMap::new(),
            delivered: BTreeMap::new(),
            page,
            last_head: None,
            head_seen: 0,
            verify_cursor: true,
            ready_sent: false,
            out,
        }
    }

    /// Runs until `shutdown` or a non-retryable error; reconnects with backoff otherwise.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<()> {
        let mut delay = self.cfg.backoff_initial;
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            let c = self.endpoints.pick();
            let started = Instant::now();
            match self.session(&c, &shutdown).await {
                Ok(()) => return Ok(()),
                Err(Error::Shutdown) => return Ok(()),
                Err(e) if !e.is_retryable() => return Err(e),
                Err(e) => {
                    if e.is_endpoint_failure() {
                        self.endpoints.report_failure(c.index);
                    }
                    // A session that lived a while was healthy: start the backoff over.
                    if started.elapsed() > self.cfg.backoff_max {
                        delay = self.cfg.backoff_initial;
                    }
                    let wait = jittered(delay, delay / 2);
                    tracing::warn!(target: "chain::stream", endpoint = %c.endpoint.name, error = %e, retry_in_ms = wait.as_millis() as u64, "log stream session ended");
                    delay = (delay * 2).min(self.cfg.backoff_max);
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    async fn session(&mut self, c: &Connected, shutdown: &CancellationToken) -> Result<()> {
        self.resolve_start(c).await?;
        // A new session may be on another endpoint or after a gap: re-check the cursor.
        self.verify_cursor = true;
        self.last_head = None;
        let ws = match (self.cfg.mode, &c.endpoint.ws) {
            (StreamMode::Subscribe, Some(ws)) => Some(ws.clone()),
            _ => None,
        };
        let Some(ws) = ws else {
            return self.poll_loop(c, shutdown).await;
        };
        let setup = async {
            let ws_provider: RootProvider = ProviderBuilder::new()
                .disable_recommended_fillers()
                // We reconnect ourselves (and re-derive state from the cursor); a transparent
                // reconnect inside the transport would hide gaps from the liveness check.
                .connect_ws(WsConnect::new(ws.as_str()).with_max_retries(0))
                .await
                .map_err(rpc_err(c, "ws connect"))?;
            let heads = ws_provider
                .subscribe_blocks()
                .await
                .map_err(rpc_err(c, "eth_subscribe newHeads"))?
                .into_stream();
            let logs = ws_provider
                .subscribe_logs(&self.cfg.filter)
                .await
                .map_err(rpc_err(c, "eth_subscribe logs"))?
                .into_stream();
            Ok::<_, Error>((ws_provider, heads, logs))
        };
        let (_ws_provider, mut heads, mut logs) =
            tokio::time::timeout(self.cfg.connect_timeout, setup)
                .await
                .map_err(|_| Error::SubscriptionEnded {
                    endpoint: c.endpoint.name.clone(),
                })??;
        // Subscribed first, so nothing falls between the backfill and the live stream.
        self.sync(c, shutdown).await?;
        self.mark_ready(shutdown).await?;
        let mut last_head_at = Instant::now();
        let mut tick = tokio::time::interval(self.cfg.block_time.max(Duration::from_millis(100)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stale_after = self.cfg.block_time * self.cfg.liveness_periods.max(1);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                head = heads.next() => {
                    let Some(h) = head else {
                        return Err(Error::SubscriptionEnded { endpoint: c.endpoint.name.clone() });
                    };
                    last_head_at = Instant::now();
                    let new = BlockRef { number: h.number, hash: h.hash };
                    let contiguous = self
                        .last_head
                        .is_some_and(|p| new.number == p.number + 1 && h.parent_hash == p.hash);
                    if !contiguous {
                        self.verify_cursor = true;
                    }
                    self.last_head = Some(new);
                    tracing::debug!(target: "chain::stream", head = new.number, contiguous, "new head");
                    self.sync(c, shutdown).await?;
                }
                log = logs.next() => {
                    let Some(log) = log else {
                        return Err(Error::SubscriptionEnded { endpoint: c.endpoint.name.clone() });
                    };
                    self.buffer_live(log);
                }
                _ = tick.tick() => {
                    if last_head_at.elapsed() >= stale_after {
                        let head = c.provider.get_block_number().await.map_err(rpc_err(c, "eth_blockNumber"))?;
                        if head > self.head_seen {
                            return Err(Error::Stale { endpoint: c.endpoint.name.clone(), secs: last_head_at.elapsed().as_secs() });
                        }
                        // The chain is idle (e.g. anvil automine), not the subscription.
                        last_head_at = Instant::now();
                    }
                }
            }
        }
    }

    async fn poll_loop(&mut self, c: &Connected, shutdown: &CancellationToken) -> Result<()> {
        let (interval, jitter) = match self.cfg.mode {
            StreamMode::Poll { interval, jitter } => (interval, jitter),
            StreamMode::Subscribe => (self.cfg.block_time, self.cfg.block_time / 4),
        };
        let since = Instant::now();
        loop {
            // Polling cannot see head continuity, so the cursor's hash is checked every round.
            self.verify_cursor = true;
            self.sync(c, shutdown).await?;
            self.mark_ready(shutdown).await?;
            if c.index != 0 && since.elapsed() >= self.endpoints.failback_after() {
                // End the session so `run` picks the preferred endpoint again.
                return Err(Error::SubscriptionEnded {
                    endpoint: c.endpoint.name.clone(),
                });
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(jittered(interval, jitter)) => {}
            }
        }
    }

    async fn mark_ready(&mut self, shutdown: &CancellationToken) -> Result<()> {
        if !self.ready_sent {
            self.emit(StreamEvent::Ready, shutdown).await?;
            self.ready_sent = true;
        }
        Ok(())
    }

    fn buffer_live(&mut self, log: Log) {
        if log.removed {
            // We detect reorgs from hashes; a removal notice changes nothing here.
            return;
        }
        let Some((number, _)) = log_key(&log) else {
            return;
        };
        let cursor_number = self.cursor.flatten().map(|c| c.number);
        if cursor_number.is_some_and(|c| number <= c) {
            return;
        }
        self.live.entry(number).or_default().push(log);
    }

    async fn resolve_start(&mut self, c: &Connected) -> Result<()> {
        if self.cursor.is_some() {
            return Ok(());
        }
        let cursor = match self.start {
            Start::After(b) => Some(b),
            Start::At(0) => None,
            Start::At(n) => {
                let h = header(c, n - 1).await?;
                Some(BlockRef {
                    number: h.number,
                    hash: h.hash,
                })
            }
        };
        if let Some(b) = cursor {
            self.history.push_back(b);
        }
        self.cursor = Some(cursor);
        Ok(())
    }

    fn cursor(&self) -> Option<BlockRef> {
        self.cursor.flatten()
    }

    fn next_block(&self) -> u64 {
        self.cursor().map_or(0, |c| c.number + 1)
    }

    /// Delivers everything from the cursor up to the safe head of endpoint `c`.
    async fn sync(&mut self, c: &Connected, shutdown: &CancellationToken) -> Result<()> {
        let head = c
            .provider
            .get_block_number()
            .await
            .map_err(rpc_err(c, "eth_blockNumber"))?;
        self.head_seen = self.head_seen.max(head);
        let safe = head.saturating_sub(self.cfg.confirmations);
        if let Some(cur) = self.cursor() {
            if head < cur.number {
                // A lagging replica: it does not have our cursor yet.
                return Err(Error::MissingBlock {
                    endpoint: c.endpoint.name.clone(),
                    number: cur.number,
                });
            }
            if self.verify_cursor {
                let h = header(c, cur.number).await?;
                if h.hash != cur.hash {
                    self.reorg(c, shutdown).await?;
                }
                self.verify_cursor = false;
            }
        }
        while self.next_block() <= safe {
            if shutdown.is_cancelled() {
                return Err(Error::Shutdown);
            }
            self.sync_page(c, safe, head, shutdown).await?;
        }
        Ok(())
    }

    async fn sync_page(
        &mut self,
        c: &Connected,
        safe: u64,
        head: u64,
        shutdown: &CancellationToken,
    ) -> Result<()> {
        let from = self.next_block();
        let (end, end_before, logs) = loop {
            let end = safe.min(from.saturating_add(self.page.current() - 1));
            let end_before = header(c, end).await?;
            let f = self.cfg.filter.clone().from_block(from).to_block(end);
            match c.provider.get_logs(&f).await {
                Ok(logs) => {
                    self.page.success();
                    break (end, end_before, logs);
                }
                Err(source) => {
                    if let Some((code, message)) = rpc_error_message(&source)
                        && is_range_error(code, &message)
                    {
                        if self.page.shrink() {
                            tracing::debug!(target: "chain::stream", from, end, page = self.page.current(), %message, "log range rejected; halving");
                            continue;
                        }
                        return Err(Error::LogRangeStuck {
                            endpoint: c.endpoint.name.clone(),
                            block: from,
                            message,
                        });
                    }
                    return Err(Error::Rpc {
                        endpoint: c.endpoint.name.clone(),
                        method: "eth_getLogs",
                        source,
                    });
                }
            }
        };
        // The block at `end` kept its hash across the query, so the query saw one chain.
        let end_after = header(c, end).await?;
        if end_after.hash != end_before.hash {
            tracing::debug!(target: "chain::stream", end, "chain changed during eth_getLogs; retrying the page");
            return Ok(());
        }
        // The range must continue our cursor.
        let first = if from == end {
            end_after
        } else {
            header(c, from).await?
        };
        if let Some(cur) = self.cursor()
            && first.parent != cur.hash
        {
            return self.reorg(c, shutdown).await;
        }
        // Every log must come from the canonical block of its number.
        let mut canonical: BTreeMap<u64, B256> = BTreeMap::new();
        canonical.insert(first.number, first.hash);
        canonical.insert(end_after.number, end_after.hash);
        for log in &logs {
            let Some((n, (bh, _, _))) = log_key(log) else {
                continue;
            };
            let want = match canonical.get(&n) {
                Some(h) => *h,
                None => {
                    let h = header(c, n).await?.hash;
                    canonical.insert(n, h);
                    h
                }
            };
            if want != bh {
                tracing::debug!(target: "chain::stream", block = n, "log from a replaced block; retrying the page");
                return Ok(());
            }
        }
        // Merge the buffered live logs of this range (only those from canonical blocks).
        let mut merged: Vec<Log> = logs.into_iter().filter(|l| !l.removed).collect();
        let live_keys: Vec<u64> = self.live.range(from..=end).map(|(k, _)| *k).collect();
        for n in live_keys {
            for log in self.live.remove(&n).unwrap_or_default() {
                if canonical
                    .get(&n)
                    .is_some_and(|h| Some(*h) == log.block_hash)
                {
                    merged.push(log);
                }
            }
        }
        merged.sort_by_key(|l| (l.block_number, l.log_index));
        for log in merged {
            let Some((n, key)) = log_key(&log) else {
                tracing::warn!(target: "chain::stream", "log without block/tx/index fields; skipped");
                continue;
            };
            if !self.delivered.entry(n).or_default().insert(key) {
                continue;
            }
            self.emit(StreamEvent::Log(Box::new(log)), shutdown).await?;
        }
        let block = BlockRef {
            number: end,
            hash: end_after.hash,
        };
        self.emit(StreamEvent::Checkpoint { block, head }, shutdown)
            .await?;
        self.advance(block);
        Ok(())
    }

    fn advance(&mut self, block: BlockRef) {
        self.cursor = Some(Some(block));
        self.history.push_back(block);
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        let keep_from = block.number.saturating_sub(self.cfg.reorg_window);
        self.delivered = self.delivered.split_off(&keep_from);
        self.live = self.live.split_off(&(block.number + 1));
    }

    async fn reorg(&mut self, c: &Connected, shutdown: &CancellationToken) -> Result<()> {
        let mut ancestor = None;
        for r in self.history.iter().rev() {
            if header(c, r.number).await?.hash == r.hash {
                ancestor = Some(*r);
                break;
            }
        }
        let ancestor = match ancestor {
            Some(a) => a,
            None => {
                let oldest = self.history.front().map_or(0, |b| b.number);
                let n = oldest.saturating_sub(self.cfg.reorg_window);
                let h = header(c, n).await?;
                BlockRef {
                    number: h.number,
                    hash: h.hash,
                }
            }
        };
        tracing::warn!(target: "chain::stream", from = ?self.cursor().map(|c| c.number), to = ancestor.number, "reorg detected; rewinding");
        self.history.retain(|b| b.number < ancestor.number);
        self.emit(StreamEvent::Reorg { ancestor }, shutdown).await?;
        self.advance(ancestor);
        self.last_head = None;
        Ok(())
    }

    async fn emit(&self, ev: StreamEvent, shutdown: &CancellationToken) -> Result<()> {
        tokio::select! {
            _ = shutdown.cancelled() => Err(Error::Shutdown),
            r = self.out.send(ev) => r.map_err(|_| Error::ChannelClosed),
        }
    }
}

async fn header(c: &Connected, n: u64) -> Result<Hdr> {
    let b = c
        .provider
        .get_block_by_number(n.into())
        .await
        .map_err(rpc_err(c, "eth_getBlockByNumber"))?
        .ok_or_else(|| Error::MissingBlock {
            endpoint: c.endpoint.name.clone(),
            number: n,
        })?;
    Ok(Hdr {
        number: n,
        hash: b.header.hash,
        parent: b.header.parent_hash,
    })
}

/// `base` plus a uniformly random extra of up to `jitter`.
pub fn jittered(base: Duration, jitter: Duration) -> Duration {
    let extra = if jitter.is_zero() {
        0
    } else {
        rand::rng().random_range(0..=jitter.as_millis() as u64)
    };
    base + Duration::from_millis(extra)
}
