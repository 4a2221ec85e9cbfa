use std::io::Write;

use super::body::{decode_for_test, parse_events_for_test};

#[test]
fn malformed_lines_are_named_by_line_number() {
    let body = b"{\"not\": \"an event\"}\n\n   \nnot json\n\xff\xfe\n";
    let (ok, failed) = parse_events_for_test(body);
    assert_eq!(ok, 0);
    let lines: Vec<usize> = failed.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![1, 4, 5], "blank lines are skipped, not failed");
    assert!(failed[2].1.contains("UTF-8"), "{failed:?}");
}

#[test]
fn gzip_bodies_are_decoded_and_bounded() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&[b'a'; 1000]).expect("write");
    let gz = enc.finish().expect("finish");
    assert_eq!(
        decode_for_test(Some("gzip"), gz.clone(), 4096)
            .expect("decoded")
            .len(),
        1000
    );
    assert_eq!(decode_for_test(Some("gzip"), gz, 999), Err(413));
    assert_eq!(
        decode_for_test(Some("gzip"), b"plain".to_vec(), 999),
        Err(400)
    );
    assert_eq!(decode_for_test(Some("br"), b"x".to_vec(), 999), Err(415));
    assert_eq!(decode_for_test(None, b"x".to_vec(), 999), Ok(b"x".to_vec()));
}
