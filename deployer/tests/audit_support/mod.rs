//! Shared by the audit tests: the deployment file for a testkit system, running `sankofa audit`,
//! and a lying JSON-RPC node (an HTTP proxy in front of anvil that rewrites chosen answers).

#![allow(dead_code, unreachable_pub)] // each test file uses a different subset

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
};

use alloy::primitives::{Address, B256};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// The contracts to write into a deployment file.
pub struct Addresses {
    pub registry: Address,
    pub rollout: Address,
    pub validators: Address,
    pub council: Option<Address>,
    pub governor: Option<Address>,
    pub timelock: Option<Address>,
    pub deployer: Address,
    pub block: u64,
}

/// Writes `deployments/<network>.json` as `sankofa deploy` would have, for a testkit system
/// (with the code hashes the deployer checks before trusting the file).
pub async fn write_deployment(
    dir: &Path,
    a: &Addresses,
    provider: &impl alloy::providers::Provider,
) -> PathBuf {
    let mut contracts = serde_json::Map::new();
    for (name, addr) in [
        ("SiteRegistry", Some(a.registry)),
        ("Rollout", Some(a.rollout)),
        ("ValidatorSet", Some(a.validators)),
        ("Council", a.council),
        ("SankofaGovernor", a.governor),
        ("TimelockController", a.timelock),
    ] {
        let Some(address) = addr else { continue };
        let code = provider.get_code_at(address).await.expect("eth_getCode");
        contracts.insert(
            name.into(),
            json!({
                "address": address,
                "block": a.block,
                "tx": null,
                "artifactHash": B256::ZERO,
                "codeHash": alloy::primitives::keccak256(&code),
            }),
        );
    }
    let file = json!({
        "network": "audit-test",
        "chainId": 31337,
        "deployer": a.deployer,
        "deploymentBlock": a.block,
        "complete": true,
        "params": {
            "minDelay": 60, "votingDelay": 1, "votingPeriod": 300, "quorumPercent": 50,
            "guardian": a.deployer, "registrar": a.deployer, "council": [],
            "validators": [], "validatorSet": null,
            "criteria": [[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        },
        "contracts": contracts,
    });
    let path = dir.join("deployment.json");
    std::fs::write(&path, serde_json::to_string_pretty(&file).expect("json")).expect("write");
    path
}

/// One run of the binary.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn success(&self) -> bool {
        self.output.status.success()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout()).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr: {}",
                self.stdout(),
                self.stderr()
            )
        })
    }
    /// The kinds of the findings in a `--json` answer, sorted and de-duplicated.
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["kind"].as_str().expect("kind").to_string())
            .collect();
        k.sort();
        k.dedup();
        k
    }
}

/// Runs `sankofa <args>` in `dir` against `rpc`.
pub fn sankofa(dir: &Path, rpc: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sankofa"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("SANKOFA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("SANKOFA_RPC_URL", rpc)
        .env("SANKOFA_DEPLOYMENT", dir.join("deployment.json"));
    Run {
        output: cmd.output().expect("run sankofa"),
    }
}

/// The pinned cast.
pub fn cast() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/cast")
}

/// How the lying node lies.
#[derive(Clone, Debug)]
pub enum Lie {
    /// Tell the truth the way Besu does: refuse eth_getLogs ranges wider than `max_range` with
    /// -32005, and leave `blockTimestamp` out of logs.
    Honest { max_range: u64 },
    /// Leave out of eth_getLogs the log whose topics[0] and topics[1..] match.
    DropLog { topics: Vec<B256> },
    /// Return the matching log twice.
    DuplicateLog { topics: Vec<B256> },
    /// Flip the last hex digit of 32-byte word `word` of the matching log's data.
    AlterLogData { topics: Vec<B256>, word: usize },
    /// Replace `r` of the signature in eth_getTransactionByHash answers for `tx`.
    ForgeSignature { tx: B256 },
}

/// A JSON-RPC node that lies as told; dropping it stops it.
pub struct LyingNode {
    pub url: String,
    /// How many times it lied.
    pub lies: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LyingNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn topics_match(log: &Value, topics: &[B256]) -> bool {
    let have: Vec<String> = log["topics"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x.as_str().map(str::to_lowercase))
                .collect()
        })
        .unwrap_or_default();
    topics.len() <= have.len()
        && topics
            .iter()
            .zip(&have)
            .all(|(want, got)| want.to_string() == *got)
}

