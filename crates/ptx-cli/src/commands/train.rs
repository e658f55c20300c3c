//! `ptx train --config C.toml [--stage2 S2.toml] [--out DIR] [--resume]`: one training run, or
//! the two-stage recipe when a second experiment is given, or a k-fold cross-validation
//! (`--cross-validate`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use ptx_train::{CrossValidation, Experiment, Resume, Trainer, TwoStageRecipe};

use super::emit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment (TOML). With --stage2, the two-stage system's stage 1 (classifier).
    #[arg(long)]
    pub config: PathBuf,
    /// Stage 2 of the two-stage system (the segmenter, trained on positive images).
    #[arg(long, value_name = "S2.toml")]
    pub stage2: Option<PathBuf>,
    /// The run folder. Default `runs/<experiment name>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue from the run folder's last complete checkpoint (start afresh when it has
    /// none). Without it a folder that has checkpoints is refused.
    #[arg(long)]
    pub resume: bool,
    /// Train every fold of `[data] folds` (the experiment's validation fold is ignored), save
    /// the out-of-fold maps, search the post-processing on them and write the fold models as
    /// one system.
    #[arg(long, conflicts_with = "stage2")]
    pub cross_validate: bool,
    /// Loader threads for the system's validation pass (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(args: Args) -> Result<()> {
    let stage1 = Experiment::from_file(&args.config)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(&stage1.name));
    let resume = if args.resume {
        Resume::IfPresent
    } else {
        Resume::Never
    };
    if args.cross_validate {
        let cv = CrossValidation {
            experiment: stage1,
            grid: Default::default(),
            hflip: true,
        };
        let report = cv.run(&out, resume, args.threads)?;
        emit(format!(
            "{} folds, {} out-of-fold images: pixel threshold {}, minimum area {} -> mean Dice {:.4}",
            report.folds.len(),
            report.oof_images,
            report.search.params.threshold,
            report.search.params.min_component_area,
            report.search.mean_dice
        ));
        emit(format!(
            "system (the fold models averaged): {}; out-of-fold maps in {}",
            out.join(ptx_train::SYSTEM_FILE).display(),
            out.join("oof").display()
        ));
        return Ok(());
    }
    match &args.stage2 {
        None => {
            let mut trainer = Trainer::new(stage1, &out, resume)?;
            let report = trainer.fit()?;
            match report.best {
                Some((epoch, value)) => emit(format!(
                    "best epoch {epoch}: {} = {value:.4} ({})",
                    trainer.experiment().train.monitor.name(),
                    report
                        .best_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()
                )),
                None => emit(format!(
                    "no epoch had a finite validation number; last checkpoint {}",
                    report.final_dir.display()
                )),
            }
            if let Some(swa) = &report.swa_dir {
                emit(format!("SWA model: {}", swa.display()));
            }
            emit(format!(
                "run folder: {} (log.csv, log.jsonl, curves.png, montage.png)",
                out.display()
            ));
        }
        Some(stage2) => {
            let recipe = TwoStageRecipe {
                stage1,
                stage2: Experiment::from_file(stage2)?,
                grid: Default::default(),
                hflip: true,
            };
            let report = recipe
                .run(&out, resume, args.threads)
                .with_context(|| format!("two-stage training in {}", out.display()))?;
            emit(report.summary());
            emit(format!(
                "system: {}",
                out.join(ptx_train::SYSTEM_FILE).display()
            ));
        }
    }
    Ok(())
}
