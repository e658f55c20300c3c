//! Annotation CSV reader, then masks of every image at a small size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptx_io::annotations::Annotations;
use ptx_io::rle::RleForm;

fuzz_target!(|data: &[u8]| {
    if let Ok(ann) = Annotations::from_reader(data, "fuzz.csv") {
        for id in ann.image_ids() {
            let _ = ann.mask(id, (16, 16), RleForm::Relative);
            let _ = ann.label(id, RleForm::Absolute);
        }
    }
});
