// The form. Every URL is relative: the page lives under a prefix that varies
// (the API server's service proxy, an Ingress path). The only requests are
// GET of the certificate and of the cluster's name and, on "Check", POST of
// the sealed object.

import {
  certificateSha256,
  importSealingKey,
  keyFingerprint,
  parseCertificate,
  pemToDer,
  scopeLabel,
  sealValue,
  toBase64,
} from './seal.js';
import { sealedSecret, toJson, toYaml } from './render.js';

const CERT_URL = '../v1/cert.pem';
const VERIFY_URL = '../v1/verify';
const CLUSTER_URL = 'cluster.json';
const TITLE = document.title;

// Kubernetes' rules (apimachinery validation): DNS-1123 subdomain for names,
// label for namespaces, config keys for items; types as qualified names.
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KEY = /^[-._a-zA-Z0-9]+$/;
const TYPE = /^[A-Za-z0-9][-A-Za-z0-9_./]*$/;

const $ = (id) => document.getElementById(id);
let sealing = null; // { key, der } once the certificate is loaded
let cluster = null; // --cluster-name, once known
let result = null; // { text, format, name, cluster }
let nextItem = 0;

function show(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = !text;
}

async function loadCertificate() {
  sealing = null;
  $('seal').disabled = true;
  show('cert-error', '');
  $('fingerprint').textContent = 'loading…';
  try {
    if (!globalThis.crypto?.subtle) {
      throw new Error(
        'this browser offers no WebCrypto here: open the page over HTTPS, or through `kubectl proxy` on localhost',
      );
    }
    const response = await fetch(CERT_URL, { cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error(`the controller answered ${response.status} for its certificate`);
    const der = pemToDer(await response.text());
    const cert = parseCertificate(der);
    const key = await importSealingKey(cert.spki);
    $('fingerprint').textContent = await keyFingerprint(key);
    $('cert-sha256').textContent = await certificateSha256(der);
    $('key-bits').textContent = `${key.algorithm.modulusLength} bits`;
    $('not-after').textContent = cert.notAfter.toISOString().replace('.000Z', 'Z');
    if (cert.notAfter < new Date()) throw new Error('this certificate has expired: ask the cluster admin to renew the key');
    sealing = { key, der };
    $('seal').disabled = false;
  } catch (error) {
    $('fingerprint').textContent = '–';
    show('cert-error', `Cannot use the certificate: ${error.message}`);
  }
}

/** Which cluster the page seals for (--cluster-name); the name is text only. */
async function loadCluster() {
  cluster = null;
  const line = $('cluster');
  try {
    const response = await fetch(CLUSTER_URL, { cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error(`the controller answered ${response.status}`);
    const answer = await response.json();
    cluster = typeof answer.cluster === 'string' && answer.cluster ? answer.cluster : null;
    if (cluster) {
      const name = document.createElement('strong');
      name.textContent = cluster;
      line.replaceChildren('Sealing for cluster ', name);
    } else {
      line.replaceChildren('Sealing for this cluster (the controller has no --cluster-name)');
    }
  } catch (error) {
    line.replaceChildren(`Sealing for this cluster (cannot ask the controller its name: ${error.message})`);
  }
  document.title = cluster ? `${TITLE} for cluster ${cluster}` : TITLE;
}

function addItem() {
  const row = $('item-template').content.firstElementChild.cloneNode(true);
  const n = ++nextItem;
  for (const input of row.querySelectorAll('[data-id]')) input.id = `${input.dataset.id}-${n}`;
  for (const label of row.querySelectorAll('[data-for]')) label.htmlFor = `${label.dataset.for}-${n}`;
  row.querySelector('.remove').addEventListener('click', () => {
    row.remove();
    if (!$('item-list').children.length) addItem();
  });
  // A picked file replaces the typed value; say so by disabling the box.
  const file = row.querySelector('.file');
  file.addEventListener('change', () => {
    row.querySelector('.value').disabled = file.files.length > 0;
  });
  $('item-list').append(row);
  return row;
}

/** The form's content, checked; throws with a message for the person. */
async function readForm() {
  const name = $('name').value.trim();
  const namespace = $('namespace').value.trim();
  const scope = document.querySelector('input[name=scope]:checked').value;
  const type = $('type').value.trim();
  if (!NAME.test(name) || name.length > 253) throw new Error('the name must be a Kubernetes name (lower case letters, digits, "-" and ".")');
  if (namespace && (!NAMESPACE.test(namespace) || namespace.length > 63)) {
    throw new Error('the namespace must be a Kubernetes namespace name (lower case letters, digits and "-")');
  }
  if (!namespace && scope !== 'cluster-wide') throw new Error('a namespace is needed unless the scope is cluster-wide');
  if (type && !TYPE.test(type)) throw new Error('the type must look like "Opaque" or "kubernetes.io/tls"');
  const items = [];
  for (const row of $('item-list').children) {
    const file = row.querySelector('.file').files[0];
    const text = row.querySelector('.value').value;
    let key = row.querySelector('.key').value.trim();
    if (!key && !file && !text) continue;
    if (!key && file) key = file.name;
    if (!KEY.test(key) || key === '.' || key === '..' || key.length > 253) {
      throw new Error(`"${key}" is not a valid key (letters, digits, "-", "_" and ".")`);
    }
    if (items.some((item) => item.key === key)) throw new Error(`the key "${key}" appears twice`);
    const bytes = file ? new Uint8Array(await file.arrayBuffer()) : new TextEncoder().encode(text);
    items.push({ key, bytes });
  }
  if (!items.length) throw new Error('add at least one item');
  const format = document.querySelector('input[name=format]:checked').value;
  return { name, namespace, scope, type, items, format };
}

async function seal(event) {
  event.preventDefault();
  show('form-error', '');
  show('status', '');
  if (!sealing) return;
  try {
    const form = await readForm();
    const label = scopeLabel(form.scope, form.namespace, form.name);
    const encryptedData = [];
    for (const item of form.items) {
      encryptedData.push([item.key, toBase64(await sealValue(sealing.key, item.bytes, label))]);
      item.bytes.fill(0);
    }
    const object = sealedSecret({ ...form, encryptedData });
    const text = form.format === 'json' ? toJson(object) : toYaml(object);
    result = { text, format: form.format, name: form.name, cluster };
    $('output').value = text;
    $('result').hidden = false;
    show('status', `Sealed ${form.items.length} item(s) for ${form.scope} scope.`);
  } catch (error) {
    show('form-error', error.message);
  }
}

async function copy() {
  try {
    await navigator.clipboard.writeText(result.text);
  } catch {
    // No clipboard permission (some browsers, frames): the old way.
    $('output').select();
    document.execCommand('copy');
  }
  show('status', 'Copied.');
}

function download() {
  const type = result.format === 'json' ? 'application/json' : 'application/yaml';
  const url = URL.createObjectURL(new Blob([result.text], { type }));
  const link = document.createElement('a');
  link.href = url;
  // db-sealed.oslo.yaml: files sealed for several clusters do not collide.
  const cluster = result.cluster ? `.${result.cluster}` : '';
  link.download = `${result.name}-sealed${cluster}.${result.format}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Sends the sealed object, and nothing else, to /v1/verify.
async function check() {
  show('status', 'Asking the controller…');
  try {
    const response = await fetch(VERIFY_URL, {
      method: 'POST',
      body: result.text,
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { 'Content-Type': result.format === 'json' ? 'application/json' : 'application/yaml' },
    });
    const answers = {
      200: 'The controller can unseal every item.',
      409: 'The controller cannot unseal it: sealed with another key, or for another name or namespace.',
      429: 'Too many checks: wait a second and try again.',
    };
    const detail = answers[response.status] ?? `The controller answered ${response.status}: ${(await response.text()).trim()}`;
    show('status', detail);
  } catch (error) {
    show('status', `Cannot reach the controller: ${error.message}`);
  }
}

$('form').addEventListener('submit', seal);
$('add-item').addEventListener('click', () => addItem().querySelector('.key').focus());
$('reload').addEventListener('click', () => {
  loadCluster();
  loadCertificate();
});
$('copy').addEventListener('click', copy);
$('download').addEventListener('click', download);
$('check').addEventListener('click', check);
addItem();
loadCluster();
loadCertificate();
