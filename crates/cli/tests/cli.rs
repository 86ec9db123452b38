//! The `grantkeeper` binary as a person or a script uses it, against the real
//! OpenID provider and the Secret Service keyring.

mod common;

use std::process::{Command, Stdio};

use common::{add_confidential_provider, ok, output_with_stdin, text, Cli};
use grantkeeper_test_support::{
    approve_elsewhere, browser_command, contains, data_dir_bytes, fixed_port_sign_in_blocking, forward,
    secret_tool_keys, BrowserMode, OidcProvider, ProviderEmulator,
};

#[test]
fn add_connect_list_token_remove() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    add_the_confidential_client(&cli, &op.issuer);
    let connection = connect_as_work(&cli);
    list_json_has_every_field(&cli, &connection);
    let printed = token_prints_only_the_token(&cli, &connection);

    let reconnected = cli.run(&["reconnect", "Work", "--json"]);
    let reconnected: serde_json::Value = serde_json::from_str(&ok(&reconnected)).unwrap();
    assert_eq!(reconnected["id"], connection["id"], "reconnect keeps the connection's id");
    assert_ne!(ok(&cli.run(&["token", "Work"])), printed, "the renewed grant's token is in use");

    let disk = data_dir_bytes(cli.home.path());
    assert!(!contains(&disk, printed.trim()) && !contains(&disk, "canary-client-secret"));

    let prefix = cli.run(&["remove", "Wor"]);
    assert_eq!(prefix.status.code(), Some(1), "a prefix is not enough to remove");
    assert!(text(&prefix.stderr).contains("give its whole name"), "{}", text(&prefix.stderr));
    let removed = cli.run(&["remove", "Work"]);
    assert!(ok(&removed).is_empty());
    assert!(ok(&cli.run(&["list", "--json"])).trim() == "[]");
    assert!(!secret_tool_keys(&cli.service).iter().any(|k| k.starts_with("credential/")));
}

/// `refresh` and `remove` held by a refresh lock another process keeps say what they
/// wait for, rather than sit silent for up to two minutes, and finish once it is let go.
#[test]
fn a_command_held_by_a_refresh_elsewhere_says_what_it_waits_for() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.add_public_provider(&op.issuer);
    ok(&cli.run(&["connect", "Local OP", "--name", "Work"]));
    ok(&cli.run(&["refresh", "Work"]));
    let lock_file = std::fs::read_dir(cli.home.path().join("locks")).unwrap().flatten().next().unwrap();
    for (args, note) in [
        (["refresh", "Work"], "Still refreshing “Work”: another refresh of it is under way"),
        (["remove", "Work"], "Still removing “Work”: a refresh of it is under way"),
    ] {
        let held = std::fs::File::open(lock_file.path()).unwrap();
        held.lock().unwrap();
        let mut child = cli.piped(&args).spawn().unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        read_until(&mut stderr, |line| line.starts_with(note));
        drop(held);
        assert!(child.wait().unwrap().success(), "{args:?} finishes once the lock is let go");
    }
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
}

/// The secret is read from stdin and shown as its last four characters only.
fn add_the_confidential_client(cli: &Cli, issuer: &str) {
    let args =
        [&add_confidential_provider(issuer)[..], &["--scopes", "openid email offline_access"]].concat();
    let added = ok(&cli.run_with_stdin(&args, "canary-client-secret-7f3a\n"));
    assert!(added.contains("Local OP") && added.contains("•••• 7f3a"), "{added}");
    assert!(!added.contains("canary-client-secret"));
    // Its metadata lists client_secret_basic; an unknown method is refused by name.
    assert!(added.contains("auth basic"), "{added}");
    let wrong = cli.run(&["providers", "set", "Local OP", "--client-auth", "mtls"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("use basic, post or none"), "{}", text(&wrong.stderr));
}

/// `connect --json` prints only the connection, as JSON; the messages go to stderr.
fn connect_as_work(cli: &Cli) -> serde_json::Value {
    let connected = cli.run(&["connect", "Local OP", "--name", "Work", "--json"]);
    let stdout = ok(&connected);
    let connection: serde_json::Value =
        serde_json::from_str(&stdout).expect("stdout is only the connection as JSON");
    assert_eq!(connection["name"], "Work");
    assert_eq!(connection["status"], "active");
    assert_eq!(connection["account"], "grace@example.test");
    assert!(text(&connected.stderr).contains("Finish signing in in your browser"));
    connection
}

fn list_json_has_every_field(cli: &Cli, connection: &serde_json::Value) {
    let listed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    for field in [
        "id",
        "name",
        "integration",
        "provider",
        "status",
        "account",
        "scopes",
        "expires_at",
        "last_refreshed_at",
    ] {
        assert!(listed[0].get(field).is_some(), "list --json has {field}");
    }
    assert_eq!(listed[0]["id"], connection["id"]);
}

/// `token`, by name or by id, prints the keychain's access token and a newline, and
/// nothing else (but the first time, where no app can ask: saying so, once); returns
/// what it printed.
fn token_prints_only_the_token(cli: &Cli, connection: &serde_json::Value) -> String {
    let first = cli.run(&["token", "Work"]);
    assert!(text(&first.stderr).contains("without being asked"), "{}", text(&first.stderr));
    let token = cli.run(&["token", "Work"]);
    let printed = ok(&token);
    assert!(text(&token.stderr).is_empty(), "nothing on stderr: {}", text(&token.stderr));
    let stored = cli.stored_tokens();
    assert_eq!(
        printed,
        format!("{}\n", stored["access_token"].as_str().unwrap()),
        "only the token and a newline"
    );
    let by_id = ok(&cli.run(&["token", connection["id"].as_str().unwrap()]));
    assert_eq!(by_id, printed);
    printed
}

/// The test provider (started with `env`) and a CLI with its "Work" connection.
fn connected_as_work(env: &[(&str, &str)]) -> (OidcProvider, Cli) {
    let op = OidcProvider::start_with(env);
    let cli = Cli::new(BrowserMode::Consent);
    cli.add_public_provider(&op.issuer);
    ok(&cli.run(&["connect", "Local OP", "--name", "Work"]));
    (op, cli)
}

/// "Work" connected, then its keychain entry changed outside Grantkeeper to `value`.
fn work_with_its_entry_changed_to(value: impl AsRef<[u8]>) -> (OidcProvider, Cli) {
    let (op, cli) = connected_as_work(&[]);
    let keys = secret_tool_keys(&cli.service);
    let entry = keys.iter().find(|k| k.starts_with("credential/")).unwrap();
    grantkeeper_test_support::secret_tool_store(&cli.service, entry, value);
    (op, cli)
}

/// Scopes asked for with `--scope` that the person unticked (or the provider does not
/// know) are named after the sign-in; the connection keeps what was granted.
#[test]
fn a_scope_left_out_of_the_grant_is_named() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.add_public_provider(&op.issuer);
    tokio::runtime::Runtime::new().unwrap().block_on(op.withhold(&["profile"]));

    let connected = cli.run(&["connect", "Local OP", "--name", "Work", "--scope", "profile"]);
    let said = text(&connected.stderr);
    assert!(said.contains("Note: Local OP did not grant profile; “Work” has the rest."), "{said}");
    assert!(ok(&connected).starts_with("Work\tactive\t"));
    let granted = cli.run(&["connect", "Local OP", "--name", "Home", "--scope", "email"]);
    assert!(ok(&granted).starts_with("Home\tactive\t"));
    assert!(!text(&granted.stderr).contains("Note:"), "{}", text(&granted.stderr));
}

