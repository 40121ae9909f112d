//! A counting TCP proxy in front of the node's HTTP port: agents in polling mode talk to it, so
//! the bench can count their JSON-RPC requests (each `"method"` in the client-to-node bytes;
//! a batch counts each call) without any support from the node or the agent.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::Context;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinSet,
};

const NEEDLE: &[u8] = b"\"method\"";

/// The running proxy; dropping it stops accepting and closes every connection.
#[derive(Debug)]
pub(crate) struct CountingProxy {
    /// Where agents connect (`http://` + this).
    pub(crate) addr: SocketAddr,
    requests: Arc<AtomicU64>,
    _tasks: JoinSet<()>,
}

impl CountingProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the counting proxy")?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicU64::new(0));
        let count = requests.clone();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let count = count.clone();
                conns.spawn(async move {
                    if let Ok(node) = TcpStream::connect(upstream).await {
                        forward(client, node, count).await;
                    }
                });
            }
        });
        Ok(Self {
            addr,
            requests,
            _tasks: tasks,
        })
    }

    /// JSON-RPC calls forwarded so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

async fn forward(client: TcpStream, node: TcpStream, count: Arc<AtomicU64>) {
    let _ = client.set_nodelay(true);
    let _ = node.set_nodelay(true);
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut node_rx, mut node_tx) = node.into_split();
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut counter = Counter::default();
        loop {
            match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    count.fetch_add(counter.feed(&buf[..n]), Ordering::Relaxed);
                    if node_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = node_tx.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut node_rx, &mut client_tx).await;
        let _ = client_tx.shutdown().await;
    };
    tokio::join!(up, down);
}

/// Counts `"method"` in a byte stream that arrives in arbitrary chunks.
#[derive(Debug, Default)]
struct Counter {
    /// The previous chunk's last bytes, so a needle split across chunks is found once.
    carry: Vec<u8>,
}

impl Counter {
    fn feed(&mut self, chunk: &[u8]) -> u64 {
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        let mut found = 0;
        let mut i = 0;
        while i + NEEDLE.len() <= window.len() {
            if &window[i..i + NEEDLE.len()] == NEEDLE {
                found += 1;
                i += NEEDLE.len();
            } else {
                i += 1;
            }
        }
        // Keep fewer bytes than the needle: a whole needle in the carry was already counted.
        let keep = (NEEDLE.len() - 1).min(window.len());
        self.carry = window[window.len() - keep..].to_vec();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_across_chunk_boundaries_once() {
        let body = br#"[{"jsonrpc":"2.0","method":"eth_blockNumber"},{"method":"eth_getLogs"}]"#;
        for split in 0..body.len() {
            let mut c = Counter::default();
            let n = c.feed(&body[..split]) + c.feed(&body[split..]);
            assert_eq!(n, 2, "split at {split}");
        }
    }
}
