//! Latency summaries: nearest-rank percentiles over a set of samples (milliseconds).

use serde::Serialize;

/// p50, p99 and max of a sample set, plus how many samples it holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Summary {
    /// Samples.
    pub(crate) n: usize,
    /// Median (nearest rank).
    pub(crate) p50: f64,
    /// 99th percentile (nearest rank).
    pub(crate) p99: f64,
    /// Largest sample.
    pub(crate) max: f64,
}

impl Summary {
    /// Summarises `samples`; `None` when there are none (a run that measured nothing must say
    /// so instead of printing zeros).
    pub(crate) fn of(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            n: sorted.len(),
            p50: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// The nearest-rank percentile of an ascending, non-empty slice: the smallest sample with at
/// least `p` percent of the samples at or below it.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    // ceil(p/100 * n) as a 1-based rank, clamped to 1..=n.
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// `ours / reference`, or `None` when the reference is zero.
pub(crate) fn ratio(ours: f64, reference: f64) -> Option<f64> {
    (reference > 0.0).then(|| ours / reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_one_to_hundred() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
    }

    #[test]
    fn small_sets_take_the_upper_sample() {
        // 13 agents: p99 is the largest; p50 the 7th.
        let v: Vec<f64> = (1..=13).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 7.0);
        assert_eq!(percentile(&v, 99.0), 13.0);
        assert_eq!(percentile(&[4.0], 50.0), 4.0);
    }

    #[test]
    fn summary_sorts_and_refuses_empty() {
        let s = Summary::of(&[30.0, 10.0, 20.0]).expect("non-empty");
        assert_eq!((s.n, s.p50, s.p99, s.max), (3, 20.0, 30.0, 30.0));
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn ratio_of_zero_reference_is_none() {
        assert_eq!(ratio(2.0, 0.0), None);
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
    }
}