/// A keychain entry changed outside Grantkeeper so that it holds no tokens: as with one
/// deleted, the connection asks to be reconnected (exit 3), and a Reconnect mends it.
#[test]
fn tokens_changed_outside_grantkeeper_ask_for_a_reconnect() {
    let (_op, cli) = work_with_its_entry_changed_to("{\"changed\": \"by hand\"}");

    let refused = cli.run(&["token", "Work"]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("unreadable"), "{}", text(&refused.stderr));
    assert!(refused.stdout.is_empty());
    assert!(ok(&cli.run(&["list"])).contains("\treauthorize\t"));

    ok(&cli.run(&["reconnect", "Work"]));
    assert!(!ok(&cli.run(&["token", "Work"])).trim().is_empty());
}

/// The same for entries Grantkeeper never writes: an empty token, one with a line break
/// (printed, it would be no line or two), bytes that are not text (the keychain itself
/// answers, so it is not "unavailable"). The connection can still be removed.
#[test]
fn entries_grantkeeper_never_writes_are_unreadable() {
    let empty = br#"{"access_token":"","token_type":"Bearer"}"#;
    let two_lines = br#"{"access_token":"a\nInjected: yes","token_type":"Bearer"}"#;
    for value in [&empty[..], &two_lines[..], &[0xff, 0xfe, 0x80, 0x00]] {
        let (_op, cli) = work_with_its_entry_changed_to(value);
        let refused = cli.run(&["token", "Work"]);
        assert_eq!(refused.status.code(), Some(3), "{value:?}: {}", text(&refused.stderr));
        assert!(text(&refused.stderr).contains("unreadable"), "{}", text(&refused.stderr));
        assert!(refused.stdout.is_empty(), "{value:?}");
        ok(&cli.run(&["remove", "Work"]));
        assert!(secret_tool_keys(&cli.service).is_empty(), "{value:?}: the entry is deleted");
    }
}

/// Removing a connection whose tokens are gone from the keychain cannot revoke its
/// grant: it says so, and where to revoke it, rather than blaming the provider.
#[test]
fn a_removal_without_tokens_says_the_grant_stays() {
    let (op, cli) = work_with_its_entry_changed_to("not tokens");

    let removed = cli.run(&["remove", "Work"]);
    let said = text(&removed.stderr);
    assert!(removed.status.success(), "{said}");
    assert!(
        said.contains("Its tokens were gone from the keychain, so its access could not be revoked; remove it in your account settings at Local OP."),
        "{said}"
    );
    let seen = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert_eq!(seen.grants.get("grace"), Some(&1), "the grant stays at the provider");
    assert!(ok(&cli.run(&["activity"])).contains("gone from the keychain"));
    assert!(secret_tool_keys(&cli.service).is_empty(), "the entry is deleted");
}

#[test]
fn errors_go_to_stderr_with_documented_exit_codes() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Deny);

    let missing = cli.run(&["token", "nope"]);
    assert_eq!(missing.status.code(), Some(6));
    assert!(missing.stdout.is_empty());
    assert!(text(&missing.stderr).contains("No connection named or numbered “nope”"));

    let usage = cli.run(&["providers", "add", "--name", "X"]);
    assert_eq!(usage.status.code(), Some(2));
    // A blank name is a usage error, whichever command it is given to.
    for args in [&["token", ""][..], &["remove", "  "], &["keys", "add", "", "--key-stdin"], &["status", ""]]
    {
        let blank = cli.run(args);
        assert_eq!(blank.status.code(), Some(2), "{args:?}: {}", text(&blank.stderr));
        assert!(text(&blank.stderr).contains("give a name or an id"), "{}", text(&blank.stderr));
    }
    // What clap repeats of the command line reaches the terminal without its overrides.
    let reversed = cli.run(&["lis\u{202e}t"]);
    assert_eq!(reversed.status.code(), Some(2));
    assert!(!text(&reversed.stderr).contains('\u{202e}'), "{:?}", text(&reversed.stderr));
    assert!(text(&reversed.stderr).contains("unrecognized subcommand"), "{}", text(&reversed.stderr));

    // A secret the provider needs is asked for the way this command takes it.
    let secretless = cli.run(&["providers", "set", "github", "--client-id", "c"]);
    assert_eq!(secretless.status.code(), Some(1));
    assert!(text(&secretless.stderr).contains("Pipe it in with --client-secret-stdin."));

    let plain_http = cli.run(&[
        "providers",
        "add",
        "--name",
        "X",
        "--issuer",
        "http://sso.example.com",
        "--client-id",
        "c",
    ]);
    assert_eq!(plain_http.status.code(), Some(1));
    assert!(text(&plain_http.stderr).contains("must use https"), "{}", text(&plain_http.stderr));

    cli.add_public_provider(&op.issuer);
    // No Secret Service: a clear error naming what to start, before any browser opens.
    let browser_log = cli.home.path().join("browser.log");
    let no_keychain = cli
        .command_without_keychain(&["connect", "Local OP"])
        .env("GRANTKEEPER_TEST_BROWSER_LOG", &browser_log)
        .output()
        .unwrap();
    assert_eq!(no_keychain.status.code(), Some(4), "{}", text(&no_keychain.stderr));
    assert!(text(&no_keychain.stderr).contains("Secret Service"), "{}", text(&no_keychain.stderr));
    assert!(!browser_log.exists(), "no browser was opened");

    let denied = cli.run(&["connect", "Local OP"]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(denied.stdout.is_empty());
    assert!(text(&denied.stderr).contains("You declined access at Local OP. Nothing was saved."));
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
    assert!(secret_tool_keys(&cli.service).is_empty());
}

#[test]
fn concurrent_token_processes_refresh_once() {
    // Tokens live 4 s; after 2 s each process wants 3 s more, so the first refresh
    // satisfies everyone and the rotating refresh token is presented exactly once.
    let (op, cli) = connected_as_work(&[("OIDC_ACCESS_TOKEN_TTL", "4")]);
    std::thread::sleep(std::time::Duration::from_secs(2));

    let children: Vec<_> =
        (0..20).map(|_| cli.piped(&["token", "Work", "--min-ttl", "3"]).spawn().unwrap()).collect();
    let printed: Vec<String> =
        children.into_iter().map(|child| ok(&child.wait_with_output().unwrap())).collect();

    let stats = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert_eq!(stats.token_requests.get("refresh_token"), Some(&1), "{stats:?}");
    let stored = cli.stored_tokens();
    let expected = format!("{}\n", stored["access_token"].as_str().unwrap());
    assert!(printed.iter().all(|p| *p == expected), "every process printed the refreshed token");
    let listed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    assert_eq!(listed[0]["status"], "active");
    assert!(listed[0]["last_refreshed_at"].is_string());
}

/// The app's scheduler and 20 `grantkeeper token` processes all find the access token
/// expired at once; the provider rotates refresh tokens, so a second refresh would
/// present a spent one. Exactly one refresh reaches it, and everyone gets its token.
/// Three sign-ins to one account finish together, two asking for the same name: each
/// is kept, as a connection on one credential, and no name is held twice. Two removals
/// of one of them at once remove it once.
#[test]
fn sign_ins_to_one_account_finishing_together_keep_every_connection() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.add_public_provider(&op.issuer);
    let children: Vec<_> = ["Work", "Mail", "Work"]
        .map(|name| cli.piped(&["connect", "Local OP", "--name", name]).spawn().unwrap())
        .into_iter()
        .collect();
    for child in children {
        ok(&child.wait_with_output().unwrap());
    }

    let listed: Vec<serde_json::Value> = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    let mut names: Vec<&str> = listed.iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Mail", "Work", "Work (2)"]);
    assert!(listed.iter().all(|c| c["shared_with"].as_array().unwrap().len() == 2), "{listed:?}");
    let credentials = secret_tool_keys(&cli.service);
    assert_eq!(credentials.iter().filter(|k| k.starts_with("credential/")).count(), 1, "{credentials:?}");
    let stats = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert_eq!(stats.token_requests.get("authorization_code"), Some(&3), "{stats:?}");
    assert_eq!(
        ok(&cli.run(&["token", "Work (2)"])),
        format!("{}\n", cli.stored_tokens()["access_token"].as_str().unwrap())
    );
    // Removed twice at once: one removes it, the other finds it gone.
    let removing: Vec<_> = (0..2).map(|_| cli.piped(&["remove", "Work (2)"]).spawn().unwrap()).collect();
    let mut codes: Vec<_> =
        removing.into_iter().map(|child| child.wait_with_output().unwrap().status.code()).collect();
    codes.sort();
    assert_eq!(codes, [Some(0), Some(6)]);
    let stats = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert_eq!(stats.revocation_requests, 0, "the sign-in stays for Work and Mail");
}

