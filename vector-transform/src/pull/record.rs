//! Vendor records as the pullers pass them on: the JSON text as the API sent it, with members the
//! puller adds (context the record lacks, in OData's `@namespace.term` instance-annotation form, e.g.
//! `@mdmAudit.retrievedDateTime`) appended without re-encoding what the vendor sent.

/// `record` (a JSON object's text, as the vendor sent it) with `"key": value` members appended.
pub(crate) fn with_members(record: &str, members: &[(&str, String)]) -> Result<String, String> {
    let body = record
        .trim_end()
        .strip_suffix('}')
        .ok_or_else(|| "not a JSON object".to_owned())?;
    let mut out = body.to_owned();
    let mut empty = body.trim_start().strip_prefix('{').map(str::trim) == Some("");
    for (k, v) in members {
        if !empty {
            out.push(',');
        }
        empty = false;
        out.push_str(&serde_json::to_string(k).map_err(|e| e.to_string())?);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_appended_to_the_record_as_sent() {
        assert_eq!(
            with_members(
                r#"{"id":"a", "members":["g"]} "#,
                &[("roleDefinition", "null".into())]
            ),
            Ok(r#"{"id":"a", "members":["g"],"roleDefinition":null}"#.to_owned())
        );
        assert_eq!(
            with_members("{ }", &[("k", "1".into()), ("l", "2".into())]),
            Ok(r#"{ "k":1,"l":2}"#.to_owned())
        );
        assert!(with_members("[1]", &[]).is_err());
    }
}
