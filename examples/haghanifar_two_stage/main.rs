//! Haghanifar et al.: the two-stage CheXNet (DenseNet121) + SE-ResNeXt50 U-Net system, the
//! three freezing modes of the classifier, SWA of the top 3 folds, the IoU threshold search
//! (Tables 1 and 2). See `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example haghanifar_two_stage         # synthetic run, 2 seeds (~10 min, 2 cores); --quick: smoke size
//! cargo run --release -p ptx-examples --example haghanifar_two_stage -- --data SIIM \
//!     --weights densenet121=chexnet.pth.tar --weights se_resnext50_32x4d=se_resnext50_32x4d-a260b3a4.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;
use ptx_examples::papers::{self, haghanifar};

#[derive(Debug, Parser)]
#[command(about = "Haghanifar et al.: the two-stage system, Tables 1 and 2")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Epochs of each stage-1 run (default: --epochs, else the paper's 100).
    #[arg(long)]
    epochs1: Option<std::num::NonZeroUsize>,
    /// Epochs of each stage-2 fold (default: --epochs, else the paper's 100).
    #[arg(long)]
    epochs2: Option<std::num::NonZeroUsize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let epochs = haghanifar::StageEpochs {
        stage1: args.epochs1,
        stage2: args.epochs2,
    };
    if let Some(dir) = &args.common.print_config {
        let runs = haghanifar::runs(&args.common, epochs)?;
        return papers::print_config(&runs, dir);
    }
    let results = papers::over_seeds(
        &args.common,
        &haghanifar::PLAN,
        |a| {
            let p = haghanifar::experiments(a, epochs)?;
            Ok(p.stage1.len() + p.stage2.experiment.data.folds.count())
        },
        |a| haghanifar::run(a, epochs),
    )?;
    for (_, table) in &results.tables {
        println!("{}", table.to_markdown());
    }
    Ok(())
}
