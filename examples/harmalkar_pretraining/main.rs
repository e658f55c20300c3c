//! Harmalkar et al.: ResNet34 encoder pre-trained as a classifier on labels and on
//! pseudo-labels from AE / beta-VAE codes (PCA + DBSCAN, 14 clusters), then segmentation
//! (Table 1). See `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example harmalkar_pretraining        # small synthetic run
//! cargo run --release -p ptx-examples --example harmalkar_pretraining -- --data SIIM --weights resnet34=resnet34-333f7ec4.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;

#[derive(Debug, Parser)]
#[command(about = "Harmalkar et al.: Table 1, classifier and pseudo-label pre-training")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.common.print_config {
        return ptx_examples::papers::harmalkar::print_config(&args.common, dir);
    }
    let (table, pre) = ptx_examples::papers::harmalkar::run(&args.common)?;
    println!("{}\n{}", table.to_markdown(), pre.to_markdown());
    Ok(())
}
