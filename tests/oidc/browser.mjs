// The stand-in for the system browser in tests: given the authorize URL as its last
// argument, it signs in and consents (or declines) at oidc-provider's development
// interaction pages over plain HTTP, then follows the redirect to the app's loopback
// callback. Env: GRANTKEEPER_TEST_BROWSER_MODE=consent|deny|ignore,
// GRANTKEEPER_TEST_LOGIN (default "ada"), GRANTKEEPER_TEST_BROWSER_LOG (file to append the URL to).
import { appendFileSync } from 'node:fs';

const authorizeUrl = process.argv.at(-1);
const mode = process.env.GRANTKEEPER_TEST_BROWSER_MODE || 'consent';
const login = process.env.GRANTKEEPER_TEST_LOGIN || 'ada';
if (process.env.GRANTKEEPER_TEST_BROWSER_LOG) appendFileSync(process.env.GRANTKEEPER_TEST_BROWSER_LOG, `${authorizeUrl}\n`);
if (mode === 'ignore') process.exit(0);

const provider = new URL(authorizeUrl);
const redirectUri = new URL(provider.searchParams.get('redirect_uri'));
const cookies = new Map();

function fail(message) {
  console.error(`stand-in browser: ${message}`);
  process.exit(1);
}

async function request(url, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  const target = new URL(url);
  if (target.host === provider.host && cookies.size) {
    headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  const response = await fetch(target, { ...options, headers, redirect: 'manual' });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const index = pair.indexOf('=');
    cookies.set(pair.slice(0, index).trim(), pair.slice(index + 1));
  }
  return response;
}

function isCallback(url) {
  return url.host === redirectUri.host && url.pathname === redirectUri.pathname;
}

let url = new URL(authorizeUrl);
for (let step = 0; step < 20; step += 1) {
  if (isCallback(url)) {
    const response = await fetch(url, { redirect: 'manual' });
    console.error(`stand-in browser: callback answered HTTP ${response.status}`);
    process.exit(0);
  }
  const response = await request(url);
  if (response.status >= 300 && response.status < 400) {
    url = new URL(response.headers.get('location'), url);
    continue;
  }
  const body = await response.text();
  const interaction = url.pathname.match(/^\/interaction\/([^/]+)$/);
  if (response.status !== 200 || !interaction) {
    fail(`unexpected page ${url} (HTTP ${response.status}): ${body.slice(0, 500)}`);
  }
  if (mode === 'deny') {
    url = new URL(`/interaction/${interaction[1]}/abort`, url);
    continue;
  }
  const prompt = body.includes('name="prompt" value="login"') ? 'login' : 'consent';
  const form = prompt === 'login' ? { prompt, login, password: 'any-password' } : { prompt };
  const submitted = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  if (submitted.status < 300 || submitted.status >= 400) {
    fail(`submitting ${prompt} at ${url} answered HTTP ${submitted.status}: ${(await submitted.text()).slice(0, 500)}`);
  }
  url = new URL(submitted.headers.get('location'), url);
}
fail('too many redirects');
