//! The `grantkeeper` CLI as an AI client should launch it (`grantkeeper mcp bridge`).
//! The packages install it beside the app (both in /usr/bin) and a source build puts
//! both in target/: naming that file by its full path works whatever the client's PATH
//! is. Where there is none, the bare name, for the client to find on its PATH.

use std::path::Path;

const NAME: &str = "grantkeeper";

/// The CLI beside the running app, else its bare name.
pub fn beside_the_app() -> String {
    beside(std::env::current_exe().ok().as_deref())
}

fn beside(app: Option<&Path>) -> String {
    let file = format!("{NAME}{}", std::env::consts::EXE_SUFFIX);
    app.and_then(Path::parent)
        .map(|dir| dir.join(file))
        .filter(|path| path.is_file())
        // A path that is not UTF-8 could not be written into the client's JSON as it is.
        .and_then(|path| path.into_os_string().into_string().ok())
        .unwrap_or_else(|| NAME.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_beside_the_app_by_its_full_path_else_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("grantkeeper-app");
        std::fs::write(&app, "").unwrap();
        assert_eq!(beside(Some(&app)), "grantkeeper");
        let cli = dir.path().join(format!("grantkeeper{}", std::env::consts::EXE_SUFFIX));
        std::fs::write(&cli, "").unwrap();
        assert_eq!(beside(Some(&app)), cli.to_str().unwrap());
        assert_eq!(beside(None), "grantkeeper");
    }
}
