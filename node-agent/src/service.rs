//! Wiring of the agent's services:
//!
//! ```text
//!  LogStream ──StreamEvent──▶ Planner ──journal + Notify──▶ Runner ──▶ executor (step processes)
//!  (chain)     bounded mpsc    (cursor)                      │
//!                                                            └──▶ Reporter ──▶ guard ──▶ TxSender (signer)
//! ```
//! Each service is `run(self, shutdown)` on one `TaskTracker`; a critical service ending with an
//! error cancels the others and the process exits non-zero with that reason.

use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::rpc::types::Filter;
use anyhow::{Context, bail};
use sankofa_abi::ids::Tier;
use sankofa_chain::{Endpoints, LogStream, Start, StreamConfig, TxConfig, TxSender};
use sankofa_keys::SigningGuard;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chainview::ChainView;
use crate::config::Config;
use crate::error::Error;
use crate::events::Planner;
use crate::journal::Journal;
use crate::metrics::{self, Metrics};
use crate::preflight;
use crate::reporter::Reporter;
use crate::runner::Runner;
use crate::sdnotify::Notifier;

/// Runs the agent until SIGTERM/SIGINT or a critical failure.
pub async fn run(cfg: Config) -> anyhow::Result<()> {
    let cfg = Arc::new(cfg);
    let notifier = Arc::new(Notifier::from_env());
    preflight::prepare_state_dir(&cfg)?;
    let journal = Arc::new(Journal::open(&cfg.journal_path())?);
    let guard = Arc::new(SigningGuard::open(cfg.guard_path()).with_context(
        || "opening the signing guard (is another agent running on this state_dir?)",
    )?);
    let metrics = Arc::new(Metrics::default());
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone(), notifier.clone());

    let endpoints = Arc::new(Endpoints::new(
        cfg.endpoints.clone(),
        cfg.request_timeout,
        cfg.failback,
    )?);
    // The same file checks as check-config, so a missing file is named by its key.
    preflight::check_signer_files(&cfg.path, &cfg.signer)?;
    let signer = cfg.signer.open().await.context("opening the signer")?;
    let address = signer.address();
    let wallet = EthereumWallet::from(signer);
    let tx_cfg = TxConfig {
        fee_mode: cfg.fee_mode,
        gas_limit_fallback: cfg.gas_limit_fallback,
        receipt_timeout: cfg.receipt_timeout,
        ..TxConfig::new(cfg.chain_id)
    };
    let sender = connect_sender(endpoints.clone(), wallet, tx_cfg, &shutdown).await?;
    let chain = ChainView::new(endpoints.clone(), cfg.rollout, cfg.registry, cfg.site_id);
    check_contracts(&cfg, &chain).await?;
    bind_journal_to_chain(&cfg, &chain, &journal).await?;
    let (tier, _status, bound) = chain
        .site()
        .await
        .context("reading the site from the SiteRegistry")?;
    let tier = match Tier::try_from(tier) {
        Ok(t) => t.as_str().to_owned(),
        Err(_) => bail!(
            "site {} is not registered in the SiteRegistry at {}; run `sankofa sites import` first",
            cfg.site_name,
            cfg.registry
        ),
    };
    if bound != address {
        tracing::warn!(target: "agent", site = %cfg.site_name, key = %address, bound = %bound, "this key is not the site's bound agent key yet; reports will be refused until governance binds it");
    }
    tracing::info!(target: "agent", site = %cfg.site_name, tier, key = %address, chain_id = cfg.chain_id, "starting");

    let start = match journal.cursor()? {
        Some(c) => Start::After(c),
        None => Start::At(cfg.from_block),
    };
    let stream_cfg = StreamConfig {
        confirmations: cfg.confirmations,
        max_page: cfg.max_logs_range,
        mode: cfg.mode,
        block_time: cfg.block_time,
        liveness_periods: cfg.liveness_periods,
        connect_timeout: cfg.request_timeout,
        ..StreamConfig::new(Filter::new().address(cfg.rollout).topic1(cfg.site_id))
    };
    let (ev_tx, ev_rx) = mpsc::channel(256);
    let (ready_tx, ready_rx) = watch::channel(false);
    let wake = Arc::new(Notify::new());
    let tracker = TaskTracker::new();
    let (fail_tx, mut fail_rx) = mpsc::channel::<String>(4);

    let critical =
        |name: &'static str,
         fut: std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>| {
            let (fail, sd) = (fail_tx.clone(), shutdown.clone());
            tracker.spawn(async move {
                match fut.await {
                    Ok(()) if sd.is_cancelled() => {}
                    Ok(()) => {
                        let _ = fail.send(format!("{name} stopped unexpectedly")).await;
                    }
                    Err(e) => {
                        let _ = fail.send(format!("{name}: {e}")).await;
                    }
                }
                sd.cancel();
            });
        };
    let stream = LogStream::new(endpoints.clone(), stream_cfg, start, ev_tx);
    let sd = shutdown.clone();
    critical(
        "log stream",
        Box::pin(async move { stream.run(sd).await.map_err(|e| e.to_string()) }),
    );
    let planner = Planner {
        rx: ev_rx,
        journal: journal.clone(),
        wake: wake.clone(),
        ready: ready_tx,
        metrics: metrics.clone(),
        notifier: notifier.clone(),
    };
    let sd = shutdown.clone();
    critical(
        "planner",
        Box::pin(async move { planner.run(sd).await.map_err(|e| e.to_string()) }),
    );
    let reporter = Reporter {
        site: cfg.site_id,
        chain: chain.clone(),
        rollout: cfg.rollout,
        sender,
        guard,
        journal: journal.clone(),
        metrics: metrics.clone(),
    };
    let runner = Runner {
        cfg: cfg.clone(),
        journal: journal.clone(),
        chain,
        reporter,
        wake,
        ready: ready_rx.clone(),
        metrics: metrics.clone(),
        tier,
        plans: Default::default(),
    };
    let sd = shutdown.clone();
    critical(
        "runner",
        Box::pin(async move { runner.run(sd).await.map_err(|e| e.to_string()) }),
    );
    if let Some(addr) = cfg.metrics {
        let listener = metrics::bind(addr)
            .await
            .with_context(|| format!("binding the metrics listener on {addr}"))?;
        let stale = cfg.block_time.max(Duration::from_secs(10)) * 6;
        let fut = metrics::serve(
            listener,
            metrics.clone(),
            cfg.site_name.clone(),
            stale,
            shutdown.clone(),
        );
        tracker.spawn(async move {
            if let Err(e) = fut.await {
                tracing::warn!(target: "agent", error = %e, "metrics server stopped");
            }
        });
    }
    {
        let (mut ready, n, sd) = (ready_rx, notifier.clone(), shutdown.clone());
        tracker.spawn(async move {
            tokio::select! {
                _ = sd.cancelled() => {}
                r = ready.wait_for(|r| *r) => if r.is_ok() {
                    tracing::info!(target: "agent", "event stream live; ready");
                    n.notify("READY=1\nSTATUS=watching the chain");
                }
            }
        });
    }
    tracker.close();
    drop(fail_tx);
    let reason = tokio::select! {
        r = fail_rx.recv() => r,
        _ = shutdown.cancelled() => None,
    };
    shutdown.cancel();
    // The runner lets a running step finish within the grace period.
    let budget = cfg.grace_period + Duration::from_secs(10);
    if tokio::time::timeout(budget, tracker.wait()).await.is_err() {
        tracing::warn!(target: "agent", "tasks did not stop within the grace period");
    }
    let reason = reason.or_else(|| fail_rx.try_recv().ok());
    match reason {
        Some(r) => bail!("stopped: {r}"),
        None => {
            tracing::info!(target: "agent", "stopped");
            Ok(())
        }
    }
}

