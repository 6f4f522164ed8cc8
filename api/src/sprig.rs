//! The sprig functions SealedSecret templates use most, with sprig's argument
//! order: a piped value arrives last (`{{ .x | replace "a" "b" }}`). Nothing
//! here reads the environment or the network (the reference removes `env`,
//! `expandenv` and `getHostByName` for the same reason).

use base64::Engine as _;
use gtmpl::{Func, FuncError, Value};
use sha2::{Digest, Sha256};

pub const FUNCTIONS: &[(&str, Func)] = &[
    ("b64enc", b64enc),
    ("b64dec", b64dec),
    ("upper", upper),
    ("lower", lower),
    ("title", title),
    ("trim", trim),
    ("trimPrefix", trim_prefix),
    ("trimSuffix", trim_suffix),
    ("quote", quote),
    ("squote", squote),
    ("replace", replace),
    ("default", default),
    ("indent", indent),
    ("nindent", nindent),
    ("cat", cat),
    ("sha256sum", sha256sum),
    ("toString", to_string),
];

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::NoValue | Value::Nil => String::new(),
        other => other.to_string(),
    }
}

fn exactly<'a>(name: &str, args: &'a [Value], n: usize) -> Result<&'a [Value], FuncError> {
    if args.len() == n {
        Ok(args)
    } else {
        Err(FuncError::ExactlyXArgs(name.into(), n))
    }
}

fn one(name: &str, args: &[Value]) -> Result<String, FuncError> {
    Ok(text(&exactly(name, args, 1)?[0]))
}

fn b64enc(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(one("b64enc", args)?),
    ))
}

fn b64dec(args: &[Value]) -> Result<Value, FuncError> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(one("b64dec", args)?)
        .map_err(|e| FuncError::Generic(format!("b64dec: {e}")))?;
    Ok(Value::String(
        String::from_utf8_lossy(&decoded).into_owned(),
    ))
}

fn upper(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(one("upper", args)?.to_uppercase()))
}

fn lower(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(one("lower", args)?.to_lowercase()))
}

fn title(args: &[Value]) -> Result<Value, FuncError> {
    let s = one("title", args)?;
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    Ok(Value::String(out))
}

fn trim(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(one("trim", args)?.trim().to_string()))
}

fn trim_prefix(args: &[Value]) -> Result<Value, FuncError> {
    let a = exactly("trimPrefix", args, 2)?;
    let (prefix, s) = (text(&a[0]), text(&a[1]));
    Ok(Value::String(
        s.strip_prefix(&prefix).unwrap_or(&s).to_string(),
    ))
}

fn trim_suffix(args: &[Value]) -> Result<Value, FuncError> {
    let a = exactly("trimSuffix", args, 2)?;
    let (suffix, s) = (text(&a[0]), text(&a[1]));
    Ok(Value::String(
        s.strip_suffix(&suffix).unwrap_or(&s).to_string(),
    ))
}

fn quote(args: &[Value]) -> Result<Value, FuncError> {
    let quoted: Vec<String> = args.iter().map(|v| format!("{:?}", text(v))).collect();
    Ok(Value::String(quoted.join(" ")))
}

fn squote(args: &[Value]) -> Result<Value, FuncError> {
    let quoted: Vec<String> = args.iter().map(|v| format!("'{}'", text(v))).collect();
    Ok(Value::String(quoted.join(" ")))
}

fn replace(args: &[Value]) -> Result<Value, FuncError> {
    let a = exactly("replace", args, 3)?;
    Ok(Value::String(
        text(&a[2]).replace(&text(&a[0]), &text(&a[1])),
    ))
}

/// `default D V`: V unless it is empty, else D.
fn default(args: &[Value]) -> Result<Value, FuncError> {
    match args {
        [fallback] => Ok(fallback.clone()),
        [fallback, given] => Ok(if text(given).is_empty() {
            fallback.clone()
        } else {
            given.clone()
        }),
        _ => Err(FuncError::AtLeastXArgs("default".into(), 1)),
    }
}

fn spaces(name: &str, value: &Value) -> Result<String, FuncError> {
    let n: usize = text(value)
        .parse()
        .map_err(|_| FuncError::Generic(format!("{name}: the width must be a number")))?;
    Ok(" ".repeat(n.min(1024)))
}

fn indent(args: &[Value]) -> Result<Value, FuncError> {
    let a = exactly("indent", args, 2)?;
    let pad = spaces("indent", &a[0])?;
    let lines: Vec<String> = text(&a[1])
        .split('\n')
        .map(|l| format!("{pad}{l}"))
        .collect();
    Ok(Value::String(lines.join("\n")))
}

fn nindent(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(format!("\n{}", text(&indent(args)?))))
}

fn cat(args: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = args.iter().map(text).filter(|s| !s.is_empty()).collect();
    Ok(Value::String(parts.join(" ")))
}

fn sha256sum(args: &[Value]) -> Result<Value, FuncError> {
    let digest = Sha256::digest(one("sha256sum", args)?.as_bytes());
    Ok(Value::String(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

fn to_string(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(one("toString", args)?))
}
