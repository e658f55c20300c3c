//! One module per subcommand.

pub mod augment;
pub mod convert;
pub mod demo;
pub mod encode;
pub mod evaluate;
pub mod forward;
pub mod index;
pub mod info;
pub mod lr_find;
pub mod masks;
pub mod measure;
pub mod model;
pub mod model_args;
pub mod predict;
pub mod preprocess;
pub mod size;
pub mod synth;
pub mod train;

use ptx_io::rle::RleForm;

/// Prints one line to standard output; a closed pipe (`ptx info … | head`) ends the process
/// quietly instead of panicking.
pub fn emit(line: impl std::fmt::Display) {
    use std::io::Write;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("ptx: error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `--rle relative|absolute` as a clap value.
#[derive(Debug, Clone, Copy, clap::ValueEnum, Default)]
pub enum RleArg {
    /// First start absolute and 0-based, later starts relative (train-rle.csv).
    #[default]
    Relative,
    /// 1-based absolute starts (the usual Kaggle submission form).
    Absolute,
}

impl From<RleArg> for RleForm {
    fn from(a: RleArg) -> Self {
        match a {
            RleArg::Relative => RleForm::Relative,
            RleArg::Absolute => RleForm::Absolute,
        }
    }
}
