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
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let table = ptx_examples::papers::shannak::run(&args.common, args.only.as_deref())?;
    println!("{}", table.to_markdown());
    Ok(())
}
