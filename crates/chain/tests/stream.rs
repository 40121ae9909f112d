//! The log stream against a real anvil: backfill + live, paging, reorgs, resets, failover.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use sankofa_chain::testing::TcpProxy;
use sankofa_chain::{LogStream, Start, StreamConfig, StreamEvent, StreamMode};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn poll() -> StreamMode {
    StreamMode::Poll {
        interval: Duration::from_millis(100),
        jitter: Duration::from_millis(20),
    }
}

struct Running {
    rx: mpsc::Receiver<StreamEvent>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<sankofa_chain::Result<()>>,
}

fn start(eps: std::sync::Arc<sankofa_chain::Endpoints>, cfg: StreamConfig, from: Start) -> Running {
    let (tx, rx) = mpsc::channel(64);
    let stop = CancellationToken::new();
    let task = tokio::spawn(LogStream::new(eps, cfg, from, tx).run(stop.clone()));
    Running { rx, stop, task }
}

impl Running {
    async fn finish(self) {
        self.stop.cancel();
        self.task.await.expect("join").expect("stream result");
    }
}

#[tokio::test]
async fn backfill_then_live_subscription_delivers_each_log_once_in_order() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    for s in 0..3 {
        emit(&anvil, emitter, 7, s).await;
        emit(&anvil, emitter, 8, 100 + s).await; // another site's log: filtered out
    }
    let eps = endpoints(&[("anvil", anvil.endpoint(), Some(anvil.ws_endpoint()))]);
    let mut cfg = StreamConfig::new(filter(emitter, 7));
    cfg.max_page = 2; // force several pages during the backfill
    let mut run = start(eps, cfg, Start::At(0));
    let first = collect_logs(&mut run.rx, 3).await;
    assert_eq!(seqs(&first), vec![0, 1, 2]);
    for s in 3..6 {
        emit(&anvil, emitter, 7, s).await;
    }
    let live = collect_logs(&mut run.rx, 3).await;
    assert_eq!(seqs(&live), vec![3, 4, 5]);
    assert!(
        first
            .iter()
            .chain(&live)
            .any(|e| matches!(e, StreamEvent::Ready))
    );
    // Checkpoints only move forward.
    let cps: Vec<u64> = first
        .iter()
        .chain(&live)
        .filter_map(|e| match e {
            StreamEvent::Checkpoint { block, .. } => Some(block.number),
            _ => None,
        })
        .collect();
    assert!(cps.windows(2).all(|w| w[0] < w[1]), "{cps:?}");
    run.finish().await;
}

#[tokio::test]
async fn restart_from_checkpoint_repeats_nothing() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    emit(&anvil, emitter, 7, 0).await;
    let eps = endpoints(&[("anvil", anvil.endpoint(), None)]);
    let cfg = StreamConfig {
        mode: poll(),
        ..StreamConfig::new(filter(emitter, 7))
    };
    let mut run = start(eps.clone(), cfg.clone(), Start::At(0));
    let evs = collect_logs(&mut run.rx, 1).await;
    let last = evs
        .iter()
        .rev()
        .find_map(|e| match e {
            StreamEvent::Checkpoint { block, .. } => Some(*block),
            _ => None,
        })
        .unwrap();
    run.finish().await;
    for s in 1..4 {
        emit(&anvil, emitter, 7, s).await;
    }
    let mut run = start(eps, cfg, Start::After(last));
    let evs = collect_logs(&mut run.rx, 3).await;
    assert_eq!(seqs(&evs), vec![1, 2, 3]);
    run.finish().await;
}

#[tokio::test]
async fn reorg_is_detected_from_hashes_in_both_modes() {
    for mode in [poll(), StreamMode::Subscribe] {
        let anvil = spawn_anvil(&[]);
        let emitter = deploy_emitter(&anvil).await;
        let eps = endpoints(&[("anvil", anvil.endpoint(), Some(anvil.ws_endpoint()))]);
        let cfg = StreamConfig {
            mode,
            ..StreamConfig::new(filter(emitter, 7))
        };
        let mut run = start(eps, cfg, Start::At(0));
        let n0 = emit(&anvil, emitter, 7, 0).await;
        let evs = collect_logs(&mut run.rx, 1).await;
        assert_eq!(seqs(&evs), vec![0]);
        // Replace the block holding log 0 with an empty one, then emit log 1.
        reorg(&anvil, 1).await;
        emit(&anvil, emitter, 7, 1).await;
        let mut saw_reorg = None;
        let mut got = Vec::new();
        while got.is_empty() {
            let ev = tokio::time::timeout(Duration::from_secs(30), run.rx.recv())
                .await
                .unwrap()
                .unwrap();
            if let StreamEvent::Reorg { ancestor } = &ev {
                saw_reorg = Some(ancestor.number);
            }
            got.extend(seq_of(&ev));
        }
        assert_eq!(got, vec![1], "{mode:?}");
        let ancestor = saw_reorg.unwrap_or_else(|| panic!("no reorg event in {mode:?}"));
        assert!(
            ancestor < n0,
            "ancestor {ancestor} must be below the replaced block {n0}"
        );
        run.finish().await;
    }
}

