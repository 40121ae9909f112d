//! The Sankofa node agent.
//!
//! It runs on every host of a site as a systemd service, watches the Rollout contract for its
//! site, runs the approved step plan and reports each step on-chain, signed with its HSM key.
//!
//! ```text
//!  LogStream ──StreamEvent──▶ Planner ──journal + Notify──▶ Runner ──▶ executor (step processes)
//!  (sankofa-chain)  bounded    (events, cursor)             │
//!                                                           └──▶ Reporter ──▶ SigningGuard ──▶ TxSender (HSM signer)
//! ```
//! - [`config`]: the config file (documented in `node-agent/README.md`).
//! - [`plan`], [`fetch`]: step plans, their hash, fetching and verifying them.
//! - [`journal`]: the durable record that makes restarts safe.
//! - [`events`], [`runner`], [`executor`], [`reporter`]: the services.
//! - [`metrics`], [`sdnotify`]: Prometheus/health and systemd integration.
//!
//! Feature `mockhsm`: the in-process yubihsm MockHsm signer backend (debug builds only).

pub mod chainview;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod events;
pub mod executor;
pub mod fetch;
pub mod journal;
pub mod metrics;
pub mod plan;
pub mod preflight;
pub mod reporter;
pub mod runner;
pub mod sdnotify;
pub mod service;
