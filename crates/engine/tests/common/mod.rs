//! What the engine's integration tests share: a temp data directory, a keychain
//! service of their own, and engines whose stand-in browser signs in as someone.
#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;
use std::time::Duration;

use grantkeeper_engine::api::{ConnectOptions, ProviderAppInput};
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::provider::EndpointOverrides;
use grantkeeper_engine::{Config, Engine, FlowStarted, Keychain, NewProvider};
use grantkeeper_test_support::{
    browser_command, require_session, unique_keychain_service, BrowserMode, OidcProvider, ProviderEmulator,
};

pub struct Setup {
    pub home: tempfile::TempDir,
    pub service: String,
}

impl Setup {
    pub fn new() -> Self {
        require_session();
        Setup { home: tempfile::tempdir().unwrap(), service: unique_keychain_service() }
    }

    pub fn engine(&self, browser: BrowserMode) -> Arc<Engine> {
        self.engine_as(browser, "ada", Duration::from_secs(60))
    }

    pub fn engine_with(&self, browser: BrowserMode, flow_time_limit: Duration) -> Arc<Engine> {
        self.engine_as(browser, "ada", flow_time_limit)
    }

    /// An engine that opens no browser: the test plays the browser itself.
    pub fn engine_opening_no_browser(&self) -> Arc<Engine> {
        self.engine_opening(Browser::None)
    }

    pub fn engine_opening(&self, browser: Browser) -> Arc<Engine> {
        self.open(self.config(browser))
    }

    /// An engine whose stand-in browser signs in as `login`.
    pub fn engine_as(&self, browser: BrowserMode, login: &str, flow_time_limit: Duration) -> Arc<Engine> {
        let browser = Browser::Commands(vec![browser_command(browser, login)]);
        self.open(Config { flow_time_limit, ..self.config(browser) })
    }

    /// The configuration of this test's engines, for a test to change before `open`.
    pub fn config(&self, browser: Browser) -> Config {
        Config {
            flow_time_limit: Duration::from_secs(60),
            ..Config::new(self.home.path().to_owned(), self.service.clone(), browser)
        }
    }

    pub fn open(&self, config: Config) -> Arc<Engine> {
        Engine::open(config, Arc::new(Keychain::new(self.service.clone()))).unwrap()
    }
}

pub fn provider_input(issuer: &str) -> NewProvider {
    NewProvider {
        name: "Local OP".into(),
        issuer: Some(issuer.into()),
        client_id: "grantkeeper-test".into(),
        scopes: vec!["openid email offline_access".into()],
        ..NewProvider::default()
    }
}

/// The test OpenID provider, added as "Local OP" to an engine whose stand-in browser
/// acts as `browser`.
pub async fn engine_with_local_op(browser: BrowserMode) -> (OidcProvider, Setup, Arc<Engine>) {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let engine = setup.engine(browser);
    engine.add_provider(provider_input(&op.issuer)).await.unwrap();
    (op, setup, engine)
}

/// What a started sign-in asks of the browser: its authorize URL, the `state` the
/// callback must carry and the listener's redirect URI and port.
pub struct Started {
    pub authorize: url::Url,
    pub state: String,
    pub redirect: url::Url,
    pub port: u16,
}

pub fn started(flow: &FlowStarted) -> Started {
    let authorize = url::Url::parse(&flow.authorize_url).unwrap();
    let param = |name: &str| authorize.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let state = param("state").unwrap();
    let redirect = url::Url::parse(&param("redirect_uri").unwrap()).unwrap();
    let port = redirect.port().unwrap();
    Started { state, redirect, port, authorize }
}

pub fn named(name: &str) -> ConnectOptions {
    ConnectOptions { name: Some(name.into()), ..ConnectOptions::default() }
}

/// The provider emulator, and an engine whose stand-in browser consents.
pub fn emulator_and_engine() -> (ProviderEmulator, Setup, Arc<Engine>) {
    let emulator = ProviderEmulator::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    (emulator, setup, engine)
}

/// The same, with `provider`'s provider app pointed at the emulator.
pub async fn engine_using_emulator(
    provider: &str,
    with_secret: bool,
) -> (ProviderEmulator, Setup, Arc<Engine>) {
    let (emulator, setup, engine) = emulator_and_engine();
    use_emulator(&engine, &emulator, provider, with_secret).await;
    (emulator, setup, engine)
}

/// Points a catalog provider's provider app at the emulator (endpoint overrides), as
/// a person would for a self-hosted or regional variant.
pub async fn use_emulator(engine: &Engine, emulator: &ProviderEmulator, provider: &str, with_secret: bool) {
    let input = serde_json::from_value(emulator.provider_app(provider, with_secret)).unwrap();
    engine.set_provider_app(provider, input).await.unwrap();
}

/// The app's state after start-up: "Mail" connected to the emulated Google, the system
/// bus watched (the test session's own bus stands in for it) and the scheduler running.
/// It sets a process-wide variable, so only for a test file's only test.
pub async fn engine_as_the_app_runs(
    setup: &Setup,
) -> (ProviderEmulator, Arc<Engine>, tokio::task::JoinHandle<()>) {
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap());
    let emulator = ProviderEmulator::start();
    let engine = setup.engine(BrowserMode::Consent);
    use_emulator(&engine, &emulator, "google", true).await;
    let options = ConnectOptions { name: Some("Mail".into()), ..ConnectOptions::default() };
    engine.connect("gmail", options).await.unwrap().outcome.await.unwrap().unwrap();
    engine.watch_system_signals();
    let scheduler = tokio::spawn(engine.clone().run_scheduler());
    (emulator, engine, scheduler)
}

/// A provider app change that sets endpoints by hand and nothing else:
/// `endpoints_set(|set| set.token_url = Some(url))`.
pub fn endpoints_set(set: impl FnOnce(&mut EndpointOverrides)) -> ProviderAppInput {
    let mut endpoints = EndpointOverrides::default();
    set(&mut endpoints);
    ProviderAppInput { endpoints, ..ProviderAppInput::default() }
}
