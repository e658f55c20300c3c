//! Just enough of the ZIP format to read `torch.save` archives: stored (uncompressed) entries,
//! ZIP64 sizes and offsets.

use std::collections::HashMap;

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

/// Whether `data` starts like a ZIP archive.
pub(crate) fn is_zip(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04")
}

/// Entry name -> its bytes, for every entry of the archive.
pub(crate) fn entries(data: &[u8]) -> Result<HashMap<String, &[u8]>, String> {
    let bad = || "malformed zip archive".to_owned();
    // End of central directory: the last "PK\x05\x06" within the trailing 64 KiB + 22 bytes.
    let from = data.len().saturating_sub(65_557);
    let eocd = (from..data.len().saturating_sub(21))
        .rev()
        .find(|&i| data[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(bad)?;
    let mut count = u16_at(data, eocd + 10).ok_or_else(bad)? as u64;
    let mut cd = u32_at(data, eocd + 16).ok_or_else(bad)? as u64;
    // ZIP64 end of central directory, through its locator just before the EOCD.
    if eocd >= 20 && data[eocd - 20..].starts_with(b"PK\x06\x07") {
        let z = u64_at(data, eocd - 20 + 8).ok_or_else(bad)? as usize;
        if data.get(z..).is_some_and(|s| s.starts_with(b"PK\x06\x06")) {
            count = u64_at(data, z + 32).ok_or_else(bad)?;
            cd = u64_at(data, z + 48).ok_or_else(bad)?;
        }
    }
    let mut out = HashMap::new();
    let mut at = cd as usize;
    for _ in 0..count {
        if !data.get(at..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            return Err(bad());
        }
        let method = u16_at(data, at + 10).ok_or_else(bad)?;
        let mut size = u32_at(data, at + 24).ok_or_else(bad)? as u64;
        let name_len = u16_at(data, at + 28).ok_or_else(bad)? as usize;
        let extra_len = u16_at(data, at + 30).ok_or_else(bad)? as usize;
        let comment_len = u16_at(data, at + 32).ok_or_else(bad)? as usize;
        let mut local = u32_at(data, at + 42).ok_or_else(bad)? as u64;
        let name_bytes = data.get(at + 46..at + 46 + name_len).ok_or_else(bad)?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        // ZIP64 extra field: the 0xffffffff fields, in order (uncompressed, compressed, offset).
        let extra = data
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(bad)?;
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e).ok_or_else(bad)?;
            let len = u16_at(extra, e + 2).ok_or_else(bad)? as usize;
            if id == 1 {
                let mut f = e + 4;
                if size == 0xffff_ffff {
                    size = u64_at(extra, f).ok_or_else(bad)?;
                    f += 8;
                }
                if u32_at(data, at + 20) == Some(0xffff_ffff) {
                    f += 8;
                }
                if local == 0xffff_ffff {
                    local = u64_at(extra, f).ok_or_else(bad)?;
                }
            }
            e += 4 + len;
        }
        if method != 0 {
            return Err(format!("zip entry {name} is compressed (method {method}); torch.save writes stored entries"));
        }
        let l = local as usize;
        if !data.get(l..).is_some_and(|s| s.starts_with(b"PK\x03\x04")) {
            return Err(bad());
        }
        let lname = u16_at(data, l + 26).ok_or_else(bad)? as usize;
        let lextra = u16_at(data, l + 28).ok_or_else(bad)? as usize;
        let start = l + 30 + lname + lextra;
        let bytes = data.get(start..start + size as usize).ok_or_else(bad)?;
        out.insert(name, bytes);
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}
