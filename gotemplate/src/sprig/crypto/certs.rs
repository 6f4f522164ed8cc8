//! sprig's private keys and certificates (crypto.go): `genPrivateKey`,
//! `buildCustomCert`, `genCA*`, `genSelfSignedCert*`, `genSignedCert*`.
//! Keys and certificates come out in the DER shapes Go writes; signing is
//! aws-lc's. Keys are in `keys.rs`, DSA keys in `dsa.rs`.

use std::rc::Rc;

use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair};

use super::der::{self, bit_string, oid, pem_decode, pem_encode, seq, tlv, uint};
use super::keys::{fail, parse_private_key_pem, Curve, Key};
use crate::funcs::{Env, Func, FuncError, Type};
use crate::sprig::args::{arg_int, arg_str};
use crate::sprig::time::gotime::GoTime;
use crate::value::{Heap, Kind, Object, Value};

use Type::{Certificate as Cert, Int, List, String as Str};
pub(in crate::sprig) const FUNCS: &[Func] = &[
    Func::new("genPrivateKey", &[Str], gen_private_key),
    Func::new("buildCustomCert", &[Str, Str], build_custom_cert),
    Func::new("genCA", &[Str, Int], gen_ca),
    Func::new("genCAWithKey", &[Str, Int, Str], gen_ca),
    Func::new(
        "genSelfSignedCert",
        &[Str, List, List, Int],
        gen_self_signed,
    ),
    Func::new(
        "genSelfSignedCertWithKey",
        &[Str, List, List, Int, Str],
        gen_self_signed,
    ),
    Func::new("genSignedCert", &[Str, List, List, Int, Cert], gen_signed),
    Func::new(
        "genSignedCertWithKey",
        &[Str, List, List, Int, Cert, Str],
        gen_signed,
    ),
];

/// sprig's `certificate` struct.
#[derive(Clone, Debug, PartialEq)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &'static str {
        "sprig.certificate"
    }
    fn kind(&self) -> Kind {
        Kind::Struct
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn format(&self, _heap: &Heap) -> Vec<u8> {
        format!("{{{} {}}}", self.cert, self.key).into_bytes()
    }
    /// A struct without a `String()` method: `fmt` prints the fields.
    fn has_string_method(&self) -> bool {
        false
    }
    fn fields(&self) -> Option<Vec<(&'static str, Value)>> {
        Some(vec![
            ("Cert", Value::str(&self.cert)),
            ("Key", Value::str(&self.key)),
        ])
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn equals(&self, other: &dyn Object) -> bool {
        other.as_any().downcast_ref::<Certificate>() == Some(self)
    }
}

fn gen_private_key(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let kind = arg_str(args, 0)?;
    let key = match kind {
        b"" | b"rsa" => Key::generate_rsa(aws_lc_rs::rsa::KeySize::Rsa4096),
        b"ecdsa" => EcdsaKeyPair::generate(Curve::P256.signing())
            .map(|kp| Key::Ec(kp, Curve::P256))
            .map_err(|_| fail("failed to generate private key")),
        b"ed25519" => {
            let mut seed = [0u8; 32];
            aws_lc_rs::rand::fill(&mut seed).map_err(|_| fail("failed to generate private key"))?;
            Ed25519KeyPair::from_seed_unchecked(&seed)
                .map(|kp| Key::Ed25519(kp, seed))
                .map_err(|_| fail("failed to generate private key"))
        }
        b"dsa" => return Ok(Value::string(super::dsa::generate_pem())),
        _ => {
            let mut out = b"Unknown type ".to_vec();
            out.extend_from_slice(kind);
            return Ok(Value::bytes(&out));
        }
    };
    // Go returns its error text as the result; aws-lc failing is not expected.
    Ok(match key.and_then(|k| k.to_pem()) {
        Ok(pem) => Value::string(pem),
        Err(e) => Value::string(format!("failed to generate private key: {e}")),
    })
}

fn cert_value(cert: String, key: String) -> Value {
    Value::Object(Rc::new(Certificate { cert, key }))
}

fn build_custom_cert(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    use crate::sprig::encoding::go_base64_decode;
    let cert = go_base64_decode(arg_str(args, 0)?)
        .map_err(|_| fail("unable to decode base64 certificate"))?;
    let key = go_base64_decode(arg_str(args, 1)?)
        .map_err(|_| fail("unable to decode base64 private key"))?;
    let (_, der) = pem_decode(&cert).ok_or_else(|| fail("unable to decode certificate"))?;
    x509_parser::parse_x509_certificate(&der).map_err(|_| {
        fail("error parsing certificate: decodedCert.Bytes: x509: malformed certificate")
    })?;
    parse_private_key_pem(&key)
        .map_err(|e| FuncError::reason(format!("error parsing private key: {e}")))?;
    Ok(cert_value(
        String::from_utf8_lossy(&cert).into_owned(),
        String::from_utf8_lossy(&key).into_owned(),
    ))
}

/// The signee's key: parsed from the trailing PEM argument, or a new RSA 2048.
fn signee_key(args: &[Value], pem_at: usize) -> Result<Key, FuncError> {
    if args.len() > pem_at {
        parse_private_key_pem(arg_str(args, pem_at)?)
            .map_err(|e| FuncError::reason(format!("parsing private key: {e}")))
    } else {
        Key::generate_rsa(aws_lc_rs::rsa::KeySize::Rsa2048)
    }
}

fn gen_ca(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let cn = arg_str(args, 0)?;
    let days = arg_int(args, 1)?;
    let key = signee_key(args, 2)?;
    let tmpl = Template::new(cn, &[], &[], days, true)?;
    let cert = tmpl.create(&key, None)?;
    Ok(cert_value(cert, key.to_pem()?))
}

/// The common name, IP and DNS alternative names and validity in days that
/// genSelfSignedCert and genSignedCert take first.
type Subject<'a> = (&'a [u8], Vec<Vec<u8>>, Vec<Vec<u8>>, i64);

