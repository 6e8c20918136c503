// A real OpenID Connect provider for the staff sign-in tests: panva's certified oidc-provider,
// with one static client and three test users whose `groups` claim the service maps to roles.
//
//   node provider.mjs REDIRECT_URI      (listens on 127.0.0.1, a free port)
//
// Prints one JSON line {"issuer": ...} once it listens; stops when its stdin closes.
// The login and consent pages are this file's own (users and passwords below); everything
// else (discovery, authorization with PKCE, tokens, ID token signing, JWKS) is oidc-provider's.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const redirectUri = process.argv[2];
if (!redirectUri) {
  process.stderr.write('usage: node provider.mjs REDIRECT_URI\n');
  process.exit(2);
}

const CLIENT = { client_id: 'consentry-console', client_secret: 'consentry-console-secret' };
const USERS = {
  rita: { password: 'rita-password', name: 'Rita Reviewer', email: 'rita@example.test', groups: ['privacy-reviewers'] },
  paul: {
    password: 'paul-password', name: 'Paul Publisher', email: 'paul@example.test',
    groups: ['staff', 'privacy-publishers'],
  },
  mark: { password: 'mark-password', name: 'Mark Marketing', email: 'mark@example.test', groups: ['marketing'] },
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><head><title>${escape(title)}</title></head><body>${body}</body></html>`);
}

async function form(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginForm(res, uid, status, error) {
  page(res, status, 'Sign in', `<h1>Sign in</h1>${error ? `<p class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<input name="login" autocomplete="username"><input name="password" type="password"><button>Sign in</button></form>`);
}

async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'Error', '<p>stale interaction</p>');
  const { prompt, params, session } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') return loginForm(res, uid, 200);
    return page(res, 200, 'Consent', `<h1>Allow ${escape(params.client_id)}?</h1>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button>Continue</button></form>`);
  }
  if (action === 'login' && prompt.name === 'login') {
    const body = await form(req);
    const user = USERS[body.get('login')];
    if (!user || user.password !== body.get('password')) return loginForm(res, uid, 401, 'wrong login or password');
    return provider.interactionFinished(req, res, { login: { accountId: body.get('login') } }, {
      mergeWithLastSubmission: false,
    });
  }
  if (action === 'confirm' && prompt.name === 'consent') {
    const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const result = { consent: { grantId: await grant.save() } };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }
  return page(res, 400, 'Error', '<p>unexpected interaction step</p>');
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      ...CLIENT,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'], groups: ['groups'] },
    conformIdTokenClaims: false, // the claims of the granted scopes go in the ID token itself
    findAccount: (ctx, id) => {
      const user = USERS[id];
      if (!user) return undefined;
      const { password, ...claims } = user;
      return { accountId: id, claims: () => ({ sub: id, ...claims }) };
    },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const m = /^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/.exec(req.url.split('?')[0]);
    if (!m) return callback(req, res);
    return interaction(provider, req, res, m[1], m[2]).catch((err) => {
      process.stderr.write(`interaction failed: ${err}\n`);
      if (!res.headersSent) page(res, 400, 'Error', `<p>${escape(err.message)}</p>`);
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer, ...CLIENT })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
