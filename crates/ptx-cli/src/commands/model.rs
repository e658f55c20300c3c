//! `ptx model summary`: blocks, parameter counts and output shapes of a configuration.

use anyhow::Result;
use ptx_models::Summary;

use super::emit;
use super::model_args::ModelArgs;
use super::preprocess::SizeArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ModelCommand {
    /// Print the blocks, parameter counts and output shapes of a model configuration.
    Summary(SummaryArgs),
}

#[derive(Debug, clap::Args)]
struct SummaryArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Input size for the shapes: N or HEIGHTxWIDTH.
    #[arg(long, default_value = "512")]
    size: SizeArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ModelCommand::Summary(a) = args.command;
    let config = a.model.config(None)?;
    let (h, w) = a.size.0.unwrap_or((512, 512));
    let summary = Summary::of(&config, h as i64, w as i64)?;
    if a.json {
        emit(serde_json::to_string_pretty(&summary)?);
    } else {
        emit(summary);
    }
    Ok(())
}
