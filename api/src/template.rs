use std::collections::BTreeMap;

/// Renders `spec.template.data` values with the decrypted items as context.
pub trait TemplateEngine: Send + Sync {
    /// `values` maps each decrypted key to its value (lossy UTF-8, as Go strings print).
    fn render(
        &self,
        name: &str,
        template: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<String, String>;
}

/// Go `text/template` syntax (`{{ .key }}`, pipelines, `if`, `range`, and Go's
/// built-in functions) through `gtmpl`, plus the common sprig functions.
#[derive(Debug, Default, Clone, Copy)]
pub struct GoTemplates;

impl TemplateEngine for GoTemplates {
    fn render(
        &self,
        name: &str,
        template: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        check_delimiters(template)?;
        let mut tmpl = gtmpl::Template::with_name(name);
        tmpl.add_funcs(crate::sprig::FUNCTIONS);
        tmpl.parse(template).map_err(|e| format!("template: {e}"))?;
        let context = gtmpl::Context::from(
            values
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<std::collections::HashMap<_, _>>(),
        );
        tmpl.render(&context).map_err(|e| format!("template: {e}"))
    }
}

// gtmpl's lexer never returns on an unclosed action; refuse those up front so a
// malformed template cannot hang an unsealing worker.
fn check_delimiters(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => rest = &after[close + 2..],
            None => return Err("template: unclosed action: add the missing \"}}\"".to_string()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> Result<String, String> {
        let values = BTreeMap::from([("a".to_string(), "1".to_string())]);
        GoTemplates.render("t", text, &values)
    }

    #[test]
    fn malformed_templates_fail_instead_of_hanging() {
        for bad in [
            "{{ .a ",
            "{{",
            "x {{ .a }} {{ if",
            "{{ if .a }}",
            "{{ end }}",
            "{{ nosuchfunc }}",
        ] {
            assert!(render(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(render("<{{ .a }}>").unwrap(), "<1>");
    }

    #[test]
    fn sprig_functions_take_the_piped_value_last() {
        let cases = [
            ("{{ .a | b64enc }}", "MQ=="),
            ("{{ \"MQ==\" | b64dec }}", "1"),
            ("{{ \"Ab\" | upper }}-{{ \"Ab\" | lower }}", "AB-ab"),
            ("{{ \"hello world\" | title }}", "Hello World"),
            ("{{ \" x \" | trim }}", "x"),
            (
                "{{ \"v1.2\" | trimPrefix \"v\" }}{{ \"a-\" | trimSuffix \"-\" }}",
                "1.2a",
            ),
            ("{{ .a | quote }} {{ .a | squote }}", "\"1\" '1'"),
            ("{{ \"a-b\" | replace \"-\" \"_\" }}", "a_b"),
            (
                "{{ .missing | default \"d\" }} {{ .a | default \"d\" }}",
                "d 1",
            ),
            ("{{ \"x\\ny\" | indent 2 }}", "  x\n  y"),
            ("{{ cat \"a\" .a }}", "a 1"),
            (
                "{{ .a | sha256sum }}",
                "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
            ),
            ("{{ printf \"%s:%s\" .a .a }}", "1:1"),
        ];
        for (template, want) in cases {
            assert_eq!(render(template).unwrap(), want, "{template}");
        }
        assert!(
            render("{{ env \"HOME\" }}").is_err(),
            "no environment access"
        );
    }
}
