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
    blackhole: AtomicBool,
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
            blackhole: AtomicBool::new(false),
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

    /// While true, every open or new connection silently swallows all data in both directions
    /// and keeps doing so for its whole life (a half-dead link: open, but nothing gets through).
    pub fn set_blackhole(&self, on: bool) {
        self.shared.blackhole.store(on, Ordering::SeqCst);
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
    let dead = AtomicBool::new(false);
    let is_dead = || {
        if shared.blackhole.load(Ordering::SeqCst) {
            dead.store(true, Ordering::SeqCst);
        }
        dead.load(Ordering::SeqCst)
    };
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = cr.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            if is_dead() {
                continue;
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
            if n > 0 && is_dead() {
                continue;
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

/// An HTTP JSON-RPC forwarder that rejects `eth_getLogs` over more than `max_range` blocks with
/// Besu's error -32005 (as `--rpc-max-logs-range` does) and records every `eth_getLogs` range it
/// served together with the head at that moment.
#[derive(Debug)]
pub struct RangeLimitedRpc {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<GetLogsSeen>>>,
    stop: CancellationToken,
}

/// One `eth_getLogs` as the shim saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetLogsSeen {
    /// `fromBlock`.
    pub from: u64,
    /// `toBlock`.
    pub to: u64,
    /// The upstream head when the request arrived.
    pub head: u64,
    /// Whether it was rejected as too wide.
    pub rejected: bool,
}

impl Drop for RangeLimitedRpc {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn hex_u64(v: &serde_json::Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

impl RangeLimitedRpc {
    /// Starts the shim in front of the HTTP endpoint `upstream`.
    pub async fn start(upstream: String, max_range: u64) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let client = alloy::transports::http::reqwest::Client::new();
        let (st, sn) = (stop.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = st.cancelled() => return,
                    a = listener.accept() => a,
                };
                let Ok((sock, _)) = accepted else { continue };
                let (client, upstream, seen) = (client.clone(), upstream.clone(), sn.clone());
                tokio::spawn(async move {
                    let _ = serve_conn(sock, client, upstream, max_range, seen).await;
                });
            }
        });
        Ok(Self { addr, seen, stop })
    }

    /// `http://` url of the shim.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every `eth_getLogs` served so far.
    pub fn seen(&self) -> Vec<GetLogsSeen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

async fn serve_conn(
    mut sock: TcpStream,
    client: alloy::transports::http::reqwest::Client,
    upstream: String,
    max_range: u64,
    seen: Arc<Mutex<Vec<GetLogsSeen>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        // Headers.
        let header_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
        let len = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        while buf.len() < header_end + len {
            let mut chunk = [0u8; 8192];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buf[header_end..header_end + len].to_vec();
        buf.drain(..header_end + len);
        let req: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let mut answer = None;
        if req["method"] == "eth_getLogs" {
            let f = &req["params"][0];
            if let (Some(from), Some(to)) = (hex_u64(&f["fromBlock"]), hex_u64(&f["toBlock"])) {
                let head_req = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []});
                let head = match client.post(&upstream).json(&head_req).send().await {
                    Ok(r) => r
                        .json::<serde_json::Value>()
                        .await
                        .ok()
                        .and_then(|v| hex_u64(&v["result"]))
                        .unwrap_or(0),
                    Err(_) => 0,
                };
                let rejected = to.saturating_sub(from) + 1 > max_range;
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(GetLogsSeen {
                        from,
                        to,
                        head,
                        rejected,
                    });
                if rejected {
                    answer = Some(serde_json::json!({
                        "jsonrpc": "2.0", "id": req["id"],
                        "error": { "code": -32005, "message": format!("Exceeds max range of {max_range}") }
                    }));
                }
            }
        }
        let out = match answer {
            Some(a) => serde_json::to_vec(&a).unwrap_or_default(),
            None => match client
                .post(&upstream)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(r) => r.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
                Err(_) => return Ok(()),
            },
        };
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            out.len()
        );
        sock.write_all(resp.as_bytes()).await?;
        sock.write_all(&out).await?;
    }
}
