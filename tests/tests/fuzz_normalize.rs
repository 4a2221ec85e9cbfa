//! No input makes normalization panic: random text, random bytes through the framer, and mutations of
//! every sample record run through every source program. Each must end as an event that validates or a
//! dead letter with a reason. The number of inputs tried is printed (`--nocapture`).

use std::sync::atomic::{AtomicUsize, Ordering};

use mdm_audit_transform::normalize::sniff;
use mdm_audit_transform::{Framer, MappingSet, NormalizeConfig, Normalizer, Source};
use proptest::prelude::*;

static TRIED: AtomicUsize = AtomicUsize::new(0);

fn normalizer() -> Normalizer {
    let mappings = MappingSet::from_dir(&mdm_audit_tests::mappings_dir()).expect("mappings");
    Normalizer::new(&mappings, &NormalizeConfig::default()).expect("compiles")
}

fn samples() -> Vec<String> {
    let mut out: Vec<String> = mdm_audit_tests::sample_inputs()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    if out.is_empty() {
        out.push(r#"{"webhook":{"webhookEvent":"ComputerAdded","eventTimestamp":1700000000000},"event":{}}"#.to_owned());
    }
    out
}

fn check(n: &mut Normalizer, text: &str) {
    for source in Source::all() {
        TRIED.fetch_add(1, Ordering::Relaxed);
        match n.normalize(source, text) {
            Ok(norm) => {
                assert!(!norm.event.event_uid.is_empty());
                assert!(!norm.mapping.is_empty());
            }
            Err(reason) => assert!(!reason.is_empty(), "dead letter without a reason"),
        }
    }
    let _ = sniff(text);
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Truncate(usize),
    Swap(usize, char),
}

fn apply(s: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match e {
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n % 20).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            Edit::Insert(at, text) => {
                let at = (at % len).min(chars.len());
                for (i, c) in text.chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            Edit::Truncate(at) => chars.truncate(at % len),
            Edit::Swap(at, c) => {
                if !chars.is_empty() {
                    chars[at % len] = *c;
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Edit::Delete(a, n)),
        (
            any::<usize>(),
            prop_oneof![
                Just("\"".to_owned()),
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("null".to_owned()),
                Just("<null>".to_owned()),
                Just("\n\t".to_owned()),
                Just("[]".to_owned()),
                Just("1e999".to_owned()),
                Just("/Date(".to_owned()),
                Just("Event Type:".to_owned()),
                Just("\\u0000".to_owned()),
                ".{0,12}",
            ]
        )
            .prop_map(|(a, t)| Edit::Insert(a, t)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<char>()).prop_map(|(a, c)| Edit::Swap(a, c)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_samples_never_panic(index in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        thread_local! { static N: std::cell::RefCell<Option<(Normalizer, Vec<String>)>> = const { std::cell::RefCell::new(None) }; }
        N.with(|cell| {
            let mut slot = cell.borrow_mut();
            let (n, samples) = slot.get_or_insert_with(|| (normalizer(), samples()));
            let text = apply(&samples[index % samples.len()], &edits);
            check(n, &text);
        });
    }

    #[test]
    fn random_text_never_panics(text in ".{0,300}") {
        thread_local! { static N: std::cell::RefCell<Option<Normalizer>> = const { std::cell::RefCell::new(None) }; }
        N.with(|cell| {
            let mut slot = cell.borrow_mut();
            let n = slot.get_or_insert_with(normalizer);
            check(n, &text);
        });
    }

    #[test]
    fn random_bytes_frame_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let frames = Framer::new(&bytes[..]).collect::<Result<Vec<_>, _>>().expect("in-memory read");
        for f in frames {
            TRIED.fetch_add(1, Ordering::Relaxed);
            prop_assert!(f.error.is_some() || !f.text.trim().is_empty());
        }
    }
}

#[test]
fn report_inputs_tried() {
    // Runs after or alongside the proptests; the count printed is a lower bound for this process.
    eprintln!(
        "fuzz: {} normalize calls so far in this process",
        TRIED.load(Ordering::Relaxed)
    );
}
