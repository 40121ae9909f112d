//! One module per `sankofa` subcommand: an `Args` struct and its `run`.

pub(crate) mod audit;
pub(crate) mod bench;
pub(crate) mod besu;
pub(crate) mod compile;
pub(crate) mod council;
pub(crate) mod deploy;
pub(crate) mod devnet;
pub(crate) mod execute;
pub(crate) mod genesis;
pub(crate) mod keys;
pub(crate) mod proposals;
pub(crate) mod propose;
pub(crate) mod queue;
pub(crate) mod sites;
pub(crate) mod status;
pub(crate) mod validators;
pub(crate) mod vote;
pub(crate) mod watch;