fn subject(args: &[Value]) -> Result<Subject<'_>, FuncError> {
    let cn = arg_str(args, 0)?;
    let ips = san_list(args.get(1), "error parsing ip: value is not a string")?;
    let dns = san_list(
        args.get(2),
        "error processing alternate dns name: value is not a string",
    )?;
    Ok((cn, ips, dns, arg_int(args, 3)?))
}

fn gen_self_signed(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let (cn, ips, dns, days) = subject(args)?;
    let key = signee_key(args, 4)?;
    let tmpl = Template::new(cn, &ips, &dns, days, false)?;
    let cert = tmpl.create(&key, None)?;
    Ok(cert_value(cert, key.to_pem()?))
}

fn gen_signed(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let (cn, ips, dns, days) = subject(args)?;
    let ca = match args.get(4) {
        Some(Value::Object(o)) => o.as_any().downcast_ref::<Certificate>().cloned(),
        _ => None,
    }
    .ok_or_else(|| fail("wrong type for value; expected sprig.certificate"))?;
    let key = signee_key(args, 5)?;
    let (_, ca_der) =
        pem_decode(ca.cert.as_bytes()).ok_or_else(|| fail("unable to decode certificate"))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&ca_der).map_err(|_| {
        fail("error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate")
    })?;
    let ca_key = parse_private_key_pem(ca.key.as_bytes())
        .map_err(|e| FuncError::reason(format!("error parsing private key: {e}")))?;
    let issuer = Issuer {
        subject: parsed.tbs_certificate.subject.as_raw().to_vec(),
        spki: parsed.tbs_certificate.subject_pki.raw.to_vec(),
        key_id: parsed
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => {
                    Some(id.0.to_vec())
                }
                _ => None,
            }),
        key: ca_key,
    };
    let tmpl = Template::new(cn, &ips, &dns, days, false)?;
    let cert = tmpl.create(&key, Some(&issuer))?;
    Ok(cert_value(cert, key.to_pem()?))
}

/// sprig's `getNetIPs` / `getAlternateDNSStrs` input: a list of strings (nil is empty).
fn san_list(v: Option<&Value>, not_string: &'static str) -> Result<Vec<Vec<u8>>, FuncError> {
    match v {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::List(l)) => l
            .items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.to_vec()),
                _ => Err(fail(not_string)),
            })
            .collect(),
        Some(_) => Err(fail("wrong type for value; expected []interface {}")),
    }
}