/// A provider removed from another terminal while a sign-in to it is under way keeps
/// nothing of that sign-in; nor does a connection removed while it is reconnected. The
/// grants those sign-ins made are revoked at the provider, and the activity log says so.
#[test]
fn what_is_removed_during_its_sign_in_keeps_nothing_of_it() {
    let op = OidcProvider::start();
    let live_grants = || tokio::runtime::Runtime::new().unwrap().block_on(op.stats()).grants["grace"];
    let slow =
        format!("sh -c 'sleep 2; exec \"$@\"' slow {}", browser_command(BrowserMode::Consent, "grace"));
    let cli = Cli::new(BrowserMode::Consent).with_browser(&slow);
    cli.add_public_provider(&op.issuer);

    let signing_in = started_sign_in(&cli, &["connect", "Local OP", "--name", "Work"]);
    ok(&cli.run(&["providers", "remove", "Local OP"]));
    let (code, said) = ended(signing_in);
    assert_eq!(code, Some(6), "{said}");
    assert!(said.contains("No provider named or numbered “Local OP”"), "{said}");
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
    assert!(secret_tool_keys(&cli.service).is_empty(), "no tokens kept");
    assert_eq!(live_grants(), 0, "the grant is revoked");
    let activity = ok(&cli.run(&["activity", "--limit", "1"]));
    assert!(
        activity.contains("Local OP was removed during the sign-in, so the access it granted was revoked"),
        "{activity}"
    );

    cli.add_public_provider(&op.issuer);
    ok(&cli.run(&["connect", "Local OP", "--name", "Work"]));
    let reconnecting = started_sign_in(&cli, &["reconnect", "Work"]);
    ok(&cli.run(&["remove", "Work"]));
    let (code, said) = ended(reconnecting);
    assert_eq!(code, Some(6), "{said}");
    assert!(said.contains("No connection named or numbered “Work”"), "{said}");
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
    assert!(secret_tool_keys(&cli.service).iter().all(|k| !k.starts_with("credential/")), "no tokens kept");
    assert_eq!(live_grants(), 0, "the removed connection's grant and the reconnect's are revoked");
}

/// A Reconnect signed in to another account than the connection's keeps nothing, and
/// that account's new grant is revoked at the provider, unless a connection here uses
/// that account too: revoking would end its grant as well at some providers.
#[test]
fn a_reconnect_to_another_account_leaves_that_account_no_new_grant() {
    let op = OidcProvider::start();
    let stats = || tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    let as_ada = Cli::new(BrowserMode::Consent).with_browser(&browser_command(BrowserMode::Consent, "ada"));
    as_ada.add_public_provider(&op.issuer);
    ok(&as_ada.run(&["connect", "Local OP", "--name", "Work"]));
    let as_grace = as_ada.with_browser(&browser_command(BrowserMode::Consent, "grace"));

    let refused = as_grace.run(&["reconnect", "Work"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(text(&refused.stderr).contains("grace@example.test"), "{refused:?}");
    let seen = stats();
    assert_eq!((seen.grants["ada"], seen.grants["grace"]), (1, 0), "grace's grant is revoked");
    let activity = ok(&as_grace.run(&["activity", "--limit", "1"]));
    assert!(activity.contains("grace@example.test"), "{activity}");
    assert!(activity.contains("The sign-in was for ada@example.test, not grace@example.test, so the access it granted was revoked"), "{activity}");

    // Grace has a connection of her own: her grant stays, and so does her connection's.
    ok(&as_grace.run(&["connect", "Local OP", "--name", "Personal"]));
    let revocations = stats().revocation_requests;
    assert_eq!(as_grace.run(&["reconnect", "Work"]).status.code(), Some(1));
    assert_eq!(stats().revocation_requests, revocations, "nothing revoked");
    // Both grants still refresh.
    ok(&as_grace.run(&["token", "Personal", "--min-ttl", "7200"]));
    ok(&as_grace.run(&["token", "Work", "--min-ttl", "7200"]));
    assert_eq!(stats().token_requests["refresh_token"], 2);
}

/// A sign-in approved in a browser on another device (over SSH, say): the browser
/// cannot come back to this machine, so the person pastes the address it ended on. An
/// address that is not this sign-in's is refused with why, and the sign-in goes on.
#[test]
fn a_sign_in_approved_on_another_device_finishes_with_the_pasted_address() {
    use std::io::Write;
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.add_public_provider(&op.issuer);
    let connect = ["connect", "Local OP", "--name", "Work", "--no-browser"];
    let mut child = cli.piped(&connect).stdin(Stdio::piped()).spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let link = read_until(&mut stderr, |line| line.trim_start().starts_with("http")).trim().to_owned();
    read_until(&mut stderr, |line| line.starts_with("Waiting for you"));
    let address = approve_elsewhere(&link, "grace");

    let mut stdin = child.stdin.take().unwrap();
    let another_sign_in = address.replace("state=", "state=x");
    writeln!(stdin, "https://example.test/\n{another_sign_in}").unwrap();
    let said = read_until(&mut stderr, |line| line.contains("not where this sign-in sends"));
    assert!(said.contains("it begins with http://127.0.0.1:"), "{said}");
    read_until(&mut stderr, |line| line.contains("belongs to another sign-in"));
    // A line that is not text, or longer than any address, is skipped with why.
    stdin.write_all(b"\xff\xfe\n").unwrap();
    read_until(&mut stderr, |line| line.contains("skipped that line is not text"));
    stdin.write_all(&[&[b'a'; 70 * 1024][..], b"\n"].concat()).unwrap();
    read_until(&mut stderr, |line| line.contains("skipped that line is longer than any address"));
    writeln!(stdin, "{address}").unwrap();
    let ended = child.wait_with_output().unwrap();
    assert!(ended.status.success(), "{ended:?}");
    let listed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    assert_eq!(listed[0]["account"], "grace@example.test");
    assert_eq!(listed[0]["status"], "active");
}

/// Ctrl-C once the person has approved (the account is being learnt) cannot undo the
/// grant halfway: the sign-in is kept, and the person is told so and how to remove it.
#[test]
fn ctrl_c_after_approval_says_the_sign_in_was_kept() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.use_emulator(&emulator, "dropbox");
    runtime.block_on(emulator.delay_next_identity_request(3000));
    // Dropbox's redirect port is fixed: one sign-in there at a time.
    let _turn = fixed_port_sign_in_blocking();
    let child = cli.piped(&["connect", "dropbox", "--name", "Files"]).spawn().unwrap();
    wait_for("the account to be asked for", || {
        runtime.block_on(emulator.log()).iter().any(|r| r["path"] == "/dropbox/identity")
    });
    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let ended = child.wait_with_output().unwrap();
    assert!(ended.status.success(), "{}", text(&ended.stderr));
    let said = text(&ended.stderr);
    assert!(said.contains("already approved when you pressed Ctrl-C, so it was kept"), "{said}");
    assert!(said.contains("grantkeeper remove \"Files\""), "{said}");
    assert!(ok(&cli.run(&["list"])).starts_with("Files\t"));
}

/// Reads lines until one satisfies `found`; returns it.
fn read_until(reader: &mut impl std::io::BufRead, found: impl Fn(&str) -> bool) -> String {
    let mut line = String::new();
    while !found(&line) {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stderr ended before the line looked for");
    }
    line
}

/// Starts a sign-in; returns once it waits for the browser, with a reader of the rest of
/// its stderr.
fn started_sign_in(cli: &Cli, args: &[&str]) -> (std::process::Child, impl std::io::BufRead) {
    let mut child = cli.command(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    read_until(&mut stderr, |line| line.starts_with("Waiting for you"));
    (child, stderr)
}

/// How a started sign-in ended: its exit code and the rest of its stderr.
fn ended(started: (std::process::Child, impl std::io::Read)) -> (Option<i32>, String) {
    let (mut child, mut stderr) = started;
    let mut said = String::new();
    stderr.read_to_string(&mut said).unwrap();
    (child.wait().unwrap().code(), said)
}

/// Of four providers added together under one name, one is kept and the others are told
/// why.
#[test]
fn providers_added_together_under_one_name_keep_one() {
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli.run(&["list"])); // the database made, so the four meet at the name
    let adding: Vec<_> = (1..=4)
        .map(|n| {
            let (authorize, token) =
                (format!("https://acme{n}.example/auth"), format!("https://acme{n}.example/token"));
            let args =
                ["providers", "add", "--name", "Acme", "--authorize-url", &authorize, "--token-url", &token];
            cli.piped(&[&args[..], &["--client-id", "c", "--client-auth", "none"]].concat()).spawn().unwrap()
        })
        .collect();
    let ended: Vec<_> = adding.into_iter().map(|child| child.wait_with_output().unwrap()).collect();
    assert_eq!(ended.iter().filter(|e| e.status.success()).count(), 1, "{ended:?}");
    for refused in ended.iter().filter(|e| !e.status.success()) {
        assert_eq!(refused.status.code(), Some(1));
        assert!(text(&refused.stderr).contains("A provider named “Acme” already exists"), "{refused:?}");
    }
    let listed = ok(&cli.run(&["providers", "list"]));
    assert_eq!(listed.lines().filter(|line| line.starts_with("Acme\t")).count(), 1, "{listed}");

    // A built-in provider's id is taken too, and the error says by which.
    let args = ["providers", "add", "--name", "X", "--authorize-url", "https://x.example/a", "--token-url"];
    let refused =
        cli.run(&[&args[..], &["https://x.example/t", "--client-id", "c", "--client-auth", "none"]].concat());
    assert!(
        text(&refused.stderr).contains("“X” names the built-in provider X (Twitter) (`x`)"),
        "{refused:?}"
    );
}

/// Of four providers added together for one issuer under different names, one is kept:
/// one authorization server is one provider.
#[test]
fn providers_added_together_for_one_issuer_keep_one() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli.run(&["list"])); // the database made, so the four meet at the issuer
    let adding: Vec<_> = (1..=4)
        .map(|n| {
            let name = format!("Local {n}");
            let args = [
                "providers",
                "add",
                "--name",
                &name,
                "--issuer",
                &op.issuer,
                "--client-id",
                "grantkeeper-test",
            ];
            cli.piped(&args).spawn().unwrap()
        })
        .collect();
    let ended: Vec<_> = adding.into_iter().map(|child| child.wait_with_output().unwrap()).collect();
    assert_eq!(ended.iter().filter(|e| e.status.success()).count(), 1, "{ended:?}");
    for refused in ended.iter().filter(|e| !e.status.success()) {
        let said = text(&refused.stderr);
        assert!(said.contains(&format!("already uses the issuer {}", op.issuer)), "{said}");
    }
    let listed = ok(&cli.run(&["providers", "list"]));
    assert_eq!(listed.lines().filter(|line| line.starts_with("Local ")).count(), 1, "{listed}");
}

