//! The U-Net decoder of segmentation_models_pytorch with the papers' options (centre block,
//! scSE attention, hypercolumns, dropout).

mod aspp;
mod scse;
mod unet;

pub(crate) use aspp::ASPP_CHANNELS;
pub(crate) use unet::UnetDecoder;
pub use unet::{Attention, Center, DecoderOptions};
