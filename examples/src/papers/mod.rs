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
use ptx_train::{DataConfig, Dataset, Experiment, FitReport, Resume, RunDir, Trainer, Truth};

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
        RunDir::open(dir).discard_weights()?;
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

/// Writes every run's experiment as `dir/<name>.toml` (`--print-config`), and, for a run
/// whose data is an annotation CSV listing images, the split that run makes as
/// `dir/<name>.splits.csv` (`ImageId,label,fold`, `test` for the held-out part: a folds file
/// `data.folds_file` can read), drawn from the CSV's labels alone with the run's seed, so
/// that a paper's split is known, and shared, before the images are at hand. A run whose
/// folds come from a file written at run time (patches, augmented copies) gets none.
///
/// # Errors
/// A file that cannot be written; an annotation CSV that cannot be read or split.
pub fn print_config(runs: &[Run], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut splits = 0;
    for run in runs {
        let text = run.experiment.to_toml()?;
        let path = dir.join(format!("{}.toml", run.name));
        ptx_io::write_atomic(&path, |f| f.write_all(text.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        if let Some(rows) = split_rows(&run.experiment)? {
            let path = dir.join(format!("{}.splits.csv", run.name));
            ptx_io::folds::write_folds_csv(&path, &rows)?;
            splits += 1;
        }
    }
    eprintln!(
        "{} experiments and {splits} split files written to {}",
        runs.len(),
        dir.display()
    );
    Ok(())
}

/// The split `exp` makes of its annotation CSV's images (`None` without such a CSV, with an
/// empty one, or with a folds file).
fn split_rows(exp: &Experiment) -> Result<Option<Vec<ptx_io::folds::FoldRow>>> {
    let Truth::Annotations { csv, rle } = &exp.data.truth else {
        return Ok(None);
    };
    if exp.data.folds.file().is_some() || !csv.is_file() {
        return Ok(None);
    }
    let annotations = ptx_io::annotations::Annotations::read(csv)?;
    if annotations.is_empty() {
        return Ok(None);
    }
    let labelled = annotations
        .image_ids()
        .map(|id| Ok((id.to_owned(), annotations.label(id, *rle)?.unwrap_or(false))))
        .collect::<Result<Vec<_>, ptx_io::Error>>()?;
    let positive: std::collections::HashMap<&str, bool> =
        labelled.iter().map(|(id, l)| (id.as_str(), *l)).collect();
    let plan = Dataset::plan(&labelled, &exp.data, exp.seed)?;
    Ok(Some(
        plan.into_iter()
            .map(|(image_id, fold)| ptx_io::folds::FoldRow {
                label: positive[image_id.as_str()],
                image_id,
                fold,
            })
            .collect(),
    ))
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
