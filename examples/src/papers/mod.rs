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
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ptx_models::ModelConfig;
use ptx_train::{DataConfig, Dataset, Experiment, FitReport, Resume, RunDir, Trainer, Truth};

use crate::args::{positive, CommonArgs, Scales, Settings};
use crate::eval::{evaluate, Part, Scores};
use crate::table::Results;

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

/// What [`over_seeds`] needs to know of an example besides its protocol.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    /// The example's name: its default output folder is `out/papers/<name>`.
    pub example: &'a str,
    /// Its scales.
    pub scales: &'a Scales,
    /// Wall time per training run of its default synthetic run (the whole run's wall time
    /// over its training runs, both seeds), measured on the 2-core machine of its README;
    /// other settings scale it by their number of runs, epochs, images and pixels.
    pub per_run: Duration,
}

/// Runs an example's protocol `run` once per seed (`--seeds`; [`Settings::seeds`]), each
/// seed in its own `seed-N/` folder of the output folder with its own synthetic images, and
/// writes the tables over all seeds ([`Results::over_seeds`]) in the output folder itself;
/// with one seed, the run writes there directly. `count` says how many training runs one
/// seed's protocol has (e.g. the length of the example's `runs`), for the expected duration
/// printed first and the progress line printed before each training run.
///
/// # Errors
/// As `count` and `run`; results that cannot be written.
pub fn over_seeds(
    args: &CommonArgs,
    plan: &Plan<'_>,
    count: impl Fn(&CommonArgs) -> Result<usize>,
    run: impl Fn(&CommonArgs) -> Result<Results>,
) -> Result<Results> {
    let s = args.settings(plan.example, plan.scales);
    let seeds: Vec<u64> = (0..s.seeds as u64)
        .map(|k| args.seed.wrapping_add(k))
        .collect();
    let seed_args = |seed: u64| {
        let mut a = args.clone();
        a.seed = seed;
        if seeds.len() > 1 {
            a.out = Some(s.out.join(format!("seed-{seed}")));
        }
        a
    };
    let total = count(&seed_args(seeds[0]))? * seeds.len();
    eprintln!("{}", expectation(plan, &s, total));
    start_progress(total);
    let mut results = Vec::with_capacity(seeds.len());
    for &seed in &seeds {
        results.push((seed, run(&seed_args(seed))?));
    }
    if results.len() == 1 {
        if let Ok(mut p) = PROGRESS.lock() {
            *p = None;
        }
        return Ok(results.remove(0).1);
    }
    if let Ok(mut p) = PROGRESS.lock() {
        *p = None;
    }
    let merged = Results::over_seeds(&results, s.synthetic)?;
    merged.write(&s.out)?;
    Ok(merged)
}

/// The line printed before an example starts: how many training runs, and how long they
/// are expected to take.
fn expectation(plan: &Plan<'_>, s: &Settings, total: usize) -> String {
    if !s.synthetic {
        return format!(
            "{total} training runs at the paper's scale (no duration measured here: hours to days, GPU advised)"
        );
    }
    let work = |epochs: usize, images: usize, size: usize| {
        epochs as f64 * images as f64 * size as f64 * size as f64
    };
    let small = plan.scales.small;
    let ratio = work(s.epochs, s.images, s.size) / work(small.epochs, small.images, small.size);
    format!(
        "{total} training runs; expected duration about {} on 2 CPU cores ({} per run measured for the default synthetic run, scaled by epochs x images x pixels)",
        minutes(plan.per_run.mul_f64(total as f64 * ratio)),
        minutes(plan.per_run),
    )
}

/// `3 min 05 s`.
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{} min {:02} s", s / 60, s % 60)
}

/// Training runs started and to start, for the progress lines.
struct Progress {
    total: usize,
    started: usize,
    since: Instant,
}

static PROGRESS: Mutex<Option<Progress>> = Mutex::new(None);

fn start_progress(total: usize) {
    if let Ok(mut p) = PROGRESS.lock() {
        *p = Some(Progress {
            total,
            started: 0,
            since: Instant::now(),
        });
    }
}

/// Prints the progress line of the next `runs` training runs (in `dir`, with `seed`), when
/// [`over_seeds`] counts them; else the run folder. [`fit`] calls it with 1; a protocol
/// that trains several runs at once (cross-validation) calls it before them.
pub fn progress(dir: &Path, seed: u64, runs: usize) {
    match progress_line(dir, seed, runs) {
        Some(line) => eprintln!("{line}"),
        None => eprintln!("== {}", dir.display()),
    }
}

/// The progress line of the next `runs` training runs, when [`over_seeds`] counts them.
fn progress_line(dir: &Path, seed: u64, runs: usize) -> Option<String> {
    let mut guard = PROGRESS.lock().ok()?;
    let p = guard.as_mut()?;
    let elapsed = p.since.elapsed();
    let done = p.started;
    p.started += runs;
    p.total = p.total.max(p.started);
    let left = if done == 0 {
        String::new()
    } else {
        let each = elapsed / done as u32;
        format!(", about {} left", minutes(each * (p.total - done) as u32))
    };
    let first = done + 1;
    let range = if runs > 1 {
        format!("{first}-{}", p.started)
    } else {
        first.to_string()
    };
    Some(format!(
        "[{range}/{}] {} (seed {seed}): {} elapsed{left}",
        p.total,
        dir.display(),
        minutes(elapsed)
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
    progress(dir, exp.seed, 1);
    Ok(Trainer::new(exp, dir, resume)?.fit()?)
}
