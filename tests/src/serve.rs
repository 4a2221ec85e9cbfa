//! `mdm-audit serve` as a process of the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli_binary;

/// A running `mdm-audit serve` on 127.0.0.1 port 0, started with `--addr-file`.
#[derive(Debug)]
pub struct ServeProcess {
    /// The process.
    pub child: std::process::Child,
    /// Where it listens (`127.0.0.1:port`).
    pub addr: String,
    addr_file: PathBuf,
}

impl ServeProcess {
    /// Starts `mdm-audit serve --store store --listen 127.0.0.1:0 --addr-file <dir>/serve.addr extra...`
    /// in `dir` and waits (up to 60 s) until it accepts requests. Its stderr goes to `<dir>/serve.log`
    /// (appended, so restarts keep the earlier logs). Without `--credentials` in `extra` it is started
    /// with `--allow-unauthenticated`; credentials in the test's own environment are not passed on.
    pub fn start(dir: &Path, store: &str, extra: &[&str]) -> Self {
        Self::start_with_env(dir, store, extra, &[])
    }

    /// [`Self::start`] with `env` added to the process's environment (an object store's settings).
    pub fn start_with_env(
        dir: &Path,
        store: &str,
        extra: &[&str],
        env: &[(&'static str, String)],
    ) -> Self {
        let open: &[&str] =
            if extra.contains(&"--credentials") || extra.contains(&"--tls-client-ca") {
                &[]
            } else {
                &["--allow-unauthenticated"]
            };
        let addr_file = dir.join("serve.addr");
        let _ = std::fs::remove_file(&addr_file);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("serve.log"))
            .expect("serve log");
        let child = Command::new(cli_binary())
            .args([
                "serve",
                "--store",
                store,
                "--listen",
                "127.0.0.1:0",
                "--addr-file",
            ])
            .arg(&addr_file)
            .args(extra)
            .args(open)
            .env_remove("MDM_AUDIT_CREDENTIALS")
            .env_remove("MDM_AUDIT_INGEST_TOKENS")
            .current_dir(dir)
            .env("MDM_AUDIT_LOG", "info")
            .envs(env.iter().cloned())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn mdm-audit serve");
        let mut me = Self {
            child,
            addr: String::new(),
            addr_file,
        };
        let started = std::time::Instant::now();
        loop {
            if let Ok(a) = std::fs::read_to_string(&me.addr_file)
                && a.ends_with('\n')
            {
                me.addr = a.trim().to_owned();
                return me;
            }
            if let Ok(Some(status)) = me.child.try_wait() {
                panic!(
                    "mdm-audit serve exited with {status} before listening:\n{}",
                    std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "mdm-audit serve did not write its address within 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends SIGTERM and waits (up to 60 s) for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let started = std::time::Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait serve") {
                return s;
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("mdm-audit serve did not exit within 60 s of SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// SIGKILL, then reaps the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP client for talking to `serve` on loopback: no proxy, a 60 s timeout.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// The text of `GET /metrics` of `server`.
pub async fn metrics_text(server: &ServeProcess) -> String {
    http_client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}