/// Refuses contract addresses that cannot be the Sankofa contracts: no code at `chain.rollout` or
/// `chain.registry`, or a registry bound to another Rollout. Without this, a log filter on an
/// empty address matches nothing and the agent idles forever looking healthy.
/// Refuses a state_dir whose journal belongs to another chain or Rollout (see
/// [`Journal::bind_chain`]); binds a new journal to this one.
async fn bind_journal_to_chain(
    cfg: &Config,
    chain: &ChainView,
    journal: &Journal,
) -> anyhow::Result<()> {
    // Genesis alone is not enough: a Besu network reset with the same genesis file has the
    // same block 0. The block the deployment starts at differs (its timestamp, its txs).
    let genesis = chain
        .block_hash(0)
        .await
        .context("reading the genesis block (which chain this is)")?;
    let start = chain.block_hash(cfg.from_block).await.with_context(|| {
        format!(
            "reading block {} (`chain.from_block`, the deployment's first block)",
            cfg.from_block
        )
    })?;
    let identity = format!(
        "chain {} genesis {genesis:#x} block {} {start:#x} rollout {:#x}",
        cfg.chain_id, cfg.from_block, cfg.rollout
    );
    if let Some(recorded) = journal.bind_chain(&identity)? {
        return Err(Error::Config {
            path: cfg.path.clone(),
            key: "state_dir".into(),
            message: format!(
                "{} holds the journal of another chain or deployment ({recorded}); this one is \
                 {identity}. Its waves and steps do not apply here: point state_dir at an empty \
                 directory for this deployment (or remove the old one if that chain is gone)",
                cfg.state_dir.display()
            ),
        }
        .into());
    }
    Ok(())
}

