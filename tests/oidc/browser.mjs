// The stand-in for the system browser in tests:
//
//   node tests/oidc/browser.mjs [...] AUTHORIZE_URL      (the URL is the last argument)
//
// Over plain HTTP (fetch, its own cookie jar, redirects followed by hand) it opens the
// authorize URL at the test provider (server.mjs), signs in and consents -- or declines
// -- at oidc-provider's development interaction pages, follows the redirects until the
// provider sends it to the app's loopback redirect URI (http://127.0.0.1|localhost:PORT
// /callback), then GETs that URL (the app's listener) and prints the answer's status to
// stderr. Given the provider's page for signing in by code (RFC 8628, `/device?user_code=...`
// from the device authorization answer), it submits the code, confirms, signs in and
// consents -- or aborts -- and stops at the provider's success page. Env:
//   GRANTKEEPER_TEST_BROWSER_MODE  consent (default) | deny (access_denied) | ignore (do nothing)
//                                  | drop-iss | repeat-iss (consent, then deliver the callback
//                                  without its RFC 9207 iss, or with a second one: a mix-up)
//                                  | elsewhere (a browser on another device: consent, then print
//                                  the callback's address on stdout instead of reaching it)
//   GRANTKEEPER_TEST_LOGIN         the login to sign in as (default "ada"); any password
//   GRANTKEEPER_TEST_BROWSER_LOG   a file to append the given URL to, one line per run
// Exits 0 once the callback was delivered or the device sign-in succeeded (or at once in
// ignore mode), 1 on anything
// unexpected (with a diagnostic on stderr), 2 on bad usage.
import { appendFileSync } from 'node:fs';

const TIME_LIMIT_MS = 10_000;
const REQUEST_TIME_LIMIT_MS = 5_000;
const MAX_STEPS = 20;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const mode = process.env.GRANTKEEPER_TEST_BROWSER_MODE || 'consent';
const login = process.env.GRANTKEEPER_TEST_LOGIN || 'ada';
const given = process.argv.length > 2 ? process.argv.at(-1) : undefined;

function fail(message, code = 1) {
  console.error(`stand-in browser: ${message}`);
  process.exit(code);
}

if (!given) fail('usage: node browser.mjs AUTHORIZE_URL', 2);
if (process.env.GRANTKEEPER_TEST_BROWSER_LOG) {
  appendFileSync(process.env.GRANTKEEPER_TEST_BROWSER_LOG, `${given}\n`);
}
if (!['consent', 'deny', 'ignore', 'drop-iss', 'repeat-iss', 'elsewhere'].includes(mode)) {
  fail(`GRANTKEEPER_TEST_BROWSER_MODE must be consent, deny, ignore, drop-iss, repeat-iss or elsewhere, not ${JSON.stringify(mode)}`, 2);
}
if (mode === 'ignore') process.exit(0);

let authorizeUrl;
try {
  authorizeUrl = new URL(given);
} catch {
  fail(`not a URL: ${JSON.stringify(given)}`, 2);
}
const providerOrigin = authorizeUrl.origin;

const watchdog = setTimeout(() => fail(`gave up after ${TIME_LIMIT_MS} ms`), TIME_LIMIT_MS);
watchdog.unref();

// A small cookie jar for the provider's origin: name+path -> value, honouring Path and
// deletion (Max-Age<=0 or an Expires in the past); that is all oidc-provider uses.
const jar = new Map();

function storeCookies(response, url) {
  for (const header of response.headers.getSetCookie()) {
    const [pair, ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
    let expired = false;
    for (const attribute of attributes) {
      const [key, ...rest] = attribute.split('=');
      const attrValue = rest.join('=').trim();
      switch (key.trim().toLowerCase()) {
        case 'path': path = attrValue || '/'; break;
        case 'max-age': if (Number(attrValue) <= 0) expired = true; break;
        case 'expires': if (Date.parse(attrValue) <= Date.now()) expired = true; break;
        default: break;
      }
    }
    const key = `${name}\n${path}`;
    if (expired) jar.delete(key);
    else jar.set(key, { name, value, path });
  }
}

function cookieHeader(url) {
  const matching = [...jar.values()]
    .filter(({ path }) => url.pathname === path || url.pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
    .sort((a, b) => b.path.length - a.path.length);
  return matching.map(({ name, value }) => `${name}=${value}`).join('; ');
}

async function request(url, { method = 'GET', form } = {}) {
  if (!LOOPBACK_HOSTS.has(url.hostname)) fail(`refusing to visit a non-loopback URL: ${url}`);
  const headers = { accept: 'text/html,application/json;q=0.9,*/*;q=0.8' };
  if (url.origin === providerOrigin) {
    const cookie = cookieHeader(url);
    if (cookie) headers.cookie = cookie;
  }
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  let response;
  try {
    response = await fetch(url, {
      method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIME_LIMIT_MS),
    });
  } catch (error) {
    fail(`${method} ${url} failed: ${error.cause?.message ?? error.message}`);
  }
  if (url.origin === providerOrigin) storeCookies(response, url);
  return response;
}

async function unexpected(what, url, response) {
  const body = await response.text().catch(() => '');
  fail(`${what}: ${url}\n  HTTP ${response.status}, location: ${response.headers.get('location') ?? '-'}\n  body: ${body.slice(0, 500)}`);
}

// The app's loopback redirect URI: 127.0.0.1/localhost, path /callback, another port.
function isCallback(url) {
  return LOOPBACK_HOSTS.has(url.hostname) && url.pathname === '/callback' && url.origin !== providerOrigin;
}

function formAction(html, pageUrl) {
  const match = html.match(/<form[^>]*\saction="([^"]*)"/i);
  return new URL(match ? match[1].replaceAll('&amp;', '&') : pageUrl, pageUrl);
}

