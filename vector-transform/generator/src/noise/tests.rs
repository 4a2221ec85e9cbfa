//! Unit tests of the noise budget split.

use std::rc::Rc;

use super::budget::allocate;
use super::{NoiseKind, Spec};

fn spec(weight: f64, per_tick: u64, cap: Option<u64>) -> Spec {
    Spec {
        kind: NoiseKind::ComputerCheckIn,
        pool: Rc::new(Vec::new()),
        actor: 0,
        weight,
        per_tick,
        cap,
        profile: None,
        batch_offset: 0,
    }
}

#[test]
fn allocation_is_exact_proportional_and_respects_caps() {
    let specs = vec![
        spec(100.0, 1, None),
        spec(50.0, 2, None),
        spec(50.0, 1, Some(10)),
        spec(0.0, 1, None),
    ];
    for budget in [0u64, 1, 7, 1_000, 123_457] {
        let t = allocate(budget, &specs);
        let total: u64 = t.iter().zip(&specs).map(|(n, s)| n * s.per_tick).sum();
        assert_eq!(total, budget, "budget {budget}: {t:?}");
        assert!(t[2] <= 10);
        assert_eq!(t[3], 0);
    }
    let t = allocate(100_000, &specs);
    assert_eq!(t[2], 10);
    // The rest splits 2:1 between the first two (in records).
    let r0 = t[0] as f64;
    let r1 = (t[1] * 2) as f64;
    assert!((r0 / r1 - 2.0).abs() < 0.01, "{t:?}");
}
