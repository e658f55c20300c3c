//! Writing files so that a failure never leaves a partial file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `path` atomically: the bytes go to a temporary file in the same folder, which is
/// then renamed over `path`. A crash or error leaves either the old file or none.
///
/// # Errors
/// [`Error::Io`] with the path.
pub fn write_atomic(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_atomic_with(path, |tmp| {
        let mut out = std::io::BufWriter::new(std::fs::File::create(tmp)?);
        write(&mut out)?;
        out.flush()
    })
}

/// [`write_atomic`] for writers that take a path (a library that saves to a file name, such
/// as safetensors): `write` creates the temporary file it is given; it is then flushed to
/// disk and renamed over `path`. A crash or error leaves either the old file or none.
///
/// # Errors
/// [`Error::Io`] with the path.
pub fn write_atomic_with(
    path: impl AsRef<Path>,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let tmp = temporary_sibling(path);
    let result = (|| {
        write(&tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

fn temporary_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Checks that an ImageId can be used as a file name inside an output folder: not empty, no
/// path separator, not `.` or `..`, no NUL or control characters.
///
/// # Errors
/// [`Error::UnsafeImageId`] naming the id and the reason.
pub fn check_image_id_as_file_name(image_id: &str) -> Result<()> {
    let reason = if image_id.is_empty() {
        Some("it is empty")
    } else if image_id.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if image_id == "." || image_id == ".." {
        Some("it names a folder")
    } else if image_id.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::UnsafeImageId {
            image_id: image_id.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;
    use super::*;

    #[test]
    fn unsafe_ids() -> TestResult {
        for id in ["", "a/b", "..", ".", "x\\y", "a\nb", "../../etc/passwd"] {
            assert!(check_image_id_as_file_name(id).is_err(), "{id:?}");
        }
        check_image_id_as_file_name("1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319")?;
        Ok(())
    }

    #[test]
    fn failed_write_leaves_nothing() -> TestResult {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("x.txt");
        let r = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
        write_atomic(&p, |w| w.write_all(b"ok"))?;
        assert_eq!(std::fs::read(&p)?, b"ok");
        let r = write_atomic_with(&p, |tmp| {
            std::fs::write(tmp, b"half")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p)?, b"ok");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        write_atomic_with(&p, |tmp| std::fs::write(tmp, b"whole"))?;
        assert_eq!(std::fs::read(&p)?, b"whole");
        Ok(())
    }
}
