//! The harness behind the paper examples (`examples/*/main.rs`): one module per paper under
//! [`papers`], each running the paper's experiment with [`ptx_train`] and returning its
//! results table in the paper's layout, plus what they share:
//!
//! - [`args::CommonArgs`]: `--data`, `--weights`, `--from-scratch`, `--device`, `--epochs`,
//!   `--size`, `--out`, ... and the full-scale versus small-run defaults;
//! - [`data`]: the SIIM layout (`dicom-images-train/` + `train-rle.csv`), the PNG version
//!   (`images/` + `masks/`), or a synthetic set generated on the spot;
//! - [`table::Table`]: CSV and Markdown tables, written beside the paper's own numbers;
//! - [`eval`]: scoring a trained model on the validation fold or the held-out test part;
//! - [`patches`], [`augmented`], [`latent`], [`cluster`]: patch datasets with stitching (Dasic
//!   et al.), offline positive augmentation with its split (Shannak et al.), convolutional
//!   auto-encoders / beta-VAEs (Harmalkar et al.), PCA and DBSCAN.
//!
//! Without `--data` every example runs on synthetic images (lesions four times SIIM's areas,
//! [`data::LESION_SCALE`]) with two seeds in about ten minutes on 2 CPU cores
//! ([`papers::over_seeds`]; `--quick` for a smoke-size run): numbers from such runs show how
//! each configuration learns the synthetic lesions, not the paper's results.
//!
//! ```
//! use ptx_examples::table::Table;
//! let mut t = Table::new("Table 4", &["Model", "DICE Coefficient", "IoU Coefficient"]);
//! t.row(vec!["Randomly initialized".into(), "0.50".into(), "0.36".into()]);
//! assert!(t.to_markdown().contains("| Randomly initialized | 0.50 | 0.36 |"));
//! ```

pub mod args;
pub mod augmented;
pub mod cluster;
pub mod data;
pub mod eval;
pub mod latent;
pub mod papers;
pub mod patches;
pub mod table;