async fn check_contracts(cfg: &Config, chain: &ChainView) -> anyhow::Result<()> {
    let bad = |key: &str, message: String| Error::Config {
        path: cfg.path.clone(),
        key: key.to_owned(),
        message,
    };
    for (key, address) in [
        ("chain.rollout", cfg.rollout),
        ("chain.registry", cfg.registry),
    ] {
        let has_code = chain
            .has_code(address)
            .await
            .with_context(|| format!("reading the code at `{key}` = {address}"))?;
        if !has_code {
            return Err(bad(
                key,
                format!(
                    "no contract code at {address} on chain {}; \
                     set it to the address the deployment printed (or `sankofa` recorded)",
                    cfg.chain_id
                ),
            )
            .into());
        }
    }
    let bound = chain.registry_rollout().await.map_err(|e| {
        bad(
            "chain.registry",
            format!(
                "{} does not answer SiteRegistry.rollout() ({e}); is it the SiteRegistry?",
                cfg.registry
            ),
        )
    })?;
    if bound != cfg.rollout {
        return Err(bad(
            "chain.rollout",
            format!(
                "{} is not the Rollout of the SiteRegistry at {} (it is bound to {bound}); \
                 take both addresses from the same deployment",
                cfg.rollout, cfg.registry
            ),
        )
        .into());
    }
    Ok(())
}

async fn connect_sender(
    endpoints: Arc<Endpoints>,
    wallet: EthereumWallet,
    cfg: TxConfig,
    shutdown: &CancellationToken,
) -> anyhow::Result<TxSender> {
    let mut delay = Duration::from_millis(500);
    loop {
        match TxSender::new(endpoints.clone(), wallet.clone(), cfg.clone()).await {
            Ok(s) => return Ok(s),
            Err(e) if e.is_retryable() => {
                tracing::warn!(target: "agent", error = %e, "chain not reachable yet; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => bail!("shutdown before the chain was reachable"),
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            Err(e) => return Err(e).context("checking the chain"),
        }
    }
}

fn spawn_signal_handler(shutdown: CancellationToken, notifier: Arc<Notifier>) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!(target: "agent", "cannot install signal handlers");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            _ = shutdown.cancelled() => return,
        }
        tracing::info!(target: "agent", "stop requested; letting a running step finish");
        notifier.notify("STOPPING=1");
        shutdown.cancel();
    });
}
