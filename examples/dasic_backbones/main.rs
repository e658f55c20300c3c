//! Dasic et al.: U-Net backbones (VGG16/19, ResNet34/50, DenseNet121, InceptionV3) on whole
//! images and on patches (Table 1). See `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example dasic_backbones              # synthetic run, 2 seeds (~10 min, 2 cores); --quick: smoke size
//! cargo run --release -p ptx-examples --example dasic_backbones -- --data SIIM --weights densenet121=densenet121-a639ec97.pth ...
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;
use ptx_examples::papers::{self, dasic};

#[derive(Debug, Parser)]
#[command(about = "Dasic et al.: Table 1, U-Net backbones on whole images and 128-px patches")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Only these backbones (0-based: VGG16, VGG19, ResNet34, ResNet50, DenseNet121,
    /// InceptionV3), e.g. `--only 4`.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<usize>>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.common.print_config {
        let runs = dasic::runs(&args.common)?;
        return papers::print_config(&runs, dir);
    }
    let only = args.only.as_deref();
    let results = papers::over_seeds(
        &args.common,
        &dasic::PLAN,
        |a| Ok(dasic::experiments(a, only)?.0.len() * 2),
        |a| dasic::run(a, only),
    )?;
    for (_, table) in &results.tables {
        println!("{}", table.to_markdown());
    }
    Ok(())
}
