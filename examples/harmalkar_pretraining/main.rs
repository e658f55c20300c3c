//! Harmalkar et al.: ResNet34 encoder pre-trained as a classifier on labels and on
//! pseudo-labels from AE / beta-VAE codes (PCA + DBSCAN, 14 clusters), then segmentation
//! (Table 1). See `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example harmalkar_pretraining        # synthetic run, 2 seeds (~10 min, 2 cores); --quick: smoke size
//! cargo run --release -p ptx-examples --example harmalkar_pretraining -- --data SIIM --weights resnet34=resnet34-333f7ec4.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;
use ptx_examples::papers::{self, harmalkar};

#[derive(Debug, Parser)]
#[command(about = "Harmalkar et al.: Table 1, classifier and pseudo-label pre-training")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.common.print_config {
        return harmalkar::print_config(&args.common, dir);
    }
    let results = papers::over_seeds(
        &args.common,
        &harmalkar::PLAN,
        |a| Ok(harmalkar::runs(a)?.len()),
        harmalkar::run,
    )?;
    for (_, table) in &results.tables {
        println!("{}", table.to_markdown());
    }
    Ok(())
}
