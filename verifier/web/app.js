// The log's web page: every check of a receipt runs here, in the browser,
// with WebCrypto, against the key this browser pinned; the server only
// supplies data (receipt, JWKS, checkpoint, proof), which it cannot forge.
'use strict';

const $ = (id) => document.getElementById(id);
const text = (value) => document.createTextNode(String(value));
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(typeof child === 'string' ? text(child) : child);
  return node;
};
const getJson = async (path) => {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
};

const b64url = (value) => {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64 + '==='.slice((base64.length + 3) % 4)), (c) =>
    c.charCodeAt(0),
  );
};
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (value) => Uint8Array.from(value.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) (out.set(part, at), (at += part.length));
  return out;
};
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

/** RFC 8785 for the JSON a receipt holds (strings, integers, booleans, objects, arrays). */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** RFC 9162, 2.1.3.2: the root an inclusion proof implies. */
async function rootFromProof(leaf, index, size, path) {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) ((fn = Math.floor(fn / 2)), (sn = Math.floor(sn / 2)));
    } else r = await nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** The JWKS, pinned in this browser on first use: a key that changes later is not trusted. */
async function pinnedKeys() {
  const served = (await getJson('/.well-known/jwks.json')).keys;
  const stored = JSON.parse(localStorage.getItem('veritee.pinned') ?? 'null');
  const pinned = stored ?? { at: new Date().toISOString(), keys: {} };
  for (const key of served)
    if (pinned.keys[key.kid] === undefined)
      pinned.keys[key.kid] = { x: key.x, y: key.y, exp: key.exp };
  localStorage.setItem('veritee.pinned', JSON.stringify(pinned));
  $('pinned').textContent = `${Object.keys(pinned.keys).join(', ')} (since ${pinned.at})`;
  return { served, pinned };
}

/** Verifies a compact JWS (ES256) with the pinned key it names; returns its header and payload. */
async function verifyJws(jws, keys) {
  const [h, p, s] = jws.trim().split('.');
  const header = JSON.parse(new TextDecoder().decode(b64url(h)));
  const key = keys.served.find((candidate) => candidate.kid === header.kid);
  const pin = keys.pinned.keys[header.kid];
  if (key === undefined || pin === undefined || pin.x !== key.x || pin.y !== key.y)
    return {
      ok: false,
      header,
      reason:
        'signed by a key this verifier does not hold, or one that changed since you pinned it',
    };
  const imported = await crypto.subtle.importKey(
    'jwk',
    { kty: 'EC', crv: 'P-256', x: key.x, y: key.y },
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
  const ok = await crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    imported,
    b64url(s),
    new TextEncoder().encode(`${h}.${p}`),
  );
  return {
    ok,
    header,
    payload: JSON.parse(new TextDecoder().decode(b64url(p))),
    reason: ok ? '' : 'the signature does not verify',
  };
}

