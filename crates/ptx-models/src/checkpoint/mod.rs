//! Weights: reading PyTorch and safetensors files, mapping names, loading into a var store.

mod import;
mod pickle;
mod torch_file;
mod zip;

pub use import::{load_weights, read_weights, LoadReport, WeightSource};
