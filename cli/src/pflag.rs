//! Go's pflag booleans: kubeseal's flags are the reference's, and its
//! boolean flags take `--flag`, `--flag=true|false`, or
//! `SEALED_SECRETS_FLAG=true`, hence `require_equals` and a missing value
//! meaning true.

use clap::builder::BoolishValueParser;
use clap::{Arg, ArgAction};

/// Makes a `bool` flag (clap's `SetTrue`) a pflag boolean, for
/// `#[command(mut_args = pflag::booleans)]` on a struct of such flags.
/// Its default stays when the field sets one (`default_value = "true"`),
/// else it is `false`. Other flags are left as they are.
pub(crate) fn booleans(arg: Arg) -> Arg {
    if !matches!(arg.get_action(), ArgAction::SetTrue) {
        return arg;
    }
    let arg = if arg.get_default_values().is_empty() {
        arg.default_value("false")
    } else {
        arg
    };
    arg.value_parser(BoolishValueParser::new())
        .action(ArgAction::Set)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
}