async function check(input) {
  const result = $('result');
  result.replaceChildren(el('p', {}, 'Checking…'));
  const checks = [];
  const add = (ok, label, detail) => checks.push({ ok, label, detail });
  let claims;
  try {
    const given = input.trim();
    const jws = given.startsWith('eyJ')
      ? given
      : (await getJson(`/v1/receipts/${encodeURIComponent(given)}`)).receipt;
    const keys = await pinnedKeys();
    const signed = await verifyJws(jws, keys);
    add(
      signed.ok,
      'Signed by this verifier',
      signed.ok ? `key ${signed.header.kid}, pinned in this browser` : signed.reason,
    );
    claims = signed.payload ?? JSON.parse(new TextDecoder().decode(b64url(jws.split('.')[1])));
    const { log, ...entry } = claims;
    if (claims.typ === 'veritee.receipt/v2') {
      const leaf = hex(await leafHash(new TextEncoder().encode(canonical(entry))));
      add(
        leaf === log.leaf_hash,
        'Its log entry is exactly these claims',
        `leaf hash ${leaf} (RFC 8785 JSON)`,
      );
    } else
      add(true, 'Its log entry', `leaf hash ${log.leaf_hash}, as the signed statement names it`);
    const head = await getJson('/v1/log/checkpoint');
    const checkpoint = await verifyJws(head.checkpoint, keys);
    add(
      checkpoint.ok,
      'The log’s current tree head is signed by the same key',
      `${head.size} entries`,
    );
    const proof = await getJson(
      `/v1/log/proofs/inclusion?index=${log.index}&size=${checkpoint.payload.size}`,
    );
    const root = await rootFromProof(
      fromHex(log.leaf_hash),
      log.index,
      checkpoint.payload.size,
      proof.path.map(fromHex),
    );
    add(
      root !== undefined && hex(root) === checkpoint.payload.root,
      'It is in the log',
      `entry ${log.index} of ${checkpoint.payload.size}, proven to root ${checkpoint.payload.root}`,
    );
  } catch (error) {
    add(false, 'The receipt could be read', String(error.message ?? error));
  }
  const valid = checks.every((c) => c.ok);
  const details =
    claims?.tee === undefined
      ? []
      : [
          el('dt', {}, 'Enclave'),
          el(
            'dd',
            {},
            `${claims.tee.format} `,
            el(
              'span',
              { class: `badge ${claims.tee.simulated ? 'simulated' : 'hardware'}` },
              claims.tee.simulated ? 'simulated hardware' : 'real hardware',
            ),
          ),
          el('dt', {}, 'Code (measurement)'),
          el('dd', {}, claims.tee.measurement),
          el('dt', {}, 'Model'),
          el('dd', {}, claims.model_hash),
          el('dt', {}, 'Issued'),
          el('dd', {}, new Date(claims.iat * 1000).toISOString()),
          el('dt', {}, 'Receipt id'),
          el('dd', {}, claims.jti),
        ];
  result.replaceChildren(
    el(
      'p',
      { class: `verdict ${valid ? 'valid' : 'invalid'}`, id: 'verdict' },
      valid ? 'VALID: every check passed' : 'INVALID: a check failed',
    ),
    el(
      'ul',
      { class: 'checks' },
      ...checks.map((c) =>
        el(
          'li',
          { class: c.ok ? 'ok' : 'fail' },
          `${c.label}: `,
          el('span', { class: 'note' }, c.detail),
        ),
      ),
    ),
    el('dl', {}, ...details),
  );
}

async function recent() {
  const { size } = await getJson('/v1/log/checkpoint');
  $('log-size').textContent = `${size} entries in the log.`;
  const start = Math.max(0, size - 10);
  const { entries } = await getJson(`/v1/log/entries?start=${start}&count=10`);
  $('recent-rows').replaceChildren(
    ...entries.reverse().map((entry) => {
      const link = el('a', {}, entry.id ?? '');
      link.addEventListener('click', () => {
        $('lookup-input').value = entry.id;
        check(entry.id);
      });
      return el(
        'tr',
        {},
        el('td', {}, String(entry.index)),
        el('td', {}, entry.type ?? ''),
        el('td', {}, entry.issuedAt ?? ''),
        el('td', { class: 'mono' }, link),
      );
    }),
  );
}

async function images() {
  const response = await fetch('/v1/policies');
  if (!response.ok) return;
  const { changes } = await response.json();
  $('image-rows').replaceChildren(
    ...(changes.length === 0
      ? [el('tr', {}, el('td', { colspan: '5' }, 'No change yet: the base policy is in force.'))]
      : changes
          .map((change) =>
            el(
              'tr',
              {},
              el('td', {}, String(change.version)),
              el('td', {}, change.action),
              el(
                'td',
                { class: 'mono' },
                change.reference.measurement ?? change.reference.pcrs?.pcr0 ?? '',
              ),
              el('td', { class: 'mono' }, change.reference.modelHash ?? 'any'),
              el('td', {}, change.issuedAt),
            ),
          )
          .reverse()),
  );
}

$('lookup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  check($('lookup-input').value);
});
const fromAddress = new URLSearchParams(location.search).get('receipt');
Promise.all([pinnedKeys(), recent(), images()]).then(() => {
  if (fromAddress !== null) {
    $('lookup-input').value = fromAddress;
    return check(fromAddress);
  }
});
