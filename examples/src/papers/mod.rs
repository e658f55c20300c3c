//! One module per paper: each `run` trains the paper's configurations and returns its table.
//!
//! | module | paper | table |
//! |---|---|---|
//! | [`haghanifar`] | Haghanifar et al., two-stage CheXNet + SE-ResNeXt50 U-Net | Tables 1 and 2, freezing modes |
//! | [`shannak`] | Shannak et al., U-Net auto-encoder transfer | Table 4 |
//! | [`viel`] | Viel & Orhan, Lovász / ASPP / hypercolumns / scSE ablation | Table 6 |
//! | [`dasic`] | Dasic et al., backbones, whole image versus patches | Table 1 |
//! | [`harmalkar`] | Harmalkar et al., classifier and pseudo-label pre-training | Table 1 |

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ptx_models::ModelConfig;
use ptx_train::{DataConfig, Experiment, FitReport, Resume, Trainer};

use crate::args::{positive, CommonArgs, Settings};
use crate::eval::{evaluate, Part, Scores};

pub mod dasic;
pub mod haghanifar;
pub mod harmalkar;
pub mod shannak;
pub mod viel;

/// An experiment with the settings' size, epochs, batch size, device, threads and seed, the
/// given data and model; everything else at ptx-train's defaults.
pub fn base_experiment(
    name: &str,
    data: &DataConfig,
    model: ModelConfig,
    settings: &Settings,
    args: &CommonArgs,
) -> Experiment {
    let mut exp = Experiment::new(name, data.clone(), model);
    exp.seed = args.seed;
    exp.input.size = [positive(settings.size); 2];
    let t = &mut exp.train;
    t.epochs = positive(settings.epochs);
    t.batch_size = positive(settings.batch_size);
    t.device = args.device;
    t.loader_threads = args.threads;
    t.torch_threads = args.threads;
    t.progress = !args.quiet;
    t.montage = 8;
    exp
}

/// With `--discard-checkpoints`, deletes the `checkpoints/` and `swa/` folders of the run
/// folders `dirs` (a run whose numbers are already in the table).
///
/// # Errors
/// A folder that cannot be removed.
pub fn discard(args: &CommonArgs, dirs: &[std::path::PathBuf]) -> Result<()> {
    if !args.discard_checkpoints {
        return Ok(());
    }
    for dir in dirs {
        for sub in ["checkpoints", "swa"] {
            let p = dir.join(sub);
            if p.is_dir() {
                std::fs::remove_dir_all(&p)
                    .map_err(|e| anyhow::anyhow!("removing {}: {e}", p.display()))?;
            }
        }
    }
    Ok(())
}

/// One training run of a paper's protocol: what it is called, where it runs, what it trains.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run's name (its experiment's name and its TOML's file stem).
    pub name: String,
    /// The run folder.
    pub dir: PathBuf,
    /// The complete configuration.
    pub experiment: Experiment,
}

impl Run {
    /// The run `name` of `experiment` in `runs/name`.
    pub fn new(runs: &Path, experiment: Experiment) -> Self {
        let name = experiment.name.clone();
        Self {
            dir: runs.join(&name),
            name,
            experiment,
        }
    }

    /// Trains it (resuming with `--resume`).
    ///
    /// # Errors
    /// As [`Trainer::new`] and [`Trainer::fit`].
    pub fn fit(&self, args: &CommonArgs) -> Result<FitReport> {
        fit(self.experiment.clone(), &self.dir, args)
    }

    /// Trains it, then scores its final model on `part` of its data.
    ///
    /// # Errors
    /// As [`Run::fit`] and [`evaluate`].
    pub fn fit_and_score(&self, args: &CommonArgs, part: Part) -> Result<Scores> {
        let fitted = self.fit(args)?;
        evaluate(
            std::slice::from_ref(&fitted.final_dir),
            &self.experiment,
            part,
            args.threads,
        )
    }
}

/// Writes every run's experiment as `dir/<name>.toml` (`--print-config`).
///
/// # Errors
/// A file that cannot be written.
pub fn print_config(runs: &[Run], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for run in runs {
        let text = run.experiment.to_toml()?;
        let path = dir.join(format!("{}.toml", run.name));
        ptx_io::write_atomic(&path, |f| f.write_all(text.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("{} experiments written to {}", runs.len(), dir.display());
    Ok(())
}

/// Trains `exp` in `dir` (resuming with `--resume`).
///
/// # Errors
/// As [`Trainer::new`] and [`Trainer::fit`].
pub fn fit(exp: Experiment, dir: &Path, args: &CommonArgs) -> Result<FitReport> {
    let resume = if args.resume {
        Resume::IfPresent
    } else {
        Resume::Never
    };
    eprintln!("== {} -> {}", exp.name, dir.display());
    Ok(Trainer::new(exp, dir, resume)?.fit()?)
}
