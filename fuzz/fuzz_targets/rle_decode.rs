//! RLE parser: any text, any small size, both forms. Decoding must never panic, and whatever
//! decodes must re-encode to a string that decodes to the same mask.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptx_io::rle::{decode, encode, pixel_count, RleForm};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (w, h) = (usize::from(data[0] % 64), usize::from(data[1] % 64));
    let form = if data[2] & 1 == 0 {
        RleForm::Relative
    } else {
        RleForm::Absolute
    };
    let Ok(text) = std::str::from_utf8(&data[3..]) else {
        return;
    };
    let counted = pixel_count(text, form);
    if let Ok(mask) = decode(text, (h, w), form) {
        assert!(counted.is_ok());
        let again = encode(&mask.view(), form);
        assert_eq!(
            decode(&again, (h, w), form).expect("own output decodes"),
            mask
        );
    }
});
