//! `urlParse` and `urlJoin`: Go's `net/url` parsing and `URL.String()`, as a
//! main module older than Go 1.26 sees them (`urlstrictcolons=0`: the port
//! is after the last colon). Error texts drop the quoted input Go includes.

use std::net::Ipv6Addr;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Elem, Value};

pub(super) const FUNCS: &[Func] = &[
    Func::new("urlParse", &[Type::String], url_parse),
    Func::new("urlJoin", &[Type::Map], url_join),
];

/// `net/url`'s escaping modes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone) && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => false,
            Mode::Host | Mode::Zone => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

fn escape(s: &[u8], mode: Mode) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if should_escape(c, mode) {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        } else {
            out.push(c);
        }
    }
    out
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Go's `unescape` (never the query mode here, so `+` stays `+`).
fn unescape(s: &[u8], mode: Mode) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'%' {
            let (Some(h), Some(l)) = (
                s.get(i + 1).copied().and_then(unhex),
                s.get(i + 2).copied().and_then(unhex),
            ) else {
                return Err("invalid URL escape");
            };
            let is_25 = h == 2 && l == 5;
            if mode == Mode::Host && h < 8 && !is_25 {
                return Err("invalid URL escape");
            }
            let v = h << 4 | l;
            if mode == Mode::Zone && !is_25 && v != b' ' && should_escape(v, Mode::Host) {
                return Err("invalid URL escape");
            }
            out.push(v);
            i += 3;
            continue;
        }
        if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
            return Err("invalid character in host name");
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], c: u8) -> Option<usize> {
    hay.iter().rposition(|&b| b == c)
}

fn valid_optional_port(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

#[derive(Default)]
struct Url {
    scheme: Vec<u8>,
    opaque: Vec<u8>,
    /// Username and, if set, password.
    user: Option<(Vec<u8>, Option<Vec<u8>>)>,
    host: Vec<u8>,
    path: Vec<u8>,
    raw_query: Vec<u8>,
    fragment: Vec<u8>,
}

/// Go's `parseHost` (Go 1.26, as the reference links it: an `http` or
/// `https` host's port starts at its first colon, `urlstrictcolons=1`).
fn parse_host(scheme: &[u8], host: &[u8]) -> Result<Vec<u8>, &'static str> {
    match rfind(host, b'[') {
        Some(i) if i > 0 => return Err("invalid IP-literal"),
        Some(_) => {
            let close = rfind(host, b']').ok_or("missing ']' in host")?;
            let colon_port = &host[close + 1..];
            if !valid_optional_port(colon_port) {
                return Err("invalid port after host");
            }
            let port = unescape(colon_port, Mode::Host)?;
            let name = host.get(1..close).unwrap_or_default();
            let unescaped = match find(name, b"%25") {
                Some(z) => {
                    let mut h = unescape(&name[..z], Mode::Host)?;
                    h.extend(unescape(&name[z..], Mode::Zone)?);
                    h
                }
                None => unescape(name, Mode::Host)?,
            };
            if !is_ipv6(&unescaped) {
                return Err(
                    if std::str::from_utf8(&unescaped)
                        .is_ok_and(|s| s.parse::<std::net::Ipv4Addr>().is_ok())
                    {
                        "invalid IP-literal"
                    } else {
                        "invalid host"
                    },
                );
            }
            let mut out = vec![b'['];
            out.extend(unescaped);
            out.push(b']');
            out.extend(port);
            return Ok(out);
        }
        None => {}
    }
    if let (Some(first), Some(last)) = (find(host, b":"), rfind(host, b':')) {
        let strict = matches!(scheme, b"http" | b"https");
        let port_start = if strict { first } else { last };
        if !valid_optional_port(&host[port_start..]) {
            return Err("invalid port after host");
        }
    }
    unescape(host, Mode::Host)
}

/// `netip.ParseAddr` of an IPv6 address with an optional non-empty zone.
fn is_ipv6(s: &[u8]) -> bool {
    let (addr, zone) = match s.iter().position(|&b| b == b'%') {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    if zone.is_some_and(<[u8]>::is_empty) {
        return false;
    }
    std::str::from_utf8(addr).is_ok_and(|a| a.parse::<Ipv6Addr>().is_ok())
}

fn valid_userinfo(s: &[u8]) -> bool {
    // Non-ASCII (and invalid UTF-8) is not allowed either.
    s.iter()
        .all(|&c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c))
}

/// Go's `url.Parse`.
fn parse(raw: &[u8]) -> Result<Url, &'static str> {
    let (u, frag) = match raw.iter().position(|&b| b == b'#') {
        Some(p) => (&raw[..p], Some(&raw[p + 1..])),
        None => (raw, None),
    };
    let mut url = parse_no_fragment(u)?;
    if let Some(f) = frag.filter(|f| !f.is_empty()) {
        url.fragment = unescape(f, Mode::Fragment)?;
    }
    Ok(url)
}

