//! Viel & Orhan: the Lovász / ASPP / hypercolumns / scSE ablation on a ResNet34 U-Net with a
//! classification branch, all 16 combinations (Table 6). See `README.md` beside this file.
//!
//! ```text
//! cargo run --release -p ptx-examples --example viel_ablation                # synthetic run, 2 seeds (~10 min, 2 cores); --quick: smoke size
//! cargo run --release -p ptx-examples --example viel_ablation -- --data SIIM --weights resnet34=resnet34-333f7ec4.pth
//! ```

use clap::Parser;
use ptx_examples::args::CommonArgs;
use ptx_examples::papers::{self, viel};

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
        let runs = viel::runs(&args.common)?;
        return papers::print_config(&runs, dir);
    }
    let only = args.only.as_deref();
    let results = papers::over_seeds(
        &args.common,
        &viel::PLAN,
        |a| Ok(viel::experiments(a, only)?.len() * 2),
        |a| viel::run(a, only),
    )?;
    for (_, table) in &results.tables {
        println!("{}", table.to_markdown());
    }
    Ok(())
}
