//! Opening the provider's authorize URL in the person's browser: through the desktop
//! portal where there is one (`portal.rs`), else the `open` crate. `GRANTKEEPER_BROWSER`
//! or `BROWSER` names another command (tests use a stand-in that signs in over HTTP);
//! such a command gets the URL as an argument, as it asks to.

use std::process::Stdio;

use url::Url;

use crate::{Error, Result};

#[derive(Debug, Clone)]
pub enum Browser {
    /// The system's default browser.
    System,
    /// Command lines to try in order; `%s` is replaced by the URL, or the URL is appended.
    Commands(Vec<String>),
    /// Do not open anything; the caller shows the URL.
    None,
}

impl Browser {
    pub fn from_env() -> Self {
        let set = |name| std::env::var(name).ok().filter(|value: &String| !value.trim().is_empty());
        if let Some(command) = set("GRANTKEEPER_BROWSER") {
            Browser::Commands(vec![command])
        } else if let Some(list) = set("BROWSER") {
            // BROWSER may list several commands separated by colons.
            Browser::Commands(list.split(':').filter(|c| !c.trim().is_empty()).map(str::to_owned).collect())
        } else {
            Browser::System
        }
    }

    pub async fn open(&self, url: &Url) -> Result<()> {
        match self {
            Browser::None => Ok(()),
            Browser::System => open_system(url).await,
            Browser::Commands(commands) => {
                commands.iter().find_map(|command| spawn(command, url).ok()).ok_or_else(|| {
                    Error::Internal(format!("could not start the browser command “{}”", commands.join(":")))
                })
            }
        }
    }
}

#[cfg(all(unix, not(target_vendor = "apple")))]
async fn open_system(url: &Url) -> Result<()> {
    match super::portal::open_uri(url).await? {
        super::portal::Answer::Opened => return Ok(()),
        super::portal::Answer::NotOpened(reason) => {
            tracing::info!(%reason, "the desktop portal did not open the browser; using xdg-open");
        }
    }
    // Without a portal there is no other way to hand the URL to the person's browser,
    // and xdg-open takes it as an argument: local users can read it in /proc/PID/cmdline
    // while xdg-open and the browser it starts run (unless /proc is mounted hidepid=2).
    // They learn this flow's state, nonce and PKCE challenge; none of these redeems the
    // code, which takes the PKCE verifier that never leaves this process.
    open_detached(url)
}

#[cfg(not(all(unix, not(target_vendor = "apple"))))]
async fn open_system(url: &Url) -> Result<()> {
    open_detached(url)
}

fn open_detached(url: &Url) -> Result<()> {
    open::that_detached(url.as_str()).map_err(|e| Error::Internal(format!("could not open the browser: {e}")))
}

fn spawn(command: &str, url: &Url) -> Result<()> {
    let mut words = shell_words::split(command).map_err(|e| Error::Internal(e.to_string()))?;
    if words.is_empty() {
        return Err(Error::Internal("empty browser command".into()));
    }
    if words.iter().any(|word| word.contains("%s")) {
        words.iter_mut().for_each(|word| *word = word.replace("%s", url.as_str()));
    } else {
        words.push(url.to_string());
    }
    let mut child = tokio::process::Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Error::Internal(format!("could not start {}: {e}", words[0])))?;
    // Reap the child so it does not linger as a zombie.
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    Ok(())
}
