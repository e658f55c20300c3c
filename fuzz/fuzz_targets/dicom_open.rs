//! DICOM open + decode + display from arbitrary bytes: typed errors only, never a panic
//! escaping the crate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptx_io::dicom::{DicomImage, DisplayOptions, ReadOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = DicomImage::from_bytes(data, &ReadOptions::default()) {
        let _ = image.display(&DisplayOptions::default());
    }
});
