//! Expected failures over a span when every repair renews the failed part: the renewal function
//! M(t) = F(t) + ∫ M(t - x) dF(x) (and its delayed form from a part already `age` old), on a grid.
//!
//! A part that fails is repaired as good as new and fails again later, so over a span longer than a
//! fraction of its life the count of failures, not the chance of one, is what costs. The integral
//! is solved on a uniform grid by the trapezoid rule on the convolution, implicit in the newest
//! point, which is second-order accurate (checked against M(t) = t / mean for the exponential and
//! against Monte Carlo for wear-out Weibull lives in the tests).

use takt_model::fit::Fit;

/// Expected failures at grid points `0, h, 2h, ...`: `values[k]` is E[N(k h)].
#[derive(Debug, Clone, PartialEq)]
pub struct Renewal {
    pub step: f64,
    pub values: Vec<f64>,
}

impl Renewal {
    /// Expected failures within `k` grid steps.
    pub fn at_step(&self, k: usize) -> f64 {
        self.values[k.min(self.values.len() - 1)]
    }

    /// Expected failures within `length` (in the grid's unit), linear between grid points.
    pub fn at(&self, length: f64) -> f64 {
        if !(self.step > 0.0 && length > 0.0) {
            return 0.0;
        }
        let x = length / self.step;
        let k = x.floor() as usize;
        if k + 1 >= self.values.len() {
            return self.values[self.values.len() - 1];
        }
        let f = x - k as f64;
        self.values[k] * (1.0 - f) + self.values[k + 1] * f
    }
}

/// E[N(t)] for t = 0, step, .., steps x step, for a part as good as new (`age` = 0) or one that has
/// lasted `age` already (its first failure is drawn given that; later ones from new). Time is in
/// the lifetime's own basis (seconds or cycles).
pub fn expected_failures(life: &Fit, age: f64, step: f64, steps: usize) -> Renewal {
    let fresh = renewal(|t| life.cdf(t), step, steps);
    if age <= 0.0 {
        return fresh;
    }
    let first = |t: f64| life.conditional_failure(age, t);
    Renewal {
        step,
        values: delayed(first, &fresh.values, step, steps),
    }
}

/// The ordinary renewal function of the distribution `cdf`.
fn renewal(cdf: impl Fn(f64) -> f64, step: f64, steps: usize) -> Renewal {
    let f: Vec<f64> = (0..=steps).map(|k| cdf(k as f64 * step)).collect();
    let mut m = vec![0.0; steps + 1];
    for k in 1..=steps {
        // M_k = F_k + Σ_j (F_j - F_{j-1}) (M_{k-j} + M_{k-j+1}) / 2; the j = 1 term holds M_k.
        let mut sum = f[k];
        for j in 2..=k {
            sum += (f[j] - f[j - 1]) * 0.5 * (m[k - j] + m[k - j + 1]);
        }
        let f1 = f[1] - f[0];
        sum += f1 * 0.5 * m[k - 1];
        m[k] = sum / (1.0 - 0.5 * f1);
    }
    Renewal { step, values: m }
}

/// The delayed renewal function: the first failure from `first`, the later ones renew with
/// `fresh` (the ordinary renewal function on the same grid).
fn delayed(first: impl Fn(f64) -> f64, fresh: &[f64], step: f64, steps: usize) -> Vec<f64> {
    let g: Vec<f64> = (0..=steps).map(|k| first(k as f64 * step)).collect();
    let mut m = vec![0.0; steps + 1];
    for k in 1..=steps {
        // M_k = G_k + Σ_j (G_j - G_{j-1}) (M0_{k-j} + M0_{k-j+1}) / 2.
        let mut sum = g[k];
        for j in 1..=k {
            sum += (g[j] - g[j - 1]) * 0.5 * (fresh[k - j] + fresh[k - j + 1]);
        }
        m[k] = sum;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_lives_fail_at_a_constant_rate_from_any_age() {
        // A Poisson process: M(t) = t / mean, whatever the age (memoryless).
        let life = Fit::known_exponential(10.0);
        for age in [0.0, 25.0] {
            let m = expected_failures(&life, age, 0.1, 500);
            for k in [10, 100, 500] {
                let t = k as f64 * 0.1;
                assert!(
                    (m.at_step(k) - t / 10.0).abs() < 2e-3 * (t / 10.0),
                    "age {age}, t {t}: {} vs {}",
                    m.at_step(k),
                    t / 10.0
                );
            }
        }
    }

    #[test]
    fn wear_out_lives_match_the_long_run_rate_and_monte_carlo() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Weibull};
        // Weibull shape 3, scale 100: mean 89.298, sd 32.44. Elementary renewal theorem with
        // the second-order term: M(t) ≈ t / mu + (sigma² / mu² - 1) / 2 for large t.
        let life = Fit::known_weibull(3.0, 100.0);
        let m = expected_failures(&life, 0.0, 0.5, 2000);
        let (mu, sigma) = (89.298_f64, 32.44_f64);
        let asymptote = 1000.0 / mu + (sigma * sigma / (mu * mu) - 1.0) / 2.0;
        assert!(
            (m.at_step(2000) - asymptote).abs() < 0.01,
            "{} vs {asymptote}",
            m.at_step(2000)
        );
        // Monte Carlo from age 60 over 150 time units, 40,000 paths: the mean count and its 99.9%
        // interval.
        let aged = expected_failures(&life, 60.0, 0.5, 300);
        let dist = Weibull::new(100.0, 3.0).expect("weibull");
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let n = 40_000;
        let mut counts = Vec::with_capacity(n);
        for _ in 0..n {
            // The first life given that it has lasted 60 already: redraw until it does.
            let mut first: f64 = dist.sample(&mut rng);
            while first <= 60.0 {
                first = dist.sample(&mut rng);
            }
            let mut t = first - 60.0;
            let mut count = 0.0;
            while t <= 150.0 {
                count += 1.0;
                t += dist.sample(&mut rng);
            }
            counts.push(count);
        }
        let mean = counts.iter().sum::<f64>() / n as f64;
        let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = 3.29 * (var / n as f64).sqrt();
        assert!(
            (aged.at_step(300) - mean).abs() < half + 2e-3,
            "grid {} vs Monte Carlo {mean} ± {half}",
            aged.at_step(300)
        );
    }
}
