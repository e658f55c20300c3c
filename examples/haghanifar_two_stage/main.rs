//! Haghanifar et al.: the two-stage CheXNet (DenseNet121) + SE-ResNeXt50 U-Net system, the
//! three freezing modes of the classifier, SWA of the top 3 folds, the IoU threshold search
//! (Tables 1 and 2). See `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example haghanifar_two_stage         # small synthetic run
//! cargo run --release -p ptx-examples --example haghanifar_two_stage -- --data SIIM \
//!     --weights densenet121=chexnet.pth.tar --weights se_resnext50_32x4d=se_resnext50_32x4d-a260b3a4.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;

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
    let epochs = ptx_examples::papers::haghanifar::StageEpochs {
        stage1: args.epochs1,
        stage2: args.epochs2,
    };
    if let Some(dir) = &args.common.print_config {
        let runs = ptx_examples::papers::haghanifar::runs(&args.common, epochs)?;
        return ptx_examples::papers::print_config(&runs, dir);
    }
    for table in ptx_examples::papers::haghanifar::run(&args.common, epochs)? {
        println!("{}", table.to_markdown());
    }
    Ok(())
}
