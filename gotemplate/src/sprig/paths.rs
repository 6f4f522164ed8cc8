//! sprig's path functions: Go's `path` package, and `path/filepath` as it
//! behaves on Linux (where it is the same lexical processing with `/`).

use std::rc::Rc;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::sprig::args::{new_string, str_arg};
use crate::value::Value;

type Res = Result<Value, FuncError>;

const STR: &[Type] = &[Type::String];

pub(super) const FUNCS: &[Func] = &[
    Func::new("base", STR, base),
    Func::new("dir", STR, dir),
    Func::new("clean", STR, clean),
    Func::new("ext", STR, ext),
    Func::new("isAbs", STR, is_abs),
    Func::new("osBase", STR, base),
    Func::new("osClean", STR, clean),
    Func::new("osDir", STR, dir),
    Func::new("osExt", STR, ext),
    Func::new("osIsAbs", STR, is_abs),
];

/// `path.Clean`: the shortest equivalent path, by purely lexical processing.
fn clean_path(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out = Vec::with_capacity(n);
    // `out[..dotdot]` cannot be backtracked over by `..`.
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        (r, dotdot) = (1, 1);
    }
    let at = |i: usize| p.get(i).copied();
    while r < n {
        // An empty element or a `.` element.
        if p[r] == b'/' || (p[r] == b'.' && matches!(at(r + 1), None | Some(b'/'))) {
            r += 1;
        } else if p[r] == b'.' && at(r + 1) == Some(b'.') && matches!(at(r + 2), None | Some(b'/'))
        {
            r += 2;
            if out.len() > dotdot {
                // Back to the last slash after `dotdot`, the slash dropped too.
                let mut w = out.len() - 1;
                while w > dotdot && out.get(w) != Some(&b'/') {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return b".".to_vec();
    }
    out
}

fn clean(env: &mut Env<'_>, args: &[Value]) -> Res {
    new_string(env, clean_path(str_arg(args, 0)?))
}

/// `path.Base`: the last element, trailing slashes ignored.
fn base(env: &mut Env<'_>, args: &[Value]) -> Res {
    let p: &[u8] = str_arg(args, 0)?;
    if p.is_empty() {
        return Ok(Value::str("."));
    }
    let end = p.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let trimmed = &p[..end];
    let start = trimmed
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    let out = &trimmed[start..];
    if out.is_empty() {
        return Ok(Value::str("/"));
    }
    new_string(env, out.to_vec())
}

/// `path.Dir`: everything up to the last slash, cleaned.
fn dir(env: &mut Env<'_>, args: &[Value]) -> Res {
    let p: &[u8] = str_arg(args, 0)?;
    let end = p.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    new_string(env, clean_path(&p[..end]))
}

/// `path.Ext`: from the last dot of the last element, or "".
fn ext(env: &mut Env<'_>, args: &[Value]) -> Res {
    let p: &[u8] = str_arg(args, 0)?;
    for (i, &b) in p.iter().enumerate().rev() {
        match b {
            b'/' => break,
            b'.' => return new_string(env, p[i..].to_vec()),
            _ => {}
        }
    }
    Ok(Value::String(Rc::from(&b""[..])))
}

fn is_abs(_: &mut Env<'_>, args: &[Value]) -> Res {
    Ok(Value::Bool(str_arg(args, 0)?.first() == Some(&b'/')))
}

#[cfg(test)]
mod tests {
    use crate::sprig::testing::check::{b, ok, run};

    #[test]
    fn matches_go() {
        run(vec![
            ("base", vec![b(b"")], ok(b".")),
            ("base", vec![b(b".")], ok(b".")),
            ("base", vec![b(b"..")], ok(b"..")),
            ("base", vec![b(b"/")], ok(b"/")),
            ("base", vec![b(b"//")], ok(b"/")),
            ("base", vec![b(b"a/b/c")], ok(b"c")),
            ("base", vec![b(b"/a/b/c/")], ok(b"c")),
            ("base", vec![b(b"a//b")], ok(b"b")),
            ("base", vec![b(b"./a/../b")], ok(b"b")),
            ("base", vec![b(b"../../a")], ok(b"a")),
            ("base", vec![b(b"/../a")], ok(b"a")),
            ("base", vec![b(b"a/b/../../..")], ok(b"..")),
            ("base", vec![b(b"/a/./b/.")], ok(b".")),
            ("base", vec![b(b"abc.txt")], ok(b"abc.txt")),
            ("base", vec![b(b"a.b/c")], ok(b"c")),
            ("base", vec![b(b"a/b.tar.gz")], ok(b"b.tar.gz")),
            ("base", vec![b(b".hidden")], ok(b".hidden")),
            ("base", vec![b(b"a/.")], ok(b".")),
            ("base", vec![b(b"/a/b/")], ok(b"b")),
            ("base", vec![b(b"a/b/..")], ok(b"..")),
            ("base", vec![b(b"..a/b")], ok(b"b")),
            ("base", vec![b(b"a/..b")], ok(b"..b")),
            ("base", vec![b(b"x/../../y/./z//")], ok(b"z")),
            ("base", vec![b(b"\xff/\xfe.\xfd")], ok(b"\xfe.\xfd")),
            ("base", vec![b(b"a/b.")], ok(b"b.")),
            ("base", vec![b(b"/.")], ok(b".")),
            ("base", vec![b(b"///a///")], ok(b"a")),
            ("dir", vec![b(b"")], ok(b".")),
            ("dir", vec![b(b".")], ok(b".")),
            ("dir", vec![b(b"..")], ok(b".")),
            ("dir", vec![b(b"/")], ok(b"/")),
            ("dir", vec![b(b"//")], ok(b"/")),
            ("dir", vec![b(b"a/b/c")], ok(b"a/b")),
            ("dir", vec![b(b"/a/b/c/")], ok(b"/a/b/c")),
            ("dir", vec![b(b"a//b")], ok(b"a")),
            ("dir", vec![b(b"./a/../b")], ok(b".")),
            ("dir", vec![b(b"../../a")], ok(b"../..")),
            ("dir", vec![b(b"/../a")], ok(b"/")),
            ("dir", vec![b(b"a/b/../../..")], ok(b".")),
            ("dir", vec![b(b"/a/./b/.")], ok(b"/a/b")),
            ("dir", vec![b(b"abc.txt")], ok(b".")),
            ("dir", vec![b(b"a.b/c")], ok(b"a.b")),
            ("dir", vec![b(b"a/b.tar.gz")], ok(b"a")),
            ("dir", vec![b(b".hidden")], ok(b".")),
            ("dir", vec![b(b"a/.")], ok(b"a")),
            ("dir", vec![b(b"/a/b/")], ok(b"/a/b")),
            ("dir", vec![b(b"a/b/..")], ok(b"a/b")),
            ("dir", vec![b(b"..a/b")], ok(b"..a")),
            ("dir", vec![b(b"a/..b")], ok(b"a")),
            ("dir", vec![b(b"x/../../y/./z//")], ok(b"../y/z")),
            ("dir", vec![b(b"\xff/\xfe.\xfd")], ok(b"\xff")),
            ("dir", vec![b(b"a/b.")], ok(b"a")),
            ("dir", vec![b(b"/.")], ok(b"/")),
            ("dir", vec![b(b"///a///")], ok(b"/a")),
            ("clean", vec![b(b"")], ok(b".")),
            ("clean", vec![b(b".")], ok(b".")),
            ("clean", vec![b(b"..")], ok(b"..")),
            ("clean", vec![b(b"/")], ok(b"/")),
            ("clean", vec![b(b"//")], ok(b"/")),
            ("clean", vec![b(b"a/b/c")], ok(b"a/b/c")),
            ("clean", vec![b(b"/a/b/c/")], ok(b"/a/b/c")),
            ("clean", vec![b(b"a//b")], ok(b"a/b")),
            ("clean", vec![b(b"./a/../b")], ok(b"b")),
            ("clean", vec![b(b"../../a")], ok(b"../../a")),
            ("clean", vec![b(b"/../a")], ok(b"/a")),
            ("clean", vec![b(b"a/b/../../..")], ok(b"..")),
            ("clean", vec![b(b"/a/./b/.")], ok(b"/a/b")),
            ("clean", vec![b(b"abc.txt")], ok(b"abc.txt")),
            ("clean", vec![b(b"a.b/c")], ok(b"a.b/c")),
            ("clean", vec![b(b"a/b.tar.gz")], ok(b"a/b.tar.gz")),
            ("clean", vec![b(b".hidden")], ok(b".hidden")),
            ("clean", vec![b(b"a/.")], ok(b"a")),
            ("clean", vec![b(b"/a/b/")], ok(b"/a/b")),
            ("clean", vec![b(b"a/b/..")], ok(b"a")),
            ("clean", vec![b(b"..a/b")], ok(b"..a/b")),
            ("clean", vec![b(b"a/..b")], ok(b"a/..b")),
            ("clean", vec![b(b"x/../../y/./z//")], ok(b"../y/z")),
            ("clean", vec![b(b"\xff/\xfe.\xfd")], ok(b"\xff/\xfe.\xfd")),
            ("clean", vec![b(b"a/b.")], ok(b"a/b.")),
            ("clean", vec![b(b"/.")], ok(b"/")),
            ("clean", vec![b(b"///a///")], ok(b"/a")),
            ("ext", vec![b(b"")], ok(b"")),
            ("ext", vec![b(b".")], ok(b".")),
            ("ext", vec![b(b"..")], ok(b".")),
            ("ext", vec![b(b"/")], ok(b"")),
            ("ext", vec![b(b"//")], ok(b"")),
            ("ext", vec![b(b"a/b/c")], ok(b"")),
            ("ext", vec![b(b"/a/b/c/")], ok(b"")),
            ("ext", vec![b(b"a//b")], ok(b"")),
            ("ext", vec![b(b"./a/../b")], ok(b"")),
            ("ext", vec![b(b"../../a")], ok(b"")),
            ("ext", vec![b(b"/../a")], ok(b"")),
            ("ext", vec![b(b"a/b/../../..")], ok(b".")),
            ("ext", vec![b(b"/a/./b/.")], ok(b".")),
            ("ext", vec![b(b"abc.txt")], ok(b".txt")),
            ("ext", vec![b(b"a.b/c")], ok(b"")),
            ("ext", vec![b(b"a/b.tar.gz")], ok(b".gz")),
            ("ext", vec![b(b".hidden")], ok(b".hidden")),
            ("ext", vec![b(b"a/.")], ok(b".")),
            ("ext", vec![b(b"/a/b/")], ok(b"")),
            ("ext", vec![b(b"a/b/..")], ok(b".")),
            ("ext", vec![b(b"..a/b")], ok(b"")),
            ("ext", vec![b(b"a/..b")], ok(b".b")),
            ("ext", vec![b(b"x/../../y/./z//")], ok(b"")),
            ("ext", vec![b(b"\xff/\xfe.\xfd")], ok(b".\xfd")),
            ("ext", vec![b(b"a/b.")], ok(b".")),
            ("ext", vec![b(b"/.")], ok(b".")),
            ("ext", vec![b(b"///a///")], ok(b"")),
            ("isAbs", vec![b(b"")], ok(b"false")),
            ("isAbs", vec![b(b".")], ok(b"false")),
            ("isAbs", vec![b(b"..")], ok(b"false")),
            ("isAbs", vec![b(b"/")], ok(b"true")),
            ("isAbs", vec![b(b"//")], ok(b"true")),
            ("isAbs", vec![b(b"a/b/c")], ok(b"false")),
            ("isAbs", vec![b(b"/a/b/c/")], ok(b"true")),
            ("isAbs", vec![b(b"a//b")], ok(b"false")),
            ("isAbs", vec![b(b"./a/../b")], ok(b"false")),
            ("isAbs", vec![b(b"../../a")], ok(b"false")),
            ("isAbs", vec![b(b"/../a")], ok(b"true")),
            ("isAbs", vec![b(b"a/b/../../..")], ok(b"false")),
            ("isAbs", vec![b(b"/a/./b/.")], ok(b"true")),
            ("isAbs", vec![b(b"abc.txt")], ok(b"false")),
            ("isAbs", vec![b(b"a.b/c")], ok(b"false")),
            ("isAbs", vec![b(b"a/b.tar.gz")], ok(b"false")),
            ("isAbs", vec![b(b".hidden")], ok(b"false")),
            ("isAbs", vec![b(b"a/.")], ok(b"false")),
            ("isAbs", vec![b(b"/a/b/")], ok(b"true")),
            ("isAbs", vec![b(b"a/b/..")], ok(b"false")),
            ("isAbs", vec![b(b"..a/b")], ok(b"false")),
            ("isAbs", vec![b(b"a/..b")], ok(b"false")),
            ("isAbs", vec![b(b"x/../../y/./z//")], ok(b"false")),
            ("isAbs", vec![b(b"\xff/\xfe.\xfd")], ok(b"false")),
            ("isAbs", vec![b(b"a/b.")], ok(b"false")),
            ("isAbs", vec![b(b"/.")], ok(b"true")),
            ("isAbs", vec![b(b"///a///")], ok(b"true")),
        ]);
    }

    #[test]
    fn os_variants_are_the_same_on_linux() {
        for (os, plain) in [
            ("osBase", "base"),
            ("osClean", "clean"),
            ("osDir", "dir"),
            ("osExt", "ext"),
            ("osIsAbs", "isAbs"),
        ] {
            let find = |n: &str| {
                super::FUNCS
                    .iter()
                    .find(|f| f.name == n)
                    .unwrap()
                    .native()
                    .unwrap()
            };
            assert!(std::ptr::fn_addr_eq(find(os), find(plain)), "{os}");
        }
    }
}