/// The provider's tokens live an hour; a script asks for two hours, again and again. The
/// first call refreshes, the next ones get that token rather than another refresh, and
/// each says on stderr that the token lasts less than asked.
#[test]
fn a_min_ttl_longer_than_the_provider_s_tokens_refreshes_once() {
    let (op, cli) = connected_as_work(&[]);
    let asked: Vec<_> = (0..3).map(|_| cli.run(&["token", "Work", "--min-ttl", "7200"])).collect();
    let ran = cli.run(&[
        "exec",
        "Work",
        "--min-ttl",
        "7200",
        "--",
        "sh",
        "-c",
        "printf '%s\n' \"$GRANTKEEPER_TOKEN\"",
    ]);

    let stats = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert_eq!(stats.token_requests.get("refresh_token"), Some(&1), "{stats:?}");
    let stored = format!("{}\n", cli.stored_tokens()["access_token"].as_str().unwrap());
    for output in asked.iter().chain([&ran]) {
        assert_eq!(ok(output), stored, "the refreshed token, from the keychain");
        let said = text(&output.stderr);
        assert!(said.contains("“Work” expires in") && said.contains("sooner than --min-ttl 7200"), "{said}");
        assert!(said.contains("Local OP's tokens last no longer"), "{said}");
    }
    // Within what the provider gives, nothing is said.
    assert!(cli.run(&["token", "Work", "--min-ttl", "600"]).stderr.is_empty());
}

#[test]
fn the_scheduler_and_20_token_processes_refresh_an_expired_rotating_token_once() {
    use grantkeeper_engine::{oauth::Browser, Config, Engine, Keychain};
    use std::sync::Arc;
    use std::time::Duration;

    let (op, cli) = connected_as_work(&[("OIDC_ACCESS_TOKEN_TTL", "5")]);
    let first_refresh_token = cli.stored_tokens()["refresh_token"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_secs(6)); // expired; nobody was running to refresh it

    // The app's engine, on the same data directory and keychain, starts its scheduler
    // (which finds the refresh overdue) while the processes start.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = Config::new(cli.home.path().to_owned(), cli.service.clone(), Browser::None);
    let app = Engine::open(config, Arc::new(Keychain::new(cli.service.clone()))).unwrap();
    let children: Vec<_> = (0..20).map(|_| cli.piped(&["token", "Work"]).spawn().unwrap()).collect();
    runtime.spawn(app.clone().run_scheduler());
    let printed: Vec<String> =
        children.into_iter().map(|child| ok(&child.wait_with_output().unwrap())).collect();
    // Let the scheduler finish, should it be the one that refreshed.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while app.connection("Work").unwrap().last_refreshed_at.is_none() {
        assert!(std::time::Instant::now() < deadline, "nobody refreshed");
        std::thread::sleep(Duration::from_millis(50));
    }

    let stats = runtime.block_on(op.stats());
    assert_eq!(stats.token_requests.get("refresh_token"), Some(&1), "{stats:?}");
    let stored = cli.stored_tokens();
    assert_ne!(stored["refresh_token"].as_str().unwrap(), first_refresh_token, "the rotated one is kept");
    let expected = format!("{}\n", stored["access_token"].as_str().unwrap());
    assert!(printed.iter().all(|p| *p == expected), "every process printed the refreshed token");
    assert_eq!(app.connection("Work").unwrap().status, grantkeeper_engine::ConnectionStatus::Active);
    drop(runtime);
}

/// A provider app's token URL changed after a sign-in: `providers set` and `providers`
/// say which connection keeps the previous address until it is reconnected, and the
/// refresh still goes where it was signed in.
#[test]
fn an_edited_provider_app_names_the_connections_to_reconnect() {
    let (op, cli) = connected_as_work(&[]);
    let moved = cli.run(&["providers", "set", "Local OP", "--token-url", "https://elsewhere.example/token"]);
    let note = "“Work” keeps using Local OP's previous address until you reconnect it";
    assert!(text(&moved.stderr).contains(note), "{}", text(&moved.stderr));
    assert!(text(&cli.run(&["providers", "list"]).stderr).contains(note));
    ok(&cli.run(&["refresh", "Work"]));
    let stats = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert_eq!(stats.token_requests.get("refresh_token"), Some(&1), "{stats:?}");

    ok(&cli.run(&["providers", "set", "Local OP", "--token-url", &format!("{}/token", op.issuer)]));
    assert!(
        !text(&cli.run(&["providers", "list"]).stderr).contains(note),
        "back at the address it signed in with"
    );
}

