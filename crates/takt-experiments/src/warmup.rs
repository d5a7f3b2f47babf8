//! Warm-up detection by MSER-5 (White 1997): batch the output series in means of 5, and truncate where
//! the standard error of the remaining mean is smallest (searched over the first half).

/// The number of leading observations to delete from `series` (a multiple of 5).
pub fn mser5(series: &[f64]) -> usize {
    let batches: Vec<f64> = series
        .chunks_exact(5)
        .map(|c| c.iter().sum::<f64>() / 5.0)
        .collect();
    let m = batches.len();
    if m < 4 {
        return 0;
    }
    let mut best = (f64::INFINITY, 0);
    for d in 0..=m / 2 {
        let rest = &batches[d..];
        let n = rest.len() as f64;
        let mean = rest.iter().sum::<f64>() / n;
        let sse = rest.iter().map(|b| (b - mean).powi(2)).sum::<f64>();
        let stat = sse / (n * n);
        if stat < best.0 {
            best = (stat, d);
        }
    }
    best.1 * 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_an_initial_transient() {
        // Ramp from 0 for the first 40 points, then noise around 10.
        let mut s: Vec<f64> = (0..40).map(|i| i as f64 / 4.0).collect();
        s.extend((0..200).map(|i| 10.0 + ((i * 7919) % 13) as f64 / 13.0 - 0.5));
        let d = mser5(&s);
        assert!((35..=60).contains(&d), "{d}");
        // A stationary series needs no truncation.
        let flat: Vec<f64> = (0..200)
            .map(|i| 10.0 + ((i * 7919) % 13) as f64 / 13.0 - 0.5)
            .collect();
        assert!(mser5(&flat) <= 10, "{}", mser5(&flat));
    }
}
