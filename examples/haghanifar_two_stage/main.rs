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
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for table in ptx_examples::papers::haghanifar::run(&args.common)? {
        println!("{}", table.to_markdown());
    }
    Ok(())
}