#[test]
fn a_revoked_grant_exits_3_and_lists_as_reauthorize() {
    let (op, cli) = connected_as_work(&[]);
    tokio::runtime::Runtime::new().unwrap().block_on(op.revoke_grants("grace"));

    let refused = cli.run(&["refresh", "Work"]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    assert!(refused.stdout.is_empty());
    assert!(text(&refused.stderr).contains("needs to be reconnected"), "{}", text(&refused.stderr));
    let listed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    assert_eq!(listed[0]["status"], "reauthorize");
    assert_eq!(cli.run(&["token", "Work"]).status.code(), Some(3));
}

/// `mcp bridge` serves only connections made by URL, and says so before the client's
/// first message is read; stdout (the client's JSON-RPC) stays empty.
#[test]
fn the_mcp_bridge_needs_a_connection_made_by_url() {
    let (_op, cli) = connected_as_work(&[]);
    let initialize = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#;

    let not_by_url = cli.run_with_stdin(&["mcp", "bridge", "Work"], initialize);
    assert_eq!(not_by_url.status.code(), Some(1), "{}", text(&not_by_url.stderr));
    assert!(not_by_url.stdout.is_empty());
    assert!(
        text(&not_by_url.stderr).contains("“Work” was not connected by URL; `grantkeeper connect --url URL`"),
        "{}",
        text(&not_by_url.stderr)
    );

    let missing = cli.run_with_stdin(&["mcp", "bridge", "nope"], initialize);
    assert_eq!(missing.status.code(), Some(6));
    assert!(missing.stdout.is_empty());
}

#[test]
fn catalog_provider_apps_api_keys_and_renames() {
    let op = OidcProvider::start_with(&[("OIDC_PROFILE", "gitlab")]);
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Consent);

    let catalog: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["catalog", "--json"]))).unwrap();
    let gmail = catalog.as_array().unwrap().iter().find(|i| i["id"] == "gmail").unwrap();
    assert_eq!(gmail["provider_name"], "Google");
    assert_eq!(gmail["scopes"][0]["value"], "https://www.googleapis.com/auth/gmail.readonly");
    // Where the catalog's facts about Google come from, and when they were checked.
    assert!(gmail["sources"]["checked"].as_str().is_some_and(|month| month.len() == 7), "{gmail}");
    assert!(gmail["sources"]["urls"][0].as_str().unwrap().starts_with("https://developers.google.com/"));
    let listing = ok(&cli.run(&["catalog"]));
    assert!(listing.contains("Google\n") && listing.contains("Read your email messages"), "{listing}");

    google_s_provider_app_takes_its_secret_from_stdin(&cli);
    let unknown_scope = cli.run(&["connect", "gmail", "--scope", "gmail.everything"]);
    assert_eq!(unknown_scope.status.code(), Some(1));
    assert!(
        text(&unknown_scope.stderr).contains("no scope “gmail.everything”"),
        "{}",
        text(&unknown_scope.stderr)
    );
    a_self_managed_gitlab_connects_and_is_renamed(&cli, &op.issuer);
    api_keys_come_from_stdin_and_are_checked(&cli, &emulator);

    // Removing the last connection on a grant revokes it at the provider.
    let removed = cli.run(&["remove", "Work GitLab"]);
    ok(&removed);
    assert!(text(&removed.stderr).contains("revoked its access at GitLab"), "{}", text(&removed.stderr));
}

/// A provider app for Google needs its secret; it is read from stdin and shown as its
/// last four.
fn google_s_provider_app_takes_its_secret_from_stdin(cli: &Cli) {
    // Errors name the option that gives what is missing.
    let no_app = cli.run(&["providers", "set", "github", "--base-url", "https://github.example.com"]);
    assert_eq!(no_app.status.code(), Some(1));
    let said = text(&no_app.stderr);
    assert!(said.contains("GitHub has no provider app yet") && said.ends_with("(--client-id)\n"), "{said}");
    let no_secret = cli.run(&["providers", "set", "google", "--client-id", "123.apps.googleusercontent.com"]);
    assert_eq!(no_secret.status.code(), Some(1));
    let said = text(&no_secret.stderr);
    assert!(said.contains("client secret") && said.contains("(--client-secret-stdin)"), "{said}");
    let set = ok(&cli.run_with_stdin(
        &[
            "providers",
            "set",
            "google",
            "--client-id",
            "123.apps.googleusercontent.com",
            "--client-secret-stdin",
        ],
        "canary-google-secret-9d2c\n",
    ));
    assert!(set.contains("•••• 9d2c") && set.contains("redirect http://127.0.0.1/callback"), "{set}");
    assert!(!contains(&data_dir_bytes(cli.home.path()), "canary-google-secret-9d2c"));

    organisation_supplied_provider_apps(cli);

    // A short secret shows none of its characters, and is still there.
    let args = ["providers", "set", "google", "--client-secret-stdin"];
    let set = ok(&cli.run_with_stdin(&args, "cnry-sh0rt\n"));
    assert!(set.contains("client secret ••••") && !set.contains("no client secret"), "{set}");
    let listed = ok(&cli.run(&["providers", "list"]));
    assert!(listed.contains("Google") && !listed.contains("no client secret"), "{listed}");
    assert!(!listed.contains("sh0rt"), "{listed}");
}

