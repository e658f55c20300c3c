//! Shannak et al.: plain U-Net auto-encoder pre-training on X-rays and masks, transferred to
//! segmentation, against random initialisation and a ResNet50 encoder (Table 4). See
//! `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example shannak_autoencoder          # synthetic run, 2 seeds (~10 min, 2 cores); --quick: smoke size
//! cargo run --release -p ptx-examples --example shannak_autoencoder -- --data SIIM-PNG --weights resnet50=resnet50-0676ba61.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;
use ptx_examples::papers::{self, shannak};

#[derive(Debug, Parser)]
#[command(about = "Shannak et al.: Table 4, auto-encoder transfer learning")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Only these rows of Table 4 (0-based), e.g. `--only 3,4`.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<usize>>,
    /// How the test part is drawn: by original image (no copy of a training image in it), or
    /// as the paper did, from the copies.
    #[arg(long, value_enum, default_value = "leak-free")]
    split: ptx_examples::augmented::SplitMode,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.common.print_config {
        let runs = shannak::runs(&args.common, args.split)?;
        return papers::print_config(&runs, dir);
    }
    let only = args.only.as_deref();
    let results = papers::over_seeds(
        &args.common,
        &shannak::PLAN,
        |a| {
            let p = shannak::experiments(a, args.split, only)?;
            Ok(p.pretraining.len() + p.segmentation.len())
        },
        |a| shannak::run(a, args.split, only),
    )?;
    for (_, table) in &results.tables {
        println!("{}", table.to_markdown());
    }
    Ok(())
}
