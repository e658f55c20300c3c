//! `ptx`: the command-line front of the ptx crates.
//!
//! Every subcommand reports bad input as one line on standard error and a non-zero exit
//! status, and never leaves a partial output file behind.

mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Pneumothorax segmentation tools for chest X-ray DICOMs and SIIM-ACR data.
#[derive(Debug, Parser)]
#[command(name = "ptx", about, disable_version_flag = true)]
struct Cli {
    /// Print version, libtorch version and whether CUDA is available.
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the metadata of DICOM files (modality, size, view, age, sex, pixel spacing…).
    Info(commands::info::Args),
    /// Convert a DICOM file to an 8-bit display PNG, a 16-bit PNG of stored values, or .npy.
    Convert(commands::convert::Args),
    /// Write one 0/255 PNG mask per image of an annotation CSV (all rows of an image united).
    Masks(commands::masks::Args),
    /// Encode a folder of mask PNGs into an `ImageId,EncodedPixels` CSV.
    Encode(commands::encode::Args),
    /// Match images to annotations and write a stratified k-fold split.
    Index(commands::index::Args),
    /// Score a prediction CSV against a truth CSV: mean Dice (challenge rule), IoU, F2…
    Evaluate(commands::evaluate::Args),
    /// Measure the lesions of a mask: areas (px, mm²), side, bounds, rim width, BTS size class.
    Measure(commands::measure::Args),
    /// Resize and stack CLAHE/AHE channels for a folder of DICOMs or PNGs, writing PNGs.
    Preprocess(commands::preprocess::Args),
    /// Draw augmentations of one image and mask into a montage PNG, to see what a config does.
    Augment(commands::augment::Args),
    /// Run one eval-mode forward pass of a model on an .npy input (check converted weights).
    Forward(commands::forward::Args),
    /// Inspect model configurations (`ptx model summary`).
    Model(commands::model::Args),
    /// Write a synthetic SIIM-like dataset (DICOMs in the challenge's layout + train-rle.csv).
    Synth(commands::synth::Args),
    /// Train a model from a TOML experiment, or the two-stage system from two (--stage2).
    Train(commands::train::Args),
    /// Predict masks for DICOM/PNG files into a submission CSV, with overlays and a report.
    Predict(commands::predict::Args),
    /// The learning-rate range test of an experiment: loss against rate, and a suggestion.
    LrFind(commands::lr_find::Args),
    /// Synthetic data -> two-stage training -> thresholds -> prediction -> evaluation.
    Demo(commands::demo::Args),
}

fn version() -> String {
    format!(
        "{} ({})",
        env!("CARGO_PKG_VERSION"),
        ptx_models::RuntimeInfo::detect()
    )
}

fn main() -> ExitCode {
    // Querying libtorch costs a CUDA initialisation: only for --version.
    let wants_version = std::env::args()
        .skip(1)
        .any(|a| a == "--version" || a == "-V");
    let command = Cli::command().version(if wants_version {
        version()
    } else {
        env!("CARGO_PKG_VERSION").to_owned()
    });
    let matches = command.get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Info(a) => commands::info::run(a),
        Command::Convert(a) => commands::convert::run(a),
        Command::Masks(a) => commands::masks::run(a),
        Command::Encode(a) => commands::encode::run(a),
        Command::Index(a) => commands::index::run(a),
        Command::Evaluate(a) => commands::evaluate::run(a),
        Command::Measure(a) => commands::measure::run(a),
        Command::Preprocess(a) => commands::preprocess::run(a),
        Command::Augment(a) => commands::augment::run(a),
        Command::Forward(a) => commands::forward::run(a),
        Command::Model(a) => commands::model::run(a),
        Command::Synth(a) => commands::synth::run(a),
        Command::Train(a) => commands::train::run(a),
        Command::Predict(a) => commands::predict::run(a),
        Command::LrFind(a) => commands::lr_find::run(a),
        Command::Demo(a) => commands::demo::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ptx: error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
