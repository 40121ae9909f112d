//! Compiled Sankofa contract artifacts and their alloy `sol!` bindings.
