//! One module per `sankofa` subcommand: an `Args` struct and its `run`.

pub(crate) mod compile;
