//! What the tests of the `grantkeeper` binary share: a private data directory and
//! keychain service, and the binary run as a person or a script runs it.
#![allow(dead_code)] // each test file uses a different part

use std::io::Write;
use std::process::{Command, Output, Stdio};

use grantkeeper_test_support::{
    browser_command, fixed_port_sign_in_blocking, require_session, secret_tool_keys, secret_tool_lookup,
    unique_keychain_service, BrowserMode, ProviderEmulator, EMULATED_CLIENT_ID, EMULATED_CLIENT_SECRET,
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
            // Provider apps an organisation supplies: the test's own files, if it writes them.
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("GRANTKEEPER_SYSTEM_PROVIDER_APPS", self.system_provider_apps())
            .env_remove("BROWSER")
            .env_remove("GRANTKEEPER_LOG")
            // No display: no app is started. The token agent, where a test serves one.
            .env("GRANTKEEPER_AGENT_SOCKET", self.agent_socket())
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("GRANTKEEPER_NO_AGENT");
        command
    }

    /// The binary with `args`, started by `sh -c SCRIPT` as its `"$@"` (SCRIPT sets
    /// something up and then runs `exec "$@"`), with this test's environment.
    pub fn command_through_shell(&self, script: &str, args: &[&str]) -> Command {
        let binary = self.command(args);
        let mut command = Command::new("sh");
        command.args(["-c", script, "sh"]).arg(binary.get_program()).args(binary.get_args());
        for (name, value) in binary.get_envs() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        command
    }

    /// Where this test's token agent would listen.
    pub fn agent_socket(&self) -> std::path::PathBuf {
        self.home.path().join("agent/agent.sock")
    }

    /// Where this test's system-wide supplied provider apps file would be.
    pub fn system_provider_apps(&self) -> std::path::PathBuf {
        self.home.path().join("system-provider-apps.toml")
    }

    /// The same, where no Secret Service answers: the session bus is nowhere.
    pub fn command_without_keychain(&self, args: &[&str]) -> Command {
        let mut command = self.command(args);
        command.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        command
    }

    /// Adds the test provider as "Local OP" with its public client.
    pub fn add_public_provider(&self, issuer: &str) {
        ok(&self.run(&add_local_op(issuer, "grantkeeper-test")));
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

    /// The command for `args` with its stdout and stderr captured, to spawn.
    pub fn piped(&self, args: &[&str]) -> Command {
        let mut command = self.command(args);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        output_with_stdin(self.command(args), stdin)
    }

    /// Sets `provider`'s provider app to the emulator's, with the emulated client.
    pub fn use_emulator(&self, emulator: &ProviderEmulator, provider: &str) {
        ok(&self.run_with_stdin(&strs(&use_emulator(emulator, provider)), EMULATED_CLIENT_SECRET));
    }

    /// `connect INTEGRATION --name NAME` at a provider whose callback port is fixed, when
    /// no other test of this binary signs in there.
    pub fn connect_at_fixed_port(&self, integration: &str, name: &str) {
        let _turn = fixed_port_sign_in_blocking();
        ok(&self.run(&["connect", integration, "--name", name]));
    }
}

/// Runs `command` with `stdin` written to it, and waits for it to finish.
pub fn output_with_stdin(mut command: Command, stdin: &str) -> Output {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// `providers add` of the test provider as "Local OP", found by discovery, with the
/// client `client_id`.
pub fn add_local_op<'a>(issuer: &'a str, client_id: &'a str) -> Vec<&'a str> {
    vec!["providers", "add", "--name", "Local OP", "--issuer", issuer, "--client-id", client_id]
}

/// The same with the test provider's confidential client; the secret goes on stdin.
pub fn add_confidential_provider(issuer: &str) -> Vec<&str> {
    [&add_local_op(issuer, "grantkeeper-confidential")[..], &["--client-secret-stdin"]].concat()
}

/// `providers set PROVIDER` pointing a catalog provider's endpoints at the emulator,
/// with the emulated client; its secret goes on stdin.
pub fn use_emulator(emulator: &ProviderEmulator, provider: &str) -> Vec<String> {
    let mut args: Vec<String> =
        ["providers", "set", provider, "--client-id", EMULATED_CLIENT_ID, "--client-secret-stdin"]
            .map(String::from)
            .into();
    for (field, url) in emulator.endpoints(provider) {
        args.extend([format!("--{}", field.replace('_', "-")), url]);
    }
    args
}

/// Borrows each argument, as `Command::args` and `Cli::run` take them.
pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
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
