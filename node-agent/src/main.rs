//! sankofa-agent: the Sankofa node agent.
fn main() {}
