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
/// built-in functions) through `gtmpl`.
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
}
