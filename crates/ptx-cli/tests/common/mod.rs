//! Running the `ptx` binary from the integration tests.
#![allow(dead_code)] // each test file uses a part

use std::process::{Command, Output};

/// Runs `ptx` with `args` and returns its output.
pub fn ptx(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ptx"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure: non-zero exit, one line on stderr, no panic. Returns the line.
pub fn assert_clean_failure(o: &Output) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}