#[tokio::test]
async fn confirmation_depth_holds_logs_back() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    let eps = endpoints(&[("anvil", anvil.endpoint(), None)]);
    let cfg = StreamConfig {
        mode: poll(),
        confirmations: 3,
        ..StreamConfig::new(filter(emitter, 7))
    };
    let mut run = start(eps, cfg, Start::At(0));
    let n = emit(&anvil, emitter, 7, 0).await;
    // Wait for the stream to catch up to the safe head; the log must not be there yet.
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(30), run.rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            seq_of(&ev).is_none(),
            "log delivered before 3 confirmations"
        );
        if let StreamEvent::Checkpoint { block, .. } = ev
            && block.number + 3 >= n
        {
            break;
        }
    }
    mine(&anvil, 3).await;
    let evs = collect_logs(&mut run.rx, 1).await;
    assert_eq!(seqs(&evs), vec![0]);
    run.finish().await;
}

#[tokio::test]
async fn connection_resets_lose_and_repeat_nothing() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    let proxy = TcpProxy::start(anvil.endpoint_url().socket_addrs(|| None).unwrap()[0])
        .await
        .unwrap();
    let eps = endpoints(&[("proxied", proxy.http_url(), Some(proxy.ws_url()))]);
    let cfg = StreamConfig {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..StreamConfig::new(filter(emitter, 7))
    };
    let mut run = start(eps, cfg, Start::At(0));
    loop {
        if matches!(run.rx.recv().await, Some(StreamEvent::Ready)) {
            break;
        }
    }
    for s in 0..3 {
        proxy.reset_all();
        emit(&anvil, emitter, 7, s).await;
    }
    proxy.reset_all();
    let evs = collect_logs(&mut run.rx, 3).await;
    assert_eq!(seqs(&evs), vec![0, 1, 2]);
    run.finish().await;
}

#[tokio::test]
async fn failover_to_the_next_endpoint_and_back() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    let up = anvil.endpoint_url().socket_addrs(|| None).unwrap()[0];
    let primary = TcpProxy::start(up).await.unwrap();
    let secondary = TcpProxy::start(up).await.unwrap();
    primary.set_refusing(true);
    let eps = endpoints(&[
        ("primary", primary.http_url(), None),
        ("secondary", secondary.http_url(), None),
    ]);
    let cfg = StreamConfig {
        mode: poll(),
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..StreamConfig::new(filter(emitter, 7))
    };
    let mut run = start(eps, cfg, Start::At(0));
    emit(&anvil, emitter, 7, 0).await;
    assert_eq!(seqs(&collect_logs(&mut run.rx, 1).await), vec![0]);
    // Now the secondary dies and the primary comes back.
    primary.set_refusing(false);
    secondary.set_refusing(true);
    emit(&anvil, emitter, 7, 1).await;
    emit(&anvil, emitter, 7, 2).await;
    assert_eq!(seqs(&collect_logs(&mut run.rx, 2).await), vec![1, 2]);
    run.finish().await;
}

#[tokio::test]
async fn paging_halves_on_besu_range_errors_and_never_queries_past_the_head() {
    use sankofa_chain::testing::RangeLimitedRpc;
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    // 60 blocks with a log every 7th.
    let mut want = Vec::new();
    for s in 0..60 {
        if s % 7 == 0 {
            emit(&anvil, emitter, 7, s).await;
            want.push(s);
        } else {
            mine(&anvil, 1).await;
        }
    }
    let shim = RangeLimitedRpc::start(anvil.endpoint(), 10).await.unwrap();
    let eps = endpoints(&[("besu-like", shim.http_url(), None)]);
    let cfg = StreamConfig {
        mode: poll(),
        max_page: 5000,
        ..StreamConfig::new(filter(emitter, 7))
    };
    let mut run = start(eps, cfg, Start::At(0));
    let evs = collect_logs(&mut run.rx, want.len()).await;
    assert_eq!(seqs(&evs), want);
    let seen = shim.seen();
    assert!(
        seen.iter().any(|s| s.rejected),
        "the limit was hit: {seen:?}"
    );
    let served: Vec<_> = seen.iter().filter(|s| !s.rejected).collect();
    assert!(
        served.iter().all(|s| s.to - s.from < 10),
        "served pages fit the limit"
    );
    assert!(
        seen.iter().all(|s| s.to <= s.head),
        "queried past the head: {seen:?}"
    );
    // Pages after the halving tile the chain without gaps or overlaps.
    for w in served.windows(2) {
        assert_eq!(w[1].from, w[0].to + 1, "{served:?}");
    }
    println!(
        "{} eth_getLogs ({} rejected) for {} blocks",
        seen.len(),
        seen.len() - served.len(),
        served.last().map_or(0, |s| s.to)
    );
    run.finish().await;
}

#[tokio::test]
async fn a_silently_dead_subscription_is_replaced_by_the_liveness_check() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    let ws_proxy = TcpProxy::start(anvil.endpoint_url().socket_addrs(|| None).unwrap()[0])
        .await
        .unwrap();
    // HTTP direct, WebSocket through the proxy that will go half-dead.
    let eps = endpoints(&[("anvil", anvil.endpoint(), Some(ws_proxy.ws_url()))]);
    let cfg = StreamConfig {
        block_time: Duration::from_millis(200),
        liveness_periods: 3,
        connect_timeout: Duration::from_secs(1),
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..StreamConfig::new(filter(emitter, 7))
    };
    let mut run = start(eps, cfg, Start::At(0));
    loop {
        if matches!(run.rx.recv().await, Some(StreamEvent::Ready)) {
            break;
        }
    }
    ws_proxy.set_blackhole(true);
    emit(&anvil, emitter, 7, 0).await;
    // The connection stays open but nothing gets through; only a fresh subscription helps.
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws_proxy.set_blackhole(false);
    let evs = collect_logs(&mut run.rx, 1).await;
    assert_eq!(seqs(&evs), vec![0]);
    run.finish().await;
}