struct Issuer {
    subject: Vec<u8>,
    spki: Vec<u8>,
    key_id: Option<Vec<u8>>,
    key: Key,
}

/// sprig's `getBaseCertTemplate`.
struct Template {
    serial: [u8; 16],
    subject: Vec<u8>,
    ips: Vec<Vec<u8>>,
    dns: Vec<Vec<u8>>,
    not_before: GoTime,
    not_after: GoTime,
    is_ca: bool,
}

impl Template {
    fn new(
        cn: &[u8],
        ips: &[Vec<u8>],
        dns: &[Vec<u8>],
        days: i64,
        is_ca: bool,
    ) -> Result<Template, FuncError> {
        let ips = ips
            .iter()
            .map(|ip| parse_ip(ip).ok_or_else(|| fail("error parsing ip")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut serial = [0u8; 16];
        aws_lc_rs::rand::fill(&mut serial).map_err(|_| fail("crypto/rand: read failed"))?;
        let now = GoTime::now();
        Ok(Template {
            serial,
            subject: name_cn(cn)?,
            ips,
            dns: dns.to_vec(),
            not_after: now.add(days.wrapping_mul(86_400_000_000_000)),
            not_before: now,
            is_ca,
        })
    }

    /// Go's `x509.CreateCertificate` for this template, PEM-encoded.
    fn create(&self, key: &Key, issuer: Option<&Issuer>) -> Result<String, FuncError> {
        let signer = issuer.map_or(key, |i| &i.key);
        let sig_alg = signer.sig_alg()?;
        let (spki, pub_bytes) = key.spki()?;
        let issuer_name = issuer.map_or(&self.subject, |i| &i.subject);
        if let Some(i) = issuer {
            if i.key.spki()?.0 != i.spki {
                return Err(fail(
                    "error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey",
                ));
            }
        }
        let mut exts: Vec<Vec<u8>> = Vec::new();
        let ku: &[u8] = if self.is_ca {
            &[3, 2, 2, 0xa4]
        } else {
            &[3, 2, 5, 0xa0]
        };
        exts.push(ext(&[2, 5, 29, 15], true, ku));
        let eku = seq(&[
            &oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]),
            &oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]),
        ]);
        exts.push(ext(&[2, 5, 29, 37], false, &eku));
        let bc = if self.is_ca {
            seq(&[&[1, 1, 0xff]])
        } else {
            seq(&[])
        };
        exts.push(ext(&[2, 5, 29, 19], true, &bc));
        if self.is_ca {
            let id = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &pub_bytes);
            exts.push(ext(
                &[2, 5, 29, 14],
                false,
                &tlv(der::OCTETS, &id.as_ref()[..20]),
            ));
        }
        if let Some(id) = issuer
            .and_then(|i| i.key_id.as_ref())
            .filter(|_| issuer_name != &self.subject)
        {
            exts.push(ext(&[2, 5, 29, 35], false, &seq(&[&tlv(0x80, id)])));
        }
        if !self.ips.is_empty() || !self.dns.is_empty() {
            let mut names = Vec::new();
            for d in &self.dns {
                if !d.is_ascii() {
                    return Err(fail(
                        "error creating certificate: x509: cannot be encoded as an IA5String",
                    ));
                }
                names.extend(tlv(0x82, d));
            }
            for ip in &self.ips {
                names.extend(tlv(0x87, ip));
            }
            let empty_subject = self.subject == seq(&[]);
            exts.push(ext(&[2, 5, 29, 17], empty_subject, &tlv(der::SEQ, &names)));
        }
        let tbs = seq(&[
            &tlv(0xa0, &[2, 1, 2]),
            &uint(&self.serial),
            &sig_alg,
            issuer_name,
            &seq(&[&asn1_time(&self.not_before)?, &asn1_time(&self.not_after)?]),
            &self.subject,
            &spki,
            &tlv(
                0xa3,
                &seq(&exts.iter().map(Vec::as_slice).collect::<Vec<_>>()),
            ),
        ]);
        let sig = signer.sign(&tbs)?;
        let cert = seq(&[&tbs, &sig_alg, &bit_string(&sig)]);
        Ok(pem_encode("CERTIFICATE", &cert))
    }
}