/// A provider app from the system-wide supplied file is listed with where it came from;
/// a broken file is one error naming its line.
fn organisation_supplied_provider_apps(cli: &Cli) {
    let file = cli.system_provider_apps();
    std::fs::write(&file, "[github]\nclient_id = \"Iv1.supplied\"\n").unwrap();
    let listed = ok(&cli.run(&["providers", "list"]));
    assert!(
        listed.contains("client Iv1.supplied") && listed.contains("provided by your organisation"),
        "{listed}"
    );
    std::fs::write(&file, "[github]\nclient_id = \"Iv1.supplied\"\ntenant = \"x\"\n").unwrap();
    let broken = cli.run(&["providers", "list"]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = text(&broken.stderr);
    assert!(
        stderr.contains("system-provider-apps.toml (line 3)") && stderr.contains("unknown field"),
        "{stderr}"
    );
    std::fs::remove_file(&file).unwrap();
}

/// A self-managed GitLab by its base URL: the catalog's quirks, the server's address.
fn a_self_managed_gitlab_connects_and_is_renamed(cli: &Cli, issuer: &str) {
    cli.set_up_gitlab(issuer);
    let connected = ok(&cli.run(&["connect", "gitlab", "--account", "grace", "--json"]));
    let connection: serde_json::Value = serde_json::from_str(&connected).unwrap();
    assert_eq!(
        (connection["status"].as_str(), connection["account"].as_str()),
        (Some("active"), Some("grace"))
    );
    assert_eq!(connection["integration"], "gitlab");
    let tested = ok(&cli.run(&["test", "GitLab"]));
    assert!(tested.contains("answered for grace"), "{tested}");
    ok(&cli.run(&["rename", "GitLab", "Work GitLab"]));
    let renamed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    assert_eq!(
        (renamed[0]["name"].as_str(), renamed[0]["id"].as_str()),
        (Some("Work GitLab"), connection["id"].as_str())
    );
}

/// API keys come from stdin only, are checked with the service, and `token` prints them.
fn api_keys_come_from_stdin_and_are_checked(cli: &Cli, emulator: &ProviderEmulator) {
    let on_argv = cli.run(&["keys", "add", "openai", "--key-stdin", "--field", "api_key=sk-x"]);
    assert_eq!(on_argv.status.code(), Some(1));
    assert!(text(&on_argv.stderr).contains("never as an argument"));
    // One field given twice is a mistake to point out, not a choice of the last.
    let sids =
        ["keys", "add", "twilio", "--key-stdin", "--field", "account_sid=AC1", "--field", "account_sid=AC2"];
    let twice = cli.run_with_stdin(&sids, "canary-twilio-good\n");
    assert_eq!(twice.status.code(), Some(1));
    assert!(text(&twice.stderr).contains("--field account_sid is given twice"), "{}", text(&twice.stderr));
    // More than any key is refused, not cut to size and kept.
    let add = ["keys", "add", "openai", "--key-stdin", "--no-check"];
    let mut flood = cli.piped(&add).stdin(Stdio::piped()).spawn().unwrap();
    // It stops reading past 64 KiB, so the rest may meet a closed pipe.
    let _ = std::io::Write::write_all(&mut flood.stdin.take().unwrap(), &[b'k'; 70 * 1024]);
    let flood = flood.wait_with_output().unwrap();
    assert_eq!(flood.status.code(), Some(1));
    assert!(text(&flood.stderr).contains("more than 64 KiB"), "{}", text(&flood.stderr));
    let base = emulator.service_url("openai");
    let rejected =
        cli.run_with_stdin(&["keys", "add", "openai", "--key-stdin", "--base-url", &base], "sk-canary-bad\n");
    assert_eq!(rejected.status.code(), Some(1));
    assert!(text(&rejected.stderr).contains("rejected this key"), "{}", text(&rejected.stderr));
    ok(&cli.run_with_stdin(
        &["keys", "add", "openai", "--key-stdin", "--base-url", &base],
        "sk-canary-cli-good\n",
    ));
    assert_eq!(ok(&cli.run(&["token", "OpenAI"])), "sk-canary-cli-good\n");

    // A restricted key is kept; its test says the service took it with limited permissions.
    let stripe = emulator.service_url("stripe");
    let args = ["keys", "add", "stripe", "--key-stdin", "--base-url", &stripe];
    ok(&cli.run_with_stdin(&args, "rk_test_canary-cli-restricted\n"));
    let tested = ok(&cli.run(&["test", "Stripe"]));
    assert!(tested.contains("works, with limited permissions") && tested.contains("HTTP 403"), "{tested}");
}

/// A sign-in that lapses on a date (a GitHub App's refresh token lives six months) is
/// said by `status`, with what to do before then, while there is a before then.
#[test]
fn status_says_when_a_sign_in_lapses() {
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.use_emulator(&emulator, "github-app");
    cli.connect_at_fixed_port("github-app", "Work GitHub");
    let listed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    let lapses = listed[0]["refresh_token_expires_at"].as_str().unwrap().to_owned();
    let status = ok(&cli.run(&["status", "Work GitHub"]));
    assert!(
        status.contains(&format!("sign-in lapses {lapses} (grantkeeper reconnect before then)")),
        "{status}"
    );

    // Needing a reconnect now, it is not told to reconnect before a later date.
    tokio::runtime::Runtime::new().unwrap().block_on(emulator.revoke("github-app", "ada"));
    assert_eq!(cli.run(&["refresh", "Work GitHub"]).status.code(), Some(3));
    let status = cli.run(&["status", "Work GitHub"]);
    assert_eq!(status.status.code(), Some(3));
    let said = text(&status.stdout);
    assert!(said.contains("reauthorize") && !said.contains("lapses"), "{said}");
}

/// A provider that compares the redirect URI exactly (Linear) gets one fixed port, so it
/// serves one sign-in at a time: a second, while the first waits in the browser, is
/// refused saying so, and nothing of it is kept.
#[test]
fn a_second_sign_in_at_a_fixed_port_says_the_first_is_waiting() {
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Ignore);
    cli.use_emulator(&emulator, "linear");
    let _turn = fixed_port_sign_in_blocking();
    let mut first =
        cli.command(&["connect", "linear", "--name", "First"]).stderr(Stdio::null()).spawn().unwrap();
    let listening = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", 53177)).is_ok()
    });
    assert!(listening, "the first sign-in listens on Linear's port");

    let second = cli.run(&["connect", "linear", "--name", "Second"]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    let said = text(&second.stderr);
    assert!(
        said.contains("another Grantkeeper sign-in is waiting there") && said.contains("53177"),
        "{said}"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]", "nothing was kept");
}

/// A refresh killed with SIGKILL while the provider is answering: for a provider that
/// rotates refresh tokens the old one may be spent, so the next `token` asks for a new
/// sign-in instead of presenting it (which would make the provider revoke the grant);
/// for one that keeps refresh tokens, the next `token` simply refreshes.
#[test]
fn a_refresh_killed_mid_flight_never_presents_a_spent_refresh_token() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Consent);
    let refresh_requests = || {
        runtime
            .block_on(emulator.log())
            .iter()
            .filter(|r| r["body"].as_str().unwrap_or_default().contains("grant_type=refresh_token"))
            .count()
    };
    for (provider, integration, rotates) in [("github-app", "github-app", true), ("google", "gmail", false)] {
        cli.use_emulator(&emulator, provider);
        cli.connect_at_fixed_port(integration, provider);
        let before = refresh_requests();

        runtime.block_on(emulator.delay_next_token_request(1500));
        kill_a_refresh_at_the_provider(&cli, provider, || refresh_requests() != before);
        std::thread::sleep(std::time::Duration::from_millis(2000)); // the provider answered into the void

        let next = cli.run(&["token", provider, "--min-ttl", "999999"]);
        if rotates {
            assert_eq!(next.status.code(), Some(3), "{provider}: {}", text(&next.stderr));
            assert!(text(&next.stderr).contains("interrupted"), "{}", text(&next.stderr));
            assert_eq!(
                refresh_requests(),
                before + 1,
                "the possibly spent refresh token was not presented again"
            );
        } else {
            assert!(!ok(&next).trim().is_empty());
            assert_eq!(refresh_requests(), before + 2, "a kept refresh token is simply used again");
        }
    }
}

