//! The feeds a generated estate is written as: one file per feed in the vendor's own wire format, or
//! one interleaved stream (stdout). Every record is one line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::GenerateError;

/// A feed of the estate: what a collector receives from one MDM interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feed {
    /// Jamf Pro webhooks (JSON `{"webhook": {...}, "event": {...}}`).
    JamfWebhooks,
    /// Jamf Log Stream (`[JSSACCESSLOG]` and `[CHANGEMANAGEMENT]` lines in the `{"time","message"}`
    /// HTTPS envelope; change-management detail lines stay inside `message` after `\n\t`).
    JamfLogStream,
    /// Microsoft Graph `deviceManagement/auditEvents` (beta shape), one element of `value` per line.
    IntuneGraphAudit,
    /// Intune diagnostic settings (Azure Monitor records: AuditLogs, OperationalLogs, Devices,
    /// DeviceComplianceOrg), one element of `records` per line.
    IntuneDiagnostic,
    /// Microsoft Graph `deviceManagement/managedDevices` snapshots, one element of `value` per line.
    IntuneManagedDevices,
    /// Workspace ONE UEM syslog (SIEM integration): RFC 5424 header + the default template with its
    /// labels run together, one line per event.
    Ws1Syslog,
    /// Workspace ONE UEM event notifications (JSON REST callbacks).
    Ws1Notifications,
}

impl Feed {
    /// Every feed, in file order.
    pub const ALL: [Feed; 7] = [
        Feed::JamfWebhooks,
        Feed::JamfLogStream,
        Feed::IntuneGraphAudit,
        Feed::IntuneDiagnostic,
        Feed::IntuneManagedDevices,
        Feed::Ws1Syslog,
        Feed::Ws1Notifications,
    ];

    /// Position in [`Feed::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Short name (`jamf_webhooks`), used in summaries and the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            Feed::JamfWebhooks => "jamf_webhooks",
            Feed::JamfLogStream => "jamf_logstream",
            Feed::IntuneGraphAudit => "intune_graph_audit",
            Feed::IntuneDiagnostic => "intune_diagnostic",
            Feed::IntuneManagedDevices => "intune_managed_devices",
            Feed::Ws1Syslog => "ws1_syslog",
            Feed::Ws1Notifications => "ws1_notifications",
        }
    }

    /// The file the feed is written to in `--out`.
    pub fn file_name(self) -> &'static str {
        match self {
            Feed::JamfWebhooks => "jamf_webhooks.ndjson",
            Feed::JamfLogStream => "jamf_logstream.ndjson",
            Feed::IntuneGraphAudit => "intune_graph_audit_events.ndjson",
            Feed::IntuneDiagnostic => "intune_diagnostic_logs.ndjson",
            Feed::IntuneManagedDevices => "intune_managed_devices.ndjson",
            Feed::Ws1Syslog => "ws1_syslog.log",
            Feed::Ws1Notifications => "ws1_notifications.ndjson",
        }
    }

    /// The vendor (`jamf`, `microsoft`, `omnissa`), as the normalized `vendor` field names it.
    pub fn vendor(self) -> &'static str {
        match self {
            Feed::JamfWebhooks | Feed::JamfLogStream => "jamf",
            Feed::IntuneGraphAudit | Feed::IntuneDiagnostic | Feed::IntuneManagedDevices => {
                "microsoft"
            }
            Feed::Ws1Syslog | Feed::Ws1Notifications => "omnissa",
        }
    }

    /// One line on the wire format (for the ground truth and `--help`).
    pub fn description(self) -> &'static str {
        match self {
            Feed::JamfWebhooks => "Jamf Pro webhooks, JSON, one per line",
            Feed::JamfLogStream => {
                "Jamf Log Stream access and change-management lines in the {\"time\",\"message\"} envelope"
            }
            Feed::IntuneGraphAudit => {
                "Microsoft Graph auditEvents (beta), one element of value per line"
            }
            Feed::IntuneDiagnostic => {
                "Intune diagnostic records (AuditLogs, OperationalLogs, Devices, DeviceComplianceOrg)"
            }
            Feed::IntuneManagedDevices => "Microsoft Graph managedDevices snapshots, one per line",
            Feed::Ws1Syslog => {
                "Workspace ONE UEM syslog lines (RFC 5424 header, labels run together, times in UTC)"
            }
            Feed::Ws1Notifications => "Workspace ONE UEM event notifications, JSON, one per line",
        }
    }
}

