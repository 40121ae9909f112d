//! sankofa: the Sankofa deployer CLI.
fn main() {}
