//! One module per `sankofa` subcommand: an `Args` struct and its `run`.

pub(crate) mod compile;
pub(crate) mod deploy;
pub(crate) mod devnet;
pub(crate) mod genesis;
pub(crate) mod sites;
