//! Real `git` against a GitLab that serves repositories over HTTP and checks every
//! request's OAuth token (`tests/oidc/git.mjs`): with `grantkeeper` as its credential
//! helper, and through `grantkeeper exec`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{ok, text, Cli};
use grantkeeper_test_support::{BrowserMode, OidcProvider};

/// git as a person runs it, with no configuration but what the test passes; its
/// credential helper `grantkeeper` is found on PATH as git-credential-grantkeeper.
fn git(cli: &Cli, dir: &Path, args: &[&str]) -> Output {
    let helper_dir = Path::new(env!("CARGO_BIN_EXE_git-credential-grantkeeper")).parent().unwrap();
    let path = format!("{}:{}", helper_dir.display(), std::env::var("PATH").unwrap_or_default());
    Command::new("git")
        .args(["-c", "user.name=Grace", "-c", "user.email=grace@example.test"])
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", cli.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env("GRANTKEEPER_HOME", cli.home.path())
        .env("GRANTKEEPER_KEYCHAIN_SERVICE", &cli.service)
        // As for every command these tests run: no display, so no app is started.
        .env("GRANTKEEPER_AGENT_SOCKET", cli.agent_socket())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap()
}

fn git_ok(cli: &Cli, dir: &Path, args: &[&str]) -> String {
    let output = git(cli, dir, args);
    assert!(output.status.success(), "git {args:?}: {}", text(&output.stderr));
    text(&output.stdout)
}

/// git's options that make `grantkeeper` its only credential helper.
const WITH_THE_HELPER: [&str; 4] = ["-c", "credential.helper=", "-c", "credential.helper=grantkeeper"];

fn with_the_helper<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [&WITH_THE_HELPER[..], args].concat()
}

#[test]
fn git_pulls_and_pushes_with_fresh_tokens_and_a_refused_token_leads_to_reauthorize() {
    let repos = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let bare = repos.path().join("grace/notes.git");
    let cli = Cli::new(BrowserMode::Consent);
    git_ok(&cli, work.path(), &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    git_ok(&cli, &bare, &["config", "http.receivepack", "true"]);
    let op = OidcProvider::start_with(&[
        ("OIDC_PROFILE", "gitlab"),
        ("GITLAB_GIT_ROOT", repos.path().to_str().unwrap()),
    ]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    cli.set_up_gitlab(&op.issuer);
    ok(&cli.run(&["connect", "gitlab-git", "--name", "Git"]));
    let remote = format!("{}/grace/notes.git", op.issuer);

    // The server wants a token: git with no helper is turned away.
    let refused = git(&cli, work.path(), &["clone", "-q", &remote, "anonymous"]);
    assert!(!refused.status.success());
    assert!(runtime.block_on(op.stats()).git_refused >= 1);

    // With the helper git clones, commits and pushes.
    git_ok(&cli, work.path(), &with_the_helper(&["clone", "-q", &remote, "notes"]));
    let notes = work.path().join("notes");
    commit(&cli, &notes, "first.txt", "hello\n", "First note");
    git_ok(&cli, &notes, &with_the_helper(&["push", "-q", "origin", "main"]));
    let pushed = git_ok(&cli, &bare, &["log", "--format=%s", "main"]);
    assert_eq!(pushed, "First note\n");
    assert!(runtime.block_on(op.stats()).git_authorized >= 2);

    exec_hands_git_the_token_in_the_environment(&cli, work.path(), &remote);
    only_hosts_a_connection_serves_get_an_answer(&cli, &op.issuer);

    // The grant is revoked at GitLab: the push is refused, git tells the helper to
    // erase the token, and the connection shows that it needs the person.
    runtime.block_on(op.revoke_grants("grace"));
    commit(&cli, &notes, "second.txt", "again\n", "Second note");
    let rejected = git(&cli, &notes, &with_the_helper(&["push", "-q", "origin", "main"]));
    assert!(!rejected.status.success());
    assert!(text(&rejected.stderr).contains("grantkeeper reconnect \"Git\""), "{}", text(&rejected.stderr));
    let status = cli.run(&["status", "Git", "--json"]);
    assert_eq!(status.status.code(), Some(3));
    assert!(text(&status.stdout).contains("\"reauthorize\""), "{}", text(&status.stdout));
}

/// Writes `file` in the clone at `dir` and commits it as `message`.
fn commit(cli: &Cli, dir: &Path, file: &str, contents: &str, message: &str) {
    std::fs::write(dir.join(file), contents).unwrap();
    git_ok(cli, dir, &["add", file]);
    git_ok(cli, dir, &["commit", "-q", "-m", message]);
}

/// `exec` hands the token to git in the environment, never on a command line.
fn exec_hands_git_the_token_in_the_environment(cli: &Cli, work: &Path, remote: &str) {
    let from_env =
        "credential.helper=!f() { echo username=oauth2; echo \"password=$GRANTKEEPER_TOKEN\"; }; f";
    let exec = cli
        .command(&[
            "exec",
            "Git",
            "--",
            "git",
            "-c",
            "credential.helper=",
            "-c",
            from_env,
            "clone",
            "-q",
            remote,
            "via-exec",
        ])
        .current_dir(work)
        .env("HOME", cli.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    ok(&exec);
    assert_eq!(std::fs::read_to_string(work.join("via-exec/first.txt")).unwrap(), "hello\n");
}

/// Hosts no connection serves get no answer, so git asks elsewhere; the GitLab's own
/// host gets a token, and what is not a git request an error.
fn only_hosts_a_connection_serves_get_an_answer(cli: &Cli, issuer: &str) {
    let port = issuer.rsplit(':').next().unwrap();
    for request in [
        "protocol=https\nhost=github.com\n".to_owned(),
        format!("protocol=https\nhost=127.0.0.1:{port}\n"),
        format!("protocol=http\nhost=127.0.0.1:{}\n", port.parse::<u16>().unwrap() + 1),
        format!("protocol=http\nhost=127.0.0.1:{port}\nusername=bob\n"),
    ] {
        assert_eq!(ok(&cli.run_with_stdin(&["git-credential", "get"], &request)), "", "{request}");
    }
    let answer =
        ok(&cli
            .run_with_stdin(&["git-credential", "get"], &format!("protocol=http\nhost=127.0.0.1:{port}\n")));
    assert!(answer.contains("username=oauth2\n") && answer.contains("password_expiry_utc="), "{answer:.60}");
    let bad = cli.run_with_stdin(&["git-credential", "get"], "not a git request\n");
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("key=value"), "{}", text(&bad.stderr));
}
