//! Shannak et al.: plain U-Net auto-encoder pre-training on X-rays and masks, transferred to
//! segmentation, against random initialisation and a ResNet50 encoder (Table 4). See
//! `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example shannak_autoencoder          # small synthetic run
//! cargo run --release -p ptx-examples --example shannak_autoencoder -- --data SIIM-PNG --weights resnet50=resnet50-0676ba61.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;

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
        let runs = ptx_examples::papers::shannak::runs(&args.common, args.split)?;
        return ptx_examples::papers::print_config(&runs, dir);
    }
    let table = ptx_examples::papers::shannak::run(&args.common, args.split, args.only.as_deref())?;
    println!("{}", table.to_markdown());
    Ok(())
}
