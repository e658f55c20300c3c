//! Initial weights of a fresh run ([`InitFrom`]).

use ptx_models::{Model, Part};
use tch::Device;

use crate::config::InitFrom;
use crate::run::dir::RunDir;
use crate::{Error, Result};

/// Applies `inits` to `model` in order: a checkpoint folder's variables (all or `parts`; a
/// training run's folder stands for its final model, [`RunDir::final_checkpoint`]), or a
/// weights file read as `source`. Returns one line per entry saying what was copied.
///
/// # Errors
/// [`Error::Config`] for a path that does not exist; [`Error::Model`]
/// for missing keys (strict) or shape mismatches, naming the key and the file.
pub(crate) fn apply_init(
    model: &mut Model,
    inits: &[InitFrom],
    device: Device,
) -> Result<Vec<String>> {
    let mut lines = Vec::with_capacity(inits.len());
    for init in inits {
        let from = &init.from;
        if !from.exists() {
            return Err(Error::config(
                "init.from",
                format!("{} does not exist", from.display()),
            ));
        }
        if from.is_dir() {
            let run = RunDir::open(from);
            let checkpoint = if run.is_run() {
                run.final_checkpoint()?
            } else {
                from.clone()
            };
            let source = Model::load(&checkpoint, device)?;
            let parts = if init.parts.is_empty() {
                vec![Part::Prefix(String::new())]
            } else {
                init.parts.clone()
            };
            let copied = model.transfer_from(&source, &parts)?;
            lines.push(format!(
                "init: {copied} variables ({parts:?}) from {}",
                checkpoint.display()
            ));
        } else {
            let report = model.load_weights(from, init.source, init.strict)?;
            lines.push(format!("init: {report} from {}", from.display()));
        }
    }
    Ok(lines)
}
