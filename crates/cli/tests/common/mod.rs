//! What the tests of the `grantkeeper` binary share: a private data directory and
//! keychain service, and the binary run as a person or a script runs it.
#![allow(dead_code)] // each test file uses a different part

use std::io::Write;
use std::process::{Command, Output, Stdio};

use grantkeeper_test_support::{
    browser_command, require_session, secret_tool_keys, secret_tool_lookup, unique_keychain_service,
    BrowserMode,
};

pub struct Cli {
    pub home: tempfile::TempDir,
    pub service: String,
    browser: String,
}

impl Cli {
    pub fn new(browser: BrowserMode) -> Self {
        require_session();
        Cli {
            home: tempfile::tempdir().unwrap(),
            service: unique_keychain_service(),
            browser: browser_command(browser, "grace"),
        }
    }

    /// The same, with another command as the browser.
    pub fn with_browser(mut self, command: &str) -> Self {
        self.browser = command.to_owned();
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_grantkeeper"));
        command
            .args(args)
            .env("GRANTKEEPER_HOME", self.home.path())
            .env("GRANTKEEPER_KEYCHAIN_SERVICE", &self.service)
            .env("GRANTKEEPER_BROWSER", &self.browser)
            .env_remove("BROWSER")
            .env_remove("GRANTKEEPER_LOG");
        command
    }

    /// Adds the test provider as "Local OP" with its public client.
    pub fn add_public_provider(&self, issuer: &str) {
        ok(&self.run(&[
            "providers",
            "add",
            "--name",
            "Local OP",
            "--issuer",
            issuer,
            "--client-id",
            "grantkeeper-test",
        ]));
    }

    /// Points the catalog's GitLab at the test provider dressed as a self-managed
    /// GitLab (`OIDC_PROFILE=gitlab`), with its public client.
    pub fn set_up_gitlab(&self, issuer: &str) {
        ok(&self.run(&[
            "providers",
            "set",
            "gitlab",
            "--client-id",
            "grantkeeper-gitlab",
            "--base-url",
            issuer,
        ]));
    }

    /// The credential's token set as the keychain holds it, read with secret-tool.
    pub fn stored_tokens(&self) -> serde_json::Value {
        let keys = secret_tool_keys(&self.service);
        let credential_key = keys.iter().find(|k| k.starts_with("credential/")).expect("a credential item");
        serde_json::from_str(&secret_tool_lookup(&self.service, credential_key).unwrap()).unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}