fn ext(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let crit: &[u8] = if critical { &[1, 1, 0xff] } else { &[] };
    seq(&[&oid(id), crit, &tlv(der::OCTETS, value)])
}

/// `pkix.Name{CommonName: cn}` as Go marshals it: PrintableString when it
/// can, else UTF8String; no RDN at all for an empty name.
fn name_cn(cn: &[u8]) -> Result<Vec<u8>, FuncError> {
    if cn.is_empty() {
        return Ok(seq(&[]));
    }
    let printable = cn
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || b" '()+,-./:=?*".contains(&c));
    let tag = if printable {
        0x13
    } else if std::str::from_utf8(cn).is_ok() {
        0x0c
    } else {
        return Err(fail(
            "error creating certificate: asn1: string not valid UTF-8",
        ));
    };
    let atv = seq(&[&oid(&[2, 5, 4, 3]), &tlv(tag, cn)]);
    Ok(seq(&[&tlv(der::SET, &atv)]))
}

/// Go's `net.ParseIP`, as 4 bytes for IPv4 (and IPv4-mapped) addresses.
fn parse_ip(text: &[u8]) -> Option<Vec<u8>> {
    let ip: std::net::IpAddr = std::str::from_utf8(text).ok()?.parse().ok()?;
    Some(match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    })
}

