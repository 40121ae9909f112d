//! Finding the Sankofa checkout (contracts, pinned toolchain, abi/) from wherever the CLI runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The root of a Sankofa checkout: the directory holding `foundry.toml` and `package.json`.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// Uses `explicit` if given, else walks up from the current directory, then from the
    /// executable's own location (so an installed `target/debug/sankofa` still finds its checkout).
    pub(crate) fn locate(explicit: Option<&Path>) -> anyhow::Result<Self> {
        if let Some(root) = explicit {
            let root = root
                .canonicalize()
                .with_context(|| format!("--root {}: no such directory", root.display()))?;
            if !is_root(&root) {
                bail!(
                    "--root {}: not a Sankofa checkout (no foundry.toml and package.json there)",
                    root.display()
                );
            }
            return Ok(Self { root });
        }
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let exe = std::env::current_exe().ok();
        for start in std::iter::once(cwd).chain(exe) {
            if let Some(root) = start.ancestors().find(|dir| is_root(dir)) {
                return Ok(Self {
                    root: root.to_path_buf(),
                });
            }
        }
        bail!(
            "cannot find the Sankofa checkout (a directory with foundry.toml and package.json) above the \
             current directory; run from inside it or pass --root"
        )
    }

    /// The checkout's root directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `contracts/src`: the Solidity sources of the product.
    pub(crate) fn contract_sources(&self) -> PathBuf {
        self.root.join("contracts").join("src")
    }

    /// `abi/artifacts`: the committed compiled artifacts.
    pub(crate) fn artifacts_dir(&self) -> PathBuf {
        self.root.join("abi").join("artifacts")
    }

    /// `node_modules`: the pinned toolchain and Solidity libraries (scripts/setup installs it).
    pub(crate) fn node_modules(&self) -> PathBuf {
        self.root.join("node_modules")
    }

    /// The solc-js shim that answers like the native solc CLI.
    pub(crate) fn solc_shim(&self) -> PathBuf {
        self.root.join("scripts").join("solc")
    }

    /// A binary of the pinned Foundry toolchain (`anvil`, `forge`, `cast`).
    #[allow(dead_code)] // used by devnet and deploy
    pub(crate) fn foundry_bin(&self, name: &str) -> PathBuf {
        self.node_modules().join(".bin").join(name)
    }
}

fn is_root(dir: &Path) -> bool {
    dir.join("foundry.toml").is_file() && dir.join("package.json").is_file()
}
