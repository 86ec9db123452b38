//! The token agent with the real socket: this test serves it from an engine on the
//! same data directory and keychain as the `grantkeeper` commands it runs, and answers
//! for the person through the engine, as the window does. Who asks is read from the
//! kernel: the test itself (`grantkeeper` only passes requests on), Python, or Python
//! pretending to be git.

mod common;

use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ok, text, Cli};
use grantkeeper_engine::agent::AgentServer;
use grantkeeper_engine::api::{ConsentAnswer, ConsentPolicy, ConsentRequest};
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::{Config, Engine, EventKind, Keychain};
use grantkeeper_test_support::{BrowserMode, ProviderEmulator};

const CONNECTION: &str = "Work GitHub";

struct Agent {
    cli: Cli,
    engine: Arc<Engine>,
    runtime: tokio::runtime::Runtime,
    /// The provider or server the connection was made with.
    _provider: Box<dyn std::any::Any>,
}

impl Agent {
    /// A connection made with the CLI, and an engine on the same data serving the agent.
    fn start(consent_wait: Duration) -> (Agent, AgentServer) {
        let emulator = ProviderEmulator::start();
        let cli = Cli::new(BrowserMode::Consent);
        cli.use_emulator(&emulator, "github-app");
        cli.connect_at_fixed_port("github-app", CONNECTION);
        Agent::serve(cli, consent_wait, Box::new(emulator))
    }

    /// An engine on `cli`'s data and keychain, serving the agent at its socket.
    fn serve(cli: Cli, consent_wait: Duration, provider: Box<dyn std::any::Any>) -> (Agent, AgentServer) {
        let config = Config {
            consent_wait,
            ..Config::new(cli.home.path().into(), cli.service.clone(), Browser::None)
        };
        let engine = Engine::open(config, Arc::new(Keychain::new(cli.service.clone()))).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = runtime.block_on(async { engine.serve_agent(&cli.agent_socket()) }).unwrap();
        (Agent { cli, engine, runtime, _provider: provider }, server)
    }

    fn token(&self) -> Child {
        self.cli.piped(&["token", CONNECTION]).spawn().unwrap()
    }

    /// `program` with the environment `grantkeeper` gets in these tests.
    fn as_the_cli(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        for (name, value) in self.cli.command(&[]).get_envs() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        command
    }

