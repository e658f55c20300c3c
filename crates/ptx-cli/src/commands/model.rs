//! `ptx model summary`: blocks, parameter counts and output shapes of a configuration.

use anyhow::Result;
use ptx_models::Summary;

use super::emit;
use super::model_args::ModelArgs;
use super::size::Size;

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
    size: Size,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ModelCommand::Summary(a) = args.command;
    let config = a.model.config(None)?;
    let summary = Summary::of(&config, a.size.height as i64, a.size.width as i64)?;
    if a.json {
        emit(serde_json::to_string_pretty(&summary)?);
    } else {
        emit(summary);
    }
    Ok(())
}
