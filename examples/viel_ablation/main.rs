//! Viel & Orhan: the Lovász / ASPP / hypercolumns / scSE ablation on a ResNet34 U-Net with a
//! classification branch, all 16 combinations (Table 6). See `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example viel_ablation                # small synthetic run
//! cargo run --release -p ptx-examples --example viel_ablation -- --data SIIM --weights resnet34=resnet34-333f7ec4.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;

#[derive(Debug, Parser)]
#[command(about = "Viel & Orhan: Table 6, the ablation of Lovász, ASPP, hypercolumns and scSE")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Only these rows of Table 6 (0-based, in the table's order), e.g. `--only 0,2`.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<usize>>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.common.print_config {
        let runs = ptx_examples::papers::viel::runs(&args.common)?;
        return ptx_examples::papers::print_config(&runs, dir);
    }
    let table = ptx_examples::papers::viel::run(&args.common, args.only.as_deref())?;
    println!("{}", table.to_markdown());
    Ok(())
}
