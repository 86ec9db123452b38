//! Writes the man pages of `grantkeeper` (one per subcommand), `git-credential-grantkeeper`
//! and `grantkeeper-app` into a folder, from the same clap definition the binary parses
//! with, so the pages cannot drift from the options. scripts/package.sh runs it:
//!
//!     cargo run -p grantkeeper-cli --example man_pages -- OUT_DIR

// Only the clap definition is used here; what main.rs reads from it stays unused.
#[allow(dead_code)]
#[path = "../src/args.rs"]
mod args;

use clap::CommandFactory;
use clap_mangen::Man;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(out_dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: man_pages OUT_DIR");
        return ExitCode::from(2);
    };
    match write_pages(&out_dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("man_pages: could not write into {}: {error}", out_dir.display());
            ExitCode::FAILURE
        }
    }
}

fn write_pages(out_dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out_dir)?;
    let cli = args::Cli::command();
    // The helper git runs is `grantkeeper git-credential` under another name.
    let helper = cli
        .find_subcommand("git-credential")
        .expect("args.rs defines the git-credential subcommand")
        .clone()
        .name("git-credential-grantkeeper")
        .version(env!("CARGO_PKG_VERSION"));
    clap_mangen::generate_to(cli, out_dir)?;
    Man::new(helper).generate_to(out_dir)?;
    Man::new(window_app()).generate_to(out_dir)?;
    Ok(())
}

/// The window takes no options; its page says what it is and where it keeps things.
fn window_app() -> clap::Command {
    clap::Command::new("grantkeeper-app")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The Grantkeeper window: connect online accounts and keep their tokens fresh")
        .long_about(
            "Opens the Grantkeeper window, or brings it forward when Grantkeeper already runs. \
             Closing the window keeps Grantkeeper in the tray, refreshing tokens before they \
             expire; Quit (tray menu or the window's footer) ends it.\n\n\
             Tokens, client secrets and API keys are kept in the Secret Service (for example \
             gnome-keyring) under the service \"grantkeeper\"; everything else in \
             ~/.local/share/grantkeeper. Removing the package leaves both in place. \
             See grantkeeper(1) for the command line.",
        )
        .after_help(
            "Environment:\n  GRANTKEEPER_HOME      data directory (default ~/.local/share/grantkeeper)\n  \
             GRANTKEEPER_BROWSER   command that opens sign-in URLs (else BROWSER, else the system browser)",
        )
}
