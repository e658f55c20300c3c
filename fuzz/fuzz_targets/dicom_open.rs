//! DICOM open + decode + display from arbitrary bytes: typed errors only, never a panic
//! escaping the crate.
//!
//! libfuzzer-sys's panic hook aborts on any panic, even one caught inside ptx-io (which turns
//! panics of dicom-rs's codecs into `Error::PixelDecode`). The `init` block restores a silent
//! hook so that only panics escaping `ptx_io` reach libfuzzer-sys's `catch_unwind`, which
//! still aborts and reports them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptx_io::dicom::{DicomImage, DisplayOptions, ReadOptions};

fuzz_target!(init: { std::panic::set_hook(Box::new(|_| {})); }, |data: &[u8]| {
    if let Ok(image) = DicomImage::from_bytes(data, &ReadOptions::default()) {
        let _ = image.display(&DisplayOptions::default());
    }
});
