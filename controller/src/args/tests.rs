use std::time::Duration;

use clap::Parser as _;

use super::*;

fn parse(args: &[&str]) -> Result<Args, String> {
    Args::try_parse_from(std::iter::once("controller").chain(args.iter().copied()))
        .map_err(|e| e.to_string())
}

#[test]
fn durations_parse_as_go_time_parse_duration() {
    for (text, want) in [
        ("1h30m", Duration::from_secs(5400)),
        ("1.5h", Duration::from_secs(5400)),
        ("300ms", Duration::from_millis(300)),
        ("1us", Duration::from_micros(1)),
        ("1\u{b5}s", Duration::from_micros(1)),
        ("0", Duration::ZERO),
        ("+5m", Duration::from_secs(300)),
    ] {
        let args = parse(&[
            &format!("--key-ttl={text}"),
            &format!("--key-renew-period={text}"),
        ])
        .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(args.key_ttl, want, "{text}");
        assert_eq!(args.key_renew_period, want, "{text}");
    }
}

#[test]
fn durations_go_refuses_are_refused_with_go_s_message() {
    // humantime took all of these; Go takes none.
    for (text, go_says) in [
        ("1d", r#"time: unknown unit "d" in duration "1d""#),
        ("5", r#"time: missing unit in duration "5""#),
        ("1h 30m", r#"time: unknown unit "h " in duration "1h 30m""#),
        (
            "2 hours",
            r#"time: unknown unit " hours" in duration "2 hours""#,
        ),
    ] {
        let err = parse(&[&format!("--key-ttl={text}")]).unwrap_err();
        assert!(err.contains(go_says), "{text}: {err}");
    }
}

#[test]
fn negative_key_durations_are_refused_but_negative_timeouts_mean_none() {
    let err = parse(&["--key-renew-period=-1h"]).unwrap_err();
    assert!(err.contains("negative"), "{err}");
    let args = parse(&["--read-timeout=-1s", "--write-timeout=0"]).unwrap();
    assert_eq!(args.read_timeout.as_timeout(), None);
    assert_eq!(args.write_timeout.as_timeout(), None);
}

/// pflag takes the next argument as a flag's value even when it starts with
/// a dash: `--kubeclient-qps -1` (the reference chart's kubeClientQPS: -1)
/// and `--read-timeout -1s` are values, not unknown flags.
#[test]
fn negative_values_may_be_separate_arguments() {
    let args = parse(&["--kubeclient-qps", "-1", "--read-timeout", "-1s"]).unwrap();
    assert_eq!(args.kubeclient_qps, -1.0);
    assert_eq!(args.read_timeout.as_timeout(), None);
    let args = parse(&["--write-timeout", "-5s", "--kubeclient-burst", "3"]).unwrap();
    assert_eq!(args.write_timeout.as_timeout(), None);
    assert_eq!(args.kubeclient_burst, 3);
}

#[test]
fn http_timeouts_default_to_two_minutes_as_the_reference() {
    let args = parse(&[]).unwrap();
    assert_eq!(
        args.read_timeout.as_timeout(),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        args.write_timeout.as_timeout(),
        Some(Duration::from_secs(120))
    );
    let args = parse(&["--read-timeout=1m30s", "--write-timeout", "300ms"]).unwrap();
    assert_eq!(
        args.read_timeout.as_timeout(),
        Some(Duration::from_secs(90))
    );
    assert_eq!(
        args.write_timeout.as_timeout(),
        Some(Duration::from_millis(300))
    );
}

#[test]
fn any_log_format_and_key_order_priority_start_the_controller() {
    let args = parse(&["--log-format=xml", "--key-order-priority=Newest"]).unwrap();
    assert_eq!(args.log_format, "xml");
    assert_eq!(args.key_order_priority, "Newest");
}

#[test]
fn a_flag_given_twice_takes_the_last_value_as_pflag() {
    let args = parse(&[
        "--all-namespaces=false",
        "--all-namespaces=true",
        "--key-size=1024",
        "--key-size=2048",
    ])
    .unwrap();
    assert!(args.all_namespaces);
    assert_eq!(args.key_size, 2048);
}

#[test]
fn every_boolean_flag_takes_pflag_forms_and_keeps_its_default() {
    let defaults = parse(&[]).unwrap();
    assert!(defaults.update_status && defaults.all_namespaces && defaults.accept_v1_data);
    assert!(!defaults.web_ui && !defaults.leader_elect && !defaults.version);
    let bare = parse(&["--web-ui", "--leader-elect", "--update-status"]).unwrap();
    assert!(bare.web_ui && bare.leader_elect && bare.update_status);
    let off = parse(&["--update-status=false", "--all-namespaces=0", "--web-ui=F"]).unwrap();
    assert!(!off.update_status && !off.all_namespaces && !off.web_ui);
    assert!(
        parse(&["--web-ui", "false"]).is_err(),
        "a value needs '=', as pflag: a separate word is an argument"
    );
    let command = <Args as clap::CommandFactory>::command();
    let optional_value = |arg: &clap::Arg| {
        arg.get_num_args()
            .is_some_and(|n| n.min_values() == 0 && n.max_values() == 1)
    };
    let booleans: Vec<_> = command
        .get_arguments()
        .filter(|a| optional_value(a))
        .collect();
    for arg in &booleans {
        assert!(arg.is_require_equals_set(), "--{:?}", arg.get_long());
        assert!(matches!(arg.get_action(), ArgAction::Set));
    }
    assert_eq!(booleans.len(), 13, "every bool field is a pflag boolean");
}
