//! Chain access for Sankofa: providers with failover, the log stream, transaction sending.