/// UTCTime for 1950..2049, else GeneralizedTime, in UTC to the second.
fn asn1_time(t: &GoTime) -> Result<Vec<u8>, FuncError> {
    let utc = t.with_loc(crate::sprig::time::gotime::Loc::Utc);
    let year = utc.format(b"2006");
    let year: i64 = std::str::from_utf8(&year)
        .ok()
        .and_then(|y| y.parse().ok())
        .unwrap_or(-1);
    if (1950..2050).contains(&year) {
        Ok(tlv(0x17, &utc.format(b"060102150405Z")))
    } else if (0..=9999).contains(&year) {
        Ok(tlv(0x18, &utc.format(b"20060102150405Z")))
    } else {
        Err(fail(
            "error creating certificate: asn1: cannot marshal time",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::testing::{call, s};
    use crate::value::Elem;

    fn text(v: Value) -> String {
        match v {
            Value::String(b) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    fn cert(v: &Value) -> Certificate {
        let Value::Object(o) = v else { panic!("{v:?}") };
        o.as_any().downcast_ref::<Certificate>().unwrap().clone()
    }

    fn err(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Err(FuncError::Reason(r)) => r.into_owned(),
            other => panic!("{other:?}"),
        }
    }

    fn strs(items: &[&str]) -> Value {
        Value::list(Elem::Any, items.iter().map(|i| s(i)).collect())
    }

    fn dump(name: &str, body: &str) {
        if let Ok(dir) = std::env::var("CERTS_DUMP") {
            std::fs::write(format!("{dir}/{name}"), body).unwrap();
        }
    }

    #[test]
    fn private_keys() {
        assert_eq!(
            text(call("genPrivateKey", &[s("foo")]).unwrap()),
            "Unknown type foo"
        );
        let ec = text(call("genPrivateKey", &[s("ecdsa")]).unwrap());
        assert!(
            ec.starts_with("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI"),
            "{ec}"
        );
        assert_eq!(ec.len(), 227);
        dump("ec.pem", &ec);
        let ed = text(call("genPrivateKey", &[s("ed25519")]).unwrap());
        assert!(
            ed.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"),
            "{ed}"
        );
        assert_eq!(ed.len(), 119);
        dump("ed.pem", &ed);
        let rsa = text(call("genPrivateKey", &[s("rsa")]).unwrap());
        assert!(
            rsa.starts_with("-----BEGIN RSA PRIVATE KEY-----\nMIIJ"),
            "{rsa}"
        );
        dump("rsa.pem", &rsa);
        for key in [&ec, &ed, &rsa] {
            assert!(parse_private_key_pem(key.as_bytes()).is_ok());
        }
    }

    #[test]
    // num-bigint without optimizations takes about a minute for 2048-bit primes.
    #[cfg_attr(debug_assertions, ignore = "slow in debug builds")]
    fn dsa_key() {
        let dsa = text(call("genPrivateKey", &[s("dsa")]).unwrap());
        assert!(
            dsa.starts_with("-----BEGIN DSA PRIVATE KEY-----\nMIID"),
            "{dsa}"
        );
        dump("dsa.pem", &dsa);
        assert_eq!(
            err("genSelfSignedCertWithKey", &[s("x"), Value::Nil, Value::Nil, Value::Int(1), s(&dsa)]),
            "error creating certificate: x509: certificate private key does not implement crypto.Signer"
        );
    }

    #[test]
    fn certificates() {
        let ca = call("genCA", &[s("my-ca"), Value::Int(365)]).unwrap();
        let c = cert(&ca);
        assert!(c.cert.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(c.key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        dump("ca.crt", &c.cert);
        dump("ca.key", &c.key);
        let ips = strs(&["10.0.0.1", "::1", "::ffff:1.2.3.4"]);
        let dns = strs(&["a.example", "b.example"]);
        let signed = call(
            "genSignedCert",
            &[
                s("srv"),
                ips.clone(),
                dns.clone(),
                Value::Int(30),
                ca.clone(),
            ],
        )
        .unwrap();
        dump("signed.crt", &cert(&signed).cert);
        let ed = text(call("genPrivateKey", &[s("ed25519")]).unwrap());
        let with_key = call(
            "genSignedCertWithKey",
            &[
                s("ed"),
                Value::Nil,
                dns.clone(),
                Value::Int(30),
                ca.clone(),
                s(&ed),
            ],
        )
        .unwrap();
        assert_eq!(cert(&with_key).key, ed);
        dump("signed-ed.crt", &cert(&with_key).cert);
        let ec = text(call("genPrivateKey", &[s("ecdsa")]).unwrap());
        let ec_ca = call("genCAWithKey", &[s("ec ca é"), Value::Int(3650), s(&ec)]).unwrap();
        assert_eq!(cert(&ec_ca).key, ec);
        dump("ec-ca.crt", &cert(&ec_ca).cert);
        let self_signed = call(
            "genSelfSignedCert",
            &[s(""), Value::Nil, dns, Value::Int(-1)],
        )
        .unwrap();
        dump("self.crt", &cert(&self_signed).cert);
        let self_ec = call(
            "genSelfSignedCertWithKey",
            &[s("x"), ips, Value::Nil, Value::Int(1), s(&ec)],
        )
        .unwrap();
        dump("self-ec.crt", &cert(&self_ec).cert);

        let b64 = |t: &str| s(&crate::sprig::encoding::go_base64_encode(t.as_bytes()));
        let built = call("buildCustomCert", &[b64(&c.cert), b64(&c.key)]).unwrap();
        assert_eq!(cert(&built), c);
        let heap = Heap::default();
        let Value::Object(o) = &built else { panic!() };
        assert_eq!(
            o.format(&heap),
            format!("{{{} {}}}", c.cert, c.key).into_bytes()
        );
        assert_eq!(
            o.field("Cert").unwrap().as_bytes().unwrap(),
            c.cert.as_bytes()
        );

        assert_eq!(
            err("buildCustomCert", &[s("!"), s("")]),
            "unable to decode base64 certificate"
        );
        assert_eq!(
            err("buildCustomCert", &[s(""), s("")]),
            "unable to decode certificate"
        );
        assert_eq!(
            err("buildCustomCert", &[b64(&c.cert), b64("x")]),
            "error parsing private key: no PEM data in input"
        );
        assert_eq!(
            err("buildCustomCert", &[b64(&c.cert), b64(&c.cert)]),
            "error parsing private key: no private key data in PEM block of type CERTIFICATE"
        );
        assert_eq!(
            err(
                "genSelfSignedCert",
                &[s("x"), strs(&["1.2.3"]), Value::Nil, Value::Int(1)]
            ),
            "error parsing ip"
        );
        let wrong_ca = Value::Object(Rc::new(Certificate {
            cert: c.cert.clone(),
            key: ec.clone(),
        }));
        assert_eq!(
            err("genSignedCert", &[s("x"), Value::Nil, Value::Nil, Value::Int(1), wrong_ca]),
            "error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey"
        );
    }
}
