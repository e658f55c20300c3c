//! Build-script helper for every ptx crate that links libtorch through `tch`.
//!
//! Two things go wrong when a Rust binary links libtorch from a PyTorch wheel:
//!
//! 1. The binary does not find `libtorch_cpu.so` at run time unless `LD_LIBRARY_PATH` is
//!    exported by hand. [`link_libtorch`] adds an rpath to the libtorch `lib/` folder.
//! 2. The linker's default `--as-needed` drops `libtorch_cuda.so`, because no symbol of it is
//!    referenced directly; CUDA then silently disappears (`tch::Cuda::is_available()` is false
//!    on a GPU machine). [`link_libtorch`] links it again between `--no-as-needed` and
//!    `--as-needed`, so its static initialisers register the CUDA backend.
//!
//! The libtorch folder is taken from the `LIBTORCH` environment variable, which the
//! workspace's `.cargo/config.toml` sets to the project-local `.venv/libtorch`.
//!
//! In a crate's `build.rs`, `fn main` calls:
//!
//! ```no_run
//! ptx_build::link_libtorch();
//! ```

use std::path::{Path, PathBuf};

/// Where libtorch's shared libraries are, from `LIBTORCH_LIB` or `LIBTORCH/lib`; `None` when
/// neither variable is set (a docs.rs build with `tch/doc-only`, for instance).
pub fn libtorch_lib_dir() -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");
    if let Some(lib) = std::env::var_os("LIBTORCH_LIB") {
        return Some(PathBuf::from(lib));
    }
    std::env::var_os("LIBTORCH").map(|root| Path::new(&root).join("lib"))
}

/// Emits the link arguments described in the crate docs for the calling package's binaries,
/// tests, examples and benches. Does nothing when no libtorch folder is configured or when
/// the target is not Linux.
pub fn link_libtorch() {
    let Some(lib) = libtorch_lib_dir() else {
        return;
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    // Resolve the `.venv/libtorch` link so the rpath survives a re-created link.
    let lib = lib.canonicalize().unwrap_or(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

/// Reads the PyTorch version (`2.11.0+cu130`) from `torch/version.py` beside the libtorch
/// `lib/` folder and exports it to the calling crate as the `PTX_LIBTORCH_VERSION`
/// compile-time variable (`"unknown"` when not found).
pub fn export_libtorch_version() {
    let version = libtorch_lib_dir()
        .and_then(|lib| std::fs::read_to_string(lib.join("..").join("version.py")).ok())
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("__version__ = "))
                .map(|v| v.trim().trim_matches(['\'', '"']).to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=PTX_LIBTORCH_VERSION={version}");
}