fn parse_no_fragment(raw: &[u8]) -> Result<Url, &'static str> {
    if raw.iter().any(|&b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL");
    }
    let mut url = Url::default();
    if raw == b"*" {
        url.path = b"*".to_vec();
        return Ok(url);
    }
    // getScheme
    let mut rest = raw;
    for (i, &c) in raw.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => continue,
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => continue,
            b':' if i == 0 => return Err("missing protocol scheme"),
            b':' => {
                url.scheme = raw[..i].to_ascii_lowercase();
                rest = &raw[i + 1..];
            }
            _ => {}
        }
        break;
    }
    let questions = rest.iter().filter(|&&b| b == b'?').count();
    if rest.last() == Some(&b'?') && questions == 1 {
        rest = &rest[..rest.len() - 1];
    } else if let Some(q) = rest.iter().position(|&b| b == b'?') {
        url.raw_query = rest[q + 1..].to_vec();
        rest = &rest[..q];
    }
    if !rest.starts_with(b"/") {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_vec();
            return Ok(url);
        }
        let segment = rest.split(|&b| b == b'/').next().unwrap_or_default();
        if segment.contains(&b':') {
            return Err("first path segment in URL cannot contain colon");
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with(b"///")) && rest.starts_with(b"//") {
        let after = &rest[2..];
        let (authority, path) = match after.iter().position(|&b| b == b'/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, &b""[..]),
        };
        rest = path;
        let (userinfo, host) = match rfind(authority, b'@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        url.host = parse_host(&url.scheme, host)?;
        if let Some(ui) = userinfo {
            if !valid_userinfo(ui) {
                return Err("net/url: invalid userinfo");
            }
            url.user = Some(match ui.iter().position(|&b| b == b':') {
                None => (unescape(ui, Mode::UserPassword)?, None),
                Some(c) => (
                    unescape(&ui[..c], Mode::UserPassword)?,
                    Some(unescape(&ui[c + 1..], Mode::UserPassword)?),
                ),
            });
        }
    }
    url.path = unescape(rest, Mode::Path)?;
    Ok(url)
}

impl Url {
    fn userinfo_string(&self) -> Vec<u8> {
        let Some((name, password)) = &self.user else {
            return Vec::new();
        };
        let mut out = escape(name, Mode::UserPassword);
        if let Some(p) = password {
            out.push(b':');
            out.extend(escape(p, Mode::UserPassword));
        }
        out
    }

    /// Go's `splitHostPort` host part.
    fn hostname(&self) -> &[u8] {
        let mut host = &self.host[..];
        if let Some(colon) = rfind(host, b':') {
            if valid_optional_port(&host[colon..]) {
                host = &host[..colon];
            }
        }
        if host.len() >= 2 && host.starts_with(b"[") && host.ends_with(b"]") {
            host = &host[1..host.len() - 1];
        }
        host
    }

    /// Go's `URL.String` for a URL without RawPath, RawFragment,
    /// ForceQuery or OmitHost (what `urlJoin` builds).
    fn string(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        if !self.scheme.is_empty() {
            buf.extend_from_slice(&self.scheme);
            buf.push(b':');
        }
        if !self.opaque.is_empty() {
            buf.extend_from_slice(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.extend_from_slice(b"//");
                }
                if self.user.is_some() {
                    buf.extend(self.userinfo_string());
                    buf.push(b'@');
                }
                buf.extend(escape(&self.host, Mode::Host));
            }
            let path = if self.path == b"*" {
                self.path.clone()
            } else {
                escape(&self.path, Mode::Path)
            };
            if !path.is_empty() && path[0] != b'/' && !self.host.is_empty() {
                buf.push(b'/');
            }
            if buf.is_empty() {
                let segment = path.split(|&b| b == b'/').next().unwrap_or_default();
                if segment.contains(&b':') {
                    buf.extend_from_slice(b"./");
                }
            }
            buf.extend(path);
        }
        if !self.raw_query.is_empty() {
            buf.push(b'?');
            buf.extend_from_slice(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push(b'#');
            buf.extend(escape(&self.fragment, Mode::Fragment));
        }
        buf
    }
}

fn url_parse(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let Some(raw) = args.first().and_then(Value::as_bytes) else {
        return Err(FuncError::reason("wrong type for value; expected string"));
    };
    env.charge(raw.len() * 2 + 8 * 16)?;
    let url =
        parse(raw).map_err(|e| FuncError::reason(format!("unable to parse url: parse: {e}")))?;
    let fields: [(&str, Vec<u8>); 8] = [
        ("scheme", url.scheme.clone()),
        ("host", url.host.clone()),
        ("hostname", url.hostname().to_vec()),
        ("path", url.path.clone()),
        ("query", url.raw_query.clone()),
        ("opaque", url.opaque.clone()),
        ("fragment", url.fragment.clone()),
        ("userinfo", url.userinfo_string()),
    ];
    let map = env.heap.new_map(Elem::Any);
    if let Value::Map(m) = map {
        let entries = &mut env.heap.get_mut(m).entries;
        for (k, v) in fields {
            entries.insert(k.as_bytes().into(), Value::bytes(&v));
        }
    }
    Ok(map)
}

fn url_join(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let Some(Value::Map(m)) = args.first() else {
        // A nil map has no keys: every part is empty.
        return Ok(Value::str(""));
    };
    let map = env.heap.get(*m);
    // sprig's dictGetOrEmpty: a missing key is "", a non-string panics.
    let get = |key: &str| -> Result<Vec<u8>, FuncError> {
        match map.entries.get(key.as_bytes()) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(s.to_vec()),
            Some(Value::Nil | Value::Invalid) => Err(FuncError::reason(
                "runtime error: invalid memory address or nil pointer dereference",
            )),
            Some(v) => Err(FuncError::reason(format!(
                "unable to parse {key} key, must be of type string, but {} found",
                v.kind().go_name()
            ))),
        }
    };
    let mut url = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        user: None,
    };
    let userinfo = get("userinfo")?;
    if !userinfo.is_empty() {
        let mut raw = b"proto://".to_vec();
        raw.extend_from_slice(&userinfo);
        raw.extend_from_slice(b"@host");
        let parsed = parse(&raw).map_err(|e| {
            FuncError::reason(format!("unable to parse userinfo in dict: parse: {e}"))
        })?;
        url.user = parsed.user;
    }
    let out = url.string();
    env.charge(out.len())?;
    Ok(Value::bytes(&out))
}
