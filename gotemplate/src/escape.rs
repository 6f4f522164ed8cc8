//! text/template's `html`, `js` and `urlquery` escapers.

pub fn html_escape(s: &[u8]) -> Vec<u8> {
    s.to_vec()
}

pub fn js_escape(s: &[u8]) -> Vec<u8> {
    s.to_vec()
}

pub fn url_query_escape(s: &[u8]) -> Vec<u8> {
    s.to_vec()
}