/// Where records go.
pub trait FeedSink {
    /// Writes one record (without its line end) of `feed`.
    fn write_record(&mut self, feed: Feed, record: &[u8]) -> Result<(), GenerateError>;
    /// Flushes everything.
    fn finish(&mut self) -> Result<(), GenerateError>;
}

/// One file per feed in a directory.
#[derive(Debug)]
pub struct DirSink {
    dir: PathBuf,
    files: Vec<BufWriter<File>>,
}

impl DirSink {
    /// Creates (truncates) every feed file in `dir`, creating `dir` if needed.
    pub fn create(dir: &Path) -> Result<Self, GenerateError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| GenerateError::io(format!("creating {}", dir.display()), e))?;
        let files = Feed::ALL
            .iter()
            .map(|f| {
                let path = dir.join(f.file_name());
                File::create(&path)
                    .map(|file| BufWriter::with_capacity(1 << 17, file))
                    .map_err(|e| GenerateError::io(format!("creating {}", path.display()), e))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            dir: dir.to_owned(),
            files,
        })
    }

    /// The path of a feed's file.
    pub fn path(&self, feed: Feed) -> PathBuf {
        self.dir.join(feed.file_name())
    }
}

impl FeedSink for DirSink {
    fn write_record(&mut self, feed: Feed, record: &[u8]) -> Result<(), GenerateError> {
        let f = &mut self.files[feed.index()];
        f.write_all(record)
            .and_then(|()| f.write_all(b"\n"))
            .map_err(|e| {
                GenerateError::io(
                    format!("writing {}", self.dir.join(feed.file_name()).display()),
                    e,
                )
            })
    }

    fn finish(&mut self) -> Result<(), GenerateError> {
        for (f, feed) in self.files.iter_mut().zip(Feed::ALL) {
            f.flush().map_err(|e| {
                GenerateError::io(
                    format!("writing {}", self.dir.join(feed.file_name()).display()),
                    e,
                )
            })?;
        }
        Ok(())
    }
}

/// Every feed interleaved in time order on one writer (stdout): one record per line.
pub struct StreamSink<W: Write> {
    out: BufWriter<W>,
    name: String,
}

impl<W: Write> std::fmt::Debug for StreamSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSink")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<W: Write> StreamSink<W> {
    /// Wraps `out` (named `name` in errors).
    pub fn new(out: W, name: impl Into<String>) -> Self {
        Self {
            out: BufWriter::with_capacity(1 << 17, out),
            name: name.into(),
        }
    }

    /// Flushes and returns the writer.
    pub fn into_inner(self) -> Result<W, GenerateError> {
        let name = self.name;
        self.out
            .into_inner()
            .map_err(|e| GenerateError::io(format!("writing {name}"), e.into_error()))
    }
}

impl<W: Write> FeedSink for StreamSink<W> {
    fn write_record(&mut self, _feed: Feed, record: &[u8]) -> Result<(), GenerateError> {
        self.out
            .write_all(record)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| GenerateError::io(format!("writing {}", self.name), e))
    }

    fn finish(&mut self) -> Result<(), GenerateError> {
        self.out
            .flush()
            .map_err(|e| GenerateError::io(format!("writing {}", self.name), e))
    }
}

/// Discards records (benchmarks of the generator alone), counting bytes.
#[derive(Debug, Default)]
pub struct NullSink {
    /// Bytes that would have been written (record + line end).
    pub bytes: u64,
}

impl FeedSink for NullSink {
    fn write_record(&mut self, _feed: Feed, record: &[u8]) -> Result<(), GenerateError> {
        self.bytes += record.len() as u64 + 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), GenerateError> {
        Ok(())
    }
}
