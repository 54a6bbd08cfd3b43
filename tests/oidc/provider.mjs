// An OpenID Connect provider for the tests: panva's oidc-provider (web/node_modules, installed
// by web/setup.sh) with one client, a few test accounts and its own login form.
//
//   node tests/oidc/provider.mjs --client-id ID --client-secret SECRET --redirect-uri URI
//                                [--host 127.0.0.1] [--port 0] [--accounts 40]
//
// It listens on a free port (unless --port is given) and prints its issuer URL on one line
// once it answers. The accounts are voter1 .. voterN, the password of voterK is
// "password-voterK" and its subject (sub) the first 32 hexadecimal digits of
// SHA-256("plebiscite test account voterK") (tests/oidc/__init__.py computes the same). The
// login form (GET and POST /interaction/UID) checks the password and grants the scope openid
// at once: no consent page. The ID tokens are signed with RS256 by a key made at each start.
// A redirect URI on the loopback address (http://127.0.0.1/PATH) makes the client a native
// one, whose redirect URIs may have any port (RFC 8252, section 7.3): one provider serves
// every server a test starts, each on its own free port.
import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { default: Provider } = await import(
  new URL('../../web/node_modules/oidc-provider/lib/index.js', import.meta.url)
);

const { values: args } = parseArgs({
  options: {
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    accounts: { type: 'string', default: '40' },
  },
});
for (const name of ['client-id', 'client-secret', 'redirect-uri']) {
  if (!args[name]) {
    console.error(`provider.mjs: --${name} is required`);
    process.exit(2);
  }
}

export function subjectOf(name) {
  return crypto.createHash('sha256').update(`plebiscite test account ${name}`).digest('hex').slice(0, 32);
}

const accounts = new Map(); // login -> {password, sub}
const bySubject = new Map();
for (let k = 1; k <= Number(args.accounts); k += 1) {
  const login = `voter${k}`;
  const account = { login, password: `password-${login}`, sub: subjectOf(login) };
  accounts.set(login, account);
  bySubject.set(account.sub, account);
}

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(args.port), args.host, resolve));
const issuer = `http://${args.host}:${server.address().port}`;

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: crypto.randomUUID() };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      application_type: args['redirect-uri'].every((u) => new URL(u).hostname === '127.0.0.1')
        ? 'native'
        : 'web',
    },
  ],
  async findAccount(ctx, sub) {
    if (!bySubject.has(sub)) return undefined;
    return { accountId: sub, async claims() { return { sub }; } };
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  jwks: { keys: [signing] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
});
provider.on('server_error', (ctx, error) => console.error('provider error:', error));

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, uid, message) {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><main><h1>Sign in to the test provider</h1>
${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<p><label for="login">Account</label> <input id="login" name="login" autocomplete="username" required></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form></main></body></html>`);
}

async function body(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('not this interaction');
  if (req.method === 'GET') {
    page(res, 200, uid, '');
    return;
  }
  if (req.method !== 'POST') throw new Error('GET or POST only');
  const form = await body(req);
  const account = accounts.get(form.get('login') || '');
  if (!account || account.password !== form.get('password')) {
    page(res, 401, uid, 'Unknown account or wrong password.');
    return;
  }
  const grant = new provider.Grant({ accountId: account.sub, clientId: details.params.client_id });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: account.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(new URL(req.url, issuer).pathname);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1]).catch((error) => {
    res.statusCode = 400;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`interaction refused: ${error.message}`);
  });
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
console.log(issuer);
