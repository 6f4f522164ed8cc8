use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gotemplate::{Limits, Template};

/// Renders `spec.template.data` values with the decrypted items as context.
pub trait TemplateEngine: Send + Sync {
    /// `values` maps each key to its bytes (Go strings are bytes); `deadline`
    /// bounds every template of one SealedSecret together. The error holds
    /// Go's reason and template text, never a value; a bound that was
    /// reached is `gotemplate::Error::Limit`.
    fn render(
        &self,
        name: &str,
        template: &str,
        values: &BTreeMap<String, Vec<u8>>,
        deadline: Instant,
    ) -> Result<Vec<u8>, gotemplate::Error>;

    /// How long all templates of one SealedSecret may take.
    fn time_limit(&self) -> Duration;
}

/// Go `text/template` with sprig's functions, as the reference renders them
/// (the `gotemplate` crate), bounded in time, memory and output.
#[derive(Debug, Clone, Copy)]
pub struct GoTemplates {
    pub time_limit: Duration,
    /// Bytes one template may print (a whole Secret holds at most 1 MiB).
    pub max_output: usize,
    /// Bytes the values a template makes may take together.
    pub max_memory: usize,
}

/// The bounds the controller and kubeseal use.
pub const TEMPLATES: GoTemplates = GoTemplates {
    // Long enough for sprig's slowest honest call (a 4096-bit genPrivateKey).
    time_limit: Duration::from_secs(5),
    max_output: 1 << 20,
    max_memory: 16 << 20,
};

impl Default for GoTemplates {
    fn default() -> Self {
        TEMPLATES
    }
}

impl TemplateEngine for GoTemplates {
    fn render(
        &self,
        name: &str,
        template: &str,
        values: &BTreeMap<String, Vec<u8>>,
        deadline: Instant,
    ) -> Result<Vec<u8>, gotemplate::Error> {
        // As the reference: sprig's functions; unlike it, error texts that
        // never quote a value (they go to status, events and logs).
        let parsed = Template::new(name)
            .with_sprig()
            .value_free_errors(true)
            .parse(template)?;
        let limits = Limits {
            max_output: self.max_output,
            max_memory: self.max_memory,
            deadline: Some(deadline),
            ..Limits::default()
        };
        parsed.execute_strings(values, &limits)
    }

    fn time_limit(&self) -> Duration {
        self.time_limit
    }
}