// oidc-provider's device pages: the code form (op.deviceInputForm, or a self-submitting
// one when the link carries the code), the confirmation (op.deviceConfirmForm), then,
// after sign-in and consent, a success page.
async function deviceStep(pageUrl, html) {
  if (/<title>Sign-in Success<\/title>/.test(html)) {
    console.error(`stand-in browser: ${mode}: device sign-in succeeded at ${pageUrl.origin}${pageUrl.pathname}`);
    process.exit(0);
  }
  const form = html.match(/<form id="op\.device(Input|Confirm)Form"[\s\S]*?<\/form>/)?.[0]
    ?? html.match(/<form[^>]*method="post"[\s\S]*?<\/form>/)?.[0];
  if (!form) fail(`device page without a code form: ${pageUrl}\n  body: ${html.slice(0, 500)}`);
  const fields = {};
  for (const input of form.matchAll(/<input[^>]*>/g)) {
    const name = input[0].match(/name="([^"]*)"/)?.[1];
    const value = input[0].match(/value="([^"]*)"/)?.[1];
    if (name) fields[name] = value ?? '';
  }
  if (!fields.user_code) fields.user_code = pageUrl.searchParams.get('user_code') ?? '';
  if (mode === 'deny' && 'confirm' in fields) fields.abort = 'yes';
  const next = await request(formAction(form, pageUrl), { method: 'POST', form: fields });
  if (fields.abort) {
    await next.arrayBuffer().catch(() => undefined);
    console.error(`stand-in browser: deny: aborted the device sign-in (HTTP ${next.status})`);
    process.exit(0);
  }
  const location = next.headers.get('location');
  if (next.status >= 300 && next.status < 400 && location) {
    await next.arrayBuffer().catch(() => undefined);
    return new URL(location, pageUrl);
  }
  if (next.status !== 200) await unexpected('the code was not accepted', pageUrl, next);
  // The next device page came as the answer to the POST.
  return deviceStep(pageUrl, await next.text());
}

let url = authorizeUrl;
for (let step = 0; step < MAX_STEPS; step += 1) {
  if (isCallback(url)) {
    if (mode === 'elsewhere') {
      console.log(url.href);
      process.exit(0);
    }
    if (mode === 'drop-iss') url.searchParams.delete('iss');
    if (mode === 'repeat-iss') url.searchParams.append('iss', 'https://attacker.example');
    const response = await request(url);
    await response.arrayBuffer().catch(() => undefined);
    console.error(`stand-in browser: ${mode}: callback ${url.origin}${url.pathname} answered HTTP ${response.status}`);
    process.exit(0);
  }

  const response = await request(url);
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400 && location) {
    await response.arrayBuffer().catch(() => undefined);
    url = new URL(location, url);
    continue;
  }

  if (url.origin === providerOrigin && /\/device(\/|$)/.test(url.pathname) && response.status === 200) {
    url = await deviceStep(url, await response.text());
    continue;
  }

  const interaction = url.origin === providerOrigin && url.pathname.match(/^\/interaction\/([^/]+)$/);
  if (response.status !== 200 || !interaction) {
    await unexpected('unexpected page', url, response);
  }
  const html = await response.text();
  const prompt = html.match(/name="prompt"\s+value="([^"]+)"/)?.[1];
  if (prompt !== 'login' && prompt !== 'consent') {
    fail(`interaction page without a login or consent form: ${url}\n  body: ${html.slice(0, 500)}`);
  }

  let next;
  if (mode === 'deny') {
    // devInteractions' "Cancel": the provider answers the client with access_denied.
    next = await request(new URL(`/interaction/${interaction[1]}/abort`, url));
  } else if (prompt === 'login') {
    next = await request(formAction(html, url), {
      method: 'POST', form: { prompt, login, password: 'any-password' },
    });
  } else {
    // Consent grants everything that was asked for, offline_access included.
    next = await request(formAction(html, url), { method: 'POST', form: { prompt } });
  }
  const nextLocation = next.headers.get('location');
  if (next.status < 300 || next.status >= 400 || !nextLocation) {
    await unexpected(`${mode === 'deny' ? 'abort' : prompt} was not accepted`, url, next);
  }
  await next.arrayBuffer().catch(() => undefined);
  url = new URL(nextLocation, url);
}
fail(`no callback after ${MAX_STEPS} steps, last at ${url}`);
