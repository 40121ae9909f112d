//! Fault injection for tests: a TCP proxy between a client and a node.
//!
//! It can reset every open connection (a network blip), refuse new ones (an endpoint going
//! down), and break the connection carrying the next request that contains a given string,
//! either before forwarding it (the request never reached the node) or after forwarding it
//! (the node acted but the answer was lost).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// When a matching request breaks its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Break {
    /// Close before forwarding the request.
    BeforeForward,
    /// Forward the request, then close before any answer goes back.
    AfterForward,
}

#[derive(Debug)]
struct Rule {
    needle: Vec<u8>,
    remaining: u32,
    mode: Break,
}

#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    generation: Mutex<CancellationToken>,
    refusing: AtomicBool,
    rules: Mutex<Vec<Rule>>,
    fired: std::sync::atomic::AtomicU32,
}

/// A TCP proxy on 127.0.0.1 with fault injection. Dropping it stops it.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.reset_all();
    }
}

impl TcpProxy {
    /// Starts a proxy to `upstream` on an ephemeral local port.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            generation: Mutex::new(CancellationToken::new()),
            refusing: AtomicBool::new(false),
            rules: Mutex::new(Vec::new()),
            fired: std::sync::atomic::AtomicU32::new(0),
        });
        let stop = CancellationToken::new();
        let (s, st) = (shared.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = st.cancelled() => return,
                    a = listener.accept() => a,
                };
                let Ok((client, _)) = accepted else { continue };
                if s.refusing.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let token = s
                    .generation
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                tokio::spawn(pipe(client, s.clone(), token));
            }
        });
        Ok(Self { addr, shared, stop })
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` url of the proxy.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://` url of the proxy.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Closes every open connection.
    pub fn reset_all(&self) {
        let mut g = self
            .shared
            .generation
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        g.cancel();
        *g = CancellationToken::new();
    }

    /// While true, new connections are closed at once and open ones are reset.
    pub fn set_refusing(&self, refusing: bool) {
        self.shared.refusing.store(refusing, Ordering::SeqCst);
        if refusing {
            self.reset_all();
        }
    }

    /// How many connections a `break_next` rule has broken so far.
    pub fn fired(&self) -> u32 {
        self.shared.fired.load(Ordering::SeqCst)
    }

    /// Breaks the connections carrying the next `count` requests that contain `needle`.
    pub fn break_next(&self, needle: &str, count: u32, mode: Break) {
        self.shared
            .rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Rule {
                needle: needle.as_bytes().to_vec(),
                remaining: count,
                mode,
            });
    }
}

fn matching_rule(shared: &Shared, chunk: &[u8]) -> Option<Break> {
    let mut rules = shared.rules.lock().unwrap_or_else(|p| p.into_inner());
    for r in rules.iter_mut() {
        if r.remaining > 0
            && chunk
                .windows(r.needle.len())
                .any(|w| w == r.needle.as_slice())
        {
            r.remaining -= 1;
            shared.fired.fetch_add(1, Ordering::SeqCst);
            return Some(r.mode);
        }
    }
    None
}

async fn pipe(mut client: TcpStream, shared: Arc<Shared>, token: CancellationToken) {
    let Ok(mut upstream) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    let (mut cr, mut cw) = client.split();
    let (mut ur, mut uw) = upstream.split();
    let swallow = AtomicBool::new(false);
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = cr.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            match matching_rule(&shared, &buf[..n]) {
                Some(Break::BeforeForward) => return,
                Some(Break::AfterForward) => {
                    swallow.store(true, Ordering::SeqCst);
                    let _ = uw.write_all(&buf[..n]).await;
                    // Give the node time to act on it before the connection goes.
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    return;
                }
                None => {
                    if uw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = ur.read(&mut buf).await.unwrap_or(0);
            if swallow.load(Ordering::SeqCst) {
                return;
            }
            if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    // Whichever side ends (or a reset) closes both directions.
    tokio::select! {
        _ = token.cancelled() => {}
        _ = up => {}
        _ = down => {}
    }
}