    /// `grantkeeper token` run by Python, under the name `argv0` where given (`exec -a`).
    fn token_from_python(&self, argv0: Option<&str>) -> Child {
        let script = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)";
        // The interpreter itself (a wrapper such as pyenv's would drop the name given),
        // told where its library is, which it would otherwise look for beside argv[0].
        let ask = "import sys; print(sys.executable); print(sys.base_prefix)";
        let found = text(&Command::new("python3").args(["-c", ask]).output().unwrap().stdout);
        let (python3, home) = found.trim().split_once('\n').unwrap();
        let python = format!("exec -a {} {python3} -c '{script}' \"$@\"", argv0.unwrap_or("python3"));
        let mut bash = self.as_the_cli("bash");
        bash.args(["-c", &python, "bash", env!("CARGO_BIN_EXE_grantkeeper"), "token", CONNECTION]);
        bash.env("PYTHONHOME", home).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// The one open prompt, once there is one; `who` asks, for a failure's message.
    fn prompt(&self, who: &mut Child) -> ConsentRequest {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let pending = self.engine.pending_consents();
            if let [one] = pending.as_slice() {
                return one.clone();
            }
            assert!(pending.len() < 2, "one prompt at a time here: {pending:?}");
            if Instant::now() > deadline || who.try_wait().unwrap().is_some() {
                who.kill().ok();
                let output = who.stderr.take().map(std::io::read_to_string).transpose().unwrap();
                panic!("nobody was asked; the caller said {output:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answer(&self, prompt: &ConsentRequest, answer: ConsentAnswer) {
        self.engine.answer_consent(&prompt.id, answer).unwrap();
    }

    fn access_token(&self) -> String {
        self.cli.stored_tokens()["access_token"].as_str().unwrap().to_owned()
    }

    fn hand_outs(&self) -> Vec<(EventKind, String)> {
        let events = self.engine.connection_activity(CONNECTION, 50).unwrap();
        events
            .into_iter()
            .filter(|e| e.program.is_some())
            .map(|e| (e.kind, e.detail.unwrap_or_default()))
            .collect()
    }
}

fn finished(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

#[test]
fn a_program_is_asked_about_once_and_every_hand_out_is_recorded() {
    let (agent, _server) = Agent::start(Duration::from_secs(30));
    let me = std::env::current_exe().unwrap().display().to_string();

    // The first request asks; Allow always lets the next one through unasked.
    let mut first = agent.token();
    let prompt = agent.prompt(&mut first);
    assert_eq!((prompt.program.path.as_str(), prompt.connection_name.as_str()), (me.as_str(), CONNECTION));
    assert!(prompt.can_allow_always);
    agent.answer(&prompt, ConsentAnswer::AllowAlways);
    let first = finished(first);
    assert_eq!(ok(&first), format!("{}\n", agent.access_token()));
    assert!(text(&first.stderr).is_empty(), "{}", text(&first.stderr));
    let second = finished(agent.token());
    assert_eq!(ok(&second), format!("{}\n", agent.access_token()));
    assert!(agent.engine.pending_consents().is_empty());
    let allowed = agent.engine.allowed_programs(CONNECTION).unwrap();
    assert_eq!((allowed.len(), allowed[0].path.as_str()), (1, me.as_str()));
    assert!(allowed[0].last_used_at.is_some());

    // Another program is asked about separately: Deny is exit 3, in so many words.
    let mut python = agent.token_from_python(None);
    let prompt = agent.prompt(&mut python);
    assert!(prompt.program.name.starts_with("python3"), "{:?}", prompt.program);
    agent.answer(&prompt, ConsentAnswer::Deny);
    let denied = finished(python);
    assert_eq!(denied.status.code(), Some(3), "{}", text(&denied.stderr));
    assert!(text(&denied.stderr).contains("Denied by you"), "{}", text(&denied.stderr));
    assert!(denied.stdout.is_empty());

    // A program calling itself git is still the executable it runs.
    let mut pretender = agent.token_from_python(Some("/usr/bin/git"));
    let prompt = agent.prompt(&mut pretender);
    assert!(prompt.program.name.starts_with("python3"), "not git: {:?}", prompt.program);
    assert!(prompt.program.command_line.starts_with("/usr/bin/git"), "{:?}", prompt.program);
    agent.answer(&prompt, ConsentAnswer::AllowOnce);
    assert_eq!(ok(&finished(pretender)), format!("{}\n", agent.access_token()));

    // Revoked, the test is asked again.
    agent.engine.revoke_program(CONNECTION, &me).unwrap();
    let mut again = agent.token();
    agent.answer(&agent.prompt(&mut again), ConsentAnswer::AllowOnce);
    ok(&finished(again));

    // The connection says who used it, the most recent first.
    let listed: serde_json::Value = serde_json::from_str(&ok(&agent.cli.run(&["list", "--json"]))).unwrap();
    let used_by: Vec<&str> =
        listed[0]["used_by"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(used_by.len(), 2, "{used_by:?}");
    assert_eq!(used_by[0], me, "{used_by:?}");
    assert!(used_by[1].contains("python3"), "{used_by:?}");
    assert!(listed[0]["last_handed_out_at"].is_string());

    every_hand_out_is_in_activity(&agent, &me);
}

/// The hand-outs and the refusal of the test above, newest first, with their programs.
fn every_hand_out_is_in_activity(agent: &Agent, me: &str) {
    let recorded = agent.hand_outs();
    let kinds: Vec<EventKind> = recorded.iter().map(|(kind, _)| *kind).collect();
    use EventKind::{TokenHandedOut as Out, TokenRefused as Refused};
    assert_eq!(kinds, [Out, Out, Refused, Out, Out], "newest first: {recorded:?}");
    assert!(recorded[3].1.contains("allowed always"), "{recorded:?}");
    assert!(recorded[2].1.contains("denied by you"), "{recorded:?}");
    let newest = ok(&agent.cli.run(&["activity", "--limit", "1"]));
    assert!(newest.contains(&format!("\ttoken_handed_out\t{CONNECTION}\t")), "{newest}");
    assert!(newest.trim_end().ends_with(&format!("\t{me}")), "the program it went to: {newest}");
}

/// A program that leaves while the app refreshes for it (Ctrl-C, a `timeout`) does not
/// stop that refresh: GitHub Apps rotate refresh tokens, so a refresh dropped between
/// sending one and saving the answer would leave the connection asking for a sign-in.
#[test]
fn a_refresh_outlives_the_program_that_left_during_it() {
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.use_emulator(&emulator, "github-app");
    cli.connect_at_fixed_port("github-app", CONNECTION);
    let (agent, _server) = Agent::serve(cli, Duration::from_secs(30), Box::new(()));
    let mut first = agent.token();
    agent.answer(&agent.prompt(&mut first), ConsentAnswer::AllowAlways);
    ok(&finished(first));
    let before = agent.cli.stored_tokens();
    let refreshes = || {
        let log = agent.runtime.block_on(emulator.log());
        log.iter()
            .filter(|r| r["body"].as_str().is_some_and(|b| b.contains("grant_type=refresh_token")))
            .count()
    };

    agent.runtime.block_on(emulator.delay_next_token_request(1500));
    let mut leaving = agent
        .cli
        .command(&["token", CONNECTION, "--min-ttl", "999999"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while refreshes() == 0 {
        assert!(Instant::now() < deadline, "the refresh never reached the provider");
        std::thread::sleep(Duration::from_millis(20));
    }
    leaving.kill().unwrap();
    leaving.wait().unwrap();

    // Waits for the refresh under way (its lock), and finds its answer saved: no other.
    let settled = agent.runtime.block_on(agent.engine.refresh_now(CONNECTION));
    assert_eq!(settled.unwrap().status, grantkeeper_engine::ConnectionStatus::Active);
    assert_ne!(
        agent.cli.stored_tokens()["refresh_token"],
        before["refresh_token"],
        "the rotated one is kept"
    );
    assert_eq!(refreshes(), 1);
}

#[test]
fn many_requests_get_one_prompt_and_a_caller_that_leaves_withdraws_it() {
    let (agent, _server) = Agent::start(Duration::from_secs(30));
    let path = agent.cli.agent_socket();
    let asks: Vec<_> = (0..200)
        .map(|_| {
            let path = path.clone();
            agent.runtime.spawn(async move {
                let asked =
                    grantkeeper_engine::agent::client::request_token(&path, CONNECTION, Duration::ZERO, &[]);
                asked.await.map(|handed| handed.map(|(_, token)| token.expose().to_owned()))
            })
        })
        .collect();
    let mut watcher = agent.token();
    let prompt = agent.prompt(&mut watcher);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(agent.engine.pending_consents().len(), 1, "200 requests, one prompt");
    agent.answer(&prompt, ConsentAnswer::AllowOnce);
    let expected = agent.access_token();
    for ask in asks {
        assert_eq!(agent.runtime.block_on(ask).unwrap().unwrap(), Some(expected.clone()));
    }
    assert_eq!(ok(&finished(watcher)), format!("{expected}\n"), "the CLI's request shared the prompt");

    let mut leaving = agent.token();
    agent.prompt(&mut leaving);
    leaving.kill().unwrap();
    leaving.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !agent.engine.pending_consents().is_empty() {
        assert!(Instant::now() < deadline, "the prompt outlived its caller");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_requests_are_refused_and_the_agent_keeps_serving() {
    use std::io::{Read, Write};
    let (agent, server) = Agent::start(Duration::from_secs(1));
    let path = agent.cli.agent_socket();
    let mode = |p: &std::path::Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions()) & 0o777
    };
    assert_eq!((mode(&path), mode(path.parent().unwrap())), (0o600, 0o700));

    let refused = |frame: &[u8]| {
        let mut stream = UnixStream::connect(&path).unwrap();
        stream.write_all(frame).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let garbage = refused(&[&5u32.to_be_bytes()[..], b"hello"].concat());
    assert!(garbage.contains("invalid_input") && garbage.contains("not a request"), "{garbage}");
    let oversized = refused(&(1u32 << 30).to_be_bytes());
    assert!(oversized.contains("more than"), "{oversized}");
    let newer = br#"{"version":9,"ask":{"token":{"connection":"x","min_ttl_secs":1}}}"#;
    let version = refused(&[&(newer.len() as u32).to_be_bytes()[..], newer].concat());
    assert!(version.contains("version 9"), "{version}");

    // Still serving: unanswered, the request ends after the wait, exit 3.
    let unanswered = finished(agent.token());
    assert_eq!(unanswered.status.code(), Some(3), "{}", text(&unanswered.stderr));
    assert!(
        text(&unanswered.stderr).contains("no answer came within 1 seconds"),
        "{}",
        text(&unanswered.stderr)
    );

    // A connection that never asks: no prompt.
    agent.engine.set_consent_policy(CONNECTION, ConsentPolicy::NeverAsk).unwrap();
    ok(&finished(agent.token()));

    // A second agent on the same socket is refused; once the first is gone (its
    // socket file left behind, as by a killed app), a new one takes its place.
    assert!(agent.runtime.block_on(async { agent.engine.serve_agent(&path) }).is_err());
    drop(server);
    std::os::unix::net::UnixListener::bind(&path).unwrap();
    let _replaced = agent.runtime.block_on(async { agent.engine.serve_agent(&path) }).unwrap();
    ok(&finished(agent.token()));
}

#[test]
fn without_the_app_the_cli_reads_the_keychain_unless_the_app_is_required() {
    let (agent, server) = Agent::start(Duration::from_secs(1));
    drop(server);
    let direct = agent.cli.run(&["token", CONNECTION]);
    assert_eq!(ok(&direct), format!("{}\n", agent.access_token()));
    assert!(text(&direct.stderr).contains("no display here"), "{}", text(&direct.stderr));

    agent.engine.set_require_app(true).unwrap();
    for args in [&["token", CONNECTION][..], &["token", CONNECTION, "--no-agent"]] {
        let refused = agent.cli.run(args);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
        assert!(text(&refused.stderr).contains("Require the app"), "{}", text(&refused.stderr));
        assert!(refused.stdout.is_empty());
    }
    agent.engine.set_require_app(false).unwrap();
    let chosen = agent.cli.command(&["token", CONNECTION]).env("GRANTKEEPER_NO_AGENT", "1").output().unwrap();
    assert_eq!(ok(&chosen), format!("{}\n", agent.access_token()));
}

/// The app quits while a program waits for the person's answer: the program is told
/// the app stopped (exit 1), not that the app is required, and gets no token.
#[test]
fn an_app_that_quits_before_it_answers_is_named_as_such() {
    let (agent, server) = Agent::start(Duration::from_secs(30));
    let mut waiting = agent.token();
    agent.prompt(&mut waiting);
    let Agent { runtime, .. } = agent;
    drop(server);
    drop(runtime);
    let stopped = finished(waiting);
    let said = text(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(1), "{said}");
    assert!(said.contains("the app stopped before it answered"), "{said}");
    assert!(!said.contains("Require the app"), "{said}");
    assert!(stopped.stdout.is_empty());
}

/// `exec` asks the running app as `token` does, then hands the command the token in its
/// environment; a variable name no shell could read is refused before anyone is asked.
#[test]
fn exec_asks_through_the_agent_and_hands_the_command_its_token() {
    let (agent, _server) = Agent::start(Duration::from_secs(30));
    let bad = agent.cli.run(&["exec", CONNECTION, "--env", "1BAD", "--", "true"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(agent.engine.pending_consents().is_empty(), "nobody was asked for a bad name");

    let print = "printf %s \"$GRANTKEEPER_TOKEN\"";
    let mut exec = agent.cli.piped(&["exec", CONNECTION, "--", "sh", "-c", print]).spawn().unwrap();
    let prompt = agent.prompt(&mut exec);
    assert_eq!(prompt.connection_name, CONNECTION);
    agent.answer(&prompt, ConsentAnswer::AllowOnce);
    assert_eq!(ok(&finished(exec)), agent.access_token());
    let handed = agent.hand_outs().into_iter().filter(|(kind, _)| *kind == EventKind::TokenHandedOut).count();
    assert_eq!(handed, 1);
}

#[test]
fn git_asks_through_the_credential_helper_as_git() {
    let (agent, _server) = Agent::start(Duration::from_secs(30));
    let helper = format!("credential.helper=!'{}' git-credential", env!("CARGO_BIN_EXE_grantkeeper"));
    let mut git = agent.as_the_cli("git");
    let mut git = git
        .args(["-c", "credential.helper=", "-c", &helper, "credential", "fill"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", agent.cli.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(git.stdin.as_mut().unwrap(), b"protocol=https\nhost=github.com\n\n").unwrap();
    let prompt = agent.prompt(&mut git);
    assert_eq!(prompt.program.name, "git", "{:?}", prompt.program);
    assert!(prompt.program.command_line.contains("credential fill"), "{:?}", prompt.program);
    agent.answer(&prompt, ConsentAnswer::AllowOnce);
    let filled = ok(&finished(git));
    assert!(filled.contains(&format!("password={}\n", agent.access_token())), "{filled}");
}

/// The SDK's client over stdio runs `grantkeeper mcp bridge`; its one-line report.
fn ai_client(agent: &Agent) -> Child {
    let script = grantkeeper_test_support::repo_root().join("tests/mcp/client.mjs");
    let bridge = [env!("CARGO_BIN_EXE_grantkeeper"), "mcp", "bridge", "Guarded"];
    let mut node = agent.as_the_cli("node");
    node.arg(script).args(["--calls", "2", "--"]).args(bridge);
    node.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn report(child: Child) -> serde_json::Value {
    let output = finished(child);
    serde_json::from_str(&text(&output.stdout)).unwrap_or_else(|e| panic!("{e}: {output:?}"))
}

#[test]
fn an_ai_client_is_asked_about_once_and_its_bridge_renews_through_the_agent() {
    let server = grantkeeper_test_support::mcp::McpGuarded::start();
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli.run(&["connect", "--url", &server.url, "--name", "Guarded"]));
    let (agent, _serving) = Agent::serve(cli, Duration::from_secs(30), Box::new(()));

    // The bridge passes the question on: the AI client (node) is the program asked about.
    let mut client = ai_client(&agent);
    let prompt = agent.prompt(&mut client);
    assert!(prompt.program.name.starts_with("node"), "{:?}", prompt.program);
    assert_eq!(prompt.connection_name, "Guarded");
    agent.answer(&prompt, ConsentAnswer::AllowAlways);
    let first = report(client);
    assert_eq!(first["results"], serde_json::json!(["Hello, Ada!", "Hello, Ada!"]), "{first}");
    assert_eq!(first["child_exit"], 0, "{first}");

    // The server stops taking the token: the bridge reports it to the agent, which
    // refreshes once; allowed always, nobody is asked.
    agent.runtime.block_on(server.expire_access());
    let after = report(ai_client(&agent));
    assert_eq!(after["results"], serde_json::json!(["Hello, Ada!", "Hello, Ada!"]), "{after}");
    assert_eq!(agent.runtime.block_on(server.stats())["token_refresh"], 1);
    let events = agent.engine.connection_activity("Guarded", 50).unwrap();
    let renewed =
        events.iter().filter(|e| e.detail.as_deref().is_some_and(|d| d.contains("refused the last")));
    assert_eq!(renewed.count(), 1, "{events:?}");

    // Asked every time and denied: the bridge ends, exit 3, saying so.
    agent.engine.set_consent_policy("Guarded", ConsentPolicy::AskEveryTime).unwrap();
    let mut client = ai_client(&agent);
    agent.answer(&agent.prompt(&mut client), ConsentAnswer::Deny);
    let denied = report(client);
    assert_eq!(denied["child_exit"], 3, "{denied}");
    assert!(denied["child_stderr"].as_str().unwrap().contains("Denied by you"), "{denied}");
}

/// Only root can be another user here: the folder and socket are opened to everyone,
/// so that only the agent's own check of the caller's uid stands in the way.
#[test]
fn a_caller_of_another_uid_is_refused() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // /proc/self belongs to the process's effective user.
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: needs root to run a caller as another user");
        return;
    }
    let (agent, _server) = Agent::start(Duration::from_secs(30));
    agent.engine.set_consent_policy(CONNECTION, ConsentPolicy::NeverAsk).unwrap();
    let socket = agent.cli.agent_socket();
    for (path, mode) in [(agent.cli.home.path(), 0o711), (socket.parent().unwrap(), 0o711), (&socket, 0o666)]
    {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let request = r#"{"version":1,"ask":{"token":{"connection":"Work GitHub","min_ttl_secs":0}}}"#;
    // The agent may close before the request is even sent: no answer either way.
    let script = "import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); r = sys.argv[2].encode(); s.settimeout(10)
answer = b''
try:
    s.sendall(struct.pack('>I', len(r)) + r)
    while chunk := s.recv(65536): answer += chunk
except ConnectionError: pass
print(len(answer))";
    let ask = |as_nobody: bool| {
        let mut command = Command::new("setpriv");
        if as_nobody {
            command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        }
        // The system's Python (setup.sh installs it): one under root's home is not open to nobody.
        let output =
            command.args(["/usr/bin/python3", "-c", script]).arg(&socket).arg(request).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        text(&output.stdout).trim().parse::<usize>().unwrap()
    };
    assert_eq!(ask(true), 0, "another user gets no answer at all");
    assert!(ask(false) > 0, "the person's own program still gets one");
    let events = agent.engine.connection_activity(CONNECTION, 50).unwrap();
    assert_eq!(events.iter().filter(|e| e.program.is_some()).count(), 1, "{events:?}");
}
