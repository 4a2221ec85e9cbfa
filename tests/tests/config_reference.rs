//! The configuration reference in README.md ("Configuration reference") is kept in step with the
//! CLI: every command `mdm-audit --help` lists has a subsection, every option and environment
//! variable its `--help` shows is documented there, and the subsection names no option the command
//! does not have.

use std::collections::BTreeSet;
use std::process::Command;

use mdm_audit_tests::{cli_binary, workspace_root};

fn help(args: &[&str]) -> String {
    let out = Command::new(cli_binary())
        .args(args)
        .arg("--help")
        .output()
        .expect("run mdm-audit --help");
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

/// `--long-option` words in `text`.
fn options(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if let Some(name) = word.strip_prefix("--")
            && name.starts_with(|c: char| c.is_ascii_lowercase())
        {
            found.insert(format!("--{}", name.trim_end_matches('-')));
        }
    }
    found.remove("--help");
    found.remove("--version");
    found
}

/// `[env: NAME=...]` names in a help text.
fn env_vars(text: &str) -> BTreeSet<String> {
    text.split("[env: ")
        .skip(1)
        .filter_map(|s| s.split(['=', ']']).next())
        .map(str::to_owned)
        .collect()
}

/// The option lines of a help text (those that start with `-x, --name` or `--name`).
fn option_lines(text: &str) -> String {
    text.lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn commands() -> Vec<String> {
    let top = help(&[]);
    let section = top
        .split("Commands:")
        .nth(1)
        .expect("a Commands: section")
        .split("Options:")
        .next()
        .unwrap_or_default();
    section
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_option_and_variable_is_in_the_configuration_reference() {
    let readme =
        std::fs::read_to_string(workspace_root().join("README.md")).expect("read README.md");
    let reference = readme
        .split("## Configuration reference")
        .nth(1)
        .expect("README.md has a '## Configuration reference' section");
    let reference = reference.split("\n## ").next().unwrap_or(reference);
    let cmds = commands();
    assert!(cmds.len() >= 5, "too few commands found: {cmds:?}");
    let mut problems = Vec::new();
    for cmd in &cmds {
        let heading = format!("### `mdm-audit {cmd}`");
        let Some(part) = reference.split(&heading).nth(1) else {
            problems.push(format!("no '{heading}' subsection"));
            continue;
        };
        let part = part.split("\n### ").next().unwrap_or(part);
        let text = help(&[cmd]);
        let lines = option_lines(&text);
        let have = options(&lines);
        let documented = options(part);
        for o in have.difference(&documented) {
            problems.push(format!("mdm-audit {cmd} {o} is not documented"));
        }
        for o in documented.difference(&have) {
            problems.push(format!(
                "the reference names mdm-audit {cmd} {o}, which does not exist"
            ));
        }
        for v in env_vars(&text) {
            if !part.contains(&v) {
                problems.push(format!("mdm-audit {cmd}: variable {v} is not documented"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
