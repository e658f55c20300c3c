//! `ptx lr-find --config C.toml [--out DIR] [--start 1e-7] [--end 10] [--steps 100]`: the
//! learning-rate range test of an experiment.

use std::path::PathBuf;

use anyhow::Result;
use ptx_train::{Experiment, LrRangeTest, Resume, Trainer};

use super::emit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment (TOML); its model, data, loss and optimizer are used.
    #[arg(long)]
    pub config: PathBuf,
    /// Folder for `lr-find.png` and `lr-find.csv`. Default `runs/<name>-lr-find`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// First rate.
    #[arg(long, default_value_t = 1e-7)]
    pub start: f64,
    /// Last rate.
    #[arg(long, default_value_t = 10.0)]
    pub end: f64,
    /// Mini-batches (steps).
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
}

pub fn run(args: Args) -> Result<()> {
    let exp = Experiment::from_file(&args.config)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("{}-lr-find", exp.name)));
    let mut trainer = Trainer::new(exp, &out, Resume::IfPresent)?;
    let test = LrRangeTest {
        start: args.start,
        end: args.end,
        steps: args.steps,
        ..LrRangeTest::default()
    };
    let sweep = trainer.lr_range_test(&test)?;
    let picture = sweep.save(&out)?;
    match sweep.suggestion() {
        Some(lr) => emit(format!(
            "suggested learning rate {lr:.3e} (steepest fall of the smoothed loss over {} steps{}); plot: {}",
            sweep.points().len(),
            sweep
                .minimum_tenth()
                .map(|m| format!("; a tenth of the lowest loss's rate: {m:.3e}"))
                .unwrap_or_default(),
            picture.display()
        )),
        None => emit(format!(
            "no suggestion: only {} steps recorded; plot: {}",
            sweep.points().len(),
            picture.display()
        )),
    }
    Ok(())
}
