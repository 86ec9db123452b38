//! The data directory and what Grantkeeper creates in it. It holds metadata only, but
//! still nobody else's: the directory is made owner-only as it is created (never
//! world-readable for a moment, whatever the umask), and lock files are owner-only too.
//! The engine, the app's single-instance lock and the refresh locks all come here.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::{Error, Result};

/// Creates `path` (and any missing parents) as a directory only its owner can enter,
/// or makes an existing one so.
pub fn create_private_dir(path: &Path) -> Result<()> {
    let failed = |reason: String| Error::Storage { path: path.display().to_string(), reason };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory => failed(
            "it, or a folder above it, is a file, not a folder; set GRANTKEEPER_HOME to a folder".to_owned(),
        ),
        _ => failed(e.to_string()),
    })?;
    // It may have existed already, made by an older version or by hand.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| failed(e.to_string()))?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| failed(format!("other users can read it and it could not be made private ({e}); run `chmod 700` on it, or set GRANTKEEPER_HOME to a directory of your own")))?;
        }
    }
    Ok(())
}

/// Opens a lock file, creating it readable and writable by its owner only.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_where_the_directory_goes_is_named_as_such() {
        let file = tempfile::NamedTempFile::new().unwrap();
        for path in [file.path().to_owned(), file.path().join("below")] {
            let error = create_private_dir(&path).unwrap_err().to_string();
            assert!(error.contains("is a file, not a folder"), "{error}");
        }
        assert!(file.path().is_file(), "left as it was");
    }
}