/// `remove` while another process refreshes the same connection waits for that refresh
/// to be saved: the refresh succeeds, and the revocation presents the tokens it brought
/// rather than the pair it retired.
#[test]
fn a_removal_waits_for_a_refresh_under_way() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Consent);
    // Zoom rotates refresh tokens and revokes by RFC 7009.
    cli.use_emulator(&emulator, "zoom");
    cli.connect_at_fixed_port("zoom", "Meetings");
    let retired = cli.stored_tokens();
    let sent_to = |path: &str| {
        let log = runtime.block_on(emulator.log());
        log.into_iter()
            .filter(|r| r["path"] == path)
            .map(|r| r["body"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    runtime.block_on(emulator.delay_next_token_request(1500));
    let refresh = cli.piped(&["refresh", "Meetings"]).spawn().unwrap();
    wait_for("the refresh to reach the provider", || {
        sent_to("/zoom/token").iter().any(|body| body.contains("grant_type=refresh_token"))
    });
    let removed = cli.run(&["remove", "Meetings"]);
    let refreshed = refresh.wait_with_output().unwrap();
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    assert!(ok(&removed).is_empty());

    let revocations = sent_to("/zoom/revoke");
    assert_eq!(revocations.len(), 2, "its refresh token, then its access token: {revocations:?}");
    for retired in [&retired["refresh_token"], &retired["access_token"]] {
        let retired = retired.as_str().unwrap();
        assert!(!revocations.iter().any(|body| body.contains(retired)), "{retired} was presented");
    }
    assert_eq!(runtime.block_on(emulator.grant_revoked("zoom", "ada")), Some(true));
    assert!(!secret_tool_keys(&cli.service).iter().any(|k| k.starts_with("credential/")));
}

/// Starts `grantkeeper refresh PROVIDER` and, once its request has `reached` the
/// provider, kills it with SIGKILL: no cleanup of any kind.
fn kill_a_refresh_at_the_provider(cli: &Cli, provider: &str, reached: impl Fn() -> bool) {
    let mut refresh =
        cli.command(&["refresh", provider]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_for(&format!("{provider}: the refresh to reach the provider"), reached);
    refresh.kill().unwrap();
    refresh.wait().unwrap();
}

/// Waits up to ten seconds until `done`, else fails the test waiting for `what`.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "still waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A name with a terminal escape, a right-to-left override or a zero-width space would
/// be shown as something else (`abc\u{202e}fed` reads "abcdef"): refused, for a connection and a
/// provider alike, and nothing changes.
fn names_that_would_mislead_are_refused(cli: &Cli, issuer: &str) {
    for name in ["a\u{1b}[2Jb", "abc\u{202e}fed", "\u{2067}Work", "Wo\u{200b}rk"] {
        let renamed = cli.run(&["rename", "Work", name]);
        assert_eq!(renamed.status.code(), Some(1), "{name:?}");
        assert!(text(&renamed.stderr).contains("1 to 100 printable characters"), "{}", text(&renamed.stderr));
        let added = cli.run(&["providers", "add", "--name", name, "--issuer", issuer, "--client-id", "x"]);
        assert_eq!(added.status.code(), Some(1), "{name:?}");
        assert!(text(&added.stderr).contains("printable characters"), "{}", text(&added.stderr));
    }
    assert!(ok(&cli.run(&["list"])).starts_with("Work\t"));
}

/// exec: the token in the environment, never in the arguments; the command's exit code.
fn exec_hands_the_token_in_its_environment(cli: &Cli, token: &str) {
    let printed = ok(&cli.run(&["exec", "Work", "--", "sh", "-c", "printf %s \"$GRANTKEEPER_TOKEN\""]));
    assert_eq!(format!("{printed}\n"), token);
    let named =
        ok(&cli.run(&["exec", "Work", "--env", "API_TOKEN", "--", "sh", "-c", "printf %s \"$API_TOKEN\""]));
    assert_eq!(format!("{named}\n"), token);
    assert_eq!(cli.run(&["exec", "Work", "--", "sh", "-c", "exit 7"]).status.code(), Some(7));
    assert_eq!(cli.run(&["exec", "Work", "--", "no-such-command-here"]).status.code(), Some(127));
    let script = cli.home.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let not_executable = cli.run(&["exec", "Work", "--", script.to_str().unwrap()]);
    assert_eq!(not_executable.status.code(), Some(126));
    assert!(text(&not_executable.stderr).contains("it is not executable (chmod +x)"), "{not_executable:?}");
    std::fs::write(&script, "#!/no/such/interpreter\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let no_interpreter = cli.run(&["exec", "Work", "--", script.to_str().unwrap()]);
    assert_eq!(no_interpreter.status.code(), Some(127));
    assert!(
        text(&no_interpreter.stderr).contains("the interpreter its first line (#!) names"),
        "{no_interpreter:?}"
    );
    // A name that would drive the terminal is not echoed as it is.
    let escapes = cli.run(&["exec", "Work", "--", "\u{1b}]0;owned\u{7}\u{1b}[31mred"]);
    assert_eq!(escapes.status.code(), Some(127));
    assert!(!escapes.stderr.iter().any(|b| matches!(b, 0x1b | 0x07)), "{}", text(&escapes.stderr));
    exec_leaves_signals_to_the_command(cli);
    let bad_name = cli.run(&["exec", "Work", "--env", "1BAD", "--", "true"]);
    assert_eq!(bad_name.status.code(), Some(1));
    assert!(text(&bad_name.stderr).contains("not an environment variable name"));
    let path = cli.run(&["exec", "Work", "--env", "PATH", "--", "true"]);
    assert_eq!(path.status.code(), Some(1));
    assert!(
        text(&path.stderr).contains("The system reads PATH to start the command"),
        "{}",
        text(&path.stderr)
    );
}

/// The command takes exec's place, as with `env`. Ctrl-C in a terminal reaches the whole
/// foreground process group: a command that carries on after it (as a REPL does) is
/// not left without exec, and its exit code is exec's. A signal that ends the command
/// ends exec (a shell says 128 and its number), and one ignored where exec started (a
/// script's background job) stays ignored for the command.
fn exec_leaves_signals_to_the_command(cli: &Cli) {
    use std::io::{BufRead, Read};
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let script = "trap 'echo caught' INT; echo ready; sleep 5; echo done";
    let mut exec = cli.command(&["exec", "Work", "--", "sh", "-c", script]);
    let mut exec = exec.process_group(0).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdout = std::io::BufReader::new(exec.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let group = format!("kill -INT -{}", exec.id());
    assert!(Command::new("sh").args(["-c", &group]).status().unwrap().success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "caught\ndone\n");
    assert_eq!(exec.wait().unwrap().code(), Some(0));

    let ended = cli.run(&["exec", "Work", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(ended.status.signal(), Some(15), "{:?}", ended.status);
    let argv = ["exec", "Work", "--", "sh", "-c", "kill -INT $$; echo survived"];
    let ignoring = cli.command_through_shell("trap '' INT; exec \"$@\"", &argv).output().unwrap();
    assert_eq!(ok(&ignoring), "survived\n");
}

#[test]
fn status_exec_and_token_json() {
    let (op, cli) = connected_as_work(&[]);

    let status = ok(&cli.run(&["status"]));
    assert!(status.starts_with("Work\tactive\tgrace@example.test\texpires "), "{status}");
    let token = ok(&cli.run(&["token", "Work"]));
    let as_json: serde_json::Value =
        serde_json::from_str(&ok(&cli.run(&["token", "Work", "--json"]))).unwrap();
    assert_eq!(format!("{}\n", as_json["access_token"].as_str().unwrap()), token);
    assert_eq!(
        (as_json["token_type"].as_str(), as_json["account"].as_str()),
        (Some("Bearer"), Some("grace@example.test"))
    );
    assert!(as_json["expires_at"].is_string() && as_json["scopes"].is_array());

    // A reader that stops early (`| head -1`) is no error.
    let mut listing = cli.piped(&["list"]).spawn().unwrap();
    drop(listing.stdout.take());
    let listed = listing.wait_with_output().unwrap();
    assert!(listed.status.success() && listed.stderr.is_empty(), "{listed:?}");

    // A unique prefix or the integration's name finds it; a scope it lacks is refused.
    assert_eq!(ok(&cli.run(&["token", "Wo"])), token);
    assert_eq!(ok(&cli.run(&["token", "Local OP", "--require-scope", "email"])), token);
    let lacking = cli.run(&["token", "Work", "--require-scope", "email", "--require-scope", "calendar"]);
    assert_eq!(lacking.status.code(), Some(3));
    assert!(text(&lacking.stderr).contains("was not granted calendar"), "{}", text(&lacking.stderr));
    assert!(lacking.stdout.is_empty());
    assert_eq!(
        cli.run(&["token", "Work", "--require-scope", ""]).status.code(),
        Some(2),
        "no scope is a usage error"
    );
    let escapes = cli.run(&["token", "Work", "--require-scope", "\u{1b}[2J\u{202e}cal"]);
    assert_eq!(escapes.status.code(), Some(3));
    let said = text(&escapes.stderr);
    assert!(said.contains("[2J cal") && !said.contains(['\u{1b}', '\u{202e}']), "{said}");

    exec_hands_the_token_in_its_environment(&cli, &token);
    names_that_would_mislead_are_refused(&cli, &op.issuer);

    // Revoked at the provider: status says so and exits 3.
    tokio::runtime::Runtime::new().unwrap().block_on(op.revoke_grants("grace"));
    assert_eq!(cli.run(&["refresh", "Work"]).status.code(), Some(3));
    let needs = cli.run(&["status", "Work"]);
    assert_eq!(needs.status.code(), Some(3));
    assert!(text(&needs.stdout).contains("reauthorize"), "{}", text(&needs.stdout));
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let cli = Cli::new(BrowserMode::Consent);
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(&cli.run(&["completions", shell]));
        for command in ["connect", "token", "exec", "catalog"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
    }
    // The bash script is valid bash.
    let script = ok(&cli.run(&["completions", "bash"]));
    let checked = Command::new("bash").args(["-n", "-c", &script]).output().unwrap();
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    // It needs no data directory or keychain.
    assert!(std::fs::read_dir(cli.home.path()).unwrap().next().is_none());
}

/// Removing a provider app with its connections says what became of each connection,
/// and names the provider as it is called, not as it was typed.
#[test]
fn removing_a_provider_app_says_what_became_of_its_connections() {
    let (_op, cli) = connected_as_work(&[]);
    let refused = cli.run(&["providers", "remove", "LOCAL OP"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("--with-connections"), "{}", text(&refused.stderr));
    let removed = cli.run(&["providers", "remove", "LOCAL OP", "--with-connections"]);
    ok(&removed);
    assert_eq!(
        text(&removed.stderr),
        "Removed Work and revoked its access at Local OP.\nRemoved the provider app of Local OP.\n"
    );
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
}

/// Where no app runs, a revocation the provider could not take is tried again by the
/// next `remove`, once its backoff has passed, and `remove` says it was done.
#[test]
fn the_next_removal_retries_a_revocation_left_queued() {
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Consent);
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut set_up = common::use_emulator(&emulator, "google");
    let at = set_up.iter().position(|arg| arg == "--revocation-url").unwrap() + 1;
    set_up[at] = format!("http://127.0.0.1:{closed_port}/google/revoke");
    ok(&cli.run_with_stdin(&common::strs(&set_up), grantkeeper_test_support::EMULATED_CLIENT_SECRET));
    ok(&cli.run(&["connect", "gmail", "--name", "Mail"]));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(emulator.sign_in_as("bob"));
    ok(&cli.run(&["connect", "gmail", "--name", "Bob's mail"]));

    let first = cli.run(&["remove", "Mail"]);
    ok(&first);
    assert!(text(&first.stderr).contains("at your next `grantkeeper remove`"), "{}", text(&first.stderr));
    assert_eq!(secret_tool_keys(&cli.service).iter().filter(|k| k.starts_with("credential/")).count(), 2);

    // The provider is back at that address, and the backoff has passed.
    let emulator_address = url::Url::parse(&emulator.root_url()).unwrap().socket_addrs(|| None).unwrap()[0];
    let _reachable = runtime.block_on(forward(closed_port, emulator_address));
    let database = rusqlite::Connection::open(cli.home.path().join("grantkeeper.sqlite3")).unwrap();
    database.execute("UPDATE pending_revocations SET next_attempt_at = '2000-01-01T00:00:00Z'", []).unwrap();
    let second = cli.run(&["remove", "Bob's mail"]);
    ok(&second);
    assert_eq!(
        text(&second.stderr),
        "Removed Bob's mail and revoked its access at Google.\nRevoked the access of Mail, removed earlier, at Google.\n"
    );
    assert!(!secret_tool_keys(&cli.service).iter().any(|k| k.starts_with("credential/")));
    assert_eq!(runtime.block_on(emulator.grant_revoked("google", "ada")), Some(true));
}

/// A `keys add` killed while the database is busy leaves no key behind: the key reaches
/// the keychain only once its entry is noted in the database. An entry a command killed
/// between the two left unused is deleted by a later `remove` (or the app's start),
/// once it is older than any command takes to keep its entry.
#[test]
fn a_killed_keys_add_leaves_no_key_behind() {
    use std::io::Write;
    let cli = Cli::new(BrowserMode::Consent);
    let add = |name| ["keys", "add", "openai", "--key-stdin", "--no-check", "--name", name];
    ok(&cli.run_with_stdin(&add("A"), "sk-canary-kept-1111"));
    let entries = || {
        let mut keys = secret_tool_keys(&cli.service);
        keys.retain(|k| k.starts_with("credential/"));
        keys
    };
    let kept = entries();
    let db = rusqlite::Connection::open(cli.home.path().join("grantkeeper.sqlite3")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut adding = cli.piped(&add("C")).stdin(Stdio::piped()).spawn().unwrap();
    adding.stdin.take().unwrap().write_all(b"sk-canary-killed-2222").unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(entries(), kept, "nothing is written to the keychain while the database is busy");
    adding.kill().unwrap();
    adding.wait().unwrap();
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(entries(), kept);

    // What a command killed between the keychain and the database leaves: an entry and
    // its note; and an entry another command noted a moment ago and is about to keep.
    let (orphan, being_kept) = ("credential/killed/entry", "credential/being-kept/entry");
    for key in [orphan, being_kept] {
        grantkeeper_test_support::secret_tool_store(
            &cli.service,
            key,
            r#"{"access_token":"sk-canary-3333"}"#,
        );
    }
    db.execute(
        "INSERT INTO stale_secrets (key, since) VALUES (?1, '2000-01-01T00:00:00Z'),
            (?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        [orphan, being_kept],
    )
    .unwrap();
    ok(&cli.run(&["remove", "A"]));
    assert_eq!(entries(), [being_kept]);
}

/// A browser command that cannot start is said, with the link to open by hand; the
/// sign-in still waits for it.
#[test]
fn a_browser_that_cannot_be_opened_is_said() {
    use std::io::BufRead;
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    cli.add_public_provider(&op.issuer);
    let mut connect = cli.command(&["connect", "Local OP"]);
    connect.env("GRANTKEEPER_BROWSER", "/no/such/browser").stdin(Stdio::piped()).stderr(Stdio::piped());
    let mut connect = connect.spawn().unwrap();
    let stderr = std::io::BufReader::new(connect.stderr.take().unwrap());
    let mut said = String::new();
    for line in stderr.lines().map_while(Result::ok) {
        said.push_str(&line);
        said.push('\n');
        if line.trim_start().starts_with("http") {
            break;
        }
    }
    connect.kill().unwrap();
    connect.wait().unwrap();
    assert!(
        said.contains(
            "The browser could not be opened (could not start the browser command “/no/such/browser”)"
        ),
        "{said}"
    );
    assert!(said.contains(&format!("{}/", op.issuer.trim_end_matches('/'))), "the link: {said}");
}

/// Without the keychain the tokens could be neither revoked nor deleted: the removal is
/// refused with exit 4 and nothing changes, and it goes through once the keychain is back.
#[test]
fn a_removal_without_the_keychain_changes_nothing() {
    let (op, cli) = connected_as_work(&[]);
    let refused = cli.command_without_keychain(&["remove", "Work"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("Secret Service"), "{}", text(&refused.stderr));
    assert!(ok(&cli.run(&["list"])).starts_with("Work\t"), "still connected");
    assert!(secret_tool_keys(&cli.service).iter().any(|k| k.starts_with("credential/")));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(runtime.block_on(op.stats()).revocation_requests, 0);

    let removed = cli.run(&["remove", "Work"]);
    ok(&removed);
    assert!(text(&removed.stderr).contains("revoked its access"), "{}", text(&removed.stderr));
    assert!(runtime.block_on(op.stats()).revocation_requests > 0, "revoked once the keychain is back");
    assert!(secret_tool_keys(&cli.service).is_empty());
}

/// No Secret Service (no session bus): exit 4 with a message that names what to start,
/// and nothing half-done — no provider app saved, the secret in no file.
#[test]
fn without_a_keychain_nothing_is_written() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Consent);
    let add = cli.command_without_keychain(&add_confidential_provider(&op.issuer));
    let refused = output_with_stdin(add, "canary-client-secret-7f3a\n");
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
    let message = text(&refused.stderr);
    assert!(message.contains("Secret Service") && refused.stdout.is_empty(), "{message}");
    assert!(!message.contains("canary-client-secret"));
    assert!(!contains(&data_dir_bytes(cli.home.path()), "canary-client-secret-7f3a"));
    let token = cli.command_without_keychain(&["token", "anything"]).output().unwrap();
    assert_eq!(token.status.code(), Some(6), "no such connection is said before the keychain is needed");
    assert_eq!(ok(&cli.run(&["providers", "list", "--json"])).trim(), "[]", "no provider app was half saved");
}
