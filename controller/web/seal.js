// Sealing in the browser: the same bytes as crypto/src/hybrid.rs.
//
//   u16 big-endian length of the RSA part
//   RSA-OAEP (SHA-256, MGF1 SHA-256, label = the scope's) of a fresh 32-byte key
//   AES-256-GCM of the value under that key, all-zero 12-byte nonce, 16-byte tag
//
// The zero nonce is safe because every value gets its own session key.

const SESSION_KEY_BYTES = 32;
const NONCE_BYTES = 12;

/** The DER bytes of the first CERTIFICATE block of a PEM text. */
export function pemToDer(pem) {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new Error('the controller did not send a PEM certificate');
  return fromBase64(match[1].replace(/\s+/g, ''));
}

// One DER element at `offset`: its tag, where its content starts and ends.
function element(der, offset, limit) {
  if (offset + 2 > limit) throw new Error('truncated certificate');
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets < 1 || octets > 3 || start + octets > limit) throw new Error('bad length in certificate');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i];
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new Error('truncated certificate');
  return { tag, offset, start, end };
}

function children(der, parent) {
  const list = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = element(der, at, parent.end);
    list.push(child);
    at = child.end;
  }
  return list;
}

const SEQUENCE = 0x30;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

function time(der, el) {
  const text = new TextDecoder().decode(der.subarray(el.start, el.end));
  let m;
  if (el.tag === UTC_TIME && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    // RFC 5280: two-digit years 50-99 are 19xx.
    const yy = Number(m[1]);
    m[1] = String(yy >= 50 ? 1900 + yy : 2000 + yy);
  } else if (el.tag !== GENERALIZED_TIME || !(m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    throw new Error('unexpected time in certificate');
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/**
 * What the page needs from an X.509 certificate (RFC 5280): its public key
 * (SubjectPublicKeyInfo, as WebCrypto imports it) and validity. A small walk
 * over the DER, since WebCrypto cannot import a certificate.
 */
export function parseCertificate(der) {
  const cert = element(der, 0, der.length);
  if (cert.tag !== SEQUENCE) throw new Error('not an X.509 certificate');
  const tbs = children(der, cert)[0];
  if (!tbs || tbs.tag !== SEQUENCE) throw new Error('not an X.509 certificate');
  let fields = children(der, tbs);
  // [0] EXPLICIT version is optional (absent means v1).
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1);
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const [, , , validity, , spki] = fields;
  if (!validity || !spki || validity.tag !== SEQUENCE || spki.tag !== SEQUENCE) {
    throw new Error('not an X.509 certificate');
  }
  const [notBefore, notAfter] = children(der, validity).map((t) => time(der, t));
  return { spki: der.slice(spki.offset, spki.end), notBefore, notAfter };
}

/** The RSA public key, for RSA-OAEP with SHA-256 (exportable: it is public). */
export function importSealingKey(spki) {
  return crypto.subtle.importKey('spki', spki, { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['encrypt']);
}

/**
 * The `SHA256:...` fingerprint the controller and kubeseal show for a key
 * (status.keyFingerprint, `kubeseal admin keys list`): SHA-256 over the SSH
 * encoding `string "ssh-rsa", mpint e, mpint n`, base64 without padding.
 */
export async function keyFingerprint(key) {
  const jwk = await crypto.subtle.exportKey('jwk', key);
  const parts = [sshString(new TextEncoder().encode('ssh-rsa')), sshMpint(fromBase64Url(jwk.e)), sshMpint(fromBase64Url(jwk.n))];
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(parts)));
  return 'SHA256:' + toBase64(digest).replace(/=+$/, '');
}

/** SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256` shows it. */
export async function certificateSha256(der) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function sshString(bytes) {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function sshMpint(magnitude) {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length && trimmed[0] & 0x80) return sshString(concat([new Uint8Array([0]), trimmed]));
  return sshString(trimmed);
}

/** The OAEP label that binds a value to its scope (crypto/src/scope.rs). */
export function scopeLabel(scope, namespace, name) {
  switch (scope) {
    case 'strict':
      return new TextEncoder().encode(`${namespace}/${name}`);
    case 'namespace-wide':
      return new TextEncoder().encode(namespace);
    case 'cluster-wide':
      return new Uint8Array(0);
    default:
      throw new Error(`unknown scope ${scope}`);
  }
}

/** Seals `plaintext` (bytes) for `key` under `label`. */
export async function sealValue(key, plaintext, label) {
  const sessionKey = crypto.getRandomValues(new Uint8Array(SESSION_KEY_BYTES));
  try {
    const rsa = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label }, key, sessionKey));
    if (rsa.length > 0xffff) throw new Error('RSA key too large');
    const aes = await crypto.subtle.importKey('raw', sessionKey, 'AES-GCM', false, ['encrypt']);
    const body = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(NONCE_BYTES), tagLength: 128 }, aes, plaintext),
    );
    const prefix = new Uint8Array([rsa.length >> 8, rsa.length & 0xff]);
    return concat([prefix, rsa, body]);
  } finally {
    sessionKey.fill(0);
  }
}

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function toBase64(bytes) {
  // btoa takes a "binary string"; build it in chunks so large files do not
  // overflow the argument list.
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
}
