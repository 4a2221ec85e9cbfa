//! `--source auto`: recognize the feed by its shape, without parsing the record twice.

use super::Source;

/// Guesses which source program understands `record`; `None` when nothing fits.
pub fn sniff(record: &str) -> Option<Source> {
    let t = record.trim_start();
    let body = strip_syslog_header(t);
    if body.starts_with("[JSSACCESSLOG]") || body.starts_with("[CHANGEMANAGEMENT]") {
        return Some(Source::Jamf);
    }
    if body.contains("AirWatch Syslog Details")
        || (body.contains("Event Type:") && body.contains("Event Timestamp:"))
    {
        return Some(Source::Ws1);
    }
    if t.starts_with('<') {
        let mut end = t.len().min(512);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        let head = &t[..end];
        if head.contains("<JSSEvent") {
            return Some(Source::Jamf);
        }
        if head.contains("<Eventlog")
            || head.contains("<EventLog")
            || head.contains("<EventNotification")
        {
            return Some(Source::Ws1);
        }
        return None;
    }
    if t.starts_with('{') {
        if t.contains("\"webhookEvent\"")
            || t.contains("\"[JSSACCESSLOG]")
            || t.contains("\"[CHANGEMANAGEMENT]")
        {
            return Some(Source::Jamf);
        }
        if t.contains("\"activityType\"")
            || t.contains("\"activityDateTime\"")
            || t.contains("\"operationName\"")
            || t.contains("\"OperationName\"")
            || t.contains("\"managedDeviceOwnerType\"")
            || t.contains("\"azureADDeviceId\"")
            || t.contains("\"complianceState\"")
        {
            return Some(Source::Intune);
        }
        if t.contains("\"EventType\"") || t.contains("\"EventId\"") {
            return Some(Source::Ws1);
        }
    }
    None
}

/// Skips an RFC 3164 / 5424 header (`<PRI>...`) up to the message body, if there is one.
fn strip_syslog_header(t: &str) -> &str {
    let Some(rest) = t.strip_prefix('<') else {
        return t;
    };
    let Some(end) = rest.find('>') else {
        return t;
    };
    if end == 0 || end > 3 || !rest[..end].bytes().all(|b| b.is_ascii_digit()) {
        return t;
    }
    let after = &rest[end + 1..];
    for marker in [
        "AirWatch Syslog Details",
        "Event Type:",
        "[JSSACCESSLOG]",
        "[CHANGEMANAGEMENT]",
    ] {
        if let Some(i) = after.find(marker) {
            return &after[i..];
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_each_feed() {
        assert_eq!(
            sniff(r#"{"webhook":{"webhookEvent":"ComputerAdded"},"event":{}}"#),
            Some(Source::Jamf)
        );
        assert_eq!(
            sniff("[JSSACCESSLOG] 2021-09-09T08:44:00,679 - username=a"),
            Some(Source::Jamf)
        );
        assert_eq!(
            sniff(r#"{"id":"x","activityType":"wipe ManagedDevice"}"#),
            Some(Source::Intune)
        );
        assert_eq!(
            sniff(r#"{"operationName":"Create X","category":"AuditLogs"}"#),
            Some(Source::Intune)
        );
        assert_eq!(
            sniff(
                "<134>Nov 22 10:00:00 uem AirWatch: AirWatch Syslog Details are as follows Event Type: Device"
            ),
            Some(Source::Ws1)
        );
        assert_eq!(
            sniff(r#"{"EventId":148,"EventType":"MDMEnrollmentComplete"}"#),
            Some(Source::Ws1)
        );
        assert_eq!(
            sniff("<Eventlog><EventId>39</EventId></Eventlog>"),
            Some(Source::Ws1)
        );
        assert_eq!(sniff("hello world"), None);
        // A multi-byte character across the 512-byte look-ahead must not panic (found by the fuzzer).
        assert_eq!(sniff(&format!("<{}", "é".repeat(400))), None);
        assert_eq!(sniff(r#"{"a":1}"#), None);
    }
}
