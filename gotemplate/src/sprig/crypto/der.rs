//! Just enough DER and PEM to write keys and certificates in the exact
//! shapes Go's encoding/asn1, crypto/x509 and encoding/pem produce.

pub(super) const SEQ: u8 = 0x30;
pub(super) const SET: u8 = 0x31;
pub(super) const INT: u8 = 0x02;
pub(super) const BITS: u8 = 0x03;
pub(super) const OCTETS: u8 = 0x04;
pub(super) const OID: u8 = 0x06;

pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let len = n.to_be_bytes();
        let skip = len.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (len.len() - skip) as u8);
        out.extend_from_slice(&len[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub(super) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQ, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub(super) fn uint(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let mut content = Vec::with_capacity(be.len() + 1);
    let digits = &be[skip..];
    if digits.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(digits);
    tlv(INT, &content)
}

pub(super) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(bytes);
    tlv(BITS, &content)
}

/// An OBJECT IDENTIFIER from its dotted arcs.
pub(super) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        content.extend_from_slice(&tmp);
    };
    if let [a, b, rest @ ..] = arcs {
        push(a * 40 + b);
        for &arc in rest {
            push(arc);
        }
    }
    tlv(OID, &content)
}

/// (tag, content, whole element, rest)
pub(super) type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// One TLV at the start of `data`.
pub(super) fn read(data: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = (rest.get(..n)?, &rest[n..]);
        (
            bytes
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b)),
            rest,
        )
    };
    let content = rest.get(..len)?;
    let whole_len = data.len() - rest.len() + len;
    Some((tag, content, &data[..whole_len], &rest[len..]))
}

/// The elements inside a SEQUENCE, each whole.
pub(super) fn items(seq_content: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    let mut rest = seq_content;
    while !rest.is_empty() {
        let (tag, content, _, r) = read(rest)?;
        out.push((tag, content));
        rest = r;
    }
    Some(out)
}

/// Go's `pem.EncodeToMemory`: 64-column base64 lines.
pub(super) fn pem_encode(kind: &str, der: &[u8]) -> String {
    let body = crate::sprig::encoding::go_base64_encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// The first PEM block of `text`: (type, DER bytes).
pub(super) fn pem_decode(text: &[u8]) -> Option<(String, Vec<u8>)> {
    let block = pem::parse(text).ok()?;
    Some((block.tag().to_string(), block.contents().to_vec()))
}
