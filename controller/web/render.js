// The SealedSecret as `kubeseal -o yaml` / `-o json` writes it (cli/src/output.rs):
// every map sorted by key, JSON pretty-printed with two spaces, YAML led by
// `---` in serde_yaml's block style with its quoting rules.

export const NAMESPACE_WIDE = 'sealedsecrets.bitnami.com/namespace-wide';
export const CLUSTER_WIDE = 'sealedsecrets.bitnami.com/cluster-wide';

// Maps are lists of [key, value] entries: a plain object would list keys that
// look like array indices ("0", "123") first, whatever their order.

/**
 * The object kubeseal makes from a Secret with this name, namespace and type
 * sealed with `--scope`: the scope's annotation on the SealedSecret and on its
 * template (api/src/seal.rs), no namespace when none was given (cluster-wide).
 * `encryptedData` is a list of [key, base64] entries.
 */
export function sealedSecret({ name, namespace, scope, type, encryptedData }) {
  const annotation = { 'namespace-wide': NAMESPACE_WIDE, 'cluster-wide': CLUSTER_WIDE }[scope];
  const metadata = () => [
    ...(annotation ? [['annotations', [[annotation, 'true']]]] : []),
    ['name', name],
    ...(namespace ? [['namespace', namespace]] : []),
  ];
  return sorted([
    ['apiVersion', 'bitnami.com/v1alpha1'],
    ['kind', 'SealedSecret'],
    ['metadata', metadata()],
    [
      'spec',
      [
        ['encryptedData', encryptedData],
        ['template', [['metadata', metadata()], ...(type ? [['type', type]] : [])]],
      ],
    ],
  ]);
}

// Code-unit order equals Rust's byte order for the ASCII keys Kubernetes allows.
function sorted(entries) {
  return entries
    .map(([key, value]) => [key, Array.isArray(value) ? sorted(value) : value])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** serde_json's `to_string_pretty`, and a final newline. */
export function toJson(entries) {
  return json(entries, '') + '\n';
}

function json(entries, indent) {
  if (!entries.length) return '{}';
  const inner = indent + '  ';
  const lines = entries.map(
    ([key, value]) => `${inner}${JSON.stringify(key)}: ${Array.isArray(value) ? json(value, inner) : JSON.stringify(value)}`,
  );
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

export function toYaml(entries) {
  return '---\n' + mapping(entries, '');
}

function mapping(entries, indent) {
  let out = '';
  for (const [key, value] of entries) {
    // libyaml writes keys over 128 characters as explicit `? key` entries.
    const head = key.length > 128 ? `${indent}? ${scalar(key)}\n${indent}:` : `${indent}${scalar(key)}:`;
    if (Array.isArray(value) && value.length) {
      out += `${head}\n` + mapping(value, indent + '  ');
    } else {
      out += `${head} ${Array.isArray(value) ? '{}' : scalar(value)}\n`;
    }
  }
  return out;
}

/**
 * One string as serde_yaml 0.9 writes it: single-quoted when a plain scalar
 * would read back as something else (null, a boolean, a number) or when
 * libyaml does not allow it plain. Only printable ASCII gets here: the form
 * accepts nothing else in names, keys and types (values are base64).
 */
export function scalar(text) {
  if (/[^\x20-\x7e]/.test(text)) throw new Error(`not printable ASCII: ${JSON.stringify(text)}`);
  if (readsAsNonString(text) || !plainAllowed(text)) return `'${text.replace(/'/g, "''")}'`;
  return text;
}

function readsAsNonString(text) {
  if (text === '' || /^(null|Null|NULL|~|true|True|TRUE|false|False|FALSE)$/.test(text)) return true;
  // Integers as serde_yaml reads them (decimal, 0x, 0o, 0b), and leading-zero
  // digit strings, which it quotes so they stay strings.
  if (/^[-+]?(0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|[0-9]+)$/.test(text)) return true;
  // Finite floats as Rust's f64 parser takes them, and YAML's .inf/.nan.
  if (/^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return true;
  return /^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/.test(text);
}

// libyaml's yaml_emitter_analyze_scalar, for one line in block context.
function plainAllowed(text) {
  if (text.startsWith('---') || text.startsWith('...')) return false;
  if (text.startsWith(' ') || text.endsWith(' ')) return false;
  const blankAfter = (i) => i + 1 >= text.length || text[i + 1] === ' ';
  if (/^[#,[\]{}&*!|>'"%@`]/.test(text)) return false;
  if (/^[?:-]/.test(text) && blankAfter(0)) return false;
  for (let i = 1; i < text.length; i++) {
    if (text[i] === ':' && blankAfter(i)) return false;
    if (text[i] === '#' && text[i - 1] === ' ') return false;
  }
  return true;
}
