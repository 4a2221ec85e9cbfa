//! Secret redaction for text that never went through VRL (dead letters). Same rules as the
//! `raw_redacted` step of `vrl-mappings/prelude/00_common.vrl`.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

static QUICK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)passw|secret|token|bypasscode|recovery|apikey|api_key|scriptcontent|scriptbody|challenge")
        .expect("valid regex")
});
static JSON_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)("(?:password|passwd|challengePassword|scepChallenge|challenge|activationLockBypassCode|recoveryKey|recoveryPassword|personalRecoveryKey|bitLockerRecoveryKey|fileVaultRecoveryKey|recoveryLockPassword|unlockToken|bootstrapToken|token|accessToken|refreshToken|idToken|apiKey|api_key|clientSecret|client_secret|secret|sharedSecret|scriptContent|detectionScriptContent|remediationScriptContent|scriptBody)"\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.]*)"#)
        .expect("valid regex")
});
static XML_ELEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(<(?:password|passwd|challengePassword|activationLockBypassCode|recoveryKey|recoveryPassword|token|accessToken|apiKey|clientSecret|secret|scriptContent)>)[^<]*(</)")
        .expect("valid regex")
});
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(password|passwd|token|access_token|apikey|api_key|client_secret|secret|bypasscode)=([^,;&\s]+)")
        .expect("valid regex")
});

/// Replaces values of secret keys in JSON, XML and `key=value` text by `[REDACTED]`.
pub fn redact_secrets(text: &str) -> Cow<'_, str> {
    if !QUICK.is_match(text) {
        return Cow::Borrowed(text);
    }
    let a = JSON_KEY.replace_all(text, "${1}\"[REDACTED]\"");
    let b = XML_ELEM.replace_all(&a, "${1}[REDACTED]${2}").into_owned();
    let c = KEY_VALUE.replace_all(&b, "${1}=[REDACTED]").into_owned();
    Cow::Owned(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_json_xml_and_key_value_secrets() {
        let out = redact_secrets(
            r#"{"user":"a","password" : "hunter2","activationLockBypassCode":"X1-Y2"}"#,
        );
        assert_eq!(
            out,
            r#"{"user":"a","password" : "[REDACTED]","activationLockBypassCode":"[REDACTED]"}"#
        );
        assert_eq!(
            redact_secrets("<a><Password>s3cret</Password></a>"),
            "<a><Password>[REDACTED]</Password></a>"
        );
        assert_eq!(
            redact_secrets("user=bob, token=abc.def"),
            "user=bob, token=[REDACTED]"
        );
    }

    #[test]
    fn keeps_setting_names_that_only_look_like_secrets() {
        let text = r#"{"passwordRequired":"true","passwordMinimumLength":8}"#;
        assert_eq!(redact_secrets(text), text);
    }
}
