//! An S3 API on 127.0.0.1 for the tests (moto's server, `tests/s3/moto_server.py`, from PyPI
//! `moto[server]`, which scripts/test installs into target/py-venv), and the environment that
//! points `mdm-audit` at it the way users configure S3: the usual AWS variables.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Output, Stdio};

use crate::{cli_binary, workspace_root};

/// A running moto S3 server; stopped when dropped.
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    _stdin: Option<ChildStdin>,
    /// `http://127.0.0.1:port`.
    pub endpoint: String,
}

impl S3Server {
    /// Starts the server with `buckets` created, or `None` (the test is skipped, with a note) when
    /// `MDM_TEST_PYTHON` is unset. A Python that lacks moto fails the test.
    pub fn start(buckets: &[&str]) -> Option<Self> {
        let Ok(python) = std::env::var("MDM_TEST_PYTHON") else {
            eprintln!(
                "skipped: MDM_TEST_PYTHON (a Python with moto[server]) is not set; scripts/test sets it"
            );
            return None;
        };
        let mut child = Command::new(python)
            .arg(workspace_root().join("tests/s3/moto_server.py"))
            .args(buckets)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/s3/moto_server.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the endpoint");
        let endpoint = line.trim().to_owned();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "moto_server.py printed no endpoint (is moto[server] installed?): {line:?}"
        );
        let stdin = child.stdin.take();
        Some(Self {
            child,
            _stdin: stdin,
            endpoint,
        })
    }

    /// The environment a user sets for this server: credentials, region, endpoint, plain HTTP,
    /// and no instance-metadata lookups.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "mdm-audit-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "mdm-audit-test-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Runs `mdm-audit args` in `dir` with [`Self::env`] (stdin closed).
    pub fn run_cli(&self, args: &[&str], dir: &Path) -> Output {
        Command::new(cli_binary())
            .args(args)
            .envs(self.env())
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("spawn mdm-audit")
    }

    /// [`Self::run_cli`], asserting success; returns stdout.
    pub fn run_ok(&self, args: &[&str], dir: &Path) -> String {
        let out = self.run_cli(args, dir);
        crate::assert_succeeded(args, &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
