//! Shared fixtures: a real anvil (the pinned one) and the real `sankofa` binary.

#![allow(dead_code, unreachable_pub)] // each test file uses a different subset

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use alloy::node_bindings::{Anvil, AnvilInstance};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn anvil_bin() -> PathBuf {
    root().join("node_modules/.bin/anvil")
}

/// A fresh anvil on a free port.
pub fn anvil() -> AnvilInstance {
    Anvil::at(anvil_bin())
        .arg("--host")
        .arg("127.0.0.1")
        .spawn()
}

/// A test world: an anvil, a temp dir holding dev key files `0.key`.. and the deployment.
pub struct World {
    pub anvil: AnvilInstance,
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> Self {
        let anvil = anvil();
        let dir = tempfile::tempdir().expect("temp dir");
        for (i, key) in anvil.keys().iter().enumerate() {
            let signer = alloy::signers::local::PrivateKeySigner::from_signing_key(key.into());
            std::fs::write(
                dir.path().join(format!("{i}.key")),
                alloy::hex::encode_prefixed(signer.to_bytes()),
            )
            .expect("write key");
        }
        Self { anvil, dir }
    }

    pub fn key(&self, i: usize) -> String {
        self.dir
            .path()
            .join(format!("{i}.key"))
            .display()
            .to_string()
    }

    pub fn address(&self, i: usize) -> String {
        self.anvil.addresses()[i].to_checksum(None)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `sankofa` in the temp dir against this anvil.
    pub fn sankofa(&self, args: &[&str]) -> Run {
        run_in(
            self.dir.path(),
            args,
            &[("SANKOFA_RPC_URL", &self.anvil.endpoint())],
        )
    }

    /// Deploys with accounts 1 and 2 as the council and account 1 as the first validator.
    pub fn deploy(&self) -> Run {
        let validator = format!("{}=core-iad", self.address(1));
        let run = self.sankofa(&[
            "deploy",
            "--private-key-file",
            &self.key(0),
            "--validator",
            &validator,
            "--council",
            &self.address(1),
            "--council",
            &self.address(2),
            "--min-delay",
            "60",
            "--voting-delay",
            "1",
            "--voting-period",
            "300",
        ]);
        run.ok();
        run
    }
}

impl World {
    /// A raw JSON-RPC call to this world's anvil.
    pub async fn rpc(&self, method: &'static str, params: serde_json::Value) -> serde_json::Value {
        use alloy::providers::{Provider, ProviderBuilder};
        ProviderBuilder::new()
            .connect_http(self.anvil.endpoint_url())
            .raw_request(method.into(), params)
            .await
            .expect(method)
    }

    /// `sankofa deploy --private-key-file 0.key ARGS`, killed (-9) while its first contract
    /// creation waits in anvil's pool. Automine is turned off for that and left off.
    pub fn deploy_killed_after_first_send(&self, rt: &tokio::runtime::Runtime, args: &[&str]) {
        rt.block_on(self.rpc("evm_setAutomine", serde_json::json!([false])));
        let child = Command::new(env!("CARGO_BIN_EXE_sankofa"))
            .args(["deploy", "--private-key-file", &self.key(0)])
            .args(args)
            .current_dir(self.dir.path())
            .env("SANKOFA_RPC_URL", self.anvil.endpoint())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn sankofa deploy");
        self.kill_once_a_transaction_is_pending(rt, child);
    }

    /// Waits (automine off) until `child` has a transaction in anvil's pool, then kills it
    /// with -9: a run stopped between sending and seeing its receipt.
    pub fn kill_once_a_transaction_is_pending(
        &self,
        rt: &tokio::runtime::Runtime,
        mut child: std::process::Child,
    ) {
        rt.block_on(async {
            loop {
                let pool = self.rpc("txpool_status", serde_json::json!([])).await;
                if pool["pending"] != "0x0" && pool["pending"] != 0 {
                    break;
                }
                assert!(
                    child.try_wait().expect("try_wait").is_none(),
                    "the run ended before sending anything"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
        child.kill().expect("kill -9");
        child.wait().expect("reaped");
    }
}

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
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> String {
        assert!(
            self.success(),
            "sankofa failed:\nstdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }
    /// Asserts failure (non-zero exit) and returns stderr.
    pub fn fails(&self) -> String {
        assert!(
            !self.success(),
            "sankofa should have failed:\nstdout: {}",
            self.stdout()
        );
        assert_ne!(self.output.status.code(), Some(0));
        self.stderr()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok()).expect("stdout is JSON")
    }
}

pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sankofa"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("SANKOFA_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run {
        output: cmd.output().expect("run sankofa"),
    }
}