fn block_arg(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

impl LyingNode {
    /// Starts the node in front of `upstream` (an anvil HTTP endpoint).
    pub async fn start(upstream: String, lie: Lie) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let lies = Arc::new(AtomicU32::new(0));
        let client = alloy::transports::http::reqwest::Client::new();
        let state = Arc::new((lie, Mutex::new(false), lies.clone()));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (client, upstream, state) = (client.clone(), upstream.clone(), state.clone());
                tokio::spawn(async move {
                    let (r, mut w) = stream.into_split();
                    let mut r = BufReader::new(r);
                    loop {
                        // HTTP/1.1 request: headers, then Content-Length bytes.
                        let mut len = 0usize;
                        let mut first = true;
                        loop {
                            let mut line = String::new();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" && !first {
                                break;
                            }
                            first = false;
                            let l = line.to_ascii_lowercase();
                            if let Some(v) = l.strip_prefix("content-length:") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0u8; len];
                        if r.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let answer = answer(&client, &upstream, &state, request).await;
                        let bytes = serde_json::to_vec(&answer).expect("json");
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            bytes.len()
                        );
                        if w.write_all(head.as_bytes()).await.is_err()
                            || w.write_all(&bytes).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, lies, task }
    }

    pub fn lies(&self) -> u32 {
        self.lies.load(Ordering::SeqCst)
    }
}

async fn answer(
    client: &alloy::transports::http::reqwest::Client,
    upstream: &str,
    state: &(Lie, Mutex<bool>, Arc<AtomicU32>),
    request: Value,
) -> Value {
    let (lie, done, lies) = state;
    let method = request["method"].as_str().unwrap_or_default().to_string();
    if let (Lie::Honest { max_range }, "eth_getLogs") = (lie, method.as_str()) {
        let f = &request["params"][0];
        if let (Some(a), Some(b)) = (block_arg(&f["fromBlock"]), block_arg(&f["toBlock"]))
            && b - a + 1 > *max_range
        {
            lies.fetch_add(1, Ordering::SeqCst);
            return json!({"jsonrpc": "2.0", "id": request["id"],
                "error": {"code": -32005, "message": format!("Exceeds max range of {max_range}")}});
        }
    }
    let mut response: Value = client
        .post(upstream)
        .json(&request)
        .send()
        .await
        .expect("upstream")
        .json()
        .await
        .expect("upstream json");
    if let (Lie::Honest { .. }, "eth_getLogs") = (lie, method.as_str())
        && let Some(logs) = response["result"].as_array_mut()
    {
        // Like Besu: logs without `blockTimestamp` (the auditor then reads the blocks).
        for l in logs {
            if let Some(o) = l.as_object_mut() {
                o.remove("blockTimestamp");
            }
        }
    }
    let mut once = done.lock().expect("lock");
    if *once {
        return response;
    }
    // A batch: tamper with the member answers one by one (matched by id).
    if let (Some(requests), Some(answers)) = (request.as_array(), response.as_array_mut()) {
        for r in requests {
            if let Some(a) = answers.iter_mut().find(|a| a["id"] == r["id"]) {
                tamper(lie, r, a, &mut once);
            }
        }
    } else {
        tamper(lie, &request, &mut response, &mut once);
    }
    if *once {
        lies.fetch_add(1, Ordering::SeqCst);
    }
    response
}

/// Applies `lie` to one answer, at most once overall.
fn tamper(lie: &Lie, request: &Value, response: &mut Value, once: &mut bool) {
    if *once {
        return;
    }
    let method = request["method"].as_str().unwrap_or_default();
    match (lie, method) {
        (Lie::DropLog { topics }, "eth_getLogs") => {
            if let Some(logs) = response["result"].as_array_mut()
                && let Some(i) = logs.iter().position(|l| topics_match(l, topics))
            {
                logs.remove(i);
                *once = true;
            }
        }
        (Lie::DuplicateLog { topics }, "eth_getLogs") => {
            if let Some(logs) = response["result"].as_array_mut()
                && let Some(i) = logs.iter().position(|l| topics_match(l, topics))
            {
                let copy = logs[i].clone();
                logs.insert(i + 1, copy);
                *once = true;
            }
        }
        (Lie::AlterLogData { topics, word }, "eth_getLogs") => {
            if let Some(logs) = response["result"].as_array_mut()
                && let Some(l) = logs.iter_mut().find(|l| topics_match(l, topics))
            {
                let mut data: Vec<char> = l["data"].as_str().expect("data").chars().collect();
                let at = 2 + 64 * (word + 1) - 1;
                data[at] = if data[at] == '0' { '1' } else { '0' };
                l["data"] = Value::String(data.into_iter().collect());
                *once = true;
            }
        }
        (Lie::ForgeSignature { tx }, "eth_getTransactionByHash")
            if request["params"][0].as_str().map(str::to_lowercase) == Some(tx.to_string())
                && response["result"].is_object() =>
        {
            // Another valid-looking r: the signature now recovers to some other key.
            response["result"]["r"] = Value::String(
                "0x1b5e176d927f8e9ab405058b2d2457392da3e20f328b16288fc14ed1bb06c5ab".into(),
            );
            *once = true;
        }
        _ => {}
    }
}
