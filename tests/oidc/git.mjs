// Git over smart HTTP the way GitLab serves it: HTTP Basic with the user name `oauth2`
// and an OAuth access token as the password, checked against the provider's own token
// store. The repositories are served by git's own CGI program, `git http-backend`.
import { spawn } from 'node:child_process';

// The scopes that let a token read (clone, fetch) or also write (push) repositories.
const READ = ['read_repository', 'write_repository', 'api'];
const WRITE = ['write_repository', 'api'];

export function isGitRequest(url) {
  return /\.git(\/|$)/.test(url.pathname);
}

// `findToken(value)` resolves to oidc-provider's AccessToken or undefined.
export async function serveGit(req, res, url, { root, findToken, stats }) {
  const push = url.searchParams.get('service') === 'git-receive-pack' || url.pathname.endsWith('/git-receive-pack');
  const account = await authorize(req, findToken, push ? WRITE : READ);
  if (!account) {
    stats.git_refused += 1;
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="GitLab"', 'Content-Type': 'text/plain' });
    res.end('HTTP Basic: Access denied\n');
    return;
  }
  stats.git_authorized += 1;
  const backend = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] || '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] || '',
      GIT_PROTOCOL: req.headers['git-protocol'] || '',
      REMOTE_USER: account,
      REMOTE_ADDR: req.socket.remoteAddress || '',
    },
  });
  req.pipe(backend.stdin);
  backend.stderr.on('data', (chunk) => process.stderr.write(chunk));
  relayCgi(backend.stdout, res);
}

async function authorize(req, findToken, scopes) {
  const header = req.headers.authorization || '';
  if (!/^Basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'oauth2') return undefined;
  const token = await findToken(decoded.slice(colon + 1)).catch(() => undefined);
  if (!token || token.isExpired) return undefined;
  const granted = new Set((token.scope || '').split(' '));
  return scopes.some((s) => granted.has(s)) ? token.accountId : undefined;
}

// CGI output: header lines (with an optional `Status:`), a blank line, then the body.
function relayCgi(stdout, res) {
  let head = Buffer.alloc(0);
  let started = false;
  stdout.on('data', (chunk) => {
    if (started) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    let status = 200;
    const headers = {};
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  stdout.on('end', () => res.end());
}
